"""MedCalc-Bench note mode with a chat model: the model reads, wardround verifies and computes.

The pattern MedCalc-Bench's paper (Khandekar et al. 2024, arXiv:2406.12036) and MeNTi (Zhu et al., NAACL 2025,
arXiv:2410.13610, DOI 10.18653/v1/2025.naacl-long.263) point to: a language model is good at finding the calculator and the values in a note, and
bad at arithmetic, so the model only *reads* and wardround's exact calculators compute.

Two model modes:

- ``full``: the model picks the calculator from the registry (one call) and fills its typed inputs (one call);
  the rules extractor fills the same calculator in parallel, and every input where the two disagree is reported;
- ``hybrid``: the rules choose the calculator and fill it (``wardround.agents.autofill``); the model is called
  once, only for the inputs the rules left missing or filled with a value the calculator rejects, and never
  when nothing is missing (the model chooses only when the rules cannot).

Every value the model gives is checked before it is used (``check_input``):

- its ``span`` must be an exact substring of the note (a span the note does not contain is a model invention);
- a number must appear in its span (``71`` in ``"71-year-old"``), a date's day and year too;
- its unit must be accepted by the calculator field (``wardround.units`` converts it) and supported by the span:
  the span writes that unit, or writes none and the unit is the field's canonical one (recorded as ``implied``);
  a span that writes another unit (``mg/dL`` where the model said ``µmol/L``) is a wrong unit;
- a finding given as present must not be negated or about a relative in the note (``wardround.extract.context``);
- the converted value must pass the field's own validation (range, options).

A value that fails any check is recorded in ``model_inputs`` with its reason, is never computed on, and is
treated as missing (``missing`` / ``how`` say so; under ``assume_normal`` a missing finding takes its normal
value and is listed in ``assumed``, exactly as in rules note mode). Accepted values become note evidence
(prefix ``LM``) that ``Ledger.verify`` re-checks against the note.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import time
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

from wardround.errors import InputError, WardroundError
from wardround.evals.medcalc import Label, format_answer, is_correct
from wardround.evals.medcalc_note import NoteItemResult, NoteRow

if TYPE_CHECKING:
    from wardround.llm import ChatClient
    from wardround.report import Usage
    from wardround.tools.calculators.base import Calculator, FieldInfo

log = logging.getLogger(__name__)

ModelMode = Literal["full", "hybrid"]
MODEL_MODES: tuple[str, ...] = ("full", "hybrid")
EVIDENCE_PREFIX = "LM"
CHOOSE_ROLE = "Role: medcalc choose"
FILL_ROLE = "Role: medcalc fill"


# ---------------------------------------------------------------------------------------------------------
# What the model answers


class ChooseAnswer(BaseModel):
    """The model's choice of calculator."""

    calculator_id: str = Field(description="an id of the listed calculators")


class ModelInput(BaseModel):
    """One input as the model read it: the value and unit as written in the note, and the quoted span."""

    model_config = ConfigDict(extra="ignore")

    value: Any = None
    unit: str | None = None
    span: str | None = None


class FillAnswer(BaseModel):
    """The model's inputs for one calculator (``null`` for an input the note does not give)."""

    inputs: dict[str, ModelInput | None] = Field(default_factory=dict)

    @field_validator("inputs", mode="before")
    @classmethod
    def _wrap_bare_values(cls, raw: Any) -> Any:
        """A bare value (``"age": 71``) is kept as a value without a span (it is then rejected, not dropped)."""
        if isinstance(raw, dict):
            return {k: ({"value": v} if v is not None and not isinstance(v, dict) else v) for k, v in raw.items()}
        return raw


# ---------------------------------------------------------------------------------------------------------
# What the record keeps


