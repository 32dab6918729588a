"""Speed of a ward round on the embedded reasoner: cold CLI process and warm in-process ``wardround.run``.

Targets (issue: foundation): cold ``wardround run`` on a text case, median wall <= 2.5 s; in-process
``wardround.run`` median <= 50 ms per text case after warm-up.

Usage: python examples/benchmarks/bench_ward.py [--runs N] [--cases DIR]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def cold_cli(case: Path, runs: int) -> list[float]:
    """Wall time of whole ``wardround run CASE`` processes."""
    exe = shutil.which("wardround") or str(Path(sys.executable).with_name("wardround"))
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        out = subprocess.run([exe, "run", str(case)], capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        if out.returncode != 0:
            raise SystemExit(f"wardround run failed: {out.stderr}")
    return times


def in_process(cases: list[Path], runs: int) -> list[float]:
    """Per-case wall time of ``wardround.run`` after one warm-up pass."""
    import wardround as wr

    loaded = [wr.Case.from_file(p) for p in cases]
    for c in loaded:
        wr.run(c)
    times = []
    for _ in range(runs):
        for c in loaded:
            t0 = time.perf_counter()
            result = wr.run(c)
            times.append(time.perf_counter() - t0)
            assert result.verified
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--cases", type=Path, default=REPO / "examples" / "cases")
    args = parser.parse_args()
    cases = sorted(p for p in args.cases.glob("*.json"))
    text_cases = []
    import json

    for p in cases:
        if not json.loads(p.read_text()).get("imaging"):
            text_cases.append(p)
    demo = args.cases / "chest_pain.json"
    cli = cold_cli(demo, args.runs)
    warm = in_process(text_cases, args.runs)
    print(f"cold CLI 'wardround run {demo.name}': median {statistics.median(cli):.2f} s "
          f"(min {min(cli):.2f}, max {max(cli):.2f}, n={len(cli)}) target <= 2.5 s")
    print(f"in-process wardround.run over {len(text_cases)} text cases: median "
          f"{1000 * statistics.median(warm):.1f} ms (p90 {1000 * statistics.quantiles(warm, n=10)[-1]:.1f} ms, "
          f"n={len(warm)}) target <= 50 ms")


if __name__ == "__main__":
    main()
