"""Physical calculators: body size, blood pressure, fluids and QT correction (MedCalc-Bench category "physical")."""

from __future__ import annotations

import math

from wardround.errors import InputError
from wardround.tools.calculators.base import (
    BodyMassIndex,
    CalculatorInput,
    Computed,
    DiastolicBP,
    HeartRate,
    Height,
    QTInterval,
    Sex,
    SystolicBP,
    Weight,
    calculator,
    param,
)


class BmiInput(CalculatorInput):
    """Inputs of the body mass index."""

    weight: Weight = param("body weight")
    height: Height = param("body height")


def bmi_value(weight_kg: float, height_cm: float) -> float:
    """BMI in kg/m² from weight (kg) and height (cm)."""
    m = height_cm / 100.0
    return weight_kg / (m * m)


def bmi_band(value: float) -> str:
    """WHO adult BMI class (WHO Technical Report Series 894, 2000) [reference unverified]."""
    if value < 18.5:
        return "underweight"
    if value < 25.0:
        return "normal weight"
    if value < 30.0:
        return "overweight"
    return "obese"


@calculator(
    id="bmi", name="Body Mass Index (BMI)", category="physical", unit="kg/m²",
    synonyms=("body mass index", "quetelet index", "bmi"), keywords=("obesity", "weight", "height", "overweight"),
    reference="Keys A, Fidanza F, Karvonen MJ, et al. Indices of relative weight and obesity. "
              "J Chronic Dis 1972;25:329-43 [PMID unverified]",
)
def bmi(x: BmiInput) -> Computed:
    """Body mass index = weight / height², with the WHO adult class."""
    m = x.height / 100.0
    value = x.weight / (m * m)
    return Computed(value, "kg/m²", bmi_band(value), [
        f"height {x.height:g} cm = {m:g} m",
        f"BMI = weight / height² = {x.weight:g} kg / ({m:g} m)² = {value:.2f} kg/m²",
    ])


class MapInput(CalculatorInput):
    """Inputs of the mean arterial pressure."""

    systolic_bp: SystolicBP = param("systolic blood pressure")
    diastolic_bp: DiastolicBP = param("diastolic blood pressure")


@calculator(
    id="mean_arterial_pressure", name="Mean Arterial Pressure (MAP)", category="physical", unit="mmHg",
    synonyms=("mean arterial pressure", "map", "mean blood pressure"), keywords=("blood pressure", "perfusion"),
    reference="Meaney E, Alva F, Moguel R, et al. Formula and nomogram for the sphygmomanometric calculation of "
              "the mean arterial pressure. Heart 2000;84:64 [reference unverified]",
)
def mean_arterial_pressure(x: MapInput) -> Computed:
    """MAP = DBP + (SBP - DBP) / 3 = (2·DBP + SBP) / 3."""
    if x.diastolic_bp >= x.systolic_bp:
        raise InputError("diastolic_bp", f"{x.diastolic_bp:g} mmHg is not below systolic_bp {x.systolic_bp:g}",
                         "check that the two pressures are not swapped")
    value = (2.0 * x.diastolic_bp + x.systolic_bp) / 3.0
    band = "low (< 65 mmHg, organ hypoperfusion risk)" if value < 65 else "normal or high"
    return Computed(value, "mmHg", band, [
        f"MAP = (2 × DBP + SBP) / 3 = (2 × {x.diastolic_bp:g} + {x.systolic_bp:g}) / 3 = {value:.1f} mmHg",
    ])


# ---------------------------------------------------------------------------------------------------------
# Body size

_DEVINE = ("Devine BJ. Gentamicin therapy. Drug Intell Clin Pharm 1974;8:650-5 [reference unverified]; "
           "origin reviewed in Pai MP, Paloucek FP. The origin of the 'ideal' body weight equations. "
           "Ann Pharmacother 2000;34:1066-9 [PMID unverified]")


def ideal_body_weight_value(sex: str, height_cm: float) -> float:
    """Devine ideal body weight: 50 kg (men) or 45.5 kg (women) + 2.3 kg per inch over 60 inches."""
    inches = height_cm / 2.54
    return (50.0 if sex == "male" else 45.5) + 2.3 * (inches - 60.0)


class IbwInput(CalculatorInput):
    """Inputs of the ideal body weight."""

    sex: Sex = param("biological sex")
    height: Height = param("body height")


@calculator(id="ideal_body_weight", name="Ideal Body Weight", category="physical", unit="kg",
            synonyms=("ideal body weight", "ibw", "devine formula"), keywords=("drug dosing", "ventilation"),
            reference=_DEVINE)
