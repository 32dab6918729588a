"""The Ray backend and the local backend produce the same records and summary (a local 2-CPU Ray)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from wardround.evals.records import read_records
from wardround.evals.runner import RunOptions, run_task
from wardround.evals.tasks import EvalItem, Prediction, Task, TransientError, exact_match_scorer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from test_eval_datasets import write_medqa, write_osce  # noqa: E402

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'wardround[ray]')")


@pytest.fixture(scope="module")
def local_ray():  # noqa: ANN201
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    yield ray
    ray.shutdown()


class OnceFlaky:
    """Fails transiently on the first attempt of items 0 and 3 (the state lives in files: workers are processes)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __call__(self, item: EvalItem) -> Prediction:
        marker = self.folder / f"seen-{item.id}"
        if item.id in ("0", "3") and not marker.exists():
            marker.write_text("x")
            raise TransientError("flaky")
        return Prediction(prediction=item.gold if int(item.id) % 2 else "no")


STABLE = ("id", "category", "prediction", "gold", "correct", "cited", "error", "input_tokens", "output_tokens")


def _records(out: Path) -> dict[str, dict]:
    return {r.id: {k: getattr(r, k) for k in STABLE} | {"extra": r.extra}
            for r in read_records(out / "items.jsonl").records}


def test_ray_and_local_agree_on_the_ward_tasks(local_ray, tmp_path: Path) -> None:  # noqa: ANN001
    from wardround.evals.datasets.agentclinic import agentclinic_task
    from wardround.evals.datasets.medqa import medqa_task

    for name, make in (("medqa", lambda: medqa_task(write_medqa(tmp_path / "q.jsonl"))),
                       ("agentclinic", lambda: agentclinic_task(write_osce(tmp_path / "o.jsonl")))):
        local = run_task(make(), tmp_path / f"{name}-local", RunOptions(progress=False))
        remote = run_task(make(), tmp_path / f"{name}-ray", RunOptions(progress=False, backend="ray", concurrency=2))
        assert _records(tmp_path / f"{name}-local") == _records(tmp_path / f"{name}-ray")
        for key in ("n", "accuracy", "accuracy_ci95", "per_category", "errors", "tokens"):
            assert local[key] == remote[key], key
        assert set(remote["node_seconds"]) == set(local["node_seconds"])


def test_ray_retries_transient_errors(local_ray, tmp_path: Path) -> None:  # noqa: ANN001
    data = tmp_path / "d.txt"
    data.write_text("x")
    items = [EvalItem(id=str(i), gold=str(i)) for i in range(8)]
    task = Task(name="flaky", items=items, solver=OnceFlaky(tmp_path), scorer=exact_match_scorer, data_files=[data])
    summary = run_task(task, tmp_path / "run", RunOptions(progress=False, backend="ray", backoff=0.0, concurrency=2))
    recs = {r.id: r for r in read_records(tmp_path / "run" / "items.jsonl").records}
    assert len(recs) == 8 and summary["errors"] == 0
    assert recs["0"].attempts == 2 and recs["3"].attempts == 2 and recs["1"].attempts == 1
    assert summary["accuracy"] == 0.5


class HangsOn:
    """Returns at once, except on one item, where it hangs far beyond the timeout."""

    def __init__(self, slow: str) -> None:
        self.slow = slow

    def __call__(self, item: EvalItem) -> Prediction:
        if item.id == self.slow:
            import time

            time.sleep(120)
        return Prediction(prediction=item.gold)


def test_ray_batches_fast_items_and_times_out_only_the_item_that_hangs(local_ray, tmp_path: Path) -> None:  # noqa: ANN001
    from wardround.evals.backends import batch_size

    data = tmp_path / "d.txt"
    data.write_text("x")
    items = [EvalItem(id=str(i), gold=str(i)) for i in range(60)]
    assert batch_size(len(items), 2) == 7  # batches, not one task per item
    task = Task(name="hang", items=items, solver=HangsOn("5"), scorer=exact_match_scorer, data_files=[data])
    summary = run_task(task, tmp_path / "run", RunOptions(progress=False, backend="ray", concurrency=2, timeout=2.0,
                                                          retries=0))
    recs = {r.id: r for r in read_records(tmp_path / "run" / "items.jsonl").records}
    assert len(recs) == 60
    assert recs["5"].error and "took over 2 s" in recs["5"].error
    assert all(r.error is None and r.correct for k, r in recs.items() if k != "5")
    assert summary["errors"] == 1
