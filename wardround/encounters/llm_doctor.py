"""An LLM doctor: any LangChain chat model (a wardround model spec) chooses each action by a tool call.

Each turn the model reads the transcript so far (questions, answers and their evidence ids) and calls exactly one
of the tools ``ask``, ``examine``, ``order_test`` or ``diagnose``. ``diagnose`` names the primary diagnosis, a
ranked differential and the evidence ids it rests on; those citations are verified like any other (an id that
does not exist is removed and flagged). A reply without a usable tool call is sent back once with the error; if
it still fails, the doctor diagnoses with what it has (the encounter never crashes on a model's output). Tokens
and cost are counted on ``meter``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from wardround.encounters.models import Action

log = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "You are a physician interviewing a patient one step at a time. Each turn call exactly one tool: ask (a "
    "history question; for DDXPlus patients the target is the evidence code, e.g. E_91), examine (a part of the "
    "examination or 'vital signs'), order_test (a test by name) or diagnose (when you are sure enough or the "
    "budget is nearly spent). Every answer has an evidence id such as [EN3]; cite the ids your diagnosis rests on. "
    "Answers come only from the patient's record; 'not available' means the record does not say.")


class Ask(BaseModel):
    """Ask the patient one history question."""

    target: str = Field(description="the question topic or DDXPlus evidence code (E_xx)")


class Examine(BaseModel):
    """Examine one part of the patient (or 'vital signs')."""

    target: str


class OrderTest(BaseModel):
    """Order one test by name (it is billed from the price table)."""

    name: str


class Diagnose(BaseModel):
    """End the encounter with a diagnosis."""

    diagnosis: str
    differential: list[str] = Field(default_factory=list, description="other diagnoses, most likely first")
    cited: list[str] = Field(default_factory=list, description="evidence ids, e.g. EN2")
    confidence: float = Field(0.5, ge=0, le=1)


TOOLS = {"ask": Ask, "examine": Examine, "order_test": OrderTest, "diagnose": Diagnose}


def transcript_text(transcript: list[dict[str, Any]], turn: int, max_turns: int | None) -> str:
    """The transcript as the model reads it."""
    lines = []
    for rec in transcript:
        lines.append(f"Turn {rec['turn']} [{rec.get('evidence_id')}]: {rec.get('question')} -> "
                     f"{(rec.get('answer') or {}).get('text')}")
    budget = f" of {max_turns}" if max_turns is not None else ""
    lines.append(f"You have used {turn}{budget} turns. Call one tool.")
    return "\n".join(lines)


class LLMDoctor:
    """A chat-model doctor acting through tool calls.

    Args:
        model: a model spec (``openai:gpt-4o-mini``, a ``ModelSpec``) or a LangChain chat model.
        max_turns: the turn budget, told to the model (the environment enforces it anyway).
    """

    name = "llm"
    wants_transcript = True

    def __init__(self, model: Any, max_turns: int | None = None) -> None:
        from wardround.llm import Meter, get_client

        self.client = get_client(model)
        if self.client is None:
            raise ValueError("LLMDoctor needs a chat model, not 'rules'; use RulesDDXPlusDoctor for the rules doctor")
        self.name = f"llm:{self.client.label}"
        self.meter = Meter()
        self.max_turns = max_turns

    def next_action(self, observed: Mapping[str, list[str]], answered: list[str], turn: int,
                    transcript: list[dict[str, Any]] | None = None) -> Action:
        """One model call (and one repair) -> the next action."""
        from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

        messages: list[Any] = [SystemMessage(SYSTEM_PROMPT),
                               HumanMessage(transcript_text(transcript or [], turn, self.max_turns))]
        for attempt in range(2):
            reply = self.client.invoke(messages, self.meter, agent="doctor", tools=list(TOOLS.values()))
            action, error = self._parse(reply)
            if action is not None:
                return action
            log.info("doctor reply unusable (%s), attempt %d", error, attempt + 1)
            calls = getattr(reply, "tool_calls", None) or []
            messages.append(reply if isinstance(reply, AIMessage) else AIMessage(content=str(reply)))
            if calls:
                messages.append(ToolMessage(content=f"error: {error}", tool_call_id=calls[0].get("id") or "call"))
            else:
                messages.append(HumanMessage(f"error: {error}. Call exactly one of the tools."))
        return Action(kind="diagnose", target="", rationale=f"model gave no usable action ({error})")

    @staticmethod
    def _parse(reply: Any) -> tuple[Action | None, str]:
        calls = getattr(reply, "tool_calls", None) or []
        if not calls:
            return None, "no tool call"
        call = calls[0]
        name, args = call.get("name"), call.get("args") or {}
        if isinstance(args, str):
            try:
                args = json.loads(args)
            except json.JSONDecodeError:
                return None, f"arguments of {name} are not JSON"
        schema = TOOLS.get(str(name))
        if schema is None:
            return None, f"no tool named {name!r}; use one of {sorted(TOOLS)}"
        try:
            parsed = schema.model_validate(args)
        except Exception as exc:  # pydantic ValidationError: tell the model which field is wrong
            return None, f"invalid arguments for {name}: {str(exc).splitlines()[0]}"
        if isinstance(parsed, Diagnose):
            return Action(kind="diagnose", target=parsed.diagnosis, differential=parsed.differential,
                          cited=parsed.cited, score=parsed.confidence, rationale="model: diagnose"), ""
        if isinstance(parsed, OrderTest):
            return Action(kind="order_test", target=parsed.name, rationale="model"), ""
        kind = "ask" if isinstance(parsed, Ask) else "examine"
        return Action(kind=kind, target=parsed.target, rationale="model"), ""

    def assess(self, observed: Mapping[str, list[str]], answered: list[str],
               final: Action | None = None) -> dict[str, Any]:
        """The model's diagnosis (from its ``diagnose`` call) as a ranking with its stated confidence."""
        if final is None or not final.target:
            return {"ranked": [("undetermined", 0.0)], "differential": [], "supported": False}
        p = float(final.score if final.score is not None else 0.5)
        ranked = [(final.target, p), *[(d, 0.0) for d in final.differential if d != final.target]]
        return {"ranked": ranked, "differential": ranked, "cited": list(final.cited)}
