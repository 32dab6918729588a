"""Clinical scores against hand-worked invented patients, missing-input errors, assume_normal, monotonicity, bounds."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wardround.errors import InputError
from wardround.tools.calculators import calculate, find_calculator, get_calculator

SCORE_IDS = ("apache_ii", "cha2ds2_vasc", "curb_65", "caprini_vte_2005", "centor_mcisaac", "charlson_comorbidity_index",
             "child_pugh", "feverpain", "framingham_hard_chd", "glasgow_coma_scale", "glasgow_blatchford", "has_bled",
             "heart_score", "perc_rule", "psi_port", "rcri", "sirs_criteria", "sofa", "wells_dvt", "wells_pe",
             "ich_score")


def value(calc_id: str, inputs: dict, **kw: object) -> float:
    return calculate(calc_id, inputs, **kw).value  # type: ignore[arg-type,return-value]


# ---------------------------------------------------------------------------------------------------------
# Registration and lookup


@pytest.mark.parametrize("calc_id", SCORE_IDS)
def test_registered_with_reference_and_found_by_name(calc_id: str) -> None:
    c = get_calculator(calc_id)
    assert ("PMID" in c.reference or "doi:" in c.reference)
    assert find_calculator(c.name, 1)[0].id == calc_id
    assert c.category in {"risk", "severity", "diagnosis", "lab"}


# ---------------------------------------------------------------------------------------------------------
# Known values (invented patients, computed by hand from the primary references)


def test_cha2ds2_vasc_known_value() -> None:
    # 78 y woman, hypertension, diabetes, prior TIA: age 2 + sex 1 + HTN 1 + DM 1 + TIA 2 = 7
    r = calculate("cha2ds2_vasc", {"age": 78, "sex": "female", "hypertension": True, "diabetes": True,
                                   "transient_ischemic_attack": True}, assume_normal=True)
    assert r.value == 7 and r.unit == "points" and "high" in r.interpretation
    assert any("TIA" in s and "+2" in s for s in r.explanation)
    # MedCalc-Bench names map onto the same fields
    assert value("cha2ds2_vasc", {"age": [66, "years"], "sex": "Male", "Congestive Heart Faliure": True,
                                  "Stroke": True}, assume_normal=True) == 1 + 1 + 2


def test_has_bled_known_value() -> None:
    # 70 y (1), uncontrolled HTN (1), stroke (1), 10 drinks/week (1), aspirin (1) = 5
    r = calculate("has_bled", {"age": 70, "uncontrolled_hypertension": True, "stroke": True,
                               "alcohol_drinks_per_week": 10, "bleeding_predisposing_drugs": True},
                  assume_normal=True)
    assert r.value == 5 and r.interpretation.startswith("high")
    assert value("has_bled", {"age": 65, "alcohol_drinks_per_week": 7}, assume_normal=True) == 0


def test_heart_score_known_value() -> None:
    base = {"age": 50, "history_suspicion": "moderately suspicious", "ecg": "Non-specific repolarization disturbance",
            "hypertension": True, "smoking": True, "troponin": "between normal limit and three times normal limit"}
    # history 1 + ECG 1 + age 1 + 2 risk factors 1 + troponin 1 = 5
    assert value("heart_score", base, assume_normal=True) == 5
    # prior TIA = known atherosclerotic disease -> risk factors 2
    assert value("heart_score", {**base, "Transient Ischemic Attacks History": True}, assume_normal=True) == 6


def test_rcri_known_value_with_si_creatinine() -> None:
    # intraperitoneal surgery 1 + ischaemic heart disease 1 + creatinine 212 µmol/L (2.40 mg/dL > 2.0) 1 = 3
    r = calculate("rcri", {"high_risk_surgery": True, "ischemic_heart_disease": True,
                           "creatinine": "212 µmol/L"}, assume_normal=True)
    assert r.value == 3 and r.inputs["creatinine"] == pytest.approx(2.398, abs=1e-3)
    assert "IV" in r.interpretation


def test_framingham_known_value() -> None:
    # ATP III worked case: man 55 y, TC 213, HDL 50, SBP 120 untreated, non-smoker: 11 points = 8% by the
    # point table; the continuous equation must agree within the table's coarseness and equal the Cox form.
    inputs = {"age": 55, "sex": "male", "total_cholesterol": 213, "hdl_cholesterol": 50, "systolic_bp": 120,
              "blood_pressure_treated": False, "smoker": False}
    risk = value("framingham_hard_chd", inputs)
    la, lt = math.log(55), math.log(213)
    lin = (52.00961 * la + 20.014077 * lt - 0.905964 * math.log(50) + 1.305784 * math.log(120)
           - 4.605038 * la * lt - 2.93323 * la * la - 172.300168)
    assert risk == pytest.approx((1 - 0.9402 ** math.exp(lin)) * 100, rel=1e-9)
    assert 5 < risk < 11
    # mmol/L input gives the same result (213 mg/dL = 5.509 mmol/L)
    si = {**inputs, "total_cholesterol": [213 / 38.665, "mmol/L"], "hdl_cholesterol": [50 / 38.665, "mmol/L"]}
    assert value("framingham_hard_chd", si) == pytest.approx(risk, rel=1e-6)
    # women: smoking term with age capped at 78
    f = {**inputs, "sex": "female", "smoker": True, "age": 79}
    assert 0 < value("framingham_hard_chd", f) < 100


def test_wells_pe_known_value() -> None:
    # HR 110 (1.5) + haemoptysis (1) + previous DVT (1.5) = 4.0 -> moderate, PE unlikely (<= 4)
    r = calculate("wells_pe", {"Heart Rate or Pulse": [110, "beats per minute"], "Hemoptysis": True,
                               "Previously documented Deep Vein Thrombosis": True}, assume_normal=True)
    assert r.value == 4.0 and "moderate" in r.interpretation and "unlikely" in r.interpretation
    # previous PE and DVT together count once; HR exactly 100 does not count
    assert value("wells_pe", {"heart_rate": 100, "previous_pe": True, "previous_dvt": True},
                 assume_normal=True) == 1.5


def test_wells_dvt_known_value() -> None:
    # active cancer 1 + entire leg swollen 1 + calf swelling 1 - alternative diagnosis 2 = 1
    r = calculate("wells_dvt", {"active_cancer": True, "entire_leg_swollen": True, "calf_swelling": True,
                                "alternative_diagnosis_likely": True}, assume_normal=True)
    assert r.value == 1 and "unlikely" in r.interpretation
    # bedridden and major surgery are one item
    assert value("wells_dvt", {"bedridden_recently": True, "major_surgery_recent": True},
                 assume_normal=True) == 1


def test_perc_known_value() -> None:
    assert value("perc_rule", {"age": 55, "heart_rate": 105, "spo2": 93}, assume_normal=True) == 3
    r = calculate("perc_rule", {"age": 30, "heart_rate": 80, "spo2": "98 %"}, assume_normal=True)
    assert r.value == 0 and r.interpretation.startswith("PERC negative")


def test_caprini_known_value() -> None:
    # 65 y woman (2), major surgery (2), BMI 31 (1), oral contraceptive (1), prior DVT and PE (one item, 3),
    # confined to bed > 72 h (2) = 11
    r = calculate("caprini_vte_2005", {"age": 65, "sex": "female", "surgery_type": "major", "bmi": 31,
                                       "oral_contraceptives_or_hrt": True, "previous_dvt": True, "previous_pe": True,
                                       "mobility": "confined to bed >72 hours"}, assume_normal=True)
    assert r.value == 11 and "highest" in r.interpretation
    with pytest.raises(InputError, match="sex"):
        calculate("caprini_vte_2005", {"age": 30, "sex": "male", "bmi": 22, "pregnancy_or_postpartum": True},
                  assume_normal=True)


def test_curb_65_known_value_and_urea_units() -> None:
    # 70 y (1), BUN 25 mg/dL = urea 8.9 mmol/L (1), RR 32 (1), BP 100/55 (1), no confusion = 4
    e = {"age": 70, "bun": "25 mg/dL", "respiratory_rate": 32, "systolic_bp": 100, "diastolic_bp": 55,
         "confusion": False}
    r = calculate("curb_65", e)
    assert r.value == 4 and "high" in r.interpretation
    # urea exactly 7 mmol/L is not > 7
    assert value("curb_65", {**e, "bun": [7.0, "mmol/L"]}) == 3
    assert value("curb_65", {**e, "bun": [7.2, "mmol/L"]}) == 4


def test_psi_known_values() -> None:
    # 60 y man 60 + CHF 10 + RR 32 20 + BUN 35 20 + pleural effusion 10 = 120 -> class IV
    r = calculate("psi_port", {"age": 60, "sex": "male", "congestive_heart_failure": True, "respiratory_rate": 32,
                               "bun": 35, "pleural_effusion": True}, assume_normal=True)
    assert r.value == 120 and r.interpretation.startswith("class IV")
    # 45 y woman without risk factors: step 1 -> class I
    r = calculate("psi_port", {"age": 45, "sex": "female"}, assume_normal=True)
    assert r.value == 35 and r.interpretation.startswith("class I ")
    # temperature bounds: < 35 or >= 40 °C; glucose in mmol/L (14 mmol/L = 252 mg/dL)
    assert value("psi_port", {"age": 70, "sex": "male", "temperature": "104 F", "glucose": "14 mmol/L"},
                 assume_normal=True) == 70 + 15 + 10


def test_centor_known_values() -> None:
    # 10 y (1), 38.5 °C (1), no cough (1), exudate (1) = 4
    assert value("centor_mcisaac", {"age": 10, "temperature": 38.5, "cough_absent": True,
                                    "tonsillar_exudate_or_swelling": True}, assume_normal=True) == 4
    # 50 y (-1), 37 °C, cough present, nothing else = -1
    assert value("centor_mcisaac", {"age": 50, "temperature": "98.6 F", "cough_absent": False},
                 assume_normal=True) == -1
    # 38.0 °C is not > 38
    assert value("centor_mcisaac", {"age": 20, "temperature": 38.0, "cough_absent": False},
                 assume_normal=True) == 0


def test_feverpain_known_value() -> None:
    allin = {"fever_past_24h": True, "purulence": True, "attend_rapidly": True, "inflamed_tonsils": True,
             "no_cough_or_coryza": True}
    assert value("feverpain", allin) == 5
    assert value("feverpain", {**allin, "purulence": False, "no_cough_or_coryza": False}) == 3


def test_unmentioned_cough_conventions_of_centor_and_feverpain() -> None:
    """assume_normal: an unreported cough counts as absent for Centor (+1) but FeverPAIN's item scores 0."""
    centor = calculate("centor_mcisaac", {"age": 20, "temperature": 37.0}, assume_normal=True)
    assert centor.value == 1 and "cough_absent" in centor.assumed
    fever = calculate("feverpain", {"fever_past_24h": True}, assume_normal=True)
    assert fever.value == 1 and "no_cough_or_coryza" in fever.assumed


