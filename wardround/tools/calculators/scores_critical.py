"""Critical-care severity scores: APACHE II and SOFA.

Each item is written from the primary publication cited next to it (not from another implementation).
"""

from __future__ import annotations

from collections.abc import Sequence

from wardround.errors import InputError
from wardround.tools.calculators.base import (
    Age,
    CalculatorInput,
    Computed,
    DiastolicBP,
    Finding,
    FiO2,
    GCSTotal,
    HeartRate,
    RespiratoryRate,
    SystolicBP,
    Temperature,
    calculator,
    choice,
    lab,
    measure,
    number,
    param,
)
from wardround.tools.calculators.scores_common import Tally, fmt

PH = lab("ph")
Sodium = lab("sodium")
Potassium = lab("potassium")
Creatinine = lab("creatinine")
Hematocrit = lab("hematocrit")
WBC = lab("wbc")
PaO2 = lab("pao2")
PaCO2 = lab("paco2")
Platelets = lab("platelets")
Bilirubin = lab("total_bilirubin")
AaGradient = number(0, 800, unit="mmHg", label="A-a oxygen gradient", also=("mm hg", "torr"))
VasopressorDose = number(0, 300, unit="µg/kg/min", label="vasoactive drug dose",
                         also=("mcg/kg/min", "mc/kg/min", "ug/kg/min", "µg/kg/min"))
UrineOutput = measure("volume_rate", 0.0, 20000.0)

# Barometric pressure and water vapour pressure at 37 °C for the alveolar gas equation (sea level).
_PATM = 760.0
_PH2O = 47.0
_RQ = 0.8


def alveolar_po2(fio2_percent: float, paco2: float, patm: float = _PATM) -> float:
    """Alveolar PO2 by the alveolar gas equation: FiO2 × (Patm − 47) − PaCO2 / 0.8 (mmHg; water vapour at 37 °C)."""
    return fio2_percent / 100.0 * (patm - _PH2O) - paco2 / _RQ


def _mean_arterial_pressure(sbp: float, dbp: float) -> float:
    """MAP = (SBP + 2 DBP) / 3."""
    return (sbp + 2.0 * dbp) / 3.0


def _graded(value: float, high: Sequence[tuple[float, int]], low: Sequence[tuple[float, int]]) -> int:
    """APACHE-style points: the first ``high`` bound (value >= bound) or ``low`` bound (value < bound) that hits."""
    for bound, pts in high:
        if value >= bound:
            return pts
    for bound, pts in low:
        if value < bound:
            return pts
    return 0


# ---------------------------------------------------------------------------------------------------------
# APACHE II -- Knaus WA, Draper EA, Wagner DP, Zimmerman JE. APACHE II: a severity of disease classification
# system. Crit Care Med 1985;13:818-29 (PMID 3928249). Table 1 (Acute Physiology Score), age points and chronic
# health points. Knaus 1985 scores an unmeasured physiological variable as 0 (normal), hence the normal values
# used by assume_normal.

APACHE_REF = ("Knaus WA, Draper EA, Wagner DP, Zimmerman JE. APACHE II: a severity of disease classification "
              "system. Crit Care Med 1985;13:818-29. PMID:3928249")

_ADMISSION = {"nonoperative": ("non-operative", "medical", "nonoperative"),
              "emergency postoperative": ("emergency surgery", "emergency postop", "emergency operative",
                                          "emergency post-operative"),
              "elective postoperative": ("elective surgery", "elective postop", "elective post-operative")}
AdmissionType = choice(_ADMISSION)

# (bound, points) tables of Knaus 1985 Table 1: "high" checked from the top (value >= bound), "low" from the
# bottom (value < bound); values between score 0.
_TEMP = ([(41, 4), (39, 3), (38.5, 1)], [(30, 4), (32, 3), (34, 2), (36, 1)])
_MAP = ([(160, 4), (130, 3), (110, 2)], [(50, 4), (70, 2)])
_HR = ([(180, 4), (140, 3), (110, 2)], [(40, 4), (55, 3), (70, 2)])
_RR = ([(50, 4), (35, 3), (25, 1)], [(6, 4), (10, 2), (12, 1)])
_PH = ([(7.7, 4), (7.6, 3), (7.5, 1)], [(7.15, 4), (7.25, 3), (7.33, 2)])
_NA = ([(180, 4), (160, 3), (155, 2), (150, 1)], [(111, 4), (120, 3), (130, 2)])
_K = ([(7, 4), (6, 3), (5.5, 1)], [(2.5, 4), (3, 2), (3.5, 1)])
_CREAT = ([(3.5, 4), (2.0, 3), (1.5, 2)], [(0.6, 2)])
_HCT = ([(60, 4), (50, 2), (46, 1)], [(20, 4), (30, 2)])
_WBC = ([(40, 4), (20, 2), (15, 1)], [(1, 4), (3, 2)])
_AGE = ([(75, 6), (65, 5), (55, 3), (45, 2)], [])


