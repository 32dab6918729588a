"""Infection scores: CURB-65, PSI/PORT, Centor (McIsaac), FeverPAIN and the SIRS criteria.

Each item is written from the primary publication cited next to it (not from another implementation).
"""

from __future__ import annotations

from wardround.tools.calculators.base import (
    Age,
    CalculatorInput,
    Computed,
    DiastolicBP,
    Finding,
    HeartRate,
    RespiratoryRate,
    Sex,
    SystolicBP,
    Temperature,
    calculator,
    lab,
    number,
    param,
)
from wardround.tools.calculators.scores_common import Tally, fmt

BUN = lab("bun")
Sodium = lab("sodium")
Glucose = lab("glucose")
Hematocrit = lab("hematocrit")
PH = lab("ph")
PaO2 = lab("pao2")
PaCO2 = lab("paco2")
WBC = lab("wbc")
BandsPercent = number(0, 100, unit="%", label="band forms")

# BUN is urea NITROGEN: 1 mmol/L of urea carries 28.014 mg of nitrogen per litre = 2.8014 mg/dL.
_BUN_MG_DL_PER_MMOL = 2.8014


def bun_to_urea_mmol(bun_mg_dl: float) -> float:
    """Urea (mmol/L) from blood urea nitrogen (mg/dL); urea and urea nitrogen have the same molar amount."""
    return bun_mg_dl / _BUN_MG_DL_PER_MMOL


# ---------------------------------------------------------------------------------------------------------
# CURB-65 -- Lim WS, van der Eerden MM, Laing R, et al. Defining community acquired pneumonia severity on
# presentation to hospital: an international derivation and validation study. Thorax 2003;58:377-82.
# doi:10.1136/thorax.58.5.377 (PMID 12728155).

CURB65_REF = ("Lim WS, van der Eerden MM, Laing R, et al. Defining community acquired pneumonia severity on "
              "presentation to hospital: an international derivation and validation study. Thorax 2003;58:377-82. "
              "doi:10.1136/thorax.58.5.377 PMID:12728155")


class Curb65Input(CalculatorInput):
    """Inputs of CURB-65 (Lim 2003)."""

    confusion: Finding = param("new mental confusion (AMT <= 8 or new disorientation)",
                               aliases=("altered mental status", "new confusion"))
    bun: BUN = param("blood urea nitrogen (urea > 7 mmol/L, i.e. BUN > 19.6 mg/dL, counts)")
    respiratory_rate: RespiratoryRate = param("respiratory rate (>= 30 /min counts)")
    systolic_bp: SystolicBP = param("systolic blood pressure (< 90 mmHg counts)")
    diastolic_bp: DiastolicBP = param("diastolic blood pressure (<= 60 mmHg counts)")
    age: Age = param("age in years (>= 65 counts)")


@calculator(
    id="curb_65", name="CURB-65 Score for Pneumonia Severity", category="risk", unit="points", output="integer",
    reference=CURB65_REF, synonyms=("curb-65", "curb65", "curb 65", "pneumonia severity curb"),
    keywords=("pneumonia", "community-acquired pneumonia", "cap", "mortality", "admission"),
)
def curb_65(x: Curb65Input) -> Computed:
    """CURB-65 severity of community-acquired pneumonia (0-5 points)."""
    t = Tally("CURB-65")
    t.add("confusion", x.confusion, int(x.confusion))
    urea = bun_to_urea_mmol(x.bun)
    t.add("urea > 7 mmol/L", f"BUN {x.bun:.1f} mg/dL = urea {urea:.2f} mmol/L", 1 if urea > 7.0 else 0)
    t.add("respiratory rate >= 30", f"{fmt(x.respiratory_rate)} /min", 1 if x.respiratory_rate >= 30 else 0)
    low_bp = x.systolic_bp < 90 or x.diastolic_bp <= 60
    t.add("SBP < 90 or DBP <= 60", f"{fmt(x.systolic_bp)}/{fmt(x.diastolic_bp)} mmHg", 1 if low_bp else 0)
    t.add("age >= 65", f"{fmt(x.age)} years", 1 if x.age >= 65 else 0)
    score = t.value
    # Lim 2003 (derivation, 30-day mortality): 0-1 low (1.5%), 2 intermediate (9.2%), 3-5 high (22%).
    interp = ("low severity (0-1): consider home treatment" if score <= 1 else
              "intermediate severity (2): consider hospital treatment" if score == 2 else
              "high severity (3-5): manage as severe pneumonia")
    return Computed(score, "points", interp, t.finish())