def test_sirs_known_values() -> None:
    # T 38.5 (1), HR 95 (1), RR 18 but PaCO2 30 (1), WBC 3.5 (1) = 4
    assert value("sirs_criteria", {"temperature": 38.5, "heart_rate": 95, "respiratory_rate": 18, "paco2": 30,
                                   "wbc": 3.5}) == 4
    # WBC 8 with 12% bands counts; WBC given per µL
    assert value("sirs_criteria", {"temperature": 37, "heart_rate": 80, "respiratory_rate": 16,
                                   "wbc": [8000, "µL"], "bands_percent": 12}) == 1
    assert value("sirs_criteria", {"temperature": 37, "heart_rate": 80, "respiratory_rate": 16, "wbc": 8}) == 0


def test_gcs_known_values_and_not_testable() -> None:
    r = calculate("glasgow_coma_scale", {"Best eye response": "eye opening to pain",
                                         "Best verbal response": "confused", "Best motor response": "localizes pain"})
    assert r.value == 2 + 4 + 5 and "moderate" in r.interpretation
    r = calculate("glasgow_coma_scale", {"eye_response": "spontaneous", "verbal_response": "not testable",
                                         "motor_response": "obeys commands"})
    assert r.value == 4 + 1 + 6 and r.warnings and "VNT" in r.warnings[0]
    assert value("glasgow_coma_scale", {"eye_response": "none", "verbal_response": "none",
                                        "motor_response": "flexion to pain"}) == 1 + 1 + 3


