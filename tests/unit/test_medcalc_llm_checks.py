"""The checks that stand between a model's reading of a note and wardround's calculators (no model needed)."""

from __future__ import annotations

import pytest

from wardround.evals.medcalc_llm import (
    FillAnswer,
    InputCheck,
    LLMNoteItemResult,
    ModelInput,
    asked_fields,
    check_input,
    fill_messages,
    model_summary,
    numbers_with_units,
)
from wardround.tools.calculators import get_calculator

NOTE = ("A 71-year-old man (height: 155 cm; weight: 59 kg) had a serum creatinine of 125 µmol/L. BP 120/80 mmHg, "
        "temperature 38.5°C, heart rate 88 beats per minute, temp 101.3. Last menstrual period 03/15/2024. "
        "Glucose 2,150 mg/dL.")
CRCL = get_calculator("creatinine_clearance")


def check(calculator: str, field: str, **given) -> InputCheck:
    return check_input(get_calculator(calculator), field, ModelInput(**given), NOTE)


def test_numbers_are_read_with_the_unit_written_after_them() -> None:
    found = {v: u for v, u, _ in numbers_with_units(NOTE)}
    assert found[71] == "years" and found[155] == "cm" and found[59] == "kg" and found[125] == "µmol/L"
    assert found[120] is None and found[80] == "mmHg" and found[38.5] == "C" and found[88] == "/min"
    assert found[2150] == "mg/dL" and found[101.3] is None
    assert [v for v, _, _ in numbers_with_units("Cr1.4, COVID-19, pH 7.35-7.45, base excess -4")] == \
        [1.4, 19, 7.35, 7.45, -4]


def test_a_value_from_the_note_is_accepted_in_canonical_units() -> None:
    c = check("creatinine_clearance", "creatinine", value=125, unit="umol/L",
              span="serum creatinine of 125 µmol/L")
    assert c.status == "accepted" and c.unit_support == "in_span"
    assert c.canonical == pytest.approx(125 / 88.4, rel=1e-3)
    assert NOTE[c.start:c.end] == "serum creatinine of 125 µmol/L"
    assert check("creatinine_clearance", "age", value="71", unit="years", span="71-year-old").canonical == 71.0
    assert check("creatinine_clearance", "sex", value="M", span="man").canonical == "male"


@pytest.mark.parametrize(("given", "reason"), [
    ({"value": 72, "unit": "years", "span": "72-year-old"}, "not in the note (model invention)"),
    ({"value": 71, "unit": "years", "span": "71-year-old woman"}, "not in the note"),
    ({"value": 71, "unit": "years", "span": "  "}, "no span quoted"),
    ({"value": 71, "unit": "years", "span": None}, "no span quoted"),
    ({"value": 70, "unit": "years", "span": "71-year-old"}, "the number 70 is not written in the span"),
    ({"value": "seventy", "unit": "years", "span": "71-year-old"}, "not a number"),
    ({"value": 71, "unit": "months", "span": "71-year-old"}, "wrong unit: the span writes 'years'"),
    ({"value": 1, "unit": "years", "span": "71-year-old"}, "the number 1 is not written"),  # digits of 71
])
def test_inventions_are_rejected_with_their_reason(given, reason) -> None:
    c = check("creatinine_clearance", "age", **given)
    assert c.status == "rejected" and c.canonical is None and reason in c.reason


def test_units_must_be_supported_by_the_span() -> None:
    wrong = check("creatinine_clearance", "creatinine", value=125, unit="mg/dL", span="creatinine of 125 µmol/L")
    assert wrong.status == "rejected" and "wrong unit: the span writes 'µmol/L', the model said 'mg/dL'" in wrong.reason
    unknown = check("creatinine_clearance", "weight", value=59, unit="stone", span="weight: 59 kg")
    assert unknown.status == "rejected" and "'stone' is not accepted for weight" in unknown.reason
    # a unit written elsewhere in the span counts (BP 120/80 mmHg); another one there is a wrong unit
    assert check("mean_arterial_pressure", "systolic_bp", value=120, unit="mmHg", span="BP 120/80 mmHg").status \
        == "accepted"
    kpa = check("mean_arterial_pressure", "systolic_bp", value=120, unit="kPa", span="BP 120/80 mmHg")
    assert kpa.status == "rejected" and "wrong unit" in kpa.reason
    # no unit in the span: the canonical unit is implied (and recorded as such); another unit is not supported
    implied = check("sirs_criteria", "temperature", value=38.5, unit="C", span="temperature 38.5")
    assert implied.status == "accepted" and implied.unit_support == "implied"
    guessed = check("sirs_criteria", "temperature", value=101.3, unit="F", span="temp 101.3")
    assert guessed.status == "rejected" and "not written in the span" in guessed.reason
    # the calculator's own validation still applies after conversion (101.3 °C is not a temperature)
    hot = check("sirs_criteria", "temperature", value=101.3, unit=None, span="temp 101.3")
    assert hot.status == "rejected" and "the calculator rejects it" in hot.reason