def ideal_body_weight(x: IbwInput) -> Computed:
    """Devine IBW = 50 (male) / 45.5 (female) + 2.3 × (height in inches − 60)."""
    inches = x.height / 2.54
    v = ideal_body_weight_value(x.sex, x.height)
    base = 50.0 if x.sex == "male" else 45.5
    warnings = ["height below 60 inches: the Devine formula is extrapolated"] if inches < 60 else []
    if v <= 0:
        raise InputError("height", f"{x.height:g} cm gives a non-positive ideal body weight", "check the height")
    return Computed(v, "kg", "", [f"height {x.height:g} cm = {inches:.3f} in",
                                  f"IBW = {base} + 2.3 × ({inches:.3f} − 60) = {v:.2f} kg"], warnings)


class AbwInput(IbwInput):
    """Inputs of the adjusted body weight."""

    weight: Weight = param("actual body weight")


@calculator(id="adjusted_body_weight", name="Adjusted Body Weight", category="physical", unit="kg",
            synonyms=("adjusted body weight", "abw", "dosing weight"), keywords=("obesity", "drug dosing"),
            reference="Traynor AM, Nafziger AN, Bertino JS Jr. Aminoglycoside dosing weight correction factors "
                      "for patients of various body sizes. Antimicrob Agents Chemother 1995;39:545-8 [PMID unverified]; "
                      "IBW: " + _DEVINE)
def adjusted_body_weight(x: AbwInput) -> Computed:
    """ABW = IBW + 0.4 × (actual weight − IBW)."""
    ibw = ideal_body_weight_value(x.sex, x.height)
    v = ibw + 0.4 * (x.weight - ibw)
    return Computed(v, "kg", "", [f"IBW (Devine) = {ibw:.2f} kg",
                                  f"ABW = {ibw:.2f} + 0.4 × ({x.weight:g} − {ibw:.2f}) = {v:.2f} kg"])


@calculator(id="body_surface_area", name="Body Surface Area Calculator", category="physical", unit="m²",
            synonyms=("body surface area", "bsa", "mosteller"), keywords=("chemotherapy dosing", "cardiac index"),
            reference="Mosteller RD. Simplified calculation of body-surface area. N Engl J Med 1987;317:1098. "
                      "PMID:3657876")
def body_surface_area(x: BmiInput) -> Computed:
    """Mosteller BSA = √(height cm × weight kg / 3600)."""
    v = math.sqrt(x.height * x.weight / 3600.0)
    return Computed(v, "m²", "", [f"BSA = √({x.height:g} × {x.weight:g} / 3600) = {v:.3f} m²"])


class TargetWeightInput(CalculatorInput):
    """Inputs of the target weight."""

    target_bmi: BodyMassIndex = param("target body mass index", aliases=("body mass index (bmi)", "target bmi",
                                                                         "bmi"))
    height: Height = param("body height")


@calculator(id="target_weight", name="Target weight", category="physical", unit="kg",
            synonyms=("target weight", "goal weight", "weight for target bmi"), keywords=("bmi", "obesity"),
            reference="BMI definition: Keys A, et al. J Chronic Dis 1972;25:329-43 [PMID unverified]")
def target_weight(x: TargetWeightInput) -> Computed:
    """Target weight = target BMI × height² (m)."""
    m = x.height / 100.0
    v = x.target_bmi * m * m
    return Computed(v, "kg", "", [f"height = {m:.4f} m", f"target weight = {x.target_bmi:g} × {m:.4f}² = {v:.2f} kg"])


class FluidsInput(CalculatorInput):
    """Inputs of the maintenance fluid rate."""

    weight: Weight = param("body weight")


@calculator(id="maintenance_fluids", name="Maintenance Fluids Calculations", category="physical", unit="mL/h",
            synonyms=("maintenance fluids", "holliday-segar", "4-2-1 rule", "maintenance iv fluids"),
            keywords=("fluids", "pediatrics", "hydration"),
            reference="Holliday MA, Segar WE. The maintenance need for water in parenteral fluid therapy. "
                      "Pediatrics 1957;19:823-32. PMID:13431307")
def maintenance_fluids(x: FluidsInput) -> Computed:
    """Holliday-Segar 4-2-1 rule: 4 mL/kg/h for the first 10 kg, 2 for the next 10, 1 for each kg above 20."""
    w = x.weight
    if w <= 10:
        v, step = 4.0 * w, f"4 mL/kg/h × {w:g} kg"
    elif w <= 20:
        v, step = 40.0 + 2.0 * (w - 10), f"40 + 2 × ({w:g} − 10)"
    else:
        v, step = 60.0 + (w - 20), f"60 + 1 × ({w:g} − 20)"
    return Computed(v, "mL/h", "", [f"rate = {step} = {v:.1f} mL/h"])


# ---------------------------------------------------------------------------------------------------------
# QT correction (RR interval in seconds = 60 / heart rate)


class QtcInput(CalculatorInput):
    """Inputs of the QT corrections."""

    qt_interval: QTInterval = param("measured QT interval")
    heart_rate: HeartRate = param("heart rate")