class ApacheIIInput(CalculatorInput):
    """Inputs of APACHE II (worst values of the first 24 ICU hours)."""

    age: Age = param("age in years")
    temperature: Temperature = param("core (rectal) temperature", normal=37.0)
    systolic_bp: SystolicBP = param("systolic blood pressure (for the mean arterial pressure)", normal=120.0)
    diastolic_bp: DiastolicBP = param("diastolic blood pressure (for the mean arterial pressure)", normal=80.0)
    heart_rate: HeartRate = param("heart rate", normal=80.0)
    respiratory_rate: RespiratoryRate = param("respiratory rate (ventilated or not)", normal=16.0)
    fio2: FiO2 = param("inspired oxygen fraction (>= 50%: A-a gradient is scored, else PaO2)", normal=21.0,
                       aliases=("fio2", "fio₂"))
    pao2: PaO2 | None = param("arterial PaO2 (scored when FiO2 < 50%)", default=None,
                              aliases=("partial pressure of oxygen (pao₂) for apache ii", "pao2", "pao₂",
                                       "partial pressure of oxygen"))
    a_a_gradient: AaGradient | None = param("alveolar-arterial O2 gradient, mmHg (scored when FiO2 >= 50%)",
                                            default=None, aliases=("a-a gradient", "aa gradient", "aado2"))
    paco2: PaCO2 | None = param("arterial PaCO2 (to compute the A-a gradient when it is not given)", default=None,
                                aliases=("pco2",))
    ph: PH = param("arterial pH", normal=7.40)
    sodium: Sodium = param("serum sodium", normal=140.0)
    potassium: Potassium = param("serum potassium", normal=4.0)
    creatinine: Creatinine = param("serum creatinine (points doubled in acute renal failure)", normal=1.0)
    acute_renal_failure: Finding = param("acute renal failure (doubles the creatinine points)")
    hematocrit: Hematocrit = param("haematocrit", normal=40.0)
    wbc: WBC = param("white blood cell count", normal=8.0)
    gcs: GCSTotal = param("Glasgow Coma Scale total (points = 15 - GCS)", normal=15.0)
    chronic_health: Finding = param(
        "history of severe organ insufficiency (biopsy-proven cirrhosis, NYHA IV heart failure, severe COPD, "
        "chronic dialysis) or immunocompromise", aliases=("history of severe organ failure or immunocompromise",
                                                          "severe organ insufficiency or immunocompromise"))
    admission_type: AdmissionType = param("nonoperative, emergency postoperative or elective postoperative "
                                          "(sets the chronic health points)", normal="nonoperative")


