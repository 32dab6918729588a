"""The encounter as a LangGraph graph: opening -> (doctor -> gatekeeper)* -> diagnose, checkpointed every step.

Nodes only move state; the doctor, the gatekeeper and the prices are plain objects the graph closes over.
Every step is checkpointed when a checkpointer is given (``wardround.graphs.checkpoint``: memory, SQLite or
PostgreSQL), so an encounter killed mid-way resumes from its last finished step: a turn whose gatekeeper step
had not committed is redone once (the doctor is deterministic, so it asks the same question), a committed turn
is never redone.
"""

from __future__ import annotations

import logging
import operator
import time
from collections.abc import Callable, Mapping
from typing import Annotated, Any, TypedDict

from wardround.encounters.costs import PriceTable
from wardround.encounters.doctor import Doctor
from wardround.encounters.gatekeeper import Gatekeeper, answer_value
from wardround.encounters.models import Action, EncounterConfig, EncounterResult, TurnRecord
from wardround.evidence import Evidence, EvidenceWriter, Ledger, merge_ledger
from wardround.report import Diagnosis, DifferentialItem, RationaleSentence, Verification

log = logging.getLogger(__name__)

EVIDENCE_PREFIX = "EN"
"""Evidence id prefix of encounter answers ([EN1], [EN2], ...)."""
N_CITED = 5
"""Evidences cited for (and, up to half as many, against) each diagnosis."""


class EncounterState(TypedDict, total=False):
    """State of one encounter (JSON-serialisable; the hidden case never enters it)."""

    case_key: str
    turn: int
    pending: dict[str, Any] | None
    transcript: Annotated[list[dict[str, Any]], operator.add]
    ledger: Annotated[dict[str, Evidence], merge_ledger]
    observed: dict[str, list[str]]
    answered: list[str]
    cost_usd: float
    issues: Annotated[list[str], operator.add]
    stop_reason: str
    diagnosis: Diagnosis


def _leading(doctor: Doctor, observed: Mapping[str, list[str]], answered: list[str], n: int = 3) -> list:
    posterior = getattr(doctor, "posterior", None)
    names = getattr(getattr(doctor, "reasoner", None), "pathologies", None)
    if posterior is None or names is None:
        return []
    post = posterior(observed, answered)
    order = sorted(range(len(names)), key=lambda j: -post[j])[:n]
    return [(names[j], round(float(post[j]), 4)) for j in order]


