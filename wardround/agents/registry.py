"""Pick the implementation of each role from the configured model spec."""

from __future__ import annotations

from dataclasses import dataclass

from wardround.agents.base import AttendingAgent, SpecialistAgent, TriageAgent, knowledge_for
from wardround.config import WardConfig


@dataclass
class Agents:
    """The three role implementations of one ward round."""

    triage: TriageAgent
    specialist: SpecialistAgent
    attending: AttendingAgent


def agents_for(config: WardConfig) -> Agents:
    """Rules agents for the ``"rules"`` spec; any other spec gets the LLM agent of that role.

    Model specs (``wardround.llm``): ``"provider:model"``, ``"hf:<folder>"``, a ``ModelSpec``, a dict of its
    fields, or a LangChain chat model. Each LLM agent keeps the rules agent of its role as its fallback.
    """
    from wardround.agents import rules

    kb = knowledge_for(config)
    rules_impl = {"triage": rules.RulesTriage, "specialist": rules.RulesSpecialist, "attending": rules.RulesAttending}
    impl = {}
    for role in ("triage", "specialist", "attending"):
        spec = config.model_for(role)
        if spec in (None, "rules"):
            impl[role] = rules_impl[role](kb)
        else:
            from wardround.agents import llm_agents
            from wardround.llm import get_client

            client = get_client(spec)
            if client is None:  # a spelling of "rules" (e.g. "RULES", ModelSpec(spec="rules"))
                impl[role] = rules_impl[role](kb)
                continue
            llm_impl = {"triage": llm_agents.LLMTriage, "specialist": llm_agents.LLMSpecialist,
                        "attending": llm_agents.LLMAttending}[role]
            impl[role] = llm_impl(client, kb, rules_impl[role](kb))
    return Agents(**impl)
