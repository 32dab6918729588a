"""FHIR R4 in and out: a synthetic patient's Bundle read around one encounter, cited, verified and written back.

The Bundle below was written for these tests: a 71-year-old man in the emergency department with community-
acquired pneumonia, the FHIR counterpart of examples/cases/pneumonia.json (vitals in UCUM units, a blood
pressure panel, labs in other units than the JSON case, conditions with their statuses, medications, allergies,
a note as a DocumentReference attachment), plus the traps a real export holds: an earlier encounter, a later
condition, the encounter's own diagnosis, a refuted condition, a stopped and an encounter-time medication, an
unmapped code and an Observation that is not valid R4.
"""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wardround.case import Case, load_case_file, load_fhir
from wardround.cli import app
from wardround.errors import CaseError

ROOT = Path(__file__).resolve().parents[2]
JSON_CASE = ROOT / "examples" / "cases" / "pneumonia.json"
NOTE = json.loads(JSON_CASE.read_text())["note"]
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFY = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
PATIENT = {"reference": "Patient/pt-1"}
ENC = {"reference": "Encounter/enc-ed"}
ED_TIME = "2024-03-10T09:30:00Z"


def _obs(oid: str, code: str, display: str, value: float | str, ucum: str, *, enc: dict | None = ENC,
         when: str = ED_TIME, category: str = "vital-signs") -> dict:
    return {"resourceType": "Observation", "id": oid, "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                      "code": category}]}],
            "code": {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display},
            "subject": PATIENT, **({"encounter": enc} if enc else {}), "effectiveDateTime": when,
            "valueQuantity": {"value": value, "unit": ucum, "system": UCUM, "code": ucum}}


def _lab(oid: str, code: str, display: str, value: float, ucum: str) -> dict:
    return _obs(oid, code, display, value, ucum, category="laboratory")


def _condition(cid: str, code: str, display: str, onset: str, *, clinical: str = "active",
               verification: str = "confirmed", enc: dict | None = None) -> dict:
    return {"resourceType": "Condition", "id": cid,
            "clinicalStatus": {"coding": [{"system": CLINICAL, "code": clinical}]},
            "verificationStatus": {"coding": [{"system": VERIFY, "code": verification}]},
            "code": {"coding": [{"system": SNOMED, "code": code, "display": display}], "text": display},
            "subject": PATIENT, **({"encounter": enc} if enc else {}), "onsetDateTime": onset}


def _med_request(mid: str, name: str, status: str, authored: str, enc: dict | None = None) -> dict:
    return {"resourceType": "MedicationRequest", "id": mid, "status": status, "intent": "order",
            "medicationCodeableConcept": {"text": name}, "subject": PATIENT,
            **({"encounter": enc} if enc else {}), "authoredOn": authored}


