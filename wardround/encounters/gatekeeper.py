"""Gatekeepers: they answer the doctor's actions only from the hidden case, and only what was asked.

A gatekeeper never invents: what the case does not say is answered with the case's stated normal (DDXPlus rows
list every evidence that is present, so an evidence missing from the row is a stated "no") or "not available".
Each answer carries the case codes it reveals, and only codes of the evidence that was asked.

Answers are recorded as ``tool`` evidence (``tool="encounter:<source>"``, ``inputs`` = the case key, the turn and
the question); the ``encounter`` verifier re-asks the hidden case and checks that the recorded answer is what the
case says. The hidden case must be loaded in the process that verifies (a gatekeeper registers it on creation).
"""

from __future__ import annotations

import hashlib
import json
from typing import Protocol

from wardround.encounters.models import Action, Answer
from wardround.evals.ddxplus.items import DDXPlusItem
from wardround.evals.ddxplus.release import DDXPlusRelease
from wardround.evidence import Evidence, register_verifier

_REGISTRY: dict[str, Gatekeeper] = {}


class Gatekeeper(Protocol):
    """What an encounter needs from the keeper of the hidden case."""

    case_key: str
    source: str

    def opening(self) -> tuple[Action, Answer]:
        """What the patient presents with (turn 0)."""
        ...

    def answer(self, action: Action) -> Answer:
        """The answer to one action, from the hidden case only."""
        ...

    def question_text(self, action: Action) -> str:
        """The action as a readable question."""
        ...


def case_key_of(payload: object) -> str:
    """A short deterministic key of a hidden case (sha256 of its canonical JSON, 16 hex digits)."""
    text = json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def register_case(gatekeeper: Gatekeeper) -> None:
    """Make a hidden case available to the ``encounter`` verifier in this process."""
    _REGISTRY[gatekeeper.case_key] = gatekeeper


def answer_value(answer: Answer) -> str:
    """The checkable value of an answer recorded on its evidence: its codes, or its status when it has none."""
    return " ".join(answer.codes) if answer.codes else answer.status


def verify_answer(ev: Evidence) -> str | None:
    """``encounter`` verifier: the recorded answer is what the hidden case answers to the recorded question."""
    inputs = ev.inputs or {}
    key = inputs.get("case_key")
    keeper = _REGISTRY.get(str(key))
    if keeper is None:
        return (f"hidden case {key!r} is not loaded in this process; create its gatekeeper (e.g. "
                "DDXPlusGatekeeper(item, release)) before verifying")
    action = Action.model_validate(inputs.get("action") or {})
    again = keeper.opening()[1] if action.kind == "ask" and inputs.get("turn") == 0 else keeper.answer(action)
    if answer_value(again) != ev.value:
        return f"the hidden case answers {answer_value(again)!r} to {action.target!r}, not the recorded {ev.value!r}"
    return None


register_verifier("encounter", verify_answer)


class DDXPlusGatekeeper:
    """Answers DDXPlus questions (one evidence per question) from one patient row.

    - binary evidence: "yes" when the row lists it, else the stated "no";
    - categorical / ordinal: the row's value, else the evidence's default value (absent);
    - multi-choice: every value the row lists for it, else the default value (absent).
    Examinations and tests are not part of DDXPlus: they are answered "not available".
    """

    source = "ddxplus"

    def __init__(self, item: DDXPlusItem, release: DDXPlusRelease) -> None:
        self.item = item
        self.release = release
        self.case_key = case_key_of({"source": "ddxplus", **item.model_dump()})
        self._codes: dict[str, list[str]] = {}
        for code in item.evidences:
            p = release.parse_code(code)
            self._codes.setdefault(p.evidence, []).append(p.code)
        register_case(self)

    def question_text(self, action: Action) -> str:
        """The release file's English question for an evidence (the action itself for other kinds)."""
        if action.kind == "ask" and action.target in self.release.evidences:
            ev = self.release.evidences[action.target]
            return ev.question_en or ev.question_fr or action.target
        return f"{action.kind.replace('_', ' ')}: {action.target}".strip()

    def opening(self) -> tuple[Action, Answer]:
        """The patient's initial evidence, answered like a question about it."""
        first = self.item.initial_evidence
        if first is None:
            return Action(kind="ask", target="", rationale="opening"), Answer(
                text="The patient gives no presenting complaint.", status="not_available")
        name = self.release.evidence_of(first)
        action = Action(kind="ask", target=name, rationale="presenting complaint (the row's initial evidence)")
        return action, self._answer_evidence(name)

    def answer(self, action: Action) -> Answer:
        """Answer one action from the row; nothing but the asked evidence is revealed."""
        if action.kind != "ask":
            return Answer(text=f"{action.kind.replace('_', ' ')} is not available in this case (DDXPlus records "
                               "history questions only).", status="not_available", target=action.target)
        if action.target not in self.release.evidences:
            return Answer(text=f"{action.target!r} is not a question of this case; not available.",
                          status="not_available", target=action.target)
        return self._answer_evidence(action.target)

    def _answer_evidence(self, name: str) -> Answer:
        ev = self.release.evidences[name]
        codes = self._codes.get(name, [])
        values = [self.release.parse_code(c).value for c in codes]
        shown = [c for c, v in zip(codes, values, strict=True) if v is None or not ev.is_default(v)]
        if not shown:
            if ev.data_type == "B":
                return Answer(text="No.", status="absent", target=name, present=False)
            default = ev.default_value
            meaning = ev.meaning(str(default)) if default is not None else "none"
            return Answer(text=f"No ({meaning}).", status="absent", target=name, present=False,
                          codes=[c for c in codes])
        if ev.data_type == "B":
            return Answer(text="Yes.", status="present", target=name, present=True, codes=shown)
        parts = []
        for code in shown:
            value = self.release.parse_code(code).value or ""
            parts.append(f"{value} (scale 0-{int(ev.scale_max)})" if ev.ordinal else ev.meaning(value))
        return Answer(text=", ".join(parts) + ".", status="present", target=name, present=True, codes=shown)
