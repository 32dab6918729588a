"""Tests of the shipped knowledge base, its loader's validation errors and the example cases."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from wardround.case import load_case_file
from wardround.errors import KnowledgeError
from wardround.knowledge import (
    Condition,
    DemographicRule,
    Finding,
    FindingLR,
    KnowledgeBase,
    LabRule,
    Specialty,
    VitalRule,
    load_knowledge,
)
from wardround.knowledge.models import ICD10, REFERENCE
from wardround.units import ANALYTES

REPO = Path(__file__).resolve().parents[2]
CASES = sorted((REPO / "examples" / "cases").glob("*.json"))
TEXT_CASES = ["acute_kidney_injury", "chest_pain", "meningitis", "pancreatitis", "pneumonia", "pulmonary_embolism",
              "stroke", "upper_gi_bleed"]


# ---------------------------------------------------------------------------------------------------------
# The shipped knowledge base


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge()


ACUTE_TAKE = ("cardiology", "pulmonology", "nephrology", "neurology", "gastroenterology_hepatology",
              "infectious_disease", "endocrinology_diabetes", "haematology_oncology", "rheumatology",
              "obstetrics_gynaecology", "toxicology", "ophthalmology", "urology", "general_surgery",
              "vascular_surgery", "dermatology", "psychiatry", "allergy_immunology")


def test_shipped_kb_covers_the_acute_take(kb: KnowledgeBase) -> None:
    assert len(kb.specialties) >= 18
    assert len(kb.conditions) >= 150
    assert len(kb.findings) >= 300
    for required in ACUTE_TAKE:
        assert required in kb.specialties
        assert len(kb.conditions_for(required)) >= 4, required
    # the presentations named by the issue that a new user tries first
    for name in ("diabetic ketoacidosis", "anaphylaxis", "ectopic pregnancy", "septic arthritis",
                 "giant cell arteritis", "paracetamol overdose", "testicular torsion", "guillain-barre syndrome",
                 "acute angle-closure glaucoma"):
        assert kb.find_condition(name) is not None, name


def test_specialty_prefixes_are_unique_and_not_reserved(kb: KnowledgeBase) -> None:
    prefixes = [s.prefix for s in kb.specialties.values()]
    assert len(prefixes) == len(set(prefixes))
    assert not {"E", "AT", "HR"} & set(prefixes)
    assert kb.specialty_by_prefix("CA") is kb.specialties["cardiology"]
    assert list(kb.specialties)[0] == "cardiology"  # file order kept


def test_every_condition_is_complete_and_cited(kb: KnowledgeBase) -> None:
    for cond in kb.conditions.values():
        assert ICD10.match(cond.icd10), cond.id
        assert 0 < cond.prior < 1, cond.id
        assert cond.prior_context and REFERENCE.match(cond.prior_reference), cond.id
        assert cond.references and all(REFERENCE.match(r) for r in cond.references), cond.id
        assert cond.specialty in kb.specialties
        # per-finding evidence, or the presenting findings / published criteria that carry the prior
        assert cond.findings or cond.presenting or cond.criteria, cond.id
        assert cond.next_steps, cond.id
        for finding_id, lr in cond.findings.items():
            assert finding_id in kb.findings, (cond.id, finding_id)
            assert lr.lr_pos is not None or lr.lr_neg is not None
            for value in (lr.lr_pos, lr.lr_neg):
                assert value is None or value > 0, (cond.id, finding_id)
            assert REFERENCE.match(lr.reference), (cond.id, finding_id)


def test_cited_ids_are_registered_with_their_citation(kb: KnowledgeBase) -> None:
    cited = set()
    for cond in kb.conditions.values():
        cited.update([cond.prior_reference, *cond.references, *(lr.reference for lr in cond.findings.values())])
    ids = {r for r in cited if not r.startswith("unverified:")}
    assert ids, "the knowledge base cites no verified primary reference"
    assert ids <= set(kb.references)
    for key, ref in kb.references.items():
        assert ref.key == key
        if key.startswith("PMID:"):
            assert ref.pmid == key.split(":", 1)[1]
        else:
            assert ref.doi == key.split(":", 1)[1]
    # most likelihood ratios come from an identified primary source
    lrs = [lr for c in kb.conditions.values() for lr in c.findings.values()]
    assert sum(not lr.reference.startswith("unverified:") for lr in lrs) / len(lrs) > 0.5


def test_findings_are_detectable_and_route_to_known_specialties(kb: KnowledgeBase) -> None:
    for finding in kb.findings.values():
        assert finding.patterns or finding.vital or finding.lab or finding.demographic or finding.history
        assert all(p == p.lower() for p in finding.patterns)
        assert set(finding.specialties) <= set(kb.specialties)
        if finding.lab is not None:
            assert finding.lab.analyte in ANALYTES
    # the vital and lab thresholds named in the design
    assert kb.findings["tachycardia"].vital == VitalRule(field="heart_rate", op=">", value=100)
    assert kb.findings["hypotension"].vital == VitalRule(field="systolic_bp", op="<", value=90)
    assert kb.findings["fever"].vital == VitalRule(field="temperature_c", op=">=", value=38.0)
    assert kb.findings["hypoxaemia"].vital == VitalRule(field="spo2", op="<", value=92)
    assert kb.findings["troponin_elevated"].lab == LabRule(analyte="troponin", op=">", value=0.04)
    assert kb.findings["lipase_elevated"].lab == LabRule(analyte="lipase", op=">", value=180)
    assert kb.findings["csf_pleocytosis"].lab == LabRule(analyte="csf_wbc", op=">", value=100)


def test_find_condition_by_id_name_alias_and_spelling(kb: KnowledgeBase) -> None:
    assert kb.find_condition("acute_coronary_syndrome").id == "acute_coronary_syndrome"
    assert kb.find_condition("  Heart   ATTACK ").id == "acute_coronary_syndrome"
    assert kb.find_condition("Ischemic stroke").id == "ischaemic_stroke"
    assert kb.find_condition("haemorrhagic-stroke").id == "intracerebral_haemorrhage"
    assert kb.find_condition("Subarachnoid hemorrhage").id == "subarachnoid_haemorrhage"
    assert kb.find_condition("Upper gastrointestinal bleeding").id == "upper_gi_bleed"
    assert kb.find_condition("pyelonephritis").id == "urinary_tract_infection"
    assert kb.find_condition("hyperkalemia").id == "hyperkalaemia"
    assert kb.find_condition("chilblains") is None
    assert kb.find_condition("") is None


def test_conditions_for_keeps_file_order_and_rejects_unknown(kb: KnowledgeBase) -> None:
    cardio = kb.conditions_for("cardiology")
    assert cardio[0].id == "acute_coronary_syndrome"
    assert all(c.specialty == "cardiology" for c in cardio)
    with pytest.raises(KnowledgeError, match="unknown specialty 'podiatry'"):
        kb.conditions_for("podiatry")


def test_load_knowledge_is_cached(kb: KnowledgeBase) -> None:
    assert load_knowledge() is kb
    assert load_knowledge(Path(kb.source)) is kb


def test_rules_match_their_thresholds() -> None:
    assert VitalRule(field="heart_rate", op=">", value=100).matches(101)
    assert not VitalRule(field="heart_rate", op=">", value=100).matches(100)
    assert LabRule(analyte="creatinine", op=">", value=1.5).matches(2.0)
    assert LabRule(analyte="creatinine", op=">", value=1.5).unit == "mg/dL"
    age = DemographicRule(field="age", op=">", value=65)
    assert age.matches(age=70) is True and age.matches(age=60) is False and age.matches() is None
    male = DemographicRule(field="sex", op="==", value="male")
    assert male.matches(sex="male") is True and male.matches(sex="female") is False
    assert male.matches(sex="unknown") is None


def test_models_are_frozen_and_strict() -> None:
    lr = FindingLR(lr_pos=2.0, reference="PMID:12503981")
    with pytest.raises(ValidationError):
        lr.lr_pos = 3.0  # type: ignore[misc]
    with pytest.raises(ValidationError):
        FindingLR(lr_pos=2.0, reference="PMID:1", typo=1)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        FindingLR(reference="PMID:1")
    with pytest.raises(ValidationError):
        Specialty(id="x", name="X", prefix="AT", description="reserved prefix")
    with pytest.raises(ValidationError):
        DemographicRule(field="sex", op=">", value="male")
    with pytest.raises(ValidationError):
        Finding(id="nothing", name="No source")
    assert Condition.model_fields["icd10"].is_required()


# ---------------------------------------------------------------------------------------------------------
# Example cases


def test_all_eight_text_cases_ship() -> None:
    assert set(TEXT_CASES) <= {p.stem for p in CASES}


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_example_case_validates_and_resolves(path: Path, kb: KnowledgeBase) -> None:
    loaded = load_case_file(path)
    case, expected = loaded.case, loaded.expected
    assert expected is not None, f"{path.name}: add an 'expected' block"
    assert "expected_diagnosis" not in json.loads(path.read_text()), "use the 'expected' block"
    if expected.supported is not False:
        assert expected.diagnosis
        cond = kb.find_condition(expected.diagnosis)
        assert cond is not None, expected.diagnosis
        assert cond.name == expected.diagnosis
    sentences = [s for s in re.split(r"(?<=[.;!?])\s+", case.note) if s.strip()]
    assert 5 <= len(sentences) <= 16, (path.stem, len(sentences))
    assert re.search(r"\b(denies|no|without|not)\b", case.note, re.I), "notes carry pertinent negatives"
    assert case.sex in ("male", "female") and case.age is not None
    assert all(lab.analyte is not None for lab in case.labs), [lab.name for lab in case.labs if lab.analyte is None]


# ---------------------------------------------------------------------------------------------------------
# Loader validation: each kind of bad file is rejected with a message naming the file, the item and the fix

BASE: dict[str, object] = {
    "specialties.yaml": {"specialties": [
        {"id": "cardiology", "name": "Cardiology", "prefix": "CA", "description": "Heart disease."},
        {"id": "pulmonology", "name": "Pulmonology", "prefix": "PU", "description": "Lung disease."},
    ]},
    "findings.yaml": {"findings": [
        {"id": "chest_pain", "name": "Chest pain", "patterns": ["chest pain"], "specialties": {"cardiology": 0.9}},
        {"id": "tachycardia", "name": "Tachycardia", "vital": {"field": "heart_rate", "op": ">", "value": 100},
         "specialties": {"cardiology": 0.5}},
        {"id": "troponin_elevated", "name": "Troponin", "lab": {"analyte": "troponin", "op": ">", "value": 0.04},
         "specialties": {"cardiology": 1.0}},
    ]},
    "references.yaml": {"references": {
        "PMID:9786377": {"citation": "Panju AA et al. Is this patient having a myocardial infarction? JAMA 1998.",
                         "pmid": "9786377"},
    }},
    "conditions/cardiology.yaml": {"specialty": "cardiology", "conditions": [
        {"id": "acs", "name": "Acute coronary syndrome", "icd10": "I24.9", "aliases": ["heart attack"],
         "prior": 0.1, "prior_context": "adults with acute chest pain", "prior_reference": "PMID:9786377",
         "findings": {"chest_pain": {"lr_pos": 1.5, "reference": "PMID:9786377"},
                      "troponin_elevated": {"lr_pos": 20.0, "lr_neg": 0.1, "reference": "unverified: textbook"}},
         "next_steps": ["ECG"], "calculators": ["heart"], "references": ["PMID:9786377"]},
    ]},
}


def _write(folder: Path, files: dict[str, object]) -> Path:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False),
                        encoding="utf-8")
    return folder


def _acs(files: dict) -> dict:
    return files["conditions/cardiology.yaml"]["conditions"][0]


def test_minimal_valid_folder_loads(tmp_path: Path) -> None:
    kb = load_knowledge(_write(tmp_path, copy.deepcopy(BASE)))
    assert list(kb.conditions) == ["acs"]
    assert kb.find_condition("Heart Attack").id == "acs"
    assert kb.conditions["acs"].specialty == "cardiology"  # filled from the file's specialty key
    assert kb.references["PMID:9786377"].pmid == "9786377"


def test_condition_file_may_register_its_own_references(tmp_path: Path) -> None:
    files = copy.deepcopy(BASE)
    files["conditions/cardiology.yaml"]["references"] = {
        "DOI:10.1001/jama.280.14.1256": {"citation": "Panju AA et al. JAMA 1998;280:1256-1263.",
                                         "doi": "10.1001/jama.280.14.1256"},
        "PMID:9786377": copy.deepcopy(BASE["references.yaml"]["references"]["PMID:9786377"]),  # same record: fine
    }
    _acs(files)["findings"]["chest_pain"]["reference"] = "DOI:10.1001/jama.280.14.1256"
    kb = load_knowledge(_write(tmp_path, files))
    assert kb.references["DOI:10.1001/jama.280.14.1256"].doi == "10.1001/jama.280.14.1256"
    assert kb.conditions["acs"].findings["chest_pain"].reference == "DOI:10.1001/jama.280.14.1256"


def _mutations() -> list[tuple[str, object, tuple[str, ...]]]:
    """(case id, mutation function, substrings the error message must contain)."""
    def unknown_finding(f):
        _acs(f)["findings"]["st_elevation"] = {"lr_pos": 5.0, "reference": "PMID:9786377"}

    def unknown_specialty_condition(f):
        _acs(f)["specialty"] = "dermatology"

    def unknown_specialty_finding(f):
        f["findings.yaml"]["findings"][0]["specialties"] = {"dermatology": 0.5}

    def lr_zero(f):
        _acs(f)["findings"]["chest_pain"]["lr_pos"] = 0

    def lr_negative(f):
        _acs(f)["findings"]["chest_pain"]["lr_neg"] = -0.5

    def missing_reference(f):
        del _acs(f)["findings"]["chest_pain"]["reference"]

    def empty_reference(f):
        _acs(f)["findings"]["chest_pain"]["reference"] = ""

    def malformed_reference(f):
        _acs(f)["findings"]["chest_pain"]["reference"] = "PubMed 9786377"

    def empty_references(f):
        _acs(f)["references"] = []

    def unregistered_reference(f):
        _acs(f)["findings"]["chest_pain"]["reference"] = "PMID:12345"

    def conflicting_reference(f):
        f["conditions/cardiology.yaml"]["references"] = {
            "PMID:9786377": {"citation": "Another paper entirely. 1999.", "pmid": "9786377"}}

    def duplicate_condition(f):
        f["conditions/cardiology.yaml"]["conditions"].append(copy.deepcopy(_acs(f)))

    def duplicate_finding(f):
        f["findings.yaml"]["findings"].append(copy.deepcopy(f["findings.yaml"]["findings"][0]))

    def duplicate_specialty(f):
        f["specialties.yaml"]["specialties"][1]["id"] = "cardiology"

    def duplicate_prefix(f):
        f["specialties.yaml"]["specialties"][1]["prefix"] = "CA"

    def reserved_prefix(f):
        f["specialties.yaml"]["specialties"][1]["prefix"] = "HR"

    def unknown_analyte(f):
        f["findings.yaml"]["findings"][2]["lab"]["analyte"] = "trop"

    def unknown_vital(f):
        f["findings.yaml"]["findings"][1]["vital"]["field"] = "pulse"

    def prior_zero(f):
        _acs(f)["prior"] = 0

    def prior_above_one(f):
        _acs(f)["prior"] = 1.5

    def bad_icd10(f):
        _acs(f)["icd10"] = "ACS-1"

    def duplicate_alias(f):
        other = copy.deepcopy(_acs(f))
        other.update(id="mi", name="Myocardial infarction", aliases=["Heart attack"])
        f["conditions/cardiology.yaml"]["conditions"].append(other)

    def no_source(f):
        del f["findings.yaml"]["findings"][0]["patterns"]

    def upper_case_pattern(f):
        f["findings.yaml"]["findings"][0]["patterns"] = ["Chest Pain"]

    def unknown_key(f):
        _acs(f)["prevalence"] = 0.1

    def malformed_yaml(f):
        f["findings.yaml"] = "findings: [unclosed"

    def missing_section(f):
        f["specialties.yaml"] = {"items": []}

    return [
        ("unknown_finding", unknown_finding, ("cardiology.yaml", "'acs'", "st_elevation", "findings.yaml")),
        ("unknown_specialty_condition", unknown_specialty_condition, ("cardiology.yaml", "'acs'", "dermatology", "use one of")),
        ("unknown_specialty_finding", unknown_specialty_finding, ("findings.yaml", "'chest_pain'", "dermatology", "use one of")),
        ("lr_zero", lr_zero, ("cardiology.yaml", "'acs'", "chest_pain", "lr_pos", "positive likelihood ratio")),
        ("lr_negative", lr_negative, ("cardiology.yaml", "'acs'", "lr_neg", "positive")),
        ("missing_reference", missing_reference, ("cardiology.yaml", "'acs'", "reference", "add it")),
        ("empty_reference", empty_reference, ("cardiology.yaml", "'acs'", "malformed reference", "PMID:")),
        ("malformed_reference", malformed_reference, ("cardiology.yaml", "'acs'", "PubMed 9786377", "PMID:<digits>")),
        ("empty_references", empty_references, ("cardiology.yaml", "'acs'", "references", "add at least one")),
        ("unregistered_reference", unregistered_reference, ("cardiology.yaml", "'acs'", "PMID:12345", "references.yaml")),
        ("conflicting_reference", conflicting_reference, ("cardiology.yaml", "PMID:9786377", "different record")),
        ("duplicate_condition", duplicate_condition, ("cardiology.yaml", "'acs'", "duplicate id", "rename")),
        ("duplicate_finding", duplicate_finding, ("findings.yaml", "'chest_pain'", "duplicate id", "rename")),
        ("duplicate_specialty", duplicate_specialty, ("specialties.yaml", "'cardiology'", "duplicate id", "unique")),
        ("duplicate_prefix", duplicate_prefix, ("specialties.yaml", "'pulmonology'", "'CA'", "unique prefix")),
        ("reserved_prefix", reserved_prefix, ("specialties.yaml", "'pulmonology'", "reserved", "choose another")),
        ("unknown_analyte", unknown_analyte, ("findings.yaml", "'troponin_elevated'", "unknown analyte 'trop'", "canonical name")),
        ("unknown_vital", unknown_vital, ("findings.yaml", "'tachycardia'", "vital.field", "heart_rate")),
        ("prior_zero", prior_zero, ("cardiology.yaml", "'acs'", "prior", "strictly between 0 and 1")),
        ("prior_above_one", prior_above_one, ("cardiology.yaml", "'acs'", "prior", "strictly between 0 and 1")),
        ("bad_icd10", bad_icd10, ("cardiology.yaml", "'acs'", "ICD-10", "I21.9")),
        ("duplicate_alias", duplicate_alias, ("cardiology.yaml", "'mi'", "Heart attack", "'acs'", "reword")),
        ("no_source", no_source, ("findings.yaml", "'chest_pain'", "at least one source")),
        ("upper_case_pattern", upper_case_pattern, ("findings.yaml", "'chest_pain'", "lower case")),
        ("unknown_key", unknown_key, ("cardiology.yaml", "'acs'", "prevalence", "remove the key")),
        ("malformed_yaml", malformed_yaml, ("findings.yaml", "malformed YAML", "line")),
        ("missing_section", missing_section, ("specialties.yaml", "'specialties:'")),
    ]


@pytest.mark.parametrize("mutate,expected", [(m, e) for _, m, e in _mutations()], ids=[i for i, _, _ in _mutations()])
def test_loader_rejects_bad_files_with_a_helpful_message(tmp_path: Path, mutate, expected) -> None:
    files = copy.deepcopy(BASE)
    mutate(files)
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(_write(tmp_path, files))
    message = str(info.value)
    for part in expected:
        assert part in message, f"{part!r} missing from: {message}"


def test_missing_folder_and_files_are_reported(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="does not exist"):
        load_knowledge(tmp_path / "nowhere")
    files = copy.deepcopy(BASE)
    del files["findings.yaml"]
    with pytest.raises(KnowledgeError, match="findings.yaml: file is missing"):
        load_knowledge(_write(tmp_path, files))


def test_validate_shipped_kb_has_no_problems_and_counts_estimates() -> None:
    from wardround.knowledge.validate import validate_knowledge

    report = validate_knowledge(load_knowledge())
    assert report.ok, report.problems
    assert report.finding_values == sum(len(c.findings) for c in load_knowledge().conditions.values())
    assert 0 < report.estimates < report.finding_values


def test_icd10_codes_are_checked_against_the_classification() -> None:
    from wardround.knowledge.validate import icd10_problem

    assert icd10_problem("I21.9") is None and icd10_problem("I48.9") is None
    why = icd10_problem("I48.91")  # ICD-10-CM only: the loader's shape check accepts it, the classification not
    assert why and "I48.91" in why and "I48.9" in why
    assert icd10_problem("Z99.99")


def test_kb_validate_command_names_a_bad_code_and_exits_1(tmp_path: Path) -> None:
    import shutil

    from typer.testing import CliRunner

    from wardround.cli import app
    from wardround.knowledge.loader import DATA_DIR

    folder = tmp_path / "kb"
    shutil.copytree(DATA_DIR, folder)
    path = folder / "conditions" / "cardiology.yaml"
    path.write_text(path.read_text().replace("icd10: I50.9", "icd10: I50.99", 1))
    runner = CliRunner()
    good = runner.invoke(app, ["kb", "validate"])
    assert good.exit_code == 0 and "ok" in good.output and "estimates" in good.output
    bad = runner.invoke(app, ["kb", "validate", "--knowledge", str(folder)])
    assert bad.exit_code == 1
    assert "heart_failure_exacerbation" in bad.output and "I50.99" in bad.output
    strict = runner.invoke(app, ["kb", "validate", "--strict", "--json"])
    assert strict.exit_code == (1 if json.loads(strict.output)["estimate_fraction"] > 0.10 else 0)


def test_kb_validate_refuses_an_uncited_or_undated_registry_entry(tmp_path: Path) -> None:
    import shutil

    from wardround.knowledge.loader import DATA_DIR
    from wardround.knowledge.validate import validate_knowledge

    folder = tmp_path / "kb"
    shutil.copytree(DATA_DIR, folder)
    registry = folder / "references.yaml"
    registry.write_text(registry.read_text() + '  "PMID:1":\n    citation: "Nobody A. A paper no condition cites. J Test"\n'
                        '    pmid: "1"\n')
    problems = validate_knowledge(load_knowledge(folder)).problems
    assert {p.problem for p in problems if p.where == "references: PMID:1"} == {
        "the citation gives no year", "no condition cites it"}
