"""Laboratory calculators: kidney function, acid-base, electrolytes, lipids, liver (MedCalc-Bench "lab")."""

from __future__ import annotations

import math

from wardround.errors import InputError
from wardround.tools.calculators.base import (
    Age,
    CalculatorInput,
    Computed,
    Finding,
    Height,
    Sex,
    Weight,
    calculator,
    choice,
    lab,
    param,
)
from wardround.tools.calculators.physical import bmi_value, ideal_body_weight_value

Creatinine = lab("creatinine")
BUN = lab("bun")
Sodium = lab("sodium")
Chloride = lab("chloride")
Bicarbonate = lab("bicarbonate")
Albumin = lab("albumin")
Calcium = lab("calcium")
Glucose = lab("glucose")
Insulin = lab("insulin")
Bilirubin = lab("total_bilirubin")
INR = lab("inr")
TotalCholesterol = lab("total_cholesterol")
HDL = lab("hdl_cholesterol")
Triglycerides = lab("triglycerides")
AST = lab("ast")
ALT = lab("alt")
Platelets = lab("platelets")
UrineSodium = lab("urine_sodium")
UrineCreatinine = lab("urine_creatinine")

# ---------------------------------------------------------------------------------------------------------
# Kidney function


class CockcroftGaultInput(CalculatorInput):
    """Inputs of the Cockcroft-Gault creatinine clearance."""

    age: Age = param("age in years")
    sex: Sex = param("biological sex")
    weight: Weight = param("actual body weight")
    creatinine: Creatinine = param("serum creatinine")
    height: Height | None = param("height (needed to choose the dosing weight from the BMI)", default=None)
    weight_basis: choice({"auto": ["bmi", "by bmi", "default"], "actual": ["total", "actual body weight"],
                          "ideal": ["ibw", "ideal body weight"],
                          "adjusted": ["abw", "adjusted body weight"]}) = param(
        "which weight enters the equation: auto (by BMI: underweight actual, normal min(actual, ideal), "
        "overweight/obese adjusted), actual, ideal or adjusted", default="auto")


def adjusted_body_weight_value(weight: float, ibw: float) -> float:
    """Adjusted body weight = IBW + 0.4 × (actual − IBW) (Traynor 1995)."""
    return ibw + 0.4 * (weight - ibw)


@calculator(
    id="creatinine_clearance", name="Creatinine Clearance (Cockcroft-Gault Equation)", category="lab",
    unit="mL/min", synonyms=("cockcroft-gault", "cockcroft gault", "crcl", "creatinine clearance"),
    keywords=("kidney", "renal function", "drug dosing", "gfr"),
    reference="Cockcroft DW, Gault MH. Prediction of creatinine clearance from serum creatinine. "
              "Nephron 1976;16:31-41. PMID:1244564. Dosing weight by BMI: Winter MA, Guhr KN, Berg GM. "
              "Impact of various body weights and serum creatinine concentrations on the bias and accuracy of "
              "the Cockcroft-Gault equation. Pharmacotherapy 2012;32:604-12 [reference unverified: PMID not "
              "checked]",
)
def creatinine_clearance(x: CockcroftGaultInput) -> Computed:
    """CrCl = (140 − age) × weight × (0.85 if female) / (72 × SCr), weight chosen by BMI (Winter 2012)."""
    steps: list[str] = []
    warnings: list[str] = []
    basis = x.weight_basis
    weight = x.weight
    if basis != "actual":
        if x.height is None:
            if basis != "auto":
                raise InputError("height", f"needed for the {basis} body weight", "give height or use "
                                 "weight_basis=actual")
            warnings.append("height not given: actual body weight used")
            basis = "actual"
        else:
            ibw = ideal_body_weight_value(x.sex, x.height)
            abw = adjusted_body_weight_value(x.weight, ibw)
            if basis == "auto":
                b = bmi_value(x.weight, x.height)
                # Winter 2012: least bias with actual weight if underweight, ideal (capped at actual) if
                # normal, adjusted (0.4 factor) if overweight or obese.
                if b < 18.5:
                    weight, why = x.weight, "underweight → actual body weight"
                elif b < 25.0:
                    weight, why = min(x.weight, ibw), "normal BMI → min(actual, ideal body weight)"
                else:
                    weight, why = abw, "overweight/obese → adjusted body weight"
                steps.append(f"BMI = {b:.1f} kg/m²: {why}; IBW (Devine) = {ibw:.2f} kg, ABW = {abw:.2f} kg")
            elif basis == "ideal":
                weight = ibw
            else:
                weight = abw
    sex_factor = 0.85 if x.sex == "female" else 1.0
    if x.age >= 140:
        raise InputError("age", "must be below 140 for the Cockcroft-Gault equation", value=x.age)
    value = (140.0 - x.age) * weight * sex_factor / (72.0 * x.creatinine)
    steps.append(f"weight used = {weight:.2f} kg ({basis})")
    steps.append(f"CrCl = (140 − {x.age:g}) × {weight:.2f} × {sex_factor:g} / (72 × {x.creatinine:g}) = "
                 f"{value:.2f} mL/min")
    band = ("≥ 90 (normal)" if value >= 90 else "60-89" if value >= 60 else "30-59" if value >= 30
            else "15-29" if value >= 15 else "< 15")
    return Computed(value, "mL/min", band, steps, warnings)