# ---------------------------------------------------------------------------------------------------------
# Pneumonia Severity Index (PORT) -- Fine MJ, Auble TE, Yealy DM, et al. A prediction rule to identify
# low-risk patients with community-acquired pneumonia. N Engl J Med 1997;336:243-50.
# doi:10.1056/NEJM199701233360402 (PMID 8995086). Fine 1997 scored unmeasured variables as normal, hence the
# normal values below for assume_normal.

PSI_REF = ("Fine MJ, Auble TE, Yealy DM, et al. A prediction rule to identify low-risk patients with "
           "community-acquired pneumonia. N Engl J Med 1997;336:243-50. doi:10.1056/NEJM199701233360402 "
           "PMID:8995086")


class PsiInput(CalculatorInput):
    """Inputs of the Pneumonia Severity Index (Fine 1997)."""

    age: Age = param("age in years")
    sex: Sex = param("sex (female: age - 10)")
    nursing_home_resident: Finding = param("nursing home resident")
    neoplastic_disease: Finding = param("neoplastic disease (active, or diagnosed within 1 year, not skin cancer)")
    liver_disease: Finding = param("liver disease (cirrhosis or other chronic liver disease)",
                                   aliases=("liver disease severity", "liver disease history"))
    congestive_heart_failure: Finding = param("congestive heart failure",
                                              aliases=("congestive heart faliure", "chf history", "chf"))
    cerebrovascular_disease: Finding = param("cerebrovascular disease (stroke or TIA)",
                                             aliases=("cerebrovascular disease history",))
    renal_disease: Finding = param("chronic renal disease", aliases=("renal disease history",))
    altered_mental_status: Finding = param("altered mental status", aliases=("confusion",))
    respiratory_rate: RespiratoryRate = param("respiratory rate (>= 30 /min counts)", normal=16.0)
    systolic_bp: SystolicBP = param("systolic blood pressure (< 90 mmHg counts)", normal=120.0)
    temperature: Temperature = param("temperature (< 35 or >= 40 °C counts)", normal=37.0)
    heart_rate: HeartRate = param("pulse (>= 125 /min counts)", normal=80.0)
    ph: PH = param("arterial pH (< 7.35 counts)", normal=7.40)
    bun: BUN = param("blood urea nitrogen (>= 30 mg/dL counts)", normal=14.0)
    sodium: Sodium = param("sodium (< 130 mmol/L counts)", normal=140.0)
    glucose: Glucose = param("glucose (>= 250 mg/dL counts)", normal=100.0)
    hematocrit: Hematocrit = param("haematocrit (< 30% counts)", normal=42.0)
    pao2: PaO2 = param("arterial PaO2 (< 60 mmHg counts; SaO2 < 90% is equivalent)", normal=90.0,
                       aliases=("partial pressure of oxygen",))
    pleural_effusion: Finding = param("pleural effusion on chest radiograph", aliases=("pleural effusion on x-ray",))


