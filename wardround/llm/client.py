"""The call policy of one chat model: retries of transient errors (with ``Retry-After``), accounting, cache,
stream metadata."""

from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import os
import random
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from wardround.errors import ConfigError, WardroundError
from wardround.llm.cache import ResponseCache
from wardround.llm.specs import ModelSpec
from wardround.llm.usage import Meter, price_for

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import AIMessage, BaseMessage

log = logging.getLogger(__name__)


class ModelCallError(WardroundError):
    """A model call failed for good: retries exhausted, or an error that retrying cannot fix."""


def _model_name(model: Any) -> str:
    for attr in ("model_name", "model", "model_id"):
        v = getattr(model, attr, None)
        if isinstance(v, str) and v:
            return v
    return type(model).__name__


# ---------------------------------------------------------------------------------------------------------
# Transient errors and Retry-After

_TRANSIENT_STATUS = {408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529}
_TRANSIENT_NAMES = {"APITimeoutError", "APIConnectionError", "RateLimitError", "InternalServerError",
                    "ServiceUnavailableError", "TimeoutException", "ReadTimeout", "ConnectTimeout", "ConnectError",
                    "RemoteProtocolError", "ReadError", "APIResponseValidationError", "JSONDecodeError",
                    "OverloadedError"}
_CONFIG_STATUS = {401: "the server rejected the API key (401); check the key variable",
                  403: "the server refused access (403); check the key's permissions",
                  404: "the server does not know this model or URL (404); check the model name and base URL"}


def status_code(exc: BaseException) -> int | None:
    """HTTP status of a provider error, when it has one."""
    for obj in (exc, getattr(exc, "response", None)):
        code = getattr(obj, "status_code", None)
        if isinstance(code, int):
            return code
    return None


def is_transient(exc: BaseException) -> bool:
    """True for errors a retry can fix: timeouts, rate limits, server errors, dropped connections."""
    code = status_code(exc)
    if code is not None and code >= 400:
        return code in _TRANSIENT_STATUS
    names = {c.__name__ for c in type(exc).__mro__}
    return bool(names & _TRANSIENT_NAMES) or isinstance(exc, TimeoutError | ConnectionError)


