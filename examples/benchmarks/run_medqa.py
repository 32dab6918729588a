"""MedQA through wardround's evaluation harness (resumable, per-item logged, costed).

The rules model is an honest baseline: the ward's differential is matched onto the options, else it abstains.
With a chat model, ``--solver chat`` asks the model for the letter; ``--solver ward`` runs the whole ward round.

Usage:
    python examples/benchmarks/run_medqa.py --data PATH/medqa/dev.jsonl --out runs/medqa-rules
    python examples/benchmarks/run_medqa.py --data PATH/medqa/dev.jsonl --out runs/medqa-4o-mini \\
        --model openai:gpt-4o-mini --solver chat --concurrency 8
Same as: wardround eval medqa --data ... --out ... [--model ...] [--solver ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from wardround.evals.datasets.medqa import medqa_task
from wardround.evals.runner import RunOptions, run_task


def main() -> None:
    p = argparse.ArgumentParser(description="MedQA with the wardround harness")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--model", default="rules")
    p.add_argument("--solver", default="ward", choices=["ward", "chat"])
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--limit", type=int)
    args = p.parse_args()
    task = medqa_task(args.data, model=args.model, solver=args.solver, limit=args.limit)
    s = run_task(task, args.out, RunOptions(concurrency=args.concurrency))
    print(f"MedQA: n={s['n']} accuracy={s['accuracy']} 95% CI={s['accuracy_ci95']} abstained={s['abstained']} "
          f"tokens={s['tokens']['input']}/{s['tokens']['output']} cost=${s['cost_usd']['total']:.4f}")
    print(f"records: {args.out / 'items.jsonl'}; report: {args.out / 'summary.md'}")


if __name__ == "__main__":
    main()