@calculator(
    id="psi_port", name="PSI Score: Pneumonia Severity Index for CAP", category="severity", unit="points",
    output="integer", reference=PSI_REF,
    synonyms=("pneumonia severity index", "psi", "port score", "psi/port", "fine score"),
    keywords=("pneumonia", "community-acquired pneumonia", "cap", "mortality", "admission decision"),
)
def psi_port(x: PsiInput) -> Computed:
    """Pneumonia Severity Index (PORT) points and risk class I-V."""
    t = Tally("PSI")
    # Fine 1997 Table 2 point assignments.
    t.add("age", f"{fmt(x.age)} years", x.age, "points = age in years")
    if x.sex == "female":
        t.add("female sex", True, -10)
    history = (("nursing home resident", x.nursing_home_resident, 10), ("neoplastic disease", x.neoplastic_disease, 30),
               ("liver disease", x.liver_disease, 20), ("congestive heart failure", x.congestive_heart_failure, 10),
               ("cerebrovascular disease", x.cerebrovascular_disease, 10), ("renal disease", x.renal_disease, 10),
               ("altered mental status", x.altered_mental_status, 20))
    for name, present, pts in history:
        t.add(name, present, pts if present else 0)
    t.add("respiratory rate >= 30", f"{fmt(x.respiratory_rate)} /min", 20 if x.respiratory_rate >= 30 else 0)
    t.add("systolic BP < 90", f"{fmt(x.systolic_bp)} mmHg", 20 if x.systolic_bp < 90 else 0)
    t.add("temperature < 35 or >= 40 °C", f"{x.temperature:.1f} °C",
          15 if (x.temperature < 35 or x.temperature >= 40) else 0)
    t.add("pulse >= 125", f"{fmt(x.heart_rate)} /min", 10 if x.heart_rate >= 125 else 0)
    t.add("pH < 7.35", f"{x.ph:.2f}", 30 if x.ph < 7.35 else 0)
    t.add("BUN >= 30 mg/dL", f"{x.bun:.1f} mg/dL", 20 if x.bun >= 30 else 0)
    t.add("sodium < 130", f"{x.sodium:.0f} mmol/L", 20 if x.sodium < 130 else 0)
    t.add("glucose >= 250 mg/dL", f"{x.glucose:.0f} mg/dL", 10 if x.glucose >= 250 else 0)
    t.add("haematocrit < 30%", f"{x.hematocrit:.0f}%", 10 if x.hematocrit < 30 else 0)
    t.add("PaO2 < 60 mmHg", f"{x.pao2:.0f} mmHg", 10 if x.pao2 < 60 else 0)
    t.add("pleural effusion", x.pleural_effusion, 10 if x.pleural_effusion else 0)
    score = round(t.total)
    # Fine 1997 step 1: class I = age <= 50, none of the five comorbidities, and none of the five exam findings.
    step1 = (x.age <= 50 and not any((x.neoplastic_disease, x.liver_disease, x.congestive_heart_failure,
                                      x.cerebrovascular_disease, x.renal_disease, x.altered_mental_status))
             and x.heart_rate < 125 and x.respiratory_rate < 30 and x.systolic_bp >= 90
             and 35 <= x.temperature < 40)
    if step1:
        cls = "class I (low risk)"
    elif score <= 70:
        cls = "class II (low risk)"
    elif score <= 90:
        cls = "class III (low risk)"
    elif score <= 130:
        cls = "class IV (moderate risk)"
    else:
        cls = "class V (high risk)"
    steps = t.finish()
    if step1:
        steps.append("step 1: age <= 50 with no comorbidity or vital-sign abnormality -> class I")
    return Computed(score, "points", cls, steps)


# ---------------------------------------------------------------------------------------------------------
# Centor score modified by McIsaac -- McIsaac WJ, White D, Tannenbaum D, Low DE. A clinical score to reduce
# unnecessary antibiotic use in patients with sore throat. CMAJ 1998;158:75-83 (PMID 9475915); the four
# original criteria: Centor RM, et al. Med Decis Making 1981;1:239-46 (PMID 6763125).

CENTOR_REF = ("McIsaac WJ, White D, Tannenbaum D, Low DE. A clinical score to reduce unnecessary antibiotic use in "
              "patients with sore throat. CMAJ 1998;158:75-83. PMID:9475915; Centor RM, Witherspoon JM, Dalton HP, "
              "et al. The diagnosis of strep throat in adults in the emergency room. Med Decis Making "
              "1981;1:239-46. PMID:6763125")


class CentorInput(CalculatorInput):
    """Inputs of the modified Centor (McIsaac) score."""

    age: Age = param("age in years (3-14: +1, 15-44: 0, >= 45: -1)")
    temperature: Temperature = param("temperature (> 38 °C counts)")
    # The normal state is "no cough", so assume_normal takes an unmentioned cough as absent (criterion met).
    cough_absent: Finding = param("absence of cough", aliases=("cough absent", "no cough"), normal=True)
    tender_anterior_cervical_nodes: Finding = param(
        "swollen, tender anterior cervical lymph nodes", aliases=("tender/swollen anterior cervical lymph nodes",))
    tonsillar_exudate_or_swelling: Finding = param(
        "tonsillar swelling or exudate", aliases=("exudate or swelling on tonsils",))


