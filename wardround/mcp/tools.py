"""The tools ``wardround mcp`` serves: their MCP definitions and the plain functions that run them.

Everything here is synchronous and free of the MCP transport, so each tool is the same call as the Python API
(``wardround.tools.calculators.calculate``, ``wardround.run``, ``KnowledgeBase.find_condition``). Input schemas of
the calculator tools are the ones the LangChain tools already build from each calculator's pydantic input model
(``calculator_tools``): names, types, descriptions with canonical units, accepted units and ranges.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from wardround.errors import WardroundError

#: Tools that are not calculators, by name (a calculator id never takes one of these names: checked below).
META_TOOLS = ("list_calculators", "describe_calculator", "find_calculator", "calculate", "run_case",
              "lookup_condition")


class ToolCallError(Exception):
    """A tool call the server refuses: bad arguments, an unknown calculator or condition, a case that fails."""


class ListCalculatorsArgs(BaseModel):
    """Arguments of ``list_calculators``."""

    category: str | None = Field(None, description="only this category: lab, physical, risk, severity, diagnosis, "
                                                   "date or dosage")


class DescribeCalculatorArgs(BaseModel):
    """Arguments of ``describe_calculator``."""

    calculator_id: str = Field(description="a calculator id from list_calculators, e.g. 'curb_65'")


class RunCaseArgs(BaseModel):
    """Arguments of ``run_case``: a structured case or a note (one of them)."""

    case: dict[str, Any] | None = Field(None, description="a case as in a wardround case file: id, age, sex, note, "
                                                          "vitals, labs, history, medications (a FHIR R4 Bundle "
                                                          "is read as one where FHIR support is installed)")
    note: str | None = Field(None, description="free clinical note text, used when no structured case is given")
    specialties: list[str] | None = Field(None, description="restrict triage to these specialty ids")
    max_specialists: int | None = Field(None, ge=1, le=12, description="consult at most this many specialists")


class LookupConditionArgs(BaseModel):
    """Arguments of ``lookup_condition``."""

    condition: str = Field(min_length=1, description="condition id, name or alias, e.g. 'dka' or 'pulmonary "
                                                     "embolism'")


@dataclass(frozen=True)
class ToolSpec:
    """One served tool: MCP name, description, JSON input schema and the function that runs it."""

    name: str
    description: str
    input_schema: dict[str, Any]
    run: Callable[[dict[str, Any]], dict[str, Any]]
    title: str | None = None


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema of an argument model as an MCP tool input schema (object, no title)."""
    schema = model.model_json_schema()
    schema.pop("title", None)
    schema["type"] = "object"
    return schema


def _args(model: type[BaseModel], arguments: dict[str, Any], tool: str) -> Any:
    """Validate tool arguments with a pydantic model; a failure names each bad field and the fix."""
    try:
        return model.model_validate(arguments)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(x) for x in e['loc']) or 'arguments'}: {e['msg']}"
                             for e in exc.errors(include_url=False))
        raise ToolCallError(f"invalid arguments for {tool}: {problems}; see the tool's input schema") from None


