"""Execution backends: how the Ray backend batches items."""

from __future__ import annotations


def test_ray_batch_size_is_guided_and_bounded():
    from wardround.evals.backends import MAX_BATCH, batch_size

    assert batch_size(2000, 2) == 250  # fast items share a task
    assert batch_size(100_000, 4) == MAX_BATCH
    assert batch_size(7, 2) == 1  # near the end of the run: one item per task
    assert batch_size(0, 1) == 1
    sizes, left = [], 1000
    while left:
        sizes.append(batch_size(left, 4))
        left -= min(left, sizes[-1])
    assert sizes == sorted(sizes, reverse=True) and sizes[-1] == 1


def test_default_concurrency_follows_the_solver_kind(tmp_path):
    import json

    from wardround.evals.runner import RunOptions, default_concurrency, run_task
    from wardround.evals.tasks import EvalItem, Prediction, Task, exact_match_scorer

    data = tmp_path / "d.txt"
    data.write_text("x")

    def make(cpu_bound: bool) -> Task:
        return Task(name="k", items=[EvalItem(id="1", gold="a")], solver=lambda it: Prediction(prediction="a"),
                    scorer=exact_match_scorer, data_files=[data], cpu_bound=cpu_bound)

    assert default_concurrency(make(True)) == 1  # rules: threads only contend for the interpreter lock
    assert default_concurrency(make(False)) == 4  # chat models: waiting on the server
    assert default_concurrency(make(True), "ray") >= 1
    run_task(make(True), tmp_path / "run", RunOptions(progress=False))
    assert json.loads((tmp_path / "run" / "manifest.json").read_text())["run"]["concurrency"] == 1


def test_offline_datasets_are_cpu_bound(tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from test_eval_datasets import write_medqa

    from wardround.evals.datasets.medqa import medqa_task

    assert medqa_task(write_medqa(tmp_path / "q.jsonl")).cpu_bound
