"""Case validation and loaders: clear one-line errors naming the field, the value and the fix."""

from __future__ import annotations

import json

import pytest

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