def test_ich_score_known_value() -> None:
    # GCS 10 (1) + volume 35 mL (1) + IVH (1) + age 82 (1) = 4 -> 97% 30-day mortality
    r = calculate("ich_score", {"gcs": 10, "age": 82, "hematoma_volume": "35 cm3", "intraventricular_hemorrhage": True,
                                "infratentorial_origin": False})
    assert r.value == 4 and "97%" in r.interpretation
    # the volume of a segmentation result (``volume_ml``) feeds the score directly
    assert value("ich_score", {"gcs": 14, "age": 60, "volume_ml": 42.0, "intraventricular_hemorrhage": False,
                               "infratentorial_origin": False}) == 1
    assert value("ich_score", {"gcs": 4, "age": 50, "hematoma_volume": 29.9, "intraventricular_hemorrhage": False,
                               "infratentorial_origin": True}) == 2 + 1


def test_child_pugh_known_value_with_si_bilirubin() -> None:
    # bilirubin 42.8 µmol/L = 2.50 mg/dL (2), albumin 30 g/L (2), INR 1.5 (1), slight ascites (2), none (1) = 8 (B)
    r = calculate("child_pugh", {"total_bilirubin": "42.8 µmol/L", "albumin": "30 g/L", "inr": 1.5,
                                 "ascites": "slight", "encephalopathy": "No Encephalopathy"})
    assert r.value == 8 and "class B" in r.interpretation
    assert value("child_pugh", {"total_bilirubin": 3.5, "albumin": 2.5, "inr": 2.5, "ascites": "moderate",
                                "encephalopathy": "Grade 3-4"}) == 15


