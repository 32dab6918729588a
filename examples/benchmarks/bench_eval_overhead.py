"""Evaluation-harness speed: per-item overhead beyond the solver, resume cost, and DDXPlus dev wall time.

Targets: harness overhead <= 5 ms per item beyond the agent call (no-op solver over 2000 items); DDXPlus dev
(783 patients) with the rules reasoner <= 60 s wall; with ``--ray``: the Ray backend's overhead <= 1 ms per item
(no-op solver, 2000 items, after ``ray.init``, which is timed on its own) and, with a 300 ms-per-item solver,
Ray at 2 workers within 1.1x of local at concurrency 2.

Usage: python examples/benchmarks/bench_eval_overhead.py [--items 2000] [--data-root PATH] [--ray]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from wardround.evals.runner import RunOptions, run_task
from wardround.evals.tasks import EvalItem, Prediction, Task, exact_match_scorer

REPO = Path(__file__).resolve().parents[2]


def noop(item: EvalItem) -> Prediction:
    """A solver that does nothing: everything measured around it is harness overhead."""
    return Prediction(prediction=item.gold)


def sleeper(item: EvalItem) -> Prediction:
    """A solver that waits 5 ms (a stand-in for a fast agent call)."""
    time.sleep(0.005)
    return Prediction(prediction=item.gold)


def slow(item: EvalItem) -> Prediction:
    """A solver that waits 300 ms: a model call, latency-bound (the waiting is not CPU)."""
    time.sleep(0.3)
    return Prediction(prediction=item.gold)


def synthetic(n: int, solver: object, folder: Path) -> Task:
    data = folder / "items.txt"
    data.write_text("synthetic\n")
    items = [EvalItem(id=f"i{i}", gold=str(i), category=str(i % 5)) for i in range(n)]
    return Task(name="overhead", items=items, solver=solver, scorer=exact_match_scorer,  # type: ignore[arg-type]
                config={"n": n}, data_files=[data])


def overhead(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for conc in (1, 4, 8):
            out = folder / f"noop-{conc}"
            t0 = time.perf_counter()
            run_task(synthetic(n, noop, folder), out, RunOptions(concurrency=conc, progress=False))
            wall = time.perf_counter() - t0
            print(f"no-op solver, {n} items, concurrency {conc}: {wall:.2f} s wall, "
                  f"{1000 * wall / n:.3f} ms per item (whole run: records, manifest, summary, bootstrap CI)")
        t0 = time.perf_counter()
        s = run_task(synthetic(n, noop, folder), folder / "noop-8", RunOptions(concurrency=8, progress=False))
        print(f"resume of the finished {n}-item run: {time.perf_counter() - t0:.2f} s (ran {s['ran_now']} items)")
        m = min(n, 400)
        t0 = time.perf_counter()
        run_task(synthetic(m, sleeper, folder), folder / "sleep", RunOptions(concurrency=1, progress=False))
        wall = time.perf_counter() - t0
        print(f"5 ms solver, {m} items, concurrency 1: {wall:.2f} s wall; beyond the solver "
              f"{1000 * (wall - 0.005 * m) / m:.3f} ms per item (includes time.sleep's own overshoot)")


def ddxplus(root: Path) -> None:
    data = root / "ddxplus" / "patients_dev.csv"
    if not data.is_file():
        print(f"DDXPlus: skipped, {data} not found (set WARDROUND_DATA)")
        return
    try:
        from wardround.evals.datasets.ddxplus import ddxplus_task

        task = ddxplus_task(data)
    except ModuleNotFoundError as exc:
        print(f"DDXPlus: skipped, the DDXPlus reasoner is not available ({exc})")
        return
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        s = run_task(task, Path(tmp) / "ddx", RunOptions(progress=False))
        wall = time.perf_counter() - t0
    print(f"DDXPlus dev, {s['n']} patients, rules reasoner, default concurrency 1: {wall:.2f} s wall "
          f"(target <= 60 s); top1 {s.get('top1')}, top5 {s.get('top5')}, ddx_f1 {s.get('ddx_f1')}")


def ray_overhead(n: int) -> None:
    try:
        import ray
    except ImportError:
        print("Ray: skipped, not installed (pip install 'wardround[ray]')")
        return
    import sys

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the solvers above live in this script
    t0 = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    print(f"ray.init (local, 2 CPUs): {time.perf_counter() - t0:.2f} s, once per process")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        run_task(synthetic(20, noop, folder), folder / "warm", RunOptions(backend="ray", concurrency=2,
                                                                            progress=False))  # starts the workers
        walls = {}
        for backend in ("local", "ray"):
            t0 = time.perf_counter()
            run_task(synthetic(n, noop, folder), folder / f"noop-{backend}",
                     RunOptions(backend=backend, concurrency=2, progress=False))
            walls[backend] = time.perf_counter() - t0
        extra = 1000 * (walls["ray"] - walls["local"]) / n
        print(f"no-op solver, {n} items, concurrency 2: local {walls['local']:.2f} s, ray {walls['ray']:.2f} s; "
              f"Ray's own cost {extra:.3f} ms per item (target <= 1 ms)")
        m = 60
        for backend in ("local", "ray"):
            t0 = time.perf_counter()
            run_task(synthetic(m, slow, folder), folder / f"slow-{backend}",
                     RunOptions(backend=backend, concurrency=2, progress=False))
            walls[backend] = time.perf_counter() - t0
        print(f"300 ms solver, {m} items, 2 workers: local {walls['local']:.2f} s, ray {walls['ray']:.2f} s "
              f"(ideal {0.3 * m / 2:.1f} s); ray / local {walls['ray'] / walls['local']:.2f} (target <= 1.1)")
    ray.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--data-root", type=Path,
                        default=Path(os.environ.get("WARDROUND_DATA", REPO.parent / "shared" / "data")))
    parser.add_argument("--ray", action="store_true", help="also measure the Ray backend against local")
    args = parser.parse_args()
    overhead(args.items)
    ddxplus(args.data_root)
    if args.ray:
        ray_overhead(args.items)


if __name__ == "__main__":
    main()
