"""DDXPlus as a harness task: wraps ``wardround.evals.ddxplus`` (loader, embedded reasoner, scorer).

The patients CSV is read with ``load_ddxplus``; the knowledge base (``release_conditions.json``,
``release_evidences.json``) is looked up beside ``--data`` unless ``kb_dir`` is given. The reasoner is
``DDXPlusReasoner.from_release(kb_dir)``, optionally fitted on another file (``fit``; refused when it is the
file being scored). Each record holds the item's own top-k and differential figures (``score_ddxplus`` on
that one item) and the prediction itself, and the summary's ``top1``, ``top3``, ``top5``, ``ddx_precision``,
``ddx_recall``, ``ddx_f1`` come from ``score_ddxplus`` over all items and predictions, so they equal the
figures of the direct evaluation.

Data: DDXPlus (Fansi Tchango et al. 2022, arXiv:2205.09148; mila-iqia/ddxplus), licence CC-BY.
"""

from __future__ import annotations

import dataclasses
import importlib
import time
from pathlib import Path
from typing import Any

from wardround.errors import InputError
from wardround.evals.tasks import EvalItem, Prediction, Score, Task, sha256_file

LICENCE = "DDXPlus: CC-BY (mila-iqia/ddxplus release files and patients)"
KB_FILES = ("release_conditions.json", "release_evidences.json")
SUMMARY_KEYS = ("n", "accuracy", "top1", "top3", "top5", "ddx_precision", "ddx_recall", "ddx_f1")


def _module() -> Any:
    return importlib.import_module("wardround.evals.ddxplus")


def _field(obj: Any, *names: str) -> Any:
    for name in names:
        if isinstance(obj, dict) and name in obj:
            return obj[name]
        if hasattr(obj, name):
            return getattr(obj, name)
    return None


def to_jsonable(value: Any) -> tuple[Any, str | None]:
    """A JSON form of a prediction and, for a pydantic model or dataclass, its ``module:qualname`` to rebuild it."""
    if hasattr(value, "model_dump"):
        cls = type(value)
        return value.model_dump(mode="json"), f"{cls.__module__}:{cls.__qualname__}"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        return dataclasses.asdict(value), f"{cls.__module__}:{cls.__qualname__}"
    if isinstance(value, tuple):
        return [to_jsonable(v)[0] for v in value], None
    if isinstance(value, list):
        return [to_jsonable(v)[0] for v in value], None
    if isinstance(value, dict):
        return {str(k): to_jsonable(v)[0] for k, v in value.items()}, None
    return value, None


def from_jsonable(data: Any, type_path: str | None) -> Any:
    """Rebuild a prediction written by ``to_jsonable`` (only classes of ``wardround.evals`` are imported)."""
    if not type_path:
        return data
    module, _, qualname = type_path.partition(":")
    if not module.startswith("wardround.evals"):
        raise InputError("items.jsonl", f"prediction type {type_path!r} is not a wardround.evals class",
                         "rerun into a new --out folder")
    cls: Any = importlib.import_module(module)
    for part in qualname.split("."):
        cls = getattr(cls, part)
    if hasattr(cls, "model_validate"):
        return cls.model_validate(data)
    return cls(**data)


class DDXPlusSolver:
    """Predict one patient's differential with the (fitted) DDXPlus reasoner."""

    def __init__(self, reasoner: Any) -> None:
        self.reasoner = reasoner

    def __call__(self, item: EvalItem) -> Prediction:
        from wardround.report import Usage

        t0 = time.perf_counter()
        pred = self.reasoner.predict(item.payload)
        seconds = {"ddxplus:predict": round(time.perf_counter() - t0, 6)}
        data, type_path = to_jsonable(pred)
        ranked = _field(pred, "ranked", "differential", "ddx", "top")
        primary = _field(pred, "pathology", "primary", "diagnosis", "top1")
        if primary is None and isinstance(ranked, list | tuple) and ranked:
            first = ranked[0]
            primary = first[0] if isinstance(first, list | tuple) else _field(first, "name", "condition") or first
        return Prediction(prediction=primary if isinstance(primary, str) else to_jsonable(primary)[0],
                          usage=Usage(seconds=seconds),
                          extra={"ddx_prediction": data, "ddx_prediction_type": type_path}, raw=pred)


