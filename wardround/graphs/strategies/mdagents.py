"""``mdagents``: route by complexity to one agent, a moderated team, or teams in turn (MDAgents).

Kim et al., "MDAgents: An Adaptive Collaboration of LLMs for Medical Decision-Making", NeurIPS 2024,
arXiv:2404.15155. intake -> complexity ->
- basic: the single agent (``single.solo_node``);
- intermediate: recruit (triage) -> members in parallel -> moderator (consensus? feedback) -> another round
  while they disagree, at most ``max_rounds`` -> final decision (attending);
- advanced: recruit -> teams in turn, each its members in parallel then its lead's report (attending), each
  team seeing the reports before it -> final decision over every member's opinion.
Rules mode: the complexity is read from how many specialties the rules triage would consult (1 basic, 2-3
intermediate, 4+ advanced); the moderator checks agreement without a model and ends the discussion, since the
same reasoner asked again says the same thing.
"""

from __future__ import annotations

import time

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from wardround.agents import prompts
from wardround.agents.base import allowed_specialties, knowledge_for
from wardround.agents.rules import RulesTriage
from wardround.config import ward_config
from wardround.graphs import ward
from wardround.graphs.strategies.common import (
    COMPLEXITY_SYSTEM,
    MODERATOR_SYSTEM,
    ComplexityAnswer,
    ModeratorAnswer,
    StrategyState,
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
from wardround.graphs.strategies.single import solo_node

MAX_ROUNDS = 3
"""Discussion rounds of the team before the final decision (MDAgents' default number of rounds)."""


def rules_complexity(state: dict, config: RunnableConfig) -> str:
    """basic / intermediate / advanced from how many specialties the rules triage would consult."""
    cfg = ward_config(config)
    kb = knowledge_for(cfg)
    wide = cfg.model_copy(update={"max_specialists": min(12, len(allowed_specialties(kb, cfg)))})
    decision, _ = RulesTriage(kb).triage(state["case"], ledger_of(state), wide)
    n = len(decision.specialties)
    return "basic" if n <= 1 else "intermediate" if n <= 3 else "advanced"


def complexity_node(state: StrategyState, config: RunnableConfig) -> dict:
    """The moderator's complexity check (one model call; the rules reading without a model or on failure)."""
    t0 = time.perf_counter()
    cfg = ward_config(config)
    ledger = ledger_of(state)
    system = COMPLEXITY_SYSTEM.format(schema=prompts.schema_text(ComplexityAnswer))
    answer, usage, issues = structured_call(cfg, "triage", "complexity", system, case_text(state["case"], ledger),
                                            ComplexityAnswer)
    forced = options_of(config).get("complexity")
    level = forced or (answer.complexity if answer is not None else rules_complexity(state, config))
    said = answer.rationale if answer is not None else f"rules: {level}"
    dt = time.perf_counter() - t0
    return {"complexity": level, "strategy": "mdagents", "issues": issues, "round": 1,
            "usage": with_seconds(usage, "complexity", dt), "steps": [step("complexity", "complexity", usage, dt)],
            "transcript": [{"step": "complexity", "agent": "complexity", "said": said}]}


def _route_complexity(state: StrategyState) -> str:
    return {"basic": "solo", "intermediate": "recruit", "advanced": "recruit_teams"}[state["complexity"]]


def recruit_node(state: StrategyState, config: RunnableConfig) -> dict:
    """Recruit the team (the triage protocol)."""
    t0 = time.perf_counter()
    update = ward.triage_node(state, config)
    update["steps"] = [step("recruit", "triage", update["usage"], time.perf_counter() - t0)]
    return update


def recruit_teams_node(state: StrategyState, config: RunnableConfig) -> dict:
    """Recruit for teams in turn: the triage's specialties dealt round-robin into ``teams`` teams (default 2)."""
    update = recruit_node(state, config)
    specialties = update["triage"].specialties
    n = max(1, min(int(options_of(config).get("teams", 2)), len(specialties)))
    update["teams"] = [specialties[i::n] for i in range(n)]
    update["team"] = 0
    return update


def _members(state: StrategyState) -> list:
    r = state.get("round", 1)
    return [member_send("member", state, s, f"round{r}") for s in state["triage"].specialties]


def moderator_node(state: StrategyState, config: RunnableConfig) -> dict:
    """Review the round: consensus ends it; otherwise the moderator's feedback is recorded for the next round."""
    t0 = time.perf_counter()
    cfg = ward_config(config)
    r = state.get("round", 1)
    opinions = latest_opinions(state)
    agree = len({op.primary.condition for op in opinions if op.primary}) <= 1
    limit = int(options_of(config).get("max_rounds", MAX_ROUNDS))
    ledger = ledger_of(state)
    user = case_text(state["case"], ledger) + f"\n\nOpinions of round {r}:\n" + "\n\n".join(
        prompts.format_opinion(op) for op in opinions)
    system = MODERATOR_SYSTEM.format(schema=prompts.schema_text(ModeratorAnswer))
    answer, usage, issues = structured_call(cfg, "attending", "moderator", system, user, ModeratorAnswer)
    update: dict = {"issues": issues}
    if answer is not None:
        agree = answer.consensus
    # a rules team asked again says the same thing: without a model the discussion ends after one round
    more = not agree and answer is not None and r < limit
    said = answer.feedback if answer is not None else ("the team agrees" if agree else "the team disagrees")
    if more:
        cites = known_citations(answer.feedback, ledger) or [i for op in opinions if op.primary
                                                             for i in op.primary.supporting[:1]]
        ev = discussion_evidence(ledger, "moderator", f"Moderator after round {r}: {answer.feedback}", cites)
        if ev is not None:
            update["ledger"] = {ev.id: ev}
        update["round"] = r + 1
    dt = time.perf_counter() - t0
    update.update({"consensus": agree, "done": not more, "usage": with_seconds(usage, f"round{r}:moderator", dt),
                   "steps": [step(f"round{r}-moderator", "moderator", usage, dt)],
                   "transcript": [{"step": f"round{r}-moderator", "agent": "moderator", "said": said}]})
    return update


def _after_moderator(state: StrategyState) -> list | str:
    if state.get("done", True):
        return "final"
    return _members(state)


def team_members(state: StrategyState) -> list:
    """Fan out the current team's members."""
    t = state.get("team", 0)
    return [member_send("member_team", state, s, f"team{t + 1}") for s in state["teams"][t]]


def team_lead_node(state: StrategyState, config: RunnableConfig) -> dict:
    """The team's lead writes its report (attending protocol); the report is recorded for the next team."""
    t = state.get("team", 0)
    mine = set(state["teams"][t])
    opinions = [op for op in latest_opinions(state) if op.specialty in mine]
    label = f"team{t + 1}-lead"
    if not opinions:
        return {"team": t + 1, "issues": [f"{label}: no member of the team gave an opinion"]}
    update = decide(state, config, label, opinions)
    d = update["diagnosis"]
    ledger = ledger_of(state)
    ledger.entries.update(update["ledger"])
    ev = discussion_evidence(ledger, f"team{t + 1}", f"Team {t + 1} report: leading diagnosis {d.primary.name} "
                             f"({d.primary.probability:.0%}).", d.primary.supporting[:3])
    if ev is not None:
        update["ledger"] = {**update["ledger"], ev.id: ev}
    update["team"] = t + 1
    return update


def _after_team(state: StrategyState) -> list | str:
    return team_members(state) if state.get("team", 0) < len(state["teams"]) else "final"


def team_member_node(state: dict, config: RunnableConfig) -> dict:
    """One member of a team; every team consults in round 1 of its own (opinions are told apart by specialty)."""
    return consult_member(state, config)


def final_node(state: StrategyState, config: RunnableConfig) -> dict:
    """The final decision over the latest opinion of every member; remaining disagreement is recorded."""
    opinions = latest_opinions(state)
    update = decide(state, config, "final", opinions)
    update["diagnosis"] = add_dissent(update["diagnosis"], opinions, [])
    update["opinions"] = opinions
    return update


def build() -> object:
    """Compile the MDAgents graph."""
    g = StateGraph(StrategyState)
    g.add_node("intake", ward.intake_node)
    g.add_node("complexity", complexity_node)
    g.add_node("solo", solo_node)
    g.add_node("recruit", recruit_node)
    g.add_node("member", consult_member)
    g.add_node("moderator", moderator_node)
    g.add_node("recruit_teams", recruit_teams_node)
    g.add_node("member_team", team_member_node)
    g.add_node("team_lead", team_lead_node)
    g.add_node("final", final_node)
    g.add_edge(START, "intake")
    g.add_edge("intake", "complexity")
    g.add_conditional_edges("complexity", _route_complexity, ["solo", "recruit", "recruit_teams"])
    g.add_edge("solo", END)
    g.add_conditional_edges("recruit", _members, ["member"])
    g.add_edge("member", "moderator")
    g.add_conditional_edges("moderator", _after_moderator, ["member", "final"])
    g.add_conditional_edges("recruit_teams", team_members, ["member_team"])
    g.add_edge("member_team", "team_lead")
    g.add_conditional_edges("team_lead", _after_team, ["member_team", "final"])
    g.add_edge("final", END)
    return g.compile(name="mdagents")
