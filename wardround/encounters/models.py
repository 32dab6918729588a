"""Encounter models: the doctor's actions, the gatekeeper's answers, per-turn records and the run's settings.

An encounter is a sequence of turns. Turn 0 is the opening (what the patient presents with); each later turn is
one action of the doctor (``ask``, ``examine``, ``order_test``) answered by the gatekeeper from the hidden case.
``diagnose`` ends the encounter. Every answer is recorded as evidence in the ledger with the turn that produced it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ActionKind = Literal["ask", "examine", "order_test", "diagnose"]
QUESTION_KINDS: tuple[str, ...] = ("ask", "examine")
"""Actions billed as a question round (a physician visit), as SDBench bills questions."""


class Action(BaseModel):
    """One action of the doctor: what it does and what it asks about (an evidence name, an exam, a test)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: ActionKind
    target: str = Field("", description="evidence name (DDXPlus E_xx), exam or test name; empty for diagnose")
    rationale: str = Field("", description="why the doctor chose it (e.g. expected information gain)")
    score: float | None = Field(None, description="the doctor's value of the action (e.g. EIG in nats)")
    differential: list[str] = Field(default_factory=list, description="diagnose: the ranked differential")
    cited: list[str] = Field(default_factory=list, description="diagnose: evidence ids the diagnosis rests on")


class Answer(BaseModel):
    """The gatekeeper's answer to one action: only what was asked, taken from the hidden case."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(description="readable answer")
    status: Literal["present", "absent", "normal", "not_available", "opening"] = "present"
    codes: list[str] = Field(default_factory=list, description="case codes revealed by this answer (only those)")
    target: str = ""
    present: bool | None = None


class TurnRecord(BaseModel):
    """One turn of an encounter as it is stored, reported and replayed."""

    model_config = ConfigDict(extra="forbid")

    turn: int = Field(ge=0, description="0 = opening; 1.. = the doctor's actions")
    action: Action
    question: str = ""
    answer: Answer
    evidence_id: str | None = None
    cost_usd: float = 0.0
    cumulative_cost_usd: float = 0.0
    top: list[tuple[str, float]] = Field(default_factory=list, description="leading hypotheses after the turn")


class EncounterConfig(BaseModel):
    """Budgets of an encounter. The turn budget counts the doctor's actions after the opening."""

    model_config = ConfigDict(extra="forbid")

    max_turns: int = Field(30, ge=0, le=1000, description="most actions before the doctor must diagnose")
    budget_usd: float | None = Field(None, ge=0, description="money budget; None = unlimited")


class EncounterResult(BaseModel):
    """A finished (or stopped) encounter: its transcript, costs, final diagnosis and stop reason."""

    model_config = ConfigDict(extra="forbid")

    case_key: str
    turns: list[TurnRecord]
    questions: int = Field(description="actions taken after the opening (the interaction length)")
    cost_usd: float
    stop_reason: str
    diagnosis: Any = None
    ranked: list[tuple[str, float]] = Field(default_factory=list)
    differential: list[tuple[str, float]] = Field(default_factory=list)
    ledger: dict[str, Any] = Field(default_factory=dict)
    verified: bool = False
    verification_message: str = ""
    usage: dict[str, Any] = Field(default_factory=dict, description="doctor's model usage in this process "
                                                                   "(tokens, cost, calls)")
