"""The agent protocols: one per role. Rules and LLM implementations both satisfy them, so the graph never changes."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from wardround.case import Case
from wardround.config import WardConfig
from wardround.errors import CaseError
from wardround.evidence import Evidence, Ledger
from wardround.knowledge import KnowledgeBase, load_knowledge
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


def safe_component(name: str) -> str:
    """``name`` as one harmless path component: ``[A-Za-z0-9_-]`` and inner dots only, never ``.``/``..``."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", str(name)).strip("._")[:80]
    return cleaned or "case"


def artifact_dir(config: WardConfig, case_id: str, specialty: str) -> Path:
    """The folder of one specialist's artifacts in this run: ``RUN_DIR/<case id>-<run id>/<specialty>/``.

    The run id is a short hash of the checkpoint thread id (each run gets its own thread), so two runs of a
    case never overwrite each other's masks; outside a graph run a fresh random id is used. Case id and
    specialty are sanitised to one path component each, so neither can leave ``RUN_DIR``.
    """
    import hashlib
    import uuid

    thread_id: str | None = None
    try:
        from langgraph.config import get_config

        thread_id = (get_config().get("configurable") or {}).get("thread_id")
    except (RuntimeError, ImportError):  # not inside a graph run
        thread_id = None
    token = (hashlib.sha256(str(thread_id).encode("utf-8")).hexdigest() if thread_id else uuid.uuid4().hex)[:8]
    root = Path(config.run_dir or os.environ.get("WARDROUND_RUN_DIR", "runs"))
    return root / f"{safe_component(case_id)}-{token}" / safe_component(specialty)


def specialty_of(kb, name: str):
    """The knowledge base's specialty ``name``; a ``CaseError`` naming the known ones when there is none.

    One check for every specialist, rules or chat model, so both refuse the same names the same way.
    """
    spec = kb.specialties.get(name) if isinstance(name, str) else None
    if spec is None:
        raise CaseError("specialty", f"unknown specialty {name!r}", f"use one of: {', '.join(kb.specialties)}")
    return spec


def knowledge_for(config: WardConfig) -> KnowledgeBase:
    """The knowledge base a round uses: ``config.knowledge`` (default: the shipped one) with ``knowledge_extra``."""
    return load_knowledge(config.knowledge, config.knowledge_extra)


def allowed_specialties(kb, config: WardConfig) -> list[str]:
    """The specialties triage may consult (``config.specialties``, default all); a ``CaseError`` for an unknown one."""
    allowed = list(config.specialties or kb.specialties)
    unknown = [s for s in allowed if s not in kb.specialties]
    if unknown:
        raise CaseError("specialties", f"unknown specialty {unknown[0]!r}", f"use one of: {', '.join(kb.specialties)}")
    return allowed