def test_glasgow_blatchford_known_values() -> None:
    # man: urea 12 mmol/L (4), Hb 11 (3), SBP 95 (2), HR 105 (1), melaena (1) = 11
    base = {"bun": [12, "mmol/L"], "hemoglobin": 11, "sex": "male", "systolic_bp": 95, "heart_rate": 105,
            "melena": True}
    assert value("glasgow_blatchford", base, assume_normal=True) == 11
    # the same haemoglobin in a woman scores 1 instead of 3
    assert value("glasgow_blatchford", {**base, "sex": "female"}, assume_normal=True) == 9
    # BUN 18 mg/dL = urea 6.43 mmol/L (< 6.5: 0); a man with Hb 13.0 scores 0
    assert value("glasgow_blatchford", {"bun": 18, "hemoglobin": 13.0, "sex": "male", "systolic_bp": 130,
                                        "heart_rate": 80}, assume_normal=True) == 0


def test_apache_ii_known_value() -> None:
    # APS: temp 39.5 (3) + MAP (80+2*50)/3 = 60 (2) + HR 120 (2) + RR 30 (1) + PaO2 58 at FiO2 40% (3)
    # + pH 7.30 (2) + Na 150 (1) + K 3.2 (1) + creatinine 2.5 with ARF (3 x 2) + Hct 28 (2) + WBC 22 (2)
    # + GCS 12 (3) = 28; age 70 (5); chronic health, nonoperative (5) -> 38
    e = {"age": 70, "temperature": 39.5, "systolic_bp": 80, "diastolic_bp": 50, "heart_rate": 120,
         "respiratory_rate": 30, "fio2": 40, "pao2": 58, "ph": 7.30, "sodium": 150, "potassium": 3.2,
         "creatinine": 2.5, "acute_renal_failure": True, "hematocrit": 28, "wbc": 22, "gcs": 12,
         "chronic_health": True, "admission_type": "nonoperative"}
    r = calculate("apache_ii", e)
    assert r.value == 38 and "acute physiology score 28" in r.interpretation
    assert value("apache_ii", {**e, "admission_type": "elective postoperative"}) == 35
    # FiO2 >= 50%: A-a gradient computed from PaO2/PaCO2: 0.6 x 713 - 40/0.8 - 60 = 317.8 -> 2 (not 3 for PaO2)
    assert value("apache_ii", {**e, "fio2": 60, "pao2": 60, "paco2": 40}) == 38 - 3 + 2
    assert value("apache_ii", {**e, "fio2": "60%", "a_a_gradient": 520}) == 38 - 3 + 4
    with pytest.raises(InputError, match="a_a_gradient"):
        calculate("apache_ii", {**e, "fio2": 60})