def build_encounter_graph(gatekeeper: Gatekeeper, doctor: Doctor, config: EncounterConfig | None = None,
                          prices: PriceTable | None = None, checkpointer: Any = None, pause_s: float = 0.0) -> Any:
    """Compile the encounter graph for one hidden case.

    Args:
        gatekeeper: answers from the hidden case (e.g. ``DDXPlusGatekeeper``).
        doctor: chooses actions (e.g. ``RulesDDXPlusDoctor``).
        config: turn and money budgets.
        prices: the price table (default: no tests priced, the SDBench visit fee for question rounds).
        checkpointer: a LangGraph checkpointer; each step is saved under the caller's ``thread_id``.
        pause_s: sleep this long in each gatekeeper step (demonstrations and kill-and-resume tests).
    """
    from langgraph.graph import END, START, StateGraph

    cfg = config or EncounterConfig()
    table = prices or PriceTable()

    def record(state: EncounterState, action: Action, answer: Any, turn: int, cost: float) -> dict[str, Any]:
        observed = dict(state.get("observed") or {})
        answered = list(state.get("answered") or [])
        if action.target and answer.status != "not_available":
            observed[action.target] = list(answer.codes)
            if action.target not in answered:
                answered.append(action.target)
        writer = EvidenceWriter(EVIDENCE_PREFIX, f"gatekeeper:{gatekeeper.source}", existing=state.get("ledger") or {})
        question = gatekeeper.question_text(action)
        ev = writer.add("tool", f"turn {turn}: {question} {answer.text}", tool=f"encounter:{gatekeeper.source}",
                        inputs={"case_key": gatekeeper.case_key, "turn": turn, "action": action.model_dump()},
                        value=answer_value(answer), finding=action.target or None, present=answer.present)
        total = round(float(state.get("cost_usd") or 0.0) + cost, 2)
        rec = TurnRecord(turn=turn, action=action, question=question, answer=answer, evidence_id=ev.id,
                         cost_usd=round(cost, 2), cumulative_cost_usd=total,
                         top=_leading(doctor, observed, answered))
        return {"turn": turn, "pending": None, "transcript": [rec.model_dump(mode="json")], "ledger": {ev.id: ev},
                "observed": observed, "answered": answered, "cost_usd": total}

    def opening(state: EncounterState) -> dict[str, Any]:
        action, answer = gatekeeper.opening()
        out = record(state, action, answer, 0, 0.0)
        out["case_key"] = gatekeeper.case_key
        return out

    def doctor_step(state: EncounterState) -> dict[str, Any]:
        turn = int(state.get("turn") or 0)
        observed, answered = state.get("observed") or {}, state.get("answered") or []
        if turn >= cfg.max_turns:
            return {"pending": Action(kind="diagnose", rationale="turn budget reached").model_dump(),
                    "stop_reason": "turn budget"}
        try:
            if getattr(doctor, "wants_transcript", False):  # a model doctor reads the answers as text
                action = doctor.next_action(observed, answered, turn,  # type: ignore[call-arg]
                                            transcript=list(state.get("transcript") or []))
            else:
                action = doctor.next_action(observed, answered, turn)
        except Exception as exc:  # a doctor's failure ends the encounter with what is known, never crashes it
            log.warning("doctor failed at turn %d: %s", turn, exc)
            return {"pending": Action(kind="diagnose", rationale="doctor error").model_dump(),
                    "stop_reason": "doctor error", "issues": [f"doctor error at turn {turn}: {exc}"]}
        if action.kind != "diagnose" and cfg.budget_usd is not None:
            cost, _ = table.price(action)
            if float(state.get("cost_usd") or 0.0) + cost > cfg.budget_usd:
                return {"pending": Action(kind="diagnose", rationale="money budget reached").model_dump(),
                        "stop_reason": "money budget"}
        update: dict[str, Any] = {"pending": action.model_dump()}
        if action.kind == "diagnose":
            update["stop_reason"] = "doctor: " + (action.rationale or "diagnose")
        return update

    def gatekeeper_step(state: EncounterState) -> dict[str, Any]:
        if pause_s:
            time.sleep(pause_s)
        action = Action.model_validate(state["pending"])
        answer = gatekeeper.answer(action)
        cost, warning = table.price(action)
        out = record(state, action, answer, int(state.get("turn") or 0) + 1, cost)
        if warning:
            out["issues"] = [warning]
        return out

    def diagnose(state: EncounterState) -> dict[str, Any]:
        return {"diagnosis": build_diagnosis(state, doctor), "pending": None}

    def route(state: EncounterState) -> str:
        pending = state.get("pending") or {}
        return "diagnose" if pending.get("kind") == "diagnose" else "gatekeeper"

    g = StateGraph(EncounterState)
    g.add_node("opening", opening)
    g.add_node("doctor", doctor_step)
    g.add_node("gatekeeper", gatekeeper_step)
    g.add_node("diagnose", diagnose)
    g.add_edge(START, "opening")
    g.add_edge("opening", "doctor")
    g.add_conditional_edges("doctor", route, {"diagnose": "diagnose", "gatekeeper": "gatekeeper"})
    g.add_edge("gatekeeper", "doctor")
    g.add_edge("diagnose", END)
    return g.compile(checkpointer=checkpointer)