class InputCheck(BaseModel):
    """The verification of one input the model gave."""

    field: str
    value: Any = None
    unit: str | None = None
    text: str | None = Field(None, description="the span the model quoted (scrubbed in run records unless "
                                               "--log-text; start/end locate it in the note)")
    status: Literal["accepted", "rejected", "not_given"]
    reason: str | None = Field(None, description="why a value was rejected (the input is then treated as missing)")
    canonical: Any = Field(None, description="the value in the field's canonical unit, when accepted")
    unit_support: Literal["in_span", "implied", "none"] | None = None
    start: int | None = None
    end: int | None = None


class Disagreement(BaseModel):
    """An input the rules extractor and the model filled with different values (canonical units)."""

    field: str
    rules: Any
    model: Any
    text: str | None = Field(None, description="the span the model quoted for its value")
    rules_sources: list[str] = Field(default_factory=list)


class LLMNoteItemResult(NoteItemResult):
    """A note-mode record plus the model's part: what it gave, what was verified, rejected and disputed."""

    model: str = ""
    model_mode: str = "full"
    calculator_source: Literal["model", "rules"] | None = None
    rules_calculator_id: str | None = Field(None, description="the rules' choice from the question (full mode: "
                                                              "compared with the model's)")
    asked: list[str] = Field(default_factory=list, description="inputs the model was asked to fill")
    model_inputs: list[InputCheck] = Field(default_factory=list)
    rejected: list[str] = Field(default_factory=list, description="inputs whose model value failed verification")
    rules_inputs: dict[str, Any] = Field(default_factory=dict, description="what the rules extractor filled")
    disagreements: list[Disagreement] = Field(default_factory=list)
    model_calls: int = 0


# ---------------------------------------------------------------------------------------------------------
# Prompts


def choose_messages(question: str) -> list[Any]:
    """The calculator-choice prompt: the question and the registry (id: name)."""
    from langchain_core.messages import HumanMessage, SystemMessage

    from wardround.tools.calculators import all_calculators

    catalog = "\n".join(f"- {c.id}: {c.name}" for c in sorted(all_calculators().values(), key=lambda c: c.id))
    system = (f"{CHOOSE_ROLE}\nYou pick the clinical calculator that answers a question, from the list given. "
              'Answer with one JSON object and nothing else: {"calculator_id": "<an id from the list>"}.')
    user = f"Question:\n{question.strip()}\n\nCalculators (id: name):\n{catalog}\n"
    return [SystemMessage(system), HumanMessage(user)]


def field_lines(calc: Calculator, fields: list[str]) -> str:
    """One line per input: name, type (from the calculator's own input model), required or not, description."""
    props = calc.model.model_json_schema().get("properties", {})
    lines = []
    for name in fields:
        info = calc.fields[name]
        prop = props.get(name, {})
        kind = {"quantity": "number with a unit", "count": "whole number", "finding": "true/false",
                "sex": "male/female", "date": "date", "choice": "one of: " + ", ".join(_enum(prop))}[info.kind]
        need = "required" if info.required else "optional"
        lines.append(f"- {name} [{kind}; {need}]: {prop.get('description') or info.description}")
    return "\n".join(lines)


def _enum(prop: dict[str, Any]) -> list[str]:
    if "enum" in prop:
        return [str(x) for x in prop["enum"]]
    for alt in prop.get("anyOf", []):
        if "enum" in alt:
            return [str(x) for x in alt["enum"]]
    return []


def fill_messages(calc: Calculator, fields: list[str], note: str) -> list[Any]:
    """The fill prompt: the calculator, the inputs wanted (typed, units included) and the note."""
    from langchain_core.messages import HumanMessage, SystemMessage

    system = (
        f"{FILL_ROLE}\nYou read a patient note and give the inputs of one clinical calculator. You do not compute "
        "anything. For each input answer an object {\"value\": ..., \"unit\": ..., \"span\": ...}:\n"
        "- span: the words of the note the value comes from, copied character for character (it is checked "
        "against the note);\n"
        "- value: the number as written in the span (do not convert it), true/false for a finding, the option "
        "name for a choice, YYYY-MM-DD for a date;\n"
        "- unit: the unit as written in the span (null when the span writes none or the input has no unit).\n"
        "Answer null for an input the note does not give; never guess one. Answer with one JSON object and "
        'nothing else: {"inputs": {"<input name>": {"value": ..., "unit": ..., "span": "..."} or null, ...}}.')
    user = (f"Calculator: {calc.id} ({calc.name})\nInputs:\n{field_lines(calc, fields)}\n\n"
            f'Note:\n"""\n{note}\n"""\n')
    return [SystemMessage(system), HumanMessage(user)]


