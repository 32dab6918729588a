"""PHI hygiene: redaction helper, no note text in logs or evaluation records unless ``--log-text`` opts in.

All names, numbers, dates and addresses here are invented.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from wardround.case import Case
from wardround.errors import CaseError
from wardround.redact import EchoScrubber, redact, scrub_echo, scrub_free_text

REPO = Path(__file__).resolve().parents[2]
FIXTURE_KB = str(REPO / "tests" / "fixtures" / "kb")

NOTE = ("Patient: Zebulon Q. Quixote, MRN: 00918273, DOB 03/14/1951. Seen by Dr. Harriet Vane on March 3, 2024 "
        "and again 2024-03-05. Phone (555) 201-7788, e-mail zq.quixote@example.org. Lives at 42 Willow Tree Lane, "
        "Springfield, IL 62704. Mrs Quixote (wife) reports crushing chest pain for an hour. BP 150/90, HR 110, "
        "T 37.9 C, troponin 1.2 ng/mL, Na 140 mmol/L; aspirin 300 mg given on May 5.")


def test_redact_replaces_each_kind_and_keeps_clinical_numbers() -> None:
    r = redact(NOTE)
    for secret in ("Zebulon", "Quixote", "00918273", "03/14/1951", "Harriet", "Vane", "March 3, 2024", "2024-03-05",
                   "201-7788", "zq.quixote@example.org", "Willow Tree Lane", "62704", "May 5"):
        assert secret not in r.text, secret
    for clinical in ("BP 150/90", "HR 110", "T 37.9 C", "troponin 1.2 ng/mL", "Na 140 mmol/L", "aspirin 300 mg",
                     "crushing chest pain for an hour"):
        assert clinical in r.text, clinical
    assert set(r.counts) == {"NAME", "ID", "DATE", "PHONE", "EMAIL", "ADDRESS"}
    assert r.text.startswith("Patient: [NAME], MRN: [ID], DOB [DATE].")
    for red in r.redactions:  # offsets point into the original text, which the result does not keep
        assert 0 <= red.start < red.end <= len(NOTE)


@pytest.mark.parametrize(("text", "secret"), [
    ("Mr. O'Brien-Smythe was seen.", "O'Brien-Smythe"),
    ("Pt name: Ana María López", "Ana María López"),
    ("Next of kin: Doe, Jane", "Doe, Jane"),
    ("Call +44 20 7946 0958 after 5 pm", "7946 0958"),
    ("Medical record number 77-4410-A", "77-4410-A"),
    ("NHS number: 943 476 5919", "943 476 5919"),
    ("Born 14 March 1951.", "14 March 1951"),
    ("Postcode SW1A 1AA.", "SW1A 1AA"),
    ("SSN 123-45-6789 on file", "123-45-6789"),
])
def test_redact_forms(text: str, secret: str) -> None:
    assert secret not in redact(text).text


@pytest.mark.parametrize("text", [
    "BP 120/80 mmHg, HR 72, RR 16, SpO2 98%, creatinine 1.1 mg/dL, glucose 5.4 mmol/L.",
    "Gave 2/2 units of blood; Wells score 4.5; GCS 15; QTc 452 ms; INR 1.3.",
    "Attending: reviewed the chart. Contact: dermatitis of both hands.",
])
def test_redact_leaves_clinical_text_alone(text: str) -> None:
    assert redact(text).text == text


def test_redact_limits_are_real_and_documented() -> None:
    # a bare name with no title or label is not found: the helper says so, it is not a de-identification tool
    assert "John" in redact("John came in with chest pain.").text
    import wardround.redact as module

    assert "not a de-identification" in module.__doc__ and "not a de-identification" in redact.__doc__ + \
        module.__doc__
    with pytest.raises(ValueError, match="unknown redaction kind"):
        redact("x", kinds=["SSN"])


def test_scrub_echo_removes_quoted_note_and_keeps_the_rest() -> None:
    msg = "attending: the answer is not a JSON object (it starts 'Mrs Quixote (wife) reports crushing chest pain')"
    out = scrub_echo(msg, [NOTE])
    assert "crushing chest pain" not in out and "Quixote" not in out
    assert out.startswith("attending: the answer is not a JSON object (it starts")
    sc = EchoScrubber([NOTE])
    data = {"response": "Given crushing chest pain for an hour, Answer: B", "prediction": "B",
            "medcalc": {"answer": "2024-03-05"}, "issues": ["x: Mrs Quixote (wife) reports crushing chest pain"]}
    clean = scrub_free_text(data, sc)
    assert clean["prediction"] == "B" and clean["medcalc"] == {"answer": "2024-03-05"}
    assert "crushing chest pain" not in json.dumps(clean) and clean["response"].endswith("Answer: B")


def test_case_errors_never_repeat_note_text() -> None:
    for data in ({"note": "Zebulon Quixote chest pain \ud800"}, {"note": "Zebulon Quixote " * 20_000},
                 {"note": "Zebulon Quixote", "chief_complaint": 12}, {"note": ["Zebulon Quixote"]}):
        with pytest.raises(CaseError) as err:
            Case.from_dict(data)
        assert "Zebulon" not in str(err.value), str(err.value)


# ---------------------------------------------------------------------------------------------------------
# Logs of `wardround run` (DEBUG level, chat model whose unusable answers quote the note)


def _echoing_server():
    sys.path.insert(0, str(REPO / "tests" / "integration"))
    from loopback import LoopbackServer, Reply, ScriptedWard, role_of

    class EchoingAttending(ScriptedWard):
        """The attending answers in prose that quotes the note (twice: the round falls back, with a warning)."""

        def __call__(self, request: dict) -> Reply:
            if role_of(request) == "attending":
                return Reply(content="Mrs Quixote (wife) reports crushing chest pain for an hour, so I cannot say.")
            return super().__call__(request)

    return LoopbackServer(EchoingAttending())


@pytest.mark.parametrize("log_text", [False, True])
def test_cli_logs_carry_note_text_only_with_log_text(tmp_path: Path, log_text: bool) -> None:
    case = tmp_path / "case.json"
    case.write_text(json.dumps({"id": "phi", "age": 70, "sex": "male", "note": NOTE,
                                "vitals": {"heart_rate": 110, "systolic_bp": 150, "diastolic_bp": 90}}))
    with _echoing_server() as server:
        env = {**os.environ, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "test-key", "COLUMNS": "200"}
        cmd = [sys.executable, "-m", "wardround.cli", "run", str(case), "--model", "openai:loopback", "--knowledge",
               FIXTURE_KB, "--json", "--debug"] + (["--log-text"] if log_text else [])
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    logs = out.stderr
    assert "attending: model openai:loopback failed" in logs, "the fallback warning was logged"
    leaked = [s for s in ("crushing chest pain for an hour", "Quixote") if s in logs]
    if log_text:
        assert leaked, "with --log-text the warning keeps the model's words (note text included)"
    else:
        assert not leaked, [ln for ln in logs.splitlines() if any(s in ln for s in leaked)][:3]
        assert "[note text]" in logs


# ---------------------------------------------------------------------------------------------------------
# Evaluation records (items.jsonl)


QUESTION = ("A 61-year-old man, Mr. Zebulon Quixote (MRN 00918273), has crushing chest pain radiating to the left "
            "arm for one hour with sweating. What is the most likely diagnosis?")


@pytest.mark.parametrize("log_text", [False, True])
def test_eval_records_carry_note_text_only_with_log_text(tmp_path: Path, log_text: bool) -> None:
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    from wardround.evals.datasets.medqa import medqa_task
    from wardround.evals.records import read_records
    from wardround.evals.runner import RunOptions, run_task

    data = tmp_path / "q.jsonl"
    data.write_text(json.dumps({"realidx": 1, "question": QUESTION, "answer_idx": "B", "meta_info": "step2&3",
                                "options": {"A": "Pneumothorax", "B": "Acute coronary syndrome", "C": "Migraine",
                                            "D": "Cellulitis"}}) + "\n")
    echo = ("Mr. Zebulon Quixote has crushing chest pain radiating to the left arm for one hour with sweating, "
            "which is typical of ACS. Answer: B")
    model = GenericFakeChatModel(messages=iter([AIMessage(content=echo)]))
    task = medqa_task(data, model=model, solver="chat")
    run_task(task, tmp_path / "run", RunOptions(concurrency=1, progress=False, log_text=log_text))
    record = read_records(tmp_path / "run" / "items.jsonl").records[0]
    raw = (tmp_path / "run" / "items.jsonl").read_text()
    assert record.prediction == "B" and record.correct
    if log_text:
        assert record.extra["response"] == echo
    else:
        assert "Quixote" not in raw and "crushing chest pain radiating" not in raw
        assert record.extra["response"].endswith("Answer: B") and "[note text]" in record.extra["response"]
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["run"]["log_text"] is log_text
    assert "Quixote" not in json.dumps(manifest)
