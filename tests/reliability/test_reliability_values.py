"""Value hygiene and calculator plausibility ("Clinical safety").

Each test below failed before the fix it names and passes after it:

* case values given as text ("310", "1.2 mg/dL") are read or refused clearly, never dropped (sweep over every
  numeric field of the case schema);
* a lab unit is checked against the analyte ("mg/dk" is refused, listing the accepted units);
* troponin aliases (hs-TnI, hs-cTnI, hs-cTnT, hsTnT, "high-sensitivity troponin I") resolve, and an unknown lab
  name is a flagged issue;
* duplicate JSON keys and conflicting vital spellings (temperature_f vs temperature_c) are errors;
* calculators refuse implausible inputs and impossible results (Cockcroft-Gault with inches typed as cm,
  negative Friedewald LDL, TG >= 400, QTc at HR 20, swapped blood pressures, a repeated CLI argument);
* the HEART troponin item is read as a multiple of the assay's 99th-percentile URL (Six 2008, PMID 18665203).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wardround.case import Case, Vitals, load_case_file
from wardround.errors import CaseError, InputError
from wardround.tools.calculators import calculate
from wardround.tools.calculators.autofill import autofill, run_autofilled
from wardround.units import ANALYTE_ALIASES, find_analyte

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "cases"

# -- numeric fields given as text ------------------------------------------------------------------------------

# (where the value goes, the number as text, the same with a unit, the canonical value expected from the unit form)
_NUMERIC_FIELDS = [
    ("vitals.heart_rate", "96", "96 bpm", 96.0),
    ("vitals.systolic_bp", "158", "158 mmHg", 158.0),
    ("vitals.diastolic_bp", "92", "12.266 kPa", 92.0),
    ("vitals.respiratory_rate", "18", "18 /min", 18.0),
    ("vitals.temperature_c", "36.8", "98.6 F", 37.0),
    ("vitals.spo2", "97", "97 %", 97.0),
    ("vitals.weight_kg", "80", "176 lb", 79.832),
    ("vitals.height_cm", "180", "70 in", 177.8),
    ("vitals.gcs", "15", None, None),
    ("vitals.temperature_f", "98.6", "98.6 F", 37.0),
    ("vitals.weight_lb", "176", "176 lb", 79.832),
    ("vitals.height_in", "70", "70 in", 177.8),
    ("age", "68", "68 years", 68.0),
    ("labs.creatinine", "1.2", "1.2 mg/dL", 1.2),
    ("labs.troponin I", "310", "310 ng/L", 0.31),
]
_CANONICAL = {"temperature_f": "temperature_c", "weight_lb": "weight_kg", "height_in": "height_cm"}
_LAB_UNIT = {"creatinine": "mg/dL", "troponin I": "ng/L"}


def _case_with(where: str, value: object, *, unit: bool = True) -> Case:
    if where.startswith("vitals."):
        return Case.from_dict({"vitals": {where.split(".", 1)[1]: value}})
    if where.startswith("labs."):
        name = where.split(".", 1)[1]
        lab = {"name": name, "value": value}
        if unit:
            lab["unit"] = _LAB_UNIT[name]
        return Case.from_dict({"labs": [lab]})
    return Case.from_dict({where: value})


def _read(case: Case, where: str) -> float | None:
    if where.startswith("vitals."):
        name = where.split(".", 1)[1]
        return getattr(case.vitals, _CANONICAL.get(name, name))
    if where.startswith("labs."):
        return case.labs[0].canonical_value()
    return getattr(case, where)


@pytest.mark.parametrize(("where", "plain", "with_unit", "expected"), _NUMERIC_FIELDS,
                         ids=[f[0] for f in _NUMERIC_FIELDS])
def test_numeric_text_is_read_as_the_number(where: str, plain: str, with_unit: str | None,
                                            expected: float | None) -> None:
    # before: a lab value "310" stayed text, skipped the unit and range checks and was dropped from the round
    number = float(plain)
    got = _read(_case_with(where, plain), where)
    want = _read(_case_with(where, number), where)
    assert got is not None and got == pytest.approx(want)
    if with_unit is not None:
        # before: "96 bpm" was a float_parsing error and a lab "1.2 mg/dL" was kept as text
        read = _read(_case_with(where, with_unit, unit=False), where)
        assert read == pytest.approx(expected, rel=1e-3)


@pytest.mark.parametrize("text", ["high", "trace", ">100"])
@pytest.mark.parametrize("where", [f[0] for f in _NUMERIC_FIELDS])
def test_text_without_a_number_is_a_clear_error(where: str, text: str) -> None:
    # before: text in a lab value of a known analyte passed silently (the value was then dropped)
    with pytest.raises(CaseError) as err:
        _case_with(where, text)
    message = str(err.value)
    field = where.split(".", 1)[1] if where.startswith("vitals.") else where.split(".")[0]
    assert field in message
    assert "give" in message  # says what to give instead
    if text.startswith(">"):
        assert "censored" in message


def test_unit_given_in_the_value_and_in_unit_must_agree() -> None:
    with pytest.raises(CaseError, match="unit"):
        Case.from_dict({"labs": [{"name": "creatinine", "value": "1.2 mg/dL", "unit": "µmol/L"}]})


def test_numeric_text_lab_goes_through_the_range_check() -> None:
    # before: "310" creatinine (a µmol/L value without its unit) was accepted as text and never range-checked
    with pytest.raises(CaseError, match="outside the possible range"):
        Case.from_dict({"labs": [{"name": "creatinine", "value": "310", "unit": "mg/dL"}]})


# -- units validated against the analyte -----------------------------------------------------------------------


@pytest.mark.parametrize("value", [1.2, "1.2"])
def test_unknown_unit_names_the_lab_and_the_accepted_units(value: object) -> None:
    # before: {"value": "1.2", "unit": "mg/dk"} was accepted
    with pytest.raises(CaseError) as err:
        Case.from_dict({"labs": [{"name": "creatinine", "value": value, "unit": "mg/dk"}]})
    message = str(err.value)
    assert "mg/dk" in message and "creatinine" in message
    assert "mg/dL" in message and "µmol/L" in message


# -- troponin aliases; unknown labs flagged ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["hs-TnI", "hs-cTnI", "hs-cTnT", "hsTnT", "high-sensitivity troponin I",
                                  "hs-troponin T"])
def test_troponin_aliases_resolve_in_the_one_alias_table(name: str) -> None:
    # before: hs-TnI resolved to no analyte and its value was dropped without an issue
    assert find_analyte(name) is not None and find_analyte(name).name == "troponin"
    assert " ".join(name.lower().split()) in ANALYTE_ALIASES
    case = Case.from_dict({"labs": [{"name": name, "value": 310, "unit": "ng/L"}]})
    assert case.labs[0].canonical_value() == pytest.approx(0.31)
    assert case.value_issues() == []


def test_unknown_lab_is_a_flagged_issue() -> None:
    case = Case.from_dict({"labs": [{"name": "hs-XYZ", "value": 310, "unit": "ng/L"},
                                    {"name": "blood culture", "value": "positive"}]})
    issues = case.value_issues()
    assert len(issues) == 2
    assert "labs[0]" in issues[0] and "hs-XYZ" in issues[0] and "not a lab wardround knows" in issues[0]
    assert "labs[1]" in issues[1]


# -- duplicate keys and conflicting fields -----------------------------------------------------------------------


def test_duplicate_json_key_is_an_error(tmp_path: Path) -> None:
    p = tmp_path / "dup.json"
    p.write_text('{"age": 40, "sex": "male", "note": "chest pain", "age": 80}', encoding="utf-8")
    with pytest.raises(CaseError) as err:
        load_case_file(p)
    assert err.value.field == "age" and "twice" in str(err.value)
    nested = tmp_path / "dup_lab.json"
    nested.write_text('{"note": "x", "labs": [{"name": "creatinine", "value": 1.0, "value": 9.0, "unit": "mg/dL"}]}',
                      encoding="utf-8")
    with pytest.raises(CaseError, match="value"):
        Case.from_file(nested)


def test_duplicate_yaml_key_is_an_error(tmp_path: Path) -> None:
    p = tmp_path / "dup.yaml"
    p.write_text("note: chest pain\nvitals:\n  heart_rate: 80\n  heart_rate: 140\n", encoding="utf-8")
    with pytest.raises(CaseError) as err:
        load_case_file(p)
    assert err.value.field == "heart_rate" and "twice" in str(err.value)


def test_conflicting_temperature_fields_are_an_error() -> None:
    # before: temperature_f silently overwrote temperature_c
    with pytest.raises(CaseError, match="temperature_f.*disagrees with temperature_c"):
        Case.from_dict({"vitals": {"temperature_c": 37.0, "temperature_f": 102.0}})
    with pytest.raises(CaseError, match="weight_lb"):
        Case.from_dict({"vitals": {"weight_kg": 70, "weight_lb": 220}})
    agree = Vitals.model_validate({"temperature_c": 37.0, "temperature_f": 98.6, "height_cm": 178, "height_in": 70})
    assert agree.temperature_c == 37.0 and agree.height_cm == 178


# -- calculator plausibility ---------------------------------------------------------------------------------------


def test_cockcroft_gault_refuses_an_adult_height_in_inches_typed_as_cm() -> None:
    # before: IBW -33.6 kg, CrCl 16 mL/min, exit 0
    with pytest.raises(InputError) as err:
        calculate("creatinine_clearance", {"age": 60, "sex": "male", "weight": 80, "creatinine": 1.0, "height": 64})
    assert err.value.field == "height" and "64in" in str(err.value)
    ok = calculate("creatinine_clearance", {"age": 60, "sex": "male", "weight": 80, "creatinine": 1.0,
                                            "height": "64 in"})
    assert ok.value > 0


@pytest.mark.parametrize(("calc", "inputs", "field"), [
    ("bmi", {"weight": 80, "height": 67}, "height, weight"),
    ("bmi", {"weight": 600, "height": 180}, "weight"),
    ("body_surface_area", {"weight": 0.1, "height": 50}, "weight"),
    ("adjusted_body_weight", {"sex": "female", "height": 60, "weight": 70}, "height"),
])
def test_implausible_body_size_is_refused(calc: str, inputs: dict, field: str) -> None:
    with pytest.raises(InputError) as err:
        calculate(calc, inputs)
    assert err.value.field == field


def test_friedewald_refuses_a_negative_ldl_and_high_triglycerides() -> None:
    # before: LDL -51 mg/dL "optimal"
    with pytest.raises(InputError, match="negative LDL"):
        calculate("ldl_calculated", {"total_cholesterol": 100, "hdl_cholesterol": 91, "triglycerides": 300})
    # Friedewald 1972 (PMID 4337382): not valid at TG >= 400 mg/dL
    with pytest.raises(InputError) as err:
        calculate("ldl_calculated", {"total_cholesterol": 250, "hdl_cholesterol": 40, "triglycerides": 400})
    assert err.value.field == "triglycerides"
    assert calculate("ldl_calculated", {"total_cholesterol": 200, "hdl_cholesterol": 50,
                                        "triglycerides": 150}).value == 120


@pytest.mark.parametrize("calc", ["qtc_framingham", "qtc_bazett", "qtc_hodges"])
def test_qtc_outside_its_reliable_heart_rates_is_flagged(calc: str) -> None:
    # before: QTc Framingham 92 ms at HR 20, reported without comment
    for rate in (20, 170):
        try:
            out = calculate(calc, {"qt_interval": 300 if rate > 100 else 400, "heart_rate": rate})
        except InputError as err:  # an impossible QTc is refused outright
            assert err.field == "result"
            continue
        assert any("heart_rate" in w and "caution" in w for w in out.warnings), out.warnings
    normal = calculate(calc, {"qt_interval": 400, "heart_rate": 75})
    assert 300 < normal.value < 500 and not normal.warnings


def test_signed_results_and_small_patients_are_computed() -> None:
    # a negative free water deficit is a water excess, not an error; a 1.1 kg preterm neonate has a weight
    assert calculate("free_water_deficit", {"age": 50, "sex": "male", "weight": 70, "sodium": 130}).value < 0
    assert calculate("maintenance_fluids", {"weight": 1.1}).value == pytest.approx(4.4)


def test_swapped_blood_pressures_are_refused_by_every_calculator() -> None:
    # before: CURB-65 took a diastolic above the systolic
    with pytest.raises(InputError) as err:
        calculate("curb_65", {"confusion": False, "bun": 10, "respiratory_rate": 18, "systolic_bp": 60,
                              "diastolic_bp": 95, "age": 50})
    assert err.value.field == "diastolic_bp" and "swapped" in str(err.value)


def test_heart_rate_outside_the_shared_range_is_refused() -> None:
    with pytest.raises(InputError) as err:
        calculate("sirs_criteria", {"temperature": 37, "heart_rate": 15, "respiratory_rate": 18, "wbc": 8},
                  assume_normal=True)
    assert "heart_rate" in err.value.field


def test_calc_cli_refuses_a_repeated_argument() -> None:
    # before: weight=80kg weight=90kg silently took the last value
    from typer.testing import CliRunner

    from wardround.cli.calc import app

    runner = CliRunner()
    for args in (["weight=80kg", "weight=90kg"], ["weight=80kg", "body_weight=90kg"]):
        out = runner.invoke(app, ["run", "bmi", *args, "height=180cm"])
        assert out.exit_code == 2
        assert "given twice" in out.output
    assert runner.invoke(app, ["run", "bmi", "weight=80kg", "height=180cm"]).exit_code == 0


# -- HEART troponin as a multiple of the URL --------------------------------------------------------------------


def _troponin_item(case: Case) -> tuple[str, str]:
    filled = autofill("heart_score", case)
    return filled.inputs["troponin"], filled.how["troponin"]


def test_heart_troponin_of_the_chest_pain_example_is_over_three_times_the_url() -> None:
    # before: 310 ng/L hs-cTnI was scored 1-3x; 310 / 26 ng/L = 11.9x the 99th-percentile URL
    case = load_case_file(EXAMPLES / "chest_pain.json").case
    band, how = _troponin_item(case)
    assert band == "> 3x normal limit"
    assert "26 ng/L" in how and "11.9x" in how
    result, _ = run_autofilled("heart_score", case, policy="assume_normal")
    assert result is not None and any(s.startswith("Troponin:") and "+2 points" in s for s in result.explanation)


@pytest.mark.parametrize(("note", "band"), [
    ("The initial high-sensitivity troponin I was 2,500 ng/L, about 100x normal.", "> 3x normal limit"),
    ("hs-cTnT was 30 ng/L.", "1-3x normal limit"),
    ("The troponin was not normal.", "1-3x normal limit"),
    ("Troponin elevated.", "1-3x normal limit"),
    ("Troponin raised on arrival.", "1-3x normal limit"),
    ("Troponin was not elevated.", "<= normal limit"),
    ("Troponin negative.", "<= normal limit"),
])
def test_heart_troponin_words_and_numbers(note: str, band: str) -> None:
    # before: "not normal" read as <= normal limit (0 points), 2,500 ng/L read as 1-3x
    got, _ = _troponin_item(Case.from_text(f"55 year old man with chest pain. {note}"))
    assert got == band


def test_heart_troponin_from_a_structured_alias_lab() -> None:
    case = Case.from_dict({"note": "chest pain", "age": 60, "labs": [{"name": "hs-cTnT", "value": "50 ng/L"}]})
    band, how = _troponin_item(case)
    assert band == "> 3x normal limit" and "14 ng/L" in how


def test_shipped_example_cases_still_load() -> None:
    for p in sorted(EXAMPLES.glob("*.json")):
        json.loads(p.read_text(encoding="utf-8"))
        load_case_file(p, check_paths=False)


def test_flagged_labs_reach_the_ward_rounds_issues() -> None:
    # before: an unknown lab was kept on the case but the report never said it was not read
    from wardround import api

    result = api.run({"age": 60, "sex": "male", "note": "Chest pain for two hours.",
                      "labs": [{"name": "hs-XYZ", "value": 310, "unit": "ng/L"}, {"name": "sodium", "value": 139, "unit": "mmol/L"}]})
    flagged = [i for i in result.issues if i.startswith("labs[0]")]
    assert len(flagged) == 1 and "hs-XYZ" in flagged[0]
    assert not any(i.startswith("labs[1]") for i in result.issues)  # a known lab with its unit is read
