"""DDXPlus with the embedded reasoner: figures and wall times on the dev patients.

Prints: the structural reasoner (no fit) on every patient with its wall time, the cross-fitted figures
(fit on one half, score the other, swap; pooled) with the fit time, and the fit time on the whole file.

    python examples/benchmarks/bench_ddxplus.py [--data PATH/ddxplus/patients_dev.csv] [--folds 2] [--seed 0]

Data: DDXPlus (Fansi Tchango et al. 2022, arXiv:2205.09148), licence CC-BY; read from WARDROUND_DATA
(default ../shared/data beside the repository), never copied into the repository.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from wardround.evals.ddxplus import DDXPlusReasoner, cross_fit_score, load_ddxplus, score_ddxplus

REPO = Path(__file__).resolve().parents[2]
KEYS = ("top1", "top3", "top5", "ddx_precision", "ddx_recall", "ddx_f1")


def _line(scores: dict) -> str:
    return " ".join(f"{k}={scores[k]:.4f}" for k in KEYS)


def main() -> None:
    root = Path(os.environ.get("WARDROUND_DATA", REPO.parent / "shared" / "data"))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=root / "ddxplus" / "patients_dev.csv")
    p.add_argument("--folds", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    if not args.data.is_file():
        print(f"DDXPlus: skipped, {args.data} not found (set WARDROUND_DATA)")
        return
    print("DDXPlus (CC-BY), file:", args.data)

    t0 = time.perf_counter()
    items = load_ddxplus(args.data)
    reasoner = DDXPlusReasoner.from_release(args.data.parent)
    t1 = time.perf_counter()
    preds = [reasoner.predict(it) for it in items]
    t2 = time.perf_counter()
    s = score_ddxplus(items, preds)
    print(f"no fit, {s['n']} patients: {_line(s)}")
    print(f"  wall: load {t1 - t0:.2f} s, predict one by one {t2 - t1:.2f} s "
          f"({1000 * (t2 - t1) / len(items):.2f} ms/patient), total {t2 - t0:.2f} s")

    t3 = time.perf_counter()
    cf = cross_fit_score(args.data, folds=args.folds, seed=args.seed)
    t4 = time.perf_counter()
    print(f"cross-fitted ({args.folds} folds, seed {args.seed}), pooled: {_line(cf)}")
    for i, f in enumerate(cf["folds"]):
        print(f"  fold {i + 1}: n={f['n']} {_line(f)}")
    print(f"  wall: fit {cf['fit_seconds']:.2f} s in total, predict {cf['predict_seconds']:.2f} s, "
          f"all {t4 - t3:.2f} s")

    t5 = time.perf_counter()
    DDXPlusReasoner.from_release(args.data.parent).fit(items)
    print(f"fit on all {len(items)} patients: {time.perf_counter() - t5:.2f} s")


if __name__ == "__main__":
    main()
