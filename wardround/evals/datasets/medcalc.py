"""MedCalc-Bench as a harness task: wraps ``wardround.evals.medcalc`` (oracle) and ``medcalc_note`` (note).

Each CSV row is one item (id = ``Row Number``, category = ``Category``, gold = ``Ground Truth Answer``).
The solver calls the calculator evaluation's own per-row functions (``run_oracle([row])`` and
``run_note_item(row)``) and keeps their result in the record's ``extra.medcalc``; the aggregate hands those
results back to ``wardround.evals.medcalc.summarize``, so the harness reports exactly the figures of the direct
evaluation (n, accuracy, n_corrected, accuracy_corrected, per calculator, per category) and adds its own
(bootstrap CI, latency, resume, manifest).

Data: MedCalc-Bench (Khandekar et al. 2024, arXiv:2406.12036), CC-BY-SA 4.0; physician-corrected labels
(junzeye/validate-medcalc-labels), MIT.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from wardround.errors import InputError
from wardround.evals.tasks import EvalItem, Prediction, Score, Task

LICENCE = "MedCalc-Bench: CC-BY-SA 4.0; corrected labels (junzeye/validate-medcalc-labels): MIT"
MODES = ("oracle", "note")


class MedCalcSolver:
    """Answer one MedCalc-Bench row with the calculator evaluation's per-row function for ``mode``."""

    def __init__(self, mode: str, labels: dict[str, Any] | None, assume_normal: bool = True) -> None:
        self.mode = mode
        self.labels = labels
        self.assume_normal = assume_normal

    def __call__(self, item: EvalItem) -> Prediction:
        from wardround.report import Usage

        t0 = time.perf_counter()
        if self.mode == "oracle":
            from wardround.evals.medcalc import run_oracle

            result = run_oracle([item.payload], self.labels, assume_normal=self.assume_normal)[0]
        else:
            from wardround.evals.medcalc_note import run_note_item

            result = run_note_item(item.payload, self.labels,
                                   policy="assume_normal" if self.assume_normal else "strict")
        seconds = {f"medcalc:{self.mode}": round(time.perf_counter() - t0, 6)}
        cited = [i for ids in (getattr(result, "sources", None) or {}).values() for i in ids]
        return Prediction(prediction=result.answer, usage=Usage(seconds=seconds), cited=cited,
                          extra={"medcalc": result.model_dump(mode="json")}, raw=result)


def medcalc_scorer(item: EvalItem, pred: Prediction) -> Score:
    """The dataset's rule, as applied by the calculator evaluation (original and corrected labels)."""
    r = pred.extra.get("medcalc") or {}
    extra: dict[str, Any] = {"calculator_id": r.get("calculator_id")}
    if r.get("corrected_label") is not None:
        extra["corrected_label"] = r.get("corrected_label")
        extra["correct_corrected"] = r.get("correct_corrected")
    if r.get("error"):
        extra["medcalc_error"] = r["error"]
    return Score(correct=bool(r.get("correct")), extra=extra)


class MedCalcAggregate:
    """Rebuild the per-row results from the records and summarise them with ``medcalc.summarize``."""

    def __init__(self, mode: str, data: str, corrected: str | None, assume_normal: bool) -> None:
        self.mode, self.data, self.corrected, self.assume_normal = mode, data, corrected, assume_normal

    def __call__(self, items: Any, records: Any) -> dict[str, Any]:
        from wardround.evals.medcalc import ItemResult, summarize

        cls: Any = ItemResult
        if self.mode == "note":
            from wardround.evals.medcalc_note import NoteItemResult

            cls = NoteItemResult
        by_id = {it.id: it for it in items}
        results = []
        for rec in records:
            raw = rec.extra.get("medcalc")
            if raw is not None:
                results.append(cls.model_validate(raw))
            else:  # the solver itself failed (recorded error): a wrong answer for this row
                row = by_id[rec.id].payload
                results.append(cls(row_number=row.row_number, calculator_name=row.calculator_name, calculator_id=None,
                                   category=row.category, answer=None, label=row.label, correct=False,
                                   error=rec.error))
        summary = summarize(results)
        summary.update({"mode": self.mode, "data": self.data, "corrected": self.corrected,
                        "assume_normal": self.assume_normal})
        if self.mode == "note":
            summary.update({
                "policy": "assume_normal" if self.assume_normal else "strict",
                "calculator_chosen": sum(1 for i in results if i.calculator_id is not None),
                "citations_verified": sum(1 for i in results if getattr(i, "citations_verified", None)),
                "citations_failed": sum(1 for i in results if getattr(i, "citations_verified", None) is False),
            })
        return summary


def medcalc_task(data: str | Path, *, mode: str = "oracle", corrected: str | Path | None = None,
                 assume_normal: bool = True, limit: int | None = None) -> Task:
    """The MedCalc-Bench task in ``oracle`` (gold entities) or ``note`` (read the note) mode."""
    from wardround.evals.medcalc import load_corrected

    if mode not in MODES:
        raise InputError("mode", f"{mode!r} is not a MedCalc-Bench mode", "use oracle or note")
    if mode == "oracle":
        from wardround.evals.medcalc import load_rows

        rows: list[Any] = load_rows(data)
    else:
        from wardround.evals.medcalc_note import load_note_rows

        rows = load_note_rows(data)
    if limit is not None:
        rows = rows[:limit]
    labels = load_corrected(corrected) if corrected else None
    items = [EvalItem(id=r.row_number, gold=r.label, category=r.category, payload=r,
                      metadata={"calculator": r.calculator_name}) for r in rows]
    files = [Path(data)] + ([Path(corrected)] if corrected else [])
    return Task(name="medcalc", items=items, solver=MedCalcSolver(mode, labels, assume_normal), scorer=medcalc_scorer,
                aggregate=MedCalcAggregate(mode, str(data), str(corrected) if corrected else None, assume_normal),
                config={"dataset": "medcalc", "mode": mode, "assume_normal": assume_normal,
                        "corrected": Path(corrected).name if corrected else None, "model": "calculators"},
                data_files=files, licence=LICENCE, models={"all": "calculators (no model)"}, cpu_bound=True)
