"""``single``: one agent with the tools answers alone, the baseline every multi-agent paper reports.

intake -> solo -> END. The agent is the specialist protocol (its tool loop: calculators, note quotes,
segmentation) for the specialty the rules triage scores rank first (no model call to choose it); its opinion
is the report, annotated and verified by the same checks as an attending's diagnosis, without a second call.
Reference: the single-agent baselines of MDAgents (Kim et al., NeurIPS 2024, arXiv:2404.15155) and MedAgents
(Tang et al., Findings of ACL 2024, ACL Anthology 2024.findings-acl.33, arXiv:2311.10537).
"""

from __future__ import annotations

import time

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from wardround.agents.base import knowledge_for
from wardround.agents.registry import agents_for
from wardround.agents.rules import RulesTriage
from wardround.config import ward_config
from wardround.evidence import Ledger
from wardround.graphs.strategies.common import (
    StrategyState,
    diagnosis_from_opinion,
    ledger_of,
    step,
    with_seconds,
)
from wardround.graphs.ward import intake_node


def solo_node(state: StrategyState, config: RunnableConfig, label: str = "solo") -> dict:
    """One agent's opinion on the whole case, made the report (annotated, coverage judged, citations verified)."""
    t0 = time.perf_counter()
    cfg = ward_config(config)
    ledger = ledger_of(state)
    decision, _ = RulesTriage(knowledge_for(cfg)).triage(state["case"], ledger, cfg)
    specialty = decision.specialties[0]
    agent = f"specialist:{specialty}"
    opinion, out = agents_for(cfg).specialist.consult(specialty, state["case"], ledger, cfg)
    work = Ledger(entries={**ledger.entries, **{e.id: e for e in out.evidence}})
    diagnosis, issues = diagnosis_from_opinion(state["case"], work, opinion, cfg)
    dt = time.perf_counter() - t0
    return {"opinions": [opinion], "diagnosis": diagnosis, "ledger": {e.id: e for e in out.evidence},
            "issues": [*out.issues, *issues], "usage": with_seconds(out.usage, f"{label}:{agent}", dt),
            "steps": [step(label, agent, out.usage, dt)],
            "transcript": [{"step": label, "agent": agent, "said": opinion.summary}]}


def build() -> object:
    """Compile the single-agent graph."""
    g = StateGraph(StrategyState)
    g.add_node("intake", intake_node)
    g.add_node("solo", solo_node)
    g.add_edge(START, "intake")
    g.add_edge("intake", "solo")
    g.add_edge("solo", END)
    return g.compile(name="single")
