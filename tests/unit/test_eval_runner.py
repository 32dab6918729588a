"""The evaluation runner: retries, timeouts, resume, refusal to mix runs, manifest and summary files."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

import pytest

from wardround.errors import InputError
from wardround.evals.records import read_records
from wardround.evals.runner import RunOptions, run_task
from wardround.evals.tasks import EvalItem, Prediction, Task, TransientError, exact_match_scorer
from wardround.report import Usage


class FlakySolver:
    """Answers the gold; items whose number is divisible by 10 fail transiently on their first attempt."""

    def __init__(self, fail_every: int = 10, fatal: set[str] | None = None, sleep: float = 0.0) -> None:
        self.fail_every = fail_every
        self.fatal = fatal or set()
        self.sleep = sleep
        self.calls: dict[str, int] = {}
        self.lock = threading.Lock()

    def __call__(self, item: EvalItem) -> Prediction:
        with self.lock:
            self.calls[item.id] = self.calls.get(item.id, 0) + 1
            n = self.calls[item.id]
        if self.sleep:
            time.sleep(self.sleep)
        if item.id in self.fatal:
            raise ValueError(f"cannot answer {item.id}")
        if int(item.id) % self.fail_every == 0 and n == 1:
            raise TransientError("503 from the model server")
        return Prediction(prediction=item.gold if int(item.id) % 3 else "wrong",
                          usage=Usage(input_tokens=7, output_tokens=3, cost_usd=0.0001, seconds={"solve": 0.001}),
                          cited=["E1"])


def make_task(n: int, solver: object, tmp_path: Path, name: str = "synthetic") -> Task:
    data = tmp_path / f"{name}.txt"
    if not data.exists():
        data.write_text("synthetic items\n")
    items = [EvalItem(id=str(i), gold=f"g{i}", category="even" if i % 2 == 0 else "odd") for i in range(n)]
    return Task(name=name, items=items, solver=solver, scorer=exact_match_scorer,  # type: ignore[arg-type]
                config={"dataset": name}, data_files=[data])


def test_300_items_with_10_percent_transient_failures_all_recorded(tmp_path: Path) -> None:
    solver = FlakySolver()
    summary = run_task(make_task(300, solver, tmp_path), tmp_path / "run",
                       RunOptions(concurrency=8, retries=2, backoff=0.0, progress=False))
    records = read_records(tmp_path / "run" / "items.jsonl").records
    assert sorted(int(r.id) for r in records) == list(range(300))
    assert all(r.error is None for r in records)
    retried = {r.id for r in records if r.attempts == 2}
    assert retried == {str(i) for i in range(0, 300, 10)}
    assert all(solver.calls[i] == 2 for i in retried)
    assert summary["n"] == 300 and summary["retried_items"] == 30 and summary["complete"]
    assert summary["correct"] == sum(1 for i in range(300) if i % 3)
    assert summary["tokens"]["input"] == 2100 and summary["cost_usd"]["total"] == pytest.approx(0.03)
    assert summary["per_category"]["even"]["n"] == 150
    assert records[0].cited == ["E1"] and records[0].seconds == {"solve": 0.001}
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["data"][0]["sha256"] and manifest["wardround_version"]
    assert (tmp_path / "run" / "summary.md").read_text().startswith("# synthetic evaluation")


def test_retries_exhausted_and_fatal_errors_become_records(tmp_path: Path) -> None:
    solver = FlakySolver(fail_every=1, fatal={"5"})  # every item fails once; item 5 always
    summary = run_task(make_task(12, solver, tmp_path), tmp_path / "run",
                       RunOptions(concurrency=3, retries=0, backoff=0.0, progress=False))
    records = {r.id: r for r in read_records(tmp_path / "run" / "items.jsonl").records}
    assert len(records) == 12 and summary["errors"] == 12
    assert records["5"].error.startswith("ValueError") and records["3"].error.startswith("TransientError")
    assert solver.calls["5"] == 1  # a non-transient error is not retried
    # --retry-errors redoes exactly the failed items; the transient ones now succeed
    solver2 = FlakySolver(fail_every=1000, fatal={"5"})
    summary = run_task(make_task(12, solver2, tmp_path), tmp_path / "run",
                       RunOptions(concurrency=3, retries=1, backoff=0.0, progress=False, retry_errors=True))
    assert summary["errors"] == 1 and summary["n"] == 12 and summary["ran_now"] == 12


def test_timeout_is_retried_then_recorded(tmp_path: Path) -> None:
    solver = FlakySolver(fail_every=1000, sleep=0.5)
    summary = run_task(make_task(2, solver, tmp_path), tmp_path / "run",
                       RunOptions(concurrency=2, timeout=0.05, retries=1, backoff=0.0, progress=False))
    records = read_records(tmp_path / "run" / "items.jsonl").records
    assert summary["errors"] == 2 and all(r.attempts == 2 and r.error.startswith("TimeoutError") for r in records)


def test_resume_skips_finished_and_refuses_a_different_run(tmp_path: Path) -> None:
    out = tmp_path / "run"
    run_task(make_task(10, FlakySolver(), tmp_path), out, RunOptions(progress=False, backoff=0.0))
    solver = FlakySolver()
    summary = run_task(make_task(25, solver, tmp_path), out, RunOptions(progress=False, backoff=0.0))
    assert set(solver.calls) == {str(i) for i in range(10, 25)}  # only the new items ran
    assert summary["n"] == 25 and summary["ran_now"] == 15
    # a smaller limit summarises only the first items and keeps the rest on disk
    summary = run_task(make_task(5, FlakySolver(), tmp_path), out, RunOptions(progress=False))
    assert summary["n"] == 5 and summary["ran_now"] == 0
    assert len(read_records(out / "items.jsonl").records) == 25
    other = make_task(10, FlakySolver(), tmp_path)
    other.config = {"dataset": "synthetic", "model": "another"}
    with pytest.raises(InputError, match="different evaluation"):
        run_task(other, out, RunOptions(progress=False))
    summary = run_task(other, out, RunOptions(progress=False, overwrite=True, backoff=0.0))
    assert summary["n"] == 10 and len(read_records(out / "items.jsonl").records) == 10


def test_async_solver_and_duplicate_ids(tmp_path: Path) -> None:
    async def solver(item: EvalItem) -> Prediction:
        await asyncio.sleep(0.001)
        return Prediction(prediction=item.gold)

    summary = run_task(make_task(20, solver, tmp_path), tmp_path / "run",
                       RunOptions(concurrency=5, progress=False))
    assert summary["accuracy"] == 1.0
    task = make_task(3, solver, tmp_path)
    task.items.append(task.items[0])
    with pytest.raises(InputError, match="more than once"):
        run_task(task, tmp_path / "dup", RunOptions(progress=False))
