"""Acute-take calculators (scores_acute*.py): hand-computed cases from the primary papers' item tables, every cut-off
on both sides, unit conversion where units apply, and bad inputs that must name the field."""

from __future__ import annotations

import pytest

from wardround.errors import InputError
from wardround.tools.calculators import calculate, find_calculator, get_calculator
from wardround.tools.calculators.choose import choose_calculator

NEW_IDS = ("qsofa", "news2", "alvarado", "twist_score", "ottawa_sah_rule", "abcd2", "canadian_ct_head_rule",
           "nexus_c_spine", "kocher_criteria", "lrinec", "plasmic_score", "four_ts_hit", "scorten", "glasgow_imrie",
           "bisap", "spesi", "timi_ua_nstemi", "add_rs", "mascc", "bishop_score", "paracetamol_treatment_line",
           "osmolal_gap", "winters_formula", "a_a_gradient")


def calc(calc_id: str, inputs: dict, **kw: object):  # noqa: ANN201
    """Run a calculator with MedCalc-Bench's convention: an unmentioned finding is absent (assume_normal)."""
    kw.setdefault("assume_normal", True)
    return calculate(calc_id, inputs, **kw)  # type: ignore[arg-type]


def value(calc_id: str, inputs: dict, **kw: object) -> float:
    return calc(calc_id, inputs, **kw).value  # type: ignore[return-value]


@pytest.mark.parametrize("calc_id", NEW_IDS)
def test_registered_found_by_name_and_cited(calc_id: str) -> None:
    c = get_calculator(calc_id)
    assert "PMID" in c.reference or "doi:" in c.reference or "[reference unverified]" in c.reference
    assert find_calculator(c.name, 1)[0].id == calc_id
    assert choose_calculator(f"What is the patient's {c.synonyms[0]}?") == calc_id


@pytest.mark.parametrize("question, calc_id", [
    ("What is the patient's Glasgow Coma Score?", "glasgow_coma_scale"),
    ("What is the patient's Glasgow-Blatchford Bleeding score?", "glasgow_blatchford"),
    ("What is the number of SIRS critiera met by the patient?", "sirs_criteria"),
    ("What is the patient's Sequential Organ Failure Assessment (SOFA) Score?", "sofa"),
    ("What is the patient's serum osmolality in terms of mOsm/kg?", "serum_osmolality"),
    ("What is the patient’s score of Wells' criteria for Pulmonary Embolism?", "wells_pe"),
    ("What is the patient's Pneumonia Severity Index (PSI)?", "psi_port"),
    ("What are the number of criteria met for the PERC Rule for Pulmonary Embolism (PE)?", "perc_rule"),
    ("What is the patient's HEART score?", "heart_score"),
    ("What is the patient's anion gap in terms of mEq/L?", "anion_gap"),
])
def test_existing_questions_still_choose_existing_calculators(question: str, calc_id: str) -> None:
    assert choose_calculator(question) == calc_id


# ---------------------------------------------------------------------------------------------------------
# qSOFA (Seymour 2016): SBP <= 100, RR >= 22, altered mentation


def test_qsofa_cutoffs() -> None:
    base = {"respiratory_rate": 21, "systolic_bp": 101, "altered_mentation": False}
    assert value("qsofa", base) == 0
    assert value("qsofa", {**base, "respiratory_rate": 22}) == 1
    assert value("qsofa", {**base, "systolic_bp": 100}) == 1
    assert value("qsofa", {**base, "gcs": 14}) == 1
    assert value("qsofa", {**base, "gcs": 15}) == 0
    r = calc("qsofa", {"respiratory_rate": 24, "systolic_bp": "12 kPa", "altered_mentation": "yes"})
    assert r.value == 3 and r.interpretation.startswith("positive")  # 12 kPa = 90 mmHg
    with pytest.raises(InputError) as e:
        calc("qsofa", {**base, "respiratory_rate": "fast"})
    assert e.value.field == "respiratory_rate"


# ---------------------------------------------------------------------------------------------------------
# NEWS2 (RCP 2017 chart 1)

NEWS_NORMAL = {"respiratory_rate": 16, "spo2": 97, "supplemental_oxygen": False, "systolic_bp": 120,
               "heart_rate": 70, "consciousness": "alert", "temperature": 37.0}