def ddxplus_scorer(item: EvalItem, pred: Prediction) -> Score:
    """``score_ddxplus`` on this one item: correct = top-1 hit; top-k and differential figures kept."""
    raw = pred.raw if pred.raw is not None else from_jsonable(pred.extra.get("ddx_prediction"),
                                                              pred.extra.get("ddx_prediction_type"))
    scores = _module().score_ddxplus([item.payload], [raw])
    extra = {k: scores[k] for k in SUMMARY_KEYS if k in scores and k != "n"}
    return Score(correct=bool(scores.get("top1", scores.get("accuracy", 0.0)) >= 1.0), extra=extra)


def ddxplus_aggregate(items: Any, records: Any) -> dict[str, Any]:
    """``score_ddxplus`` over every recorded item (predictions rebuilt from the records)."""
    by_id = {r.id: r for r in records}
    scored_items, preds = [], []
    for it in items:
        rec = by_id[it.id]
        if rec.error is not None or "ddx_prediction" not in rec.extra:
            continue
        scored_items.append(it.payload)
        preds.append(from_jsonable(rec.extra["ddx_prediction"], rec.extra.get("ddx_prediction_type")))
    if not scored_items:
        return {}
    scores = _module().score_ddxplus(scored_items, preds)
    out = {k: v for k, v in scores.items() if not isinstance(v, dict | list)}
    out["n_scored"] = len(scored_items)
    return out


def find_kb_dir(data: str | Path, kb_dir: str | Path | None) -> Path:
    """The folder holding the DDXPlus release JSON files: ``kb_dir`` or the folder of ``data``."""
    folder = Path(kb_dir) if kb_dir is not None else Path(data).parent
    missing = [f for f in KB_FILES if not (folder / f).is_file()]
    if missing:
        where = "--kb-dir" if kb_dir is not None else "beside --data"
        raise InputError("kb-dir", f"{', '.join(missing)} not found in {str(folder)!r} ({where})",
                         "give --kb-dir FOLDER holding the DDXPlus release_conditions.json and release_evidences.json")
    return folder


def ddxplus_task(data: str | Path, *, kb_dir: str | Path | None = None, fit: str | Path | None = None,
                 limit: int | None = None) -> Task:
    """The DDXPlus task with the embedded reasoner, fitted on ``fit`` when given (never the scored file)."""
    kb = find_kb_dir(data, kb_dir)
    dx = _module()
    if fit is not None and (Path(fit).resolve() == Path(data).resolve() or sha256_file(fit) == sha256_file(data)):
        raise InputError("fit", f"{str(fit)!r} is the file being scored",
                         "fit on a different split (e.g. the DDXPlus train patients), never on the rows scored")
    raw_items = dx.load_ddxplus(data, kb_dir=kb, limit=limit)
    reasoner = dx.DDXPlusReasoner.from_release(kb)
    if fit is not None:
        reasoner.fit(fit)
    items = []
    for index, raw in enumerate(raw_items):
        rid = _field(raw, "id", "patient_id")
        gold = _field(raw, "pathology", "diagnosis", "gold")
        items.append(EvalItem(id=str(rid if rid is not None else index), gold=gold if isinstance(gold, str) else None,
                              category=gold if isinstance(gold, str) else None, payload=raw))
    files = [Path(data), *(kb / f for f in KB_FILES)] + ([Path(fit)] if fit is not None else [])
    return Task(name="ddxplus", items=items, solver=DDXPlusSolver(reasoner), scorer=ddxplus_scorer,
                aggregate=ddxplus_aggregate,
                config={"dataset": "ddxplus", "model": "ddxplus-reasoner", "fit": Path(fit).name if fit else None},
                data_files=files, licence=LICENCE, models={"all": "embedded DDXPlus reasoner"}, cpu_bound=True)
