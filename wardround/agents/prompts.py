"""Prompts and structured-output schemas of the LLM agents (triage, specialist, attending).

The model sees the case and the evidence ledger with ids, and answers with one JSON object validated by the
pydantic schemas below. It can cite evidence only by id; new evidence comes only from tools that wardround
runs itself (calculators recompute, note quotes are located in the note, segmentation hashes its artifacts).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from pydantic import BaseModel, Field

from wardround.case import Case
from wardround.evidence import Evidence, Ledger
from wardround.knowledge import KnowledgeBase
from wardround.report import Opinion

# ---------------------------------------------------------------------------------------------------------
# Structured outputs


class TriageAnswer(BaseModel):
    """The triage decision a model returns."""

    specialties: list[str] = Field(min_length=1, description="specialty ids to consult, most relevant first")
    rationale: str = Field(description="one or two sentences citing evidence ids inline, e.g. [E3]")


class DifferentialEntry(BaseModel):
    """One condition of a model's differential."""

    condition: str = Field(description="a condition id from the list (or a condition name if it is not listed)")
    probability: float = Field(ge=0.0, le=1.0, description="probability between 0 and 1")
    supporting: list[str] = Field(default_factory=list, description="evidence ids for it, e.g. [\"E3\", \"CA1\"]")
    opposing: list[str] = Field(default_factory=list, description="evidence ids against it")


class SpecialistAnswer(BaseModel):
    """A specialist's opinion as a model returns it."""

    summary: str = Field(description="two or three sentences citing evidence ids inline, e.g. [E3]")
    differential: list[DifferentialEntry] = Field(min_length=1, description="most likely first")
    confidence: float = Field(ge=0.0, le=1.0, description="confidence in the leading condition")


class DissentResolution(BaseModel):
    """How the attending resolves one specialist's disagreement."""

    specialty: str
    resolution: str


class DiagnosisAnswer(BaseModel):
    """The attending's final diagnosis as a model returns it."""

    primary: str = Field(description="condition id (or name) of the primary diagnosis")
    differential: list[DifferentialEntry] = Field(min_length=1, description="ranked, primary first")
    rationale: list[str] = Field(min_length=1, description="sentences, each citing evidence ids inline like [E3]")
    dissent: list[DissentResolution] = Field(default_factory=list,
                                             description="one entry per specialist whose leading diagnosis differs")
    next_steps: list[str] = Field(default_factory=list)


def schema_text(model: type[BaseModel]) -> str:
    """Compact JSON schema of an output model for the prompt."""
    return json.dumps(model.model_json_schema(), separators=(",", ":"))


# ---------------------------------------------------------------------------------------------------------
# System prompts

CITATION_RULES = (
    "Evidence is listed as [ID] (kind) statement. Cite evidence only by its id in square brackets, e.g. [E3], "
    "and only ids that appear in the evidence list or in your tool results. Never invent an id, never cite an "
    "id for something it does not say. Every citation is checked by a machine; citations that fail are removed "
    "and reported."
)

TRIAGE_SYSTEM = (
    "Role: triage.\nYou are the triage physician of a hospital ward round. Read the case and its evidence and "
    "choose which specialists to consult (at most {max_specialists}), most relevant first, using only the "
    "specialty ids offered.\n" + CITATION_RULES + "\nReply with only one JSON object matching this schema, no "
    "prose and no code fence:\n{schema}"
)

SPECIALIST_SYSTEM = (
    "Role: specialist {specialty}.\nYou are the {specialty_name} consultant ({specialty}) on a hospital ward "
    "round. Give your specialty's differential diagnosis for the case.\n"
    "Tools: use `find_calculator` and `calculate` to compute clinical scores and formulas from the case's values "
    "(every result is recorded as evidence with its own id that you can cite); use `quote_note` to cite an exact "
    "phrase of the note that the evidence list lacks{imaging}. If a tool returns an error, read it and fix the "
    "call. Call tools only when they add information.\n" + CITATION_RULES + "\nWhen you are done, reply with only "
    "one JSON object matching this schema, no prose and no code fence:\n{schema}"
)

ATTENDING_SYSTEM = (
    "Role: attending.\nYou are the attending physician leading a hospital ward round. Read every specialist's "
    "opinion, dissent included, weigh the evidence and write the final ranked differential (at most "
    "{differential_size} conditions). You may overrule a majority when the evidence says so; for every specialist "
    "whose leading diagnosis differs from your primary, say how you resolved it.\n" + CITATION_RULES
    + "\nReply with only one JSON object matching this schema, no prose and no code fence:\n{schema}"
)

REPAIR_FORMAT = (
    "REPAIR: your last answer could not be used: {problems}\nReply again with only one JSON object matching the "
    "schema (no prose, no code fence); keep your reasoning and fix these problems."
)

REPAIR_CITATIONS = (
    "REPAIR: these citations failed verification: {failures}.\nCite only ids from the evidence list or your tool "
    "results. Reply again with the corrected JSON object (no prose, no code fence)."
)