def _qtc_band(v: float) -> str:
    return ("prolonged (> 500 ms: high torsades risk)" if v > 500 else "prolonged for women (> 460 ms)" if v > 460
            else "prolonged for men (> 450 ms)" if v > 450 else "short (< 350 ms)" if v < 350 else "normal")


def _qtc(name: str, x: QtcInput, v: float, formula: str) -> Computed:
    rr = 60.0 / x.heart_rate
    return Computed(v, "ms", _qtc_band(v), [f"RR = 60 / {x.heart_rate:g} = {rr:.3f} s",
                                            f"QTc ({name}) = {formula} = {v:.1f} ms"])


@calculator(id="qtc_bazett", name="QTc Bazett Calculator", category="physical", unit="ms",
            synonyms=("qtc bazett", "bazett", "corrected qt bazett"), keywords=("qt interval", "ecg", "torsades"),
            reference="Bazett HC. An analysis of the time-relations of electrocardiograms. Heart 1920;7:353-70 "
                      "[no PMID]; reprint Ann Noninvasive Electrocardiol 1997;2:177-94. doi:10.1111/j.1542-474X."
                      "1997.tb00325.x [DOI unverified]")
def qtc_bazett(x: QtcInput) -> Computed:
    """Bazett: QTc = QT / √RR."""
    rr = 60.0 / x.heart_rate
    return _qtc("Bazett", x, x.qt_interval / math.sqrt(rr), f"{x.qt_interval:g} / √{rr:.3f}")


@calculator(id="qtc_fridericia", name="QTc Fridericia Calculator", category="physical", unit="ms",
            synonyms=("qtc fridericia", "fridericia", "fredericia"), keywords=("qt interval", "ecg"),
            reference="Fridericia LS. Die Systolendauer im Elektrokardiogramm bei normalen Menschen und bei "
                      "Herzkranken. Acta Med Scand 1920;53:469-86 [no PMID]; translation Ann Noninvasive "
                      "Electrocardiol 2003;8:343-51 [DOI unverified]")
def qtc_fridericia(x: QtcInput) -> Computed:
    """Fridericia: QTc = QT / RR^(1/3)."""
    rr = 60.0 / x.heart_rate
    return _qtc("Fridericia", x, x.qt_interval / rr ** (1.0 / 3.0), f"{x.qt_interval:g} / {rr:.3f}^(1/3)")


@calculator(id="qtc_framingham", name="QTc Framingham Calculator", category="physical", unit="ms",
            synonyms=("qtc framingham", "sagie", "framingham qt"), keywords=("qt interval", "ecg"),
            reference="Sagie A, Larson MG, Goldberg RJ, Bengtson JR, Levy D. An improved method for adjusting the "
                      "QT interval for heart rate (the Framingham Heart Study). Am J Cardiol 1992;70:797-801. "
                      "PMID:1519533")
def qtc_framingham(x: QtcInput) -> Computed:
    """Framingham: QTc = QT + 154 × (1 − RR)."""
    rr = 60.0 / x.heart_rate
    return _qtc("Framingham", x, x.qt_interval + 154.0 * (1.0 - rr), f"{x.qt_interval:g} + 154 × (1 − {rr:.3f})")


@calculator(id="qtc_hodges", name="QTc Hodges Calculator", category="physical", unit="ms",
            synonyms=("qtc hodges", "hodges"), keywords=("qt interval", "ecg"),
            reference="Hodges M, Salerno D, Erlien D. Bazett's QT correction reviewed: evidence that a linear QT "
                      "correction for heart rate is better. J Am Coll Cardiol 1983;1:694 (abstract) [no PMID; "
                      "reference unverified]")
def qtc_hodges(x: QtcInput) -> Computed:
    """Hodges: QTc = QT + 1.75 × (HR − 60)."""
    return _qtc("Hodges", x, x.qt_interval + 1.75 * (x.heart_rate - 60.0),
                f"{x.qt_interval:g} + 1.75 × ({x.heart_rate:g} − 60)")


@calculator(id="qtc_rautaharju", name="QTc Rautaharju Calculator", category="physical", unit="ms",
            synonyms=("qtc rautaharju", "rautaharju"), keywords=("qt interval", "ecg"),
            reference="Rautaharju PM, Mason JW, Akiyama T. New age- and sex-specific criteria for QT prolongation "
                      "based on rate correction formulas that minimize bias at the upper normal limits. Int J "
                      "Cardiol 2014;174:535-40 [reference unverified: PMID not checked]")
def qtc_rautaharju(x: QtcInput) -> Computed:
    """Rautaharju: QTc = QT × (120 + HR) / 180."""
    return _qtc("Rautaharju", x, x.qt_interval * (120.0 + x.heart_rate) / 180.0,
                f"{x.qt_interval:g} × (120 + {x.heart_rate:g}) / 180")
