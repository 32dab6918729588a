"""Acute-take formulas MedCalc-Bench lacks: the paracetamol treatment line, the osmolal gap, Winters' formula and
the alveolar-arterial oxygen gradient.

Each formula is written from the publication cited next to it (not from another implementation).
"""

from __future__ import annotations

from wardround.errors import InputError
from wardround.tools.calculators.base import (
    Age,
    CalculatorInput,
    Computed,
    FiO2,
    calculator,
    choice,
    lab,
    number,
    param,
)
from wardround.tools.calculators.lab import calculated_osmolality
from wardround.tools.calculators.scores_common import fmt
from wardround.tools.calculators.scores_critical import alveolar_po2

Paracetamol = lab("paracetamol_level")
Sodium = lab("sodium")
BUN = lab("bun")
Glucose = lab("glucose")
Bicarbonate = lab("bicarbonate")
PaO2 = lab("pao2")
PaCO2 = lab("paco2")
Hours = number(0, 240, unit="h", label="hours since ingestion", also=("hours", "hour", "hr", "hrs"))
MeasuredOsmolality = number(150, 600, unit="mOsm/kg", label="measured serum osmolality",
                            also=("mosm/kg h2o", "mosm/l", "mmol/kg"))
BarometricPressure = number(300, 800, unit="mmHg", label="barometric pressure", also=("mm hg", "torr"))


# ---------------------------------------------------------------------------------------------------------
# Paracetamol treatment line -- Rumack BH, Matthew H. Acetaminophen poisoning and toxicity. Pediatrics
# 1975;55:871-6 (PMID 1134886): a semi-logarithmic line through the 4-hour level falling with a 4-hour half-life.
# The US treatment line starts at 150 mg/L at 4 h; the UK line (MHRA/Commission on Human Medicines, 2012) at
# 100 mg/L; both halve every 4 h to 24 h. A single level above (UK: on or above) the line calls for acetylcysteine.

PARACETAMOL_REF = ("Rumack BH, Matthew H. Acetaminophen poisoning and toxicity. Pediatrics 1975;55:871-6. "
                   "PMID:1134886; UK 100 mg/L line: MHRA Drug Safety Update, September 2012 (no PMID) "
                   "[reference unverified]")
_LINES = choice({"150": ("us", "rumack-matthew", "rumack matthew", "150 line", "150 mg/l", "treatment line", "usa"),
                 "100": ("uk", "mhra", "100 line", "100 mg/l", "uk line", "united kingdom"),
                 "200": ("original", "200 line", "200 mg/l", "rumack-matthew 1975")})


class ParacetamolInput(CalculatorInput):
    """Inputs of the paracetamol (acetaminophen) treatment-line check."""

    paracetamol_level: Paracetamol = param("plasma paracetamol concentration")
    hours_since_ingestion: Hours = param("hours from a single acute ingestion to the blood sample (4-24 h)",
                                         aliases=("time since ingestion", "hours post ingestion",
                                                  "time after ingestion"))
    treatment_line: _LINES = param("nomogram line: 150 (US treatment line), 100 (UK MHRA 2012) or 200 (Rumack-"
                                   "Matthew 1975)", default="150", aliases=("nomogram line", "line"))


@calculator(
    id="paracetamol_treatment_line", name="Paracetamol (Acetaminophen) Nomogram Treatment Line", category="lab",
    unit="× line", reference=PARACETAMOL_REF,
    synonyms=("rumack-matthew nomogram", "rumack matthew nomogram", "paracetamol nomogram", "acetaminophen nomogram",
              "paracetamol treatment line"),
    keywords=("paracetamol overdose", "acetaminophen overdose", "acetylcysteine", "nac", "apap"),
)
def paracetamol_treatment_line(x: ParacetamolInput) -> Computed:
    """Level / treatment-line concentration at the sampling time; >= 1 means above the line (treat)."""
    h = x.hours_since_ingestion
    if h < 4:
        raise InputError("hours_since_ingestion", f"{fmt(h)} h: a level drawn before 4 h cannot be plotted",
                         "repeat the level at 4 h or later after ingestion")
    if h > 24:
        raise InputError("hours_since_ingestion", f"{fmt(h)} h: the nomogram ends at 24 h",
                         "treat late presentations on clinical grounds")
    start = float(x.treatment_line)
    line = start * 2.0 ** (-(h - 4.0) / 4.0)
    ratio = x.paracetamol_level / line
    uk = x.treatment_line == "100"
    above = ratio >= 1.0 if uk else ratio > 1.0
    interp = (f"{'on or above' if uk else 'above'} the {x.treatment_line} line: treat with acetylcysteine"
              if above else f"below the {x.treatment_line} line at {fmt(h)} h")
    return Computed(ratio, "× line", interp, [
        f"line at {fmt(h)} h = {fmt(start)} × 2^(-({fmt(h)} - 4)/4) = {line:.1f} mg/L",
        f"level / line = {x.paracetamol_level:.4g} / {line:.1f} = {ratio:.2f}"],
        warnings=["the nomogram applies to a single acute ingestion with a known time only"])


