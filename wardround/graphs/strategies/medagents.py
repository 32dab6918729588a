"""``medagents``: expert recruitment -> analyses -> summary report -> consensus votes, revised until agreed.

Tang et al., "MedAgents: Large Language Models as Collaborators for Zero-shot Medical Reasoning", Findings of
ACL 2024 (ACL Anthology 2024.findings-acl.33), arXiv:2311.10537. The paper's five steps map onto the protocols:
1. expert gathering: the triage protocol recruits ``experts`` specialties (default 3);
2. analysis proposition: each expert's opinion (specialist protocol, with tools), in parallel;
3. report summarisation: the attending protocol writes the report from the analyses;
4. collaborative consultation: every expert votes on the report in parallel; objections are recorded as
   evidence and the report is revised (attending again) until all agree or ``max_rounds`` votes were held;
5. decision: the last report, every expert still voting against it recorded as dissent.
Rules mode: an expert agrees when its own leading condition is the report's; the rules attending revising
with the same findings cannot change its report, so the consultation ends after the first vote.
"""

from __future__ import annotations

import time

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from wardround.agents import prompts
from wardround.agents.base import knowledge_for
from wardround.config import ward_config
from wardround.graphs import ward
from wardround.graphs.strategies.common import (
    VOTE_SYSTEM,
    StrategyState,
    VoteAnswer,
    add_dissent,
    case_text,
    consult_member,
    decide,
    discussion_evidence,
    known_citations,
    latest_opinions,
    ledger_of,
    member_send,
    options_of,
    step,
    structured_call,
    with_seconds,
)
from wardround.report import Diagnosis, Opinion

EXPERTS = 3
"""Experts recruited (the paper gathers a handful of domain experts per question)."""

MAX_ROUNDS = 3
"""Votes held before the last report stands, agreed or not (the paper bounds its discussion rounds)."""


def recruit_node(state: StrategyState, config: RunnableConfig) -> dict:
    """Gather ``experts`` specialties with the triage protocol."""
    t0 = time.perf_counter()
    n = int(options_of(config).get("experts", EXPERTS))
    cfg = ward_config(config).model_copy(update={"max_specialists": n})
    update = ward.triage_node(state, {**config, "configurable": {**config.get("configurable", {}), "ward": cfg}})
    update.update({"strategy": "medagents", "round": 1,
                   "steps": [step("recruit", "triage", update["usage"], time.perf_counter() - t0)]})
    return update


def _analyses(state: StrategyState) -> list:
    return [member_send("analysis", state, s, "analyses") for s in state["triage"].specialties]


def report_node(state: StrategyState, config: RunnableConfig) -> dict:
    """Summarise the analyses (and, from the second round on, the objections) into the report."""
    r = state.get("round", 1)
    return decide(state, config, "report" if r == 1 else f"revision{r - 1}", latest_opinions(state))


def _votes(state: StrategyState) -> list:
    r = state.get("round", 1)
    return [member_send("vote", state, op.specialty, f"vote{r}", opinion=op.model_dump(mode="json"),
                        diagnosis=state["diagnosis"].model_dump(mode="json")) for op in latest_opinions(state)]


def _report_text(d: Diagnosis) -> str:
    rows = [f"Leading diagnosis: {d.primary.condition}: {d.primary.name} ({d.primary.probability:.0%})"]
    rows += [f"- {s.text}" for s in d.rationale]
    rows += [f"  {i}. {x.condition}: {x.name} p={x.probability:.2f}" for i, x in enumerate(d.differential, 1)]
    return "\n".join(rows)


def vote_node(state: dict, config: RunnableConfig) -> dict:
    """One expert's vote on the report (a model call; without a model: agree when its leading condition matches)."""
    t0 = time.perf_counter()
    cfg = ward_config(config)
    specialty, label = state["specialty"], state["step"]
    agent = f"vote:{specialty}"
    opinion = Opinion.model_validate(state["opinion"])
    report = Diagnosis.model_validate(state["diagnosis"])
    kb = knowledge_for(cfg)
    name = kb.specialties[specialty].name if specialty in kb.specialties else specialty
    system = VOTE_SYSTEM.format(specialty=specialty, specialty_name=name, schema=prompts.schema_text(VoteAnswer))
    ledger = ledger_of(state)
    user = (case_text(state["case"], ledger) + "\n\nSummary report:\n" + _report_text(report)
            + "\n\nYour analysis:\n" + prompts.format_opinion(opinion))
    answer, usage, issues = structured_call(cfg, "specialist", agent, system, user, VoteAnswer)
    theirs = opinion.primary
    if answer is not None:
        agree, reason = answer.agree, answer.reason
    else:
        agree = theirs is None or theirs.condition == report.primary.condition
        reason = (f"agrees with {report.primary.name}" if agree else
                  f"favours {theirs.name} ({theirs.probability:.0%}) {''.join(f'[{i}]' for i in theirs.supporting[:1])}")
    vote = {"round": state.get("round", 1), "specialty": specialty, "agree": agree, "reason": reason,
            "their_primary": theirs.name if theirs else None,
            "their_probability": theirs.probability if theirs else 0.0, "model": answer is not None}
    dt = time.perf_counter() - t0
    return {"votes": [vote], "issues": issues, "usage": with_seconds(usage, f"{label}:{agent}", dt),
            "steps": [step(label, agent, usage, dt)],
            "transcript": [{"step": label, "agent": agent, "said": ("agree: " if agree else "disagree: ") + reason}]}


def tally_node(state: StrategyState, config: RunnableConfig) -> dict:
    """Count the round's votes: all agree, the round limit, or a rules vote ends it; else record the objections."""
    r = state.get("round", 1)
    votes = [v for v in state.get("votes") or [] if v["round"] == r]
    agree = all(v["agree"] for v in votes)
    limit = int(options_of(config).get("max_rounds", MAX_ROUNDS))
    by_model = any(v.get("model") for v in votes)
    done = agree or r >= limit or not by_model
    update: dict = {"consensus": agree, "done": done}
    if done:
        report = state["diagnosis"]
        update["diagnosis"] = add_dissent(report, latest_opinions(state), votes)
        update["opinions"] = latest_opinions(state)
        return update
    ledger = ledger_of(state)
    for v in votes:
        if v["agree"]:
            continue
        cites = known_citations(v["reason"], ledger) or state["diagnosis"].primary.supporting[:1]
        ev = discussion_evidence(ledger, f"vote:{v['specialty']}", f"Objection of {v['specialty']} to the report "
                                 f"(round {r}): {v['reason']}", cites)
        if ev is not None:
            ledger.entries[ev.id] = ev
            update.setdefault("ledger", {})[ev.id] = ev
    update["round"] = r + 1
    return update


def _after_tally(state: StrategyState) -> str:
    return END if state.get("done", True) else "report"


def _after_report(state: StrategyState) -> list:
    return _votes(state)


def build() -> object:
    """Compile the MedAgents graph."""
    g = StateGraph(StrategyState)
    g.add_node("intake", ward.intake_node)
    g.add_node("recruit", recruit_node)
    g.add_node("analysis", consult_member)
    g.add_node("report", report_node)
    g.add_node("vote", vote_node)
    g.add_node("tally", tally_node)
    g.add_edge(START, "intake")
    g.add_edge("intake", "recruit")
    g.add_conditional_edges("recruit", _analyses, ["analysis"])
    g.add_edge("analysis", "report")
    g.add_conditional_edges("report", _after_report, ["vote"])
    g.add_edge("vote", "tally")
    g.add_conditional_edges("tally", _after_tally, ["report", END])
    return g.compile(name="medagents")
