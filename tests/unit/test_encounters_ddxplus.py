"""DDXPlus interactive evaluation: the tuning trajectories agree with the graph-run encounters turn for turn,
thresholds are tuned out of fold, and the report carries the paper's metrics and the accuracy-IL curve."""

from __future__ import annotations

from pathlib import Path

import pytest

from wardround.encounters import DDXPlusGatekeeper, EncounterConfig, RulesDDXPlusDoctor, run_encounter
from wardround.encounters.ddxplus_eval import (
    interactive_eval,
    plot_curve,
    stop_turn,
    trajectory,
    tune_threshold,
)
from wardround.evals.ddxplus import DDXPlusReasoner, DDXPlusRelease, load_ddxplus


@pytest.fixture(scope="module")
def ddx(wardround_data: Path):
    folder = wardround_data / "ddxplus"
    if not (folder / "patients_dev.csv").is_file():
        pytest.skip(f"DDXPlus dev file not found under {folder}")
    release = DDXPlusRelease.from_dir(folder)
    return release, load_ddxplus(folder / "patients_dev.csv", release=release)


def test_trajectory_stop_equals_the_graph_run(ddx) -> None:
    release, items = ddx
    reasoner = DDXPlusReasoner(release).fit(items[40:])
    for item in items[:8]:
        steps = trajectory(item, release, reasoner, 15)
        for threshold in (0.9, 0.99, 1.01):
            step = stop_turn(steps, threshold)
            doctor = RulesDDXPlusDoctor(reasoner, threshold=threshold, min_gain=-1.0, age=item.age, sex=item.sex)
            result = run_encounter(DDXPlusGatekeeper(item, release), doctor, EncounterConfig(max_turns=15))
            assert result.questions == step.turn, (item.id, threshold)
            assert result.ranked[0][0] == step.ranked[0][0]
            assert [n for n, _ in result.differential] == [n for n, _ in step.differential]


def test_interactive_eval_is_out_of_fold_and_reports_the_paper_metrics(ddx, tmp_path: Path) -> None:
    release, items = ddx
    seen: list[tuple[str, str]] = []
    reports = interactive_eval(items[:40], release, max_turns=6, folds=2, seed=1,
                               on_result=lambda objective, item, result: seen.append((objective, item.id)))
    assert set(reports) == {"pathology", "differential"}
    assert len(seen) == 80 and len({i for _, i in seen}) == 40
    for report in reports.values():
        m = report.metrics
        for key in ("IL", "GTPA@1", "GTPA@3", "GTPA@5", "DDR", "DDP", "DDF1", "DDF1@5", "ddx_f1_fullset"):
            assert m[key] is not None and 0 <= m[key] <= (6 if key == "IL" else 1), key
        assert m["IL"] <= 6 and len(report.thresholds) == 2
        assert [r["turns"] for r in report.fixed_turns] == list(range(7))
    png = plot_curve(reports["pathology"], tmp_path / "curve.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_tuning_picks_the_smallest_threshold_reaching_the_target(ddx) -> None:
    release, items = ddx
    reasoner = DDXPlusReasoner(release).fit(items[30:])
    trajs = [trajectory(it, release, reasoner, 10) for it in items[:30]]
    threshold, table = tune_threshold(items[:30], trajs, "pathology")
    ok = [r for r in table if r["GTPA@1"] >= 0.99]
    assert threshold == (ok[0]["threshold"] if ok else max(table, key=lambda r: (r["GTPA@1"], -r["IL"]))["threshold"])
    ils = [r["IL"] for r in table]
    assert ils == sorted(ils)  # a higher threshold never stops earlier