def test_dates_must_be_written_in_their_span() -> None:
    ok = check("estimated_due_date", "last_menstrual_period", value="2024-03-15", span="period 03/15/2024")
    assert ok.status == "accepted" and ok.canonical == "2024-03-15"
    bad = check("estimated_due_date", "last_menstrual_period", value="2024-03-16", span="period 03/15/2024")
    assert bad.status == "rejected" and "2024-03-16 is not written in the span" in bad.reason


def test_not_given_is_missing_not_rejected() -> None:
    assert check_input(CRCL, "height", None, NOTE).status == "not_given"
    assert check("creatinine_clearance", "height").status == "not_given"


def test_bare_values_are_kept_and_rejected_for_their_missing_span() -> None:
    answer = FillAnswer.model_validate({"inputs": {"age": 71, "sex": None}})
    assert answer.inputs["age"] == ModelInput(value=71) and answer.inputs["sex"] is None
    assert check_input(CRCL, "age", answer.inputs["age"], NOTE).reason.startswith("no span quoted")


def test_asked_fields_full_and_hybrid() -> None:
    assert asked_fields(CRCL) == ["age", "sex", "weight", "creatinine", "height"]  # weight_basis is a setting
    assert asked_fields(CRCL, {"age": 71, "sex": "male", "creatinine": 1.4}) == ["weight", "height"]
    assert asked_fields(CRCL, {"age": 71, "sex": "male", "creatinine": 1.4, "weight": 59, "height": 155}) == []


def test_fill_prompt_is_typed_from_the_calculator_inputs() -> None:
    system, user = (m.content for m in fill_messages(CRCL, ["weight", "sex"], "note text"))
    assert system.startswith("Role: medcalc fill") and "copied character for character" in system
    assert "- weight [number with a unit; required]: actual body weight" in user
    assert "accepted units: kg (also g, lb, oz); range 0.3-650" in user and "- sex [male/female; required]" in user
    assert "creatinine" not in user.split("Note:")[0].split("Inputs:")[1]


def test_model_summary_counts_rejections_by_reason() -> None:
    item = LLMNoteItemResult(row_number="1", calculator_name="x", calculator_id="x", category="lab", answer=None,
                             label="1", correct=False, rejected=["age", "weight"], model_calls=2, model_inputs=[
                                 InputCheck(field="age", status="rejected", reason="the span is not in the note "
                                                                                   "(model invention)"),
                                 InputCheck(field="weight", status="rejected", reason="wrong unit: ..."),
                                 InputCheck(field="sex", status="accepted"), InputCheck(field="h", status="not_given")])
    s = model_summary([item])
    assert s["rejected_by_reason"] == {"invented span": 1, "wrong unit": 1} and s["model_inputs_given"] == 3
    assert s["model_inputs_accepted"] == 1 and s["items_with_rejections"] == 1 and s["model_calls"] == 2


def test_a_finding_the_note_negates_or_gives_to_a_relative_is_rejected() -> None:
    wells = get_calculator("wells_pe")
    note = "He denies hemoptysis. His mother had a DVT. He has active cancer (lung adenocarcinoma)."
    negated = check_input(wells, "hemoptysis", ModelInput(value=True, span="denies hemoptysis"), note)
    assert negated.status == "rejected" and "negates" in negated.reason
    family = check_input(wells, "previous_dvt", ModelInput(value="yes", span="mother had a DVT"), note)
    assert family.status == "rejected" and "relative" in family.reason
    assert check_input(wells, "malignancy", ModelInput(value=True, span="active cancer"), note).canonical is True
    assert check_input(wells, "hemoptysis", ModelInput(value=False, span="denies hemoptysis"), note).canonical is False