class EgfrInput(CalculatorInput):
    """Inputs of creatinine-based eGFR equations."""

    age: Age = param("age in years")
    sex: Sex = param("biological sex")
    creatinine: Creatinine = param("serum creatinine (IDMS-traceable)")


def _gfr_band(value: float) -> str:
    """KDIGO 2012 GFR category (Kidney Int Suppl 2013;3:1-150) [reference unverified]."""
    if value >= 90:
        return "G1 normal or high (≥ 90)"
    if value >= 60:
        return "G2 mildly decreased (60-89)"
    if value >= 45:
        return "G3a mildly to moderately decreased (45-59)"
    if value >= 30:
        return "G3b moderately to severely decreased (30-44)"
    if value >= 15:
        return "G4 severely decreased (15-29)"
    return "G5 kidney failure (< 15)"


@calculator(
    id="ckd_epi_2021", name="CKD-EPI Equations for Glomerular Filtration Rate", category="lab",
    unit="mL/min/1.73 m²", synonyms=("ckd-epi", "ckd epi 2021", "egfr", "race-free egfr", "ckd-epi creatinine"),
    keywords=("kidney", "glomerular filtration rate", "chronic kidney disease"),
    reference="Inker LA, Eneanya ND, Coresh J, et al. New creatinine- and cystatin C-based equations to "
              "estimate GFR without race. N Engl J Med 2021;385:1737-49. PMID:34554658",
)
def ckd_epi_2021(x: EgfrInput) -> Computed:
    """2021 race-free CKD-EPI creatinine equation."""
    female = x.sex == "female"
    kappa, alpha = (0.7, -0.241) if female else (0.9, -0.302)
    ratio = x.creatinine / kappa
    sex_factor = 1.012 if female else 1.0
    value = 142.0 * min(ratio, 1.0) ** alpha * max(ratio, 1.0) ** -1.200 * 0.9938 ** x.age * sex_factor
    return Computed(value, "mL/min/1.73 m²", _gfr_band(value), [
        f"κ = {kappa}, α = {alpha} ({x.sex}); SCr/κ = {x.creatinine:g}/{kappa} = {ratio:.4f}",
        f"eGFR = 142 × min(SCr/κ,1)^{alpha} × max(SCr/κ,1)^−1.200 × 0.9938^{x.age:g} × {sex_factor} = "
        f"{value:.2f} mL/min/1.73 m²",
    ])


class MdrdInput(EgfrInput):
    """Inputs of the 4-variable MDRD equation."""

    black_race: Finding = param("patient is Black (the 2006 equation's race coefficient 1.212)", default=False,
                                aliases=("race", "african american", "black"))


@calculator(
    id="mdrd_gfr", name="MDRD GFR Equation", category="lab", unit="mL/min/1.73 m²",
    synonyms=("mdrd", "mdrd egfr", "modification of diet in renal disease", "4-variable mdrd"),
    keywords=("kidney", "glomerular filtration rate"),
    reference="Levey AS, Coresh J, Greene T, et al. Using standardized serum creatinine values in the "
              "Modification of Diet in Renal Disease study equation for estimating glomerular filtration rate. "
              "Ann Intern Med 2006;145:247-54. PMID:16908915",
)
def mdrd_gfr(x: MdrdInput) -> Computed:
    """4-variable IDMS-traceable MDRD: 175 × SCr^−1.154 × age^−0.203 × 0.742 (female) × 1.212 (Black)."""
    sex_factor = 0.742 if x.sex == "female" else 1.0
    race_factor = 1.212 if x.black_race else 1.0
    if x.age < 18:
        raise InputError("age", "the MDRD equation is validated for adults (18 years or older)", value=x.age)
    value = 175.0 * x.creatinine ** -1.154 * x.age ** -0.203 * sex_factor * race_factor
    return Computed(value, "mL/min/1.73 m²", _gfr_band(value), [
        f"eGFR = 175 × {x.creatinine:g}^−1.154 × {x.age:g}^−0.203 × {sex_factor} (sex) × {race_factor} (race) "
        f"= {value:.2f} mL/min/1.73 m²",
    ])


