"""Speed of note extraction + calculator auto-fill on MedCalc-Bench dev notes (median ms per note).

Run: .venv/bin/python examples/benchmarks/bench_extract.py [--data PATH/dev.csv] [--repeat 3]
Reads the notes from $WARDROUND_DATA (default ../shared/data); prints the figures, writes nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path


def main() -> None:
    repo = Path(__file__).resolve().parents[2]
    default = Path(os.environ.get("WARDROUND_DATA", repo.parent / "shared" / "data")) / "medcalc_bench" / "dev.csv"
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, default=default)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if not args.data.is_file():
        raise SystemExit(f"MedCalc-Bench CSV not found at {args.data} (set WARDROUND_DATA or pass --data)")

    from wardround.agents.autofill import autofill, choose_calculator
    from wardround.case import Case
    from wardround.evals.medcalc_note import load_note_rows
    from wardround.extract import history
    from wardround.extract.context import sentence_bounds

    rows = load_note_rows(args.data)
    chosen = [(r, choose_calculator(r.question)) for r in rows]
    autofill(chosen[0][1], Case(note=chosen[0][0].note))  # warm-up: registry import and regex compilation
    per_note: list[float] = []
    for rep in range(args.repeat):
        for r, cid in chosen:
            # per-text caches are cleared: each call is a cold extraction
            note = r.note
            history._CACHE.clear()
            sentence_bounds.cache_clear()
            t0 = time.perf_counter()
            if cid is not None:
                autofill(cid, Case(id=f"b{rep}", note=note, question=r.question), policy="assume_normal")
            per_note.append(time.perf_counter() - t0)
    ms = sorted(1000 * x for x in per_note)
    chars = statistics.median(len(r.note) for r in rows)
    print(f"notes: {len(rows)} x {args.repeat} runs; median note length {chars:.0f} characters")
    print(f"extraction + auto-fill per note: median {statistics.median(ms):.2f} ms, "
          f"p90 {ms[int(0.9 * len(ms))]:.2f} ms, max {ms[-1]:.2f} ms (target: median <= 30 ms)")


if __name__ == "__main__":
    main()
