"""Acute-take scores and decision rules that MedCalc-Bench lacks: sepsis and deterioration, the acute abdomen and
scrotum, headache, TIA, head and neck injury, soft tissue, joints, haematology, skin, pancreas, PE, ACS, aorta and
febrile neutropenia.

Each item is written from the primary publication cited next to it (not from another implementation). Item
thresholds given in SI units in a paper are compared in SI units here: the canonical value is converted with the
factor of ``wardround.units`` (``_si``), so a value given at the cut-off in either unit scores the same.
"""

from __future__ import annotations

from wardround.tools.calculators.base import (
    Age,
    CalculatorInput,
    Computed,
    DiastolicBP,
    Finding,
    GCSTotal,
    HeartRate,
    RespiratoryRate,
    SpO2,
    SystolicBP,
    Temperature,
    calculator,
    choice,
    count,
    lab,
    measure,
    number,
    param,
)
from wardround.tools.calculators.scores_common import Tally, fmt
from wardround.units import ANALYTES

WBC = lab("wbc")
Platelets = lab("platelets")
Hemoglobin = lab("hemoglobin")
Sodium = lab("sodium")
Creatinine = lab("creatinine")
Glucose = lab("glucose")
CRP = lab("crp")
ESR = lab("esr")
INR = lab("inr")
BUN = lab("bun")
Bicarbonate = lab("bicarbonate")
PaO2 = lab("pao2")
Calcium = lab("calcium")
Albumin = lab("albumin")
LDH = lab("ldh")
AST = lab("ast")


def _si(analyte: str, unit: str) -> float:
    """Canonical units per one ``unit`` of ``analyte`` (e.g. mg/dL of glucose per mmol/L = 18.0156)."""
    return ANALYTES[analyte].to_canonical(1.0, unit, analyte)


def _n(flag: bool) -> int:
    return 1 if flag else 0


# ---------------------------------------------------------------------------------------------------------
# qSOFA -- Seymour CW, Liu VX, Iwashyna TJ, et al. Assessment of clinical criteria for sepsis: for the Third
# International Consensus Definitions for Sepsis and Septic Shock (Sepsis-3). JAMA 2016;315:762-74.
# doi:10.1001/jama.2016.0288 (PMID 26903335). One point each: SBP <= 100 mmHg, RR >= 22/min, altered mentation
# (GCS < 15 in the validation cohorts); >= 2 identifies suspected infection at risk of a poor outcome.

QSOFA_REF = ("Seymour CW, Liu VX, Iwashyna TJ, et al. Assessment of clinical criteria for sepsis: for the Third "
             "International Consensus Definitions for Sepsis and Septic Shock (Sepsis-3). JAMA 2016;315:762-74. "
             "doi:10.1001/jama.2016.0288 PMID:26903335")


class QsofaInput(CalculatorInput):
    """Inputs of qSOFA (Seymour 2016)."""

    respiratory_rate: RespiratoryRate = param("respiratory rate (>= 22 /min counts)")
    systolic_bp: SystolicBP = param("systolic blood pressure (<= 100 mmHg counts)")
    altered_mentation: Finding = param("altered mentation (new confusion or drowsiness)",
                                       aliases=("altered mental status", "altered mentation", "confusion"))
    gcs: GCSTotal | None = param("Glasgow Coma Scale total (< 15 counts as altered mentation)", default=None)


@calculator(
    id="qsofa", name="qSOFA (quick SOFA) Score for Sepsis", category="risk", unit="points", output="integer",
    reference=QSOFA_REF, synonyms=("qsofa", "quick sofa", "qsofa score", "quick sequential organ failure assessment"),
    keywords=("sepsis-3", "suspected infection", "bedside sepsis screen"),
)
def qsofa(x: QsofaInput) -> Computed:
    """qSOFA: 1 point each for SBP <= 100, RR >= 22 and altered mentation (0-3)."""
    t = Tally("qSOFA")
    t.add("respiratory rate >= 22", f"{fmt(x.respiratory_rate)} /min", _n(x.respiratory_rate >= 22))
    t.add("systolic BP <= 100", f"{fmt(x.systolic_bp)} mmHg", _n(x.systolic_bp <= 100))
    gcs_low = x.gcs is not None and x.gcs < 15
    shown = ("present" if x.altered_mentation else "absent") + (f", GCS {fmt(x.gcs)}" if x.gcs is not None else "")
    t.add("altered mentation", shown, _n(x.altered_mentation or gcs_low), "new confusion or GCS < 15")
    s = t.value
    interp = ("positive (>= 2): suspected infection at higher risk of death or prolonged ICU stay; assess for "
              "organ dysfunction (SOFA)" if s >= 2 else "negative (< 2): keep reassessing if infection is suspected")
    return Computed(s, "points", interp, t.finish())


# ---------------------------------------------------------------------------------------------------------
# NEWS2 -- Royal College of Physicians. National Early Warning Score (NEWS) 2: standardising the assessment of
# acute-illness severity in the NHS. Updated report of a working party. London: RCP, 2017 (chart 1 parameter
# bands; SpO2 scale 2 for hypercapnic respiratory failure with a prescribed target of 88-92%).

NEWS2_REF = ("Royal College of Physicians. National Early Warning Score (NEWS) 2: standardising the assessment of "
             "acute-illness severity in the NHS. Updated report of a working party. London: RCP, 2017 "
             "(no PMID) [reference unverified]")

_CONSCIOUSNESS = choice({"alert": ("a", "alert and orientated", "normal"),
                         "new confusion": ("c", "confusion", "confused", "new-onset confusion", "delirium"),
                         "voice": ("v", "responds to voice"), "pain": ("p", "responds to pain"),
                         "unresponsive": ("u", "unconscious")})


class News2Input(CalculatorInput):
    """Inputs of NEWS2 (RCP 2017)."""

    respiratory_rate: RespiratoryRate = param("respiratory rate")
    spo2: SpO2 = param("oxygen saturation")
    spo2_scale_2: Finding = param("use SpO2 scale 2 (hypercapnic respiratory failure, prescribed target 88-92%)",
                                  aliases=("hypercapnic respiratory failure", "target saturation 88-92%"))
    supplemental_oxygen: Finding = param("on supplemental oxygen", aliases=("on oxygen", "air or oxygen"))
    systolic_bp: SystolicBP = param("systolic blood pressure")
    heart_rate: HeartRate = param("pulse")
    consciousness: _CONSCIOUSNESS = param("ACVPU: alert, new confusion, voice, pain or unresponsive",
                                          normal="alert", aliases=("acvpu", "avpu", "level of consciousness"))
    temperature: Temperature = param("temperature")


def _news_rr(v: float) -> int:
    return 3 if v <= 8 else 1 if v <= 11 else 0 if v <= 20 else 2 if v <= 24 else 3


def _news_spo2(v: float, scale2: bool, oxygen: bool) -> int:
    if not scale2:
        return 3 if v <= 91 else 2 if v <= 93 else 1 if v <= 95 else 0
    if v <= 83:
        return 3
    if v <= 85:
        return 2
    if v <= 87:
        return 1
    if v <= 92 or not oxygen:  # 88-92%, or >= 93% on air, score 0 on scale 2
        return 0
    return 1 if v <= 94 else 2 if v <= 96 else 3


def _news_sbp(v: float) -> int:
    return 3 if v <= 90 else 2 if v <= 100 else 1 if v <= 110 else 0 if v <= 219 else 3


def _news_hr(v: float) -> int:
    return 3 if v <= 40 else 1 if v <= 50 else 0 if v <= 90 else 1 if v <= 110 else 2 if v <= 130 else 3


def _news_temp(v: float) -> int:
    return 3 if v <= 35.0 else 1 if v <= 36.0 else 0 if v <= 38.0 else 1 if v <= 39.0 else 2


@calculator(
    id="news2", name="National Early Warning Score 2 (NEWS2)", category="severity", unit="points",
    output="integer", reference=NEWS2_REF,
    synonyms=("news2", "news 2", "national early warning score", "early warning score"),
    keywords=("deterioration", "track and trigger", "acvpu", "ward observations"),
)
def news2(x: News2Input) -> Computed:
    """NEWS2: seven physiological parameters scored 0-3 (total 0-20)."""
    t = Tally("NEWS2")
    t.add("respiration rate", f"{fmt(x.respiratory_rate)} /min", _news_rr(x.respiratory_rate),
          "<=8: 3, 9-11: 1, 12-20: 0, 21-24: 2, >=25: 3")
    scale = "scale 2" if x.spo2_scale_2 else "scale 1"
    t.add(f"SpO2 ({scale})", f"{fmt(x.spo2)}% on {'oxygen' if x.supplemental_oxygen else 'air'}",
          _news_spo2(x.spo2, x.spo2_scale_2, x.supplemental_oxygen))
    t.add("air or oxygen", "oxygen" if x.supplemental_oxygen else "air", 2 if x.supplemental_oxygen else 0)
    t.add("systolic BP", f"{fmt(x.systolic_bp)} mmHg", _news_sbp(x.systolic_bp),
          "<=90: 3, 91-100: 2, 101-110: 1, 111-219: 0, >=220: 3")
    t.add("pulse", f"{fmt(x.heart_rate)} /min", _news_hr(x.heart_rate),
          "<=40: 3, 41-50: 1, 51-90: 0, 91-110: 1, 111-130: 2, >=131: 3")
    t.add("consciousness", x.consciousness, 0 if x.consciousness == "alert" else 3, "alert: 0, CVPU: 3")
    t.add("temperature", f"{x.temperature:.1f} °C", _news_temp(x.temperature),
          "<=35.0: 3, 35.1-36.0: 1, 36.1-38.0: 0, 38.1-39.0: 1, >=39.1: 2")
    s = t.value
    red = any(p == 3 for _, p in t.items)
    if s >= 7:
        interp = "high (>= 7): emergency response, continuous monitoring"
    elif s >= 5:
        interp = "medium (5-6): urgent response, at least hourly observations"
    elif red:
        interp = "low-medium (3 in one parameter): urgent ward-based response"
    else:
        interp = "low (0-4): ward-based response"
    return Computed(s, "points", interp, t.finish())


