"""The agent protocols: one per role. Rules and LLM implementations both satisfy them, so the graph never changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from wardround.case import Case
from wardround.config import WardConfig
from wardround.evidence import Evidence, Ledger
from wardround.report import Diagnosis, Opinion, TriageDecision, Usage


@dataclass
class AgentOutput:
    """What any agent call returns besides its main object: new evidence, issues, usage."""

    evidence: list[Evidence] = field(default_factory=list)
    issues: list[str] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)


@runtime_checkable
class TriageAgent(Protocol):
    """Chooses the specialists to consult."""

    def triage(self, case: Case, ledger: Ledger, config: WardConfig) -> tuple[TriageDecision, AgentOutput]:
        """Return the triage decision for ``case``."""
        ...


@runtime_checkable
class SpecialistAgent(Protocol):
    """Gives one specialty's opinion; may call tools and add evidence under its own id prefix."""

    def consult(self, specialty: str, case: Case, ledger: Ledger,
                config: WardConfig) -> tuple[Opinion, AgentOutput]:
        """Return the specialist's opinion on ``case``."""
        ...


@runtime_checkable
class AttendingAgent(Protocol):
    """Aggregates the opinions into the cited final diagnosis."""

    def decide(self, case: Case, ledger: Ledger, opinions: list[Opinion],
               config: WardConfig) -> tuple[Diagnosis, AgentOutput]:
        """Return the final diagnosis (citations verified)."""
        ...