@calculator(
    id="centor_mcisaac", name="Centor Score (Modified/McIsaac) for Strep Pharyngitis", category="severity",
    unit="points", output="integer", reference=CENTOR_REF,
    synonyms=("centor score", "mcisaac score", "modified centor score", "centor criteria"),
    keywords=("pharyngitis", "sore throat", "streptococcus", "group a strep", "antibiotics", "tonsillitis"),
)
def centor_mcisaac(x: CentorInput) -> Computed:
    """McIsaac-modified Centor score for group A streptococcal pharyngitis (-1 to 5 points)."""
    t = Tally("Centor (McIsaac)")
    t.add("temperature > 38 °C", f"{x.temperature:.1f} °C", 1 if x.temperature > 38.0 else 0)
    t.add("absence of cough", x.cough_absent, int(x.cough_absent))
    t.add("tender/swollen anterior cervical nodes", x.tender_anterior_cervical_nodes,
          int(x.tender_anterior_cervical_nodes))
    t.add("tonsillar swelling or exudate", x.tonsillar_exudate_or_swelling, int(x.tonsillar_exudate_or_swelling))
    warnings = []
    if x.age < 3:
        warnings.append(f"age {x.age:.1f} years: McIsaac 1998 studied ages 3 and over; no age points given")
    age_pts = 1 if 3 <= x.age < 15 else 0 if x.age < 45 else -1
    t.add("age", f"{x.age:.3g} years", age_pts, "3-14: +1, 15-44: 0, >=45: -1")
    score = t.value
    # McIsaac 1998: <= 1 no culture or antibiotic; 2-3 culture, treat if positive; >= 4 culture and treat.
    interp = ("low likelihood of streptococcal pharyngitis (<= 1): no test or antibiotic" if score <= 1 else
              "intermediate (2-3): throat culture/rapid test, treat if positive" if score <= 3 else
              "high (>= 4): test and consider empirical antibiotics")
    return Computed(score, "points", interp, t.finish(), warnings=warnings)


# ---------------------------------------------------------------------------------------------------------
# FeverPAIN -- Little P, Hobbs FD, Moore M, et al. Clinical score and rapid antigen detection test to guide
# antibiotic use for sore throats: randomised controlled trial of PRISM (primary care streptococcal
# management). BMJ 2013;347:f5806. doi:10.1136/bmj.f5806 (PMID 24114306).

FEVERPAIN_REF = ("Little P, Hobbs FD, Moore M, et al. Clinical score and rapid antigen detection test to guide "
                 "antibiotic use for sore throats: randomised controlled trial of PRISM. BMJ 2013;347:f5806. "
                 "doi:10.1136/bmj.f5806 PMID:24114306")


class FeverPainInput(CalculatorInput):
    """Inputs of FeverPAIN (Little 2013)."""

    fever_past_24h: Finding = param("fever in the past 24 hours", aliases=("fever in past 24 hours", "fever"))
    purulence: Finding = param("pharyngeal/tonsillar purulence", aliases=("purulent tonsils", "tonsillar exudate"))
    attend_rapidly: Finding = param("attended rapidly: symptom onset <= 3 days",
                                    aliases=("symptom onset ≤3 days", "symptom onset <=3 days",
                                             "symptom onset 3 days or less"))
    inflamed_tonsils: Finding = param("severely inflamed tonsils", aliases=("severe tonsil inflammation",))
    # Under assume_normal an unmentioned item scores 0, this one included: MedCalc-Bench's FeverPAIN
    # explanations take an unreported "absence of cough or coryza" as not met (unlike its Centor convention,
    # where an unreported cough is taken as absent). The conservative reading also fits Little 2013, where each
    # item is scored by the clinician who asked about it.
    no_cough_or_coryza: Finding = param("absence of cough or coryza", aliases=("absence of cough or coryza",))


