"""Cardiovascular scores: CHA2DS2-VASc, HAS-BLED, HEART, RCRI and the Framingham hard-CHD risk (ATP III).

Each item is written from the primary publication cited next to it (not from another implementation).
"""

from __future__ import annotations

import math

from wardround.errors import InputError
from wardround.tools.calculators.base import (
    Age,
    CalculatorInput,
    Computed,
    Finding,
    Sex,
    SystolicBP,
    calculator,
    choice,
    count,
    lab,
    param,
)
from wardround.tools.calculators.scores_common import Tally, fmt

Creatinine = lab("creatinine")
TotalCholesterol = lab("total_cholesterol")
HDLCholesterol = lab("hdl_cholesterol")

# ---------------------------------------------------------------------------------------------------------
# CHA2DS2-VASc -- Lip GY, Nieuwlaat R, Pisters R, Lane DA, Crijns HJ. Refining clinical risk stratification
# for predicting stroke and thromboembolism in atrial fibrillation using a novel risk factor-based approach.
# Chest 2010;137:263-72. doi:10.1378/chest.09-1584 (PMID 19762550).

CHA2DS2_VASC_REF = ("Lip GY, Nieuwlaat R, Pisters R, et al. Refining clinical risk stratification for predicting "
                    "stroke and thromboembolism in atrial fibrillation using a novel risk factor-based approach: "
                    "the Euro Heart Survey on Atrial Fibrillation. Chest 2010;137:263-72. "
                    "doi:10.1378/chest.09-1584 PMID:19762550")


class Cha2ds2VascInput(CalculatorInput):
    """Inputs of CHA2DS2-VASc (Lip 2010)."""

    age: Age = param("age in years")
    sex: Sex = param("sex (female = sex category, +1)")
    congestive_heart_failure: Finding = param(
        "congestive heart failure or moderate-severe LV systolic dysfunction",
        aliases=("congestive heart faliure", "congestive heart failure history", "chf", "heart failure"))
    hypertension: Finding = param("history of hypertension", aliases=("hypertension history", "htn"))
    diabetes: Finding = param("diabetes mellitus", aliases=("diabetes history", "diabetes mellitus", "dm"))
    stroke: Finding = param("prior stroke", aliases=("stroke history", "prior stroke", "cva"))
    transient_ischemic_attack: Finding = param(
        "prior transient ischaemic attack", aliases=("transient ischemic attacks history", "tia", "tia history"))
    thromboembolism: Finding = param("prior (systemic) thromboembolism",
                                     aliases=("thromboembolism history", "systemic embolism"))
    vascular_disease: Finding = param("vascular disease: prior myocardial infarction, peripheral artery disease "
                                      "or aortic plaque", aliases=("vascular disease history",))


@calculator(
    id="cha2ds2_vasc", name="CHA2DS2-VASc Score for Atrial Fibrillation Stroke Risk", category="risk",
    unit="points", output="integer", reference=CHA2DS2_VASC_REF,
    synonyms=("cha2ds2-vasc", "chads-vasc", "cha2ds2vasc", "chads2-vasc", "af stroke risk score"),
    keywords=("atrial fibrillation", "stroke", "anticoagulation", "thromboembolism", "af"),
)
def cha2ds2_vasc(x: Cha2ds2VascInput) -> Computed:
    """CHA2DS2-VASc stroke risk score in atrial fibrillation (0-9 points)."""
    t = Tally("CHA2DS2-VASc")
    # Lip 2010 Table: C 1, H 1, A2 (age >= 75) 2, D 1, S2 (stroke/TIA/thromboembolism) 2, V 1, A (65-74) 1,
    # Sc (female) 1.
    t.add("congestive heart failure", x.congestive_heart_failure, 1 if x.congestive_heart_failure else 0)
    t.add("hypertension", x.hypertension, 1 if x.hypertension else 0)
    age_pts = 2 if x.age >= 75 else 1 if x.age >= 65 else 0
    t.add("age", f"{fmt(x.age)} years", age_pts, "<65: 0, 65-74: 1, >=75: 2")
    t.add("diabetes mellitus", x.diabetes, 1 if x.diabetes else 0)
    prior = [n for n, v in (("stroke", x.stroke), ("TIA", x.transient_ischemic_attack),
                            ("thromboembolism", x.thromboembolism)) if v]
    t.add("prior stroke / TIA / thromboembolism", ", ".join(prior) if prior else "none", 2 if prior else 0)
    t.add("vascular disease (MI, PAD, aortic plaque)", x.vascular_disease, 1 if x.vascular_disease else 0)
    t.add("sex category", x.sex, 1 if x.sex == "female" else 0, "female: 1")
    score = t.value
    # Lip 2010 risk categories: 0 low, 1 intermediate, >= 2 high.
    band = "low risk" if score == 0 else "intermediate risk" if score == 1 else "high risk"
    return Computed(score, "points", f"{band} of stroke/thromboembolism", t.finish())