def test_sofa_known_values() -> None:
    # P/F 80/0.5 = 160 ventilated (3), platelets 45 (3), bilirubin 3 (2), norepinephrine 0.2 (4), GCS 9 (3),
    # creatinine 1.5 (1) but urine 400 mL/day (3) -> renal 3; total 18
    e = {"pao2": 80, "fio2": 50, "mechanical_ventilation": True, "platelets": [45000, "µL"], "total_bilirubin": 3,
         "norepinephrine": "0.2 mcg/kg/min", "gcs": 9, "creatinine": 1.5, "urine_output": "400 mL/day"}
    assert value("sofa", e, assume_normal=True) == 18
    # without respiratory support a ratio < 200 scores only 2
    assert value("sofa", {**e, "mechanical_ventilation": False}, assume_normal=True) == 17
    # MAP < 70 alone scores 1 in the cardiovascular system
    assert value("sofa", {**e, "norepinephrine": 0, "systolic_bp": 80, "diastolic_bp": 60},
                 assume_normal=True) == 18 - 4 + 1
    with pytest.raises(InputError, match="creatinine"):
        calculate("sofa", {k: v for k, v in e.items() if k not in ("creatinine", "urine_output")},
                  assume_normal=True)


def test_charlson_known_values() -> None:
    # 72 y (3) + MI (1) + diabetes with end-organ damage (2) + metastatic solid tumour (6) = 12
    e = {"age": 72, "myocardial_infarction": True, "diabetes_severity": "End-organ damage",
         "solid_tumor": "metastatic"}
    r = calculate("charlson_comorbidity_index", e, assume_normal=True)
    assert r.value == 12
    assert "10-year survival" in r.interpretation
    # a bare "solid tumor: True" is the localized grade (2)
    assert value("charlson_comorbidity_index", {**e, "solid_tumor": True}, assume_normal=True) == 8
    # stroke and TIA together are one item
    assert value("charlson_comorbidity_index", {"age": 40, "cerebrovascular_accident": True,
                                                "transient_ischemic_attack": True}, assume_normal=True) == 1


# ---------------------------------------------------------------------------------------------------------
# Missing inputs and assume_normal


def test_missing_inputs_name_every_field() -> None:
    with pytest.raises(InputError) as exc:
        calculate("curb_65", {"age": 70})
    for field in ("confusion", "bun", "respiratory_rate", "systolic_bp", "diastolic_bp"):
        assert field in str(exc.value)
    # assume_normal fills findings, never an unmeasured vital sign without a reference normal
    with pytest.raises(InputError) as exc:
        calculate("curb_65", {"age": 70}, assume_normal=True)
    assert "bun" in str(exc.value) and "confusion" not in exc.value.field


