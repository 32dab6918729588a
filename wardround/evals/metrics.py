"""Statistics for evaluation runs: bootstrap confidence intervals, latency percentiles, McNemar's exact test.

- Percentile bootstrap (Efron 1979, Ann Stat 7:1-26, doi:10.1214/aos/1176344552): resample the items with
  replacement ``B`` times, take the 2.5th and 97.5th percentiles of the resampled accuracy.
- McNemar's test on paired outcomes (McNemar 1947, Psychometrika 12:153-157, doi:10.1007/BF02295996), exact
  form: under H0 the discordant pairs split Binomial(b + c, 1/2); two-sided p = P(|X - n/2| >= |b - n/2|).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from wardround.evals.records import ItemRecord

#: Bootstrap resamples used by default (enough for a stable 95 % percentile interval on a few hundred items).
DEFAULT_RESAMPLES = 2000


def bootstrap_ci(values: Sequence[float] | np.ndarray, *, confidence: float = 0.95,
                 resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> tuple[float, float] | None:
    """Percentile bootstrap interval of the mean of ``values`` (``None`` when there are no values)."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    if n == 0:
        return None
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    chunk = max(1, 4_000_000 // n)  # bound memory: at most ~4M indices at once
    for start in range(0, resamples, chunk):
        stop = min(resamples, start + chunk)
        idx = rng.integers(0, n, size=(stop - start, n))
        means[start:stop] = x[idx].mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(means, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def paired_bootstrap_diff(a: Sequence[float], b: Sequence[float], *, confidence: float = 0.95,
                          resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> dict[str, float] | None:
    """Mean of ``b - a`` over paired items with a percentile bootstrap interval (pairs resampled together)."""
    xa, xb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(xa) != len(xb):
        raise ValueError("paired_bootstrap_diff needs two sequences of the same length")
    if len(xa) == 0:
        return None
    ci = bootstrap_ci(xb - xa, confidence=confidence, resamples=resamples, seed=seed)
    assert ci is not None
    return {"diff": float((xb - xa).mean()), "ci_low": ci[0], "ci_high": ci[1], "confidence": confidence}


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts ``b`` (A right, B wrong) and ``c`` (A wrong, B right)."""
    n = b + c
    if n == 0:
        return 1.0
    from scipy.stats import binomtest

    return float(binomtest(min(b, c), n, 0.5, alternative="two-sided").pvalue)


def percentiles(values: Sequence[float], points: Sequence[int] = (50, 90, 95, 99)) -> dict[str, float] | None:
    """Mean, the requested percentiles and the maximum, rounded to microseconds."""
    if not values:
        return None
    x = np.asarray(values, dtype=float)
    out = {"mean": round(float(x.mean()), 6)}
    for p, v in zip(points, np.percentile(x, list(points)), strict=True):
        out[f"p{p}"] = round(float(v), 6)
    out["max"] = round(float(x.max()), 6)
    return out


def _acc(records: Sequence[ItemRecord]) -> float | None:
    return round(sum(bool(r.correct) for r in records) / len(records), 4) if records else None


def accuracy_block(records: Sequence[ItemRecord], *, seed: int = 0, resamples: int = DEFAULT_RESAMPLES) -> dict[str, Any]:
    """n, correct, accuracy and its 95 % bootstrap interval (an item without a verdict counts as wrong)."""
    ci = bootstrap_ci([float(bool(r.correct)) for r in records], seed=seed, resamples=resamples)
    return {"n": len(records), "correct": sum(bool(r.correct) for r in records), "accuracy": _acc(records),
            "accuracy_ci95": [round(ci[0], 4), round(ci[1], 4)] if ci else None,
            "errors": sum(r.error is not None for r in records)}


def summarize_records(records: Sequence[ItemRecord], *, seed: int = 0,
                      resamples: int = DEFAULT_RESAMPLES) -> dict[str, Any]:
    """The generic summary of a run: accuracy with CI, per category, latency, tokens, cost, node time, retries."""
    summary = accuracy_block(records, seed=seed, resamples=resamples)
    by_cat: dict[str, list[ItemRecord]] = defaultdict(list)
    for r in records:
        if r.category is not None:
            by_cat[r.category].append(r)
    summary["per_category"] = {k: accuracy_block(v, seed=seed, resamples=resamples) for k, v in sorted(by_cat.items())}
    summary["unscored"] = sum(r.correct is None for r in records)
    summary["latency_s"] = percentiles([r.latency_s for r in records])
    tin = sum(r.input_tokens for r in records)
    tout = sum(r.output_tokens for r in records)
    cost = sum(r.cost_usd for r in records)
    n = len(records)
    summary["tokens"] = {"input": tin, "output": tout,
                         "input_per_item": round(tin / n, 2) if n else None,
                         "output_per_item": round(tout / n, 2) if n else None}
    summary["cost_usd"] = {"total": round(cost, 6), "per_item": round(cost / n, 8) if n else None}
    nodes: dict[str, list[float]] = defaultdict(list)
    for r in records:
        for node, s in r.seconds.items():
            nodes[node].append(s)
    summary["node_seconds"] = {k: {"mean": round(sum(v) / len(v), 6), "total": round(sum(v), 6), "n": len(v)}
                               for k, v in sorted(nodes.items())}
    summary["retried_items"] = sum(r.attempts > 1 for r in records)
    summary["attempts"] = sum(r.attempts for r in records)
    return summary


def _fmt(x: Any, pct: bool = False) -> str:
    if x is None:
        return "-"
    if pct:
        return f"{100 * x:.1f}%"
    if isinstance(x, float):
        return f"{x:.4g}"
    return str(x)


def summary_markdown(summary: dict[str, Any], title: str) -> str:
    """A Markdown report of a summary: headline, per-category table, latency, tokens and cost, dataset keys."""
    ci = summary.get("accuracy_ci95")
    lines = [f"# {title}", "",
             f"- items scored: **{summary.get('n')}**" + (f" of {summary['n_items']}" if "n_items" in summary else ""),
             f"- accuracy: **{_fmt(summary.get('accuracy'), True)}**"
             + (f" (95 % bootstrap CI {_fmt(ci[0], True)} to {_fmt(ci[1], True)})" if ci else ""),
             f"- errors: {summary.get('errors', 0)}, items retried: {summary.get('retried_items', 0)}"]
    lat = summary.get("latency_s")
    if lat:
        lines.append(f"- latency per item (s): mean {lat['mean']:.4g}, p50 {lat['p50']:.4g}, p90 {lat['p90']:.4g}, "
                     f"p99 {lat['p99']:.4g}, max {lat['max']:.4g}")
    tok = summary.get("tokens") or {}
    cost = summary.get("cost_usd") or {}
    lines.append(f"- tokens: {tok.get('input', 0)} in, {tok.get('output', 0)} out; cost: "
                 f"${cost.get('total', 0):.4f}" if isinstance(cost, dict) else f"- cost: {cost}")
    if summary.get("elapsed_s") is not None:
        lines.append(f"- wall time: {summary['elapsed_s']:.2f} s")
    extra = summary.get("dataset_metrics") or {}
    if extra:
        lines += ["", "## Dataset metrics", "", "| metric | value |", "|---|---|"]
        lines += [f"| {k} | {_fmt(v)} |" for k, v in extra.items() if not isinstance(v, dict | list)]
    cats = summary.get("per_category") or {}
    if cats:
        lines += ["", "## Per category", "", "| category | n | accuracy | 95 % CI |", "|---|---|---|---|"]
        for k, b in cats.items():
            bci = b.get("accuracy_ci95")
            lines.append(f"| {k} | {b.get('n')} | {_fmt(b.get('accuracy'), True)} | "
                         + (f"{_fmt(bci[0], True)} to {_fmt(bci[1], True)}" if bci else "-") + " |")
    nodes = summary.get("node_seconds") or {}
    if nodes:
        lines += ["", "## Wall time per graph node", "", "| node | mean s | total s |", "|---|---|---|"]
        lines += [f"| {k} | {v['mean']:.4g} | {v['total']:.4g} |" for k, v in nodes.items()]
    return "\n".join(lines) + "\n"


def wilson_interval(k: int, n: int, z: float = 1.959964) -> tuple[float, float] | None:
    """Wilson score interval for k successes in n, a closed-form cross-check of the bootstrap.

    Wilson 1927, J Am Stat Assoc 22:209-212, doi:10.1080/01621459.1927.10502953.
    """
    if n == 0:
        return None
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return centre - half, centre + half