# ---------------------------------------------------------------------------------------------------------
# Acid-base

_AG_NORMAL = 12.0  # mEq/L, the normal anion gap used by the delta gap (Wrenn 1990)
_HCO3_NORMAL = 24.0  # mEq/L
_ALB_NORMAL = 4.0  # g/dL


class AnionGapInput(CalculatorInput):
    """Inputs of the serum anion gap."""

    sodium: Sodium = param("serum sodium")
    chloride: Chloride = param("serum chloride")
    bicarbonate: Bicarbonate = param("serum bicarbonate (total CO2)")


class AlbuminAnionGapInput(AnionGapInput):
    """Inputs of the albumin-corrected anion gap."""

    albumin: Albumin = param("serum albumin")


def _ag(x: AnionGapInput) -> float:
    return x.sodium - (x.chloride + x.bicarbonate)


def _ag_step(x: AnionGapInput, ag: float) -> str:
    return f"anion gap = Na − (Cl + HCO3) = {x.sodium:g} − ({x.chloride:g} + {x.bicarbonate:g}) = {ag:.2f} mEq/L"


def _ag_band(ag: float) -> str:
    return "high (> 12 mEq/L)" if ag > 12 else "low (< 3 mEq/L)" if ag < 3 else "normal (3-12 mEq/L)"


def _acag(x: AlbuminAnionGapInput, ag: float) -> tuple[float, str]:
    v = ag + 2.5 * (_ALB_NORMAL - x.albumin)
    return v, f"albumin-corrected AG = AG + 2.5 × (4 − albumin) = {ag:.2f} + 2.5 × (4 − {x.albumin:g}) = {v:.2f} mEq/L"


_AG_REF = ("Emmett M, Narins RG. Clinical use of the anion gap. Medicine (Baltimore) 1977;56:38-54. "
           "PMID:401925")
_FIGGE = ("Figge J, Jabor A, Kazda A, Fencl V. Anion gap and hypoalbuminemia. Crit Care Med "
          "1998;26:1807-10. PMID:9824071")
_WRENN = ("Wrenn K. The delta (delta) gap: an approach to mixed acid-base disorders. Ann Emerg Med "
          "1990;19:1310-3 [PMID unverified]")


@calculator(id="anion_gap", name="Anion Gap", category="lab", unit="mEq/L",
            synonyms=("anion gap", "serum anion gap", "ag"), keywords=("acidosis", "acid-base", "electrolytes"),
            reference=_AG_REF)
def anion_gap(x: AnionGapInput) -> Computed:
    """Anion gap = Na − (Cl + HCO3)."""
    ag = _ag(x)
    return Computed(ag, "mEq/L", _ag_band(ag), [_ag_step(x, ag)])


@calculator(id="albumin_corrected_anion_gap", name="Albumin Corrected Anion Gap", category="lab", unit="mEq/L",
            synonyms=("albumin corrected anion gap", "corrected anion gap", "acag"),
            keywords=("acidosis", "hypoalbuminemia", "acid-base"), reference=_FIGGE)
def albumin_corrected_anion_gap(x: AlbuminAnionGapInput) -> Computed:
    """Albumin-corrected AG = AG + 2.5 × (4 − albumin g/dL) (Figge 1998)."""
    ag = _ag(x)
    v, step = _acag(x, ag)
    return Computed(v, "mEq/L", _ag_band(v), [_ag_step(x, ag), step])


def _delta_band(dg: float) -> str:
    # ±6 thresholds: Wrenn 1990 (two standard deviations of the delta gap in his laboratory's normals).
    return ("possible concurrent metabolic alkalosis (delta gap > 6)" if dg > 6 else
            "possible concurrent non-gap acidosis (delta gap < −6)" if dg < -6 else "pure anion gap acidosis range")