# ---------------------------------------------------------------------------------------------------------
# Alvarado (MANTRELS) -- Alvarado A. A practical score for the early diagnosis of acute appendicitis. Ann Emerg
# Med 1986;15:557-64. doi:10.1016/s0196-0644(86)80993-3 (PMID 3963537). Migration 1, anorexia 1, nausea or
# vomiting 1, RLQ tenderness 2, rebound 1, elevated temperature (>= 37.3 °C) 1, leukocytosis (> 10 x10^9/L) 2,
# shift to the left (> 75% neutrophils) 1.

ALVARADO_REF = ("Alvarado A. A practical score for the early diagnosis of acute appendicitis. Ann Emerg Med "
                "1986;15:557-64. doi:10.1016/s0196-0644(86)80993-3 PMID:3963537")
Percent = number(0, 100, unit="%", label="percentage")


class AlvaradoInput(CalculatorInput):
    """Inputs of the Alvarado score (Alvarado 1986)."""

    migration_of_pain: Finding = param("migration of pain to the right lower quadrant",
                                       aliases=("migratory right iliac fossa pain", "pain migration to rlq"))
    anorexia: Finding = param("anorexia (or acetone in the urine)", aliases=("loss of appetite",))
    nausea_vomiting: Finding = param("nausea or vomiting", aliases=("nausea", "vomiting"))
    rlq_tenderness: Finding = param("tenderness in the right lower quadrant", aliases=("right iliac fossa tenderness",))
    rebound_tenderness: Finding = param("rebound pain", aliases=("rebound", "rebound pain"))
    temperature: Temperature = param("temperature (>= 37.3 °C counts)", normal=37.0)
    wbc: WBC = param("white cell count (> 10 x10^9/L counts)", normal=7.0)
    neutrophil_percent: Percent = param("neutrophils, % of white cells (> 75% is a shift to the left)", normal=60.0,
                                        aliases=("neutrophils %", "neutrophil percentage", "segmented neutrophils"))


@calculator(
    id="alvarado", name="Alvarado Score for Acute Appendicitis", category="diagnosis", unit="points",
    output="integer", reference=ALVARADO_REF,
    synonyms=("alvarado score", "alvarado", "mantrels score", "mantrels"),
    keywords=("appendicitis", "right iliac fossa pain", "right lower quadrant pain"),
)
def alvarado(x: AlvaradoInput) -> Computed:
    """Alvarado (MANTRELS) score for acute appendicitis (0-10)."""
    t = Tally("Alvarado")
    t.add("migration of pain to RLQ", x.migration_of_pain, _n(x.migration_of_pain))
    t.add("anorexia", x.anorexia, _n(x.anorexia))
    t.add("nausea or vomiting", x.nausea_vomiting, _n(x.nausea_vomiting))
    t.add("RLQ tenderness", x.rlq_tenderness, 2 * _n(x.rlq_tenderness))
    t.add("rebound pain", x.rebound_tenderness, _n(x.rebound_tenderness))
    t.add("temperature >= 37.3 °C", f"{x.temperature:.1f} °C", _n(x.temperature >= 37.3))
    t.add("leukocytosis > 10 x10^9/L", f"{x.wbc:.3g} x10^9/L", 2 * _n(x.wbc > 10.0))
    t.add("shift to the left (neutrophils > 75%)", f"{fmt(x.neutrophil_percent)}%", _n(x.neutrophil_percent > 75))
    s = t.value
    # Alvarado 1986: 5-6 compatible with appendicitis, 7-8 probable, 9-10 very probable.
    interp = ("very probable appendicitis (9-10)" if s >= 9 else "probable appendicitis (7-8)" if s >= 7 else
              "compatible with appendicitis (5-6)" if s >= 5 else "appendicitis unlikely (0-4)")
    return Computed(s, "points", interp, t.finish())


# ---------------------------------------------------------------------------------------------------------
# TWIST -- Barbosa JA, Tiseo BC, Barayan GA, et al. Development and initial validation of a scoring system to
# diagnose testicular torsion in children. J Urol 2013;189:1859-64. doi:10.1016/j.juro.2012.10.056
# (PMID 23103800). Testicular swelling 2, hard testis 2, absent cremasteric reflex 1, nausea/vomiting 1,
# high-riding testis 1; low risk 0-2, intermediate 3-4, high 5-7.

TWIST_REF = ("Barbosa JA, Tiseo BC, Barayan GA, et al. Development and initial validation of a scoring system to "
             "diagnose testicular torsion in children. J Urol 2013;189:1859-64. doi:10.1016/j.juro.2012.10.056 "
             "PMID:23103800")


class TwistInput(CalculatorInput):
    """Inputs of TWIST (Barbosa 2013)."""

    testicular_swelling: Finding = param("testicular swelling", aliases=("testis swelling", "scrotal swelling"))
    hard_testis: Finding = param("hard testis on palpation", aliases=("hard testicle",))
    absent_cremasteric_reflex: Finding = param("absent cremasteric reflex")
    nausea_vomiting: Finding = param("nausea or vomiting", aliases=("nausea", "vomiting"))
    high_riding_testis: Finding = param("high-riding testis", aliases=("high riding testicle", "high-riding testicle"))


@calculator(
    id="twist_score", name="TWIST Score for Testicular Torsion", category="diagnosis", unit="points",
    output="integer", reference=TWIST_REF,
    synonyms=("twist score", "twist", "testicular workup for ischemia and suspected torsion"),
    keywords=("testicular torsion", "acute scrotum", "scrotal pain"),
)
def twist_score(x: TwistInput) -> Computed:
    """TWIST score for testicular torsion (0-7)."""
    t = Tally("TWIST")
    t.add("testicular swelling", x.testicular_swelling, 2 * _n(x.testicular_swelling))
    t.add("hard testis", x.hard_testis, 2 * _n(x.hard_testis))
    t.add("absent cremasteric reflex", x.absent_cremasteric_reflex, _n(x.absent_cremasteric_reflex))
    t.add("nausea or vomiting", x.nausea_vomiting, _n(x.nausea_vomiting))
    t.add("high-riding testis", x.high_riding_testis, _n(x.high_riding_testis))
    s = t.value
    interp = ("high risk (5-7): proceed to surgical exploration" if s >= 5 else
              "intermediate risk (3-4): scrotal Doppler ultrasound" if s >= 3 else "low risk (0-2)")
    return Computed(s, "points", interp, t.finish())


# ---------------------------------------------------------------------------------------------------------
# Ottawa SAH rule -- Perry JJ, Stiell IG, Sivilotti ML, et al. Clinical decision rules to rule out subarachnoid
# hemorrhage for acute headache. JAMA 2013;310:1248-55. doi:10.1001/jama.2013.278018 (PMID 24065011). For alert
# patients older than 15 with a new severe non-traumatic headache peaking within 1 h; investigate if any of six.

OTTAWA_SAH_REF = ("Perry JJ, Stiell IG, Sivilotti ML, et al. Clinical decision rules to rule out subarachnoid "
                  "hemorrhage for acute headache. JAMA 2013;310:1248-55. doi:10.1001/jama.2013.278018 PMID:24065011")


class OttawaSahInput(CalculatorInput):
    """Inputs of the Ottawa subarachnoid haemorrhage rule (Perry 2013)."""

    age: Age = param("age in years (>= 40 counts)")
    neck_pain_or_stiffness: Finding = param("neck pain or stiffness (symptom)", aliases=("neck stiffness", "neck pain"))
    witnessed_loss_of_consciousness: Finding = param("witnessed loss of consciousness",
                                                     aliases=("witnessed loc", "syncope"))
    onset_during_exertion: Finding = param("onset during exertion", aliases=("exertional onset",))
    thunderclap_onset: Finding = param("thunderclap headache (instantly peaking pain)",
                                       aliases=("thunderclap headache", "instantly peaking pain"))
    limited_neck_flexion: Finding = param("limited neck flexion on examination")


