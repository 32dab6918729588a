"""Agents of the ward round: triage, specialists and attending, each behind one protocol."""

from wardround.agents.base import AgentOutput, AttendingAgent, SpecialistAgent, TriageAgent
from wardround.agents.registry import agents_for

__all__ = ["AgentOutput", "AttendingAgent", "SpecialistAgent", "TriageAgent", "agents_for"]