DeltaGapDefinition = choice({
    "wrenn": ["delta anion gap minus delta bicarbonate", "bicarbonate gap", "dag - dhco3"],
    "excess_anion_gap": ["excess anion gap", "anion gap - 12", "delta anion gap", "ag - 12"]})


class DeltaGapInput(AnionGapInput):
    """Inputs of the delta gap."""

    definition: DeltaGapDefinition = param(
        "wrenn: (AG − 12) − (24 − HCO3), Wrenn's delta gap (default); excess_anion_gap: AG − 12",
        default="wrenn")


class AlbuminDeltaGapInput(AlbuminAnionGapInput):
    """Inputs of the albumin-corrected delta gap."""

    definition: DeltaGapDefinition = param(
        "excess_anion_gap: albumin-corrected AG − 12 (default, the numerator of the albumin-corrected delta ratio); "
        "wrenn: additionally minus (24 − HCO3)", default="excess_anion_gap")


def _delta(definition: str, excess: float, hco3: float) -> tuple[float, str]:
    if definition == "wrenn":
        v = excess - (_HCO3_NORMAL - hco3)
        return v, f"delta gap = ΔAG − ΔHCO3 = {excess:.2f} − (24 − {hco3:g}) = {v:.2f} mEq/L"
    return excess, f"delta gap = AG − 12 = {excess:.2f} mEq/L"


@calculator(id="delta_gap", name="Delta Gap", category="lab", unit="mEq/L",
            synonyms=("delta gap", "bicarbonate gap", "delta-delta gap"), keywords=("acid-base", "mixed disorder"),
            reference=_WRENN)
def delta_gap(x: DeltaGapInput) -> Computed:
    """Wrenn's delta gap = (AG − 12) − (24 − HCO3); > +6 suggests metabolic alkalosis, < −6 a non-gap acidosis."""
    ag = _ag(x)
    dg, step = _delta(x.definition, ag - _AG_NORMAL, x.bicarbonate)
    return Computed(dg, "mEq/L", _delta_band(dg), [_ag_step(x, ag), step])


def _ratio_band(r: float) -> str:
    # Delta ratio bands as summarised by Rastegar A. J Am Soc Nephrol 2007;18:2429-31 [reference unverified].
    if r < 0.4:
        return "< 0.4: hyperchloraemic normal anion gap acidosis"
    if r < 1:
        return "0.4-1: combined high and normal anion gap acidosis"
    if r <= 2:
        return "1-2: pure anion gap acidosis"
    return "> 2: concurrent metabolic alkalosis or pre-existing compensated respiratory acidosis"


def _ratio(dg: float, hco3: float) -> float:
    denom = _HCO3_NORMAL - hco3
    if denom == 0:
        raise InputError("bicarbonate", "equals 24 mEq/L, so the delta ratio (Δgap / (24 − HCO3)) is undefined",
                         "the delta ratio needs a bicarbonate different from 24", value=hco3)
    return dg / denom


@calculator(id="delta_ratio", name="Delta Ratio", category="lab", unit="",
            synonyms=("delta ratio", "delta-delta", "delta delta ratio"), keywords=("acid-base", "mixed disorder"),
            reference=_WRENN)
def delta_ratio(x: AnionGapInput) -> Computed:
    """Delta ratio = (AG − 12) / (24 − HCO3)."""
    ag = _ag(x)
    dg = ag - _AG_NORMAL
    r = _ratio(dg, x.bicarbonate)
    return Computed(r, "", _ratio_band(r), [
        _ag_step(x, ag), f"delta gap = AG − 12 = {dg:.2f}",
        f"delta ratio = {dg:.2f} / (24 − {x.bicarbonate:g}) = {r:.3f}"])


@calculator(id="albumin_corrected_delta_gap", name="Albumin Corrected Delta Gap", category="lab", unit="mEq/L",
            synonyms=("albumin corrected delta gap", "corrected delta gap"),
            keywords=("acid-base", "hypoalbuminemia"), reference=f"{_WRENN}; {_FIGGE}")
def albumin_corrected_delta_gap(x: AlbuminDeltaGapInput) -> Computed:
    """Albumin-corrected delta gap = albumin-corrected AG − 12 (optionally Wrenn's form, minus (24 − HCO3))."""
    ag = _ag(x)
    v, step = _acag(x, ag)
    dg, dstep = _delta(x.definition, v - _AG_NORMAL, x.bicarbonate)
    return Computed(dg, "mEq/L", _delta_band(dg), [_ag_step(x, ag), step, "albumin-corrected " + dstep])