def synthetic_bundle() -> dict:
    """The FHIR Bundle of the synthetic pneumonia patient (type collection)."""
    resources = [
        {"resourceType": "Patient", "id": "pt-1", "gender": "male", "birthDate": "1952-06-01"},
        {"resourceType": "Encounter", "id": "enc-old", "status": "finished",
         "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
         "subject": PATIENT, "period": {"start": "2023-01-05T10:00:00Z", "end": "2023-01-05T10:30:00Z"}},
        {"resourceType": "Encounter", "id": "enc-ed", "status": "finished",
         "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "EMER"},
         "subject": PATIENT, "period": {"start": "2024-03-10T09:00:00Z", "end": "2024-03-10T15:00:00Z"},
         "reasonCode": [{"text": "Fever, productive cough and right-sided chest pain"}]},
        # an earlier visit: not today's findings
        _obs("hr-old", "8867-4", "Heart rate", 72, "/min", enc={"reference": "Encounter/enc-old"},
             when="2023-01-05T10:05:00Z"),
        # today: vitals in UCUM units, blood pressure as a panel
        _obs("hr", "8867-4", "Heart rate", 108, "/min"),
        {**_obs("bp", "85354-9", "Blood pressure panel", 0, "mm[Hg]"), "valueQuantity": None,
         "component": [
             {"code": {"coding": [{"system": LOINC, "code": "8480-6", "display": "Systolic blood pressure"}]},
              "valueQuantity": {"value": 132, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"}},
             {"code": {"coding": [{"system": LOINC, "code": "8462-4", "display": "Diastolic blood pressure"}]},
              "valueQuantity": {"value": 76, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"}}]},
        _obs("rr", "9279-1", "Respiratory rate", 26, "/min"),
        _obs("temp", "8310-5", "Body temperature", 102.02, "[degF]"),
        _obs("spo2", "59408-5", "Oxygen saturation by pulse oximetry", 90, "%"),
        _obs("bmi", "39156-5", "Body mass index", 27.1, "kg/m2"),  # no case field: listed as unmapped
        # labs in units other than the JSON case's (UCUM codes, converted through wardround.units)
        _lab("wbc", "6690-2", "Leukocytes [#/volume] in Blood", 17.2, "10*3/uL"),
        _lab("creat", "2160-0", "Creatinine [Mass/volume] in Serum or Plasma", 114.9, "umol/L"),
        _lab("bun", "3094-0", "Urea nitrogen [Mass/volume] in Serum or Plasma", 24, "mg/dL"),
        _lab("na", "2951-2", "Sodium [Moles/volume] in Serum or Plasma", 134, "mmol/L"),
        _lab("crp", "1988-5", "C reactive protein [Mass/volume] in Serum or Plasma", 186, "mg/L"),
        _lab("lact", "2524-7", "Lactate [Moles/volume] in Serum or Plasma", 1.8, "mmol/L"),
        _lab("bad", "2345-7", "Glucose [Mass/volume] in Serum or Plasma", "abc", "mg/dL"),  # not valid R4
        {"resourceType": "Observation", "id": "smoking", "status": "final",
         "code": {"coding": [{"system": LOINC, "code": "72166-2", "display": "Tobacco smoking status"}]},
         "subject": PATIENT, "effectiveDateTime": "2023-01-05T10:05:00Z",
         "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "8517006", "display": "Ex-smoker"}]}},
        # history, and what must not be history
        _condition("htn", "38341003", "Hypertension", "2010-04-01"),
        _condition("t2dm", "44054006", "Type 2 diabetes", "2015-09-01"),
        _condition("asthma", "195967001", "Asthma", "2012-01-01", verification="refuted"),
        _condition("pneu", "233604007", "Pneumonia", ED_TIME, enc=ENC),  # the encounter's own diagnosis
        _condition("effusion", "60046008", "Pleural effusion", "2024-03-20"),  # later: not known yet
        {"resourceType": "MedicationStatement", "id": "metformin", "status": "active",
         "medicationCodeableConcept": {"text": "metformin"}, "subject": PATIENT,
         "effectiveDateTime": "2016-01-01"},
        _med_request("amlodipine", "amlodipine", "active", "2019-05-01"),
        _med_request("ibuprofen", "ibuprofen", "stopped", "2018-02-01"),
        _med_request("amoxicillin", "amoxicillin", "active", ED_TIME, enc=ENC),  # today's treatment
        {"resourceType": "AllergyIntolerance", "id": "pen",
         "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-"
                                                  "clinical", "code": "active"}]},
         "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-"
                                                      "verification", "code": "confirmed"}]},
         "code": {"text": "Penicillin"}, "patient": PATIENT, "recordedDate": "2000-01-01",
         "reaction": [{"manifestation": [{"text": "Hives"}]}]},
        {"resourceType": "DocumentReference", "id": "note", "status": "current",
         "type": {"coding": [{"system": LOINC, "code": "34111-5", "display": "Emergency department note"}]},
         "subject": PATIENT, "date": "2024-03-10T10:00:00Z", "context": {"encounter": [ENC]},
         "content": [{"attachment": {"contentType": "text/plain",
                                     "data": base64.b64encode(NOTE.encode()).decode()}}]},
    ]
    for r in resources:
        if r.get("valueQuantity", 1) is None:
            del r["valueQuantity"]
    return {"resourceType": "Bundle", "id": "synthetic-pneumonia", "type": "collection",
            "entry": [{"fullUrl": f"urn:uuid:{r['resourceType'].lower()}-{r['id']}", "resource": r}
                      for r in resources]}


@pytest.fixture
def bundle_file(tmp_path: Path) -> Path:
    p = tmp_path / "pneumonia_bundle.json"
    p.write_text(json.dumps(synthetic_bundle(), indent=1))
    return p


def equivalent_json_case() -> dict:
    """The JSON case a clinician would write for the same patient (pneumonia.json, with the allergy)."""
    data = json.loads(JSON_CASE.read_text())
    data["history"]["allergies"] = ["Penicillin (Hives)"]
    return data


# -- FHIR in ---------------------------------------------------------------------------------------------------


def test_bundle_reads_into_a_case_around_the_latest_encounter(bundle_file: Path):
    loaded = load_case_file(bundle_file)
    c = loaded.case
    assert c.age == 71 and c.sex == "male"
    assert c.chief_complaint == "Fever, productive cough and right-sided chest pain"
    v = c.vitals
    assert (v.heart_rate, v.systolic_bp, v.diastolic_bp, v.respiratory_rate, v.spo2) == (108, 132, 76, 26, 90)
    assert v.temperature_c == pytest.approx(38.9)  # 102.02 [degF] through wardround.units
    labs = {lab.analyte: lab for lab in c.labs}
    assert set(labs) == {"wbc", "creatinine", "bun", "sodium", "crp", "lactate"}
    assert (labs["creatinine"].value, labs["creatinine"].unit) == (114.9, "µmol/L")
    assert labs["creatinine"].canonical_value() == pytest.approx(1.2998, abs=1e-3)
    assert labs["wbc"].unit == "10^3/µL" and labs["wbc"].canonical_value() == pytest.approx(17.2)
    h = c.history
    assert h.conditions == ["Hypertension", "Type 2 diabetes", "former smoker"]  # refuted asthma left out
    assert h.medications == ["amlodipine", "metformin"]  # stopped ibuprofen and today's amoxicillin left out
    assert h.allergies == ["Penicillin (Hives)"]
    assert c.note == NOTE
    # the encounter's own diagnosis is the gold label, never in the case; the later condition is nowhere
    assert loaded.expected is not None and loaded.expected.diagnosis == "Pneumonia"
    dumped = c.model_dump_json(exclude={"fhir"}).lower()
    assert "pneumonia" not in json.dumps(c.history.model_dump()).lower()
    assert "effusion" not in dumped and "amoxicillin" not in dumped and "asthma" not in dumped
    assert c.fhir is not None and c.fhir.encounter == "Encounter/enc-ed"
    assert c.fhir.sources["vitals.temperature_c"].cite() == "Observation/temp valueQuantity"
    assert c.fhir.sources["vitals.systolic_bp"].element == "component[0].valueQuantity"


def test_unmapped_codes_and_invalid_resources_are_listed_never_dropped(bundle_file: Path):
    issues = Case.from_fhir(bundle_file).value_issues()
    text = "\n".join(issues)
    assert "unmapped Observation code LOINC 39156-5 'Body mass index'" in text
    assert "Observation/bad: not valid FHIR R4 (valueQuantity.value" in text
    assert "Condition/asthma (Asthma): verificationStatus refuted; not used" in text
    assert "1 Observations of earlier encounters are not today's findings" in text
    assert "1 stopped" in text and "treatment given at this encounter" in text
    assert "are this encounter's diagnosis: kept out of the case" in text
    assert all(i.startswith("FHIR: ") for i in issues)


def test_encounter_option_builds_the_case_around_an_earlier_encounter(bundle_file: Path):
    c = Case.from_fhir(bundle_file, encounter="enc-old")
    assert c.vitals.heart_rate == 72 and c.labs == [] and c.note == ""
    assert c.age == 70  # at that encounter
    assert c.history.conditions == ["Hypertension", "Type 2 diabetes", "former smoker"]
    assert c.history.medications == ["amlodipine", "metformin"]
    with pytest.raises(CaseError, match="no Encounter 'enc-nope'.*enc-ed"):
        Case.from_fhir(bundle_file, encounter="enc-nope")


def test_dict_model_and_text_inputs_give_the_same_case(bundle_file: Path):
    from fhir.resources.R4B.bundle import Bundle

    b = synthetic_bundle()
    del b["entry"][16]  # fhir.resources refuses the invalid Observation as a whole model
    by_dict = Case.from_fhir(b)
    by_model = Case.from_fhir(Bundle.model_validate(b))
    by_text = Case.from_dict(json.loads(json.dumps(b)))
    assert by_dict.vitals == by_model.vitals == by_text.vitals
    assert by_dict.labs == by_model.labs == by_text.labs
    assert by_dict.fhir.bundle_path is None and Case.from_fhir(bundle_file).fhir.bundle_path == str(bundle_file)


@pytest.mark.parametrize(("bundle", "message"), [
    ({"resourceType": "Patient", "id": "x"}, "resourceType: this is a FHIR 'Patient' resource, not a Bundle"),
    ({"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"id": "x"}}]},
     r"Bundle.entry\[0\].resource.resourceType: missing"),
    ({"resourceType": "Bundle", "type": "not-a-type", "entry": [{"resource": {"resourceType": "Patient"}}]},
     "Bundle.type: 'not-a-type' is not a Bundle type"),
    ({"resourceType": "Bundle", "type": "collection", "timestamp": "yesterday",
      "entry": [{"resource": {"resourceType": "Patient"}}]}, "Bundle: not a valid FHIR R4 Bundle: timestamp"),
    ({"resourceType": "Bundle", "type": "collection", "entry": "x"}, "Bundle.entry: expected a list"),
    ({"resourceType": "Bundle", "type": "collection",
      "entry": [{"resource": {"resourceType": "Patient", "id": "a"}}]}, "holds no clinical content"),
])
def test_what_is_not_a_usable_bundle_gets_a_clear_error(bundle: dict, message: str):
    with pytest.raises(CaseError, match=message):
        Case.from_fhir(bundle)


# -- through the ward, verified ------------------------------------------------------------------------------


def _run_cli(path: Path, *args: str) -> dict:
    out = CliRunner().invoke(app, ["run", str(path), "--json", *args])
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def test_bundle_runs_to_the_same_verified_primary_as_the_json_case(bundle_file: Path, tmp_path: Path):
    json_case = tmp_path / "pneumonia_equivalent.json"
    json_case.write_text(json.dumps(equivalent_json_case()))
    from_fhir = _run_cli(bundle_file)
    from_json = _run_cli(json_case)
    assert from_fhir["verified"] is True and from_json["verified"] is True
    assert from_fhir["diagnosis"]["primary"]["name"] == from_json["diagnosis"]["primary"]["name"] \
        == "Community-acquired pneumonia"
    assert from_fhir["diagnosis"]["supported"] is True
    assert any(i.startswith("FHIR: unmapped Observation code LOINC 39156-5") for i in from_fhir["issues"])


@pytest.fixture
def fhir_result(bundle_file: Path):
    import wardround as wr

    return wr.run(Case.from_fhir(bundle_file)), bundle_file


def test_every_fhir_citation_verifies_against_the_bundle(fhir_result):
    from wardround.fhir.verify import check_field, check_note

    result, _ = fhir_result
    assert result.verified
    case = result.case
    fhir_items = [ev for ev in result.ledger if ev.kind == "field" and case.fhir.source_of(ev.field or "")]
    notes = [ev for ev in result.ledger if ev.kind == "note"]
    assert len(fhir_items) >= 15 and notes
    for ev in fhir_items:
        from wardround.evidence import resolve_field

        assert check_field(case.fhir, ev.field, resolve_field(case, ev.field)) is None, ev
    for ev in notes:
        assert check_note(case.fhir, case.note, ev.span) is None
    cited = {ev.field for ev in fhir_items}
    assert {"vitals.temperature_c", "age"} <= cited and any(f.startswith("labs[") for f in cited)
    assert result.ledger.verify(case).ok


def test_tampering_with_a_cited_observation_fails_verification(fhir_result):
    result, path = fhir_result
    assert result.verify().ok
    bundle = json.loads(path.read_text())
    for entry in bundle["entry"]:
        if entry["resource"]["id"] == "temp":
            entry["resource"]["valueQuantity"]["value"] = 98.6  # afebrile now
    path.write_text(json.dumps(bundle))
    report = result.verify()
    assert not report.ok
    assert any("Observation/temp valueQuantity in the bundle gives 37.0, not the case's 38.9" in f.reason
               for f in report.failures), report.message()
    # a change elsewhere in a cited resource (not its value) is caught by its hash
    bundle = json.loads(path.read_text())
    for entry in bundle["entry"]:
        if entry["resource"]["id"] == "temp":
            entry["resource"]["valueQuantity"]["value"] = 102.02
        if entry["resource"]["id"] == "hr":
            entry["resource"]["status"] = "amended"
    path.write_text(json.dumps(bundle))
    report = result.verify()
    assert not report.ok and any("Observation/hr has changed" in f.reason for f in report.failures)


def test_tampering_with_the_note_attachment_fails_verification(fhir_result):
    result, path = fhir_result
    bundle = json.loads(path.read_text())
    for entry in bundle["entry"]:
        if entry["resource"]["id"] == "note":
            text = NOTE.replace("crackles", "no crackles")
            entry["resource"]["content"][0]["attachment"]["data"] = base64.b64encode(text.encode()).decode()
    path.write_text(json.dumps(bundle))
    report = result.verify()
    assert not report.ok and any("DocumentReference/note" in f.reason for f in report.failures)


def test_an_in_memory_bundle_verifies_and_a_missing_one_says_why():
    import wardround as wr
    from wardround.fhir import bundle as fb

    b = synthetic_bundle()
    result = wr.run(Case.from_fhir(b))
    assert result.verified
    fb._BY_SHA.clear()
    report = result.verify()
    assert not report.ok and "is not available in memory" in report.failures[0].reason
    fb.register_bundle(copy.deepcopy(b))
    assert result.verify().ok


def test_cli_encounter_option_and_its_errors(bundle_file: Path, tmp_path: Path):
    out = CliRunner().invoke(app, ["run", str(bundle_file), "--encounter", "enc-nope"])
    assert out.exit_code == 2 and "no Encounter 'enc-nope'" in out.output
    plain = tmp_path / "plain.json"
    plain.write_text(JSON_CASE.read_text())
    out = CliRunner().invoke(app, ["run", str(plain), "--encounter", "enc-ed"])
    assert out.exit_code == 2 and "not a FHIR Bundle" in out.output
    data = _run_cli(bundle_file, "--encounter", "enc-old")
    assert data["case"]["vitals"]["heart_rate"] == 72


# -- FHIR out --------------------------------------------------------------------------------------------------


def test_to_fhir_is_a_valid_r4_diagnostic_report_citing_the_bundle(fhir_result):
    from fhir.resources.R4B.diagnosticreport import DiagnosticReport

    result, _ = fhir_result
    report = result.to_fhir()
    assert isinstance(report, DiagnosticReport)
    again = DiagnosticReport.model_validate_json(report.model_dump_json())  # round trip through JSON
    data = json.loads(again.model_dump_json(exclude_none=True))
    assert data["status"] == "preliminary"
    assert data["subject"] == {"reference": "Patient/pt-1"} and data["encounter"] == {"reference": "Encounter/enc-ed"}
    assert data["conclusionCode"][0]["coding"][0] == {"system": "http://hl7.org/fhir/sid/icd-10", "code": "J18.9",
                                                      "display": "Community-acquired pneumonia"}
    first = data["contained"][0]
    assert first["code"]["coding"][0]["code"] == "J18.9"
    assert first["valueQuantity"]["code"] == "1" and 0.5 < first["valueQuantity"]["value"] <= 1
    assert [r["reference"] for r in data["result"]] == [f"#{o['id']}" for o in data["contained"]]
    derived = {r["reference"] for r in first["derivedFrom"]}
    assert {"Observation/temp", "Observation/crp"} <= derived
    assert "= Observation/temp valueQuantity" in first["note"][0]["text"]
    probabilities = [o["valueQuantity"]["value"] for o in data["contained"]]
    assert probabilities == sorted(probabilities, reverse=True)


def test_to_fhir_of_a_json_case_names_the_case_and_refuses_no_diagnosis():
    import wardround as wr

    result = wr.run(JSON_CASE)
    data = json.loads(result.to_fhir().model_dump_json(exclude_none=True))
    assert data["subject"] == {"display": "wardround case pneumonia"} and "encounter" not in data
    with pytest.raises(ValueError, match="no diagnosis"):
        result.model_copy(update={"diagnosis": None}).to_fhir()


def test_load_fhir_returns_the_gold_label_apart(bundle_file: Path):
    loaded = load_fhir(bundle_file)
    assert loaded.expected.diagnosis == "Pneumonia"
    assert "Condition/pneu" in loaded.expected.notes
    assert "Pneumonia" not in loaded.case.model_dump_json(exclude={"fhir"})


# -- robustness ------------------------------------------------------------------------------------------------


def test_bundles_with_random_content_raise_only_case_errors():
    """Whatever a bundle holds, reading it gives a case or a one-line CaseError, never another exception."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    scalar = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False),
                       st.text(max_size=12), st.sampled_from(["2024-03-10", "x", "", "urn:uuid:a", "Encounter/enc-ed"]))
    json_like = st.recursive(scalar, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                             st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                             max_leaves=10)
    base = synthetic_bundle()

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(position=st.integers(0, len(base["entry"]) - 1), key=st.sampled_from(
        ["valueQuantity", "code", "encounter", "effectiveDateTime", "status", "period", "birthDate", "gender",
         "clinicalStatus", "verificationStatus", "content", "component", "reasonCode", "medicationCodeableConcept",
         "onsetDateTime", "context", "resourceType", "id"]), value=json_like)
    def check(position: int, key: str, value: object) -> None:
        b = copy.deepcopy(base)
        b["entry"][position]["resource"][key] = value
        try:
            case = Case.from_fhir(b)
        except CaseError as exc:
            assert "\n" not in str(exc)
            return
        assert isinstance(case, Case)

    check()