# ---------------------------------------------------------------------------------------------------------
# HAS-BLED -- Pisters R, Lane DA, Nieuwlaat R, de Vos CB, Crijns HJ, Lip GY. A novel user-friendly score
# (HAS-BLED) to assess 1-year risk of major bleeding in patients with atrial fibrillation: the Euro Heart
# Survey. Chest 2010;138:1093-100. doi:10.1378/chest.10-0134 (PMID 20299623).

HAS_BLED_REF = ("Pisters R, Lane DA, Nieuwlaat R, et al. A novel user-friendly score (HAS-BLED) to assess 1-year "
                "risk of major bleeding in patients with atrial fibrillation: the Euro Heart Survey. "
                "Chest 2010;138:1093-100. doi:10.1378/chest.10-0134 PMID:20299623")


DrinksPerWeek = count(0, 500, "drinks per week")


class HasBledInput(CalculatorInput):
    """Inputs of HAS-BLED (Pisters 2010)."""

    age: Age = param("age in years (elderly: > 65)")
    uncontrolled_hypertension: Finding = param(
        "hypertension, uncontrolled (systolic > 160 mmHg)", aliases=("hypertension history", "hypertension"))
    renal_disease: Finding = param(
        "abnormal renal function: chronic dialysis, renal transplant or creatinine >= 200 µmol/L (2.26 mg/dL)",
        aliases=("renal disease criteria for the has-bled rule", "abnormal renal function"))
    liver_disease: Finding = param(
        "abnormal liver function: cirrhosis, or bilirubin > 2x ULN with AST/ALT/ALP > 3x ULN",
        aliases=("liver disease criteria for the has-bled rule", "abnormal liver function"))
    stroke: Finding = param("prior stroke", aliases=("stroke history",))
    prior_major_bleeding: Finding = param("prior major bleeding or predisposition to bleeding",
                                          aliases=("prior major bleeding or predisposition to bleeding",
                                                   "bleeding history"))
    labile_inr: Finding = param("labile INR (unstable/high INRs, time in therapeutic range < 60%)",
                                aliases=("labile international normalized ratio",))
    bleeding_predisposing_drugs: Finding = param(
        "concomitant antiplatelet agents or NSAIDs", aliases=("medication usage predisposing to bleeding",))
    alcohol_drinks_per_week: DrinksPerWeek = param(
        "alcoholic drinks per week (>= 8 counts)", aliases=("number of alcoholic drinks per week",), normal=0)