@calculator(
    id="ottawa_sah_rule", name="Ottawa Subarachnoid Hemorrhage (SAH) Rule", category="diagnosis", unit="criteria",
    output="integer", reference=OTTAWA_SAH_REF,
    synonyms=("ottawa sah rule", "ottawa subarachnoid hemorrhage rule", "ottawa subarachnoid haemorrhage rule"),
    keywords=("thunderclap headache", "subarachnoid haemorrhage", "acute headache"),
)
def ottawa_sah_rule(x: OttawaSahInput) -> Computed:
    """Ottawa SAH rule: number of the six high-risk findings; any one means SAH is not ruled out."""
    t = Tally("Ottawa SAH rule")
    t.add("age >= 40", f"{fmt(x.age)} years", _n(x.age >= 40))
    t.add("neck pain or stiffness", x.neck_pain_or_stiffness, _n(x.neck_pain_or_stiffness))
    t.add("witnessed loss of consciousness", x.witnessed_loss_of_consciousness,
          _n(x.witnessed_loss_of_consciousness))
    t.add("onset during exertion", x.onset_during_exertion, _n(x.onset_during_exertion))
    t.add("thunderclap (instantly peaking) headache", x.thunderclap_onset, _n(x.thunderclap_onset))
    t.add("limited neck flexion on examination", x.limited_neck_flexion, _n(x.limited_neck_flexion))
    s = t.value
    warnings = [] if x.age >= 16 else [f"age {fmt(x.age)}: the rule applies to patients older than 15 years"]
    interp = ("not ruled out (>= 1 criterion): investigate for SAH (CT, then LP or CTA as indicated)" if s else
              "SAH ruled out by the rule (no criterion), if the inclusion criteria are met")
    return Computed(s, "criteria", interp, t.finish("criteria"), warnings=warnings)


# ---------------------------------------------------------------------------------------------------------
# ABCD2 -- Johnston SC, Rothwell PM, Nguyen-Huynh MN, et al. Validation and refinement of scores to predict very
# early stroke risk after transient ischaemic attack. Lancet 2007;369:283-92.
# (PMID 17258668). Age >= 60: 1; BP >= 140/90: 1; unilateral weakness 2, speech disturbance without weakness 1;
# duration >= 60 min 2, 10-59 min 1; diabetes 1. 2-day stroke risk: 0-3 low 1.0%, 4-5 moderate 4.1%, 6-7 high 8.1%.

ABCD2_REF = ("Johnston SC, Rothwell PM, Nguyen-Huynh MN, et al. Validation and refinement of scores to predict very "
             "early stroke risk after transient ischaemic attack. Lancet 2007;369:283-92. PMID:17258668")

_TIA_FEATURE = choice({"unilateral weakness": ("weakness", "motor weakness", "hemiparesis", "unilateral motor"),
                       "speech disturbance without weakness": ("speech disturbance", "dysphasia", "dysarthria",
                                                               "speech"),
                       "other": ("none", "other symptoms", "sensory only", "visual")})
Minutes = number(0, 100000, unit="min", label="duration in minutes", also=("minutes", "mins", "minute"))


class Abcd2Input(CalculatorInput):
    """Inputs of ABCD2 (Johnston 2007)."""

    age: Age = param("age in years (>= 60 counts)")
    systolic_bp: SystolicBP = param("systolic blood pressure at first assessment (>= 140 counts)")
    diastolic_bp: DiastolicBP = param("diastolic blood pressure at first assessment (>= 90 counts)")
    clinical_feature: _TIA_FEATURE = param("unilateral weakness, speech disturbance without weakness, or other",
                                           normal="other", aliases=("clinical features", "tia symptoms"))
    duration_minutes: Minutes = param("duration of symptoms, minutes", aliases=("duration", "symptom duration"))
    diabetes: Finding = param("diabetes mellitus", aliases=("diabetes mellitus", "diabetic"))


@calculator(
    id="abcd2", name="ABCD2 Score for TIA", category="risk", unit="points", output="integer", reference=ABCD2_REF,
    synonyms=("abcd2", "abcd2 score", "abcd 2", "abcd² score"),
    keywords=("transient ischaemic attack", "transient ischemic attack", "tia", "early stroke risk"),
)
def abcd2(x: Abcd2Input) -> Computed:
    """ABCD2 score: 2-day stroke risk after a TIA (0-7)."""
    t = Tally("ABCD2")
    t.add("age >= 60", f"{fmt(x.age)} years", _n(x.age >= 60))
    t.add("BP >= 140/90", f"{fmt(x.systolic_bp)}/{fmt(x.diastolic_bp)} mmHg",
          _n(x.systolic_bp >= 140 or x.diastolic_bp >= 90))
    feat = 2 if x.clinical_feature == "unilateral weakness" else 1 if x.clinical_feature.startswith("speech") else 0
    t.add("clinical features", x.clinical_feature, feat, "unilateral weakness 2, speech disturbance alone 1")
    d = x.duration_minutes
    t.add("duration", f"{fmt(d)} min", 2 if d >= 60 else 1 if d >= 10 else 0, ">=60 min: 2, 10-59 min: 1")
    t.add("diabetes", x.diabetes, _n(x.diabetes))
    s = t.value
    interp = ("high risk (6-7): 2-day stroke risk 8.1%" if s >= 6 else
              "moderate risk (4-5): 2-day stroke risk 4.1%" if s >= 4 else "low risk (0-3): 2-day stroke risk 1.0%")
    return Computed(s, "points", interp, t.finish())


# ---------------------------------------------------------------------------------------------------------
# Canadian CT Head Rule -- Stiell IG, Wells GA, Vandemheen K, et al. The Canadian CT Head Rule for patients with
# minor head injury. Lancet 2001;357:1391-6. (PMID 11356436). Five high-risk
# factors (neurosurgical intervention) and two medium-risk factors (brain injury on CT).

CCHR_REF = ("Stiell IG, Wells GA, Vandemheen K, et al. The Canadian CT Head Rule for patients with minor head "
            "injury. Lancet 2001;357:1391-6. PMID:11356436")


class CanadianCtHeadInput(CalculatorInput):
    """Inputs of the Canadian CT Head Rule (Stiell 2001)."""

    gcs: GCSTotal = param("Glasgow Coma Scale 2 hours after the injury (< 15 is high risk)", normal=15.0,
                          aliases=("gcs at 2 hours", "gcs 2 h after injury"))
    suspected_open_or_depressed_skull_fracture: Finding = param("suspected open or depressed skull fracture",
                                                                aliases=("open skull fracture",
                                                                         "depressed skull fracture"))
    basal_skull_fracture_signs: Finding = param(
        "any sign of basal skull fracture (haemotympanum, raccoon eyes, CSF oto/rhinorrhoea, Battle's sign)",
        aliases=("basal skull fracture", "battle sign", "raccoon eyes", "hemotympanum"))
    vomiting_two_or_more: Finding = param("vomiting >= 2 episodes", aliases=("vomiting twice", "repeated vomiting"))
    age: Age = param("age in years (>= 65 is high risk)")
    amnesia_before_impact_30min: Finding = param("retrograde amnesia before impact >= 30 minutes",
                                                 aliases=("retrograde amnesia", "amnesia before impact"))
    dangerous_mechanism: Finding = param(
        "dangerous mechanism (pedestrian struck, ejected from vehicle, fall > 3 ft or > 5 stairs)")


@calculator(
    id="canadian_ct_head_rule", name="Canadian CT Head Rule", category="diagnosis", unit="factors",
    output="integer", reference=CCHR_REF,
    synonyms=("canadian ct head rule", "canadian ct head", "cchr", "canadian head ct rule"),
    keywords=("minor head injury", "head ct", "head trauma"),
)
def canadian_ct_head_rule(x: CanadianCtHeadInput) -> Computed:
    """Canadian CT Head Rule: number of high- and medium-risk factors; any one means CT is indicated."""
    t = Tally("Canadian CT Head Rule")
    high = [("GCS < 15 at 2 h", f"GCS {fmt(x.gcs)}", x.gcs < 15),
            ("suspected open or depressed skull fracture", x.suspected_open_or_depressed_skull_fracture,
             x.suspected_open_or_depressed_skull_fracture),
            ("sign of basal skull fracture", x.basal_skull_fracture_signs, x.basal_skull_fracture_signs),
            ("vomiting >= 2 episodes", x.vomiting_two_or_more, x.vomiting_two_or_more),
            ("age >= 65", f"{fmt(x.age)} years", x.age >= 65)]
    medium = [("amnesia before impact >= 30 min", x.amnesia_before_impact_30min, x.amnesia_before_impact_30min),
              ("dangerous mechanism", x.dangerous_mechanism, x.dangerous_mechanism)]
    for name, shown, hit in high:
        t.add(f"high risk: {name}", shown, _n(hit))
    for name, shown, hit in medium:
        t.add(f"medium risk: {name}", shown, _n(hit))
    n_high = sum(_n(h) for *_, h in high)
    n_med = sum(_n(h) for *_, h in medium)
    if n_high:
        interp = "high risk (need for neurosurgical intervention): CT head indicated"
    elif n_med:
        interp = "medium risk (brain injury on CT): CT head indicated"
    else:
        interp = "no risk factor: CT head not required by the rule"
    warnings = [] if x.age >= 16 else [f"age {fmt(x.age)}: the rule was derived in patients aged 16 and over"]
    return Computed(t.value, "factors", interp, t.finish("factors"), warnings=warnings)