# ---------------------------------------------------------------------------------------------------------
# Osmolal gap = measured - calculated osmolality, calculated as 2 Na + glucose/18 + BUN/2.8 (mg/dL), the formula of
# the serum_osmolality calculator (Dorwart WV, Chalmers L. Comparison of methods for calculating serum osmolality
# from chemical concentrations. Clin Chem 1975;21:190-4). The > 10 mOsm/kg cut-off is conventional.
# Unit "mOsm/kg H2O": the gap, unlike an osmolality, may be negative.

OSMOLAL_GAP_REF = ("Calculated osmolality 2·Na + glucose/18 + BUN/2.8: Dorwart WV, Chalmers L. Comparison of methods "
                   "for calculating serum osmolality from chemical concentrations. Clin Chem 1975;21:190-4; gap "
                   "cut-off 10 mOsm/kg conventional [reference unverified]")


class OsmolalGapInput(CalculatorInput):
    """Inputs of the osmolal gap."""

    measured_osmolality: MeasuredOsmolality = param("measured serum osmolality (freezing point)",
                                                    aliases=("serum osmolality measured", "measured osmolality",
                                                             "osmolality measured"))
    sodium: Sodium = param("serum sodium")
    bun: BUN = param("blood urea nitrogen")
    glucose: Glucose = param("serum glucose")


@calculator(
    id="osmolal_gap", name="Osmolal Gap", category="lab", unit="mOsm/kg H2O", reference=OSMOLAL_GAP_REF,
    synonyms=("osmolal gap", "osmolar gap", "osmolality gap", "osm gap"),
    keywords=("toxic alcohol", "methanol", "ethylene glycol", "unmeasured osmoles"),
)
def osmolal_gap(x: OsmolalGapInput) -> Computed:
    """Osmolal gap = measured osmolality - (2 Na + glucose/18 + BUN/2.8)."""
    calc = calculated_osmolality(x.sodium, x.bun, x.glucose)
    gap = x.measured_osmolality - calc
    interp = ("raised (> 10): unmeasured osmoles, e.g. ethanol, methanol, ethylene glycol" if gap > 10 else
              "not raised (<= 10)")
    return Computed(gap, "mOsm/kg H2O", interp, [
        f"calculated = 2 × {x.sodium:g} + {x.glucose:.4g}/18 + {x.bun:.4g}/2.8 = {calc:.1f} mOsm/kg",
        f"gap = {x.measured_osmolality:g} - {calc:.1f} = {gap:.1f} mOsm/kg"])


# ---------------------------------------------------------------------------------------------------------
# Winters' formula -- Albert MS, Dell RB, Winters RW. Quantitative displacement of acid-base equilibrium in
# metabolic acidosis. Ann Intern Med 1967;66:312-22. doi:10.7326/0003-4819-66-2-312 (PMID 6016545): expected
# PaCO2 = 1.5 × HCO3 + 8 ± 2 mmHg.

WINTERS_REF = ("Albert MS, Dell RB, Winters RW. Quantitative displacement of acid-base equilibrium in metabolic "
               "acidosis. Ann Intern Med 1967;66:312-22. doi:10.7326/0003-4819-66-2-312 PMID:6016545")


class WintersInput(CalculatorInput):
    """Inputs of Winters' formula."""

    bicarbonate: Bicarbonate = param("serum bicarbonate")
    paco2: PaCO2 | None = param("measured arterial PaCO2, to compare with the expected range", default=None)


