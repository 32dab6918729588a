"""MedCalc-Bench evaluation: load the CSV, run our calculators on the gold ``Relevant Entities`` (oracle mode),
score with the dataset's rule, and summarise per calculator and per category.

The dataset's scoring rule: integers and dates must match exactly, decimals must lie within the row's
``Lower Limit``..``Upper Limit`` (±5 %). Physician-corrected labels (``Unique ID`` = ``Row Number``; ``N/A`` =
the item should not have been asked) are scored the same way. ``Relevant Entities`` is a Python literal and is
read with ``ast.literal_eval`` -- never ``eval``.
"""

from __future__ import annotations

import ast
import csv
import datetime as dt
import json
import logging
import re
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from wardround.errors import InputError, WardroundError

log = logging.getLogger(__name__)

csv.field_size_limit(10_000_000)


class MedCalcRow(BaseModel):
    """One MedCalc-Bench item (the columns oracle mode needs)."""

    row_number: str
    calculator_name: str
    category: str
    output_type: str
    entities: dict[str, Any]
    label: str
    lower: str
    upper: str


class Label(BaseModel):
    """A gold answer with its accepted range."""

    answer: str
    lower: str
    upper: str


class ItemResult(BaseModel):
    """The scored outcome of one item."""

    row_number: str
    calculator_name: str
    calculator_id: str | None
    category: str
    answer: str | None
    value: Any = None
    label: str
    correct: bool
    corrected_label: str | None = None
    correct_corrected: bool | None = None
    assumed: list[str] = Field(default_factory=list)
    ignored: list[str] = Field(default_factory=list)
    error: str | None = None


