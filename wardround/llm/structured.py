"""Structured output and repair: a model's answer as one JSON object validated by a pydantic schema.

The answer is read from the message text (code fences and surrounding prose tolerated) and validated; an
unusable answer goes back to the model with the problems named, at most ``ModelSpec.max_repairs`` times.
Every repair is counted in the agent's ``Meter`` and announced on the stream (``{"event": "repair"}``).

Why not LangChain's ``with_structured_output``: it does not do what this module does. langchain-core's generic
implementation binds the schema as a forced tool call (``tool_choice="any"``) and ChatOpenAI's default is a
strict ``json_schema`` response format; the ``hf:`` local models honour neither, and OpenAI-compatible servers
(vLLM, llama.cpp, LM Studio) support them unevenly. It has no repair turn (``include_raw=True`` only hands back
the parsing error), an answer wrapped in a code fence or prose is a parse failure there, and the structured
runnable is a chain of its own, so the response cache, retry counting and usage accounting of
``ChatClient.invoke`` would have to be rebuilt around it. The prompt-based JSON answer here works with every
chat model, tool calling or not, and its faults are covered by tests/integration/test_llm_loopback.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from wardround.errors import WardroundError
from wardround.llm.client import ChatClient, emit
from wardround.llm.usage import Meter

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

T = TypeVar("T", bound=BaseModel)


class ModelOutputError(WardroundError):
    """A model's answer stayed unusable after the bounded repair attempts."""


def message_text(message: Any) -> str:
    """The text of a chat message (string content, or the text parts of a content list)."""
    content = getattr(message, "content", message)
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p if isinstance(p, str) else str(p.get("text", "")) for p in content
                       if isinstance(p, str) or (isinstance(p, dict) and p.get("type") in (None, "text")))
    return str(content)


_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S)


def extract_json(text: str) -> Any:
    """The first JSON object in ``text`` (code fences and surrounding prose tolerated); ``ValueError`` if none."""
    candidates = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    decoder = json.JSONDecoder()
    for chunk in candidates:
        for start in [i for i, ch in enumerate(chunk) if ch == "{"][:20]:
            try:
                obj, _ = decoder.raw_decode(chunk[start:])
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                return obj
    shown = " ".join(text.split())[:120]
    raise ValueError(f"the answer is not a JSON object (it starts {shown!r})" if shown else "the answer was empty")


def validation_problems(exc: ValidationError) -> str:
    """A pydantic error in a few words per field, for the model to act on."""
    parts = []
    for err in exc.errors(include_url=False)[:8]:
        loc = ".".join(str(x) for x in err["loc"]) or "(root)"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def parse_answer(text: str, schema: type[T]) -> T:
    """Validate a model's text answer against ``schema``; ``ValueError`` with a readable reason when it fails."""
    obj = extract_json(text)
    try:
        return schema.model_validate(obj)
    except ValidationError as exc:
        raise ValueError(f"the JSON does not match the schema: {validation_problems(exc)}") from None


def ask_back(messages: list[BaseMessage], meter: Meter, agent: str, answer_text: str, request: str) -> None:
    """Append the model's answer (as plain text) and a repair request to the conversation; count the repair."""
    from langchain_core.messages import AIMessage, HumanMessage

    meter.repairs += 1
    emit({"event": "repair", "agent": agent, "request": request.splitlines()[0][:200]})
    messages.append(AIMessage(content=answer_text))
    messages.append(HumanMessage(content=request))


def ask_structured(client: ChatClient, messages: list[BaseMessage], meter: Meter, *, agent: str, schema: type[T],
                   repair_request: str, check: Callable[[T], list[str]] | None = None) -> T:
    """Call the model until it returns a valid ``schema`` answer, with at most ``client.spec.max_repairs`` repairs.

    Args:
        messages: the conversation; repair turns are appended to it.
        repair_request: the repair message, a template with a ``{problems}`` field.
        check: further problems of a valid answer (an empty list when it is usable).

    Raises:
        ModelOutputError: the answer was still unusable after the allowed repairs.
    """
    repairs = 0
    while True:
        message = client.invoke(messages, meter, agent=agent)
        text = message_text(message)
        try:
            answer = parse_answer(text, schema)
            problems = check(answer) if check else []
        except ValueError as exc:
            answer, problems = None, [str(exc)]
        if not problems:
            return answer  # type: ignore[return-value]
        if repairs >= client.spec.max_repairs:
            raise ModelOutputError(f"no usable answer after {repairs} repair(s): {'; '.join(problems)}")
        repairs += 1
        ask_back(messages, meter, agent, text, repair_request.format(problems="; ".join(problems)))