@pytest.mark.parametrize("field, values_points", [
    ("respiratory_rate", [(8, 3), (9, 1), (11, 1), (12, 0), (20, 0), (21, 2), (24, 2), (25, 3)]),
    ("spo2", [(91, 3), (92, 2), (93, 2), (94, 1), (95, 1), (96, 0)]),
    ("systolic_bp", [(90, 3), (91, 2), (100, 2), (101, 1), (110, 1), (111, 0), (219, 0), (220, 3)]),
    ("heart_rate", [(40, 3), (41, 1), (50, 1), (51, 0), (90, 0), (91, 1), (110, 1), (111, 2), (130, 2), (131, 3)]),
    ("temperature", [(35.0, 3), (35.1, 1), (36.0, 1), (36.1, 0), (38.0, 0), (38.1, 1), (39.0, 1), (39.1, 2)]),
])
def test_news2_parameter_bands(field: str, values_points: list[tuple[float, int]]) -> None:
    for v, pts in values_points:
        assert value("news2", {**NEWS_NORMAL, field: v}) == pts, (field, v)


def test_news2_scale_2_oxygen_consciousness_and_bands() -> None:
    s2 = {**NEWS_NORMAL, "spo2_scale_2": True}
    for v, pts in [(83, 3), (84, 2), (85, 2), (86, 1), (87, 1), (88, 0), (92, 0), (97, 0)]:
        assert value("news2", {**s2, "spo2": v}) == pts, v  # on air
    for v, pts in [(92, 0), (93, 1), (94, 1), (95, 2), (96, 2), (97, 3)]:
        assert value("news2", {**s2, "spo2": v, "supplemental_oxygen": True}) == pts + 2, v  # + 2 for oxygen
    r = calc("news2", {**NEWS_NORMAL, "consciousness": "new confusion"})
    assert r.value == 3 and r.interpretation.startswith("low-medium")
    # hand-computed: RR 22 (2), SpO2 94 on O2 (1 + 2), SBP 105 (1), HR 115 (2), alert (0), 38.5 °C (1) = 9
    r = calc("news2", {"respiratory_rate": 22, "spo2": 94, "supplemental_oxygen": True, "systolic_bp": 105,
                            "heart_rate": 115, "consciousness": "A", "temperature": "101.3 °F"})
    assert r.value == 9 and r.interpretation.startswith("high")
    assert calc("news2", {**NEWS_NORMAL, "heart_rate": 111, "temperature": 38.1, "respiratory_rate": 21}
                     ).interpretation.startswith("medium")  # 2 + 1 + 2 = 5
    with pytest.raises(InputError) as e:
        calc("news2", {**NEWS_NORMAL, "consciousness": "sleepy"})
    assert e.value.field == "consciousness"


# ---------------------------------------------------------------------------------------------------------
# Alvarado (1986)

ALV_NONE = {"temperature": 37.0, "wbc": 7, "neutrophil_percent": 60}


def test_alvarado_items_cutoffs_and_units() -> None:
    assert value("alvarado", ALV_NONE) == 0
    assert value("alvarado", {**ALV_NONE, "temperature": 37.3}) == 1
    assert value("alvarado", {**ALV_NONE, "temperature": 37.2}) == 0
    assert value("alvarado", {**ALV_NONE, "wbc": 10.0}) == 0
    assert value("alvarado", {**ALV_NONE, "wbc": "10100 /µL"}) == 2
    assert value("alvarado", {**ALV_NONE, "neutrophil_percent": 75}) == 0
    assert value("alvarado", {**ALV_NONE, "neutrophil_percent": 76}) == 1
    # hand-computed: all eight items = 1+1+1+2+1+1+2+1 = 10
    full = {"migration_of_pain": True, "anorexia": True, "nausea_vomiting": True, "rlq_tenderness": True,
            "rebound_tenderness": True, "temperature": "99.5 °F", "wbc": 14, "neutrophil_percent": 85}
    r = calc("alvarado", full)
    assert r.value == 10 and r.interpretation.startswith("very probable")
    assert calc("alvarado", {**ALV_NONE, "rlq_tenderness": True, "wbc": 12, "anorexia": True}
                     ).interpretation.startswith("compatible")  # 2 + 2 + 1 = 5
    assert value("alvarado", {}) == 0
    with pytest.raises(InputError) as e:
        calc("alvarado", {**ALV_NONE, "neutrophil_percent": 120})
    assert e.value.field == "neutrophil_percent"


# ---------------------------------------------------------------------------------------------------------
# TWIST (Barbosa 2013)