@calculator(id="albumin_corrected_delta_ratio", name="Albumin Corrected Delta Ratio", category="lab", unit="",
            synonyms=("albumin corrected delta ratio", "corrected delta ratio"),
            keywords=("acid-base", "hypoalbuminemia"), reference=f"{_WRENN}; {_FIGGE}")
def albumin_corrected_delta_ratio(x: AlbuminAnionGapInput) -> Computed:
    """Albumin-corrected delta ratio = (albumin-corrected AG − 12) / (24 − HCO3)."""
    ag = _ag(x)
    v, step = _acag(x, ag)
    dg = v - _AG_NORMAL
    r = _ratio(dg, x.bicarbonate)
    return Computed(r, "", _ratio_band(r), [_ag_step(x, ag), step, f"corrected delta gap = {dg:.2f}",
                                            f"ratio = {dg:.2f} / (24 − {x.bicarbonate:g}) = {r:.3f}"])


# ---------------------------------------------------------------------------------------------------------
# Electrolytes and water


class OsmolalityInput(CalculatorInput):
    """Inputs of the calculated serum osmolality."""

    sodium: Sodium = param("serum sodium")
    bun: BUN = param("blood urea nitrogen")
    glucose: Glucose = param("serum glucose")


def calculated_osmolality(sodium: float, bun: float, glucose: float) -> float:
    """2 × Na (mmol/L) + BUN / 2.8 + glucose / 18 (mg/dL): the calculated serum osmolality (mOsm/kg)."""
    return 2.0 * sodium + bun / 2.8 + glucose / 18.0


@calculator(id="serum_osmolality", name="Serum Osmolality", category="lab", unit="mOsm/kg",
            synonyms=("serum osmolality", "calculated osmolality", "plasma osmolality", "osmolarity"),
            keywords=("osmolal gap", "hyponatremia", "toxic alcohol"),
            reference="Calculated osmolality = 2·Na + glucose/18 + BUN/2.8: Dorwart WV, Chalmers L. Comparison "
                      "of methods for calculating serum osmolality from chemical concentrations. Clin Chem "
                      "1975;21:190-4 [PMID unverified]")
def serum_osmolality(x: OsmolalityInput) -> Computed:
    """Calculated osmolality = 2 × Na + BUN / 2.8 + glucose / 18 (mg/dL inputs)."""
    v = calculated_osmolality(x.sodium, x.bun, x.glucose)
    band = "low (< 275)" if v < 275 else "high (> 295)" if v > 295 else "normal (275-295)"
    return Computed(v, "mOsm/kg", band, [
        f"osmolality = 2 × {x.sodium:g} + {x.bun:g}/2.8 + {x.glucose:g}/18 = {v:.2f} mOsm/kg"])


class FreeWaterInput(CalculatorInput):
    """Inputs of the free water deficit."""

    age: Age = param("age in years")
    sex: Sex = param("biological sex")
    weight: Weight = param("body weight")
    sodium: Sodium = param("serum sodium")


def total_body_water_fraction(age: float, sex: str) -> tuple[float, str]:
    """Fraction of body weight that is water: 0.6 children and adult men, 0.5 adult women and elderly men,
    0.45 elderly women (Adrogué HJ, Madias NE. Hypernatremia. N Engl J Med 2000;342:1493-9 [PMID unverified])."""
    if age < 18:
        return 0.6, "child"
    if age >= 65:
        return (0.5, "elderly man") if sex == "male" else (0.45, "elderly woman")
    return (0.6, "adult man") if sex == "male" else (0.5, "adult woman")


@calculator(id="free_water_deficit", name="Free Water Deficit", category="lab", unit="L",
            synonyms=("free water deficit", "water deficit", "fwd"), keywords=("hypernatremia", "dehydration"),
            reference="Adrogué HJ, Madias NE. Hypernatremia. N Engl J Med 2000;342:1493-9 [PMID unverified]")
def free_water_deficit(x: FreeWaterInput) -> Computed:
    """Free water deficit = TBW fraction × weight × (Na / 140 − 1)."""
    frac, who = total_body_water_fraction(x.age, x.sex)
    v = frac * x.weight * (x.sodium / 140.0 - 1.0)
    band = "water deficit" if v > 0 else "no deficit (sodium ≤ 140)"
    return Computed(v, "L", band, [
        f"total body water fraction {frac} ({who}, age {x.age:g})",
        f"FWD = {frac} × {x.weight:g} × ({x.sodium:g}/140 − 1) = {v:.3f} L"])


