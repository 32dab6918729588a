"""Calculator auto-fill: map a case's facts to a calculator's inputs, citing every filled input.

For a chosen calculator, each input is looked for in the structured case first (age, sex, vitals, labs,
history) and then in the note's facts, through the input resolvers (``resolvers.py``). The note is read once per
case, not once per calculator: its facts come from the shared reader (``wardround.extract.reader.note_facts``),
which intake has usually filled already. Every filled input cites the exact note span or case field it came from
(``citations.py``); inputs found nowhere are reported as ``missing``; under ``policy="assume_normal"``
(MedCalc-Bench's convention: an unmentioned finding is absent) those with a normal value are filled with it and
listed in ``assumed``.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from pydantic import BaseModel, Field

from wardround.case import Case
from wardround.errors import WardroundError
from wardround.evidence import Evidence, EvidenceWriter, Ledger
from wardround.tools.calculators.citations import InputCiter
from wardround.tools.calculators.inputs import CaseFacts
from wardround.tools.calculators.registry import calculate, get_calculator
from wardround.tools.calculators.resolvers import resolve

log = logging.getLogger(__name__)

AUTOFILL_PREFIX = "AF"
Policy = Literal["strict", "assume_normal"]


class AutofillResult(BaseModel):
    """Inputs for one calculator read from a case, with the evidence behind each."""

    calculator_id: str
    policy: Policy
    inputs: dict[str, Any] = Field(default_factory=dict, description="ready for calculate()")
    sources: dict[str, list[str]] = Field(default_factory=dict, description="field -> evidence ids it rests on")
    evidence: list[Evidence] = Field(default_factory=list, description="evidence created by this call")
    missing: list[str] = Field(default_factory=list, description="required inputs found neither in the case nor "
                                                                 "the note")
    assumed: list[str] = Field(default_factory=list, description="missing inputs filled by the policy's normal value")
    how: dict[str, str] = Field(default_factory=dict, description="field -> how it was filled")
    error: str | None = None


def autofill(calculator_id: str, case: Case, *, writer: EvidenceWriter | None = None, ledger: Ledger | None = None,
             policy: Policy = "strict") -> AutofillResult:
    """Fill a calculator's inputs from a case (structured fields first, then the note), citing each input.

    Args:
        calculator_id: a registered calculator id (``find_calculator``/``choose_calculator`` find one).
        case: the case whose fields and note are read.
        writer: evidence writer for new evidence (default: prefix ``AF``, numbering after ``ledger``'s ids).
        ledger: existing evidence; an item quoting the same note span or case field is cited instead of a new one.
        policy: ``"strict"`` leaves unfound inputs missing; ``"assume_normal"`` fills those with a normal value
            (an unmentioned finding is absent) and lists them in ``assumed``.
    """
    calc = get_calculator(calculator_id)
    if writer is None:
        writer = EvidenceWriter(AUTOFILL_PREFIX, "autofill", existing=(ledger.entries if ledger else ()))
    citer = InputCiter(case, writer, ledger)
    facts = CaseFacts(case)
    result = AutofillResult(calculator_id=calc.id, policy=policy)
    for fname, info in calc.fields.items():
        try:
            hit = resolve(facts, calc.id, fname, info)
        except WardroundError as exc:  # a resolver must never take the whole fill down
            log.debug("autofill %s.%s failed: %s", calc.id, fname, exc)
            hit = None
        if hit is not None and info.kind == "finding" and not isinstance(hit.value, bool):
            hit = None
        if hit is not None and info.kind in ("quantity", "count") and isinstance(hit.value, bool):
            hit = None
        if hit is None:
            if info.required:
                result.missing.append(fname)
                if policy == "assume_normal" and info.has_normal:
                    result.inputs[fname] = info.normal
                    result.assumed.append(fname)
                    result.how[fname] = "assumed normal (not mentioned)"
            continue
        value = hit.value
        if info.kind == "count":
            value = int(round(float(value)))
        result.inputs[fname] = value
        result.sources[fname] = list(dict.fromkeys(citer.cite(s, fname, value, hit.unit) for s in hit.sources))
        result.how[fname] = hit.how
    result.evidence = list(citer.created)
    return result


def run_autofilled(calculator_id: str, case: Case, *, writer: EvidenceWriter | None = None,
                   ledger: Ledger | None = None, policy: Policy = "strict") -> tuple[Any, AutofillResult]:
    """Auto-fill and compute: ``(CalculatorResult | None, AutofillResult)``; ``None`` with ``error`` set on failure."""
    filled = autofill(calculator_id, case, writer=writer, ledger=ledger, policy=policy)
    try:
        result = calculate(calculator_id, filled.inputs, assume_normal=policy == "assume_normal", unknown="ignore")
    except WardroundError as exc:
        filled.error = str(exc)
        return None, filled
    return result, filled
