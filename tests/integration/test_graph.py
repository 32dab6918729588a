"""The ward graph end to end on a small invented knowledge base: fan-out, verification, checkpoints, resume."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import wardround as wr
from wardround.api import result_from_state
from wardround.config import WardConfig
from wardround.graphs.checkpoint import memory_checkpointer
from wardround.graphs.ward import build_graph
from wardround.report import WardResult

FIXTURE_KB = str(Path(__file__).resolve().parents[1] / "fixtures" / "kb")
CASE = {
    "id": "fixture-1", "age": 70, "sex": "male",
    "note": "70 yo man with crushing chest pain for an hour and a new cough.",
    "vitals": {"heart_rate": 110, "temperature_c": 38.5},
    "labs": [{"name": "troponin", "value": 1.2, "unit": "ng/mL"}],
}


def _config(**extra):
    return {"configurable": {"ward": WardConfig(knowledge=FIXTURE_KB, **extra), "thread_id": "t"}}


def test_run_api_gives_verified_cited_diagnosis():
    result = wr.run(CASE, knowledge=FIXTURE_KB)
    assert result.diagnosis.primary.name == "Heart attack"
    assert result.verified
    assert result.verify().ok
    cited = result.diagnosis.cited_ids()
    assert cited and all(i in result.ledger for i in cited)
    assert {"cardiology", "pulmonology"} == {op.specialty for op in result.opinions}
    assert result.diagnosis.consulted == ["Cardiology", "Pulmonology"]
    # pulmonology's lung infection leaves the troponin and the chest pain unexplained: too weak to be dissent
    assert result.diagnosis.differential[1].name == "Lung infection"
    assert result.diagnosis.differential[1].probability < 0.10 and not result.diagnosis.dissent
    # without the troponin, cardiology's heart attack keeps a real share and is recorded as dissent
    mixed = wr.run({**CASE, "labs": [], "note": "70 yo man with crushing chest pain for an hour, a new cough and fevers."},
                   knowledge=FIXTURE_KB)
    assert mixed.diagnosis.primary.name == "Lung infection"
    assert [d.specialty for d in mixed.diagnosis.dissent] == ["cardiology"] and mixed.verify().ok


def test_same_case_gives_same_evidence_ids():
    a = wr.run(CASE, knowledge=FIXTURE_KB)
    b = wr.run(CASE, knowledge=FIXTURE_KB)
    assert list(a.ledger.entries) == list(b.ledger.entries)
    assert a.diagnosis == b.diagnosis


def test_specialists_fan_out_in_one_superstep():
    graph = build_graph()
    steps: dict[str, set[int]] = {}
    for event in graph.stream({"case": wr.Case.from_dict(CASE)}, _config(), stream_mode="debug"):
        if event["type"] == "task":
            steps.setdefault(event["payload"]["name"], set()).add(event["step"])
    specialist_steps = steps["specialist"]
    assert len(specialist_steps) == 1, steps  # both specialists ran in the same superstep
    assert min(steps["attending"]) == max(specialist_steps) + 1


def test_json_round_trip_and_tampering_is_detected():
    result = wr.run(CASE, knowledge=FIXTURE_KB)
    back = WardResult.model_validate_json(result.model_dump_json())
    assert back.verify().ok
    data = json.loads(result.model_dump_json())
    assert data["diagnosis"]["primary"]["name"] == "Heart attack" and data["verified"] is True

    # remove a cited id from the ledger
    cited = back.diagnosis.cited_ids()
    victim = next(i for i in cited if i.startswith("E"))
    removed = back.model_copy(deep=True)
    del removed.ledger.entries[victim]
    report = removed.verify()
    assert not report.ok and f"[{victim}]" in report.message()

    # edit a quote
    note_id = next(i for i in back.ledger.entries if back.ledger[i].kind == "note")
    edited = back.model_copy(deep=True)
    ev = edited.ledger.entries[note_id]
    edited.ledger.entries[note_id] = ev.model_copy(update={"quote": "no chest pain"})
    if note_id not in edited.cited_ids():
        edited.diagnosis.rationale[0].citations.append(note_id)
    report = edited.verify()
    assert not report.ok and note_id in report.message() and "does not match the note" in report.message()
    with pytest.raises(wr.CitationError, match=note_id):
        edited.verify(strict=True)


def test_bad_citation_is_removed_and_flagged():
    from wardround.reasoning import verify_and_repair
    from wardround.report import RationaleSentence

    result = wr.run(CASE, knowledge=FIXTURE_KB)
    d = result.diagnosis.model_copy(deep=True)
    d.rationale.append(RationaleSentence(text="Invented claim [E99].", citations=["E99"]))
    repaired, issues = verify_and_repair(d, result.ledger, result.case)
    assert "E99" not in repaired.cited_ids()
    assert repaired.verification.verified and repaired.verification.removed == ["E99"]
    assert any("[E99]" in i for i in issues)


def test_in_memory_checkpointer_keeps_the_thread():
    graph = build_graph(checkpointer=memory_checkpointer())
    cfg = _config()
    graph.invoke({"case": wr.Case.from_dict(CASE)}, cfg)
    snapshot = graph.get_state(cfg)
    assert snapshot.next == ()
    assert snapshot.values["diagnosis"].primary.name == "Heart attack"


def test_human_review_resumes_from_sqlite_in_a_new_process(tmp_path):
    db = tmp_path / "ward.sqlite"
    first = textwrap.dedent(f"""
        import json, sys
        import wardround as wr
        from wardround.config import WardConfig
        from wardround.graphs.checkpoint import sqlite_checkpointer
        from wardround.graphs.ward import build_graph
        case = wr.Case.from_dict(json.loads(sys.argv[1]))
        cfg = {{"configurable": {{"thread_id": "review-1",
                                  "ward": WardConfig(knowledge={FIXTURE_KB!r}, human_review=True).model_dump()}}}}
        with sqlite_checkpointer({str(db)!r}) as saver:
            graph = build_graph(checkpointer=saver)
            graph.invoke({{"case": case}}, cfg)
            print(json.dumps(list(graph.get_state(cfg).next)))
    """)
    out = subprocess.run([sys.executable, "-c", first, json.dumps(CASE)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == ["review"]
    second = textwrap.dedent(f"""
        import json
        from langgraph.types import Command
        from wardround.api import result_from_state
        from wardround.graphs.checkpoint import sqlite_checkpointer
        from wardround.graphs.ward import build_graph
        cfg = {{"configurable": {{"thread_id": "review-1"}}}}
        with sqlite_checkpointer({str(db)!r}) as saver:
            graph = build_graph(checkpointer=saver)
            state = graph.invoke(Command(resume={{"action": "override", "primary": "Lung clot",
                                                  "comment": "CT angiogram positive"}}), cfg)
            r = result_from_state(state)
            print(json.dumps({{"primary": r.diagnosis.primary.name, "verified": r.verified,
                              "review": r.diagnosis.review.model_dump()}}))
    """)
    out = subprocess.run([sys.executable, "-c", second], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Deserializing unregistered type" not in out.stderr
    data = json.loads(out.stdout.strip().splitlines()[-1])
    assert data["primary"] == "Lung clot"
    assert data["verified"] is True
    assert data["review"]["action"] == "override" and data["review"]["evidence_id"] == "HR1"


def test_result_state_without_diagnosis_is_not_verified():
    result = result_from_state({"case": wr.Case.from_dict(CASE)})
    assert result.verified is False and result.diagnosis is None


def test_case_without_note_or_findings_is_a_clear_error():
    with pytest.raises(wr.CaseError, match="note: the case has no note text and no findings"):
        wr.run({"id": "empty"}, knowledge=FIXTURE_KB)


def test_import_is_light():
    code = ("import sys, wardround, wardround.case, wardround.evidence, wardround.report; "
            "heavy = [m for m in ('torch', 'monai', 'transformers', 'langgraph') if m in sys.modules]; "
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


def test_graph_run_does_not_import_torch_or_monai():
    code = ("import sys, json, wardround as wr; "
            f"wr.run(json.loads(sys.argv[1]), knowledge={FIXTURE_KB!r}); "
            "print(','.join(m for m in ('torch', 'monai', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, json.dumps(CASE)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


def test_override_to_a_condition_off_the_differential_records_its_probability():
    """A reviewer may name any knowledge-base condition; its post-test probability is recorded and cited."""
    from langgraph.types import Command

    graph = build_graph(checkpointer=memory_checkpointer())
    cfg = {"configurable": {"thread_id": "review-off", "ward": {"human_review": True}}}
    case = wr.Case.from_file(Path(__file__).resolve().parents[2] / "examples" / "cases" / "pulmonary_embolism.json")
    graph.invoke({"case": case}, cfg)
    listed = [x.condition for x in graph.get_state(cfg).values["diagnosis"].differential]
    assert "community_acquired_pneumonia" not in listed
    state = graph.invoke(Command(resume={"action": "override", "primary": "community acquired pneumonia",
                                         "reviewer": "dr_lee", "comment": "CTPA negative"}), cfg)
    result = result_from_state(state)
    assert result.diagnosis.primary.condition == "community_acquired_pneumonia"
    record = result.ledger[result.diagnosis.primary.supporting[0]]
    assert record.tool == "bayes:community_acquired_pneumonia" and record.id.startswith("HR")
    assert record.inputs["candidate"] is False  # the round had good reason not to list it, and says so
    review = result.ledger[result.diagnosis.review.evidence_id]
    assert record.id in review.derived_from and "dr_lee" in review.statement
    assert result.verify().ok and result.verified

    graph.invoke({"case": case}, {"configurable": {"thread_id": "review-bad", "ward": {"human_review": True}}})
    state = graph.invoke(Command(resume={"action": "override", "primary": "dragon pox"}),
                         {"configurable": {"thread_id": "review-bad", "ward": {"human_review": True}}})
    assert state["diagnosis"].primary.condition == "pulmonary_embolism"
    assert any("dragon pox" in i and "knowledge base" in i for i in state["issues"])