# ---------------------------------------------------------------------------------------------------------
# Verifying the model's inputs


_NUMBER = re.compile(r"(?<![\d.])(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?|(?<![\d.])\.\d+")
_AGE_WORDS = re.compile(r"^\s*-?\s*(years?|yrs?|months?|mos?|weeks?|wks?|days?)(?:[- ]old)?\b", re.I)
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")


def numbers_with_units(span: str) -> list[tuple[float, str | None, int]]:
    """Every number written in ``span`` with the unit written right after it (``units.py`` spelling) or None."""
    from wardround.extract.facts import read_unit
    from wardround.units import normalize_unit

    out: list[tuple[float, str | None, int]] = []
    for m in _NUMBER.finditer(span):
        value = float(m.group(0).replace(",", ""))
        a = m.start()
        if a and span[a - 1] in "-−" and (a == 1 or not span[a - 2].isalnum()):
            value = -value  # "base excess -4", not "COVID-19" nor the range "7.35-7.45"
        rest = span[m.end():]
        unit: str | None = None
        age = _AGE_WORDS.match(rest)
        if age:
            unit = normalize_unit(age.group(1))
        else:
            lab = read_unit(span, m.end())
            if lab is not None:
                unit = lab[0]
            else:
                words = rest.split()[:3]
                for k in range(len(words), 0, -1):  # the longest run of words that is a unit ("beats per minute")
                    cand = normalize_unit(" ".join(words[:k]).rstrip(".,;:)]"))
                    if cand and _known_unit(cand):
                        unit = cand
                        break
        out.append((value, unit, m.start()))
    return out


def _known_unit(unit: str) -> bool:
    from wardround.units import ANALYTES, DIMENSIONS

    return any(unit in d.factors for d in DIMENSIONS.values()) or any(unit in a.factors for a in ANALYTES.values())


def _accepted_units(info: FieldInfo) -> set[str]:
    from wardround.units import ANALYTES, DIMENSIONS

    spec = info.spec
    if spec is None:
        return set()
    if spec.kind == "analyte":
        return set(ANALYTES[spec.name].factors)
    if spec.kind == "dimension":
        return set(DIMENSIONS[spec.name].factors)
    return {u for u in spec.units}


def field_adapter(calc: Calculator, name: str) -> TypeAdapter[Any]:
    """A validator of one input field alone (its own type: units converted, range and options checked)."""
    from typing import Annotated

    finfo = calc.model.model_fields[name]
    annotation = Annotated[(finfo.annotation, *finfo.metadata)] if finfo.metadata else finfo.annotation
    return TypeAdapter(annotation)


def canonical_value(calc: Calculator, name: str, raw: Any) -> Any:
    """``raw`` validated by the field's own type (canonical unit); ``InputError`` naming the field if it fails."""
    from pydantic import ValidationError

    try:
        return field_adapter(calc, name).validate_python(raw)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        inner = (err.get("ctx") or {}).get("error")
        reason = (inner.problem + (f"; {inner.fix}" if inner.fix else "")) if isinstance(inner, InputError) \
            else err.get("msg", "invalid")
        raise InputError(name, reason, value=raw) from None
    except InputError as exc:
        raise InputError(name, exc.problem + (f"; {exc.fix}" if exc.fix else ""), value=raw) from None