# ---------------------------------------------------------------------------------------------------------
# NEXUS -- Hoffman JR, Mower WR, Wolfson AB, Todd KH, Zucker MI. Validity of a set of clinical criteria to rule
# out injury to the cervical spine in patients with blunt trauma. N Engl J Med 2000;343:94-9.
# doi:10.1056/NEJM200007133430203 (PMID 10891516). Imaging is not needed only when all five low-risk criteria hold.

NEXUS_REF = ("Hoffman JR, Mower WR, Wolfson AB, Todd KH, Zucker MI. Validity of a set of clinical criteria to rule "
             "out injury to the cervical spine in patients with blunt trauma. N Engl J Med 2000;343:94-9. "
             "doi:10.1056/NEJM200007133430203 PMID:10891516")


class NexusInput(CalculatorInput):
    """Inputs of the NEXUS low-risk criteria, each given as the finding that breaks the criterion."""

    midline_cervical_tenderness: Finding = param("posterior midline cervical-spine tenderness",
                                                 aliases=("midline neck tenderness", "midline c-spine tenderness"))
    focal_neurologic_deficit: Finding = param("focal neurological deficit", aliases=("focal neurological deficit",))
    altered_alertness: Finding = param("altered level of alertness", aliases=("reduced alertness", "not alert"))
    intoxication: Finding = param("evidence of intoxication", aliases=("intoxicated",))
    distracting_injury: Finding = param("clinically apparent painful distracting injury",
                                        aliases=("painful distracting injury",))


@calculator(
    id="nexus_c_spine", name="NEXUS Criteria for C-Spine Imaging", category="diagnosis", unit="criteria",
    output="integer", reference=NEXUS_REF,
    synonyms=("nexus", "nexus criteria", "nexus c-spine", "nexus low-risk criteria", "nexus cervical spine"),
    keywords=("cervical spine injury", "c-spine imaging", "blunt trauma"),
)
def nexus_c_spine(x: NexusInput) -> Computed:
    """NEXUS: number of the five low-risk criteria NOT met; 0 means no cervical-spine imaging is needed."""
    t = Tally("NEXUS criteria not met")
    for name, hit in (("midline cervical tenderness", x.midline_cervical_tenderness),
                      ("focal neurological deficit", x.focal_neurologic_deficit),
                      ("altered alertness", x.altered_alertness), ("intoxication", x.intoxication),
                      ("painful distracting injury", x.distracting_injury)):
        t.add(name, hit, _n(hit))
    s = t.value
    interp = ("low risk (all five criteria met): cervical-spine imaging not indicated" if s == 0 else
              f"not low risk ({s} criterion/criteria not met): cervical-spine imaging indicated")
    return Computed(s, "criteria", interp, t.finish("criteria"))


# ---------------------------------------------------------------------------------------------------------
# Kocher criteria -- Kocher MS, Zurakowski D, Kasser JR. Differentiating between septic arthritis and transient
# synovitis of the hip in children: an evidence-based clinical prediction algorithm. J Bone Joint Surg Am
# 1999;81:1662-70. doi:10.2106/00004623-199912000-00002 (PMID 10608376). Non-weight-bearing, fever > 38.5 °C,
# ESR > 40 mm/h, WBC > 12 x10^9/L; predicted probability of septic arthritis 0: < 0.2%, 1: 3.0%, 2: 40.0%,
# 3: 93.1%, 4: 99.6%.

KOCHER_REF = ("Kocher MS, Zurakowski D, Kasser JR. Differentiating between septic arthritis and transient synovitis "
              "of the hip in children: an evidence-based clinical prediction algorithm. J Bone Joint Surg Am "
              "1999;81:1662-70. doi:10.2106/00004623-199912000-00002 PMID:10608376")
_KOCHER_P = {0: "< 0.2%", 1: "3.0%", 2: "40.0%", 3: "93.1%", 4: "99.6%"}


class KocherInput(CalculatorInput):
    """Inputs of the Kocher criteria (Kocher 1999)."""

    non_weight_bearing: Finding = param("unable to bear weight on the affected side",
                                        aliases=("non-weight-bearing", "refuses to bear weight"))
    temperature: Temperature = param("temperature (history of fever > 38.5 °C counts)")
    esr: ESR = param("erythrocyte sedimentation rate (> 40 mm/h counts)")
    wbc: WBC = param("white cell count (> 12 x10^9/L counts)")


@calculator(
    id="kocher_criteria", name="Kocher Criteria for Septic Arthritis of the Hip", category="diagnosis",
    unit="criteria", output="integer", reference=KOCHER_REF,
    synonyms=("kocher criteria", "kocher score", "kocher rule"),
    keywords=("septic arthritis", "transient synovitis", "irritable hip", "limp"),
)
def kocher_criteria(x: KocherInput) -> Computed:
    """Kocher criteria (0-4) and the predicted probability of septic arthritis of the hip."""
    t = Tally("Kocher criteria")
    t.add("non-weight-bearing", x.non_weight_bearing, _n(x.non_weight_bearing))
    t.add("fever > 38.5 °C", f"{x.temperature:.1f} °C", _n(x.temperature > 38.5))
    t.add("ESR > 40 mm/h", f"{fmt(x.esr)} mm/h", _n(x.esr > 40))
    t.add("WBC > 12 x10^9/L", f"{x.wbc:.3g} x10^9/L", _n(x.wbc > 12.0))
    s = t.value
    return Computed(s, "criteria", f"predicted probability of septic arthritis {_KOCHER_P[int(s)]}",
                    t.finish("criteria"))


# ---------------------------------------------------------------------------------------------------------
# LRINEC -- Wong CH, Khin LW, Heng KS, Tan KC, Low CO. The LRINEC (Laboratory Risk Indicator for Necrotizing
# Fasciitis) score: a tool for distinguishing necrotizing fasciitis from other soft tissue infections. Crit
# Care Med 2004;32:1535-41. (PMID 15241098). CRP >= 150 mg/L 4;
# WBC 15-25: 1, > 25: 2; Hb 11-13.5 g/dL: 1, < 11: 2; Na < 135: 2; creatinine > 141 µmol/L: 2; glucose
# > 10 mmol/L: 1. <= 5 low risk, 6-7 intermediate, >= 8 high.

LRINEC_REF = ("Wong CH, Khin LW, Heng KS, Tan KC, Low CO. The LRINEC (Laboratory Risk Indicator for Necrotizing "
              "Fasciitis) score: a tool for distinguishing necrotizing fasciitis from other soft tissue infections. "
              "Crit Care Med 2004;32:1535-41. PMID:15241098")


class LrinecInput(CalculatorInput):
    """Inputs of LRINEC (Wong 2004)."""

    crp: CRP = param("C-reactive protein (>= 150 mg/L: 4 points)")
    wbc: WBC = param("white cell count (15-25: 1, > 25 x10^9/L: 2)")
    hemoglobin: Hemoglobin = param("haemoglobin (11-13.5: 1, < 11 g/dL: 2)")
    sodium: Sodium = param("serum sodium (< 135 mmol/L: 2)")
    creatinine: Creatinine = param("serum creatinine (> 141 µmol/L = 1.6 mg/dL: 2)")
    glucose: Glucose = param("serum glucose (> 10 mmol/L = 180 mg/dL: 1)")


@calculator(
    id="lrinec", name="LRINEC Score for Necrotizing Soft Tissue Infection", category="diagnosis", unit="points",
    output="integer", reference=LRINEC_REF,
    synonyms=("lrinec", "lrinec score", "laboratory risk indicator for necrotizing fasciitis"),
    keywords=("necrotising fasciitis", "necrotizing fasciitis", "soft tissue infection", "cellulitis"),
)
def lrinec(x: LrinecInput) -> Computed:
    """LRINEC score for necrotising fasciitis (0-13)."""
    t = Tally("LRINEC")
    t.add("CRP >= 150 mg/L", f"{fmt(x.crp)} mg/L", 4 if x.crp >= 150 else 0)
    w = x.wbc
    t.add("white cell count", f"{w:.3g} x10^9/L", 2 if w > 25 else 1 if w >= 15 else 0, "<15: 0, 15-25: 1, >25: 2")
    h = x.hemoglobin
    t.add("haemoglobin", f"{h:.3g} g/dL", 0 if h > 13.5 else 1 if h >= 11 else 2, ">13.5: 0, 11-13.5: 1, <11: 2")
    t.add("sodium < 135", f"{fmt(x.sodium)} mmol/L", 2 if x.sodium < 135 else 0)
    cr_si = x.creatinine / _si("creatinine", "µmol/L")
    t.add("creatinine > 141 µmol/L", f"{x.creatinine:.3g} mg/dL = {cr_si:.0f} µmol/L", 2 if cr_si > 141 else 0)
    glu_si = x.glucose / _si("glucose", "mmol/L")
    t.add("glucose > 10 mmol/L", f"{x.glucose:.4g} mg/dL = {glu_si:.1f} mmol/L", 1 if glu_si > 10 else 0)
    s = t.value
    interp = ("high risk (>= 8): probability of necrotising fasciitis > 75%" if s >= 8 else
              "intermediate risk (6-7): probability 50-75%" if s >= 6 else "low risk (<= 5): probability < 50%")
    return Computed(s, "points", interp, t.finish())


