"""Kill -9 in the middle of a run, rerun: no item lost, none duplicated (the run goes in a child process)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

N_ITEMS = 120


def child(out: str) -> None:
    """Run a slow synthetic task into ``out`` (the parent kills this process)."""
    from wardround.evals.runner import RunOptions, run_task
    from wardround.evals.tasks import EvalItem, Prediction, Task, exact_match_scorer

    def solver(item: EvalItem) -> Prediction:
        time.sleep(0.02)
        return Prediction(prediction=item.gold)

    data = Path(out).with_suffix(".data")
    data.write_text("synthetic\n")
    items = [EvalItem(id=f"item-{i}", gold=str(i)) for i in range(N_ITEMS)]
    task = Task(name="killme", items=items, solver=solver, scorer=exact_match_scorer, config={"d": 1},
                data_files=[data])
    run_task(task, out, RunOptions(concurrency=4, progress=False))


def _ids(path: Path) -> list[str]:
    return [json.loads(line)["id"] for line in path.read_text().splitlines()]


def test_sigkill_then_resume(tmp_path: Path) -> None:
    out = tmp_path / "run"
    cmd = [sys.executable, __file__, str(out)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    items = out / "items.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if items.is_file() and items.read_bytes().count(b"\n") >= 20:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    before = items.read_bytes()
    n_before = before.count(b"\n")
    assert 20 <= n_before < N_ITEMS, "the run must be cut in the middle"
    # also simulate the worst case: the kill landed in the middle of a write
    with open(items, "ab") as fh:
        fh.write(b'{"id":"item-999","prediction":"9')
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    ids = _ids(items)
    assert len(ids) == len(set(ids)) == N_ITEMS
    assert set(ids) == {f"item-{i}" for i in range(N_ITEMS)}
    assert items.read_bytes().startswith(before)  # finished records were kept, not redone
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n"] == N_ITEMS and summary["accuracy"] == 1.0 and summary["ran_now"] == N_ITEMS - n_before
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"


if __name__ == "__main__":
    child(sys.argv[1])