def check_input(calc: Calculator, name: str, given: ModelInput | None, note: str) -> InputCheck:
    """Verify one model input against the note and the field type (see the module docstring for the rules)."""
    if given is None or (given.value is None and not given.span):
        return InputCheck(field=name, status="not_given")
    info = calc.fields[name]
    check = InputCheck(field=name, value=given.value, unit=given.unit, text=given.span, status="rejected")

    def reject(reason: str) -> InputCheck:
        check.reason = reason
        return check

    if given.value is None:
        return reject("the model gave a span but no value")
    span = given.span or ""
    if not span.strip():
        return reject("no span quoted: the value cannot be traced to the note")
    start = note.find(span)
    if start < 0:
        return reject("the span is not in the note (model invention)")
    check.start, check.end = start, start + len(span)
    raw: Any = given.value
    if info.kind in ("quantity", "count"):
        problem, raw, support = _check_number(info, given, span)
        if problem:
            return reject(problem)
        check.unit_support = support
    elif info.kind == "date":
        problem = _check_date(calc, name, given.value, span)
        if problem:
            return reject(problem)
    elif info.kind == "finding":
        problem = _check_finding(given.value, note, start, start + len(span))
        if problem:
            return reject(problem)
    try:
        check.canonical = _jsonable(canonical_value(calc, name, raw))
    except InputError as exc:
        return reject(f"the calculator rejects it: {exc.problem}")
    check.status = "accepted"
    return check


def _check_number(info: FieldInfo, given: ModelInput, span: str) -> tuple[str | None, Any, str | None]:
    """(problem, raw value for the field, unit support) for a quantity: number in span, unit supported."""
    from wardround.units import normalize_unit

    value = given.value
    if isinstance(value, str):
        try:
            value = float(value.replace(",", "").strip())
        except ValueError:
            return f"the value {given.value!r} is not a number", None, None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return f"the value {given.value!r} is not a number", None, None
    found = [(v, u) for v, u, _ in numbers_with_units(span) if math.isclose(v, float(value), rel_tol=1e-9,
                                                                            abs_tol=1e-12)]
    if not found:
        return f"the number {value:g} is not written in the span", None, None
    if info.kind == "count" or info.spec is None:
        return None, value, None
    accepted = _accepted_units(info)
    said = normalize_unit(given.unit) if given.unit else ""
    canonical = info.spec.canonical
    if said and said not in accepted:
        return (f"unit {given.unit!r} is not accepted for {info.name} (accepted: {info.spec.describe_units()})",
                None, None)
    written = [u for _, u in found if u and u in accepted]
    if written:
        if (said or canonical) not in written:
            return (f"wrong unit: the span writes {written[0]!r}, the model said {given.unit or canonical!r}",
                    None, None)
        return None, [value, said or written[0]], "in_span"
    # the number carries no unit of this field: the unit must be written elsewhere in the span, or be implied
    elsewhere = {u for _, u, _ in numbers_with_units(span) if u in accepted}
    elsewhere |= {u for u in accepted if u and len(u) > 2 and u.lower() in span.lower()}
    if said and said in elsewhere:
        return None, [value, said], "in_span"
    if elsewhere and (said or canonical) not in elsewhere:
        return (f"wrong unit: the span writes {sorted(elsewhere)[0]!r}, the model said {given.unit or canonical!r}",
                None, None)
    if not said or said == canonical or len(accepted - {""}) <= 1:
        return None, [value, said or canonical], "implied" if said or canonical else "none"
    return f"unit {given.unit!r} is not written in the span (the span gives no unit)", None, None