# ---------------------------------------------------------------------------------------------------------
# PLASMIC -- Bendapudi PK, Hurwitz S, Fry A, et al. Derivation and external validation of the PLASMIC score for
# rapid assessment of adults with thrombotic microangiopathies: a cohort study. Lancet Haematol 2017;4:e157-64.
# doi:10.1016/S2352-3026(17)30026-1 (PMID 28259520). One point each: platelets < 30 x10^9/L; haemolysis
# (reticulocytes > 2.5%, undetectable haptoglobin or indirect bilirubin > 2 mg/dL); no active cancer; no solid-organ
# or stem-cell transplant; MCV < 90 fL; INR < 1.5; creatinine < 2.0 mg/dL. 0-4 low, 5 intermediate, 6-7 high.

PLASMIC_REF = ("Bendapudi PK, Hurwitz S, Fry A, et al. Derivation and external validation of the PLASMIC score for "
               "rapid assessment of adults with thrombotic microangiopathies: a cohort study. Lancet Haematol "
               "2017;4:e157-64. doi:10.1016/S2352-3026(17)30026-1 PMID:28259520")
MCV = number(40, 160, unit="fL", label="mean corpuscular volume", also=("fl", "µm3", "um3"))


class PlasmicInput(CalculatorInput):
    """Inputs of PLASMIC (Bendapudi 2017)."""

    platelets: Platelets = param("platelet count (< 30 x10^9/L counts)")
    hemolysis: Finding = param("haemolysis: reticulocytes > 2.5%, undetectable haptoglobin or indirect bilirubin "
                               "> 2 mg/dL", aliases=("haemolysis", "hemolysis variable"))
    active_cancer: Finding = param("active cancer (treated within the past year); absence scores 1")
    transplant_history: Finding = param("solid-organ or stem-cell transplant; absence scores 1",
                                        aliases=("history of transplant", "transplant"))
    mcv: MCV = param("mean corpuscular volume (< 90 fL counts)", aliases=("mean corpuscular volume",))
    inr: INR = param("INR (< 1.5 counts)")
    creatinine: Creatinine = param("serum creatinine (< 2.0 mg/dL counts)")


@calculator(
    id="plasmic_score", name="PLASMIC Score for TTP", category="diagnosis", unit="points", output="integer",
    reference=PLASMIC_REF, synonyms=("plasmic score", "plasmic"),
    keywords=("thrombotic thrombocytopenic purpura", "ttp", "adamts13", "thrombotic microangiopathy"),
)
def plasmic_score(x: PlasmicInput) -> Computed:
    """PLASMIC score: pretest probability of severe ADAMTS13 deficiency (0-7)."""
    t = Tally("PLASMIC")
    t.add("platelets < 30 x10^9/L", f"{fmt(x.platelets)} x10^9/L", _n(x.platelets < 30))
    t.add("haemolysis", x.hemolysis, _n(x.hemolysis))
    t.add("no active cancer", "active cancer" if x.active_cancer else "none", _n(not x.active_cancer))
    t.add("no solid-organ or stem-cell transplant", "transplant" if x.transplant_history else "none",
          _n(not x.transplant_history))
    t.add("MCV < 90 fL", f"{fmt(x.mcv)} fL", _n(x.mcv < 90))
    t.add("INR < 1.5", f"{x.inr:.2f}", _n(x.inr < 1.5))
    t.add("creatinine < 2.0 mg/dL", f"{x.creatinine:.2f} mg/dL", _n(x.creatinine < 2.0))
    s = t.value
    interp = ("high risk (6-7) of severe ADAMTS13 deficiency (TTP)" if s >= 6 else
              "intermediate risk (5)" if s == 5 else "low risk (0-4)")
    return Computed(s, "points", interp, t.finish())


# ---------------------------------------------------------------------------------------------------------
# 4Ts -- Lo GK, Juhl D, Warkentin TE, et al. Evaluation of pretest clinical score (4 T's) for the diagnosis of
# heparin-induced thrombocytopenia in two clinical settings. J Thromb Haemost 2006;4:759-65.
# doi:10.1111/j.1538-7836.2006.01787.x (PMID 16634744). Four categories scored 0-2; 0-3 low, 4-5 intermediate,
# 6-8 high probability.

FOUR_TS_REF = ("Lo GK, Juhl D, Warkentin TE, et al. Evaluation of pretest clinical score (4 T's) for the diagnosis "
               "of heparin-induced thrombocytopenia in two clinical settings. J Thromb Haemost 2006;4:759-65. "
               "doi:10.1111/j.1538-7836.2006.01787.x PMID:16634744")

_TIMING_OPTS = ("days 5-10 or within 1 day with heparin in the past 30 days",
                "consistent with days 5-10 but unclear, after day 10, or within 1 day with heparin 30-100 days ago",
                "before day 4 without recent heparin")
_THROMB_OPTS = ("new thrombosis, skin necrosis or acute systemic reaction",
                "progressive, recurrent or suspected thrombosis, or non-necrotising skin lesions", "none")
_TIMING = choice({
    "days 5-10 or within 1 day with heparin in the past 30 days": (
        "clear onset days 5-10", "days 5-10", "day 5-10", "<=1 day with heparin within 30 days", "2"),
    "consistent with days 5-10 but unclear, after day 10, or within 1 day with heparin 30-100 days ago": (
        "unclear", "after day 10", "> day 10", "onset after day 10", "heparin 30-100 days ago", "1"),
    "before day 4 without recent heparin": ("< 4 days", "before day 4", "no recent heparin", "early", "0")})
_THROMBOSIS = choice({
    "new thrombosis, skin necrosis or acute systemic reaction": (
        "new thrombosis", "proven thrombosis", "skin necrosis", "acute systemic reaction", "2"),
    "progressive, recurrent or suspected thrombosis, or non-necrotising skin lesions": (
        "suspected thrombosis", "progressive thrombosis", "recurrent thrombosis", "erythematous skin lesions", "1"),
    "none": ("no thrombosis", "absent", "0")})
_OTHER_CAUSE = choice({"none apparent": ("none", "no other cause", "2"), "possible": ("possible other cause", "1"),
                       "definite": ("definite other cause", "0")})


class FourTsInput(CalculatorInput):
    """Inputs of the 4Ts score (Lo 2006)."""

    platelet_fall_percent: Percent = param("fall of the platelet count from its pre-heparin peak, %",
                                           aliases=("platelet fall", "percentage platelet fall"))
    platelet_nadir: Platelets = param("lowest platelet count (nadir), x10^9/L", aliases=("nadir platelet count",))
    timing: _TIMING = param("timing of the platelet fall after heparin exposure")
    thrombosis: _THROMBOSIS = param("thrombosis or other sequelae", normal="none")
    other_causes: _OTHER_CAUSE = param("other causes of thrombocytopenia")


def _choice_points(value: str, options: tuple[str, ...]) -> int:
    """Points 2, 1, 0 for the first, second and third canonical option."""
    return 2 - options.index(value)


@calculator(
    id="four_ts_hit", name="4Ts Score for Heparin-Induced Thrombocytopenia", category="diagnosis", unit="points",
    output="integer", reference=FOUR_TS_REF,
    synonyms=("4ts score", "4ts", "4 t's", "four ts", "4t score"),
    keywords=("heparin-induced thrombocytopenia", "hit", "heparin", "thrombocytopenia"),
)
def four_ts_hit(x: FourTsInput) -> Computed:
    """4Ts pretest probability of heparin-induced thrombocytopenia (0-8)."""
    t = Tally("4Ts")
    f, nadir = x.platelet_fall_percent, x.platelet_nadir
    # Lo 2006: 2 = fall > 50% and nadir >= 20; 1 = fall 30-50% or nadir 10-19; 0 = fall < 30% or nadir < 10.
    thromb = 0 if (f < 30 or nadir < 10) else 2 if (f > 50 and nadir >= 20) else 1
    t.add("thrombocytopenia", f"fall {fmt(f)}%, nadir {fmt(nadir)} x10^9/L", thromb,
          ">50% and nadir >=20: 2; 30-50% or nadir 10-19: 1; <30% or nadir <10: 0")
    t.add("timing", x.timing, _choice_points(x.timing, _TIMING_OPTS))
    t.add("thrombosis or other sequelae", x.thrombosis, _choice_points(x.thrombosis, _THROMB_OPTS))
    t.add("other causes", x.other_causes, _choice_points(x.other_causes, ("none apparent", "possible", "definite")))
    s = t.value
    interp = ("high probability of HIT (6-8)" if s >= 6 else "intermediate probability (4-5)" if s >= 4 else
              "low probability (0-3)")
    return Computed(s, "points", interp, t.finish())