class FenaInput(CalculatorInput):
    """Inputs of the fractional excretion of sodium."""

    sodium: Sodium = param("serum sodium")
    creatinine: Creatinine = param("serum creatinine")
    urine_sodium: UrineSodium = param("urine sodium")
    urine_creatinine: UrineCreatinine = param("urine creatinine")


@calculator(id="fena", name="Fractional Excretion of Sodium (FENa)", category="lab", unit="%",
            synonyms=("fractional excretion of sodium", "fena", "fe na"),
            keywords=("acute kidney injury", "prerenal", "acute tubular necrosis"),
            reference="Espinel CH. The FENa test: use in the differential diagnosis of acute renal failure. "
                      "JAMA 1976;236:579-81. PMID:947239")
def fena(x: FenaInput) -> Computed:
    """FENa = (urine Na × serum Cr) / (serum Na × urine Cr) × 100."""
    v = 100.0 * (x.urine_sodium * x.creatinine) / (x.sodium * x.urine_creatinine)
    band = "< 1 %: prerenal" if v < 1 else "> 2 %: intrinsic renal (e.g. ATN)" if v > 2 else "1-2 %: indeterminate"
    return Computed(v, "%", band, [
        f"FENa = 100 × ({x.urine_sodium:g} × {x.creatinine:g}) / ({x.sodium:g} × {x.urine_creatinine:g}) = "
        f"{v:.3f} %"])


class SodiumCorrectionInput(CalculatorInput):
    """Inputs of the sodium correction for hyperglycaemia."""

    sodium: Sodium = param("measured serum sodium")
    glucose: Glucose = param("serum glucose")
    method: choice({"hillier": ["2.4", "hillier 1999"], "katz": ["1.6", "katz 1973"]}) = param(
        "correction factor per 100 mg/dL glucose above 100: hillier (2.4, default) or katz (1.6)",
        default="hillier")


@calculator(id="sodium_correction_hyperglycemia", name="Sodium Correction for Hyperglycemia", category="lab",
            unit="mEq/L", synonyms=("corrected sodium", "sodium correction", "hyperglycemia sodium correction"),
            keywords=("hyponatremia", "hyperglycemia", "pseudohyponatremia", "diabetic ketoacidosis"),
            reference="Hillier TA, Abbott RD, Barrett EJ. Hyponatremia: evaluating the correction factor for "
                      "hyperglycemia. Am J Med 1999;106:399-403. PMID:10225241 (Katz MA. Hyperglycemia-induced "
                      "hyponatremia. N Engl J Med 1973;289:843-4 [PMID unverified] for the 1.6 factor)")
def sodium_correction_hyperglycemia(x: SodiumCorrectionInput) -> Computed:
    """Corrected Na = Na + factor × (glucose − 100) / 100, factor 2.4 (Hillier 1999) or 1.6 (Katz 1973)."""
    factor = 2.4 if x.method == "hillier" else 1.6
    v = x.sodium + factor * (x.glucose - 100.0) / 100.0
    band = "low (< 135)" if v < 135 else "high (> 145)" if v > 145 else "normal (135-145)"
    return Computed(v, "mEq/L", band, [
        f"corrected Na = {x.sodium:g} + {factor} × ({x.glucose:g} − 100)/100 = {v:.2f} mEq/L ({x.method})"])


class CalciumCorrectionInput(CalculatorInput):
    """Inputs of the calcium correction for hypoalbuminaemia."""

    calcium: Calcium = param("total serum calcium")
    albumin: Albumin = param("serum albumin")
    normal_albumin: Albumin = param("normal albumin", default=4.0)


@calculator(id="calcium_correction", name="Calcium Correction for Hypoalbuminemia", category="lab",
            unit="mg/dL", synonyms=("corrected calcium", "calcium correction", "albumin corrected calcium"),
            keywords=("hypocalcemia", "hypoalbuminemia"),
            reference="Payne RB, Little AJ, Williams RB, Milner JR. Interpretation of serum calcium in patients "
                      "with abnormal serum proteins. Br Med J 1973;4:643-6. PMID:4758544")