def test_twist_weights_and_bands() -> None:
    assert value("twist_score", {"testicular_swelling": True}) == 2
    assert value("twist_score", {"hard_testis": True}) == 2
    r = calc("twist_score", {"testicular_swelling": True, "hard_testis": True, "nausea_vomiting": True})
    assert r.value == 5 and r.interpretation.startswith("high")
    assert calc("twist_score", {"hard_testis": True, "high_riding_testis": True}
                     ).interpretation.startswith("intermediate")  # 3
    assert calc("twist_score", {"hard_testis": True}).interpretation.startswith("low")  # 2
    assert value("twist_score", {k: True for k in get_calculator("twist_score").fields}) == 7
    with pytest.raises(InputError) as e:
        calc("twist_score", {"hard_testis": "maybe"})
    assert e.value.field == "hard_testis"


# ---------------------------------------------------------------------------------------------------------
# Ottawa SAH rule (Perry 2013)


def test_ottawa_sah_age_cutoff_and_findings() -> None:
    assert value("ottawa_sah_rule", {"age": 39}) == 0
    assert value("ottawa_sah_rule", {"age": 40}) == 1
    r = calc("ottawa_sah_rule", {"age": 30, "thunderclap_onset": True, "neck_pain_or_stiffness": True})
    assert r.value == 2 and r.interpretation.startswith("not ruled out")
    assert calc("ottawa_sah_rule", {"age": 30}).interpretation.startswith("SAH ruled out")
    assert calc("ottawa_sah_rule", {"age": 14}).warnings
    with pytest.raises(InputError) as e:
        calc("ottawa_sah_rule", {"age": 200})
    assert e.value.field == "age"


# ---------------------------------------------------------------------------------------------------------
# ABCD2 (Johnston 2007)

ABCD_LOW = {"age": 59, "systolic_bp": 139, "diastolic_bp": 89, "clinical_feature": "other", "duration_minutes": 9}


def test_abcd2_cutoffs_and_bands() -> None:
    assert value("abcd2", ABCD_LOW) == 0
    assert value("abcd2", {**ABCD_LOW, "age": 60}) == 1
    assert value("abcd2", {**ABCD_LOW, "systolic_bp": 140}) == 1
    assert value("abcd2", {**ABCD_LOW, "diastolic_bp": 90}) == 1
    assert value("abcd2", {**ABCD_LOW, "diastolic_bp": "12 kPa"}) == 1  # 90.0 mmHg
    assert value("abcd2", {**ABCD_LOW, "duration_minutes": 10}) == 1
    assert value("abcd2", {**ABCD_LOW, "duration_minutes": 59}) == 1
    assert value("abcd2", {**ABCD_LOW, "duration_minutes": "60 min"}) == 2
    assert value("abcd2", {**ABCD_LOW, "clinical_feature": "dysphasia"}) == 1
    assert value("abcd2", {**ABCD_LOW, "clinical_feature": "unilateral weakness"}) == 2
    # hand-computed: 72 y (1), 150/85 (1), weakness (2), 45 min (1), diabetes (1) = 6 -> high
    r = calc("abcd2", {"age": 72, "systolic_bp": 150, "diastolic_bp": 85, "clinical_feature": "hemiparesis",
                            "duration_minutes": 45, "diabetes": True})
    assert r.value == 6 and "8.1%" in r.interpretation
    assert "4.1%" in calc("abcd2", {**ABCD_LOW, "clinical_feature": "weakness", "duration_minutes": 90}
                               ).interpretation
    with pytest.raises(InputError) as e:
        calc("abcd2", {**ABCD_LOW, "clinical_feature": "headache"})
    assert e.value.field == "clinical_feature"


# ---------------------------------------------------------------------------------------------------------
# Canadian CT Head Rule (Stiell 2001)


def test_canadian_ct_head_tiers() -> None:
    r = calc("canadian_ct_head_rule", {"age": 30, "gcs": 15})
    assert r.value == 0 and "not required" in r.interpretation
    assert calc("canadian_ct_head_rule", {"age": 65, "gcs": 15}).interpretation.startswith("high")
    assert calc("canadian_ct_head_rule", {"age": 64, "gcs": 14}).interpretation.startswith("high")
    r = calc("canadian_ct_head_rule", {"age": 64, "gcs": 15, "dangerous_mechanism": True})
    assert r.value == 1 and r.interpretation.startswith("medium")
    r = calc("canadian_ct_head_rule", {"age": 70, "vomiting_two_or_more": True,
                                            "amnesia_before_impact_30min": True})
    assert r.value == 3 and r.interpretation.startswith("high")
    with pytest.raises(InputError) as e:
        calc("canadian_ct_head_rule", {"age": 30, "gcs": 2})
    assert e.value.field == "gcs"


# ---------------------------------------------------------------------------------------------------------
# NEXUS (Hoffman 2000)