@calculator(
    id="winters_formula", name="Winters' Formula for Respiratory Compensation", category="lab", unit="mmHg",
    reference=WINTERS_REF,
    synonyms=("winters formula", "winter's formula", "winters' formula", "expected paco2"),
    keywords=("metabolic acidosis", "respiratory compensation", "mixed acid-base disorder"),
)
def winters_formula(x: WintersInput) -> Computed:
    """Expected PaCO2 in metabolic acidosis = 1.5 × HCO3 + 8 (± 2) mmHg."""
    exp = 1.5 * x.bicarbonate + 8.0
    lo, hi = exp - 2.0, exp + 2.0
    steps = [f"expected PaCO2 = 1.5 × {x.bicarbonate:g} + 8 = {exp:.1f} mmHg (range {lo:.1f}-{hi:.1f})"]
    if x.paco2 is None:
        interp = f"expected PaCO2 {lo:.1f}-{hi:.1f} mmHg"
    elif x.paco2 > hi:
        interp = f"PaCO2 {x.paco2:.0f} above the expected range: additional respiratory acidosis"
    elif x.paco2 < lo:
        interp = f"PaCO2 {x.paco2:.0f} below the expected range: additional respiratory alkalosis"
    else:
        interp = f"PaCO2 {x.paco2:.0f} within the expected range: appropriate respiratory compensation"
    return Computed(exp, "mmHg", interp, steps)


# ---------------------------------------------------------------------------------------------------------
# A-a oxygen gradient -- alveolar gas equation PAO2 = FiO2 × (Patm - 47) - PaCO2 / 0.8 (water vapour 47 mmHg at
# 37 °C, respiratory quotient 0.8), as APACHE II uses it (Knaus WA, et al. Crit Care Med 1985;13:818-29,
# PMID 3928249); gradient = PAO2 - PaO2. The age-expected upper limit (age/4 + 4) is a common rule of thumb.

AA_REF = ("Alveolar gas equation PAO2 = FiO2 × (Patm − 47) − PaCO2/0.8 as used by Knaus WA, Draper EA, Wagner DP, "
          "Zimmerman JE. APACHE II: a severity of disease classification system. Crit Care Med 1985;13:818-29. "
          "PMID:3928249; age-expected limit (age/4 + 4) [reference unverified]")


class AaGradientInput(CalculatorInput):
    """Inputs of the alveolar-arterial oxygen gradient."""

    fio2: FiO2 = param("inspired oxygen fraction (21% on room air)", normal=21.0)
    pao2: PaO2 = param("arterial PaO2")
    paco2: PaCO2 = param("arterial PaCO2")
    barometric_pressure: BarometricPressure = param("barometric pressure (760 mmHg at sea level)", default=760.0,
                                                    aliases=("atmospheric pressure", "patm"))
    age: Age | None = param("age in years, for the age-expected upper limit", default=None)


@calculator(
    id="a_a_gradient", name="A-a O2 Gradient (Alveolar-Arterial Oxygen Gradient)", category="lab", unit="mmHg",
    reference=AA_REF,
    synonyms=("a-a gradient", "a-a o2 gradient", "alveolar-arterial gradient", "alveolar arterial oxygen gradient",
              "aado2"),
    keywords=("alveolar gas equation", "hypoxaemia", "hypoxemia", "shunt", "v/q mismatch"),
)
def a_a_gradient(x: AaGradientInput) -> Computed:
    """A-a gradient = FiO2 × (Patm - 47) - PaCO2/0.8 - PaO2."""
    f = x.fio2 / 100.0
    alv = alveolar_po2(x.fio2, x.paco2, x.barometric_pressure)
    grad = alv - x.pao2
    steps = [f"PAO2 = {f:.2f} × ({fmt(x.barometric_pressure)} - 47) - {x.paco2:.1f}/0.8 = {alv:.1f} mmHg",
             f"A-a gradient = {alv:.1f} - {x.pao2:.1f} = {grad:.1f} mmHg"]
    if x.age is not None:
        limit = x.age / 4.0 + 4.0
        steps.append(f"age-expected upper limit = {fmt(x.age)}/4 + 4 = {limit:.1f} mmHg")
        interp = (f"raised (> {limit:.0f} mmHg expected for age)" if grad > limit else
                  f"normal for age (<= {limit:.0f} mmHg)")
    else:
        interp = "compare with the age-expected limit (about age/4 + 4 mmHg on room air)"
    return Computed(grad, "mmHg", interp, steps)
