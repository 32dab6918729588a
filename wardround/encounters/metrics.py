"""DDXPlus interactive metrics, as the DDXPlus paper defines them, plus the project's full-set differential F1.

Definitions (Fansi Tchango et al. 2022, "DDXPlus: A New Dataset For Automatic Medical Diagnosis", NeurIPS
Datasets and Benchmarks, arXiv:2205.09148; the authors' evaluation code, mila-iqia/ddxplus
``code/basd/metrics.py``, ``compute_metrics``), per patient then averaged over patients:

- ``IL``: interaction length, the number of questions asked after the initial evidence. (The authors' code
  counts trajectory steps ``valid_timesteps + 1``; ``IL_steps`` = IL + 1 is reported beside it.)
- ``GTPA``: the gold pathology's predicted probability exceeds ``TRES`` = 0.01.
- ``GTPA@k``: the gold pathology is among the k top-ranked pathologies and its probability exceeds ``TRES``.
- ``DDR`` / ``DDP`` / ``DDF1``: recall, precision and F1 of the predicted differential (pathologies scored above
  ``TRES``) against the gold differential (pathologies with probability above ``TRES``).
- ``DDR@k`` / ``DDP@k`` / ``DDF1@k``: the same between the k top-ranked predicted pathologies (above ``TRES``) and
  the k most probable gold pathologies (above ``TRES``).
- ``ddx_f1_fullset``: the project's differential F1 (``wardround.evals.ddxplus.scoring``): the kept differential
  against every pathology of the gold list whatever its probability.

Here the ranking of GTPA@k is the doctor's posterior; the differential of the DD metrics is the list given (in
its order): for the rules doctor, the posterior's leading pathology, then the reasoner's kept differential by keep
score (P(in differential) when fitted); a pathology counts when its score exceeds ``TRES``. F1 = 2PR / (P + R), 0 when both are 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

TRES = 0.01
"""Probability above which a pathology counts as predicted / in the gold differential (the authors' ``tres``)."""
KS = (1, 3, 5)


class InteractiveOutcome(BaseModel):
    """What one interactive DDXPlus encounter produced, as scored."""

    id: str
    pathology: str | None
    gold_differential: list[tuple[str, float]] = Field(default_factory=list)
    questions: int
    ranked: list[tuple[str, float]]
    differential: list[tuple[str, float]]
    cost_usd: float = 0.0
    present_asked: int = 0
    present_total: int = 0


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


def _prf(pred: Sequence[str], gold: Sequence[str]) -> tuple[float, float, float]:
    ps, gs = set(pred), set(gold)
    tp = len(ps & gs)
    p = tp / max(1, len(ps))
    r = tp / max(1, len(gs))
    return p, r, _f1(p, r)


def score_outcome(o: InteractiveOutcome) -> dict[str, float]:
    """The per-patient values of every metric (averaged by ``score_interactive``)."""
    out: dict[str, float] = {"IL": float(o.questions), "IL_steps": float(o.questions + 1), "cost_usd": o.cost_usd}
    probs = dict(o.ranked)
    names = [n for n, _ in o.ranked]
    gold_ok = o.pathology is not None and probs.get(o.pathology, 0.0) > TRES
    out["GTPA"] = float(gold_ok)
    for k in KS:
        out[f"GTPA@{k}"] = float(gold_ok and o.pathology in names[:k])
    gold = [n for n, p in sorted(o.gold_differential, key=lambda t: -t[1]) if p > TRES]
    pred = [n for n, s in o.differential if s > TRES]  # the list order is the differential's ranking
    if o.gold_differential:
        out["DDP"], out["DDR"], out["DDF1"] = _prf(pred, gold)
        for k in KS:
            out[f"DDP@{k}"], out[f"DDR@{k}"], out[f"DDF1@{k}"] = _prf(pred[:k], gold[:k])
        out["ddx_f1_fullset"] = _prf([n for n, _ in o.differential], [n for n, _ in o.gold_differential])[2]
    if o.present_total:
        out["PER"] = o.present_asked / o.present_total
    return out


def score_interactive(outcomes: Sequence[InteractiveOutcome]) -> dict[str, Any]:
    """Means over patients of every metric (differential metrics over patients with a gold differential)."""
    rows = [score_outcome(o) for o in outcomes]
    keys = sorted({k for r in rows for k in r})
    out: dict[str, Any] = {"n": len(rows)}
    for k in keys:
        vals = [r[k] for r in rows if k in r]
        out[k] = round(float(np.mean(vals)), 6) if vals else None
    return out