def test_nexus() -> None:
    r = calc("nexus_c_spine", {})
    assert r.value == 0 and "not indicated" in r.interpretation
    r = calc("nexus_c_spine", {"intoxication": True, "midline_cervical_tenderness": True})
    assert r.value == 2 and "indicated" in r.interpretation
    with pytest.raises(InputError) as e:
        calc("nexus_c_spine", {"intoxication": 3})
    assert e.value.field == "intoxication"


# ---------------------------------------------------------------------------------------------------------
# Kocher (1999): fever > 38.5, ESR > 40, WBC > 12


def test_kocher_cutoffs_and_probability() -> None:
    base = {"temperature": 38.5, "esr": 40, "wbc": 12}
    r = calc("kocher_criteria", base)
    assert r.value == 0 and "< 0.2%" in r.interpretation
    assert value("kocher_criteria", {**base, "temperature": 38.6}) == 1
    assert value("kocher_criteria", {**base, "esr": 41}) == 1
    assert value("kocher_criteria", {**base, "wbc": "12.5 x10^9/L"}) == 1
    r = calc("kocher_criteria", {"non_weight_bearing": True, "temperature": "101.5 °F", "esr": 55,
                                      "wbc": 15})  # 101.5 °F = 38.6 °C
    assert r.value == 4 and "99.6%" in r.interpretation
    assert "40.0%" in calc("kocher_criteria", {**base, "esr": 50, "wbc": 13}).interpretation
    with pytest.raises(InputError) as e:
        calc("kocher_criteria", {**base, "esr": "fast"})
    assert e.value.field == "esr"


# ---------------------------------------------------------------------------------------------------------
# LRINEC (Wong 2004)

LR_ZERO = {"crp": 149, "wbc": 14.9, "hemoglobin": 13.6, "sodium": 135, "creatinine": 1.5, "glucose": 150}


def test_lrinec_cutoffs_units_and_bands() -> None:
    assert value("lrinec", LR_ZERO) == 0
    assert value("lrinec", {**LR_ZERO, "crp": 150}) == 4
    assert value("lrinec", {**LR_ZERO, "crp": "15 mg/dL"}) == 4
    assert value("lrinec", {**LR_ZERO, "wbc": 15}) == 1
    assert value("lrinec", {**LR_ZERO, "wbc": 25}) == 1
    assert value("lrinec", {**LR_ZERO, "wbc": 25.1}) == 2
    assert value("lrinec", {**LR_ZERO, "hemoglobin": 13.5}) == 1
    assert value("lrinec", {**LR_ZERO, "hemoglobin": 11}) == 1
    assert value("lrinec", {**LR_ZERO, "hemoglobin": "109 g/L"}) == 2
    assert value("lrinec", {**LR_ZERO, "sodium": 134}) == 2
    assert value("lrinec", {**LR_ZERO, "creatinine": "141 µmol/L"}) == 0
    assert value("lrinec", {**LR_ZERO, "creatinine": "142 µmol/L"}) == 2
    assert value("lrinec", {**LR_ZERO, "glucose": "10 mmol/L"}) == 0
    assert value("lrinec", {**LR_ZERO, "glucose": "10.1 mmol/L"}) == 1
    # hand-computed: CRP 200 (4) + WBC 20 (1) + Hb 12 (1) + Na 132 (2) = 8 -> high
    r = calc("lrinec", {**LR_ZERO, "crp": 200, "wbc": 20, "hemoglobin": 12, "sodium": 132})
    assert r.value == 8 and r.interpretation.startswith("high")
    assert calc("lrinec", {**LR_ZERO, "crp": 200, "sodium": 130}).interpretation.startswith("intermediate")
    assert calc("lrinec", {**LR_ZERO, "crp": 200, "glucose": 200}).interpretation.startswith("low")
    with pytest.raises(InputError) as e:
        calc("lrinec", {**LR_ZERO, "sodium": "140 furlongs"})
    assert e.value.field == "sodium"


# ---------------------------------------------------------------------------------------------------------
# PLASMIC (Bendapudi 2017)

PL_ZERO = {"platelets": 30, "hemolysis": False, "active_cancer": True, "transplant_history": True, "mcv": 90,
           "inr": 1.5, "creatinine": 2.0}


