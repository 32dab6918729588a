"""Note-mode reading rules, one test per class of cause, on invented sentences (none taken from a dataset).

Classes (docs/calculators/note_mode_errors.md): input not found (lab forms), wrong unit, negation/ConText,
wrong measurement chosen, subjective score items (GCS, uncontrolled hypertension, high-risk surgery), a
constant read from the note, and the convention for unmentioned items (reported per item and in the summary).
"""

from __future__ import annotations

import pytest

from wardround.agents.autofill import autofill, run_autofilled
from wardround.case import Case
from wardround.evals.medcalc_note import ASSUME_NORMAL_CONVENTION, NoteRow, assumption_report, run_note_item
from wardround.evidence import Ledger
from wardround.extract.anthropometrics import extract_height, extract_weight
from wardround.extract.facts import extract_labs
from wardround.extract.history import find_concept


def _labs(text: str) -> dict[str, float]:
    return {f.name: f.canonical_value for f in extract_labs(text)}


def _verified(case: Case, filled) -> bool:
    ledger = Ledger()
    ledger.extend(filled.evidence)
    return ledger.verify(case).ok


# -- input not found: lab forms ---------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["On the ward her BUN/creatinine were 28/1.6 mg/dL.",
                                  "Urea nitrogen/creatinine came to 28/1.6."])
def test_slash_pair_of_lab_names_takes_both_values(text):
    labs = _labs(text)
    assert labs.get("creatinine") == pytest.approx(1.6)
    assert labs.get("bun") == pytest.approx(28)


def test_a_unit_after_a_number_is_not_a_lab_name():
    labs = _labs("Glucose was 6.1 mmol/L, calcium 9 mg/dL, Mg 2.1")
    assert labs["glucose"] == pytest.approx(6.1 * 18.0, rel=0.02) and labs["magnesium"] == pytest.approx(2.1)


@pytest.mark.parametrize("text, analyte, value", [
    ("The platelet count this morning came back at 142,000/µL.", "platelets", 142),  # 10^3/µL
    ("His bilirubin, a little high, sat at 2.6 mg/dL.", "total_bilirubin", 2.6),
    ("Her haemoglobin was found to be at the low end of normal at 11.9 g/dL.", "hemoglobin", 11.9),
])
def test_prose_between_name_and_value_is_read_when_the_unit_is_the_analytes(text, analyte, value):
    assert _labs(text).get(analyte) == pytest.approx(value)


@pytest.mark.parametrize("text", ["The creatinine upper limit of normal here is 1.3 mg/dL.",
                                  "Creatinine was not sent; potassium was replaced with 40 mmol/L in total."])
def test_prose_that_makes_the_number_something_else_is_not_read(text):
    labs = _labs(text)
    assert "creatinine" not in labs and "potassium" not in labs


def test_prose_without_the_analytes_unit_is_not_read():
    assert "creatinine" not in _labs("The creatinine, checked twice by the night team, 14 of them")


def test_a_dropped_list_value_does_not_lend_its_name_a_neighbours_number():
    labs = _labs("Sodium/potassium were 139/41 mmol/L.")  # 41 mmol/L is no potassium
    assert labs.get("sodium") == pytest.approx(139) and "potassium" not in labs


# -- wrong unit: spelt-out units ------------------------------------------------------------------------
def test_spelt_out_per_deciliter_unit():
    assert _labs("a fasting glucose of 212 mg per deciliter")["glucose"] == pytest.approx(212)
    assert _labs("sodium of 131 mmol per liter")["sodium"] == pytest.approx(131)


def test_urine_panel_names_urine_analytes():
    labs = _labs("Serum creatinine 1.2 mg/dL. Urine studies showed sodium 64 mmol/L and creatinine 88 mg/dL.")
    assert labs["creatinine"] == pytest.approx(1.2)
    assert labs["urine_sodium"] == pytest.approx(64) and labs["urine_creatinine"] == pytest.approx(88)


def test_urine_output_is_not_a_urine_panel():
    labs = _labs("Urine output was poor overnight and creatinine rose to 2.4 mg/dL.")
    assert labs.get("creatinine") == pytest.approx(2.4) and "urine_creatinine" not in labs


def test_lowercase_ph_is_read():
    assert _labs("The arterial gas found the pH to be 7.21.")["ph"] == pytest.approx(7.21)


# -- negation / ConText -----------------------------------------------------------------------------------
def test_negation_with_a_history_lead_in_covers_the_list():
    text = "She denies any prior history of asthma, gout, kidney disease, diabetes, or cancer."
    assert [m.present for m in find_concept(text, "diabetes")] == [False]
    assert all(m.context.negated for m in find_concept(text, "cancer"))


def test_status_unknown_is_neither_present_nor_absent():
    text = "Her history of cirrhosis or kidney disease could not be obtained on arrival."
    mentions = find_concept(text, "liver_disease")
    assert mentions and not any(m.present for m in mentions) and not any(m.context.negated for m in mentions)