@calculator(
    id="has_bled", name="HAS-BLED Score for Major Bleeding Risk", category="risk", unit="points",
    output="integer", reference=HAS_BLED_REF,
    synonyms=("has-bled", "hasbled", "has bled bleeding score"),
    keywords=("bleeding", "anticoagulation", "atrial fibrillation", "warfarin", "hemorrhage"),
)
def has_bled(x: HasBledInput) -> Computed:
    """HAS-BLED 1-year major bleeding risk on anticoagulation (0-9 points)."""
    t = Tally("HAS-BLED")
    # Pisters 2010 Table 1: H, A (renal, liver: 1 each), S, B, L, E (age > 65), D (drugs, alcohol: 1 each).
    t.add("hypertension (uncontrolled, SBP > 160)", x.uncontrolled_hypertension, int(x.uncontrolled_hypertension))
    t.add("abnormal renal function", x.renal_disease, int(x.renal_disease))
    t.add("abnormal liver function", x.liver_disease, int(x.liver_disease))
    t.add("stroke", x.stroke, int(x.stroke))
    t.add("bleeding history or predisposition", x.prior_major_bleeding, int(x.prior_major_bleeding))
    t.add("labile INR", x.labile_inr, int(x.labile_inr))
    t.add("elderly (age > 65)", f"{fmt(x.age)} years", 1 if x.age > 65 else 0)
    t.add("drugs (antiplatelets/NSAIDs)", x.bleeding_predisposing_drugs, int(x.bleeding_predisposing_drugs))
    t.add("alcohol (>= 8 drinks/week)", f"{x.alcohol_drinks_per_week} drinks/week",
          1 if x.alcohol_drinks_per_week >= 8 else 0)
    score = t.value
    # Pisters 2010: a score >= 3 indicates high risk, calling for caution and regular review.
    interp = "high bleeding risk (>= 3): caution and regular review" if score >= 3 else \
        "moderate bleeding risk" if score >= 1 else "low bleeding risk"
    return Computed(score, "points", interp, t.finish())


# ---------------------------------------------------------------------------------------------------------
# HEART -- Six AJ, Backus BE, Kelder JC. Chest pain in the emergency room: value of the HEART score.
# Neth Heart J 2008;16:191-6. doi:10.1007/BF03086144 (PMID 18665203).

HEART_REF = ("Six AJ, Backus BE, Kelder JC. Chest pain in the emergency room: value of the HEART score. "
             "Neth Heart J 2008;16:191-6. doi:10.1007/BF03086144 PMID:18665203")

_HISTORY = {"slightly suspicious": ("slightly", "low suspicion", "nonspecific", "slightly suspicious history"),
            "moderately suspicious": ("moderately", "moderate suspicion"),
            "highly suspicious": ("highly", "high suspicion", "very suspicious")}
_ECG = {"normal": ("normal ecg", "normal ekg"),
        "non-specific repolarization disturbance": (
            "nonspecific repolarization disturbance", "non specific repolarization disturbance",
            "repolarization disturbance", "lbbb", "lvh", "paced rhythm", "nonspecific st-t changes"),
        "significant st deviation": ("significant st depression", "st deviation", "st depression",
                                     "st elevation", "significant st-deviation")}
_TROPONIN = {"<= normal limit": ("less than or equal to normal limit", "normal", "negative", "<=1x normal limit"),
             "1-3x normal limit": ("between the normal limit or up to three times the normal limit",
                                   "between normal limit and three times normal limit", "1-3 times normal limit",
                                   "1 to 3 times normal limit", "up to three times normal limit"),
             "> 3x normal limit": ("greater than three times normal limit", ">3x normal limit",
                                   "more than three times normal limit", "> 3 times normal limit")}


HistorySuspicion = choice(_HISTORY)
EcgFinding = choice(_ECG)
TroponinLevel = choice(_TROPONIN)


class HeartInput(CalculatorInput):
    """Inputs of the HEART score (Six 2008)."""

    history_suspicion: HistorySuspicion = param(
        "anamnesis: how suspicious the history is for ACS", aliases=("suspicion history", "history"),
        normal="slightly suspicious")
    ecg: EcgFinding = param(
        "ECG: normal, non-specific repolarisation disturbance (LBBB, LVH, pacing, digoxin), significant ST "
        "deviation", aliases=("electrocardiogram test", "electrocardiogram", "ekg"), normal="normal")
    age: Age = param("age in years")
    hypertension: Finding = param("hypertension", aliases=("hypertension history", "htn"))
    hypercholesterolemia: Finding = param("hypercholesterolaemia", aliases=("hyperlipidemia", "dyslipidemia"))
    diabetes: Finding = param("diabetes mellitus", aliases=("diabetes mellitus", "diabetes mellitus criteria for cci rule",
                                                             "diabetes history"))
    obesity: Finding = param("obesity (BMI > 30 kg/m²)")
    smoking: Finding = param("current smoker or stopped < 3 months ago", aliases=("smoker", "current smoker"))
    family_history_cvd: Finding = param(
        "parent or sibling with cardiovascular disease before age 65",
        aliases=("parent or sibling with cardiovascular disease before age 65", "family history"))
    atherosclerotic_disease: Finding = param(
        "known atherosclerotic disease: prior MI, PCI/CABG, stroke/TIA or peripheral arterial disease")
    transient_ischemic_attack: Finding = param(
        "prior TIA (counts as atherosclerotic disease)", aliases=("transient ischemic attacks history", "tia"))
    troponin: TroponinLevel = param(
        "initial troponin as a multiple of the assay's upper reference limit (99th-percentile URL; e.g. hs-cTnI "
        "26 ng/L, hs-cTnT 14 ng/L, assay-specific): <= 1x, 1-3x, > 3x", aliases=("initial troponin",),
        normal="<= normal limit")


