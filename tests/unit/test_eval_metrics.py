"""Statistics: bootstrap intervals, McNemar's exact test, percentiles, paired comparison of two runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from wardround.evals.compare import compare_runs, comparison_text
from wardround.evals.metrics import (
    bootstrap_ci,
    mcnemar_exact,
    paired_bootstrap_diff,
    percentiles,
    summarize_records,
    summary_markdown,
    wilson_interval,
)
from wardround.evals.records import ItemRecord


def test_bootstrap_interval_brackets_the_mean_and_agrees_with_wilson() -> None:
    values = [1.0] * 70 + [0.0] * 30
    lo, hi = bootstrap_ci(values, seed=1)
    assert lo < 0.7 < hi
    wlo, whi = wilson_interval(70, 100)
    assert abs(lo - wlo) < 0.04 and abs(hi - whi) < 0.04
    assert bootstrap_ci(values, seed=1) == (lo, hi)  # seeded: reproducible
    assert bootstrap_ci([]) is None
    assert bootstrap_ci([1.0] * 10) == (1.0, 1.0)


def test_mcnemar_exact_known_values() -> None:
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(0, 5) == pytest.approx(2 * 0.5 ** 5)  # 0.0625
    assert mcnemar_exact(5, 5) == pytest.approx(1.0)
    # b=2, c=10: two-sided exact p = 2 * P(X <= 2), X ~ Bin(12, 1/2) = 2 * 79/4096
    assert mcnemar_exact(2, 10) == pytest.approx(2 * 79 / 4096)
    assert mcnemar_exact(10, 2) == mcnemar_exact(2, 10)


def test_paired_difference_and_percentiles() -> None:
    a = [1.0, 0.0, 1.0, 0.0] * 25
    b = [1.0, 1.0, 1.0, 0.0] * 25
    d = paired_bootstrap_diff(a, b, seed=0)
    assert d["diff"] == pytest.approx(0.25) and d["ci_low"] <= 0.25 <= d["ci_high"] and d["ci_low"] > 0
    p = percentiles([float(x) for x in range(1, 101)])
    assert p["p50"] == pytest.approx(50.5) and p["max"] == 100.0
    assert p["p90"] == pytest.approx(float(np.percentile(range(1, 101), 90)))


def test_summary_per_category_tokens_and_markdown() -> None:
    recs = [ItemRecord(id=str(i), category="x" if i % 2 else "y", correct=i % 3 == 0, latency_s=0.01 * i,
                       input_tokens=10, output_tokens=2, cost_usd=0.001, seconds={"intake": 0.1},
                       attempts=2 if i == 4 else 1) for i in range(10)]
    recs.append(ItemRecord(id="err", correct=None, error="ValueError: bad"))
    s = summarize_records(recs)
    assert s["n"] == 11 and s["correct"] == 4 and s["accuracy"] == round(4 / 11, 4)
    assert s["errors"] == 1 and s["unscored"] == 1 and s["retried_items"] == 1
    assert s["per_category"]["x"]["n"] == 5 and s["per_category"]["y"]["correct"] == 2
    assert s["tokens"]["input"] == 100 and s["cost_usd"]["total"] == pytest.approx(0.01)
    assert s["node_seconds"]["intake"]["n"] == 10
    md = summary_markdown(s, "demo")
    assert "# demo" in md and "| x | 5 |" in md


def _write_run(d: Path, outcomes: dict[str, bool]) -> None:
    d.mkdir()
    (d / "manifest.json").write_text(json.dumps({"task": "t", "data": [{"sha256": "abc"}]}))
    (d / "items.jsonl").write_text("".join(ItemRecord(id=k, correct=v).model_dump_json() + "\n"
                                           for k, v in outcomes.items()))


def test_compare_runs_on_shared_ids(tmp_path: Path) -> None:
    a = {str(i): i < 50 for i in range(100)}
    b = {str(i): i < 60 for i in range(100)}
    b["extra"] = True
    _write_run(tmp_path / "a", a)
    _write_run(tmp_path / "b", b)
    c = compare_runs(tmp_path / "a", tmp_path / "b")
    assert c["n_shared"] == 100 and c["only_b"] == 1 and c["same_data"]
    assert (c["both_correct"], c["a_only_correct"], c["b_only_correct"], c["both_wrong"]) == (50, 0, 10, 40)
    assert c["mcnemar_p"] == pytest.approx(2 * 0.5 ** 10)
    assert c["difference"]["diff"] == pytest.approx(0.10)
    assert "McNemar exact p" in comparison_text(c)
