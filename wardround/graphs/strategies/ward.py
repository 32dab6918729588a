"""``ward``: today's ward round (intake -> triage -> specialists in parallel -> attending), with step accounting.

The same node functions as ``wardround.graphs.ward.build_graph`` (no human review step), each wrapped to record
its model calls, so the critical path is measured the same way as for the other strategies.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from wardround.graphs import ward
from wardround.graphs.strategies.common import StrategyState, step
from wardround.report import Usage


def _recorded(label: str, node: Callable[[dict, RunnableConfig], dict]) -> Callable[[dict, RunnableConfig], dict]:
    def run(state: dict, config: RunnableConfig) -> dict:
        t0 = time.perf_counter()
        update = node(state, config)
        usage = update.get("usage") or Usage()
        agent = f"specialist:{state['specialty']}" if label == "specialists" else label
        update["steps"] = [step(label, agent, usage, time.perf_counter() - t0)]
        said = ([op.summary for op in update.get("opinions") or []]
                or [s.text for s in getattr(update.get("diagnosis"), "rationale", [])[:2]])
        if said:
            update["transcript"] = [{"step": label, "agent": agent, "said": " ".join(said)}]
        return update

    run.__doc__ = node.__doc__
    return run


def build() -> object:
    """Compile the ward round as a strategy graph."""
    g = StateGraph(StrategyState)
    g.add_node("intake", ward.intake_node)
    g.add_node("triage", _recorded("triage", ward.triage_node))
    g.add_node("specialist", _recorded("specialists", ward.specialist_node))
    g.add_node("attending", _recorded("attending", ward.attending_node))
    g.add_edge(START, "intake")
    g.add_edge("intake", "triage")
    g.add_conditional_edges("triage", ward.route_specialists, ["specialist"])
    g.add_edge("specialist", "attending")
    g.add_edge("attending", END)
    return g.compile(name="ward")