@calculator(
    id="heart_score", name="HEART Score for Major Cardiac Events", category="risk", unit="points",
    output="integer", reference=HEART_REF,
    synonyms=("heart score", "heart pathway", "history ecg age risk factors troponin"),
    keywords=("chest pain", "acute coronary syndrome", "mace", "emergency department", "troponin"),
)
def heart_score(x: HeartInput) -> Computed:
    """HEART score for 6-week major adverse cardiac events in ED chest pain (0-10 points)."""
    t = Tally("HEART")
    # Six 2008 Figure 1: History, ECG, Age, Risk factors, Troponin, each 0-2 points.
    t.add("History", x.history_suspicion, {"slightly suspicious": 0, "moderately suspicious": 1,
                                           "highly suspicious": 2}[x.history_suspicion])
    t.add("ECG", x.ecg, {"normal": 0, "non-specific repolarization disturbance": 1,
                         "significant st deviation": 2}[x.ecg])
    t.add("Age", f"{fmt(x.age)} years", 2 if x.age >= 65 else 1 if x.age >= 45 else 0, "<45: 0, 45-64: 1, >=65: 2")
    factors = [n for n, v in (("hypertension", x.hypertension), ("hypercholesterolaemia", x.hypercholesterolemia),
                              ("diabetes", x.diabetes), ("obesity", x.obesity), ("smoking", x.smoking),
                              ("family history", x.family_history_cvd)) if v]
    athero = x.atherosclerotic_disease or x.transient_ischemic_attack
    rf_pts = 2 if (len(factors) >= 3 or athero) else 1 if factors else 0
    shown = (", ".join(factors) or "none") + ("; known atherosclerotic disease" if athero else "")
    t.add("Risk factors", shown, rf_pts, "none: 0, 1-2: 1, >=3 or atherosclerotic disease: 2")
    t.add("Troponin", x.troponin, {"<= normal limit": 0, "1-3x normal limit": 1, "> 3x normal limit": 2}[x.troponin])
    score = t.value
    # Six 2008: 0-3 low risk (MACE 2.5%), 4-6 intermediate (20.3%), 7-10 high (72.7%).
    interp = "low risk (0-3)" if score <= 3 else "intermediate risk (4-6)" if score <= 6 else "high risk (7-10)"
    return Computed(score, "points", interp, t.finish())


# ---------------------------------------------------------------------------------------------------------
# RCRI -- Lee TH, Marcantonio ER, Mangione CM, et al. Derivation and prospective validation of a simple index
# for prediction of cardiac risk of major noncardiac surgery. Circulation 1999;100:1043-9.
# doi:10.1161/01.cir.100.10.1043 (PMID 10477528).

RCRI_REF = ("Lee TH, Marcantonio ER, Mangione CM, et al. Derivation and prospective validation of a simple index "
            "for prediction of cardiac risk of major noncardiac surgery. Circulation 1999;100:1043-9. "
            "doi:10.1161/01.cir.100.10.1043 PMID:10477528")


