"""The command line as a user meets it: exit codes, one-line errors, JSON that parses back."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from wardround.report import WardResult

FIXTURE_KB = str(Path(__file__).resolve().parents[1] / "fixtures" / "kb")
GOOD = {"id": "cli-1", "age": 70, "sex": "male", "note": "Crushing chest pain. Denies cough.",
        "labs": [{"name": "troponin", "value": 1.2, "unit": "ng/mL"}]}


def wardround(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wardround.cli", *args], capture_output=True, text=True,
                          timeout=timeout)


def _write(tmp_path: Path, name: str, content: str) -> str:
    p = tmp_path / name
    p.write_text(content)
    return str(p)


def test_run_json_parses_back(tmp_path):
    case = _write(tmp_path, "good.json", json.dumps(GOOD))
    out = wardround("run", case, "--json", "--knowledge", FIXTURE_KB)
    assert out.returncode == 0, out.stderr
    result = WardResult.model_validate_json(out.stdout)
    assert result.diagnosis.primary.name == "Heart attack"
    assert result.verified is True
    assert result.verify().ok


def test_run_text_and_stream(tmp_path):
    case = _write(tmp_path, "good.json", json.dumps(GOOD))
    out = wardround("run", case, "--stream", "--knowledge", FIXTURE_KB)
    assert out.returncode == 0, out.stderr
    for word in ("intake", "triage", "specialist", "attending", "Primary diagnosis: Heart attack",
                 "Specialists consulted", "Dissent", "verified: True"):
        assert word in out.stdout


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.json", json.dumps({"id": "e", "age": 50}), "note: the case has no note text and no findings"),
        ("age.json", json.dumps({"note": "chest pain", "age": -4}), "age: Input should be greater than or equal to 0"),
        ("unit.json", json.dumps({"note": "x", "labs": [{"name": "creatinine", "value": 1, "unit": "mg/spoon"}]}),
         "labs[0]: unknown unit 'mg/spoon' for the lab 'creatinine'"),
        ("broken.json", '{"note": "chest pain",', "file: malformed JSON in broken.json"),
        ("img.json", json.dumps({"note": "x", "imaging": [{"path": "missing/head.nii.gz", "modality": "CT"}]}),
         "imaging[0].path: file or folder 'missing/head.nii.gz' does not exist"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path, name, content, message):
    case = _write(tmp_path, name, content)
    out = wardround("run", case, "--knowledge", FIXTURE_KB)
    assert out.returncode == 2, (out.stdout, out.stderr)
    lines = [x for x in out.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, out.stderr
    assert message in lines[0]
    assert "Traceback" not in out.stderr


def test_debug_shows_traceback(tmp_path):
    case = _write(tmp_path, "age.json", json.dumps({"note": "chest pain", "age": -4}))
    out = wardround("run", case, "--debug")
    assert out.returncode != 0
    assert "Traceback" in out.stderr


def test_missing_case_file():
    out = wardround("run", "does/not/exist.json")
    assert out.returncode == 2
    assert "path: case file 'does/not/exist.json' does not exist" in out.stderr


def test_graph_prints_mermaid():
    out = wardround("graph")
    assert out.returncode == 0
    for node in ("intake", "triage", "specialist", "attending", "review"):
        assert node in out.stdout
    assert out.stdout.lstrip().startswith(("---", "graph", "flowchart"))


def test_version():
    out = wardround("--version")
    assert out.returncode == 0 and out.stdout.startswith("wardround ")


def test_review_flow_through_the_cli(tmp_path):
    case = _write(tmp_path, "good.json", json.dumps(GOOD))
    db = str(tmp_path / "ward.sqlite")
    out = wardround("run", case, "--review", "--db", db, "--thread-id", "t1", "--knowledge", FIXTURE_KB)
    assert out.returncode == 0, out.stderr
    assert "Awaiting human review" in out.stdout
    out = wardround("review", "t1", "--db", db, "--approve", "--json")
    assert out.returncode == 0, out.stderr
    result = WardResult.model_validate_json(out.stdout)
    assert result.diagnosis.review.action == "approve"