# ---------------------------------------------------------------------------------------------------------
# SCORTEN -- Bastuji-Garin S, Fouchard N, Bertocchi M, et al. SCORTEN: a severity-of-illness score for toxic
# epidermal necrolysis. J Invest Dermatol 2000;115:149-53. (PMID 10951229).
# One point each: age >= 40, malignancy, heart rate >= 120, detached BSA > 10% on day 1, serum urea > 10 mmol/L,
# bicarbonate < 20 mmol/L, glucose > 14 mmol/L. Mortality 0-1: 3.2%, 2: 12.1%, 3: 35.3%, 4: 58.3%, >= 5: 90.0%.

SCORTEN_REF = ("Bastuji-Garin S, Fouchard N, Bertocchi M, et al. SCORTEN: a severity-of-illness score for toxic "
               "epidermal necrolysis. J Invest Dermatol 2000;115:149-53. PMID:10951229")
_SCORTEN_MORT = {0: "3.2%", 1: "3.2%", 2: "12.1%", 3: "35.3%", 4: "58.3%"}


class ScortenInput(CalculatorInput):
    """Inputs of SCORTEN (Bastuji-Garin 2000)."""

    age: Age = param("age in years (>= 40 counts)")
    malignancy: Finding = param("malignancy (cancer or haematological malignancy)", aliases=("cancer", "active cancer"))
    heart_rate: HeartRate = param("heart rate (>= 120 /min counts)")
    detached_bsa_percent: Percent = param("body surface area detached on day 1, % (> 10% counts)",
                                          aliases=("bsa detached", "epidermal detachment", "tbsa detached"))
    bun: BUN = param("serum urea (> 10 mmol/L, i.e. BUN > 28 mg/dL, counts)")
    bicarbonate: Bicarbonate = param("serum bicarbonate (< 20 mmol/L counts)")
    glucose: Glucose = param("serum glucose (> 14 mmol/L = 252 mg/dL counts)")


@calculator(
    id="scorten", name="SCORTEN for Toxic Epidermal Necrolysis", category="severity", unit="points",
    output="integer", reference=SCORTEN_REF, synonyms=("scorten", "scorten score"),
    keywords=("toxic epidermal necrolysis", "stevens-johnson syndrome", "ten", "sjs"),
)
def scorten(x: ScortenInput) -> Computed:
    """SCORTEN (0-7) and the predicted mortality of toxic epidermal necrolysis."""
    t = Tally("SCORTEN")
    t.add("age >= 40", f"{fmt(x.age)} years", _n(x.age >= 40))
    t.add("malignancy", x.malignancy, _n(x.malignancy))
    t.add("heart rate >= 120", f"{fmt(x.heart_rate)} /min", _n(x.heart_rate >= 120))
    t.add("detached BSA > 10%", f"{fmt(x.detached_bsa_percent)}%", _n(x.detached_bsa_percent > 10))
    urea = x.bun / _si("bun", "mmol/L")
    t.add("urea > 10 mmol/L", f"BUN {x.bun:.3g} mg/dL = urea {urea:.1f} mmol/L", _n(urea > 10))
    t.add("bicarbonate < 20 mmol/L", f"{fmt(x.bicarbonate)} mmol/L", _n(x.bicarbonate < 20))
    glu = x.glucose / _si("glucose", "mmol/L")
    t.add("glucose > 14 mmol/L", f"{x.glucose:.4g} mg/dL = {glu:.1f} mmol/L", _n(glu > 14))
    s = t.value
    return Computed(s, "points", f"predicted mortality {_SCORTEN_MORT.get(int(s), '90.0%')}", t.finish())


# ---------------------------------------------------------------------------------------------------------
# Glasgow-Imrie (modified Glasgow, PANCREAS) -- Blamey SL, Imrie CW, O'Neill J, Gilmour WH, Carter DC. Prognostic
# factors in acute pancreatitis. Gut 1984;25:1340-6 (PMID not confirmed). Within 48 h of admission, one point each:
# PaO2 < 8 kPa, age > 55, WBC > 15 x10^9/L, calcium < 2 mmol/L, urea > 16 mmol/L, LDH > 600 U/L (or AST > 200
# U/L), albumin < 32 g/L, glucose > 10 mmol/L; >= 3 predicts severe pancreatitis.

GLASGOW_IMRIE_REF = ("Blamey SL, Imrie CW, O'Neill J, Gilmour WH, Carter DC. Prognostic factors in acute "
                     "pancreatitis. Gut 1984;25:1340-6 [reference unverified: PMID not confirmed]")


class GlasgowImrieInput(CalculatorInput):
    """Inputs of the Glasgow-Imrie criteria (worst values within 48 h of admission)."""

    pao2: PaO2 = param("arterial PaO2 (< 8 kPa = 60 mmHg counts)")
    age: Age = param("age in years (> 55 counts)")
    wbc: WBC = param("white cell count (> 15 x10^9/L counts)")
    calcium: Calcium = param("serum calcium (< 2 mmol/L = 8 mg/dL counts)")
    bun: BUN = param("serum urea (> 16 mmol/L, i.e. BUN > 44.8 mg/dL, counts)")
    ldh: LDH = param("lactate dehydrogenase (> 600 U/L counts)")
    ast: AST | None = param("AST (> 200 U/L counts as the enzyme criterion too)", default=None)
    albumin: Albumin = param("serum albumin (< 32 g/L = 3.2 g/dL counts)")
    glucose: Glucose = param("serum glucose (> 10 mmol/L = 180 mg/dL counts)")


@calculator(
    id="glasgow_imrie", name="Glasgow-Imrie Score for Acute Pancreatitis", category="severity", unit="points",
    output="integer", reference=GLASGOW_IMRIE_REF,
    synonyms=("glasgow-imrie", "glasgow imrie", "imrie score", "modified glasgow pancreatitis score", "pancreas score"),
    keywords=("acute pancreatitis", "pancreatitis severity"),
)
def glasgow_imrie(x: GlasgowImrieInput) -> Computed:
    """Glasgow-Imrie (PANCREAS) criteria for severe acute pancreatitis (0-8)."""
    t = Tally("Glasgow-Imrie")
    kpa = x.pao2 / _si("pao2", "kPa")
    t.add("PaO2 < 8 kPa", f"{x.pao2:.0f} mmHg = {kpa:.1f} kPa", _n(kpa < 8))
    t.add("age > 55", f"{fmt(x.age)} years", _n(x.age > 55))
    t.add("WBC > 15 x10^9/L", f"{x.wbc:.3g} x10^9/L", _n(x.wbc > 15))
    ca = x.calcium / _si("calcium", "mmol/L")
    t.add("calcium < 2 mmol/L", f"{x.calcium:.3g} mg/dL = {ca:.2f} mmol/L", _n(ca < 2))
    urea = x.bun / _si("bun", "mmol/L")
    t.add("urea > 16 mmol/L", f"BUN {x.bun:.3g} mg/dL = urea {urea:.1f} mmol/L", _n(urea > 16))
    enz = x.ldh > 600 or (x.ast is not None and x.ast > 200)
    t.add("LDH > 600 or AST > 200 U/L", f"LDH {fmt(x.ldh)}" + (f", AST {fmt(x.ast)}" if x.ast is not None else "")
          + " U/L", _n(enz))
    alb = x.albumin / _si("albumin", "g/L")
    t.add("albumin < 32 g/L", f"{x.albumin:.3g} g/dL = {alb:.0f} g/L", _n(alb < 32))
    glu = x.glucose / _si("glucose", "mmol/L")
    t.add("glucose > 10 mmol/L", f"{x.glucose:.4g} mg/dL = {glu:.1f} mmol/L", _n(glu > 10))
    s = t.value
    interp = "severe pancreatitis predicted (>= 3)" if s >= 3 else "severe pancreatitis not predicted (< 3)"
    return Computed(s, "points", interp, t.finish())


# ---------------------------------------------------------------------------------------------------------
# BISAP -- Wu BU, Johannes RS, Sun X, Tabak Y, Conwell DL, Banks PA. The early prediction of mortality in acute
# pancreatitis: a large population-based study. Gut 2008;57:1698-703. doi:10.1136/gut.2008.152702
# (PMID 18519429). BUN > 25 mg/dL, impaired mental status, SIRS, age > 60, pleural effusion.

BISAP_REF = ("Wu BU, Johannes RS, Sun X, Tabak Y, Conwell DL, Banks PA. The early prediction of mortality in acute "
             "pancreatitis: a large population-based study. Gut 2008;57:1698-703. doi:10.1136/gut.2008.152702 "
             "PMID:18519429")


class BisapInput(CalculatorInput):
    """Inputs of BISAP (Wu 2008), first 24 h."""

    bun: BUN = param("blood urea nitrogen (> 25 mg/dL counts)")
    impaired_mental_status: Finding = param("impaired mental status (disorientation, lethargy, GCS < 15)",
                                            aliases=("altered mental status", "confusion"))
    gcs: GCSTotal | None = param("Glasgow Coma Scale total (< 15 counts as impaired mental status)", default=None)
    sirs: Finding = param(">= 2 SIRS criteria", aliases=("sirs criteria met", "systemic inflammatory response"))
    age: Age = param("age in years (> 60 counts)")
    pleural_effusion: Finding = param("pleural effusion on imaging")