def test_plasmic_cutoffs_and_bands() -> None:
    assert value("plasmic_score", PL_ZERO) == 0
    assert value("plasmic_score", {**PL_ZERO, "platelets": 29}) == 1
    assert value("plasmic_score", {**PL_ZERO, "mcv": 89}) == 1
    assert value("plasmic_score", {**PL_ZERO, "inr": 1.49}) == 1
    assert value("plasmic_score", {**PL_ZERO, "creatinine": 1.99}) == 1
    assert value("plasmic_score", {**PL_ZERO, "creatinine": "176 µmol/L"}) == 1  # 1.99 mg/dL
    assert value("plasmic_score", {**PL_ZERO, "active_cancer": False}) == 1
    # hand-computed typical TTP: platelets 12, haemolysis, no cancer, no transplant, MCV 88, INR 1.1, Cr 1.2 = 7
    r = calc("plasmic_score", {"platelets": 12, "hemolysis": True, "mcv": 88, "inr": 1.1, "creatinine": 1.2},
                  assume_normal=True)
    assert r.value == 7 and r.interpretation.startswith("high")
    assert calc("plasmic_score", {**PL_ZERO, "platelets": 10, "hemolysis": True, "active_cancer": False,
                                       "transplant_history": False, "mcv": 95}).interpretation.startswith(
        "low")  # 4
    with pytest.raises(InputError) as e:
        calc("plasmic_score", {**PL_ZERO, "mcv": 500})
    assert e.value.field == "mcv"


# ---------------------------------------------------------------------------------------------------------
# 4Ts (Lo 2006)

T4 = {"timing": "before day 4 without recent heparin", "thrombosis": "none", "other_causes": "definite"}


def test_four_ts_thrombocytopenia_category() -> None:
    assert value("four_ts_hit", {**T4, "platelet_fall_percent": 51, "platelet_nadir": 20}) == 2
    assert value("four_ts_hit", {**T4, "platelet_fall_percent": 50, "platelet_nadir": 20}) == 1
    assert value("four_ts_hit", {**T4, "platelet_fall_percent": 30, "platelet_nadir": 100}) == 1
    assert value("four_ts_hit", {**T4, "platelet_fall_percent": 29, "platelet_nadir": 100}) == 0
    assert value("four_ts_hit", {**T4, "platelet_fall_percent": 60, "platelet_nadir": 19}) == 1
    assert value("four_ts_hit", {**T4, "platelet_fall_percent": 60, "platelet_nadir": 9}) == 0
    assert value("four_ts_hit", {**T4, "platelet_fall_percent": 60, "platelet_nadir": "25000 /µL"}) == 2


def test_four_ts_hand_computed_and_bands() -> None:
    # hand-computed: fall 60% nadir 45 (2), day 7 (2), new DVT (2), no other cause (2) = 8
    r = calc("four_ts_hit", {"platelet_fall_percent": 60, "platelet_nadir": 45, "timing": "days 5-10",
                                  "thrombosis": "new thrombosis", "other_causes": "none"})
    assert r.value == 8 and r.interpretation.startswith("high")
    r = calc("four_ts_hit", {"platelet_fall_percent": 40, "platelet_nadir": 80, "timing": "after day 10",
                                  "thrombosis": "suspected thrombosis", "other_causes": "possible"})
    assert r.value == 4 and r.interpretation.startswith("intermediate")
    assert calc("four_ts_hit", {**T4, "platelet_fall_percent": 60, "platelet_nadir": 45, "timing": "unclear"}
                     ).interpretation.startswith("low")  # 3
    with pytest.raises(InputError) as e:
        calc("four_ts_hit", {**T4, "platelet_fall_percent": 60, "platelet_nadir": 45, "timing": "yesterday"})
    assert e.value.field == "timing"


# ---------------------------------------------------------------------------------------------------------
# SCORTEN (Bastuji-Garin 2000)

SC_ZERO = {"age": 39, "heart_rate": 119, "detached_bsa_percent": 10, "bun": "10 mmol/L", "bicarbonate": 20,
           "glucose": "14 mmol/L"}


def test_scorten_cutoffs_units_and_mortality() -> None:
    r = calc("scorten", SC_ZERO)
    assert r.value == 0 and "3.2%" in r.interpretation
    for field, v in [("age", 40), ("heart_rate", 120), ("detached_bsa_percent", 11), ("bun", "10.1 mmol/L"),
                     ("bicarbonate", 19), ("glucose", "14.1 mmol/L"), ("malignancy", True)]:
        assert value("scorten", {**SC_ZERO, field: v}) == 1, field
    assert value("scorten", {**SC_ZERO, "bun": 28.0}) == 0  # 28 mg/dL = 9.995 mmol/L
    assert value("scorten", {**SC_ZERO, "bun": 28.1}) == 1
    # hand-computed: 65 y, cancer, HR 125, BSA 30%, urea 12 mmol/L = 5 -> 90.0%
    r = calc("scorten", {**SC_ZERO, "age": 65, "malignancy": True, "heart_rate": 125,
                              "detached_bsa_percent": 30, "bun": "12 mmol/L"})
    assert r.value == 5 and "90.0%" in r.interpretation
    assert "35.3%" in calc("scorten", {**SC_ZERO, "age": 50, "heart_rate": 130, "bicarbonate": 15}
                                ).interpretation
    with pytest.raises(InputError) as e:
        calc("scorten", {**SC_ZERO, "detached_bsa_percent": -5})
    assert e.value.field == "detached_bsa_percent"