@calculator(
    id="apache_ii", name="APACHE II Score", category="risk", unit="points", output="integer", reference=APACHE_REF,
    synonyms=("apache ii", "apache 2", "acute physiology and chronic health evaluation ii", "apache score"),
    keywords=("icu", "intensive care", "severity of illness", "mortality", "critical care"),
)
def apache_ii(x: ApacheIIInput) -> Computed:
    """APACHE II = Acute Physiology Score + age points + chronic health points (0-71)."""
    t = Tally("APACHE II")
    t.add("temperature", f"{x.temperature:.1f} °C", _graded(x.temperature, *_TEMP))
    mean_ap = _mean_arterial_pressure(x.systolic_bp, x.diastolic_bp)
    t.add("mean arterial pressure", f"({fmt(x.systolic_bp)} + 2x{fmt(x.diastolic_bp)})/3 = {mean_ap:.1f} mmHg",
          _graded(mean_ap, *_MAP))
    t.add("heart rate", f"{fmt(x.heart_rate)} /min", _graded(x.heart_rate, *_HR))
    t.add("respiratory rate", f"{fmt(x.respiratory_rate)} /min", _graded(x.respiratory_rate, *_RR))
    # Oxygenation: FiO2 >= 0.5 -> A-aDO2 (>= 500: 4, 350-499: 3, 200-349: 2, < 200: 0);
    # FiO2 < 0.5 -> PaO2 (> 70: 0, 61-70: 1, 55-60: 3, < 55: 4).
    if x.fio2 >= 50:
        grad = x.a_a_gradient
        shown = "given"
        if grad is None:
            if x.pao2 is None or x.paco2 is None:
                raise InputError("a_a_gradient", f"FiO2 {fmt(x.fio2)}% >= 50% requires the A-a gradient",
                                 "give a_a_gradient, or pao2 and paco2 to compute it")
            grad = alveolar_po2(x.fio2, x.paco2) - x.pao2
            shown = (f"FiO2 x (760 - 47) - PaCO2/0.8 - PaO2 = {x.fio2 / 100:.2f} x 713 - {x.paco2:.0f}/0.8 - "
                     f"{x.pao2:.0f}")
        pts = 4 if grad >= 500 else 3 if grad >= 350 else 2 if grad >= 200 else 0
        t.add("oxygenation (FiO2 >= 50%: A-a gradient)", f"{grad:.0f} mmHg ({shown})", pts)
    else:
        if x.pao2 is None:
            raise InputError("pao2", f"FiO2 {fmt(x.fio2)}% < 50% requires the arterial PaO2", "give pao2")
        p = x.pao2
        pts = 0 if p > 70 else 1 if p >= 61 else 3 if p >= 55 else 4
        t.add("oxygenation (FiO2 < 50%: PaO2)", f"{p:.0f} mmHg", pts)
    t.add("arterial pH", f"{x.ph:.2f}", _graded(x.ph, *_PH))
    t.add("sodium", f"{x.sodium:.0f} mmol/L", _graded(x.sodium, *_NA))
    t.add("potassium", f"{x.potassium:.1f} mmol/L", _graded(x.potassium, *_K))
    creat = _graded(x.creatinine, *_CREAT)
    if x.acute_renal_failure:
        t.add("creatinine (x2, acute renal failure)", f"{x.creatinine:.2f} mg/dL", 2 * creat)
    else:
        t.add("creatinine", f"{x.creatinine:.2f} mg/dL", creat)
    t.add("haematocrit", f"{x.hematocrit:.1f}%", _graded(x.hematocrit, *_HCT))
    t.add("white cell count", f"{x.wbc:.3g} x10^9/L", _graded(x.wbc, *_WBC))
    gcs = round(x.gcs)
    t.add("Glasgow Coma Scale", f"15 - {gcs}", 15 - gcs)
    aps = t.total
    t.add("age", f"{fmt(x.age)} years", _graded(x.age, *_AGE), "<=44: 0, 45-54: 2, 55-64: 3, 65-74: 5, >=75: 6")
    chronic = 0
    if x.chronic_health:
        chronic = 2 if x.admission_type == "elective postoperative" else 5
    t.add("chronic health", f"{'yes' if x.chronic_health else 'no'}, {x.admission_type}", chronic,
          "nonoperative or emergency postoperative: 5, elective postoperative: 2")
    score = t.value
    return Computed(score, "points", f"acute physiology score {fmt(aps)}; higher scores predict higher hospital "
                                     "mortality", t.finish())


# ---------------------------------------------------------------------------------------------------------
# SOFA -- Vincent JL, Moreno R, Takala J, et al. The SOFA (Sepsis-related Organ Failure Assessment) score to
# describe organ dysfunction/failure. Intensive Care Med 1996;22:707-10. doi:10.1007/BF01709751
# (PMID 8844239). Table 1; respiratory 3-4 points require respiratory support; vasoactive doses in
# µg/kg/min given for at least 1 h.

SOFA_REF = ("Vincent JL, Moreno R, Takala J, et al. The SOFA (Sepsis-related Organ Failure Assessment) score to "
            "describe organ dysfunction/failure. Intensive Care Med 1996;22:707-10. doi:10.1007/BF01709751 "
            "PMID:8844239")


class SofaInput(CalculatorInput):
    """Inputs of SOFA (worst values of the day)."""

    pao2: PaO2 = param("arterial PaO2", aliases=("partial pressure of oxygen (pao₂) for apache ii",
                                                  "partial pressure of oxygen"))
    fio2: FiO2 = param("inspired oxygen fraction", aliases=("fio₂",))
    mechanical_ventilation: Finding = param("on mechanical ventilation (invasive or non-invasive)",
                                            aliases=("on mechanical ventilation", "mechanically ventilated"))
    cpap: Finding = param("on continuous positive airway pressure",
                          aliases=("continous positive airway pressure", "continuous positive airway pressure"))
    platelets: Platelets = param("platelet count")
    gcs: GCSTotal = param("Glasgow Coma Scale total", normal=15.0)
    total_bilirubin: Bilirubin = param("total bilirubin")
    systolic_bp: SystolicBP | None = param("systolic blood pressure (with diastolic: MAP)", default=None,
                                           aliases=("systolic blood pressure", "sbp"))
    diastolic_bp: DiastolicBP | None = param("diastolic blood pressure (with systolic: MAP)", default=None,
                                             aliases=("diastolic blood pressure", "dbp"))
    hypotension: Finding = param("mean arterial pressure < 70 mmHg")
    dopamine: VasopressorDose = param("dopamine, µg/kg/min", normal=0.0)
    dobutamine: VasopressorDose = param("dobutamine, µg/kg/min", normal=0.0)
    epinephrine: VasopressorDose = param("epinephrine (adrenaline), µg/kg/min", normal=0.0,
                                         aliases=("adrenaline",))
    norepinephrine: VasopressorDose = param("norepinephrine (noradrenaline), µg/kg/min", normal=0.0,
                                            aliases=("noradrenaline",))
    creatinine: Creatinine | None = param("serum creatinine (give it or urine output, or both)", default=None,
                                          aliases=("creatinine", "serum creatinine", "cr"))
    urine_output: UrineOutput | None = param("urine output, mL/day (give it or creatinine, or both)", default=None,
                                             aliases=("urine output", "uop", "diuresis"))


