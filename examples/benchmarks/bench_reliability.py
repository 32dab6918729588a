"""Time and peak memory of every input of the reliability corpus, each in a fresh child process.

    .venv/bin/python examples/benchmarks/bench_reliability.py [--category NAME] [--json OUT]

For each row of ``tests/reliability/corpus/corpus.yaml`` a child process imports wardround, builds the input
(generated inputs such as the 5 MB note are built before the clock starts), runs it through the ``wardround``
command in-process, checks the expected outcome, and reports the seconds spent on the input itself; the parent
reads the child's peak RSS with ``os.wait4``. Printed: one line per input, then per category the count, outcomes,
the slowest input and the largest peak RSS.

Bound (asserted here, not in the unit tests): every input within 10 s and 2 GB peak RSS; the script exits 1 if any
input exceeds it or does not have its expected outcome.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RELIABILITY = REPO / "tests" / "reliability"
MAX_SECONDS = 10.0
MAX_RSS_MB = 2048.0

CHILD = """
import json, os, sys, time
from pathlib import Path
sys.path.insert(0, {tests!r})
import reliability_corpus as rc
entry = next(e for e in rc.load_entries() if e.id == sys.argv[1])
work = Path(sys.argv[2]) / "case"
work.mkdir(parents=True)
os.chdir(work)
os.environ["WARDROUND_RUN_DIR"] = str(Path(sys.argv[2]) / "runs")
for key in ("WARDROUND_IMAGING_ROOTS", "WARDROUND_MAX_NOTE_CHARS", "WARDROUND_MAX_VOXELS"):
    os.environ.pop(key, None)
import wardround.cli  # imports are not the input's cost
orig = rc.materialise
built = {{}}
def timed_materialise(e, w):
    out = orig(e, w)
    built["t"] = time.perf_counter()  # the clock starts once the input exists
    return out
rc.materialise = timed_materialise
outcome = rc.run_entry(entry, work)
seconds = time.perf_counter() - built["t"]
problems = rc.check(entry, outcome)
print(json.dumps({{"seconds": seconds, "exit": outcome.exit_code, "problems": problems}}))
"""


def run_one(entry_id: str) -> dict:
    """Run one corpus entry in a child process; returns its seconds, peak RSS and outcome check."""
    code = CHILD.format(tests=str(RELIABILITY))
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryFile() as out_f, tempfile.TemporaryFile() as err_f:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", code, entry_id, tmp], stdout=out_f, stderr=err_f,
                                cwd=str(REPO), env={**os.environ, "PYTHONPATH": str(REPO)})
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        out_f.seek(0)
        err_f.seek(0)
        out, err = out_f.read().decode(), err_f.read().decode(errors="replace")
    rc = os.waitstatus_to_exitcode(status)
    try:
        info = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        info = {"seconds": wall, "exit": None, "problems": [f"child failed (exit {rc}): {err[-500:]}"]}
    return {"id": entry_id, "wall_s": wall, "peak_rss_mb": usage.ru_maxrss / 1024.0, **info}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--category", help="only this corpus category")
    parser.add_argument("--json", type=Path, help="also write every row as JSON here")
    args = parser.parse_args()
    sys.path.insert(0, str(RELIABILITY))
    import reliability_corpus as rc

    entries = [e for e in rc.load_entries() if args.category in (None, e.category)]
    rows = []
    for e in entries:
        row = {**run_one(e.id), "category": e.category, "expect": e.expect}
        rows.append(row)
        flag = "ok " if not row["problems"] else "BAD"
        print(f"{flag} {row['seconds']:6.2f} s {row['peak_rss_mb']:7.0f} MB  {e.category:17s} {e.id}"
              + (f"  {row['problems']}" if row["problems"] else ""), flush=True)
    by_cat: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_cat[row["category"]].append(row)
    print()
    print(f"{'category':18s} {'n':>3s} {'error':>5s} {'issue':>5s} {'ok':>3s} {'max s':>7s} {'max RSS MB':>10s}  slowest")
    for cat, rs in by_cat.items():
        slow = max(rs, key=lambda r: r["seconds"])
        print(f"{cat:18s} {len(rs):3d} {sum(r['expect'] == 'error' for r in rs):5d} "
              f"{sum(r['expect'] == 'issue' for r in rs):5d} {sum(r['expect'] == 'ok' for r in rs):3d} "
              f"{slow['seconds']:7.2f} {max(r['peak_rss_mb'] for r in rs):10.0f}  {slow['id']}")
    worst_s = max(r["seconds"] for r in rows)
    worst_mb = max(r["peak_rss_mb"] for r in rows)
    bad = [r for r in rows if r["problems"] or r["seconds"] > MAX_SECONDS or r["peak_rss_mb"] > MAX_RSS_MB]
    print(f"\n{len(rows)} inputs; slowest {worst_s:.2f} s (bound {MAX_SECONDS:g} s); largest peak RSS "
          f"{worst_mb:.0f} MB (bound {MAX_RSS_MB:g} MB); {len(bad)} outside the bound or unexpected")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