# ---------------------------------------------------------------------------------------------------------
# Glasgow-Imrie (Blamey 1984)

GI_ZERO = {"pao2": "8 kPa", "age": 55, "wbc": 15, "calcium": "2 mmol/L", "bun": "16 mmol/L", "ldh": 600,
           "albumin": "32 g/L", "glucose": "10 mmol/L"}


def test_glasgow_imrie_cutoffs_in_si_units() -> None:
    assert value("glasgow_imrie", GI_ZERO) == 0
    for field, v in [("pao2", "7.9 kPa"), ("age", 56), ("wbc", 15.1), ("calcium", "1.99 mmol/L"),
                     ("bun", "16.1 mmol/L"), ("ldh", 601), ("ast", 201), ("albumin", "31 g/L"),
                     ("glucose", "10.1 mmol/L")]:
        assert value("glasgow_imrie", {**GI_ZERO, field: v}) == 1, field
    assert value("glasgow_imrie", {**GI_ZERO, "ast": 200}) == 0
    assert value("glasgow_imrie", {**GI_ZERO, "pao2": 59}) == 1  # mmHg: 59 < 60.0
    r = calc("glasgow_imrie", {**GI_ZERO, "age": 70, "wbc": 18, "calcium": 7.5})  # 7.5 mg/dL = 1.87 mmol/L
    assert r.value == 3 and r.interpretation.startswith("severe pancreatitis predicted")
    with pytest.raises(InputError) as e:
        calc("glasgow_imrie", {**GI_ZERO, "ldh": "lots"})
    assert e.value.field == "ldh"


# ---------------------------------------------------------------------------------------------------------
# BISAP (Wu 2008)


def test_bisap() -> None:
    base = {"bun": 25, "age": 60}
    assert value("bisap", base) == 0
    assert value("bisap", {**base, "bun": 25.1}) == 1
    assert value("bisap", {**base, "bun": "9 mmol/L"}) == 1  # 25.2 mg/dL
    assert value("bisap", {**base, "age": 61}) == 1
    assert value("bisap", {**base, "gcs": 14}) == 1
    r = calc("bisap", {"bun": 30, "age": 70, "sirs": True, "pleural_effusion": True})
    assert r.value == 4 and r.interpretation.startswith("high")
    assert calc("bisap", {**base, "sirs": True, "pleural_effusion": True}).interpretation.startswith("lower")
    with pytest.raises(InputError) as e:
        calc("bisap", {**base, "gcs": 2})
    assert e.value.field == "gcs"


# ---------------------------------------------------------------------------------------------------------
# sPESI (Jiménez 2010)

SP_ZERO = {"age": 80, "heart_rate": 109, "systolic_bp": 100, "spo2": 90}


def test_spesi() -> None:
    r = calc("spesi", SP_ZERO)
    assert r.value == 0 and "1.0%" in r.interpretation
    for field, v in [("age", 81), ("heart_rate", 110), ("systolic_bp", 99), ("spo2", 89), ("cancer", True),
                     ("chronic_cardiopulmonary_disease", True)]:
        r = calc("spesi", {**SP_ZERO, field: v})
        assert r.value == 1 and "10.9%" in r.interpretation, field
    with pytest.raises(InputError) as e:
        calc("spesi", {**SP_ZERO, "spo2": 150})
    assert e.value.field == "spo2"


# ---------------------------------------------------------------------------------------------------------
# TIMI UA/NSTEMI (Antman 2000)


def test_timi() -> None:
    assert value("timi_ua_nstemi", {"age": 64, "cad_risk_factor_count": 2}) == 0
    assert value("timi_ua_nstemi", {"age": 65, "cad_risk_factor_count": 2}) == 1
    assert value("timi_ua_nstemi", {"age": 64, "cad_risk_factor_count": 3}) == 1
    # hand-computed: 70 y, 3 risk factors, aspirin, ST deviation, troponin = 5 -> 26.2%
    r = calc("timi_ua_nstemi", {"age": 70, "cad_risk_factor_count": 3, "aspirin_last_7_days": True,
                                     "st_deviation": True, "positive_cardiac_marker": True})
    assert r.value == 5 and "26.2%" in r.interpretation
    assert "4.7%" in calc("timi_ua_nstemi", {"age": 50}).interpretation
    with pytest.raises(InputError) as e:
        calc("timi_ua_nstemi", {"age": 50, "cad_risk_factor_count": 2.5})
    assert e.value.field == "cad_risk_factor_count"


