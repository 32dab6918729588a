"""MedCalc-Bench through wardround's evaluation harness: oracle mode (gold entities) or note mode (read the note).

Agreement is reported against the original and the physician-corrected labels (``dev_corrected_labels.csv``
beside the data is used when present).

Usage:
    python examples/benchmarks/run_medcalc.py --data PATH/medcalc_bench/dev.csv --mode oracle --out runs/medcalc-oracle
Same as: wardround eval medcalc --data ... --mode oracle|note --out ...
"""

from __future__ import annotations

import argparse
from pathlib import Path

from wardround.evals.datasets.medcalc import medcalc_task
from wardround.evals.runner import RunOptions, run_task


def main() -> None:
    p = argparse.ArgumentParser(description="MedCalc-Bench with the wardround harness")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--mode", default="oracle", choices=["oracle", "note"])
    p.add_argument("--corrected", type=Path, default=None)
    p.add_argument("--concurrency", type=int, default=4)
    args = p.parse_args()
    corrected = args.corrected
    if corrected is None and (args.data.parent / "dev_corrected_labels.csv").is_file():
        corrected = args.data.parent / "dev_corrected_labels.csv"
    task = medcalc_task(args.data, mode=args.mode, corrected=corrected)
    s = run_task(task, args.out, RunOptions(concurrency=args.concurrency))
    print(f"MedCalc-Bench {args.mode}: n={s['n']} accuracy={s['accuracy']} (95% CI {s['accuracy_ci95']}) "
          f"n_corrected={s['n_corrected']} accuracy_corrected={s['accuracy_corrected']}")
    for cat, b in s["per_category"].items():
        print(f"  {cat:10s} n={b['n']:4d} accuracy={b['accuracy']} accuracy_corrected={b['accuracy_corrected']}")


if __name__ == "__main__":
    main()