class RcriInput(CalculatorInput):
    """Inputs of the Revised Cardiac Risk Index (Lee 1999)."""

    high_risk_surgery: Finding = param("high-risk surgery: intraperitoneal, intrathoracic or suprainguinal vascular",
                                       aliases=("elevated-risk surgery", "elevated risk surgery"))
    ischemic_heart_disease: Finding = param(
        "ischaemic heart disease: MI, positive exercise test, ischaemic chest pain, nitrate use, pathological Q waves",
        aliases=("history of ischemic heart disease",))
    congestive_heart_failure: Finding = param(
        "history of congestive heart failure", aliases=(
            "congestive heart failure criteria for the cardiac risk index rule", "congestive heart faliure", "chf"))
    cerebrovascular_disease: Finding = param(
        "history of cerebrovascular disease (stroke or TIA)",
        aliases=("history of cerebrovascular disease", "cerebrovascular disease history"))
    insulin_treatment: Finding = param("preoperative treatment with insulin",
                                       aliases=("pre-operative treatment with insulin",))
    creatinine: Creatinine = param("preoperative serum creatinine (> 2.0 mg/dL counts)",
                                   aliases=("pre-operative creatinine", "preoperative creatinine"))


@calculator(
    id="rcri", name="Revised Cardiac Risk Index for Pre-Operative Risk", category="risk", unit="points",
    output="integer", reference=RCRI_REF,
    synonyms=("revised cardiac risk index", "lee index", "lee criteria", "rcri"),
    keywords=("preoperative", "surgery", "perioperative", "cardiac complications", "noncardiac surgery"),
)
def rcri(x: RcriInput) -> Computed:
    """Revised Cardiac Risk Index: six equally weighted predictors of major cardiac complications (0-6)."""
    t = Tally("RCRI")
    t.add("high-risk surgery", x.high_risk_surgery, int(x.high_risk_surgery))
    t.add("ischaemic heart disease", x.ischemic_heart_disease, int(x.ischemic_heart_disease))
    t.add("congestive heart failure", x.congestive_heart_failure, int(x.congestive_heart_failure))
    t.add("cerebrovascular disease", x.cerebrovascular_disease, int(x.cerebrovascular_disease))
    t.add("insulin treatment", x.insulin_treatment, int(x.insulin_treatment))
    # Lee 1999: preoperative serum creatinine > 2.0 mg/dL.
    t.add("creatinine > 2.0 mg/dL", f"{x.creatinine:.2f} mg/dL", 1 if x.creatinine > 2.0 else 0)
    score = t.value
    # Lee 1999 validation cohort, major cardiac complication rates: class I 0.4%, II 0.9%, III 6.6%, IV 11%.
    interp = {0: "class I (0.4% major cardiac complications)", 1: "class II (0.9%)", 2: "class III (6.6%)"}.get(
        int(score), "class IV (11%)")
    return Computed(score, "points", interp, t.finish())


# ---------------------------------------------------------------------------------------------------------
# Framingham hard CHD (10-year risk of MI or coronary death), the ATP III version.
# Expert Panel on Detection, Evaluation, and Treatment of High Blood Cholesterol in Adults. Executive summary
# of the Third Report of the NCEP (ATP III). JAMA 2001;285:2486-97. doi:10.1001/jama.285.19.2486
# (PMID 11368702). The continuous Cox equation below (coefficients, baseline survival 0.9402 men / 0.98767
# women, smoking-term age capped at 70 / 78) is the one behind the NHLBI ATP III 10-year risk calculator
# [coefficients: reference unverified -- not printed in the ATP III report, which gives the point tables].

FRAMINGHAM_REF = ("NCEP Expert Panel. Executive Summary of the Third Report of the National Cholesterol Education "
                  "Program (ATP III). JAMA 2001;285:2486-97. doi:10.1001/jama.285.19.2486 PMID:11368702 "
                  "(continuous Cox coefficients of the NHLBI ATP III calculator [reference unverified])")

_FRAMINGHAM = {
    "male": {"ln_age": 52.00961, "ln_tc": 20.014077, "ln_hdl": -0.905964, "ln_sbp": 1.305784, "bp_treated": 0.241549,
             "smoker": 12.096316, "ln_age_ln_tc": -4.605038, "ln_age_smoker": -2.84367, "ln_age_sq": -2.93323,
             "constant": -172.300168, "s0": 0.9402, "smoke_age_cap": 70.0},
    "female": {"ln_age": 31.764001, "ln_tc": 22.465206, "ln_hdl": -1.187731, "ln_sbp": 2.552905,
               "bp_treated": 0.420251, "smoker": 13.07543, "ln_age_ln_tc": -5.060998, "ln_age_smoker": -2.996945,
               "ln_age_sq": 0.0, "constant": -146.5933061, "s0": 0.98767, "smoke_age_cap": 78.0},
}