# ---------------------------------------------------------------------------------------------------------
# ADD-RS (Rogers 2011)


def test_add_rs() -> None:
    assert calc("add_rs", {}).interpretation.startswith("low")
    assert calc("add_rs", {"high_risk_pain": True}).interpretation.startswith("intermediate")
    r = calc("add_rs", {"high_risk_pain": True, "high_risk_exam": True, "high_risk_condition": True})
    assert r.value == 3 and r.interpretation.startswith("high")
    with pytest.raises(InputError) as e:
        calc("add_rs", {"high_risk_pain": "tearing"})
    assert e.value.field == "high_risk_pain"


# ---------------------------------------------------------------------------------------------------------
# MASCC (Klastersky 2000)


def test_mascc() -> None:
    best = {"burden_of_illness": "mild", "systolic_bp": 90, "age": 59}
    r = calc("mascc", best)
    assert r.value == 26 and r.interpretation.startswith("low")
    assert value("mascc", {**best, "systolic_bp": 89}) == 21
    assert value("mascc", {**best, "age": 60}) == 24
    assert value("mascc", {**best, "burden_of_illness": "moderate"}) == 24
    assert value("mascc", {**best, "burden_of_illness": "severe"}) == 21
    # hand-computed: moderate (3) + SBP 85 (0) + COPD (0) + no prior fungal (4) + dehydrated (0) + inpatient (0)
    # + 70 y (0) = 7
    r = calc("mascc", {"burden_of_illness": "moderate", "systolic_bp": 85, "copd": True,
                            "dehydration_requiring_iv_fluids": True, "inpatient_at_fever_onset": True, "age": 70})
    assert r.value == 7 and r.interpretation.startswith("high")
    assert value("mascc", {**best, "hematologic_malignancy_with_prior_fungal_infection": True}) == 22
    assert value("mascc", {**best, "copd": True, "age": 60}) == 20  # just below 21
    with pytest.raises(InputError) as e:
        calc("mascc", {**best, "burden_of_illness": "awful"})
    assert e.value.field == "burden_of_illness"


# ---------------------------------------------------------------------------------------------------------
# Bishop (1964)

BI_ZERO = {"cervical_dilation": 0, "cervical_effacement": 30, "fetal_station": -3, "cervical_consistency": "firm",
           "cervical_position": "posterior"}


def test_bishop_bands_and_units() -> None:
    assert value("bishop_score", BI_ZERO) == 0
    for v, pts in [(1, 1), (2, 1), (3, 2), (4, 2), (5, 3)]:
        assert value("bishop_score", {**BI_ZERO, "cervical_dilation": v}) == pts
    assert value("bishop_score", {**BI_ZERO, "cervical_dilation": "30 mm"}) == 2
    for v, pts in [(40, 1), (50, 1), (60, 2), (70, 2), (80, 3)]:
        assert value("bishop_score", {**BI_ZERO, "cervical_effacement": v}) == pts
    for v, pts in [(-2, 1), (-1, 2), (0, 2), (1, 3), (2, 3)]:
        assert value("bishop_score", {**BI_ZERO, "fetal_station": v}) == pts
    # hand-computed: 4 cm (2), 80% (3), 0 (2), soft (2), anterior (2) = 11 -> favourable
    r = calc("bishop_score", {"cervical_dilation": 4, "cervical_effacement": 80, "fetal_station": 0,
                                   "cervical_consistency": "soft", "cervical_position": "anterior"})
    assert r.value == 11 and r.interpretation.startswith("favourable")
    assert calc("bishop_score", {**BI_ZERO, "cervical_dilation": 5, "cervical_effacement": 80,
                                      "cervical_consistency": "medium", "cervical_position": "mid"}
                     ).value == 8  # 3 + 3 + 0 + 1 + 1, just below 9
    with pytest.raises(InputError) as e:
        calc("bishop_score", {**BI_ZERO, "cervical_dilation": 12})
    assert e.value.field == "cervical_dilation"


# ---------------------------------------------------------------------------------------------------------
# Paracetamol treatment line (Rumack-Matthew 1975; UK 100 line)