def test_assume_normal_lists_every_assumed_input() -> None:
    r = calculate("cha2ds2_vasc", {"age": 70, "sex": "male"}, assume_normal=True)
    expected = {"congestive_heart_failure", "hypertension", "diabetes", "stroke", "transient_ischemic_attack",
                "thromboembolism", "vascular_disease"}
    assert set(r.assumed) == expected
    assert r.explanation[0].startswith("assumed normal/absent")
    assert all(name in r.explanation[0] for name in expected)
    r = calculate("child_pugh", {"total_bilirubin": 1, "albumin": 4, "inr": 1.0}, assume_normal=True)
    assert set(r.assumed) == {"ascites", "encephalopathy"} and r.value == 5
    # the "absence of cough" items: the normal state is no cough, so the item is met
    r = calculate("centor_mcisaac", {"age": 20, "temperature": 37}, assume_normal=True)
    assert r.value == 1 and "cough_absent" in r.assumed


def test_bad_choice_and_unit_errors_name_the_field() -> None:
    with pytest.raises(InputError, match="ascites"):
        calculate("child_pugh", {"total_bilirubin": 1, "albumin": 4, "inr": 1, "ascites": "lots",
                                 "encephalopathy": "none"})
    with pytest.raises(InputError, match="bun"):
        calculate("curb_65", {"age": 70, "bun": "25 furlongs", "respiratory_rate": 20, "systolic_bp": 120,
                              "diastolic_bp": 80, "confusion": False})


# ---------------------------------------------------------------------------------------------------------
# Monotonicity in risk factors and bounds (hypothesis)

FINDING_SCORES = {
    "cha2ds2_vasc": ({"age": 60, "sex": "male"}, ["congestive_heart_failure", "hypertension", "diabetes", "stroke",
                                                  "transient_ischemic_attack", "thromboembolism", "vascular_disease"],
                     0, 9),
    "has_bled": ({"age": 60, "alcohol_drinks_per_week": 0}, [
        "uncontrolled_hypertension", "renal_disease", "liver_disease", "stroke", "prior_major_bleeding", "labile_inr",
        "bleeding_predisposing_drugs"], 0, 9),
    "wells_pe": ({"heart_rate": 80}, ["clinical_signs_dvt", "pe_most_likely_diagnosis", "immobilization",
                                      "recent_surgery", "previous_pe", "previous_dvt", "hemoptysis", "malignancy"],
                 0, 12.5),
    "wells_dvt": ({}, ["active_cancer", "paralysis_or_cast", "bedridden_recently", "major_surgery_recent",
                       "localized_tenderness", "entire_leg_swollen", "calf_swelling", "pitting_edema",
                       "collateral_veins", "previous_dvt"], -2, 9),
    "perc_rule": ({"age": 30, "heart_rate": 80, "spo2": 98}, [
        "unilateral_leg_swelling", "hemoptysis", "recent_surgery_or_trauma", "previous_pe", "previous_dvt",
        "hormone_use"], 0, 8),
    "rcri": ({"creatinine": 1.0}, ["high_risk_surgery", "ischemic_heart_disease", "congestive_heart_failure",
                                   "cerebrovascular_disease", "insulin_treatment"], 0, 6),
    "feverpain": ({"no_cough_or_coryza": False}, ["fever_past_24h", "purulence", "attend_rapidly",
                                                  "inflamed_tonsils"], 0, 5),
    "caprini_vte_2005": ({"age": 30, "sex": "female", "bmi": 22}, [
        "recent_major_surgery", "chf_recent", "sepsis_recent", "pneumonia_recent", "plaster_cast", "leg_fracture",
        "stroke_recent", "multiple_trauma", "spinal_cord_injury", "varicose_veins", "swollen_legs",
        "central_venous_access", "previous_dvt", "previous_pe", "family_history_thrombosis", "factor_v_leiden",
        "prothrombin_20210a", "elevated_homocysteine", "lupus_anticoagulant", "anticardiolipin_antibody",
        "heparin_induced_thrombocytopenia", "other_thrombophilia", "inflammatory_bowel_disease",
        "acute_myocardial_infarction", "copd", "malignancy", "oral_contraceptives_or_hrt", "pregnancy_or_postpartum",
        "adverse_pregnancy_history"], 0, 100),
    "charlson_comorbidity_index": ({"age": 40}, [
        "myocardial_infarction", "congestive_heart_failure", "peripheral_vascular_disease", "cerebrovascular_accident",
        "transient_ischemic_attack", "dementia", "copd", "connective_tissue_disease", "peptic_ulcer_disease",
        "hemiplegia", "moderate_severe_ckd", "leukemia", "lymphoma", "aids"], 0, 37),
    "glasgow_blatchford": ({"bun": 10, "hemoglobin": 15, "sex": "male", "systolic_bp": 130, "heart_rate": 70},
                           ["melena", "syncope", "hepatic_disease", "cardiac_failure"], 0, 23),
    "psi_port": ({"age": 60, "sex": "male"}, [
        "nursing_home_resident", "neoplastic_disease", "liver_disease", "congestive_heart_failure",
        "cerebrovascular_disease", "renal_disease", "altered_mental_status", "pleural_effusion"], 0, 400),
}


