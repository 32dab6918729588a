"""``build_graph``: intake -> triage -> specialists in parallel (``Send``) -> attending -> optional review -> END."""

from __future__ import annotations

import logging
import time
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.types import Send, interrupt

from wardround.agents.base import knowledge_for
from wardround.agents.intake import intake
from wardround.agents.registry import agents_for
from wardround.case import Case
from wardround.config import ward_config
from wardround.errors import CaseError, WardroundError
from wardround.evidence import Ledger
from wardround.graphs.state import SpecialistInput, WardState
from wardround.reasoning.review import apply_review
from wardround.report import Diagnosis, Usage

log = logging.getLogger(__name__)

def _as_case(value: Any) -> Case:
    if isinstance(value, Case):
        return value
    if isinstance(value, dict):
        return Case.from_dict(value, check_paths=False)
    if isinstance(value, str):
        return Case.from_text(value)
    raise CaseError("case", f"expected a Case, a dict or note text, not {type(value).__name__}",
                    "pass {'case': wardround.Case(...)}")


def _ledger(state: dict) -> Ledger:
    return Ledger(entries=dict(state.get("ledger") or {}))


def _timed(node: str, start: float) -> Usage:
    return Usage(seconds={node: round(time.perf_counter() - start, 6)})


def intake_node(state: WardState, config: RunnableConfig) -> dict:
    """Validate the case and record its facts as intake evidence."""
    t0 = time.perf_counter()
    case = _as_case(state.get("case"))
    h = case.history
    structured = (any(v is not None for v in case.vitals.model_dump().values()) or case.labs or case.imaging
                  or h.conditions or h.medications)
    if not case.note.strip() and not structured:
        raise CaseError("note", "the case has no note text and no findings wardround can use",
                        "add a clinical note or structured vitals, labs or history")
    evidence = intake(case, knowledge_for(ward_config(config)), existing=(state.get("ledger") or {}).keys())
    if not any(ev.finding for ev in evidence):
        raise CaseError("note", "the case has no note text and no findings wardround can use",
                        "add a clinical note or structured vitals, labs or history")
    update: dict = {"case": case, "ledger": {ev.id: ev for ev in evidence}, "usage": _timed("intake", t0)}
    from wardround.injection import injection_issue

    issues = case.value_issues()  # labs kept but not usable as given are reported, never dropped in silence
    flagged = injection_issue(case.note)
    if flagged:
        issues.append(flagged)
    if issues:
        update["issues"] = issues
    return update


def triage_node(state: WardState, config: RunnableConfig) -> dict:
    """Choose the specialists to consult."""
    t0 = time.perf_counter()
    cfg = ward_config(config)
    decision, out = agents_for(cfg).triage.triage(state["case"], _ledger(state), cfg)
    usage = out.usage.model_copy(update={"seconds": {**out.usage.seconds, "triage": time.perf_counter() - t0}})
    return {"triage": decision, "ledger": {e.id: e for e in out.evidence}, "issues": out.issues, "usage": usage}


def route_specialists(state: WardState) -> list[Send]:
    """Fan out: one ``Send`` per chosen specialty, all in the same superstep."""
    return [Send("specialist", {"case": state["case"], "ledger": state.get("ledger") or {}, "specialty": s})
            for s in state["triage"].specialties]


def specialist_node(state: SpecialistInput, config: RunnableConfig) -> dict:
    """Run one specialist; a failure becomes a recorded issue, never a lost ward round."""
    t0 = time.perf_counter()
    cfg = ward_config(config)
    specialty = state["specialty"]
    try:
        opinion, out = agents_for(cfg).specialist.consult(specialty, state["case"], _ledger(state), cfg)
    except WardroundError as exc:
        log.warning("specialist %s failed: %s", specialty, exc)
        return {"issues": [f"{specialty}: {exc}"], "usage": _timed(f"specialist:{specialty}", t0)}
    usage = out.usage.model_copy(update={"seconds": {**out.usage.seconds,
                                                     f"specialist:{specialty}": time.perf_counter() - t0}})
    return {"opinions": [opinion], "ledger": {e.id: e for e in out.evidence}, "issues": out.issues, "usage": usage}


def attending_node(state: WardState, config: RunnableConfig) -> dict:
    """Aggregate the opinions into the verified, cited diagnosis."""
    t0 = time.perf_counter()
    cfg = ward_config(config)
    opinions = sorted(state.get("opinions") or [], key=lambda o: o.specialty)
    diagnosis, out = agents_for(cfg).attending.decide(state["case"], _ledger(state), opinions, cfg)
    usage = out.usage.model_copy(update={"seconds": {**out.usage.seconds, "attending": time.perf_counter() - t0}})
    return {"diagnosis": diagnosis, "ledger": {e.id: e for e in out.evidence}, "issues": out.issues, "usage": usage}


def review_node(state: WardState, config: RunnableConfig) -> dict:
    """Pause for a human reviewer (``interrupt``); resume with ``Command(resume={"action": ...})``.

    Resume values: ``{"action": "approve"}`` or ``{"action": "override", "primary": "<condition id or name>",
    "comment": "..."}``; what they do is ``wardround.reasoning.review.apply_review``.
    """
    diagnosis: Diagnosis = state["diagnosis"]
    answer = interrupt({
        "question": "Approve the primary diagnosis or override it.",
        "primary": diagnosis.primary.name,
        "supported": diagnosis.supported,
        "coverage": diagnosis.coverage,
        "differential": [f"{x.name} ({x.probability:.0%})" for x in diagnosis.differential],
        "dissent": [d.model_dump(mode="json") for d in diagnosis.dissent],
    })
    cfg = ward_config(config)
    outcome = apply_review(knowledge_for(cfg), state["case"], _ledger(state), diagnosis, answer, cfg)
    update: dict = {"issues": outcome.issues}
    if outcome.diagnosis is not None:
        update["diagnosis"] = outcome.diagnosis
    if outcome.record is not None:
        update["review"] = outcome.record
    if outcome.evidence:
        update["ledger"] = {e.id: e for e in outcome.evidence}
    return update


def _after_attending(state: WardState, config: RunnableConfig) -> str:
    return "review" if ward_config(config).human_review else END


def build_graph(*, checkpointer: Any = None, human_review: bool | None = None, **compile_kwargs: Any):
    """Compile the ward graph.

    Args:
        checkpointer: a LangGraph checkpointer (``InMemorySaver``, ``SqliteSaver``); needed for human review
            and for resuming a thread.
        human_review: force the review step on or off at build time; by default it follows
            ``configurable.ward.human_review`` at run time.
    """
    g = StateGraph(WardState)
    g.add_node("intake", intake_node)
    g.add_node("triage", triage_node)
    g.add_node("specialist", specialist_node)
    g.add_node("attending", attending_node)
    g.add_node("review", review_node)
    g.add_edge(START, "intake")
    g.add_edge("intake", "triage")
    g.add_conditional_edges("triage", route_specialists, ["specialist"])
    g.add_edge("specialist", "attending")
    if human_review is None:
        g.add_conditional_edges("attending", _after_attending, ["review", END])
    elif human_review:
        g.add_edge("attending", "review")
    else:
        g.add_edge("attending", END)
    g.add_edge("review", END)
    return g.compile(checkpointer=checkpointer, name="wardround", **compile_kwargs)