def retry_after(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait (``retry-after-ms`` or ``Retry-After``: seconds or an HTTP date)."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


# ---------------------------------------------------------------------------------------------------------
# Streaming hook


def emit(event: dict[str, Any]) -> None:
    """Send a custom stream event (``stream_mode="custom"``) when running inside a graph; a no-op elsewhere."""
    try:
        from langgraph.config import get_stream_writer

        writer = get_stream_writer()
    except Exception:  # not inside a graph run
        return
    try:
        writer(event)
    except Exception as exc:  # a broken consumer never breaks the ward round
        log.debug("stream writer failed: %s", exc)


# ---------------------------------------------------------------------------------------------------------
# The client


class ChatClient:
    """One chat model with wardround's call policy: retries, accounting, cache, stream metadata."""

    def __init__(self, model: BaseChatModel, spec: ModelSpec) -> None:
        self.model = model
        self.spec = spec
        self.label = spec.spec
        self.model_name = _model_name(model)
        self.price = spec.prices or price_for(self.model_name) or price_for(spec.name)
        cache_path = spec.cache or os.environ.get("WARDROUND_LLM_CACHE")
        self.cache = ResponseCache(cache_path) if cache_path else None

    def supports_tools(self) -> bool:
        """Whether the model implements ``bind_tools``."""
        from langchain_core.language_models import BaseChatModel

        return type(self.model).bind_tools is not BaseChatModel.bind_tools

    def _cache_key(self, messages: Sequence[BaseMessage], tools: list[dict] | None) -> str:
        from langchain_core.messages import message_to_dict

        payload = {"model": self.label, "name": self.model_name, "temperature": self.spec.temperature,
                   "max_tokens": self.spec.max_tokens, "kwargs": self.spec.kwargs,
                   "messages": [message_to_dict(m) for m in messages], "tools": tools or []}
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()

    def _wait(self, attempt: int, exc: BaseException) -> float:
        asked = retry_after(exc)
        if asked is not None:
            return min(asked, self.spec.max_backoff)
        # exponential backoff with full jitter: uniform(0, backoff * 2^(attempt-1)), capped
        return min(self.spec.max_backoff, random.uniform(0.5, 1.0) * self.spec.backoff * 2 ** (attempt - 1))

    def invoke(self, messages: Sequence[BaseMessage], meter: Meter, *, agent: str,
               tools: Sequence[Any] | None = None) -> AIMessage:
        """Call the model once (retrying transient errors), count usage, and return its message.

        Raises:
            ModelCallError: the call failed after the allowed retries, or with an error retrying cannot fix.
            ConfigError: the server rejected the key, or does not know the model (401/403/404).
        """
        from langchain_core.messages import AIMessage
        from langchain_core.runnables.config import ensure_config
        from tenacity import RetryError, Retrying, retry_if_exception, stop_after_attempt

        tool_schemas = None
        runnable: Any = self.model
        if tools:
            from langchain_core.utils.function_calling import convert_to_openai_tool

            tool_schemas = [convert_to_openai_tool(t) for t in tools]
            runnable = self.model.bind_tools(list(tools))
        key = self._cache_key(messages, tool_schemas) if self.cache is not None else None
        if key is not None:
            hit = self.cache.get(key)  # type: ignore[union-attr]
            if hit is not None:
                meter.cache_hits += 1
                return hit  # type: ignore[return-value]
        parent = ensure_config()
        config = {"metadata": {**(parent.get("metadata") or {}), "wardround_agent": agent, "wardround_model": self.label},
                  "tags": [*(parent.get("tags") or []), f"wardround:{agent}"], "run_name": f"{agent}:{self.label}"}
        attempt = 0

        def call() -> Any:
            nonlocal attempt
            attempt += 1
            meter.calls += 1
            return runnable.invoke(list(messages), config=config)

        def wait(state: Any) -> float:
            return self._wait(state.attempt_number, state.outcome.exception())

        def before_sleep(state: Any) -> None:
            meter.retries += 1
            exc = state.outcome.exception()
            delay = state.next_action.sleep if state.next_action else 0.0
            log.info("%s: %s on attempt %d; retrying in %.2fs", agent, _describe(exc), state.attempt_number, delay)
            emit({"event": "retry", "agent": agent, "error": _describe(exc), "attempt": state.attempt_number,
                  "wait": round(delay, 3)})

        retrying = Retrying(stop=stop_after_attempt(self.spec.max_retries + 1), wait=wait,
                            retry=retry_if_exception(is_transient), before_sleep=before_sleep, reraise=True)
        try:
            message = retrying(call)
        except RetryError as exc:  # pragma: no cover - reraise=True re-raises the last error instead
            raise ModelCallError(f"{self.label}: gave up after {attempt} attempts") from exc
        except Exception as exc:
            code = status_code(exc)
            if code in _CONFIG_STATUS:
                raise ConfigError(f"model: {self.label!r}: {_CONFIG_STATUS[code]}") from None
            what = "gave up after" if is_transient(exc) else "failed on"
            raise ModelCallError(f"{self.label}: {_describe(exc)} ({what} attempt {attempt})") from exc
        if not isinstance(message, AIMessage):
            message = AIMessage(content=str(getattr(message, "content", message)))
        self._account(message, meter)
        if key is not None:
            self.cache.put(key, self.label, message)  # type: ignore[union-attr]
        return message

    def _account(self, message: AIMessage, meter: Meter) -> None:
        usage = message.usage_metadata or {}
        tin = int(usage.get("input_tokens") or 0)
        tout = int(usage.get("output_tokens") or 0)
        meter.input_tokens += tin
        meter.output_tokens += tout
        meter.models.add(self.label)
        if self.price is not None:
            meter.cost_usd += (tin * self.price.input + tout * self.price.output) / 1_000_000


def _describe(exc: BaseException) -> str:
    code = status_code(exc)
    text = " ".join(str(exc).split())
    if len(text) > 160:
        text = text[:157] + "..."
    return f"{type(exc).__name__}" + (f" {code}" if code else "") + (f": {text}" if text else "")