def test_a_fever_is_the_finding_but_scarlet_fever_is_not():
    assert any(m.present for m in find_concept("The illness began with a fever and a sore throat.", "fever"))
    assert not find_concept("As a child she had scarlet fever.", "fever")


def test_other_phrasings_of_history_items():
    assert any(m.present for m in find_concept("She is on treatment for neoplastic disease.", "cancer"))
    assert any(m.present for m in find_concept("He arrived in an altered mental state.", "confusion"))
    assert any(m.present for m in find_concept("He is booked for a colon resection next week.",
                                               "high_risk_surgery"))


# -- wrong measurement chosen -----------------------------------------------------------------------------
def test_birth_measures_rank_after_the_current_ones():
    text = "Birth weight was 3.2 kg and length 50 cm at birth. Now aged six, he weighs 21 kg and is 116 cm tall."
    assert extract_weight(text)[0].canonical_value == pytest.approx(21)
    assert extract_height(text)[0].canonical_value == pytest.approx(116)


def test_gfr_equations_take_the_latest_creatinine():
    note = ("A 58-year-old man was admitted dehydrated with a creatinine of 2.9 mg/dL. After fluids he "
            "recovered; on the day of discharge creatinine was 1.1 mg/dL.")
    case = Case(note=note)
    filled = autofill("ckd_epi_2021", case, policy="assume_normal")
    assert filled.inputs["creatinine"] == pytest.approx(1.1)
    assert "latest" in filled.how["creatinine"] and _verified(case, filled)
    # a calculator of the acute illness keeps the presenting value
    assert autofill("meld_na", case).inputs["creatinine"] == pytest.approx(2.9)


# -- subjective score items --------------------------------------------------------------------------------
def test_gcs_components_read_from_prose():
    note = ("A 40-year-old man was brought in after a fall. After a firm trapezius squeeze he briefly opened "
            "his eyes, and his arms went into extensor posturing. He remained nonverbal throughout.")
    case = Case(note=note)
    filled = autofill("glasgow_coma_scale", case, policy="assume_normal")
    assert filled.inputs["eye_response"] == "to pressure"
    assert filled.inputs["motor_response"] == "extension"
    assert filled.inputs["verbal_response"] == "none"
    assert filled.assumed == [] and _verified(case, filled)


def test_gcs_eye_opening_to_voice_and_verbal_not_testable():
    note = ("When his name was called loudly, he opened his eyes. Verbal response could not be assessed because "
            "of the endotracheal tube. He localised to a sternal rub.")
    filled = autofill("glasgow_coma_scale", Case(note=note), policy="assume_normal")
    assert filled.inputs["eye_response"] == "to sound"
    assert filled.inputs["verbal_response"] == "not testable"
    assert filled.inputs["motor_response"] == "localising"


def test_gcs_no_eye_opening_and_no_movement():
    note = "There was no eye opening, and no movement of the limbs followed painful stimulation."
    filled = autofill("glasgow_coma_scale", Case(note=note), policy="assume_normal")
    assert filled.inputs["eye_response"] == "none" and filled.inputs["motor_response"] == "none"


def test_has_bled_blood_pressure_running_high_is_uncontrolled():
    note = "A 70-year-old woman on warfarin. Home blood pressure readings have run high, often above 176 mmHg."
    assert autofill("has_bled", Case(note=note)).inputs["uncontrolled_hypertension"] is True
    calm = "A 70-year-old woman on warfarin. Her blood pressure is well controlled at 128/76 mmHg."
    assert autofill("has_bled", Case(note=calm)).inputs.get("uncontrolled_hypertension") is not True


def test_rcri_high_risk_surgery_named_by_the_organ_resected():
    note = "A 66-year-old man is assessed before a planned lung cancer resection. Creatinine 1.0 mg/dL."
    assert autofill("rcri", Case(note=note)).inputs["high_risk_surgery"] is True


# -- a constant read from the note ---------------------------------------------------------------------------
def test_calcium_correction_keeps_the_reference_albumin():
    note = "Calcium 8.0 mg/dL with an albumin of 2.5 g/dL."
    result, filled = run_autofilled("calcium_correction", Case(note=note), policy="assume_normal")
    assert "normal_albumin" not in filled.sources
    assert result is not None and result.value == pytest.approx(8.0 + 0.8 * (4.0 - 2.5))


