"""Setting 3: a wardround case as an encounter. The note splits into history, examination and tests; the
gatekeeper reveals only the part asked for; the ward diagnoses on the case rebuilt from the answers alone and
its diagnosis cites the answers, which verify."""

from __future__ import annotations

from pathlib import Path

import pytest

from wardround.case import Case
from wardround.encounters import Action, EncounterConfig, PriceTable, run_encounter
from wardround.encounters.case_encounter import (
    CaseGatekeeper,
    ProtocolCaseDoctor,
    agentclinic_interactive,
    osce_gatekeeper,
    split_note,
)
from wardround.evidence import Evidence, Ledger


@pytest.fixture(scope="module")
def chest(cases_dir: Path) -> Case:
    return Case.from_file(cases_dir / "chest_pain.json")


def _span_text(case: Case, code: str) -> str:
    s, e = (int(x) for x in code[5:].split("-"))
    return case.note[s:e]


def test_note_splits_into_history_examination_and_tests(chest: Case) -> None:
    parts = {chest.note[s:e].strip()[:20]: p for s, e, p in split_note(chest.note)}
    assert parts["The pain radiates to"] == "history"
    assert parts["On examination he is"] == "exam"
    assert parts["ECG shows 2 mm ST de"] == "test"
    covered = sum(e - s for s, e, _ in split_note(chest.note))
    assert covered >= len(chest.note.strip()) - 10  # every sentence lands in one part


def test_gatekeeper_reveals_only_the_part_asked(chest: Case) -> None:
    gk = CaseGatekeeper(chest)
    parts = {f"note:{s}-{e}": p for s, e, p in split_note(chest.note)}
    fever = gk.answer(Action(kind="ask", target="fever"))
    assert fever.codes and all(parts[c] == "history" and "fever" in _span_text(chest, c) for c in fever.codes)
    hr = gk.answer(Action(kind="examine", target="heart rate"))
    assert hr.codes == ["vitals.heart_rate"] and "96" in hr.text
    trop = gk.answer(Action(kind="order_test", target="troponin I"))
    assert "labs[0]" in trop.codes and all(c == "labs[0]" or parts[c] == "test" for c in trop.codes)
    cbc = gk.answer(Action(kind="order_test", target="complete blood count"))
    names = {chest.labs[int(c[5:-1])].name for c in cbc.codes if c.startswith("labs[")}
    assert names == {"hemoglobin", "wbc"}
    for action in (Action(kind="ask", target="headache"), Action(kind="order_test", target="lumbar puncture"),
                   Action(kind="examine", target="fundoscopy")):
        ans = gk.answer(action)
        assert ans.status == "not_available" and ans.codes == []  # never invented


def test_protocol_encounter_cites_answers_that_verify(chest: Case) -> None:
    gk = CaseGatekeeper(chest)
    result = run_encounter(gk, ProtocolCaseDoctor(gk), EncounterConfig(max_turns=40), PriceTable(visit_fee_usd=300))
    assert result.stop_reason.startswith("doctor: protocol complete")
    ledger = Ledger(entries={k: Evidence.model_validate(v) for k, v in result.ledger.items()})
    assert ledger.verify().ok and result.verified
    primary = result.diagnosis["primary"]
    assert primary["name"] == "Acute coronary syndrome"
    assert primary["supporting"] and set(primary["supporting"]) <= set(ledger.entries)
    # the ward saw only what the answers revealed
    observed = {}
    for t in result.turns:
        if t.answer.codes:
            observed[t.action.target] = t.answer.codes
    rebuilt, _ = gk.revealed_case(observed)
    revealed = {_span_text(chest, c).strip() for codes in observed.values() for c in codes if c.startswith("note:")}
    assert rebuilt.note == " ".join(sorted(revealed, key=chest.note.index))


@pytest.fixture(scope="module")
def osce_path(wardround_data: Path) -> Path:
    path = wardround_data / "agentclinic" / "osce_dev.jsonl"
    if not path.is_file():
        pytest.skip(f"AgentClinic OSCE dev file not found at {path}")
    return path


def test_osce_gatekeeper_answers_from_its_sections_and_hides_the_diagnosis(osce_path: Path) -> None:
    import json

    osce = json.loads(osce_path.read_text(encoding="utf-8").splitlines()[0])["OSCE_Examination"]
    gk = osce_gatekeeper(osce, "osce-1")
    gold = str(osce["Correct_Diagnosis"]).casefold()
    assert gold not in gk.case.note.casefold() and "objective" not in gk.case.note.casefold()
    action, opening = gk.opening()
    assert opening.text.endswith(osce["Patient_Actor"]["Symptoms"]["Primary_Symptom"])
    parts = {f"note:{s}-{e}": p for s, e, p in gk.parts}
    exam = gk.answer(Action(kind="examine", target="physical examination"))
    assert exam.codes and {parts[c] for c in exam.codes} == {"exam"}
    history = gk.answer(Action(kind="ask", target="history"))
    assert history.codes and {parts[c] for c in history.codes} == {"history"}
    echo = gk.answer(Action(kind="order_test", target="echocardiogram"))
    assert echo.codes and {parts[c] for c in echo.codes} == {"test"}
    assert gk.answer(Action(kind="order_test", target="lumbar puncture")).status == "not_available"


def test_agentclinic_interactive_runs_end_to_end_and_scores_like_the_static_eval(osce_path: Path) -> None:
    out = agentclinic_interactive(osce_path, limit=3, max_turns=20, prices=PriceTable(visit_fee_usd=300))
    assert out["n"] == 3 and out["verified"] and out["IL"] <= 20
    for rec in out["records"]:
        assert rec["questions"] <= 20 and rec["cost_usd"] >= 300
        assert rec["correct"] is False or rec["prediction"] is not None  # an abstention is never correct
    assert out["answered"] + out["abstained"] == 3
