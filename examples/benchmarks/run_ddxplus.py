"""DDXPlus through wardround's evaluation harness with the embedded DDXPlus reasoner.

The release files (release_conditions.json, release_evidences.json) are read beside --data unless --kb-dir
is given; --fit PATH fits the reasoner on another patients file first (never on the rows scored).

Usage:
    python examples/benchmarks/run_ddxplus.py --data PATH/ddxplus/patients_dev.csv --out runs/ddxplus
    python examples/benchmarks/run_ddxplus.py --data PATH/ddxplus/patients_dev.csv --fit PATH/train.csv --out runs/ddx-fit
Same as: wardround eval ddxplus --data ... [--kb-dir ...] [--fit ...] --out ...
"""

from __future__ import annotations

import argparse
from pathlib import Path

from wardround.evals.datasets.ddxplus import ddxplus_task
from wardround.evals.runner import RunOptions, run_task


def main() -> None:
    p = argparse.ArgumentParser(description="DDXPlus with the wardround harness")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--kb-dir", type=Path, default=None)
    p.add_argument("--fit", type=Path, default=None)
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--backend", default="local", choices=["local", "ray"])
    args = p.parse_args()
    task = ddxplus_task(args.data, kb_dir=args.kb_dir, fit=args.fit)
    s = run_task(task, args.out, RunOptions(concurrency=args.concurrency, backend=args.backend))
    print(f"DDXPlus: n={s['n']} top1={s['top1']} top3={s['top3']} top5={s['top5']} "
          f"ddx_precision={s['ddx_precision']} ddx_recall={s['ddx_recall']} ddx_f1={s['ddx_f1']} "
          f"wall={s['elapsed_s']} s")


if __name__ == "__main__":
    main()