@settings(max_examples=60, deadline=None)
@given(data=st.data(), calc_id=st.sampled_from(sorted(FINDING_SCORES)))
def test_adding_a_risk_factor_never_lowers_the_score(data: st.DataObject, calc_id: str) -> None:
    base, findings, lo, hi = FINDING_SCORES[calc_id]
    present = data.draw(st.sets(st.sampled_from(findings)), label="present")
    extra = data.draw(st.sampled_from(findings), label="added")
    without = value(calc_id, {**base, **{f: True for f in present}}, assume_normal=True)
    with_extra = value(calc_id, {**base, **{f: True for f in present | {extra}}}, assume_normal=True)
    assert with_extra >= without
    assert lo <= without <= with_extra <= hi


@settings(max_examples=60, deadline=None)
@given(age=st.floats(18, 100), bun=st.floats(2, 150), rr=st.floats(5, 60), sbp=st.floats(60, 200),
       dbp=st.floats(30, 59.9), d_age=st.floats(0, 20), d_bun=st.floats(0, 50), d_rr=st.floats(0, 20),
       confusion=st.booleans())
def test_curb_65_monotone_and_bounded(age: float, bun: float, rr: float, sbp: float, dbp: float, d_age: float,
                                      d_bun: float, d_rr: float, confusion: bool) -> None:
    e = {"age": age, "bun": bun, "respiratory_rate": rr, "systolic_bp": sbp, "diastolic_bp": dbp,
         "confusion": confusion}
    s = value("curb_65", e)
    worse = value("curb_65", {**e, "age": min(age + d_age, 130), "bun": bun + d_bun, "respiratory_rate": rr + d_rr})
    assert 0 <= s <= worse <= 5


@settings(max_examples=60, deadline=None)
@given(gcs=st.integers(3, 15), d_gcs=st.integers(0, 12), vol=st.floats(0, 200), d_vol=st.floats(0, 100),
       age=st.floats(18, 110), ivh=st.booleans(), infra=st.booleans())
def test_ich_score_monotone_and_bounded(gcs: int, d_gcs: int, vol: float, d_vol: float, age: float, ivh: bool,
                                        infra: bool) -> None:
    e = {"gcs": gcs, "age": age, "hematoma_volume": vol, "intraventricular_hemorrhage": ivh,
         "infratentorial_origin": infra}
    s = value("ich_score", e)
    worse = value("ich_score", {**e, "gcs": max(3, gcs - d_gcs), "hematoma_volume": vol + d_vol})
    assert 0 <= s <= worse <= 6


@settings(max_examples=60, deadline=None)
@given(bili=st.floats(0.1, 30), alb=st.floats(1.0, 6.0), inr=st.floats(0.8, 6), d=st.floats(0, 5),
       asc=st.sampled_from(["absent", "slight", "moderate"]),
       enc=st.sampled_from(["none", "grade 1-2", "grade 3-4"]))