def _check_date(calc: Calculator, name: str, value: Any, span: str) -> str | None:
    """A date's day and year must be written in its span (the month as a number or a name)."""
    try:
        d = canonical_value(calc, name, value)
    except InputError as exc:
        return f"the calculator rejects it: {exc.problem}"
    nums = {int(v) for v, _, _ in numbers_with_units(span) if float(v).is_integer()}
    years = nums | {int(y) for y in re.findall(r"'(\d{2})\b", span)}
    has_year = d.year in years or d.year % 100 in years
    has_month = d.month in nums or _MONTHS[d.month - 1][:3] in span.lower()
    if not (d.day in nums and has_year and has_month):
        return f"the date {d.isoformat()} is not written in the span"
    return None


def _check_finding(value: Any, note: str, start: int, end: int) -> str | None:
    """A finding given as present must not be negated, nor about a relative, in the note (wardround's ConText).

    The mention is the span's last word, so that a trigger quoted inside the span ("denies hemoptysis") counts.
    """
    from wardround.extract.context import assertion_context

    present = value if isinstance(value, bool) else str(value).strip().lower() in ("true", "yes", "present", "1")
    if not present:
        return None
    words = list(re.finditer(r"\w+", note[start:end]))
    if not words:
        return None
    ctx = assertion_context(note, start + words[-1].start(), start + words[-1].end())
    if ctx.negated:
        return "the note negates this finding in the span's context; the model said it is present"
    if ctx.family:
        return "the span is about a relative (family history), not the patient"
    return None


def _jsonable(v: Any) -> Any:
    return v.isoformat() if isinstance(v, dt.date) else v


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(float(a), float(b), rel_tol=1e-3, abs_tol=1e-9)
    return _jsonable(a) == _jsonable(b)


# ---------------------------------------------------------------------------------------------------------
# One item


def asked_fields(calc: Calculator, rules: dict[str, Any] | None = None) -> list[str]:
    """The inputs the model is asked for: every note fact of the calculator (``rules=None``, full mode), or only
    those the rules left unfilled (hybrid): required ones and optional ones without a default.

    Method options with a default (``weight_basis``, ``definition``) are settings, not note facts: never asked.
    """
    out = []
    for name, f in calc.fields.items():
        if f.kind == "choice" and not f.required:
            continue
        if rules is None or (name not in rules and (f.required or f.default is None)):
            out.append(name)
    return out


class _Calls:
    """The model calls of one item, metered per step (``medcalc:choose`` and ``medcalc:fill``)."""

    def __init__(self, client: ChatClient) -> None:
        from wardround.llm import Meter

        self.client = client
        self.meters: dict[str, Meter] = {"medcalc:choose": Meter(), "medcalc:fill": Meter()}

    def choose(self, question: str) -> str:
        from wardround.llm import ask_structured
        from wardround.tools.calculators import all_calculators

        ids = set(all_calculators())

        def check(answer: ChooseAnswer) -> list[str]:
            return [] if answer.calculator_id in ids else [f"{answer.calculator_id!r} is not an id of the list"]

        answer = ask_structured(self.client, choose_messages(question), self.meters["medcalc:choose"],
                                agent="medcalc:choose", schema=ChooseAnswer, check=check,
                                repair_request="REPAIR: {problems}. Answer with one JSON object "
                                               '{{"calculator_id": "<an id from the list>"}}.')
        return answer.calculator_id

    def fill(self, calc: Calculator, fields: list[str], note: str) -> FillAnswer:
        from wardround.llm import ask_structured

        wanted = set(fields)

        def check(answer: FillAnswer) -> list[str]:
            extra = sorted(set(answer.inputs) - wanted)
            return [f"not inputs asked for: {', '.join(extra)}; use only: {', '.join(fields)}"] if extra else []

        return ask_structured(self.client, fill_messages(calc, fields, note), self.meters["medcalc:fill"],
                              agent="medcalc:fill", schema=FillAnswer, check=check,
                              repair_request='REPAIR: {problems}. Answer with one JSON object {{"inputs": '
                                             '{{"<input name>": {{"value": ..., "unit": ..., "span": "..."}} or '
                                             "null}}}}.")

    def usage(self) -> Usage:
        from wardround.report import Usage

        total = Usage()
        for agent, meter in self.meters.items():
            if meter.calls or meter.cache_hits:
                total = total + meter.usage(agent)
        return total

    @property
    def calls(self) -> int:
        return sum(m.calls + m.cache_hits for m in self.meters.values())