def test_paracetamol_line_values_and_units() -> None:
    r = calc("paracetamol_treatment_line", {"paracetamol_level": 150, "hours_since_ingestion": 4})
    assert r.value == pytest.approx(1.0) and r.interpretation.startswith("below")  # US: above means > line
    assert value("paracetamol_treatment_line", {"paracetamol_level": 75, "hours_since_ingestion": 8}) == \
        pytest.approx(1.0)  # line halves every 4 h
    # hand-computed: 24 h line = 150 / 2^5 = 4.6875 mg/L
    assert value("paracetamol_treatment_line", {"paracetamol_level": 4.6875, "hours_since_ingestion": 24}) == \
        pytest.approx(1.0)
    r = calc("paracetamol_treatment_line", {"paracetamol_level": 100, "hours_since_ingestion": 4,
                                                 "treatment_line": "UK"})
    assert r.value == pytest.approx(1.0) and r.interpretation.startswith("on or above")
    # 1000 µmol/L = 151.2 mg/L at 4 h: just above the 150 line
    r = calc("paracetamol_treatment_line", {"paracetamol_level": "1000 µmol/L", "hours_since_ingestion": "4 h"})
    assert r.value > 1.0 and "acetylcysteine" in r.interpretation
    for h in (3.9, 24.5):
        with pytest.raises(InputError) as e:
            calc("paracetamol_treatment_line", {"paracetamol_level": 100, "hours_since_ingestion": h})
        assert e.value.field == "hours_since_ingestion"


# ---------------------------------------------------------------------------------------------------------
# Osmolal gap, Winters' formula, A-a gradient


def test_osmolal_gap() -> None:
    # hand-computed: 2 x 140 + 90/18 + 14/2.8 = 290; measured 320 -> gap 30
    r = calc("osmolal_gap", {"measured_osmolality": 320, "sodium": 140, "glucose": 90, "bun": 14})
    assert r.value == pytest.approx(30.0) and r.interpretation.startswith("raised")
    assert calc("osmolal_gap", {"measured_osmolality": 300, "sodium": 140, "glucose": 90, "bun": 14}
                     ).interpretation.startswith("not raised")  # gap 10
    r = calc("osmolal_gap", {"measured_osmolality": 280, "sodium": 140, "glucose": "5 mmol/L",
                                  "bun": "5 mmol/L"})
    assert r.value == pytest.approx(280 - (280 + 5 * 18.0156 / 18 + 5 * 2.8014 / 2.8))  # negative gap allowed
    with pytest.raises(InputError) as e:
        calc("osmolal_gap", {"measured_osmolality": 50, "sodium": 140, "glucose": 90, "bun": 14})
    assert e.value.field == "measured_osmolality"


def test_winters_formula() -> None:
    r = calc("winters_formula", {"bicarbonate": 12})
    assert r.value == pytest.approx(26.0)  # 1.5 x 12 + 8, range 24-28
    assert "within" in calc("winters_formula", {"bicarbonate": 12, "paco2": 28}).interpretation
    assert "respiratory acidosis" in calc("winters_formula", {"bicarbonate": 12, "paco2": 29}).interpretation
    assert "respiratory alkalosis" in calc("winters_formula", {"bicarbonate": 12, "paco2": 23}
                                                ).interpretation
    assert "within" in calc("winters_formula", {"bicarbonate": 12, "paco2": "3.2 kPa"}
                                 ).interpretation  # 24.0 mmHg
    with pytest.raises(InputError) as e:
        calc("winters_formula", {"bicarbonate": "low"})
    assert e.value.field == "bicarbonate"


def test_a_a_gradient() -> None:
    # hand-computed: 0.21 x (760 - 47) - 40/0.8 = 149.73; - 90 = 59.73 ... PaO2 90 -> 9.73 mmHg
    r = calc("a_a_gradient", {"fio2": 21, "pao2": 90, "paco2": 40, "age": 40})
    assert r.value == pytest.approx(9.73) and r.interpretation.startswith("normal")  # limit 14
    assert calc("a_a_gradient", {"fio2": 21, "pao2": 85, "paco2": 40, "age": 40}
                     ).interpretation.startswith("raised")  # 14.73 > 14
    assert value("a_a_gradient", {"fio2": 21, "pao2": "12 kPa", "paco2": "5.3 kPa"}) == pytest.approx(
        0.21 * 713 - 5.3 * 7.500617 / 0.8 - 12 * 7.500617)
    assert value("a_a_gradient", {"fio2": 21, "pao2": 60, "paco2": 40, "barometric_pressure": 630}) == \
        pytest.approx(0.21 * 583 - 50 - 60)
    with pytest.raises(InputError) as e:
        calc("a_a_gradient", {"fio2": 21, "pao2": 60, "paco2": 40, "barometric_pressure": 100})
    assert e.value.field == "barometric_pressure"
