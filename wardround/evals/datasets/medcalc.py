"""MedCalc-Bench as a harness task: wraps ``wardround.evals.medcalc`` (oracle) and ``medcalc_note`` (note).

Each CSV row is one item (id = ``Row Number``, category = ``Category``, gold = ``Ground Truth Answer``).
The solver calls the calculator evaluation's own per-row functions (``run_oracle([row])`` and
``run_note_item(row)``) and keeps their result in the record's ``extra.medcalc``; the aggregate hands those
results back to ``wardround.evals.medcalc.summarize``, so the harness reports exactly the figures of the direct
evaluation (n, accuracy, n_corrected, accuracy_corrected, per calculator, per category) and adds its own
(bootstrap CI, latency, resume, manifest).

Note mode with a chat model (``model="openai:gpt-4o-mini"``, ``model_mode="full"|"hybrid"``) runs
``wardround.evals.medcalc_llm.run_llm_item``: the model reads, wardround verifies every quoted span and unit and
computes; the record is the note-mode record plus the model's part, and the usage carries tokens and cost.

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

    def __init__(self, mode: str, labels: dict[str, Any] | None, assume_normal: bool = True, *,
                 model: Any = None, model_mode: str = "full") -> None:
        self.mode = mode
        self.labels = labels
        self.assume_normal = assume_normal
        self.model = model
        self.model_mode = model_mode
        self._client: Any = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_client"] = None  # rebuilt in the worker (Ray ships the solver)
        return state

    def client(self) -> Any:
        """The cached ``ChatClient`` of ``model`` (built on first use)."""
        if self._client is None:
            from wardround.llm import get_client

            self._client = get_client(self.model)
        return self._client

    def __call__(self, item: EvalItem) -> Prediction:
        from wardround.report import Usage

        t0 = time.perf_counter()
        usage = None
        if self.model is not None and self.mode == "note":
            from wardround.evals.medcalc_llm import run_llm_item

            result, usage = run_llm_item(item.payload, self.client(), self.labels, model_mode=self.model_mode,
                                         policy="assume_normal" if self.assume_normal else "strict")
        elif self.mode == "oracle":
            from wardround.evals.medcalc import run_oracle

            result = run_oracle([item.payload], self.labels, assume_normal=self.assume_normal)[0]
        else:
            from wardround.evals.medcalc_note import run_note_item

            result = run_note_item(item.payload, self.labels,
                                   policy="assume_normal" if self.assume_normal else "strict")
        seconds = {f"medcalc:{self.mode}": round(time.perf_counter() - t0, 6)}
        cited = [i for ids in (getattr(result, "sources", None) or {}).values() for i in ids]
        usage = Usage(seconds=seconds) if usage is None else usage.model_copy(update={"seconds": seconds})
        return Prediction(prediction=result.answer, usage=usage, cited=cited,
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

    def __init__(self, mode: str, data: str, corrected: str | None, assume_normal: bool, *,
                 model: str | None = None, model_mode: str | None = None) -> None:
        self.mode, self.data, self.corrected, self.assume_normal = mode, data, corrected, assume_normal
        self.model, self.model_mode = model, model_mode

    def __call__(self, items: Any, records: Any) -> dict[str, Any]:
        from wardround.evals.medcalc import ItemResult, summarize

        cls: Any = ItemResult
        if self.mode == "note":
            from wardround.evals.medcalc_note import NoteItemResult

            cls = NoteItemResult
            if self.model is not None:
                from wardround.evals.medcalc_llm import LLMNoteItemResult

                cls = LLMNoteItemResult
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
            from wardround.evals.medcalc_note import assumption_report

            # a score is never read without knowing how many of its inputs the convention filled
            summary.update(assumption_report(results, "assume_normal" if self.assume_normal else "strict"))
            summary.update({
                "policy": "assume_normal" if self.assume_normal else "strict",
                "calculator_chosen": sum(1 for i in results if i.calculator_id is not None),
                "citations_verified": sum(1 for i in results if getattr(i, "citations_verified", None)),
                "citations_failed": sum(1 for i in results if getattr(i, "citations_verified", None) is False),
            })
        if self.model is not None:
            from wardround.evals.medcalc_llm import model_summary

            summary.update({"model": self.model, "model_mode": self.model_mode, **model_summary(results)})
        return summary


def medcalc_task(data: str | Path, *, mode: str = "oracle", corrected: str | Path | None = None,
                 assume_normal: bool = True, limit: int | None = None, model: Any = "rules",
                 model_mode: str = "full") -> Task:
    """The MedCalc-Bench task in ``oracle`` (gold entities) or ``note`` (read the note) mode.

    Args:
        model: ``"rules"`` (the rules extractor fills the calculator) or, in note mode, any chat-model spec
            (``wardround.llm``): the model chooses and fills, wardround verifies and computes.
        model_mode: with a chat model, ``full`` (the model fills every input) or ``hybrid`` (the rules fill, the
            model completes only what they left missing).
    """
    from wardround.evals.medcalc import load_corrected
    from wardround.evals.solvers import model_label
    from wardround.llm import parse_model_spec

    if mode not in MODES:
        raise InputError("mode", f"{mode!r} is not a MedCalc-Bench mode", "use oracle or note")
    chat = parse_model_spec(model)
    if chat is not None and mode != "note":
        raise InputError("model", f"{model_label(model)!r}: oracle mode feeds the gold entities to the calculators, "
                         "no model reads anything", "use --mode note with a chat model, or --model rules")
    if chat is None and model_mode == "hybrid":
        raise InputError("model_mode", "hybrid mode completes the rules with a chat model",
                         "give --model provider:name (e.g. openai:gpt-4o-mini)")
    from wardround.evals.medcalc_llm import MODEL_MODES

    if model_mode not in MODEL_MODES:
        raise InputError("model_mode", f"{model_mode!r} is not a model mode", "use full or hybrid")
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
    label = model_label(model) if chat is not None else None  # the run's identity (options included, no key)
    short = getattr(chat, "spec", None) or label  # what the summary shows
    config: dict[str, Any] = {"dataset": "medcalc", "mode": mode, "assume_normal": assume_normal,
                              "corrected": Path(corrected).name if corrected else None, "model": label or "calculators"}
    if label is not None:
        config["model_mode"] = model_mode
    solver = MedCalcSolver(mode, labels, assume_normal, model=chat, model_mode=model_mode)
    return Task(name="medcalc", items=items, solver=solver, scorer=medcalc_scorer,
                aggregate=MedCalcAggregate(mode, str(data), str(corrected) if corrected else None, assume_normal,
                                           model=short, model_mode=model_mode if label else None),
                config=config, data_files=files, licence=LICENCE,
                models={"all": f"{label} ({model_mode}) + calculators" if label else "calculators (no model)"},
                cpu_bound=label is None)