@calculator(
    id="sofa", name="Sequential Organ Failure Assessment (SOFA) Score", category="risk", unit="points",
    output="integer", reference=SOFA_REF,
    synonyms=("sofa", "sofa score", "sequential organ failure assessment", "sepsis-related organ failure assessment"),
    keywords=("sepsis", "organ dysfunction", "icu", "intensive care", "organ failure"),
)
def sofa(x: SofaInput) -> Computed:
    """SOFA: six organ systems scored 0-4 (total 0-24)."""
    t = Tally("SOFA")
    ratio = x.pao2 / (x.fio2 / 100.0)
    support = x.mechanical_ventilation or x.cpap
    if ratio < 100 and support:
        resp = 4
    elif ratio < 200 and support:
        resp = 3
    elif ratio < 300:
        resp = 2
    elif ratio < 400:
        resp = 1
    else:
        resp = 0
    t.add("respiration PaO2/FiO2", f"{x.pao2:.0f}/{x.fio2 / 100:.2f} = {ratio:.0f} mmHg, respiratory support "
          f"{'yes' if support else 'no'}", resp, "<400: 1, <300: 2, <200 with support: 3, <100 with support: 4")
    p = x.platelets
    t.add("coagulation platelets", f"{p:.0f} x10^3/µL", 4 if p < 20 else 3 if p < 50 else 2 if p < 100 else
          1 if p < 150 else 0)
    b = x.total_bilirubin
    t.add("liver bilirubin", f"{b:.2f} mg/dL", 4 if b >= 12 else 3 if b >= 6 else 2 if b >= 2 else
          1 if b >= 1.2 else 0)
    map_low = x.hypotension
    shown = "hypotension (MAP < 70)" if x.hypotension else "no hypotension"
    if x.systolic_bp is not None and x.diastolic_bp is not None:
        mean_ap = _mean_arterial_pressure(x.systolic_bp, x.diastolic_bp)
        map_low = map_low or mean_ap < 70
        shown = f"MAP {mean_ap:.0f} mmHg" + (", hypotension reported" if x.hypotension else "")
    da, db, ep, ne = x.dopamine, x.dobutamine, x.epinephrine, x.norepinephrine
    if da > 15 or ep > 0.1 or ne > 0.1:
        cv = 4
    elif da > 5 or ep > 0 or ne > 0:
        cv = 3
    elif da > 0 or db > 0:
        cv = 2
    elif map_low:
        cv = 1
    else:
        cv = 0
    drugs = ", ".join(f"{n} {fmt(v)}" for n, v in (("dopamine", da), ("dobutamine", db), ("epinephrine", ep),
                                                   ("norepinephrine", ne)) if v > 0) or "no vasoactive drugs"
    t.add("cardiovascular", f"{shown}; {drugs} µg/kg/min", cv,
          "MAP<70: 1; dopamine<=5 or dobutamine: 2; dopamine>5, epi or norepi <=0.1: 3; dopamine>15, "
          "epi or norepi >0.1: 4")
    g = round(x.gcs)
    t.add("CNS Glasgow Coma Scale", g, 4 if g < 6 else 3 if g <= 9 else 2 if g <= 12 else 1 if g <= 14 else 0)
    if x.creatinine is None and x.urine_output is None:
        raise InputError("creatinine, urine_output", "the renal component needs creatinine or urine output",
                         "give at least one of them")
    renal = 0
    parts = []
    if x.creatinine is not None:
        c = x.creatinine
        renal = 4 if c >= 5 else 3 if c >= 3.5 else 2 if c >= 2 else 1 if c >= 1.2 else 0
        parts.append(f"creatinine {c:.2f} mg/dL")
    if x.urine_output is not None:
        uo = x.urine_output
        renal = max(renal, 4 if uo < 200 else 3 if uo < 500 else 0)
        parts.append(f"urine output {uo:.0f} mL/day")
    t.add("renal", ", ".join(parts), renal, "creatinine 1.2-1.9: 1, 2.0-3.4: 2, 3.5-4.9 or UO<500: 3, "
                                            ">=5.0 or UO<200: 4")
    score = t.value
    return Computed(score, "points", f"{score} of 24: higher scores mean more organ dysfunction", t.finish())