class Catalogue:
    """Every tool the server offers, built once: the meta tools, then one tool per calculator.

    Args:
        model: model spec the ``run_case`` tool runs the ward with (``"rules"``: the embedded reasoner).
        knowledge: an alternative knowledge folder for ``run_case`` and ``lookup_condition``.
        knowledge_extra: folders that extend the knowledge base.
    """

    def __init__(self, model: Any = "rules", knowledge: str | None = None,
                 knowledge_extra: list[str] | None = None) -> None:
        self.model = model
        self.knowledge = knowledge
        self.knowledge_extra = list(knowledge_extra or [])
        self.tools: dict[str, ToolSpec] = {}
        for spec in self._meta_tools() + self._calculator_tools():
            if spec.name in self.tools:
                raise ValueError(f"two MCP tools are named {spec.name!r}")
            self.tools[spec.name] = spec

    # -- building ---------------------------------------------------------------------------------------------

    def _meta_tools(self) -> list[ToolSpec]:
        from langchain_core.utils.function_calling import convert_to_openai_tool

        from wardround.tools.calculators.tools import meta_tools

        reused = {t.name: convert_to_openai_tool(t)["function"] for t in meta_tools()}  # find_calculator, calculate
        find, calc = reused["find_calculator"], reused["calculate"]
        return [
            ToolSpec("list_calculators", "List every clinical calculator (id, name, category, result unit), "
                     "optionally of one category.", _schema(ListCalculatorsArgs), self.list_calculators,
                     "List calculators"),
            ToolSpec("describe_calculator", "Describe one calculator: its inputs with canonical and accepted units "
                     "and ranges, the result unit, and its primary reference.", _schema(DescribeCalculatorArgs),
                     self.describe, "Describe a calculator"),
            ToolSpec("find_calculator", find["description"], {**find["parameters"], "type": "object"},
                     self.find, "Find calculators"),
            ToolSpec("calculate", calc["description"], {**calc["parameters"], "type": "object"}, self.calculate,
                     "Run a calculator by id"),
            ToolSpec("run_case", "Run a clinical case through the ward round (triage, specialists, attending) and "
                     "return the cited diagnosis: primary, ranked differential with ICD-10 codes and "
                     "probabilities, rationale citing evidence ids, the cited evidence, and whether every "
                     "citation verifies.", _schema(RunCaseArgs), self.run_case, "Run a case"),
            ToolSpec("lookup_condition", "Look up a condition of the knowledge base: ICD-10 code, pre-test "
                     "probability and its population, findings with likelihood ratios, criteria and next steps, "
                     "each with its source (PMID/DOI and citation).", _schema(LookupConditionArgs),
                     self.lookup_condition, "Look up a condition"),
        ]

    def _calculator_tools(self) -> list[ToolSpec]:
        from langchain_core.utils.function_calling import convert_to_openai_tool

        from wardround.tools.calculators import all_calculators
        from wardround.tools.calculators.tools import calculator_tools

        calcs = all_calculators()
        clash = sorted(set(calcs) & set(META_TOOLS))
        if clash:
            raise ValueError(f"calculator ids {clash} clash with MCP tool names")
        out = []
        for tool in calculator_tools(include_meta=False):
            fn = convert_to_openai_tool(tool)["function"]
            calc = calcs[tool.name]
            out.append(ToolSpec(tool.name, fn["description"], {**fn["parameters"], "type": "object"},
                                functools.partial(self._run_calculator, tool.name), calc.name))
        return out

    # -- running ----------------------------------------------------------------------------------------------

    def call(self, name: str, arguments: dict[str, Any] | None) -> dict[str, Any]:
        """Run tool ``name`` on ``arguments``; every refusal is a ``ToolCallError`` with a one-line reason."""
        spec = self.tools.get(name)
        if spec is None:
            close = difflib.get_close_matches(name, list(self.tools), n=3, cutoff=0.6)
            hint = f"did you mean {', '.join(close)}? " if close else ""
            raise ToolCallError(f"unknown tool {name!r}; {hint}list the tools with tools/list")
        if arguments is not None and not isinstance(arguments, dict):
            raise ToolCallError(f"the arguments of {name} must be a JSON object, not {type(arguments).__name__}")
        try:
            return spec.run(dict(arguments or {}))
        except ToolCallError:
            raise
        except WardroundError as exc:
            raise ToolCallError(f"{name}: {exc}") from None

    def list_calculators(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Every calculator, sorted by category and id."""
        from wardround.tools.calculators import all_calculators
        from wardround.tools.calculators.base import CATEGORIES

        a = _args(ListCalculatorsArgs, arguments, "list_calculators")
        if a.category is not None and a.category not in CATEGORIES:
            raise ToolCallError(f"category: unknown category {a.category!r}; use one of: {', '.join(CATEGORIES)}")
        calcs = sorted((c for c in all_calculators().values() if a.category in (None, c.category)),
                       key=lambda c: (c.category, c.id))
        return {"count": len(calcs), "calculators": [{"id": c.id, "name": c.name, "category": c.category,
                                                      "unit": c.unit} for c in calcs]}

    def describe(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """One calculator's inputs, units, reference and input schema."""
        from wardround.tools.calculators import get_calculator
        from wardround.tools.calculators.tools import describe_calculator

        a = _args(DescribeCalculatorArgs, arguments, "describe_calculator")
        calc = get_calculator(a.calculator_id)
        return {**describe_calculator(calc), "reference": calc.reference,
                "input_schema": self.tools[calc.id].input_schema}

    def find(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Calculators ranked by how well the query matches (the LangChain ``find_calculator`` tool's search)."""
        from wardround.tools.calculators import find_calculator
        from wardround.tools.calculators.tools import FindCalculatorArgs, describe_calculator

        a = _args(FindCalculatorArgs, arguments, "find_calculator")
        return {"calculators": [describe_calculator(c) for c in find_calculator(a.query, limit=5)]}

    def calculate(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Run a calculator by id on raw inputs (aliases and units accepted), as ``calculate()`` does."""
        from wardround.tools.calculators import calculate
        from wardround.tools.calculators.tools import CalculateArgs, result_payload

        a = _args(CalculateArgs, arguments, "calculate")
        return result_payload(calculate(a.calculator_id, a.inputs, assume_normal=a.assume_normal))

    def _run_calculator(self, calculator_id: str, arguments: dict[str, Any]) -> dict[str, Any]:
        from wardround.tools.calculators import calculate
        from wardround.tools.calculators.tools import result_payload

        return result_payload(calculate(calculator_id, {k: v for k, v in arguments.items() if v is not None}))

    def _kb(self) -> Any:
        from wardround.knowledge import load_knowledge

        return load_knowledge(self.knowledge, self.knowledge_extra)

    def run_case(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Run the ward round on a case and return the cited diagnosis (the same as ``wardround.run``)."""
        from wardround.api import run

        a = _args(RunCaseArgs, arguments, "run_case")
        case = _case_of(a)
        options: dict[str, Any] = {"knowledge": self.knowledge, "knowledge_extra": self.knowledge_extra}
        if a.specialties is not None:
            options["specialties"] = a.specialties
        if a.max_specialists is not None:
            options["max_specialists"] = a.max_specialists
        result = run(case, model=self.model, **options)
        return diagnosis_payload(result)

    def lookup_condition(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """A condition of the knowledge base with every number beside its source."""
        from wardround.knowledge import normalize_name

        a = _args(LookupConditionArgs, arguments, "lookup_condition")
        kb = self._kb()
        cond = kb.find_condition(a.condition)
        if cond is None:
            names = {normalize_name(c.name): c.name for c in kb.conditions.values()}
            near = difflib.get_close_matches(normalize_name(a.condition), list(names), n=3, cutoff=0.5)
            hint = f"did you mean {', '.join(repr(names[n]) for n in near)}?" if near else \
                f"the knowledge base has {len(kb.conditions)} conditions; try an id, name or alias"
            raise ToolCallError(f"condition: no condition {a.condition!r} in the knowledge base; {hint}")
        return condition_payload(kb, cond)


def _case_of(a: RunCaseArgs) -> Any:
    """The ``Case`` of ``run_case`` arguments: a case dict, a FHIR Bundle dict, or note text."""
    from wardround.case import Case

    if (a.case is None) == (a.note is None):
        raise ToolCallError("run_case: give exactly one of 'case' (a structured case) or 'note' (note text)")
    if a.note is not None:
        if not a.note.strip():
            raise ToolCallError("note: the note is empty; give the clinical note text")
        return Case.from_text(a.note, id="mcp-case")
    if a.case.get("resourceType") == "Bundle":
        from_fhir = getattr(Case, "from_fhir", None)
        if from_fhir is None:
            raise ToolCallError("case: a FHIR Bundle needs FHIR support, which this installation lacks")
        return from_fhir(a.case)
    try:
        return Case.from_dict(a.case)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = ".".join(str(x) for x in err["loc"]) or "case"
        raise ToolCallError(f"case.{loc}: {err['msg']}; see the case fields in the examples/cases files") from None


def _item(d: Any) -> dict[str, Any]:
    return {"condition": d.condition, "name": d.name, "icd10": d.icd10, "probability": d.probability,
            "specialty": d.specialty, "supporting": list(d.supporting), "opposing": list(d.opposing)}


def diagnosis_payload(result: Any) -> dict[str, Any]:
    """A ``WardResult`` as the compact JSON an MCP client reads: the cited diagnosis and the evidence it cites."""
    dx = result.diagnosis
    if dx is None:
        raise ToolCallError(f"run_case: the ward round ended without a diagnosis ({'; '.join(result.issues)})")
    cited = dx.cited_ids()
    evidence = {}
    for eid in cited:
        ev = result.ledger.get(eid)
        if ev is not None:
            evidence[eid] = {k: v for k, v in ev.model_dump(mode="json").items()
                             if k in ("kind", "statement", "quote", "field", "tool", "value", "unit", "reference")
                             and v is not None}
    return {
        "case_id": result.case.id,
        "verified": bool(result.verified),
        "supported": dx.supported,
        "coverage": dx.coverage,
        "primary": _item(dx.primary),
        "differential": [_item(d) for d in dx.differential],
        "rationale": [{"text": s.text, "citations": list(s.citations)} for s in dx.rationale],
        "unexplained": [f.name for f in dx.unexplained],
        "refer_to": list(dx.refer_to),
        "next_steps": list(dx.next_steps),
        "consulted": list(dx.consulted),
        "evidence": evidence,
        "issues": list(result.issues),
        "report": result.to_text(),
    }


def condition_payload(kb: Any, cond: Any) -> dict[str, Any]:
    """A condition with its sources resolved to citations (what ``wardround kb show`` prints, as JSON)."""

    def source(ref: str | None) -> dict[str, Any] | None:
        if not ref:
            return None
        entry = kb.references.get(ref)
        return {"key": ref, "citation": entry.citation if entry else None,
                "pmid": entry.pmid if entry else None, "doi": entry.doi if entry else None}

    findings = []
    for fid, lr in cond.findings.items():
        f = kb.findings.get(fid)
        findings.append({"finding": fid, "name": f.name if f else fid, "kind": lr.kind, "lr_pos": lr.lr_pos,
                         "lr_neg": lr.lr_neg, "sens": lr.sens, "spec": lr.spec, "source": source(lr.reference)})
    low, high = cond.ages
    return {
        "id": cond.id, "name": cond.name, "icd10": cond.icd10, "aliases": list(cond.aliases),
        "specialty": kb.specialties[cond.specialty].name if cond.specialty in kb.specialties else cond.specialty,
        "prior": {"probability": cond.prior, "population": cond.prior_context, "ages": [low, high],
                  "sex": cond.sex, "source": source(cond.prior_reference)},
        "presenting": [kb.findings[f].name for f in cond.presenting if f in kb.findings],
        "findings": findings,
        "criteria": [{"name": c.name, "definitional": c.definitional, "sens": c.sens, "spec": c.spec,
                      "source": source(c.reference)} for c in cond.criteria],
        "next_steps": list(cond.next_steps),
        "calculators": list(cond.calculators),
        "references": [source(r) for r in cond.references],
    }

