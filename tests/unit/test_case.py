"""Case validation and loaders: clear one-line errors naming the field, the value and the fix."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from wardround.case import Case
from wardround.errors import CaseError


def test_minimal_case_and_defaults():
    c = Case.from_dict({"note": "A 70-year-old man with chest pain."}, check_paths=False)
    assert c.id == "case"
    assert c.sex == "unknown"
    assert c.labs == [] and c.imaging == []


def test_sex_words_are_normalised():
    assert Case.from_dict({"sex": "F", "note": "x"}).sex == "female"
    assert Case.from_dict({"sex": "Male", "note": "x"}).sex == "male"


def test_unit_variants_convert_to_canonical_vitals():
    c = Case.from_dict({"vitals": {"temperature_f": 98.6, "weight_lb": 220, "height_in": 70}})
    assert c.vitals.temperature_c == pytest.approx(37.0, abs=1e-3)
    assert c.vitals.weight_kg == pytest.approx(99.79, abs=0.01)
    assert c.vitals.height_cm == pytest.approx(177.8, abs=1e-3)


def test_lab_canonical_value():
    c = Case.from_dict({"labs": [{"name": "Cr", "value": 176.8, "unit": "umol/L"}]})
    assert c.labs[0].analyte == "creatinine"
    assert c.labs[0].canonical_value() == pytest.approx(2.0, abs=0.01)


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"age": -3}, "age", "greater than or equal to 0"),
        ({"agee": 30}, "agee", "unknown field"),
        ({"labs": [{"name": "creatinine", "value": 1.0, "unit": "furlongs"}]}, "labs[0]", "unknown unit"),
        ({"labs": [{"name": "sodium", "value": 14, "unit": "mmol/L"}]}, "labs[0]", "outside the possible range"),
        ({"vitals": {"systolic_bp": 80, "diastolic_bp": 95}}, "vitals", "lower than systolic"),
        ({"vitals": {"heart_rate": 900}}, "vitals.heart_rate", "less than or equal"),
        ({"sex": "robot"}, "sex", "'male'"),
        ({"imaging": [{"path": "x.nii.gz", "modality": "CT", "extra": 1}]}, "imaging[0].extra", "unknown field"),
    ],
)
def test_bad_input_names_field(data, field, words):
    with pytest.raises(CaseError) as info:
        Case.from_dict(data)
    message = str(info.value)
    assert message.startswith(field + ":"), message
    assert words in message
    assert "\n" not in message


def test_missing_imaging_path(tmp_path):
    p = tmp_path / "c.json"
    p.write_text(json.dumps({"note": "x", "imaging": [{"path": "nope.nii.gz", "modality": "CT"}]}))
    with pytest.raises(CaseError, match=r"imaging\[0\]\.path: file or folder 'nope.nii.gz' does not exist"):
        Case.from_file(p)


def test_imaging_path_relative_to_case_file(tmp_path):
    (tmp_path / "scan.nii.gz").write_bytes(b"\0")
    p = tmp_path / "c.json"
    p.write_text(json.dumps({"note": "x", "imaging": [{"path": "scan.nii.gz", "modality": "ct"}]}))
    c = Case.from_file(p)
    assert c.imaging[0].path == str((tmp_path / "scan.nii.gz").resolve())
    assert c.imaging[0].modality == "CT"


def test_malformed_json_and_yaml(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text('{"note": "x",, }')
    with pytest.raises(CaseError, match=r"file: malformed JSON in bad.json at line 1"):
        Case.from_file(p)
    y = tmp_path / "bad.yaml"
    y.write_text("note: [unclosed\n")
    with pytest.raises(CaseError, match="malformed YAML"):
        Case.from_file(y)


def test_yaml_and_text_loaders(tmp_path):
    y = tmp_path / "c.yaml"
    y.write_text("age: 50\nsex: female\nnote: Fever and cough.\n")
    c = Case.from_file(y)
    assert (c.id, c.age, c.sex) == ("c", 50, "female")
    t = tmp_path / "note.txt"
    t.write_text("A 34-year-old woman with fever.")
    c2 = Case.from_file(t)
    assert (c2.age, c2.sex, c2.id) == (34, "female", "note")


def test_from_text_reads_demographics():
    c = Case.from_text("72 yo M presents with cough.")
    assert c.age == 72 and c.sex == "male"


def test_top_level_must_be_object(tmp_path):
    p = tmp_path / "list.json"
    p.write_text("[1, 2]")
    with pytest.raises(CaseError, match="expected a JSON object"):
        Case.from_file(p)


def test_json_round_trip():
    c = Case.from_dict({"id": "r", "age": 40, "note": "n", "labs": [{"name": "glucose", "value": 5.5, "unit": "mmol/L"}],
                        "options": {"A": "x"}, "question": "q"})
    assert Case.model_validate_json(c.model_dump_json()) == c


# ---------------------------------------------------------------------------------------------------------
# Gold labels stay beside the case, never in it

_GOLD_FILES = {
    "legacy.json": ("json", {"expected_diagnosis": "Pulmonary embolism"}),
    "block.json": ("json", {"expected": {"diagnosis": "Pulmonary embolism", "supported": True,
                                         "coverage": "explained", "unexplained": ["fever"], "notes": "n"}}),
    "both.json": ("json", {"expected_diagnosis": "Pulmonary embolism",
                           "expected": {"diagnosis": "Pulmonary embolism", "supported": True}}),
    "block.yaml": ("yaml", {"expected": {"diagnosis": "Pulmonary embolism", "supported": True}}),
}


def _write(tmp_path, name: str, kind: str, gold: dict):
    import yaml

    data = {"id": "g", "age": 50, "sex": "female", "note": "Pleuritic chest pain after a long flight.", **gold}
    p = tmp_path / name
    p.write_text(json.dumps(data) if kind == "json" else yaml.safe_dump(data))
    return p, data


@pytest.mark.parametrize("name", sorted(_GOLD_FILES))
def test_gold_keys_never_reach_the_case(tmp_path, name):
    from wardround.case import GOLD_KEYS, CaseFile, Expected, load_case_file

    p, data = _write(tmp_path, name, *_GOLD_FILES[name])
    for case in (Case.from_file(p), Case.from_dict(data), load_case_file(p).case):
        assert not any(k in Case.model_fields for k in GOLD_KEYS)
        assert not hasattr(case, "expected_diagnosis") and not hasattr(case, "expected")
        dumped = case.model_dump()
        assert not set(GOLD_KEYS) & set(dumped)
        assert "Pulmonary embolism" not in case.model_dump_json()
    loaded = load_case_file(p)
    assert isinstance(loaded, CaseFile) and isinstance(loaded.expected, Expected)
    assert loaded.expected.diagnosis == "Pulmonary embolism"
    assert loaded.expected.supported is (None if name == "legacy.json" else True)
    if name == "block.json":
        assert loaded.expected.coverage == "explained"
        assert loaded.expected.unexplained == ["fever"] and loaded.expected.notes == "n"


def test_case_file_without_gold_has_none(tmp_path):
    from wardround.case import load_case_file

    p, _ = _write(tmp_path, "plain.json", "json", {})
    assert load_case_file(p).expected is None
    t = tmp_path / "note.txt"
    t.write_text("34 year old woman with headache.")
    loaded = load_case_file(t)
    assert loaded.expected is None and loaded.case.id == "note"


@pytest.mark.parametrize(("gold", "field", "words"), [
    ({"expected": {"diagnosis": "PE", "coverag": "explained"}}, "expected.coverag", "unknown field"),
    ({"expected": {"coverage": "mostly"}}, "expected.coverage", "explained"),
    ({"expected": {"supported": "perhaps"}}, "expected.supported", "bool"),
    ({"expected": "PE"}, "expected", "object"),
    ({"expected_diagnosis": "A", "expected": {"diagnosis": "B"}}, "expected_diagnosis", "disagrees"),
])
def test_bad_gold_block_is_a_clear_error_of_the_loader_only(tmp_path, gold, field, words):
    from wardround.case import load_case_file

    p, _ = _write(tmp_path, "bad.json", "json", gold)
    assert Case.from_file(p).id == "g"  # the agent-visible case does not read the gold keys at all
    with pytest.raises(CaseError) as info:
        load_case_file(p)
    assert info.value.field == field and words in str(info.value), str(info.value)


def test_other_unknown_keys_are_still_errors():
    with pytest.raises(CaseError, match="expected_diagnosiss: unknown field"):
        Case.from_dict({"note": "x", "expected_diagnosiss": "PE"})
    with pytest.raises(ValidationError, match="expected_diagnosis"):
        Case.model_validate({"note": "x", "expected_diagnosis": "PE"})  # only from_dict strips gold keys
