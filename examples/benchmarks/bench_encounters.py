"""DDXPlus interactive with the rules EIG doctor: the DDXPlus-paper metrics, the accuracy-IL curve, wall time.

Cross-fitted: the reasoner interviewing a fold is fitted on the other folds, and the stopping threshold used on a
fold is tuned on the other folds' encounters. Prints both stopping objectives (pathology: GTPA@1; differential:
DDF1@5), the per-fold thresholds, the threshold sweep and writes the curve PNG. Then AgentClinic OSCE records as
encounters (rules gatekeeper, protocol doctor, the ward's diagnosis on what was revealed).

    python examples/benchmarks/bench_encounters.py [--data PATH/ddxplus/patients_dev.csv] [--max-turns 30]
        [--folds 2] [--seed 0] [--limit N] [--png runs/encounters/accuracy_vs_il.png]

Data: DDXPlus (Fansi Tchango et al. 2022, arXiv:2205.09148), licence CC-BY; read from WARDROUND_DATA
(default ../shared/data beside the repository), never copied into the repository.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from wardround.encounters.ddxplus_eval import interactive_eval, plot_curve
from wardround.evals.ddxplus import DDXPlusRelease, load_ddxplus

REPO = Path(__file__).resolve().parents[2]
KEYS = ("IL", "GTPA@1", "GTPA@3", "GTPA@5", "DDR", "DDP", "DDF1", "DDF1@5", "ddx_f1_fullset", "cost_usd")


def main() -> None:
    root = Path(os.environ.get("WARDROUND_DATA", REPO.parent / "shared" / "data"))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=root / "ddxplus" / "patients_dev.csv")
    p.add_argument("--max-turns", type=int, default=30)
    p.add_argument("--folds", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--png", type=Path, default=REPO / "runs" / "encounters" / "accuracy_vs_il.png")
    p.add_argument("--osce", type=Path, default=root / "agentclinic" / "osce_dev.jsonl",
                   help="AgentClinic OSCE JSONL (MIT) for the interactive AgentClinic run")
    p.add_argument("--prices", type=Path, default=root / "test_prices" / "cpt_lookup.csv",
                   help="test price table (approximate prices) for the AgentClinic run")
    args = p.parse_args()
    if args.osce.is_file():
        from wardround.encounters import PriceTable, load_price_table
        from wardround.encounters.case_encounter import agentclinic_interactive

        prices = load_price_table(args.prices) if args.prices.is_file() else PriceTable()
        t = time.perf_counter()
        ac = agentclinic_interactive(args.osce, max_turns=20, prices=prices)
        print(f"AgentClinic interactive (MIT), {ac['n']} OSCE cases, 20-turn budget, protocol doctor + ward: "
              f"accuracy {ac['accuracy']:.4f}, answered {ac['answered']}, abstained {ac['abstained']}, "
              f"IL {ac['IL']}, mean cost ${ac['cost_usd']:,.0f} (approximate prices), citations verify "
              f"{ac['verified']}; wall {time.perf_counter() - t:.1f} s")
    if not args.data.is_file():
        print(f"DDXPlus interactive: skipped, {args.data} not found (set WARDROUND_DATA)")
        return
    release = DDXPlusRelease.from_dir(args.data.parent)
    items = load_ddxplus(args.data, release=release, limit=args.limit)
    t0 = time.perf_counter()
    reports = interactive_eval(items, release, max_turns=args.max_turns, folds=args.folds, seed=args.seed)
    wall = time.perf_counter() - t0
    print(f"DDXPlus interactive (CC-BY), {len(items)} patients, {args.max_turns}-turn budget, {args.folds} folds, "
          f"seed {args.seed}; wall {wall:.1f} s")
    for objective, r in reports.items():
        line = " ".join(f"{k}={r.metrics[k]:.4f}" for k in KEYS if r.metrics.get(k) is not None)
        print(f"stop for {objective} (thresholds per fold {r.thresholds}): {line}")
    print("threshold sweep, pooled out-of-fold (threshold: IL GTPA@1 DDF1@5 DDF1):")
    for row in reports["pathology"].curve:
        print(f"  {row['threshold']:<8g} {row['IL']:6.2f} {row['GTPA@1']:.4f} {row['DDF1@5']:.4f} {row['DDF1']:.4f}")
    print("wrote", plot_curve(reports["pathology"], args.png))


if __name__ == "__main__":
    main()
