"""Paired comparison of two runs on the items they share: McNemar's exact test and a bootstrap difference.

Only ids present in both runs are compared (an item without a verdict counts as wrong, as in the summaries).
The difference is ``accuracy(B) - accuracy(A)``, with a percentile bootstrap interval over the shared items
resampled in pairs (``wardround.evals.metrics``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wardround.errors import InputError
from wardround.evals.metrics import mcnemar_exact, paired_bootstrap_diff
from wardround.evals.records import load_run


def compare_runs(run_a: str | Path, run_b: str | Path, *, seed: int = 0, resamples: int = 2000) -> dict[str, Any]:
    """Compare two run folders on their shared ids; returns counts, accuracies, McNemar p and the difference."""
    out: dict[str, Any] = {"run_a": str(run_a), "run_b": str(run_b)}
    loaded = []
    for label, d in (("run_a", run_a), ("run_b", run_b)):
        if not (Path(d) / "items.jsonl").is_file():
            raise InputError(label, f"{str(d)!r} has no items.jsonl", "give a folder written by wardround eval --out")
        loaded.append(load_run(d))
    (man_a, rec_a), (man_b, rec_b) = loaded
    a = {r.id: bool(r.correct) for r in rec_a}
    b = {r.id: bool(r.correct) for r in rec_b}
    shared = [i for i in a if i in b]
    # the first data file of a manifest is the dataset scored (the others: knowledge base, fit file, labels)
    data_a = {x.get("sha256") for x in man_a.get("data", [])[:1]}
    data_b = {x.get("sha256") for x in man_b.get("data", [])[:1]}
    out.update({
        "task_a": man_a.get("task"), "task_b": man_b.get("task"),
        "config_a": man_a.get("config"), "config_b": man_b.get("config"),
        "same_data": bool(data_a) and data_a == data_b,
        "n_a": len(a), "n_b": len(b), "n_shared": len(shared),
        "only_a": len(a) - len(shared), "only_b": len(b) - len(shared),
    })
    if not shared:
        out.update({"accuracy_a": None, "accuracy_b": None, "both_correct": 0, "a_only_correct": 0,
                    "b_only_correct": 0, "both_wrong": 0, "mcnemar_p": None, "difference": None})
        return out
    xa = [float(a[i]) for i in shared]
    xb = [float(b[i]) for i in shared]
    both = sum(a[i] and b[i] for i in shared)
    a_only = sum(a[i] and not b[i] for i in shared)
    b_only = sum(b[i] and not a[i] for i in shared)
    out.update({
        "accuracy_a": round(sum(xa) / len(shared), 4), "accuracy_b": round(sum(xb) / len(shared), 4),
        "both_correct": both, "a_only_correct": a_only, "b_only_correct": b_only,
        "both_wrong": len(shared) - both - a_only - b_only,
        "mcnemar_p": mcnemar_exact(a_only, b_only),
        "difference": paired_bootstrap_diff(xa, xb, seed=seed, resamples=resamples),
    })
    return out


def comparison_text(c: dict[str, Any]) -> str:
    """A short plain-text report of ``compare_runs``."""
    lines = [f"A: {c['run_a']} ({c.get('task_a')}, {c['n_a']} items)",
             f"B: {c['run_b']} ({c.get('task_b')}, {c['n_b']} items)",
             f"shared items: {c['n_shared']} (only in A: {c['only_a']}, only in B: {c['only_b']})"
             + ("" if c.get("same_data") else "  [warning: the runs scored different dataset files]")]
    if c["n_shared"]:
        d = c["difference"]
        lines += [f"accuracy A {100 * c['accuracy_a']:.1f}%  B {100 * c['accuracy_b']:.1f}%  "
                  f"B-A {100 * d['diff']:+.1f} pts (95 % bootstrap CI {100 * d['ci_low']:+.1f} to {100 * d['ci_high']:+.1f})",
                  f"both right {c['both_correct']}, only A right {c['a_only_correct']}, only B right "
                  f"{c['b_only_correct']}, both wrong {c['both_wrong']}",
                  f"McNemar exact p = {c['mcnemar_p']:.4g}"]
    return "\n".join(lines)
