"""DDXPlus scoring (top-k pathology accuracy, differential precision/recall/F1) and cross-fitted evaluation.

- top-k: the gold PATHOLOGY is among the first k pathologies of the prediction's ranked list.
- Differential: the predicted set is the prediction's kept differential; the gold set is every pathology of the
  row's DIFFERENTIAL_DIAGNOSIS (whatever its probability). Per patient, precision = |P & G| / |P| (0 when P is
  empty), recall = |P & G| / |G|, F1 = 2PR / (P + R) (0 when both are 0); each is then averaged over patients,
  as DDXPlus reports DDP / DDR / DDF1 (Fansi Tchango et al. 2022, arXiv:2205.09148). Patients without a gold
  differential are left out of the differential averages (``n_ddx`` counts those scored).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from wardround.errors import InputError
from wardround.evals.ddxplus.items import DDXPlusItem, load_ddxplus
from wardround.evals.ddxplus.reasoner import DDXPlusPrediction, DDXPlusReasoner
from wardround.evals.ddxplus.release import DDXPlusRelease

log = logging.getLogger(__name__)


def _ranked_and_kept(pred: Any) -> tuple[list[str], list[str]]:
    """Ranked names and kept names from a prediction, a dict of one, or a plain ranked list of (name, p)."""
    if isinstance(pred, dict):
        pred = DDXPlusPrediction.model_validate(pred)
    if isinstance(pred, DDXPlusPrediction):
        return [n for n, _ in pred.ranked], pred.differential_names
    if isinstance(pred, list | tuple):
        names = [p[0] if isinstance(p, list | tuple) else str(p) for p in pred]
        return names, names
    raise InputError("predictions", f"cannot score a {type(pred).__name__}",
                     "pass DDXPlusPrediction objects or lists of (pathology, probability)")


def _item(item: Any) -> DDXPlusItem:
    return item if isinstance(item, DDXPlusItem) else DDXPlusItem.model_validate(item)


def score_ddxplus(items: Sequence[DDXPlusItem], predictions: Sequence[Any]) -> dict[str, Any]:
    """Top-1/3/5 pathology accuracy and per-patient-averaged differential precision, recall and F1."""
    if len(items) != len(predictions):
        raise InputError("predictions", f"{len(predictions)} predictions for {len(items)} items",
                         "pass one prediction per item, in the same order")
    hits = {1: 0, 3: 0, 5: 0}
    n_gold = 0
    precision, recall, f1 = [], [], []
    for raw_item, pred in zip(items, predictions, strict=True):
        item = _item(raw_item)
        ranked, kept = _ranked_and_kept(pred)
        if item.pathology is not None:
            n_gold += 1
            rank = ranked.index(item.pathology) if item.pathology in ranked else len(ranked)
            for k in hits:
                hits[k] += rank < k
        gold = set(item.differential_names)
        if not gold:
            continue
        kept_set = set(kept)
        tp = len(gold & kept_set)
        p = tp / len(kept_set) if kept_set else 0.0
        r = tp / len(gold)
        precision.append(p)
        recall.append(r)
        f1.append(2 * p * r / (p + r) if p + r > 0 else 0.0)

    def mean(values: list[float]) -> float:
        return round(float(np.mean(values)), 6) if values else 0.0

    top = {f"top{k}": round(v / n_gold, 6) if n_gold else 0.0 for k, v in hits.items()}
    return {"n": len(items), "accuracy": top["top1"], **top, "ddx_precision": mean(precision),
            "ddx_recall": mean(recall), "ddx_f1": mean(f1), "n_ddx": len(f1)}


def cross_fit_score(path: str | Path, folds: int = 2, seed: int = 0, kb_dir: str | Path | None = None,
                    limit: int | None = None) -> dict[str, Any]:
    """Cross-fitted figures on one file: fit on all folds but one, score that one, rotate, pool the predictions.

    No patient is ever scored by a reasoner fitted on it. Returns ``score_ddxplus`` of the pooled predictions
    plus ``folds`` (per-fold figures), ``fit_seconds`` and ``predict_seconds``.
    """
    if folds < 2:
        raise InputError("folds", "cross-fitting needs at least 2 folds", "use folds=2 or more", folds)
    release = DDXPlusRelease.from_dir(kb_dir if kb_dir is not None else Path(path).parent)
    items = load_ddxplus(path, release=release, limit=limit)
    if len(items) < folds:
        raise InputError("folds", f"{len(items)} patients cannot fill {folds} folds", "use fewer folds", folds)
    order = np.random.default_rng(seed).permutation(len(items))
    parts = np.array_split(order, folds)
    preds: list[Any] = [None] * len(items)
    per_fold, fit_s, pred_s = [], 0.0, 0.0
    for i, test in enumerate(parts):
        train = [items[j] for f, part in enumerate(parts) if f != i for j in part]
        t0 = time.perf_counter()
        reasoner = DDXPlusReasoner(release).fit(train)
        t1 = time.perf_counter()
        fold_preds = reasoner.predict_many([items[j] for j in test])
        t2 = time.perf_counter()
        fit_s += t1 - t0
        pred_s += t2 - t1
        for j, p in zip(test, fold_preds, strict=True):
            preds[j] = p
        per_fold.append(score_ddxplus([items[j] for j in test], fold_preds))
        log.info("fold %d/%d: fit %.1f s, ddx_f1 %.4f", i + 1, folds, t1 - t0, per_fold[-1]["ddx_f1"])
    out = score_ddxplus(items, preds)
    out.update({"folds": per_fold, "n_folds": folds, "seed": seed, "fit_seconds": round(fit_s, 3),
                "predict_seconds": round(pred_s, 3)})
    return out