def run_llm_item(row: NoteRow, client: ChatClient, corrected: dict[str, Label] | None = None, *,
                 model_mode: ModelMode = "full", policy: str = "assume_normal") -> tuple[LLMNoteItemResult, Usage]:
    """Answer one MedCalc-Bench item with the model reading and wardround computing; score it.

    Returns the record and the usage of the model calls (tokens, cost, calls, retries, repairs). A model that
    stays unusable after its repair turns (``ModelOutputError``) makes a scored wrong answer with the error;
    transport and configuration errors (``ModelCallError``, ``ConfigError``) propagate to the runner.
    """
    from wardround.agents.autofill import autofill, choose_calculator
    from wardround.case import Case
    from wardround.llm import ModelOutputError
    from wardround.tools.calculators import calculate, get_calculator

    if model_mode not in MODEL_MODES:
        raise InputError("model_mode", f"{model_mode!r} is not a model mode", "use full or hybrid")
    t0 = time.perf_counter()
    calls = _Calls(client)
    item = LLMNoteItemResult(row_number=row.row_number, calculator_name=row.calculator_name, calculator_id=None,
                             category=row.category, answer=None, label=row.label, correct=False,
                             model=client.label, model_mode=model_mode)
    result = None
    try:
        item.rules_calculator_id = choose_calculator(row.question)
        cid = item.rules_calculator_id if model_mode == "hybrid" else None
        item.calculator_source = "rules" if cid else "model"
        if cid is None:
            cid = calls.choose(row.question)
        item.calculator_id = cid
        calc = get_calculator(cid)
        case = Case(id=f"medcalc-{row.row_number}", note=row.note, question=row.question)
        filled = autofill(cid, case, policy="strict")
        rules: dict[str, Any] = {}
        how: dict[str, str] = {}
        for name, raw in filled.inputs.items():
            try:
                rules[name] = canonical_value(calc, name, raw)
            except InputError as exc:  # a value the calculator rejects: asked of the model in hybrid mode
                how[name] = f"rules value rejected ({exc.problem})"
        item.rules_inputs = {k: _jsonable(v) for k, v in rules.items()}
        asked = asked_fields(calc, rules if model_mode == "hybrid" else None)
        item.asked = asked
        answer = calls.fill(calc, asked, row.note) if asked else FillAnswer()
        checks = [check_input(calc, n, answer.inputs.get(n), row.note) for n in asked]
        item.model_inputs = checks
        item.rejected = [c.field for c in checks if c.status == "rejected"]
        accepted = {c.field: c for c in checks if c.status == "accepted"}
        # the values computed on: the model's verified ones (full), or the rules' completed by them (hybrid)
        inputs: dict[str, Any] = {}
        sources: dict[str, list[str]] = {}
        evidence = []
        if model_mode == "hybrid":
            for name, value in rules.items():
                inputs[name] = value
                sources[name] = filled.sources.get(name, [])
                how[name] = f"rules: {filled.how.get(name, 'note')}"
            evidence.extend(ev for ev in filled.evidence if any(ev.id in s for s in sources.values()))
        from wardround.evidence import EvidenceWriter, Ledger

        writer = EvidenceWriter(EVIDENCE_PREFIX, f"medcalc-llm:{client.label}",
                                existing=[ev.id for ev in evidence])
        for name, c in accepted.items():
            inputs[name] = c.canonical
            shown = c.canonical if not isinstance(c.canonical, bool) else None
            ev = writer.note(f"{name} = {c.value}{' ' + c.unit if c.unit else ''}: \"{c.text}\" (model)", row.note,
                             c.start or 0, c.end or 0, quantity=name, value=shown,
                             present=c.canonical if isinstance(c.canonical, bool) else None)
            evidence.append(ev)
            sources[name] = [ev.id]
            how[name] = "model: span verified" + (f" (unit {c.unit_support})" if c.unit_support else "")
        for c in checks:
            if c.status == "rejected":
                how[c.field] = (how[c.field] + "; " if c.field in how else "") + \
                    f"model value rejected ({c.reason}); treated as missing"
        missing, assumed = [], []
        for name, f in calc.fields.items():
            if name in inputs or not f.required:
                continue
            missing.append(name)
            if policy == "assume_normal" and f.has_normal:
                inputs[name] = f.normal
                assumed.append(name)
                how[name] = how.get(name, "not given") + "; assumed normal (not mentioned)"
        item.inputs = {k: _jsonable(v) for k, v in inputs.items()}
        item.sources, item.how, item.missing, item.assumed = sources, how, missing, assumed
        item.disagreements = [
            Disagreement(field=n, rules=_jsonable(rules[n]), model=c.canonical, text=c.text,
                         rules_sources=filled.sources.get(n, []))
            for n, c in accepted.items() if n in rules and not _same(rules[n], c.canonical)]
        if evidence:
            ledger = Ledger()
            ledger.extend(evidence)
            item.citations_verified = ledger.verify(case).ok
        try:
            result = calculate(cid, inputs, assume_normal=policy == "assume_normal", unknown="ignore")
            item.answer, item.value = format_answer(result), result.value
        except WardroundError as exc:
            item.error = str(exc)
    except ModelOutputError as exc:
        item.error = f"model: {exc}"
    except InputError as exc:
        item.error = str(exc)
    item.correct = is_correct(item.answer, result, row.label, row.lower, row.upper)
    if corrected is not None and row.row_number in corrected:
        lab = corrected[row.row_number]
        item.corrected_label = lab.answer
        item.correct_corrected = is_correct(item.answer, result, lab.answer, lab.lower, lab.upper)
    item.model_calls = calls.calls
    item.seconds = round(time.perf_counter() - t0, 5)
    return item, calls.usage()