class FraminghamInput(CalculatorInput):
    """Inputs of the Framingham hard-CHD 10-year risk (ATP III)."""

    age: Age = param("age in years (the model was built for 30-79)")
    sex: Sex = param("sex")
    total_cholesterol: TotalCholesterol = param("total cholesterol")
    hdl_cholesterol: HDLCholesterol = param("HDL cholesterol")
    systolic_bp: SystolicBP = param("systolic blood pressure")
    blood_pressure_treated: Finding = param(
        "on antihypertensive treatment", aliases=("blood pressure being treated with medicines",
                                                  "treated hypertension", "antihypertensive medication"))
    smoker: Finding = param("current smoker", aliases=("smoking", "current smoker", "smoker"))


@calculator(
    id="framingham_hard_chd", name="Framingham Risk Score for Hard Coronary Heart Disease", category="lab",
    unit="%", output="decimal", reference=FRAMINGHAM_REF,
    synonyms=("framingham risk score", "framingham hard chd", "atp iii risk score", "10-year chd risk"),
    keywords=("coronary heart disease", "myocardial infarction", "cholesterol", "primary prevention", "statin"),
)
def framingham_hard_chd(x: FraminghamInput) -> Computed:
    """10-year risk (%) of myocardial infarction or coronary death, Framingham/ATP III (no diabetes term)."""
    b = _FRAMINGHAM[x.sex]
    if x.age < 1:  # ln(age) is undefined at 0 and meaningless for infants
        raise InputError("age", f"{fmt(x.age)} years is too young for the Framingham model",
                         "the model was derived for adults aged 30-79")
    ln_age = math.log(x.age)
    ln_tc = math.log(x.total_cholesterol)
    ln_hdl = math.log(x.hdl_cholesterol)
    ln_sbp = math.log(x.systolic_bp)
    smoke = 1.0 if x.smoker else 0.0
    treated = 1.0 if x.blood_pressure_treated else 0.0
    ln_age_smoke = math.log(min(x.age, b["smoke_age_cap"]))
    terms = [
        ("ln(age)", b["ln_age"] * ln_age),
        ("ln(total cholesterol)", b["ln_tc"] * ln_tc),
        ("ln(HDL)", b["ln_hdl"] * ln_hdl),
        ("ln(SBP)", b["ln_sbp"] * ln_sbp),
        ("BP treated", b["bp_treated"] * treated),
        ("smoker", b["smoker"] * smoke),
        ("ln(age)·ln(TC)", b["ln_age_ln_tc"] * ln_age * ln_tc),
        ("ln(age, capped)·smoker", b["ln_age_smoker"] * ln_age_smoke * smoke),
        ("ln(age)²", b["ln_age_sq"] * ln_age * ln_age),
        ("constant", b["constant"]),
    ]
    lin = sum(v for _, v in terms)
    risk = (1.0 - b["s0"] ** math.exp(min(lin, 700.0))) * 100.0  # exp overflows past ~709; the risk is 100 % by then
    steps = [f"{x.sex}: age {fmt(x.age)} y, TC {x.total_cholesterol:.0f} mg/dL, HDL {x.hdl_cholesterol:.0f} mg/dL, "
             f"SBP {x.systolic_bp:.0f} mmHg, BP treated {int(treated)}, smoker {int(smoke)}",
             "linear predictor L = " + " + ".join(f"{n} {v:.3f}" for n, v in terms).replace("+ -", "- ")
             + f" = {lin:.4f}",
             f"10-year risk = 1 - {b['s0']}^exp(L) = {risk:.2f}%"]
    warnings = []
    if not 30 <= x.age <= 79:
        warnings.append(f"age {fmt(x.age)} is outside the 30-79 years the model was derived for")
    # ATP III risk categories: < 10% lower, 10-20% intermediate, > 20% high (CHD risk equivalent).
    interp = "low (< 10%)" if risk < 10 else "intermediate (10-20%)" if risk <= 20 else "high (> 20%)"
    return Computed(risk, "%", interp, steps, warnings=warnings)