def build_diagnosis(state: Mapping[str, Any], doctor: Doctor) -> Diagnosis:
    """The cited final diagnosis: the doctor's ranking, each item citing the answers that moved it."""
    observed, answered = state.get("observed") or {}, list(state.get("answered") or [])
    final = Action.model_validate(state["pending"]) if state.get("pending") else None
    if getattr(doctor, "wants_transcript", False):
        assessed = doctor.assess(observed, answered, final=final)  # type: ignore[call-arg]
    else:
        assessed = doctor.assess(observed, answered)
    ranked: list[tuple[str, float]] = assessed["ranked"]
    kept: list[tuple[str, float]] = assessed.get("differential") or ranked[:1]
    ids_by_target = {}
    for rec in state.get("transcript") or []:
        target = (rec.get("action") or {}).get("target")
        if target and rec.get("evidence_id"):
            ids_by_target[target] = rec["evidence_id"]
    ledger = Ledger(entries=dict(state.get("ledger") or {}))
    contributions = getattr(doctor, "contributions", None)
    posterior = dict(ranked)

    def item(name: str) -> DifferentialItem:
        weights = contributions(observed, answered, name) if contributions else {}
        pos = sorted((w, t) for t, w in weights.items() if w > 0 and t in ids_by_target)[::-1][:N_CITED]
        neg = sorted((w, t) for t, w in weights.items() if w < 0 and t in ids_by_target)[: max(1, N_CITED // 2)]
        return DifferentialItem(condition=name, name=name, probability=min(1.0, max(0.0, posterior.get(name, 0.0))),
                                supporting=[ids_by_target[t] for _, t in pos],
                                opposing=[ids_by_target[t] for _, t in neg])

    primary = item(ranked[0][0])
    differential = [item(name) for name, _ in kept]
    if assessed.get("cited"):  # a doctor that cites evidence ids itself (they are verified below)
        primary.supporting[:] = list(dict.fromkeys(str(i) for i in assessed["cited"]))
    cited = primary.supporting[:3]
    rationale = [RationaleSentence(
        text=f"{primary.name} leads with posterior {primary.probability:.3f} after {int(state.get('turn') or 0)} "
             f"questions" + (f"; for it: {', '.join(f'[{i}]' for i in cited)}." if cited else "."),
        citations=cited, kind="leading")]
    diagnosis = Diagnosis(primary=primary, differential=differential, rationale=rationale,
                          consulted=[getattr(doctor, "name", "doctor")], supported=bool(assessed.get("supported", True)))
    report = ledger.verify(ids=diagnosis.cited_ids())
    removed: list[str] = []
    if not report.ok:  # never report an unverified citation: remove it and flag it
        bad = {f.id for f in report.failures}
        removed = sorted(bad)
        for it in [diagnosis.primary, *diagnosis.differential]:
            it.supporting[:] = [i for i in it.supporting if i not in bad]
            it.opposing[:] = [i for i in it.opposing if i not in bad]
        for s in diagnosis.rationale:
            s.citations[:] = [i for i in s.citations if i not in bad]
    diagnosis.verification = Verification(verified=report.ok, checked=report.checked, failures=report.failures,
                                          removed=removed)
    return diagnosis


def result_from_state(values: Mapping[str, Any], doctor: Doctor | None = None) -> EncounterResult:
    """An ``EncounterResult`` from the graph's final state."""
    turns = [TurnRecord.model_validate(t) for t in values.get("transcript") or []]
    diagnosis: Diagnosis | None = values.get("diagnosis")
    ranked: list[tuple[str, float]] = []
    differential: list[tuple[str, float]] = []
    if doctor is not None and diagnosis is not None and getattr(doctor, "wants_transcript", False):
        ranked = [(d.name, d.probability) for d in [diagnosis.primary, *diagnosis.differential]]
        ranked = list(dict(ranked).items())
        differential = ranked
    elif doctor is not None and diagnosis is not None:
        assessed = doctor.assess(values.get("observed") or {}, list(values.get("answered") or []))
        ranked, differential = assessed["ranked"], assessed.get("differential") or []
    ledger = dict(values.get("ledger") or {})
    ver = diagnosis.verification if diagnosis is not None else None
    meter = getattr(doctor, "meter", None)
    usage = ({"input_tokens": meter.input_tokens, "output_tokens": meter.output_tokens,
              "cost_usd": round(meter.cost_usd, 8), "calls": meter.calls} if meter is not None else {})
    return EncounterResult(case_key=str(values.get("case_key") or ""), turns=turns,
                           questions=max(0, len(turns) - 1), cost_usd=float(values.get("cost_usd") or 0.0),
                           stop_reason=str(values.get("stop_reason") or ""),
                           diagnosis=diagnosis.model_dump(mode="json") if diagnosis is not None else None,
                           ranked=ranked, differential=differential,
                           ledger={k: v.model_dump(mode="json") for k, v in ledger.items()},
                           verified=bool(ver and ver.verified), verification_message=(
                               f"{ver.checked} citations checked" + ("" if ver.verified else
                                                                     f"; removed {ver.removed}")) if ver else "",
                           usage=usage)


def run_encounter(gatekeeper: Gatekeeper, doctor: Doctor, config: EncounterConfig | None = None,
                  prices: PriceTable | None = None, checkpointer: Any = None, thread_id: str | None = None,
                  on_turn: Callable[[TurnRecord], None] | None = None, pause_s: float = 0.0) -> EncounterResult:
    """Run (or resume) one encounter to its diagnosis.

    With a checkpointer and a ``thread_id`` an existing thread is resumed where it stopped (a finished one is
    returned as it is). ``on_turn`` is called with each turn as it is recorded (turns already recorded before a
    resume are replayed to it first).
    """
    cfg = config or EncounterConfig()
    graph = build_encounter_graph(gatekeeper, doctor, cfg, prices, checkpointer=checkpointer, pause_s=pause_s)
    run_cfg: dict[str, Any] = {"recursion_limit": 2 * cfg.max_turns + 20}
    payload: dict[str, Any] | None = {"case_key": gatekeeper.case_key, "turn": 0, "cost_usd": 0.0}
    if checkpointer is not None:
        run_cfg["configurable"] = {"thread_id": thread_id or gatekeeper.case_key}
        snapshot = graph.get_state(run_cfg)
        if snapshot.values:
            for t in snapshot.values.get("transcript") or []:
                if on_turn:
                    on_turn(TurnRecord.model_validate(t))
            if not snapshot.next:
                return result_from_state(snapshot.values, doctor)
            payload = None  # resume from the last checkpoint
    final: dict[str, Any] = {}
    for mode, chunk in graph.stream(payload, run_cfg, stream_mode=["updates", "values"]):
        if mode == "values":
            final = chunk
            continue
        for node_update in chunk.values():
            for t in (node_update or {}).get("transcript") or []:
                if on_turn:
                    on_turn(TurnRecord.model_validate(t))
    if checkpointer is not None:
        final = graph.get_state(run_cfg).values
    return result_from_state(final, doctor)