# -- the convention for unmentioned items, reported ------------------------------------------------------------
def test_assumed_inputs_are_reported_per_item_and_in_the_summary():
    row = NoteRow(row_number="1", calculator_name="CHA2DS2-VASc Score for Atrial Fibrillation Stroke Risk",
                  category="risk", note="A 67-year-old woman with atrial fibrillation and hypertension.",
                  question="What is the patient's CHA2DS2-VASc score?", label="3", lower="3", upper="3")
    item = run_note_item(row)
    assert item.policy == "assume_normal" and "diabetes" in item.assumed
    assert item.assumed_note and "diabetes" in item.assumed_note and "absent/normal" in item.assumed_note
    report = assumption_report([item])
    assert report["assume_normal"] is True and report["convention"] == ASSUME_NORMAL_CONVENTION
    assert report["items_with_assumed_inputs"] == 1 and report["assumed_by_input"]["diabetes"] == 1
    strict = run_note_item(row, policy="strict")
    assert strict.assumed == [] and strict.assumed_note is None
    assert assumption_report([strict], "strict")["assume_normal"] is False


# -- further forms: paired vitals, coordinated doses, number words, values before their label -----------------
def test_systolic_and_diastolic_respectively():
    from wardround.extract.facts import extract_vitals

    vitals = {f.name: f.value for f in extract_vitals(
        "Her systolic and diastolic blood pressure were charted at 104 mm Hg and 66 mm Hg, respectively.")}
    assert vitals == {"systolic_bp": 104, "diastolic_bp": 66}


@pytest.mark.parametrize("text, expected", [
    ("She is on vasopressin and norepinephrine at 0.2 mcg/kg/min each.", {"norepinephrine": 0.2}),
    ("Dopamine and dobutamine are running at 6 and 4 mcg/kg/min respectively.", {"dopamine": 6, "dobutamine": 4}),
    ("He receives both epinephrine and norepinephrine at rates of 0.02 mcg/kg/min and 0.3 mcg/kg/min "
     "respectively.", {"epinephrine": 0.02, "norepinephrine": 0.3}),
])
def test_doses_after_coordinated_drug_names(text, expected):
    from wardround.extract.medications import extract_medications

    doses = {m.drug: m.dose for m in extract_medications(text)}
    for drug, dose in expected.items():
        assert doses[drug] == pytest.approx(dose)


def test_coordinated_names_without_each_or_respectively_keep_their_own_doses():
    from wardround.extract.medications import extract_medications

    doses = {m.drug: m.dose for m in extract_medications("Morphine and oxycodone 10 mg twice daily were stopped.")}
    assert doses["morphine"] is None


def test_gcs_number_word_and_a_longer_phrase():
    from wardround.extract.facts import extract_measurements

    assert [f.value for f in extract_measurements("Her Glasgow Coma Scale score was recorded at eleven.")] == [11]
    assert [f.value for f in extract_measurements("His Glasgow Coma Score has been steady at 13 today.")] == [13]


def test_fio2_written_after_its_percentage():
    from wardround.extract.facts import extract_measurements

    assert [f.canonical_value for f in extract_measurements("She is comfortable on 35 % FiO2 by mask.")] == [35]


def test_bmi_with_an_aside_before_the_value():
    from wardround.extract.anthropometrics import extract_bmi

    assert [f.value for f in extract_bmi("Her BMI, well within the healthy range, is 22.4 kg/m2.")] == [22.4]


def test_sonography_for_trauma_names_an_exam_not_an_injury():
    assert not any(m.present for m in find_concept("A focused assessment with sonography for trauma was normal.",
                                                   "trauma"))
    assert any(m.present for m in find_concept("He was admitted after blunt trauma to the chest.", "trauma"))


def test_negated_list_items_with_their_own_lead_in():
    text = "He does not have heart failure, asthma, history of a solid tumor, gout, or peptic ulcer disease."
    assert all(m.context.negated for m in find_concept(text, "peptic_ulcer_disease"))
    text2 = "Her records don't show it, and her history doesn't suggest any lymphoma, leukemia, or myeloma."
    assert all(m.context.negated for m in find_concept(text2, "leukemia"))


# -- Charlson items: graded severity and solid tumour --------------------------------------------------------
def test_charlson_graded_severity_and_haematological_cancer_is_not_a_solid_tumour():
    note = ("A 71-year-old man under treatment for lymphoma. He has moderate renal insufficiency and chronic liver "
            "disease of moderate severity. He had a cerebrovascular event last year with paralysis on the left "
            "side since.")
    filled = autofill("charlson_comorbidity_index", Case(note=note), policy="assume_normal")
    assert filled.inputs["lymphoma"] is True
    assert filled.inputs["solid_tumor"] == "none"
    assert filled.inputs["moderate_severe_ckd"] is True
    assert filled.inputs["liver_disease_severity"] == "moderate to severe"
    assert filled.inputs["cerebrovascular_accident"] is True and filled.inputs["hemiplegia"] is True
    mild = autofill("charlson_comorbidity_index", Case(note="A 60-year-old woman with fatty liver disease."),
                    policy="assume_normal")
    assert mild.inputs["liver_disease_severity"] == "mild"
