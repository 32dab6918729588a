"""AgentClinic OSCE cases through wardround's evaluation harness (static, single-turn form).

The prediction is the attending's primary diagnosis (``--solver ward``) or the model's answer
(``--solver chat``), scored against ``Correct_Diagnosis`` by normalised name or knowledge-base alias;
``--judge MODEL`` adds an LLM judge for answers the name match rejects (off by default).

Usage:
    python examples/benchmarks/run_agentclinic.py --data PATH/agentclinic/osce_dev.jsonl --out runs/osce-rules
Same as: wardround eval agentclinic --data ... --out ... [--model ...] [--judge ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from wardround.evals.datasets.agentclinic import agentclinic_task
from wardround.evals.runner import RunOptions, run_task


def main() -> None:
    p = argparse.ArgumentParser(description="AgentClinic with the wardround harness")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--model", default="rules")
    p.add_argument("--solver", default="ward", choices=["ward", "chat"])
    p.add_argument("--judge", default=None, help="chat-model spec of an optional judge")
    p.add_argument("--concurrency", type=int, default=4)
    args = p.parse_args()
    task = agentclinic_task(args.data, model=args.model, solver=args.solver, judge=args.judge)
    s = run_task(task, args.out, RunOptions(concurrency=args.concurrency))
    print(f"AgentClinic: n={s['n']} accuracy={s['accuracy']} 95% CI={s['accuracy_ci95']} "
          f"matched by {s['matched_by']} cost=${s['cost_usd']['total']:.4f}")


if __name__ == "__main__":
    main()
