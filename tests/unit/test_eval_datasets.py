"""Dataset adapters on small synthetic files: MedQA and AgentClinic with the rules model and a scripted chat model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from wardround.errors import InputError
from wardround.evals.datasets.agentclinic import (
    agentclinic_task,
    load_agentclinic,
    osce_note,
    parse_diagnosis,
)
from wardround.evals.datasets.matching import names_match, similarity
from wardround.evals.datasets.medqa import load_medqa, medqa_task, parse_letter
from wardround.evals.records import read_records
from wardround.evals.runner import RunOptions, run_task
from wardround.evals.tasks import EvalItem

STEMI = ("A 64-year-old man presents with crushing substernal chest pain radiating to the left arm for one hour, "
         "with diaphoresis and nausea. ECG shows ST elevation in leads II, III and aVF. Troponin is elevated. "
         "Which of the following is the most likely diagnosis?")
MENINGITIS = ("A 19-year-old college student has fever of 39.4 C, severe headache, neck stiffness and photophobia "
              "for one day. Kernig sign is positive. Which of the following is the most likely diagnosis?")
MECHANISM = "Which enzyme is inhibited by aspirin?"


def write_medqa(path: Path) -> Path:
    rows = [
        {"realidx": 1, "question": STEMI, "answer_idx": "B", "meta_info": "step2&3",
         "options": {"A": "Pneumothorax", "B": "Acute coronary syndrome", "C": "Migraine", "D": "Cellulitis"}},
        {"realidx": 2, "question": MENINGITIS, "answer_idx": "C", "meta_info": "step2&3",
         "options": {"A": "Migraine", "B": "Influenza", "C": "Bacterial meningitis", "D": "Subarachnoid haemorrhage"}},
        {"realidx": 3, "question": MECHANISM, "answer_idx": "A", "meta_info": "step1",
         "options": {"A": "Cyclooxygenase", "B": "Lipoxygenase", "C": "Phospholipase A2", "D": "Thromboxane synthase"}},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def write_osce(path: Path) -> Path:
    osce = {"OSCE_Examination": {
        "Objective_for_Doctor": "Diagnose the patient.",
        "Patient_Actor": {"Demographics": "64-year-old male", "History": "Crushing chest pain for one hour.",
                          "Symptoms": {"Primary_Symptom": "Substernal chest pain radiating to the left arm",
                                       "Secondary_Symptoms": ["Diaphoresis", "Nausea"]}},
        "Physical_Examination_Findings": {"Vital_Signs": {"Heart_Rate": "104 bpm", "Blood_Pressure": "150/90 mmHg"}},
        "Test_Results": {"ECG": {"Findings": "ST elevation in II, III, aVF"}, "Troponin": "Elevated"},
        "Correct_Diagnosis": "Acute Coronary Syndrome"}}
    other = json.loads(json.dumps(osce))
    other["OSCE_Examination"]["Correct_Diagnosis"] = "Posterior hip dislocation"
    path.write_text(json.dumps(osce) + "\n" + json.dumps(other) + "\n")
    return path


def test_medqa_rows_become_cases(tmp_path: Path) -> None:
    items = load_medqa(write_medqa(tmp_path / "q.jsonl"))
    assert [i.id for i in items] == ["1", "2", "3"] and items[0].gold == "B" and items[0].category == "step2&3"
    case = items[0].case
    assert case.age == 64 and case.sex == "male" and case.options["B"] == "Acute coronary syndrome"
    assert case.question == STEMI and case.note == STEMI
    (tmp_path / "bad.jsonl").write_text('{"question": "x"}\n')
    with pytest.raises(InputError, match="answer_idx"):
        load_medqa(tmp_path / "bad.jsonl")


def test_medqa_rules_baseline_matches_options_or_abstains(tmp_path: Path) -> None:
    task = medqa_task(write_medqa(tmp_path / "q.jsonl"))
    summary = run_task(task, tmp_path / "run", RunOptions(progress=False))
    recs = {r.id: r for r in read_records(tmp_path / "run" / "items.jsonl").records}
    assert recs["1"].prediction == "B" and recs["1"].correct is True and recs["1"].cited
    assert recs["1"].extra["matched_condition"] == "Acute coronary syndrome"
    assert recs["3"].prediction is None and recs["3"].correct is False and recs["3"].extra["abstained"]
    assert summary["abstained"] >= 1 and summary["n"] == 3
    assert set(recs["1"].seconds) >= {"intake", "triage", "attending"}


def test_medqa_with_a_scripted_chat_model(tmp_path: Path) -> None:
    replies = iter([AIMessage(content="Reasoning... Answer: B",
                              usage_metadata={"input_tokens": 120, "output_tokens": 8, "total_tokens": 128}),
                    AIMessage(content="(A) Migraine",
                              usage_metadata={"input_tokens": 100, "output_tokens": 4, "total_tokens": 104}),
                    AIMessage(content="I am not sure.",
                              usage_metadata={"input_tokens": 90, "output_tokens": 5, "total_tokens": 95})])
    model = GenericFakeChatModel(messages=replies)
    task = medqa_task(write_medqa(tmp_path / "q.jsonl"), model=model, solver="chat")
    summary = run_task(task, tmp_path / "run", RunOptions(concurrency=1, progress=False))
    recs = [r for r in read_records(tmp_path / "run" / "items.jsonl").records]
    assert [r.prediction for r in recs] == ["B", "A", None]
    assert [r.correct for r in recs] == [True, False, False]
    assert summary["tokens"] == {"input": 310, "output": 17, "input_per_item": 103.33, "output_per_item": 5.67}
    assert recs[0].extra["response"].endswith("Answer: B")


def test_parse_letter_forms() -> None:
    item = EvalItem(id="x", case=load_medqa_item(), gold="A")
    assert parse_letter(item, "The answer is (C).")[0] == "C"
    assert parse_letter(item, "**Answer: D**")[0] == "D"
    assert parse_letter(item, "B. Acute coronary syndrome")[0] == "B"
    assert parse_letter(item, "It must be Migraine")[0] == "C"
    assert parse_letter(item, "Answer: Z")[0] is None


def load_medqa_item():  # noqa: ANN201 - helper
    from wardround.case import Case

    return Case(id="x", note="stem", question="stem",
                options={"A": "Pneumothorax", "B": "Acute coronary syndrome", "C": "Migraine", "D": "Cellulitis"})


def test_names_match_rules() -> None:
    assert names_match("Acute coronary syndrome", "acute  coronary syndrome.") == (True, "exact")
    assert names_match("Subarachnoid haemorrhage", "Subarachnoid hemorrhage")[0]
    assert names_match("Congenital rubella", "Congenital Rubella Infection") == (True, "content-words")
    assert names_match("Infection", "Congenital Rubella Infection")[0] is False
    assert names_match(None, "x") == (False, "empty")
    assert similarity("Bacterial meningitis", "Meningitis, bacterial") == 1.0
    assert 0 < similarity("Viral meningitis", "Bacterial meningitis") < 1


def test_agentclinic_note_excludes_the_answer_and_scores_by_name(tmp_path: Path) -> None:
    path = write_osce(tmp_path / "osce.jsonl")
    items = load_agentclinic(path)
    assert [i.id for i in items] == ["osce-1", "osce-2"] and items[0].gold == "Acute Coronary Syndrome"
    note = items[0].case.note
    assert "Correct" not in note and "Acute Coronary Syndrome" not in note and "Objective" not in note
    assert "Secondary Symptoms: Diaphoresis; Nausea" in note and "ST elevation" in note
    assert items[0].case.age == 64
    assert osce_note({"Test_Results": {"A_b": {"C": 1}}}) == "Test results:\n  A b:\n    C: 1"
    summary = run_task(agentclinic_task(path), tmp_path / "run", RunOptions(progress=False))
    recs = {r.id: r for r in read_records(tmp_path / "run" / "items.jsonl").records}
    assert recs["osce-1"].prediction == "Acute coronary syndrome" and recs["osce-1"].correct
    assert recs["osce-1"].extra["match"] == "exact" and recs["osce-2"].correct is False
    assert summary["accuracy"] == 0.5 and summary["matched_by"] == {"exact": 1}


def test_agentclinic_with_scripted_chat_model_and_judge(tmp_path: Path) -> None:
    path = write_osce(tmp_path / "osce.jsonl")
    model = GenericFakeChatModel(messages=iter([
        AIMessage(content="Likely ACS.\nDiagnosis: STEMI", usage_metadata={"input_tokens": 200, "output_tokens": 9,
                                                                             "total_tokens": 209}),
        AIMessage(content="Diagnosis: Hip fracture", usage_metadata={"input_tokens": 180, "output_tokens": 6,
                                                                       "total_tokens": 186})]))
    # STEMI is a knowledge-base alias of acute coronary syndrome: the judge is asked only about the second answer
    judge = GenericFakeChatModel(messages=iter([AIMessage(content="Yes.")]))
    task = agentclinic_task(path, model=model, solver="chat", judge=judge)
    summary = run_task(task, tmp_path / "run", RunOptions(concurrency=1, progress=False))
    recs = [r for r in read_records(tmp_path / "run" / "items.jsonl").records]
    assert [r.prediction for r in recs] == ["STEMI", "Hip fracture"]
    assert [r.correct for r in recs] == [True, True]
    assert [r.extra["match"] for r in recs] == ["alias", "judge"] and recs[1].extra["judge"] == "Yes."
    assert summary["tokens"]["input"] == 380
    assert parse_diagnosis(recs[0], "no label here\nPneumonia.")[0] == "Pneumonia"  # type: ignore[arg-type]


def scripted_ward_model(primary: str) -> GenericFakeChatModel:
    """A chat model scripted to play triage, one specialist and the attending of one ward round."""
    usage = {"input_tokens": 100, "output_tokens": 20, "total_tokens": 120}
    ddx = [{"condition": primary, "probability": 0.6}, {"condition": "acute_pericarditis", "probability": 0.2}]
    answers = [{"specialties": ["cardiology"], "rationale": "Chest pain."},
               {"summary": "Chest pain with ST elevation.", "differential": ddx, "confidence": 0.6},
               {"primary": primary, "differential": ddx, "rationale": ["Chest pain with ST elevation."]}]
    return GenericFakeChatModel(messages=iter([AIMessage(content=json.dumps(a), usage_metadata=usage)
                                               for a in answers]))


def test_ward_solver_with_a_scripted_chat_model(tmp_path: Path) -> None:
    path = write_osce(tmp_path / "osce.jsonl")
    task = agentclinic_task(path, model=scripted_ward_model("acute_coronary_syndrome"), limit=1)
    summary = run_task(task, tmp_path / "run", RunOptions(concurrency=1, progress=False))
    (rec,) = read_records(tmp_path / "run" / "items.jsonl").records
    assert rec.prediction == "Acute coronary syndrome" and rec.correct and "issues" not in rec.extra
    assert (rec.input_tokens, rec.output_tokens) == (300, 60) and summary["tokens"]["input"] == 300
    assert "attending" in rec.seconds
    # the same graph with the model choosing another condition: the prediction follows the model, not the rules
    task = medqa_task(write_medqa(tmp_path / "q.jsonl"), model=scripted_ward_model("acute_pericarditis"), limit=1)
    run_task(task, tmp_path / "run2", RunOptions(concurrency=1, progress=False))
    (rec,) = read_records(tmp_path / "run2" / "items.jsonl").records
    assert rec.extra["differential"][0] == "Acute pericarditis" and rec.prediction is None  # no option names it


def test_chat_solver_needs_a_model_and_keys_never_reach_the_manifest(tmp_path: Path) -> None:
    from wardround.evals.solvers import model_label

    with pytest.raises(InputError, match="chat solver needs a chat model"):
        medqa_task(write_medqa(tmp_path / "q.jsonl"), solver="chat")
    task = agentclinic_task(write_osce(tmp_path / "o.jsonl"), solver="chat",
                            model="openai:gpt-4o-mini?api_key=sk-secret-1&temperature=0")
    assert "sk-secret" not in json.dumps(task.config) and "api_key=***" in task.config["model"]
    assert model_label(None) == "rules"