def load_rows(path: str | Path) -> list[MedCalcRow]:
    """Read a MedCalc-Bench CSV (``Relevant Entities`` parsed with ``ast.literal_eval``)."""
    rows = []
    with open(path, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            try:
                entities = ast.literal_eval(r["Relevant Entities"])
            except (ValueError, SyntaxError) as exc:
                raise InputError("Relevant Entities", f"row {r.get('Row Number')}: not a Python literal ({exc})",
                                 "check the CSV") from None
            if not isinstance(entities, dict):
                raise InputError("Relevant Entities", f"row {r.get('Row Number')}: not a dict")
            rows.append(MedCalcRow(row_number=r["Row Number"], calculator_name=r["Calculator Name"],
                                   category=r["Category"], output_type=r["Output Type"], entities=entities,
                                   label=r["Ground Truth Answer"], lower=r["Lower Limit"], upper=r["Upper Limit"]))
    return rows


def load_corrected(path: str | Path) -> dict[str, Label]:
    """Corrected labels keyed by ``Unique ID`` (= ``Row Number``); ``N/A`` rows are left out."""
    out: dict[str, Label] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            answer = (r.get("Ground Truth Answer") or "").strip()
            if not answer or answer.upper() == "N/A":
                continue
            out[r["Unique ID"].strip()] = Label(answer=answer, lower=r["Lower Limit"], upper=r["Upper Limit"])
    return out


# ---------------------------------------------------------------------------------------------------------
# Answers and scoring


def format_answer(result: Any) -> str:
    """Render a calculator result the way MedCalc-Bench writes answers (MM/DD/YYYY dates, week/day tuples)."""
    value = result.value
    if result.parts and "weeks" in result.parts:
        return str((f"{result.parts['weeks']} weeks", f"{result.parts['days']} days"))
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return dt.date.fromisoformat(value).strftime("%m/%d/%Y")
    if isinstance(value, float):
        return f"{value:.6g}" if abs(value) < 1e5 else f"{value:.1f}"
    return str(value)


_WEEKS_DAYS = re.compile(r"(\d+)\s*weeks?\D+(\d+)\s*days?")


def _weeks_days(text: str) -> tuple[int, int] | None:
    m = _WEEKS_DAYS.search(text)
    return (int(m.group(1)), int(m.group(2))) if m else None


def _float(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def is_correct(answer: str | None, result: Any, label: str, lower: str, upper: str) -> bool:
    """The dataset's rule: dates and week/day tuples exactly; numbers within [lower, upper] (exact if equal)."""
    if answer is None:
        return False
    label = label.strip()
    wd = _weeks_days(label)
    if wd is not None:
        return _weeks_days(answer) == wd
    if re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", label):
        try:
            return dt.datetime.strptime(answer, "%m/%d/%Y").date() == dt.datetime.strptime(label, "%m/%d/%Y").date()
        except ValueError:
            return False
    target = _float(label)
    if target is None:
        return answer.strip() == label
    value = _float(answer)
    if value is None and result is not None and result.parts and "total_days" in result.parts:
        value = float(result.parts["total_days"])  # corrected labels give gestational age in days
    if value is None:
        return False
    lo, hi = _float(lower), _float(upper)
    if lo is None or hi is None or lo == hi:
        return abs(value - target) < 1e-9 if lo is None or hi is None else abs(value - lo) < 1e-9
    return min(lo, hi) - 1e-12 <= value <= max(lo, hi) + 1e-12


# ---------------------------------------------------------------------------------------------------------
# Oracle evaluation


def resolve_calculator_id(name: str, cache: dict[str, str | None] | None = None) -> str | None:
    """The calculator id for a MedCalc-Bench calculator name (``find_calculator``'s best match)."""
    from wardround.tools.calculators import find_calculator

    if cache is not None and name in cache:
        return cache[name]
    hits = find_calculator(name, limit=1)
    cid = hits[0].id if hits else None
    if cache is not None:
        cache[name] = cid
    return cid


def run_oracle(rows: Iterable[MedCalcRow], corrected: dict[str, Label] | None = None,
               assume_normal: bool = True) -> list[ItemResult]:
    """Feed each row's gold entities to our calculator and score against the original and corrected labels."""
    from wardround.tools.calculators import get_calculator

    cache: dict[str, str | None] = {}
    out: list[ItemResult] = []
    for row in rows:
        cid = resolve_calculator_id(row.calculator_name, cache)
        answer: str | None = None
        value: Any = None
        result = None
        error = None
        assumed: list[str] = []
        ignored: list[str] = []
        if cid is None:
            error = f"no calculator matches {row.calculator_name!r}"
        else:
            try:
                result = get_calculator(cid).run(row.entities, assume_normal=assume_normal, unknown="ignore")
                answer, value = format_answer(result), result.value
                assumed, ignored = result.assumed, result.ignored
            except WardroundError as exc:
                error = str(exc)
        item = ItemResult(row_number=row.row_number, calculator_name=row.calculator_name, calculator_id=cid,
                          category=row.category, answer=answer, value=value, label=row.label,
                          correct=is_correct(answer, result, row.label, row.lower, row.upper),
                          assumed=assumed, ignored=ignored, error=error)
        if corrected is not None and row.row_number in corrected:
            lab = corrected[row.row_number]
            item.corrected_label = lab.answer
            item.correct_corrected = is_correct(answer, result, lab.answer, lab.lower, lab.upper)
        out.append(item)
    return out


def summarize(items: list[ItemResult]) -> dict[str, Any]:
    """Overall, per-calculator and per-category accuracy against original and corrected labels."""

    def block(group: list[ItemResult]) -> dict[str, Any]:
        n = len(group)
        corr = [i for i in group if i.correct_corrected is not None]
        return {
            "n": n,
            "correct": sum(i.correct for i in group),
            "accuracy": round(sum(i.correct for i in group) / n, 4) if n else None,
            "n_corrected": len(corr),
            "correct_corrected": sum(bool(i.correct_corrected) for i in corr),
            "accuracy_corrected": round(sum(bool(i.correct_corrected) for i in corr) / len(corr), 4) if corr
            else None,
            "errors": sum(i.error is not None for i in group),
        }

    by_calc: dict[str, list[ItemResult]] = defaultdict(list)
    by_cat: dict[str, list[ItemResult]] = defaultdict(list)
    for i in items:
        by_calc[i.calculator_id or f"unmatched:{i.calculator_name}"].append(i)
        by_cat[i.category].append(i)
    summary = block(items)
    summary["per_calculator"] = {k: block(v) for k, v in sorted(by_calc.items())}
    summary["per_category"] = {k: block(v) for k, v in sorted(by_cat.items())}
    return summary


def evaluate_oracle(data: str | Path, out_dir: str | Path, corrected: str | Path | None = None,
                    assume_normal: bool = True) -> dict[str, Any]:
    """Run the oracle evaluation end to end; write ``items.jsonl`` and ``summary.json`` into ``out_dir``."""
    t0 = time.perf_counter()
    rows = load_rows(data)
    labels = load_corrected(corrected) if corrected else None
    items = run_oracle(rows, labels, assume_normal=assume_normal)
    summary = summarize(items)
    summary.update({"mode": "oracle", "data": str(data), "corrected": str(corrected) if corrected else None,
                    "assume_normal": assume_normal, "elapsed_s": round(time.perf_counter() - t0, 3)})
    return write_results(out_dir, items, summary, "oracle")


def write_results(out_dir: str | Path, items: Sequence[BaseModel], summary: dict[str, Any], mode: str) -> dict[str, Any]:
    """Write ``items.jsonl`` and ``summary.json`` of a direct MedCalc-Bench evaluation; return the summary."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "items.jsonl", "w", encoding="utf-8") as fh:
        for item in items:
            fh.write(item.model_dump_json() + "\n")
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    log.info("medcalc %s: n=%d accuracy=%s accuracy_corrected=%s", mode, summary["n"], summary["accuracy"],
             summary["accuracy_corrected"])
    return summary
