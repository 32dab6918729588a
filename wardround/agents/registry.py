"""Pick the implementation of each role from the configured model spec."""

from __future__ import annotations

from dataclasses import dataclass

from wardround.agents.base import AttendingAgent, SpecialistAgent, TriageAgent
from wardround.config import WardConfig
from wardround.errors import ConfigError


@dataclass
class Agents:
    """The three role implementations of one ward round."""

    triage: TriageAgent
    specialist: SpecialistAgent
    attending: AttendingAgent


def agents_for(config: WardConfig) -> Agents:
    """Rules agents for the ``"rules"`` spec; other specs need the LLM backend."""
    from wardround.agents import rules
    from wardround.knowledge import load_knowledge

    kb = load_knowledge(config.knowledge)
    impl = {}
    for role in ("triage", "specialist", "attending"):
        spec = config.model_for(role)
        if spec in (None, "rules"):
            impl[role] = {"triage": rules.RulesTriage, "specialist": rules.RulesSpecialist,
                          "attending": rules.RulesAttending}[role](kb)
        else:
            raise ConfigError(f"model: {spec!r} is not available yet; use model='rules' (the embedded reasoner)")
    return Agents(**impl)