TOOL_BUDGET_SPENT = (
    "The tool budget is spent. Do not call more tools: reply now with only the JSON object of your opinion."
)


# ---------------------------------------------------------------------------------------------------------
# Rendering the case and the ledger


def format_case(case: Case) -> str:
    """Demographics, complaint, question, options, and the note verbatim."""
    parts = [f"Case {case.id}: " + ", ".join(x for x in (
        f"{case.age:g} years" if case.age is not None else "age unknown", case.sex) if x)]
    if case.chief_complaint:
        parts.append(f"Chief complaint: {case.chief_complaint}")
    if case.question:
        parts.append(f"Question: {case.question}")
    if case.options:
        parts.append("Options: " + "; ".join(f"{k}) {v}" for k, v in case.options.items()))
    if case.note:
        parts.append(f'Note:\n"""\n{case.note}\n"""')
    return "\n".join(parts)


def format_evidence(ev: Evidence) -> str:
    """One ledger line: ``[ID] (kind) statement``."""
    return f"[{ev.id}] ({ev.kind}) {ev.statement}"


def format_ledger(ledger: Ledger | Iterable[Evidence]) -> str:
    """Every evidence item, one per line, with its id."""
    lines = [format_evidence(ev) for ev in ledger]
    return "\n".join(lines) if lines else "(no evidence recorded)"


def format_specialties(kb: KnowledgeBase, allowed: list[str]) -> str:
    """The specialties the triage may choose."""
    return "\n".join(f"- {s}: {kb.specialties[s].name}. {kb.specialties[s].description}".rstrip()
                     for s in allowed)


def format_conditions(kb: KnowledgeBase, specialty: str) -> str:
    """The specialty's conditions with id, name, ICD-10 and pre-test probability."""
    return "\n".join(f"- {c.id}: {c.name} ({c.icd10}), pre-test probability {c.prior:.0%} ({c.prior_context})"
                     for c in kb.conditions_for(specialty)) or "(none listed)"


def format_calculators() -> str:
    """Calculator ids and names (the model calls them through ``calculate``)."""
    from wardround.tools.calculators import all_calculators

    return "\n".join(f"- {c.id}: {c.name} [{c.category}]" for c in all_calculators().values())


def format_opinion(op: Opinion) -> str:
    """One specialist's opinion with its cited differential."""
    rows = [f"Opinion of {op.specialty} ({op.agent}), confidence {op.confidence:.2f}:", f"  {op.summary}"]
    for i, x in enumerate(op.differential, 1):
        cites = "".join(f"[{e}]" for e in x.supporting) or "-"
        against = "".join(f"[{e}]" for e in x.opposing) or "-"
        rows.append(f"  {i}. {x.condition}: {x.name} p={x.probability:.2f} for {cites} against {against}")
    return "\n".join(rows)


def triage_messages(case: Case, ledger: Ledger, kb: KnowledgeBase, allowed: list[str],
                    max_specialists: int) -> tuple[str, str]:
    """System and user text of the triage call."""
    system = TRIAGE_SYSTEM.format(max_specialists=max_specialists, schema=schema_text(TriageAnswer))
    user = (f"{format_case(case)}\n\nEvidence:\n{format_ledger(ledger)}\n\nSpecialties you may consult "
            f"(at most {max_specialists}):\n{format_specialties(kb, allowed)}")
    return system, user


def specialist_messages(specialty: str, case: Case, ledger: Ledger, kb: KnowledgeBase,
                        imaging: bool) -> tuple[str, str]:
    """System and user text of a specialist's first call."""
    spec = kb.specialties[specialty]
    extra = "; use `segment` to segment an imaging study of the case (by its index) and cite the measurement" \
        if imaging else ""
    system = SPECIALIST_SYSTEM.format(specialty=specialty, specialty_name=spec.name, imaging=extra,
                                      schema=schema_text(SpecialistAnswer))
    user = (f"{format_case(case)}\n\nEvidence:\n{format_ledger(ledger)}\n\nConditions {spec.name} considers:\n"
            f"{format_conditions(kb, specialty)}\n\nCalculators (call `calculate` with one of these ids):\n"
            f"{format_calculators()}")
    if imaging:
        user += "\n\nImaging studies:\n" + "\n".join(
            f"- {i}: {s.modality} {s.body_region or ''} {s.sequence or ''}".rstrip() for i, s in enumerate(case.imaging))
    return system, user


def attending_messages(case: Case, ledger: Ledger, opinions: list[Opinion],
                       differential_size: int) -> tuple[str, str]:
    """System and user text of the attending call."""
    system = ATTENDING_SYSTEM.format(differential_size=differential_size, schema=schema_text(DiagnosisAnswer))
    user = (f"{format_case(case)}\n\nEvidence:\n{format_ledger(ledger)}\n\nSpecialist opinions:\n"
            + "\n\n".join(format_opinion(op) for op in opinions))
    return system, user
