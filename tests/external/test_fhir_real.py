"""The real public FHIR R4 bundles of WARDROUND_DATA/fhir (5 Synthea patients, 2 HL7 examples) through the ward.

Each ends in a verified report (the transaction bundle without clinical content in a one-line clear error);
every Observation code of the chosen encounter that the case cannot hold is listed as an issue; and the
encounter's own diagnosis never enters the case (the Synthea patient admitted with a ruptured appendix).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import wardround as wr
from wardround.case import load_case_file
from wardround.cli import app
from wardround.fhir.codes import LAB_CODES, LOINC, PANEL_CODES, SMOKING_LOINC, VITAL_CODES

pytestmark = pytest.mark.external

PATIENTS = ["Louis_Maggio_2e275d4b-855a-4eb2-9021-5410aa8acd4f.json",
            "Reyna_Ziemann_08f8bfce-34cf-4b5a-a398-8e49650c6e3c.json",
            "Adolfo_Marquardt_50635536-8051-4085-bfd4-511a05062ac2.json",
            "Marsha_Hayes_25e83417-4519-4f8b-b2b0-35c9c87003a1.json",
            "Brant_Jacobson_e5c79132-16cc-4b3b-91ad-fc1946454995.json"]
MARSHA = PATIENTS[3]
MARSHA_ED = "2b591740-3e0a-47de-a792-b9e5b2ae9f68"  # EMER 2019-07-23, Conditions Appendicitis + Rupture of appendix


@pytest.fixture(scope="module")
def fhir_dir(wardround_data: Path) -> Path:
    folder = wardround_data / "fhir"
    if not (folder / MARSHA).is_file():
        pytest.skip(f"{folder} holds no FHIR sample bundles (set WARDROUND_DATA to the folder holding fhir/)")
    return folder


def _encounter_codes(bundle: dict, encounter_id: str) -> set[str]:
    """LOINC codes of the Observations (and panel components) linked to one encounter."""
    codes: set[str] = set()
    for entry in bundle["entry"]:
        r = entry.get("resource") or {}
        ref = (r.get("encounter") or {}).get("reference", "")
        if r.get("resourceType") != "Observation" or not ref.endswith(encounter_id):
            continue
        for c in r["code"]["coding"]:
            if c.get("system") == LOINC:
                codes.add(c["code"])
        for comp in r.get("component") or []:
            codes.update(c["code"] for c in comp["code"]["coding"] if c.get("system") == LOINC)
    return codes


@pytest.mark.parametrize("name", [*PATIENTS, "Bundle-father.json"])
def test_each_bundle_ends_in_a_verified_report_listing_every_unmapped_code(fhir_dir: Path, name: str):
    path = fhir_dir / name
    loaded = load_case_file(path)
    result = wr.run(loaded.case)
    assert result.diagnosis is not None and result.verified, result.issues
    record = result.case.fhir
    assert record is not None and record.bundle_path == str(path.resolve())
    issues = "\n".join(result.issues)
    bundle = json.loads(path.read_text())
    known = set(VITAL_CODES) | set(LAB_CODES) | PANEL_CODES | {SMOKING_LOINC}
    for code in _encounter_codes(bundle, record.encounter.split("/")[-1]) - known:
        assert f"unmapped Observation code LOINC {code} " in issues, (code, issues)
    assert "resources not read" in issues or name == "Bundle-father.json"
    fhir_items = [ev for ev in result.ledger if ev.kind in ("field", "note")]
    assert fhir_items and result.ledger.verify(result.case, [ev.id for ev in fhir_items]).ok


def test_latest_encounter_with_vital_signs_verifies(fhir_dir: Path):
    """The latest encounter of each patient with vital signs: read, cited by resource and verified."""
    checked = 0
    for name in PATIENTS:
        path = fhir_dir / name
        bundle = json.loads(path.read_text())
        encounters = sorted((e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Encounter"),
                            key=lambda e: e["period"]["start"], reverse=True)
        chosen = next(e for e in encounters if _encounter_codes(bundle, e["id"]) & (set(VITAL_CODES) | PANEL_CODES))
        result = wr.run(load_case_file(path, encounter=chosen["id"]).case)
        assert result.verified, (name, result.issues)
        sources = result.case.fhir.sources
        assert any(k.startswith("vitals.") for k in sources), name
        cited = [ev for ev in result.ledger if ev.kind == "field" and ev.field and ev.field.startswith("vitals.")]
        assert cited and all(sources[ev.field].resource.startswith("Observation/") for ev in cited)
        checked += 1
    assert checked == len(PATIENTS)


def test_transaction_bundle_without_clinical_content_is_a_one_line_error(fhir_dir: Path):
    out = CliRunner().invoke(app, ["run", str(fhir_dir / "Bundle-bundle-transaction.json")])
    assert out.exit_code == 2
    lines = [line for line in out.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: Bundle.entry: bundle 'bundle-transaction' (transaction) "
                                                   "holds no clinical content"), out.output


def test_appendicitis_recorded_at_the_encounter_never_enters_the_case(fhir_dir: Path):
    loaded = load_case_file(fhir_dir / MARSHA, encounter=MARSHA_ED)
    case = loaded.case
    assert case.fhir.encounter == f"Encounter/{MARSHA_ED}"
    visible = case.model_dump_json(exclude={"fhir"}).lower()
    assert "appendic" not in visible and "appendectomy" not in visible  # nor the later surgery
    assert all("append" not in s.value.lower() for s in case.fhir.sources.values() if isinstance(s.value, str))
    assert case.history.conditions  # her earlier history is there
    assert loaded.expected is not None and loaded.expected.diagnosis == "Appendicitis"
    assert "Rupture of appendix" in loaded.expected.notes
    result = wr.run(case)
    assert result.verified
    assert "appendic" not in " ".join(ev.statement for ev in result.ledger).lower()
    # at her latest encounter the same appendicitis is past history, as it should be
    later = load_case_file(fhir_dir / MARSHA).case
    assert "Appendicitis" in later.history.conditions


def test_cli_runs_a_real_bundle_at_a_chosen_encounter(fhir_dir: Path):
    out = CliRunner().invoke(app, ["run", str(fhir_dir / MARSHA), "--encounter", MARSHA_ED, "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["verified"] is True and data["case"]["fhir"]["encounter"] == f"Encounter/{MARSHA_ED}"
    assert any("are this encounter's diagnosis: kept out of the case" in i for i in data["issues"])
