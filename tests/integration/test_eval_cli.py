"""`wardround eval ...` commands end to end on small synthetic files (no external data)."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from typer.testing import CliRunner

from wardround.cli import app
from wardround.evals.runner import RunOptions, run_task

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from test_eval_datasets import write_medqa, write_osce  # noqa: E402

runner = CliRunner()


def test_medqa_command_writes_a_resumable_run(tmp_path: Path) -> None:
    data = write_medqa(tmp_path / "q.jsonl")
    out = tmp_path / "run"
    res = runner.invoke(app, ["eval", "medqa", "--data", str(data), "--out", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    assert "accuracy" in res.output and "summary.json" in res.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n"] == 3 and summary["ran_now"] == 3 and 0.0 <= summary["accuracy"] <= 1.0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["task"] == "medqa" and manifest["config"]["model"] == "rules"
    assert manifest["data"][0]["sha256"] and manifest["licence"]
    res = runner.invoke(app, ["eval", "medqa", "--data", str(data), "--out", str(out), "--quiet"])
    assert res.exit_code == 0 and json.loads((out / "summary.json").read_text())["ran_now"] == 0
    # another model into the same folder is refused on one line, exit code 2
    res = runner.invoke(app, ["eval", "medqa", "--data", str(data), "--out", str(out), "--quiet", "--solver", "chat",
                              "--model", "openai:gpt-4o-mini"])
    assert res.exit_code == 2 and "different evaluation" in res.output


def test_agentclinic_command_and_compare(tmp_path: Path) -> None:
    data = write_osce(tmp_path / "o.jsonl")
    res = runner.invoke(app, ["eval", "agentclinic", "--data", str(data), "--out", str(tmp_path / "a"), "--quiet",
                              "--limit", "2"])
    assert res.exit_code == 0, res.output
    from wardround.evals.datasets.agentclinic import agentclinic_task

    model = GenericFakeChatModel(messages=iter([AIMessage(content="Diagnosis: Posterior hip dislocation")] * 2))
    run_task(agentclinic_task(data, model=model, solver="chat"), tmp_path / "b",
             RunOptions(concurrency=1, progress=False))
    res = runner.invoke(app, ["eval", "compare", str(tmp_path / "a"), str(tmp_path / "b"), "--json",
                              "--out", str(tmp_path / "cmp.json")])
    assert res.exit_code == 0, res.output
    cmp = json.loads(res.output)
    assert cmp["n_shared"] == 2 and cmp["a_only_correct"] == 1 and cmp["b_only_correct"] == 1
    assert cmp["mcnemar_p"] == 1.0 and json.loads((tmp_path / "cmp.json").read_text()) == cmp
    res = runner.invoke(app, ["eval", "compare", str(tmp_path / "a"), str(tmp_path / "b")])
    assert "McNemar exact p" in res.output


def test_medcalc_command_keeps_the_direct_figures(tmp_path: Path) -> None:
    from wardround.evals.medcalc import evaluate_oracle

    path = tmp_path / "mc.csv"
    cols = ["Row Number", "Calculator Name", "Calculator ID", "Category", "Output Type", "Note ID", "Note Type",
            "Patient Note", "Question", "Relevant Entities", "Ground Truth Answer", "Lower Limit", "Upper Limit",
            "Ground Truth Explanation"]
    rows = [["1", "Body Mass Index (BMI)", "6", "physical", "decimal", "1", "Extracted",
             "A 40-year-old man, 70 kg, 175 cm.", "What is the patient's BMI?",
             "{'weight': [70.0, 'kg'], 'height': [175.0, 'cm']}", "22.857", "21.714", "24.0", ""],
            ["2", "Body Mass Index (BMI)", "6", "physical", "decimal", "2", "Extracted",
             "A woman, 60 kg, 160 cm.", "What is the patient's BMI?",
             "{'weight': [60.0, 'kg'], 'height': [160.0, 'cm']}", "30.0", "29.0", "31.0", ""]]
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        w.writerows(rows)
    direct = evaluate_oracle(path, tmp_path / "direct")
    res = runner.invoke(app, ["eval", "medcalc", "--data", str(path), "--out", str(tmp_path / "run"), "--quiet",
                              "--concurrency", "2"])
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    for key in ("n", "correct", "accuracy", "n_corrected", "accuracy_corrected", "per_calculator", "per_category",
                "mode"):
        assert summary[key] == direct[key], key
    assert summary["n"] == 2 and summary["accuracy"] == 0.5 and summary["accuracy_ci95"]
    res = runner.invoke(app, ["eval", "medcalc", "--data", str(path), "--out", str(tmp_path / "x"),
                              "--model", "openai:gpt-4o"])
    assert res.exit_code == 2


def test_bad_paths_fail_on_one_line(tmp_path: Path) -> None:
    res = runner.invoke(app, ["eval", "medqa", "--data", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "--data" in res.output
    patients = tmp_path / "patients.csv"
    patients.write_text("age,sex\n")
    res = runner.invoke(app, ["eval", "ddxplus", "--data", str(patients), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "release_conditions.json" in res.output and "--kb-dir" in res.output
