"""``build_graph``: intake -> triage -> specialists in parallel (``Send``) -> attending -> optional review -> END."""

from __future__ import annotations

import logging
import time
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.types import Send, interrupt

from wardround.agents.intake import finding_status, intake
from wardround.agents.registry import agents_for
from wardround.agents.rules import bayes_update, record_update
from wardround.case import Case
from wardround.config import ward_config
from wardround.errors import CaseError, WardroundError
from wardround.evidence import Evidence, EvidenceWriter, Ledger
from wardround.graphs.state import SpecialistInput, WardState
from wardround.knowledge import KnowledgeBase, load_knowledge, normalize_name
from wardround.report import Diagnosis, DifferentialItem, ReviewRecord, Usage

log = logging.getLogger(__name__)

REVIEW_PREFIX = "HR"


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
    evidence = intake(case, load_knowledge(ward_config(config).knowledge), existing=(state.get("ledger") or {}).keys())
    if not any(ev.finding for ev in evidence):
        raise CaseError("note", "the case has no note text and no findings wardround can use",
                        "add a clinical note or structured vitals, labs or history")
    update: dict = {"case": case, "ledger": {ev.id: ev for ev in evidence}, "usage": _timed("intake", t0)}
    from wardround.injection import injection_issue

    flagged = injection_issue(case.note)
    if flagged:
        update["issues"] = [flagged]
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
    "comment": "..."}``. An override moves the named condition to the top and is recorded and cited; a
    knowledge-base condition the round did not list gets its post-test probability recorded first.
    """
    diagnosis: Diagnosis = state["diagnosis"]
    answer = interrupt({
        "question": "Approve the primary diagnosis or override it.",
        "primary": diagnosis.primary.name,
        "differential": [f"{x.name} ({x.probability:.0%})" for x in diagnosis.differential],
        "dissent": [d.model_dump(mode="json") for d in diagnosis.dissent],
    })
    if isinstance(answer, str):
        answer = {"action": "approve"} if answer.lower() in ("approve", "ok", "yes") else \
            {"action": "override", "primary": answer}
    if not isinstance(answer, dict) or answer.get("action") not in ("approve", "override"):
        return {"issues": [f"review: ignored an unreadable review answer {answer!r}; expected "
                           "{'action': 'approve'} or {'action': 'override', 'primary': ...}"]}
    reviewer = str(answer.get("reviewer", "reviewer"))
    comment = str(answer.get("comment", ""))
    if answer["action"] == "approve":
        record = ReviewRecord(reviewer=reviewer, action="approve", primary=diagnosis.primary.name, comment=comment)
        return {"diagnosis": diagnosis.model_copy(update={"review": record}), "review": record}
    target = str(answer.get("primary", ""))
    kb = load_knowledge(ward_config(config).knowledge)
    writer = EvidenceWriter(REVIEW_PREFIX, f"human_review:{reviewer}", (state.get("ledger") or {}).keys())
    new_evidence: list[Evidence] = []
    chosen = _find_item(diagnosis, target, kb)
    if chosen is None:
        # A condition the round did not list: record its post-test probability from the case's findings so the
        # override rests on checkable evidence, as every differential item does.
        cond = kb.find_condition(target)
        if cond is None:
            return {"issues": [f"review: override target {target!r} is neither on the differential "
                               f"({', '.join(x.name for x in diagnosis.differential)}) nor a condition of the "
                               "knowledge base; diagnosis left unchanged"]}
        ev, chosen = record_update(bayes_update(cond, finding_status(_ledger(state))), kb, writer, cond.specialty)
        new_evidence.append(ev)
    evidence_id = None
    known = {**(state.get("ledger") or {}), **{e.id: e for e in new_evidence}}
    sources = [i for i in chosen.supporting if i in known]
    if sources:
        ev = writer.add("derived", f"Reviewer {reviewer} overrode the primary diagnosis to {chosen.name}"
                        + (f": {comment}" if comment else ""), derived_from=sources)
        new_evidence.append(ev)
        evidence_id = ev.id
    record = ReviewRecord(reviewer=reviewer, action="override", primary=chosen.name, comment=comment,
                          evidence_id=evidence_id)
    rest = [x for x in diagnosis.differential if x.condition != chosen.condition]
    from wardround.report import RationaleSentence

    note = RationaleSentence(text=f"Primary diagnosis set to {chosen.name} by human review"
                             + (f" ({comment})" if comment else "") + (f" [{evidence_id}]" if evidence_id else "")
                             + f"; the ward round had ranked {diagnosis.primary.name} first.",
                             citations=[evidence_id] if evidence_id else [])
    earlier = [s.model_copy(update={"text": s.text.replace(f"{diagnosis.primary.name} is the leading diagnosis",
                                                            f"{diagnosis.primary.name} was the ward round's "
                                                            "leading diagnosis")})
               for s in diagnosis.rationale]
    cond = kb.conditions.get(chosen.condition)
    next_steps = list(cond.next_steps) if cond else []
    next_steps += [s for s in diagnosis.next_steps if s not in next_steps]
    updated = diagnosis.model_copy(update={"primary": chosen, "differential": [chosen, *rest], "review": record,
                                           "supported": True,
                                           "rationale": [note, *earlier], "next_steps": next_steps})
    ledger = _ledger(state)
    ledger.extend(new_evidence)
    report = ledger.verify(state["case"], updated.cited_ids())
    updated.verification = updated.verification.model_copy(update={"verified": report.ok, "checked": report.checked,
                                                                     "failures": report.failures})
    return {"diagnosis": updated, "review": record, "ledger": {e.id: e for e in new_evidence}}


def _find_item(diagnosis: Diagnosis, target: str, kb: KnowledgeBase) -> DifferentialItem | None:
    key = normalize_name(target)
    for item in diagnosis.differential:
        if key in (normalize_name(item.condition), normalize_name(item.name)):
            return item
    cond = kb.find_condition(target)
    if cond is not None:
        for item in diagnosis.differential:
            if item.condition == cond.id:
                return item
    return None


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