def calcium_correction(x: CalciumCorrectionInput) -> Computed:
    """Corrected Ca = Ca + 0.8 × (4 − albumin) (mg/dL, g/dL)."""
    v = x.calcium + 0.8 * (x.normal_albumin - x.albumin)
    band = "low (< 8.5 mg/dL)" if v < 8.5 else "high (> 10.5 mg/dL)" if v > 10.5 else "normal (8.5-10.5 mg/dL)"
    return Computed(v, "mg/dL", band, [
        f"corrected Ca = {x.calcium:g} + 0.8 × ({x.normal_albumin:g} − {x.albumin:g}) = {v:.2f} mg/dL"])


# ---------------------------------------------------------------------------------------------------------
# Metabolism, lipids, liver


class HomaInput(CalculatorInput):
    """Inputs of HOMA-IR."""

    insulin: Insulin = param("fasting insulin")
    glucose: Glucose = param("fasting glucose")


@calculator(id="homa_ir", name="HOMA-IR (Homeostatic Model Assessment for Insulin Resistance)", category="lab",
            unit="", synonyms=("homa-ir", "homa", "homeostatic model assessment"),
            keywords=("insulin resistance", "diabetes", "metabolic syndrome"),
            reference="Matthews DR, Hosker JP, Rudenski AS, et al. Homeostasis model assessment: insulin "
                      "resistance and beta-cell function from fasting plasma glucose and insulin concentrations in "
                      "man. Diabetologia 1985;28:412-9. PMID:3899825")
def homa_ir(x: HomaInput) -> Computed:
    """HOMA-IR = insulin (µU/mL) × glucose (mg/dL) / 405 (= × mmol/L / 22.5)."""
    v = x.insulin * x.glucose / 405.0
    band = "insulin resistance likely (> 2.5)" if v > 2.5 else "no marked insulin resistance (≤ 2.5)"
    return Computed(v, "", band, [f"HOMA-IR = {x.insulin:g} × {x.glucose:g} / 405 = {v:.3f}"])


class LdlInput(CalculatorInput):
    """Inputs of the Friedewald LDL cholesterol."""

    total_cholesterol: TotalCholesterol = param("total cholesterol")
    hdl_cholesterol: HDL = param("HDL cholesterol")
    triglycerides: Triglycerides = param("triglycerides")


@calculator(id="ldl_calculated", name="LDL Calculated", category="lab", unit="mg/dL",
            synonyms=("friedewald", "calculated ldl", "ldl cholesterol", "ldl-c"),
            keywords=("lipids", "cholesterol", "cardiovascular risk"),
            reference="Friedewald WT, Levy RI, Fredrickson DS. Estimation of the concentration of low-density "
                      "lipoprotein cholesterol in plasma, without use of the preparative ultracentrifuge. "
                      "Clin Chem 1972;18:499-502. PMID:4337382")
def ldl_calculated(x: LdlInput) -> Computed:
    """Friedewald LDL = TC − HDL − TG/5 (mg/dL); refused when TG ≥ 400 mg/dL or the result is negative."""
    # Friedewald 1972 (PMID 4337382): the estimate is not valid at triglycerides of 400 mg/dL or more.
    if x.triglycerides >= 400:
        raise InputError("triglycerides", f"{x.triglycerides:g} mg/dL is 400 mg/dL or more, where the Friedewald "
                         "estimate is not valid (Friedewald 1972)", "measure LDL cholesterol directly")
    v = x.total_cholesterol - x.hdl_cholesterol - x.triglycerides / 5.0
    if v < 0:
        raise InputError("total_cholesterol", f"TC {x.total_cholesterol:g} − HDL {x.hdl_cholesterol:g} − TG/5 "
                         f"{x.triglycerides / 5.0:g} gives {v:.1f} mg/dL, an impossible negative LDL",
                         "check the three values and their units (all mg/dL or all mmol/L)")
    warnings: list[str] = []
    band = ("optimal (< 100)" if v < 100 else "near optimal (100-129)" if v < 130 else "borderline high (130-159)"
            if v < 160 else "high (160-189)" if v < 190 else "very high (≥ 190)")
    return Computed(v, "mg/dL", band, [
        f"LDL = {x.total_cholesterol:g} − {x.hdl_cholesterol:g} − {x.triglycerides:g}/5 = {v:.1f} mg/dL"], warnings)


class Fib4Input(CalculatorInput):
    """Inputs of FIB-4."""

    age: Age = param("age in years")
    ast: AST = param("aspartate aminotransferase")
    alt: ALT = param("alanine aminotransferase")
    platelets: Platelets = param("platelet count")


