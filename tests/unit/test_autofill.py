"""Calculator auto-fill from invented notes: inputs, citations that verify, missing/assumed, policies."""

from __future__ import annotations

import pytest

from wardround.agents.autofill import autofill, choose_calculator, run_autofilled
from wardround.case import Case, Lab, Vitals
from wardround.evidence import EvidenceWriter, Ledger

NOTE = ("A 72-year-old woman presents with fever and productive cough. She is confused and disoriented. "
        "Past medical history of hypertension and type 2 diabetes; no history of stroke. "
        "Vitals: BP 86/54 mmHg, HR 112 bpm, RR 32, T 38.9 °C, SpO2 90% on room air. "
        "Labs: BUN 31 mg/dL, creatinine 1.6 mg/dL, sodium 131 mmol/L, glucose 180 mg/dL.")


def _verify(case, filled):
    ledger = Ledger()
    ledger.extend(filled.evidence)
    ids = [i for ids in filled.sources.values() for i in ids]
    return ledger.verify(case, ids)


def test_curb65_filled_from_note_and_every_source_verifies():
    case = Case(note=NOTE)
    filled = autofill("curb_65", case)
    assert filled.inputs["age"] == 72 and filled.inputs["confusion"] is True
    assert filled.inputs["bun"] == 31 and filled.inputs["respiratory_rate"] == 32
    assert filled.inputs["systolic_bp"] == 86 and filled.inputs["diastolic_bp"] == 54
    assert filled.missing == [] and filled.assumed == []
    assert set(filled.sources) == set(filled.inputs)
    assert _verify(case, filled).ok
    for ev in filled.evidence:
        assert case.note[ev.span[0]:ev.span[1]] == ev.quote


def test_run_autofilled_computes():
    result, filled = run_autofilled("curb_65", Case(note=NOTE))
    assert result is not None and result.value == 5


def test_negated_history_is_false_and_cites_the_negation():
    case = Case(note=NOTE)
    filled = autofill("cha2ds2_vasc", case)
    assert filled.inputs["stroke"] is False
    ev = next(e for e in filled.evidence if e.id in filled.sources["stroke"])
    assert "no history of stroke" in ev.quote
    assert filled.inputs["hypertension"] is True and filled.inputs["diabetes"] is True
    assert filled.inputs["sex"] == "female"


def test_strict_reports_missing_and_assume_normal_fills_them():
    case = Case(note="A 50-year-old man with chest pain.")
    strict = autofill("cha2ds2_vasc", case)
    assert "congestive_heart_failure" in strict.missing and strict.assumed == []
    assert "congestive_heart_failure" not in strict.inputs
    normal = autofill("cha2ds2_vasc", case, policy="assume_normal")
    assert normal.inputs["congestive_heart_failure"] is False
    assert "congestive_heart_failure" in normal.assumed and "congestive_heart_failure" not in normal.sources
    result, _ = run_autofilled("cha2ds2_vasc", case, policy="assume_normal")
    assert result is not None and result.value == 0
    assert run_autofilled("cha2ds2_vasc", case)[0] is None  # strict: missing inputs, no result


def test_structured_fields_come_first_and_are_cited_as_fields():
    case = Case(age=60, sex="male", note="Creatinine 3.0 mg/dL.", vitals=Vitals(weight_kg=80),
                labs=[Lab(name="creatinine", value=1.0, unit="mg/dL")])
    filled = autofill("creatinine_clearance", case)
    assert filled.inputs["creatinine"] == 1.0 and filled.inputs["weight"] == 80
    fields = {e.field for e in filled.evidence if e.kind == "field"}
    assert {"age", "sex", "labs[0].value", "vitals.weight_kg"} <= fields
    assert _verify(case, filled).ok


def test_existing_ledger_items_are_reused():
    case = Case(note="Vitals: BP 150/90 mmHg.")
    w = EvidenceWriter("E", "intake")
    s, e = case.note.index("BP"), case.note.index("mmHg") + 4
    prior = w.note("Blood pressure", case.note, s, e)
    ledger = Ledger()
    ledger.add(prior)
    filled = autofill("mean_arterial_pressure", case, ledger=ledger)
    assert filled.sources["systolic_bp"] == [prior.id] and filled.evidence == []


def test_unit_conversion_in_fill():
    case = Case(note="A 40-year-old man weighing 176 lbs, 5'10\" tall. Creatinine of 88.4 µmol/L.")
    filled = autofill("bmi", case)
    assert filled.inputs["weight"] == pytest.approx(79.83, abs=0.01)
    assert filled.inputs["height"] == pytest.approx(177.8, abs=0.01)
    assert autofill("mdrd_gfr", case).inputs["creatinine"] == pytest.approx(1.0, abs=0.001)


def test_mme_and_steroid_from_text():
    case = Case(note="She takes oxycodone 10 mg every 6 hours and tramadol 50 mg twice daily.")
    result, filled = run_autofilled("morphine_milligram_equivalents", case)
    assert filled.inputs["oxycodone_dose"] == 10 and filled.inputs["oxycodone_doses_per_day"] == 4
    assert result is not None and result.value > 0
    q = "What is the equivalent dose of prednisone?"
    case = Case(note="He received dexamethasone 4 mg IV.", question=q)
    filled = autofill("steroid_conversion", case)
    assert filled.inputs["input_steroid"] == "dexamethasone" and filled.inputs["target_steroid"] == "prednisone"
    assert _verify(case, filled).ok


def test_dates_for_due_date():
    case = Case(note="LMP: 01/10/2024. Cycles are regular, 28 days.")
    filled = autofill("estimated_due_date", case)
    assert filled.inputs["last_menstrual_period"] == "2024-01-10" and filled.inputs["cycle_length"] == 28


@pytest.mark.parametrize(("question", "expected"), [
    ("What is the patient's CURB-65 score?", "curb_65"),
    ("Using the Hodges formula, what is the corrected QT interval?", "qtc_hodges"),
    ("Using the Bazett formula, what is the QTc?", "qtc_bazett"),
    ("What is the patient's body mass index?", "bmi"),
    ("What is the patient's Wells' score for deep vein thrombosis?", "wells_dvt"),
    ("What is the patient's LDL cholestrol?", "ldl_calculated"),
    ("", None),
])
def test_choose_calculator(question, expected):
    assert choose_calculator(question) == expected