@calculator(
    id="feverpain", name="FeverPAIN Score for Strep Pharyngitis", category="diagnosis", unit="points",
    output="integer", reference=FEVERPAIN_REF,
    synonyms=("feverpain", "fever pain score", "feverpain score"),
    keywords=("pharyngitis", "sore throat", "streptococcus", "antibiotics", "tonsillitis"),
)
def feverpain(x: FeverPainInput) -> Computed:
    """FeverPAIN: Fever, Purulence, Attend rapidly, severely Inflamed tonsils, No cough/coryza (0-5)."""
    t = Tally("FeverPAIN")
    t.add("fever in past 24 h", x.fever_past_24h, int(x.fever_past_24h))
    t.add("purulence", x.purulence, int(x.purulence))
    t.add("attend rapidly (<= 3 days)", x.attend_rapidly, int(x.attend_rapidly))
    t.add("severely inflamed tonsils", x.inflamed_tonsils, int(x.inflamed_tonsils))
    t.add("no cough or coryza", x.no_cough_or_coryza, int(x.no_cough_or_coryza))
    score = t.value
    # Little 2013: 0-1 no antibiotic; 2-3 delayed prescription; 4-5 immediate antibiotic or delayed prescription.
    interp = ("low (0-1): no antibiotic" if score <= 1 else "intermediate (2-3): consider a delayed prescription"
              if score <= 3 else "high (4-5): immediate or delayed antibiotic")
    return Computed(score, "points", interp, t.finish())


# ---------------------------------------------------------------------------------------------------------
# SIRS -- Bone RC, Balk RA, Cerra FB, et al. Definitions for sepsis and organ failure and guidelines for the use
# of innovative therapies in sepsis. The ACCP/SCCM Consensus Conference Committee. Chest 1992;101:1644-55.
# doi:10.1378/chest.101.6.1644 (PMID 1303622).

SIRS_REF = ("Bone RC, Balk RA, Cerra FB, et al. Definitions for sepsis and organ failure and guidelines for the use "
            "of innovative therapies in sepsis. Chest 1992;101:1644-55. doi:10.1378/chest.101.6.1644 PMID:1303622")


class SirsInput(CalculatorInput):
    """Inputs of the SIRS criteria (Bone 1992)."""

    temperature: Temperature = param("temperature (> 38 or < 36 °C counts)")
    heart_rate: HeartRate = param("heart rate (> 90 /min counts)")
    respiratory_rate: RespiratoryRate = param("respiratory rate (> 20 /min counts)")
    paco2: PaCO2 | None = param("PaCO2 (< 32 mmHg counts); optional", default=None, aliases=("pco2", "paco₂"))
    wbc: WBC = param("white cell count (> 12 or < 4 x10^9/L counts)")
    bands_percent: BandsPercent | None = param("immature (band) neutrophils, % (> 10% counts); optional",
                                               default=None, aliases=("bands", "band forms", "bandemia"))


@calculator(
    id="sirs_criteria", name="SIRS Criteria", category="diagnosis", unit="criteria", output="integer",
    reference=SIRS_REF,
    synonyms=("sirs", "systemic inflammatory response syndrome", "sirs criteria"),
    keywords=("sepsis", "infection", "inflammation", "fever", "leukocytosis", "tachycardia"),
)
def sirs_criteria(x: SirsInput) -> Computed:
    """Number of SIRS criteria met (0-4); two or more define SIRS."""
    t = Tally("SIRS criteria met")
    t.add("temperature > 38 or < 36 °C", f"{x.temperature:.1f} °C",
          1 if (x.temperature > 38.0 or x.temperature < 36.0) else 0)
    t.add("heart rate > 90", f"{fmt(x.heart_rate)} /min", 1 if x.heart_rate > 90 else 0)
    resp = x.respiratory_rate > 20 or (x.paco2 is not None and x.paco2 < 32)
    shown = f"RR {fmt(x.respiratory_rate)} /min" + (f", PaCO2 {x.paco2:.0f} mmHg" if x.paco2 is not None else "")
    t.add("RR > 20 or PaCO2 < 32 mmHg", shown, 1 if resp else 0)
    white = x.wbc > 12 or x.wbc < 4 or (x.bands_percent is not None and x.bands_percent > 10)
    shown = f"WBC {x.wbc:.3g} x10^9/L" + (f", bands {fmt(x.bands_percent)}%" if x.bands_percent is not None else "")
    t.add("WBC > 12 or < 4 x10^9/L or bands > 10%", shown, 1 if white else 0)
    n = t.value
    interp = "SIRS present (>= 2 criteria)" if n >= 2 else "SIRS absent (< 2 criteria)"
    return Computed(n, "criteria", interp, t.finish("criteria"))