def test_child_pugh_monotone_and_bounded(bili: float, alb: float, inr: float, d: float, asc: str, enc: str) -> None:
    e = {"total_bilirubin": bili, "albumin": alb, "inr": inr, "ascites": asc, "encephalopathy": enc}
    s = value("child_pugh", e)
    worse = value("child_pugh", {**e, "total_bilirubin": min(bili + d, 80), "inr": min(inr + d, 20),
                                 "albumin": max(alb - d / 2, 0.3)})
    assert 5 <= s <= worse <= 15


@settings(max_examples=60, deadline=None)
@given(age=st.floats(30, 79), sex=st.sampled_from(["male", "female"]), tc=st.floats(100, 400),
       hdl=st.floats(20, 100), sbp=st.floats(90, 200), treated=st.booleans(), smoker=st.booleans(),
       d=st.floats(0, 40))
def test_framingham_monotone_in_sbp_cholesterol_hdl(age: float, sex: str, tc: float, hdl: float, sbp: float,
                                                    treated: bool, smoker: bool, d: float) -> None:
    e = {"age": age, "sex": sex, "total_cholesterol": tc, "hdl_cholesterol": hdl, "systolic_bp": sbp,
         "blood_pressure_treated": treated, "smoker": smoker}
    r = value("framingham_hard_chd", e)
    assert 0 <= r <= 100
    assert value("framingham_hard_chd", {**e, "systolic_bp": sbp + d}) >= r
    assert value("framingham_hard_chd", {**e, "hdl_cholesterol": hdl + d}) <= r
    assert value("framingham_hard_chd", {**e, "blood_pressure_treated": True}) >= r


_PHYS = st.fixed_dictionaries({
    "age": st.floats(16, 100), "temperature": st.floats(25, 44), "systolic_bp": st.floats(60, 250),
    "diastolic_bp": st.floats(20, 59), "heart_rate": st.floats(20, 250), "respiratory_rate": st.floats(2, 70),
    "fio2": st.floats(21, 49), "pao2": st.floats(30, 500), "ph": st.floats(6.9, 7.8), "sodium": st.floats(100, 190),
    "potassium": st.floats(1.5, 9), "creatinine": st.floats(0.2, 12), "acute_renal_failure": st.booleans(),
    "hematocrit": st.floats(10, 70), "wbc": st.floats(0.2, 80), "gcs": st.integers(3, 15),
    "chronic_health": st.booleans()})


@settings(max_examples=80, deadline=None)
@given(e=_PHYS)
def test_apache_ii_bounds(e: dict) -> None:
    assert 0 <= value("apache_ii", e, assume_normal=True) <= 71


@settings(max_examples=80, deadline=None)
@given(pao2=st.floats(30, 500), fio2=st.floats(21, 100), vent=st.booleans(), plt=st.floats(5, 900),
       bili=st.floats(0.1, 40), gcs=st.integers(3, 15), da=st.floats(0, 30), ne=st.floats(0, 2), d=st.floats(0, 1),
       creat=st.floats(0.3, 15), uo=st.floats(0, 5000))
def test_sofa_bounds_and_vasopressor_monotone(pao2: float, fio2: float, vent: bool, plt: float, bili: float,
                                              gcs: int, da: float, ne: float, d: float, creat: float,
                                              uo: float) -> None:
    e = {"pao2": pao2, "fio2": fio2, "mechanical_ventilation": vent, "platelets": plt, "total_bilirubin": bili,
         "gcs": gcs, "dopamine": da, "norepinephrine": ne, "creatinine": creat, "urine_output": uo}
    s = value("sofa", e, assume_normal=True)
    assert 0 <= s <= 24
    assert value("sofa", {**e, "norepinephrine": ne + d}, assume_normal=True) >= s


@settings(max_examples=60, deadline=None)
@given(t=st.floats(30, 43), hr=st.floats(30, 200), rr=st.floats(4, 60), wbc=st.floats(0.5, 60))
def test_sirs_bounds(t: float, hr: float, rr: float, wbc: float) -> None:
    assert 0 <= value("sirs_criteria", {"temperature": t, "heart_rate": hr, "respiratory_rate": rr, "wbc": wbc}) <= 4