@calculator(
    id="bisap", name="BISAP Score for Pancreatitis Mortality", category="severity", unit="points",
    output="integer", reference=BISAP_REF,
    synonyms=("bisap", "bisap score", "bedside index for severity in acute pancreatitis"),
    keywords=("acute pancreatitis", "pancreatitis mortality"),
)
def bisap(x: BisapInput) -> Computed:
    """BISAP: bedside index of in-hospital mortality in acute pancreatitis (0-5)."""
    t = Tally("BISAP")
    t.add("BUN > 25 mg/dL", f"{x.bun:.3g} mg/dL", _n(x.bun > 25))
    low_gcs = x.gcs is not None and x.gcs < 15
    t.add("impaired mental status", ("present" if x.impaired_mental_status else "absent")
          + (f", GCS {fmt(x.gcs)}" if x.gcs is not None else ""), _n(x.impaired_mental_status or low_gcs))
    t.add("SIRS (>= 2 criteria)", x.sirs, _n(x.sirs))
    t.add("age > 60", f"{fmt(x.age)} years", _n(x.age > 60))
    t.add("pleural effusion", x.pleural_effusion, _n(x.pleural_effusion))
    s = t.value
    interp = ("high risk (>= 3): markedly increased in-hospital mortality" if s >= 3 else
              "lower risk (0-2)")
    return Computed(s, "points", interp, t.finish())


# ---------------------------------------------------------------------------------------------------------
# sPESI -- Jiménez D, Aujesky D, Moores L, et al. Simplification of the pulmonary embolism severity index for
# prognostication in patients with acute symptomatic pulmonary embolism. Arch Intern Med 2010;170:1383-9.
# doi:10.1001/archinternmed.2010.199 (PMID 20696966). Age > 80, cancer, chronic cardiopulmonary disease,
# HR >= 110, SBP < 100, SaO2 < 90%: 0 low risk (30-day mortality 1.0%), >= 1 high risk (10.9%).

SPESI_REF = ("Jiménez D, Aujesky D, Moores L, et al. Simplification of the pulmonary embolism severity index for "
             "prognostication in patients with acute symptomatic pulmonary embolism. Arch Intern Med "
             "2010;170:1383-9. doi:10.1001/archinternmed.2010.199 PMID:20696966")


class SpesiInput(CalculatorInput):
    """Inputs of the simplified PESI (Jiménez 2010)."""

    age: Age = param("age in years (> 80 counts)")
    cancer: Finding = param("cancer (active or history)", aliases=("active cancer", "malignancy"))
    chronic_cardiopulmonary_disease: Finding = param("chronic heart failure or chronic lung disease",
                                                     aliases=("chronic cardiopulmonary disease",))
    heart_rate: HeartRate = param("heart rate (>= 110 /min counts)")
    systolic_bp: SystolicBP = param("systolic blood pressure (< 100 mmHg counts)")
    spo2: SpO2 = param("arterial oxyhaemoglobin saturation (< 90% counts)")


@calculator(
    id="spesi", name="Simplified PESI (sPESI) for Acute PE Prognosis", category="risk", unit="points",
    output="integer", reference=SPESI_REF,
    synonyms=("spesi", "simplified pesi", "simplified pulmonary embolism severity index"),
    keywords=("30-day mortality", "pe prognosis", "outpatient pe"),
)
def spesi(x: SpesiInput) -> Computed:
    """Simplified PESI (0-6): 30-day mortality after acute pulmonary embolism."""
    t = Tally("sPESI")
    t.add("age > 80", f"{fmt(x.age)} years", _n(x.age > 80))
    t.add("cancer", x.cancer, _n(x.cancer))
    t.add("chronic cardiopulmonary disease", x.chronic_cardiopulmonary_disease,
          _n(x.chronic_cardiopulmonary_disease))
    t.add("heart rate >= 110", f"{fmt(x.heart_rate)} /min", _n(x.heart_rate >= 110))
    t.add("systolic BP < 100", f"{fmt(x.systolic_bp)} mmHg", _n(x.systolic_bp < 100))
    t.add("SaO2 < 90%", f"{fmt(x.spo2)}%", _n(x.spo2 < 90))
    s = t.value
    interp = ("low risk (0): 30-day mortality 1.0%" if s == 0 else "high risk (>= 1): 30-day mortality 10.9%")
    return Computed(s, "points", interp, t.finish())


# ---------------------------------------------------------------------------------------------------------
# TIMI UA/NSTEMI -- Antman EM, Cohen M, Bernink PJ, et al. The TIMI risk score for unstable angina/non-ST elevation
# MI: a method for prognostication and therapeutic decision making. JAMA 2000;284:835-42.
# doi:10.1001/jama.284.7.835 (PMID 10938172). Seven items; 14-day risk of death, MI or urgent revascularisation
# 0-1: 4.7%, 2: 8.3%, 3: 13.2%, 4: 19.9%, 5: 26.2%, 6-7: 40.9%.

TIMI_REF = ("Antman EM, Cohen M, Bernink PJ, et al. The TIMI risk score for unstable angina/non-ST elevation MI: a "
            "method for prognostication and therapeutic decision making. JAMA 2000;284:835-42. "
            "doi:10.1001/jama.284.7.835 PMID:10938172")
_TIMI_RISK = {0: "4.7%", 1: "4.7%", 2: "8.3%", 3: "13.2%", 4: "19.9%", 5: "26.2%", 6: "40.9%", 7: "40.9%"}


class TimiInput(CalculatorInput):
    """Inputs of the TIMI risk score for UA/NSTEMI (Antman 2000)."""

    age: Age = param("age in years (>= 65 counts)")
    cad_risk_factor_count: count(0, 5, "coronary risk factors") = param(
        "number of CAD risk factors: family history, hypertension, hypercholesterolaemia, diabetes, current smoking "
        "(>= 3 counts)", normal=0, aliases=("cad risk factors", "number of risk factors"))
    known_cad: Finding = param("known coronary stenosis >= 50%", aliases=("known coronary artery disease",))
    aspirin_last_7_days: Finding = param("aspirin use in the past 7 days", aliases=("aspirin use",))
    severe_angina: Finding = param(">= 2 anginal episodes in the past 24 h", aliases=("recent severe angina",))
    st_deviation: Finding = param("ST deviation >= 0.5 mm on the presenting ECG", aliases=("st changes",))
    positive_cardiac_marker: Finding = param("elevated cardiac marker (troponin or CK-MB)",
                                             aliases=("elevated troponin", "positive troponin"))


@calculator(
    id="timi_ua_nstemi", name="TIMI Score for UA/NSTEMI", category="risk", unit="points", output="integer",
    reference=TIMI_REF,
    synonyms=("timi score", "timi risk score", "timi ua/nstemi", "timi nstemi", "timi unstable angina"),
    keywords=("unstable angina", "nstemi", "non-st elevation", "acute coronary syndrome"),
)
def timi_ua_nstemi(x: TimiInput) -> Computed:
    """TIMI risk score for unstable angina / NSTEMI (0-7)."""
    t = Tally("TIMI")
    t.add("age >= 65", f"{fmt(x.age)} years", _n(x.age >= 65))
    t.add(">= 3 CAD risk factors", f"{x.cad_risk_factor_count} risk factors", _n(x.cad_risk_factor_count >= 3))
    t.add("known CAD (stenosis >= 50%)", x.known_cad, _n(x.known_cad))
    t.add("aspirin in the past 7 days", x.aspirin_last_7_days, _n(x.aspirin_last_7_days))
    t.add("severe angina (>= 2 episodes in 24 h)", x.severe_angina, _n(x.severe_angina))
    t.add("ST deviation >= 0.5 mm", x.st_deviation, _n(x.st_deviation))
    t.add("positive cardiac marker", x.positive_cardiac_marker, _n(x.positive_cardiac_marker))
    s = t.value
    return Computed(s, "points", f"14-day risk of death, MI or urgent revascularisation {_TIMI_RISK[int(s)]}",
                    t.finish())


# ---------------------------------------------------------------------------------------------------------
# ADD-RS -- Rogers AM, Hermann LK, Booher AM, et al. Sensitivity of the aortic dissection detection risk score, a
# novel guideline-based tool for identification of acute aortic dissection at initial presentation: results from
# the International Registry of Acute Aortic Dissection. Circulation 2011;123:2213-8.
# doi:10.1161/CIRCULATIONAHA.110.988568 (PMID 21555704). One point per category with any feature; 0 low,
# 1 intermediate, 2-3 high risk.

ADDRS_REF = ("Rogers AM, Hermann LK, Booher AM, et al. Sensitivity of the aortic dissection detection risk score, a "
             "novel guideline-based tool for identification of acute aortic dissection at initial presentation: "
             "results from the International Registry of Acute Aortic Dissection. Circulation 2011;123:2213-8. "
             "doi:10.1161/CIRCULATIONAHA.110.988568 PMID:21555704")