@calculator(id="fib_4", name="Fibrosis-4 (FIB-4) Index for Liver Fibrosis", category="lab", unit="",
            synonyms=("fib-4", "fib4", "fibrosis-4"), keywords=("liver fibrosis", "cirrhosis", "hepatitis"),
            reference="Sterling RK, Lissen E, Clumeck N, et al. Development of a simple noninvasive index to "
                      "predict significant fibrosis in patients with HIV/HCV coinfection. Hepatology "
                      "2006;43:1317-25. PMID:16729309")
def fib_4(x: Fib4Input) -> Computed:
    """FIB-4 = age × AST / (platelets [10⁹/L] × √ALT)."""
    v = x.age * x.ast / (x.platelets * math.sqrt(x.alt))
    band = ("< 1.45: advanced fibrosis unlikely" if v < 1.45 else "> 3.25: advanced fibrosis likely" if v > 3.25
            else "1.45-3.25: indeterminate")
    return Computed(v, "", band, [
        f"FIB-4 = {x.age:g} × {x.ast:g} / ({x.platelets:g} × √{x.alt:g}) = {v:.3f}"])


class MeldNaInput(CalculatorInput):
    """Inputs of MELD-Na (UNOS/OPTN)."""

    creatinine: Creatinine = param("serum creatinine")
    total_bilirubin: Bilirubin = param("total bilirubin")
    inr: INR = param("INR")
    sodium: Sodium = param("serum sodium")
    dialysis_twice_past_week: Finding = param(
        "dialysis at least twice in the past week", aliases=("dialysis at least twice in the past week",))
    cvvhd_past_week: Finding = param(
        "continuous veno-venous hemodialysis for ≥ 24 hours in the past week",
        aliases=("continuous veno-venous hemodialysis for ≥24 hours in the past week", "cvvhd"))


@calculator(id="meld_na", name="MELD Na (UNOS/OPTN)", category="lab", unit="points",
            synonyms=("meld-na", "meld na", "meld sodium", "model for end-stage liver disease"),
            keywords=("cirrhosis", "liver transplant", "end-stage liver disease"),
            reference="Kim WR, Biggins SW, Kremers WK, et al. Hyponatremia and mortality among patients on the "
                      "liver-transplant waiting list. N Engl J Med 2008;359:1018-26. PMID:18768945; bounds and "
                      "rounding per OPTN policy 9.1 (2016 MELD-Na implementation)")
def meld_na(x: MeldNaInput) -> Computed:
    """UNOS MELD-Na: bounded MELD(i), then the sodium term when MELD(i) > 11; 6-40."""
    steps = []
    cr = x.creatinine
    if x.dialysis_twice_past_week or x.cvvhd_past_week:
        cr = 4.0
        steps.append("dialysis in the past week: creatinine set to 4.0 mg/dL")
    cr = min(max(cr, 1.0), 4.0)
    bili = max(x.total_bilirubin, 1.0)
    inr = max(x.inr, 1.0)
    na = min(max(x.sodium, 125.0), 137.0)
    steps.append(f"bounded values: Cr {cr:g} (1-4), bilirubin {bili:g} (≥ 1), INR {inr:g} (≥ 1), Na {na:g} "
                 "(125-137)")
    raw = 0.957 * math.log(cr) + 0.378 * math.log(bili) + 1.120 * math.log(inr) + 0.643
    meld_i = round(raw * 10.0, 1)
    steps.append(f"MELD(i) = 10 × (0.957 ln Cr + 0.378 ln bili + 1.120 ln INR + 0.643) = {meld_i:.1f}")
    if meld_i > 11:
        meld = meld_i + 1.32 * (137 - na) - 0.033 * meld_i * (137 - na)
        steps.append(f"MELD(i) > 11: MELD = {meld_i:.1f} + 1.32 × (137 − {na:g}) − 0.033 × {meld_i:.1f} × "
                     f"(137 − {na:g}) = {meld:.2f}")
    else:
        meld = meld_i
    score = int(min(max(round(meld), 6), 40))
    steps.append(f"MELD-Na = {score} (rounded, bounded 6-40)")
    band = ("< 10" if score < 10 else "10-19" if score < 20 else "20-29" if score < 30 else "30-39" if score < 40
            else "≥ 40")
    return Computed(score, "points", f"{band} (higher = higher 90-day mortality)", steps)