def model_summary(results: list[Any]) -> dict[str, Any]:
    """Summary figures of the model's part: inputs given, accepted, rejected (by reason), disagreements."""
    checks = [c for r in results for c in getattr(r, "model_inputs", [])]
    reasons: dict[str, int] = {}
    for c in checks:
        if c.status == "rejected":
            key = ("invented span" if "not in the note" in (c.reason or "") else
                   "wrong unit" if "unit" in (c.reason or "") else
                   "number not in span" if "not written in the span" in (c.reason or "") else
                   "no span" if "no span" in (c.reason or "") else
                   "negated or family finding" if "negates" in (c.reason or "") or "relative" in (c.reason or "")
                   else "invalid value")
            reasons[key] = reasons.get(key, 0) + 1
    return {
        "model_inputs_given": sum(c.status != "not_given" for c in checks),
        "model_inputs_accepted": sum(c.status == "accepted" for c in checks),
        "model_inputs_rejected": sum(c.status == "rejected" for c in checks),
        "rejected_by_reason": dict(sorted(reasons.items())),
        "items_with_rejections": sum(1 for r in results if getattr(r, "rejected", None)),
        "disagreements": sum(len(getattr(r, "disagreements", [])) for r in results),
        "items_with_disagreements": sum(1 for r in results if getattr(r, "disagreements", None)),
        "model_calls": sum(getattr(r, "model_calls", 0) for r in results),
        "calculator_from_model": sum(1 for r in results if getattr(r, "calculator_source", None) == "model"),
        "calculator_disagreements": sum(1 for r in results if getattr(r, "calculator_source", None) == "model"
                                        and None not in (getattr(r, "rules_calculator_id", None), r.calculator_id)
                                        and r.rules_calculator_id != r.calculator_id),
    }
