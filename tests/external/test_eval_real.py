"""The harness on the real dev splits: MedCalc-Bench figures reproduced exactly, DDXPlus reasoner figures
reproduced, MedQA and AgentClinic end to end with the rules model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wardround.cli import app

pytestmark = pytest.mark.external
runner = CliRunner()


def _need(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(f"{path} not found (set WARDROUND_DATA to the folder of the dev splits)")
    return path


@pytest.mark.parametrize("mode", ["oracle", "note"])
def test_medcalc_cli_reproduces_the_direct_evaluation(wardround_data: Path, tmp_path: Path, mode: str) -> None:
    from wardround.evals.medcalc import evaluate_oracle

    data = _need(wardround_data / "medcalc_bench" / "dev.csv")
    corrected = _need(wardround_data / "medcalc_bench" / "dev_corrected_labels.csv")
    if mode == "oracle":
        direct = evaluate_oracle(data, tmp_path / "direct", corrected)
    else:
        from wardround.evals.medcalc_note import evaluate_note

        direct = evaluate_note(data, tmp_path / "direct", corrected)
    res = runner.invoke(app, ["eval", "medcalc", "--data", str(data), "--mode", mode, "--out", str(tmp_path / "run"),
                              "--concurrency", "4", "--quiet"])
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    for key in ("n", "correct", "accuracy", "n_corrected", "correct_corrected", "accuracy_corrected", "errors",
                "per_calculator", "per_category"):
        assert summary[key] == direct[key], key
    assert summary["n"] == 327
    lo, hi = summary["accuracy_ci95"]
    assert lo < summary["accuracy"] < hi
    records = [json.loads(x) for x in (tmp_path / "run" / "items.jsonl").read_text().splitlines()]
    assert len({r["id"] for r in records}) == 327


def test_medqa_and_agentclinic_end_to_end_with_rules(wardround_data: Path, tmp_path: Path) -> None:
    for name, rel, n in (("medqa", "medqa/dev.jsonl", 59), ("agentclinic", "agentclinic/osce_dev.jsonl", 20)):
        data = _need(wardround_data / rel)
        res = runner.invoke(app, ["eval", name, "--data", str(data), "--out", str(tmp_path / name), "--quiet"])
        assert res.exit_code == 0, res.output
        summary = json.loads((tmp_path / name / "summary.json").read_text())
        assert summary["n"] == n and summary["complete"] and summary["harness_errors"] == 0
        assert 0.0 <= summary["accuracy"] <= 1.0 and summary["latency_s"]["p50"] > 0
        records = [json.loads(x) for x in (tmp_path / name / "items.jsonl").read_text().splitlines()]
        assert len({r["id"] for r in records}) == n and all("intake" in r["seconds"] or r["prediction"] is None
                                                          for r in records)


def test_ddxplus_cli_reproduces_the_reasoner(wardround_data: Path, tmp_path: Path) -> None:
    data = _need(wardround_data / "ddxplus" / "patients_dev.csv")
    dx = pytest.importorskip("wardround.evals.ddxplus", reason="the DDXPlus reasoner module is not available")
    items = dx.load_ddxplus(data, kb_dir=data.parent, limit=200)
    reasoner = dx.DDXPlusReasoner.from_release(data.parent)
    direct = dx.score_ddxplus(items, [reasoner.predict(it) for it in items])
    res = runner.invoke(app, ["eval", "ddxplus", "--data", str(data), "--limit", "200", "--out",
                              str(tmp_path / "run"), "--quiet"])
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    for key in ("n", "accuracy", "top1", "top3", "top5", "ddx_precision", "ddx_recall", "ddx_f1"):
        assert summary[key] == pytest.approx(direct[key]), key
    assert summary["n"] == 200


def test_ddxplus_fit_on_one_half_scores_the_other(wardround_data: Path, tmp_path: Path) -> None:
    import csv

    data = _need(wardround_data / "ddxplus" / "patients_dev.csv")
    dx = pytest.importorskip("wardround.evals.ddxplus", reason="the DDXPlus reasoner module is not available")
    with open(data, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    head, body = rows[0], rows[1:]
    halves = {"a": body[: len(body) // 2], "b": body[len(body) // 2:]}
    for name, part in halves.items():  # split into the test's temporary folder, never into the repository
        with open(tmp_path / f"{name}.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(head)
            w.writerows(part)
    kb = str(data.parent)
    res = runner.invoke(app, ["eval", "ddxplus", "--data", str(tmp_path / "b.csv"), "--kb-dir", kb, "--fit",
                              str(tmp_path / "a.csv"), "--out", str(tmp_path / "run"), "--quiet"])
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    reasoner = dx.DDXPlusReasoner.from_release(data.parent).fit(str(tmp_path / "a.csv"))
    items = dx.load_ddxplus(tmp_path / "b.csv", kb_dir=data.parent)
    direct = dx.score_ddxplus(items, [reasoner.predict(it) for it in items])
    for key in ("n", "top1", "top3", "top5", "ddx_precision", "ddx_recall", "ddx_f1"):
        assert summary[key] == pytest.approx(direct[key]), key
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert [Path(d["path"]).name for d in manifest["data"]][-1] == "a.csv"
    # fitting on the rows being scored is refused
    res = runner.invoke(app, ["eval", "ddxplus", "--data", str(tmp_path / "b.csv"), "--kb-dir", kb, "--fit",
                              str(tmp_path / "b.csv"), "--out", str(tmp_path / "bad"), "--quiet"])
    assert res.exit_code == 2 and "never on the rows scored" in res.output