class AddRsInput(CalculatorInput):
    """Inputs of the aortic dissection detection risk score (Rogers 2011)."""

    high_risk_condition: Finding = param(
        "high-risk condition: Marfan or other connective tissue disease, family history of aortic disease, known "
        "aortic valve disease, recent aortic manipulation or known thoracic aortic aneurysm")
    high_risk_pain: Finding = param("high-risk pain: abrupt onset, severe intensity, or ripping/tearing chest, back "
                                    "or abdominal pain", aliases=("tearing pain", "ripping pain"))
    high_risk_exam: Finding = param(
        "high-risk examination: pulse deficit, systolic BP differential, focal neurological deficit with pain, new "
        "aortic regurgitation murmur with pain, or hypotension/shock", aliases=("pulse deficit",))


@calculator(
    id="add_rs", name="Aortic Dissection Detection Risk Score (ADD-RS)", category="risk", unit="points",
    output="integer", reference=ADDRS_REF,
    synonyms=("add-rs", "addrs", "add rs", "aortic dissection detection risk score"),
    keywords=("aortic dissection", "acute aortic syndrome", "tearing chest pain"),
)
def add_rs(x: AddRsInput) -> Computed:
    """ADD-RS: number of the three high-risk categories present (0-3)."""
    t = Tally("ADD-RS")
    t.add("high-risk condition", x.high_risk_condition, _n(x.high_risk_condition))
    t.add("high-risk pain features", x.high_risk_pain, _n(x.high_risk_pain))
    t.add("high-risk examination features", x.high_risk_exam, _n(x.high_risk_exam))
    s = t.value
    interp = ("high risk (2-3)" if s >= 2 else "intermediate risk (1)" if s == 1 else "low risk (0)")
    return Computed(s, "points", interp, t.finish())


# ---------------------------------------------------------------------------------------------------------
# MASCC -- Klastersky J, Paesmans M, Rubenstein EB, et al. The Multinational Association for Supportive Care in
# Cancer risk index: a multinational scoring system for identifying low-risk febrile neutropenic cancer patients.
# J Clin Oncol 2000;18:3038-51. doi:10.1200/JCO.2000.18.16.3038. Burden of illness none/mild 5, moderate 3; no
# hypotension (SBP >= 90) 5; no COPD 4; solid tumour or haematological malignancy without previous fungal infection
# 4; no dehydration 3; outpatient 3; age < 60 2. >= 21 low risk.

MASCC_REF = ("Klastersky J, Paesmans M, Rubenstein EB, et al. The Multinational Association for Supportive Care in "
             "Cancer risk index: a multinational scoring system for identifying low-risk febrile neutropenic cancer "
             "patients. J Clin Oncol 2000;18:3038-51. doi:10.1200/JCO.2000.18.16.3038")
_BURDEN = choice({"none or mild": ("none", "mild", "no symptoms", "mild symptoms"),
                  "moderate": ("moderate symptoms",), "severe": ("severe symptoms", "moribund")})


class MasccInput(CalculatorInput):
    """Inputs of the MASCC risk index (Klastersky 2000)."""

    burden_of_illness: _BURDEN = param("burden of febrile neutropenia: none or mild, moderate, severe symptoms",
                                       aliases=("symptom burden", "burden of illness"))
    systolic_bp: SystolicBP = param("systolic blood pressure (< 90 mmHg is hypotension)")
    copd: Finding = param("chronic obstructive pulmonary disease", aliases=("chronic obstructive pulmonary disease",))
    hematologic_malignancy_with_prior_fungal_infection: Finding = param(
        "haematological malignancy with a previous fungal infection (otherwise 4 points)",
        aliases=("previous fungal infection",))
    dehydration_requiring_iv_fluids: Finding = param("dehydration requiring parenteral fluids",
                                                     aliases=("dehydration",))
    inpatient_at_fever_onset: Finding = param("inpatient when the fever began (outpatient scores 3)",
                                              aliases=("inpatient", "hospitalized at onset of fever"))
    age: Age = param("age in years (< 60 scores 2)")


@calculator(
    id="mascc", name="MASCC Risk Index for Febrile Neutropenia", category="risk", unit="points", output="integer",
    reference=MASCC_REF, synonyms=("mascc", "mascc score", "mascc risk index", "mascc index"),
    keywords=("febrile neutropenia", "neutropenic fever", "neutropenic sepsis", "chemotherapy"),
)
def mascc(x: MasccInput) -> Computed:
    """MASCC risk index for febrile neutropenia (0-26; >= 21 low risk)."""
    t = Tally("MASCC")
    t.add("burden of illness", x.burden_of_illness,
          5 if x.burden_of_illness == "none or mild" else 3 if x.burden_of_illness == "moderate" else 0,
          "none/mild 5, moderate 3, severe 0")
    t.add("no hypotension (SBP >= 90)", f"{fmt(x.systolic_bp)} mmHg", 5 if x.systolic_bp >= 90 else 0)
    t.add("no COPD", "COPD" if x.copd else "none", 0 if x.copd else 4)
    t.add("solid tumour or haematological malignancy without previous fungal infection",
          "haematological with prior fungal infection" if x.hematologic_malignancy_with_prior_fungal_infection
          else "yes", 0 if x.hematologic_malignancy_with_prior_fungal_infection else 4)
    t.add("no dehydration requiring IV fluids", "dehydrated" if x.dehydration_requiring_iv_fluids else "none",
          0 if x.dehydration_requiring_iv_fluids else 3)
    t.add("outpatient status", "inpatient" if x.inpatient_at_fever_onset else "outpatient",
          0 if x.inpatient_at_fever_onset else 3)
    t.add("age < 60", f"{fmt(x.age)} years", 2 if x.age < 60 else 0)
    s = t.value
    interp = ("low risk (>= 21): candidate for outpatient or oral management" if s >= 21 else
              "high risk (< 21) of serious complications")
    return Computed(s, "points", interp, t.finish())


# ---------------------------------------------------------------------------------------------------------
# Bishop score -- Bishop EH. Pelvic scoring for elective induction. Obstet Gynecol 1964;24:266-8 (PMID 14199536).
# Dilatation (cm) 0: 0, 1-2: 1, 3-4: 2, >= 5: 3; effacement 0-30%: 0, 40-50%: 1, 60-70%: 2, >= 80%: 3; station -3: 0,
# -2: 1, -1/0: 2, +1/+2: 3; consistency firm 0, medium 1, soft 2; position posterior 0, mid 1, anterior 2. Bishop
# found elective induction uniformly successful at a total of 9 or more.

BISHOP_REF = "Bishop EH. Pelvic scoring for elective induction. Obstet Gynecol 1964;24:266-8. PMID:14199536"
CervicalDilation = measure("length", 0.0, 10.0)
Station = number(-5, 5, unit="", label="fetal station")
_CONSISTENCY = choice({"firm": ("hard",), "medium": ("intermediate", "moderate"), "soft": ("softened",)})
_POSITION = choice({"posterior": ("post",), "mid": ("midposition", "mid-position", "middle", "central"),
                    "anterior": ("ant",)})


class BishopInput(CalculatorInput):
    """Inputs of the Bishop score (Bishop 1964)."""

    cervical_dilation: CervicalDilation = param("cervical dilatation", aliases=("dilation", "dilatation"))
    cervical_effacement: Percent = param("cervical effacement, %", aliases=("effacement",))
    fetal_station: Station = param("station of the presenting part, -3 to +3", aliases=("station",))
    cervical_consistency: _CONSISTENCY = param("cervical consistency: firm, medium or soft",
                                               aliases=("consistency",))
    cervical_position: _POSITION = param("cervical position: posterior, mid or anterior", aliases=("position",))


@calculator(
    id="bishop_score", name="Bishop Score for Induction of Labour", category="diagnosis", unit="points",
    output="integer", reference=BISHOP_REF,
    synonyms=("bishop score", "bishop", "pelvic score", "cervical score"),
    keywords=("induction of labour", "induction of labor", "cervical ripening", "cervix"),
)
def bishop_score(x: BishopInput) -> Computed:
    """Bishop score of cervical favourability for induction (0-13)."""
    t = Tally("Bishop")
    d = x.cervical_dilation
    t.add("dilatation", f"{fmt(d)} cm", 0 if d < 1 else 1 if d < 3 else 2 if d < 5 else 3,
          "0 cm: 0, 1-2: 1, 3-4: 2, >=5: 3")
    e = x.cervical_effacement
    t.add("effacement", f"{fmt(e)}%", 0 if e < 40 else 1 if e < 60 else 2 if e < 80 else 3,
          "0-30%: 0, 40-50%: 1, 60-70%: 2, >=80%: 3")
    st = x.fetal_station
    t.add("station", f"{st:+g}", 0 if st <= -3 else 1 if st < -1 else 2 if st < 1 else 3,
          "-3: 0, -2: 1, -1/0: 2, +1/+2: 3")
    t.add("consistency", x.cervical_consistency, ("firm", "medium", "soft").index(x.cervical_consistency))
    t.add("position", x.cervical_position, ("posterior", "mid", "anterior").index(x.cervical_position))
    s = t.value
    interp = ("favourable (>= 9): elective induction likely to succeed" if s >= 9 else
              "less favourable (< 9): cervix not yet favourable for elective induction")
    return Computed(s, "points", interp, t.finish())
