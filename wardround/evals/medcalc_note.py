"""MedCalc-Bench note mode: note + question -> calculator -> auto-fill -> compute -> answer.

Unlike oracle mode, nothing of the gold ``Relevant Entities`` is used: the calculator is chosen from the question
text (``choose_calculator``) and its inputs are read from the patient note (``autofill``), each cited to its span.
MedCalc-Bench's convention for unmentioned findings applies (``assume_normal``: an unmentioned finding is
absent); what was assumed is recorded per item. Scoring, records (``items.jsonl``) and summary keys are those
of oracle mode (``wardround.evals.medcalc``).

Data: MedCalc-Bench (Khandekar et al. 2024, arXiv:2406.12036), licence CC-BY-SA 4.0.
"""

from __future__ import annotations

import csv
import logging
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from wardround.evals.medcalc import (
    ItemResult,
    Label,
    format_answer,
    is_correct,
    load_corrected,
    summarize,
    write_results,
)

log = logging.getLogger(__name__)

csv.field_size_limit(10_000_000)


class NoteRow(BaseModel):
    """One MedCalc-Bench item as note mode reads it (no gold entities)."""

    row_number: str
    calculator_name: str
    category: str
    note: str
    question: str
    label: str
    lower: str
    upper: str


#: What ``assume_normal`` means, written into every note-mode summary and record that used it.
ASSUME_NORMAL_CONVENTION = ("MedCalc-Bench convention (--assume-normal): an input the note does not mention is "
                            "counted as absent/normal; the inputs so filled are listed per item under 'assumed'")


class NoteItemResult(ItemResult):
    """An oracle-mode record plus what note mode did: inputs read, their citations and what was missing."""

    mode: str = "note"
    policy: str = "assume_normal"
    assumed_note: str | None = Field(None, description="which inputs were assumed absent/normal, in words")
    inputs: dict[str, Any] = Field(default_factory=dict)
    sources: dict[str, list[str]] = Field(default_factory=dict)
    missing: list[str] = Field(default_factory=list)
    how: dict[str, str] = Field(default_factory=dict)
    citations_verified: bool | None = None
    seconds: float = 0.0


def load_note_rows(path: str | Path) -> list[NoteRow]:
    """Read the note-mode columns of a MedCalc-Bench CSV."""
    rows = []
    with open(path, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            rows.append(NoteRow(row_number=r["Row Number"], calculator_name=r["Calculator Name"],
                                category=r["Category"], note=r["Patient Note"], question=r["Question"],
                                label=r["Ground Truth Answer"], lower=r["Lower Limit"], upper=r["Upper Limit"]))
    return rows


def run_note_item(row: NoteRow, corrected: dict[str, Label] | None = None, *,
                  policy: str = "assume_normal", verify: bool = True) -> NoteItemResult:
    """Answer one item from its note and question; score it against the original and corrected labels."""
    from wardround.agents.autofill import choose_calculator, run_autofilled
    from wardround.case import Case
    from wardround.evidence import Ledger

    t0 = time.perf_counter()
    cid = choose_calculator(row.question)
    answer = None
    value = None
    result = None
    error = None
    filled = None
    verified = None
    if cid is None:
        error = f"no calculator matches the question {row.question[:80]!r}"
    else:
        case = Case(id=f"medcalc-{row.row_number}", note=row.note, question=row.question)
        result, filled = run_autofilled(cid, case, policy=policy)  # type: ignore[arg-type]
        if result is not None:
            answer, value = format_answer(result), result.value
        else:
            error = filled.error
        if verify and filled.evidence:
            ledger = Ledger()
            ledger.extend(filled.evidence)
            verified = ledger.verify(case).ok
    item = NoteItemResult(
        row_number=row.row_number, calculator_name=row.calculator_name, calculator_id=cid, category=row.category,
        answer=answer, value=value, label=row.label,
        correct=is_correct(answer, result, row.label, row.lower, row.upper),
        assumed=filled.assumed if filled else [], error=error,
        inputs={k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in (filled.inputs if filled else {}).items()},
        sources=filled.sources if filled else {}, missing=filled.missing if filled else [],
        how=filled.how if filled else {}, citations_verified=verified, seconds=round(time.perf_counter() - t0, 5),
        policy=policy, assumed_note=_assumed_note(filled.assumed if filled else []))
    if corrected is not None and row.row_number in corrected:
        lab = corrected[row.row_number]
        item.corrected_label = lab.answer
        item.correct_corrected = is_correct(answer, result, lab.answer, lab.lower, lab.upper)
    return item


def _assumed_note(assumed: list[str]) -> str | None:
    """One line naming the inputs filled by the convention, or None when every input was read from the note."""
    if not assumed:
        return None
    return (f"{len(assumed)} input(s) not mentioned in the note counted as absent/normal (MedCalc-Bench "
            f"convention): {', '.join(assumed)}")


def assumption_report(items: list[Any], policy: str = "assume_normal") -> dict[str, Any]:
    """Summary keys saying whether and how often the unmentioned-is-normal convention filled an input.

    ``items`` are note-mode records (``NoteItemResult`` or their dicts); the keys go into ``summary.json`` so
    that a score is never read without knowing that part of its inputs was assumed.
    """
    by_input: dict[str, int] = {}
    with_assumed = correct_with = 0
    for it in items:
        assumed = it.get("assumed", []) if isinstance(it, dict) else getattr(it, "assumed", [])
        correct = it.get("correct") if isinstance(it, dict) else getattr(it, "correct", False)
        if assumed:
            with_assumed += 1
            correct_with += bool(correct)
        for name in assumed:
            by_input[name] = by_input.get(name, 0) + 1
    return {
        "assume_normal": policy == "assume_normal",
        "convention": ASSUME_NORMAL_CONVENTION if policy == "assume_normal" else
        "strict: inputs the note does not mention are left missing (the calculator reports them)",
        "items_with_assumed_inputs": with_assumed,
        "assumed_inputs": sum(by_input.values()),
        "correct_with_assumed_inputs": correct_with,
        "assumed_by_input": dict(sorted(by_input.items(), key=lambda kv: (-kv[1], kv[0]))),
    }


def evaluate_note(data: str | Path, out_dir: str | Path, corrected: str | Path | None = None,
                  policy: str = "assume_normal") -> dict[str, Any]:
    """Run note mode end to end; write ``items.jsonl`` and ``summary.json`` (oracle mode's keys) into ``out_dir``."""
    t0 = time.perf_counter()
    rows = load_note_rows(data)
    labels = load_corrected(corrected) if corrected else None
    items = [run_note_item(r, labels, policy=policy) for r in rows]
    summary = summarize(items)  # type: ignore[arg-type]
    chosen_ok = sum(1 for i in items if i.calculator_id is not None)
    summary.update({
        "mode": "note", "data": str(data), "corrected": str(corrected) if corrected else None,
        **assumption_report(items, policy), "policy": policy,
        "elapsed_s": round(time.perf_counter() - t0, 3),
        "calculator_chosen": chosen_ok,
        "citations_verified": sum(1 for i in items if i.citations_verified),
        "citations_failed": sum(1 for i in items if i.citations_verified is False),
        "median_item_ms": round(1000 * sorted(i.seconds for i in items)[len(items) // 2], 3) if items else None,
        "licence": "MedCalc-Bench data: CC-BY-SA 4.0",
    })
    return write_results(out_dir, items, summary, "note")
