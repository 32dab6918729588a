"""Collaboration strategies as graphs over the same agents, ledger and verifier; one ``WardResult`` for all.

``STRATEGIES`` names each strategy with its paper and its graph builder; ``run_strategy(case, name, model)``
runs one case and returns the verified ``WardResult``, its usage carrying the strategy's name, the calls per
case and the critical path of model calls (members of one step run concurrently, through ``Send``).

Strategies live under ``graphs`` (the layer of LangGraph graphs): they import agents and reasoning, never the
public API.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from wardround.case import Case
from wardround.config import WardConfig
from wardround.errors import ConfigError
from wardround.evidence import Ledger
from wardround.graphs.strategies import mdagents, medagents, single, ward
from wardround.graphs.strategies.common import critical_path
from wardround.report import Usage, WardResult


@dataclass(frozen=True)
class Strategy:
    """A named collaboration strategy: its graph builder, its paper, and one line on its shape."""

    name: str
    build: Callable[[], Any]
    reference: str
    shape: str


STRATEGIES: dict[str, Strategy] = {
    "single": Strategy("single", single.build, "single-agent baseline of arXiv:2404.15155 and arXiv:2311.10537",
                       "intake -> one agent with the tools -> verified report"),
    "ward": Strategy("ward", ward.build, "wardround's ward round (docs/architecture.md)",
                     "intake -> triage -> specialists in parallel -> attending"),
    "mdagents": Strategy("mdagents", mdagents.build, "Kim et al., NeurIPS 2024, arXiv:2404.15155",
                         "complexity -> solo | moderated team rounds | teams in turn -> final decision"),
    "medagents": Strategy("medagents", medagents.build,
                          "Tang et al., Findings of ACL 2024 (2024.findings-acl.33), arXiv:2311.10537",
                          "recruit experts -> analyses -> report -> votes and revisions -> decision"),
}


def strategy_names(value: str | list[str]) -> list[str]:
    """``"ward,medagents"`` or a list -> checked strategy names (a ``ConfigError`` naming the known ones)."""
    names = [n.strip() for n in (value.split(",") if isinstance(value, str) else value) if n and n.strip()]
    unknown = [n for n in names if n not in STRATEGIES]
    if unknown or not names:
        raise ConfigError(f"strategy: unknown strategy {unknown[0] if unknown else value!r}; use one of "
                          f"{', '.join(STRATEGIES)} (comma-separated for several)")
    return names


@cache
def build_strategy(name: str) -> Any:
    """The compiled graph of strategy ``name`` (built once per process)."""
    return STRATEGIES[strategy_names(name)[0]].build()


def result_of(state: dict[str, Any], name: str) -> WardResult:
    """The ``WardResult`` of a strategy's final state, re-verified, with the strategy's accounting in ``usage``.

    Mirrors ``wardround.api.result_from_state`` (the graphs layer sits below the API and cannot import it).
    """
    path = critical_path(state.get("steps") or [])
    usage = state.get("usage") or Usage()
    extra = {"strategy": name, "critical_path_calls": path["critical_path_calls"],
             "critical_path_seconds": path["critical_path_seconds"], "steps": len(path["steps"])}
    if state.get("complexity"):
        extra["complexity"] = state["complexity"]
    if state.get("round"):
        extra["rounds"] = int(state["round"])
    usage = Usage.model_validate({**usage.model_dump(), **extra})
    result = WardResult(case=state["case"], triage=state.get("triage"),
                        opinions=sorted(state.get("opinions") or [], key=lambda o: o.specialty),
                        diagnosis=state.get("diagnosis"), ledger=Ledger(entries=dict(state.get("ledger") or {})),
                        issues=list(state.get("issues") or []), usage=usage)
    result.verified = bool(result.diagnosis and result.diagnosis.verification.verified and result.verify().ok)
    return result


def run_strategy(case: Case, name: str, model: Any = None, *, options: dict[str, Any] | None = None,
                 return_state: bool = False, **ward_options: Any) -> WardResult | tuple[WardResult, dict]:
    """Run ``case`` through strategy ``name`` and return its verified, cited ``WardResult``.

    Args:
        case: a ``Case`` (``wardround.api.as_case`` reads files and text).
        name: a key of ``STRATEGIES``.
        model: ``"rules"`` (default) or any chat-model spec, for every role.
        options: the strategy's own settings: ``max_rounds``, ``experts`` (medagents), ``teams`` and
            ``complexity`` (mdagents: force ``basic``/``intermediate``/``advanced``).
        return_state: also return the final graph state (the transcript of who said what, the steps).
        **ward_options: ``WardConfig`` fields (``knowledge``, ``max_specialists``, ...).
    """
    graph = build_strategy(name)
    cfg = WardConfig(model=model if model is not None else "rules", **ward_options)
    configurable = {"ward": cfg, "thread_id": uuid.uuid4().hex, "strategy_options": dict(options or {})}
    state = graph.invoke({"case": case, "strategy": name}, {"configurable": configurable, "recursion_limit": 100})
    result = result_of(state, name)
    return (result, state) if return_state else result


__all__ = ["STRATEGIES", "Strategy", "build_strategy", "run_strategy", "strategy_names"]
