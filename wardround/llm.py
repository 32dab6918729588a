"""Model specs -> LangChain chat models, with retries, usage and cost accounting, and a response cache.

A *model spec* names the chat model behind a role:

- ``"rules"``: the embedded knowledge-based reasoner (no model at all);
- any ``init_chat_model`` string, ``"provider:model"``: ``"openai:gpt-4o-mini"``, ``"anthropic:claude-3-5-haiku-latest"``,
  ``"ollama:llama3.1"``; ``"openai:NAME"`` talks to any OpenAI-compatible server (vLLM, llama.cpp server,
  LM Studio) when a base URL is given (``base_url`` option, or ``OPENAI_BASE_URL`` in the environment);
- ``"hf:<local folder>"``: a causal LM and tokenizer saved with ``save_pretrained``, run through transformers
  (local weights only; transformers and torch are imported when the model is first used);
- a ``ModelSpec`` (the same strings plus options), or a dict of its fields;
- a LangChain ``BaseChatModel`` instance, used as is.

Options may ride on a string as a query: ``"openai:qwen2.5-7b?base_url=http://127.0.0.1:8000/v1&temperature=0.2"``.

Every call goes through ``ChatClient.invoke``: transient errors (timeouts, 429, 5xx, connection resets, a garbled
response body) are retried with exponential backoff and jitter, honouring ``Retry-After``; the provider's own
retries are switched off so that each attempt is counted; tokens come from LangChain's ``usage_metadata`` and
cost from the price table (``PRICES``, editable, or ``WARDROUND_PRICES=prices.yaml``); an optional SQLite
response cache (``cache=PATH`` or ``WARDROUND_LLM_CACHE``) makes reruns reproducible and free.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import os
import random
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from wardround.errors import ConfigError, WardroundError
from wardround.report import Usage

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import AIMessage, BaseMessage

log = logging.getLogger(__name__)

RULES = "rules"

#: Provider -> the wardround extra (or pip package) that brings its LangChain integration.
PROVIDER_EXTRAS: dict[str, str] = {
    "openai": "wardround[openai]",
    "azure_openai": "wardround[openai]",
    "anthropic": "wardround[anthropic]",
    "ollama": "wardround[ollama]",
    "hf": "transformers (a core dependency)",
}
_NO_RETRY_KW = {"ollama"}  # providers whose chat class has no max_retries field


class ModelCallError(WardroundError):
    """A model call failed for good: retries exhausted, or an error that retrying cannot fix."""


class ModelOutputError(WardroundError):
    """A model's answer stayed unusable after the bounded repair attempts."""


# ---------------------------------------------------------------------------------------------------------
# Specs


class Price(BaseModel):
    """USD per million tokens."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)


#: Default price table, USD per million tokens: the providers' published list prices as of 2025 (prices change;
#: check yours). Edit freely, or set WARDROUND_PRICES to a YAML/JSON file ``{model-name: {input: x, output: y}}``.
#: Unknown models cost 0, and the run's manifest records the table used.
PRICES: dict[str, Price] = {
    "gpt-4o-mini": Price(input=0.15, output=0.60),
    "gpt-4o": Price(input=2.50, output=10.00),
    "gpt-4.1": Price(input=2.00, output=8.00),
    "gpt-4.1-mini": Price(input=0.40, output=1.60),
    "gpt-4.1-nano": Price(input=0.10, output=0.40),
    "claude-3-5-haiku-latest": Price(input=0.80, output=4.00),
    "claude-3-5-sonnet-latest": Price(input=3.00, output=15.00),
}


def load_prices(path: str | Path) -> dict[str, Price]:
    """Read a price table (YAML or JSON, ``{model: {input: usd_per_mtok, output: usd_per_mtok}}``) into ``PRICES``."""
    import yaml

    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"prices: cannot read {str(p)!r} ({exc}); give a YAML file of "
                          "{model: {input: USD per 1M tokens, output: USD per 1M tokens}}") from None
    try:
        table = {str(k): Price.model_validate(v) for k, v in dict(data).items()}
    except (ValidationError, TypeError, ValueError) as exc:
        raise ConfigError(f"prices: {str(p)!r} is not a table of {{model: {{input, output}}}}: {exc}") from None
    PRICES.update(table)
    return table


def price_for(model_name: str) -> Price | None:
    """The price of ``model_name`` (exact name, else the longest table key it starts with)."""
    env = os.environ.get("WARDROUND_PRICES")
    if env and not getattr(price_for, "_loaded", None) == env:
        load_prices(env)
        price_for._loaded = env  # type: ignore[attr-defined]
    if model_name in PRICES:
        return PRICES[model_name]
    keys = sorted((k for k in PRICES if model_name.startswith(k)), key=len, reverse=True)
    return PRICES[keys[0]] if keys else None


class ModelSpec(BaseModel):
    """A chat-model spec with its options (see the module docstring for the spec strings)."""

    model_config = ConfigDict(extra="forbid")

    spec: str = Field(description="'provider:model', 'hf:<folder>' or 'rules'")
    temperature: float | None = Field(0.0, ge=0.0, le=2.0)
    max_tokens: int | None = Field(None, ge=1, description="cap on generated tokens per call")
    timeout: float | None = Field(60.0, gt=0, description="seconds per HTTP request")
    base_url: str | None = Field(None, description="OpenAI-compatible endpoint (default: $OPENAI_BASE_URL)")
    api_key: SecretStr | None = None
    api_key_env: str | None = Field(None, description="environment variable holding the key (default OPENAI_API_KEY)")
    max_retries: int = Field(4, ge=0, le=20, description="retries of a transient error per call")
    backoff: float = Field(1.0, ge=0, description="first backoff in seconds; doubles per retry, with jitter")
    max_backoff: float = Field(30.0, ge=0, description="cap on one wait, Retry-After included")
    max_repairs: int = Field(1, ge=0, le=5, description="repair requests for an unusable structured answer")
    max_tool_rounds: int = Field(6, ge=0, le=30, description="tool-calling rounds per specialist")
    cache: str | None = Field(None, description="SQLite response cache file (default: $WARDROUND_LLM_CACHE)")
    prices: Price | None = Field(None, description="price of this model (default: the PRICES table)")
    kwargs: dict[str, Any] = Field(default_factory=dict, description="extra keyword arguments for the chat class")

    @property
    def provider(self) -> str:
        """The provider part of the spec (``openai``, ``hf``, ...)."""
        return self.spec.split(":", 1)[0] if ":" in self.spec else ""

    @property
    def name(self) -> str:
        """The model part of the spec."""
        return self.spec.split(":", 1)[1] if ":" in self.spec else self.spec


_QUERY_FLOATS = {"temperature", "timeout", "backoff", "max_backoff"}
_QUERY_INTS = {"max_tokens", "max_retries", "max_repairs", "max_tool_rounds"}


def parse_model_spec(value: Any) -> ModelSpec | BaseChatModel | None:
    """Normalise any accepted model spec; ``None`` means the embedded reasoner (``"rules"``)."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", RULES)):
        return None
    if isinstance(value, ModelSpec):
        return None if value.spec == RULES else value
    if isinstance(value, dict):
        try:
            spec = ModelSpec.model_validate(value)
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            raise ConfigError(f"model.{'.'.join(str(x) for x in err['loc'])}: {err['msg']}") from None
        return None if spec.spec == RULES else spec
    if isinstance(value, str):
        text = value.strip()
        options: dict[str, Any] = {}
        if "?" in text:
            text, query = text.split("?", 1)
            for key, raw in parse_qsl(query, keep_blank_values=True):
                if key not in ModelSpec.model_fields or key in ("spec", "kwargs", "prices"):
                    raise ConfigError(f"model: unknown option {key!r} in {value!r}; use one of "
                                      + ", ".join(k for k in ModelSpec.model_fields if k not in ("spec", "kwargs", "prices")))
                try:
                    options[key] = float(raw) if key in _QUERY_FLOATS else int(raw) if key in _QUERY_INTS else raw
                except ValueError:
                    raise ConfigError(f"model: option {key}={raw!r} is not a number") from None
        if ":" not in text:
            raise ConfigError(f"model: {value!r} is not a model spec; use 'rules', 'provider:model' "
                              "(e.g. 'openai:gpt-4o-mini') or 'hf:<local folder>'")
        return parse_model_spec({"spec": text, **options})
    if _is_chat_model(value):
        return value
    raise ConfigError(f"model: expected 'rules', a spec string, a ModelSpec or a LangChain chat model, "
                      f"not {type(value).__name__}")


def _is_chat_model(value: Any) -> bool:
    try:
        from langchain_core.language_models import BaseChatModel
    except ImportError:  # pragma: no cover - langchain-core is a core dependency
        return False
    return isinstance(value, BaseChatModel)


# ---------------------------------------------------------------------------------------------------------
# Building chat models


def build_chat_model(spec: ModelSpec) -> BaseChatModel:
    """Instantiate the LangChain chat model a spec names (provider packages imported here, lazily)."""
    provider, name = spec.provider, spec.name
    if provider == "hf":
        return LocalHFChat.from_folder(name, max_new_tokens=spec.max_tokens or 256, temperature=spec.temperature or 0.0)
    common: dict[str, Any] = {}
    if spec.temperature is not None:
        common["temperature"] = spec.temperature
    if spec.max_tokens is not None:
        common["max_tokens"] = spec.max_tokens
    if spec.timeout is not None:
        common["timeout"] = spec.timeout
    if provider not in _NO_RETRY_KW:
        common["max_retries"] = 0  # wardround retries (and counts) every attempt itself
    if provider == "openai":
        try:
            from langchain_openai import ChatOpenAI
        except ImportError:
            raise ConfigError(f"model: {spec.spec!r} needs the OpenAI integration; install it with "
                              f"pip install '{PROVIDER_EXTRAS['openai']}'") from None
        base_url = spec.base_url or os.environ.get("OPENAI_BASE_URL") or os.environ.get("OPENAI_API_BASE")
        key_env = spec.api_key_env or "OPENAI_API_KEY"
        key = spec.api_key.get_secret_value() if spec.api_key else os.environ.get(key_env)
        if not key:
            if not base_url:
                raise ConfigError(f"model: {spec.spec!r} needs an API key; set {key_env} (or give base_url / "
                                  "OPENAI_BASE_URL for a local OpenAI-compatible server)")
            key = "not-needed"  # local servers (vLLM, llama.cpp, LM Studio) accept any key
        kwargs = {**common, "model": name, "api_key": key, "stream_usage": True, **spec.kwargs}
        if base_url:
            kwargs["base_url"] = base_url
        return ChatOpenAI(**kwargs)
    try:
        from langchain.chat_models import init_chat_model
    except ImportError:  # pragma: no cover - langchain is a core dependency
        raise ConfigError("model: provider specs need the 'langchain' package") from None
    extra = PROVIDER_EXTRAS.get(provider, f"langchain-{provider.replace('_', '-')}")
    try:
        return init_chat_model(spec.spec, **common, **spec.kwargs)
    except ImportError:
        raise ConfigError(f"model: {spec.spec!r} needs the {provider!r} LangChain integration; install it with "
                          f"pip install '{extra}'") from None
    except ValueError as exc:
        raise ConfigError(f"model: {spec.spec!r} is not a model spec LangChain knows ({exc}); "
                          "use 'provider:model', e.g. 'openai:gpt-4o-mini'") from None


_CLIENTS: dict[str, ChatClient] = {}
_CLIENTS_LOCK = threading.Lock()


def get_client(value: Any) -> ChatClient | None:
    """The (cached) ``ChatClient`` for a model spec; ``None`` for ``"rules"``.

    Clients are cached per spec, so a local model loads once and HTTP connections are reused across nodes.
    """
    parsed = parse_model_spec(value)
    if parsed is None:
        return None
    if isinstance(parsed, ModelSpec):
        env = (os.environ.get("OPENAI_BASE_URL"), os.environ.get("OPENAI_API_BASE"),
               os.environ.get(parsed.api_key_env or "OPENAI_API_KEY"), os.environ.get("WARDROUND_LLM_CACHE"))
        key = hashlib.sha256(json.dumps([parsed.model_dump(mode="json"),
                                         parsed.api_key.get_secret_value() if parsed.api_key else None, env],
                                        sort_keys=True, default=str).encode()).hexdigest()
    else:
        key = f"instance:{id(parsed)}"
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(key)
        if client is None or (not isinstance(parsed, ModelSpec) and client.model is not parsed):
            if isinstance(parsed, ModelSpec):
                client = ChatClient(build_chat_model(parsed), parsed)
            else:
                client = ChatClient(parsed, ModelSpec(spec=f"instance:{_model_name(parsed)}"))
            _CLIENTS[key] = client
    return client


def clear_clients() -> None:
    """Forget cached clients (and close their response caches)."""
    with _CLIENTS_LOCK:
        for c in _CLIENTS.values():
            if c.cache is not None:
                c.cache.close()
        _CLIENTS.clear()


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
# Usage


@dataclass
class Meter:
    """Usage of one agent: tokens, cost, calls, retries, repairs, cache hits, fallbacks."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0
    retries: int = 0
    repairs: int = 0
    cache_hits: int = 0
    fallbacks: int = 0
    models: set[str] = field(default_factory=set)

    def usage(self, agent: str) -> Usage:
        """A ``Usage`` with the case-level totals plus ``"<agent>/<field>"`` entries for per-agent accounting."""
        per = {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
               "cost_usd": round(self.cost_usd, 8), "calls": self.calls, "retries": self.retries,
               "repairs": self.repairs, "cache_hits": self.cache_hits, "fallbacks": self.fallbacks}
        extra = {f"{agent}/{k}": v for k, v in per.items()}
        extra["cache_hits"] = self.cache_hits
        extra["fallbacks"] = self.fallbacks
        return Usage(input_tokens=self.input_tokens, output_tokens=self.output_tokens,
                     cost_usd=round(self.cost_usd, 8), calls=self.calls, retries=self.retries,
                     repairs=self.repairs, **extra)


def sum_usage(a: Usage, b: Usage) -> Usage:
    """Add two ``Usage`` records (see ``Usage.__add__``)."""
    return a + b


def usage_by_agent(usage: Usage) -> dict[str, dict[str, float]]:
    """Per-agent accounting from a (summed) ``Usage``: ``{"triage": {"calls": 1, ...}, "specialist:cardiology": ...}``."""
    out: dict[str, dict[str, float]] = {}
    for key, value in (usage.model_extra or {}).items():
        if "/" in key:
            agent, name = key.rsplit("/", 1)
            out.setdefault(agent, {})[name] = value
    return out


# ---------------------------------------------------------------------------------------------------------
# Response cache


class ResponseCache:
    """SQLite cache of model responses keyed by a hash of model, options, messages and tools."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, model TEXT, "
                         "message TEXT NOT NULL, created REAL)")
        self._db.commit()

    def get(self, key: str) -> AIMessage | None:
        """The cached message for ``key``, or ``None``."""
        from langchain_core.messages import messages_from_dict

        with self._lock:
            row = self._db.execute("SELECT message FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        return messages_from_dict([json.loads(row[0])])[0]  # type: ignore[return-value]

    def put(self, key: str, model: str, message: AIMessage) -> None:
        """Store ``message`` under ``key``."""
        from langchain_core.messages import message_to_dict

        data = json.dumps(message_to_dict(message), default=str)
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?)", (key, model, data, time.time()))
            self._db.commit()

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()


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


# ---------------------------------------------------------------------------------------------------------
# Local Hugging Face models (hf:<folder>)


try:  # langchain-core is a core dependency; guard only so that the module imports in minimal environments
    from langchain_core.language_models import BaseChatModel as _BaseChatModel
except ImportError:  # pragma: no cover
    _BaseChatModel = object  # type: ignore[assignment,misc]


class LocalHFChat(_BaseChatModel):  # type: ignore[misc,valid-type]
    """A causal LM and tokenizer from a local folder as a LangChain chat model (transformers, CPU or GPU).

    The prompt uses the tokenizer's chat template when it has one (tools passed to it), else a plain
    ``role: text`` transcript. Tool calls are read from ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``
    blocks (the Hermes/Qwen convention) or from a bare JSON object with ``name`` and ``arguments``.
    """

    folder: str
    max_new_tokens: int = 256
    temperature: float = 0.0
    model_config = ConfigDict(arbitrary_types_allowed=True)

    _lm: Any = None
    _tokenizer: Any = None
    _lock: Any = None

    @classmethod
    def from_folder(cls, folder: str, *, max_new_tokens: int = 256, temperature: float = 0.0) -> LocalHFChat:
        """Load ``folder`` (``config.json``, weights, tokenizer files) with ``local_files_only=True``."""
        p = Path(folder).expanduser()
        if not p.is_dir():
            raise ConfigError(f"model: 'hf:{folder}' is not a folder; hf: loads local weights only "
                              "(a folder written by save_pretrained with config.json, weights and tokenizer)")
        if not (p / "config.json").is_file():
            raise ConfigError(f"model: 'hf:{folder}' has no config.json; save the model with save_pretrained")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError:
            raise ConfigError("model: hf: specs need transformers and torch; pip install transformers torch") from None
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(p), local_files_only=True)
            lm = AutoModelForCausalLM.from_pretrained(str(p), local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"model: cannot load 'hf:{folder}': {' '.join(str(exc).split())[:200]}") from None
        lm.eval()
        obj = cls(folder=str(p), max_new_tokens=max_new_tokens, temperature=temperature)
        obj._lm, obj._tokenizer, obj._lock = lm, tokenizer, threading.Lock()
        return obj

    @property
    def _llm_type(self) -> str:
        return "wardround-hf-local"

    @property
    def model_name(self) -> str:
        """The folder name."""
        return f"hf:{Path(self.folder).name}"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        """Bind tools: their schemas go into the prompt; calls are parsed from the generated text."""
        from langchain_core.utils.function_calling import convert_to_openai_tool

        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)

    def _prompt(self, messages: Sequence[BaseMessage], tools: list[dict] | None) -> str:
        tok = self._tokenizer
        chat = []
        for m in messages:
            role = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}.get(m.type, "user")
            chat.append({"role": role, "content": m.content if isinstance(m.content, str) else json.dumps(m.content)})
        if getattr(tok, "chat_template", None):
            try:
                return tok.apply_chat_template(chat, tools=tools or None, tokenize=False, add_generation_prompt=True)
            except Exception as exc:  # a template that rejects tools or roles: fall back to a transcript
                log.debug("chat template failed (%s); using a plain transcript", exc)
        text = ""
        if tools:
            text += "Tools (call one with <tool_call>{\"name\": ..., \"arguments\": {...}}</tool_call>):\n"
            text += "\n".join(json.dumps(t["function"]) for t in tools) + "\n\n"
        text += "\n".join(f"{c['role']}: {c['content']}" for c in chat)
        return text + "\nassistant:"

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None,
                  **kwargs: Any) -> Any:
        import torch
        from langchain_core.messages import AIMessage
        from langchain_core.outputs import ChatGeneration, ChatResult

        tok, lm = self._tokenizer, self._lm
        prompt = self._prompt(messages, kwargs.get("tools"))
        enc = tok(prompt, return_tensors="pt")
        limit = getattr(lm.config, "max_position_embeddings", None) or getattr(lm.config, "n_positions", None)
        ids = enc["input_ids"]
        if limit and ids.shape[1] + self.max_new_tokens > limit:  # keep the end of a prompt too long for the model
            keep = max(1, limit - self.max_new_tokens)
            ids = ids[:, -keep:]
        attention = torch.ones_like(ids)
        gen_kwargs: dict[str, Any] = {"max_new_tokens": self.max_new_tokens, "do_sample": self.temperature > 0}
        if self.temperature > 0:
            gen_kwargs["temperature"] = self.temperature
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        if pad is not None:
            gen_kwargs["pad_token_id"] = pad
        with self._lock, torch.no_grad():
            out = lm.generate(input_ids=ids, attention_mask=attention, **gen_kwargs)
        new = out[0, ids.shape[1]:]
        text = tok.decode(new, skip_special_tokens=True)
        if stop:
            for s in stop:
                if s in text:
                    text = text[: text.index(s)]
        content, calls = parse_text_tool_calls(text)
        message = AIMessage(content=content, tool_calls=calls,
                            usage_metadata={"input_tokens": int(ids.shape[1]), "output_tokens": int(new.shape[0]),
                                            "total_tokens": int(ids.shape[1] + new.shape[0])})
        if run_manager is not None and content:
            run_manager.on_llm_new_token(content)
        return ChatResult(generations=[ChatGeneration(message=message)])


def parse_text_tool_calls(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Split generated text into its prose and the tool calls written as ``<tool_call>{json}</tool_call>``."""
    import re

    calls: list[dict[str, Any]] = []

    def take(raw: str) -> bool:
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError:
            return False
        if not isinstance(obj, dict) or not isinstance(obj.get("name"), str):
            return False
        args = obj.get("arguments", obj.get("args", {}))
        if isinstance(args, str):
            try:
                args = json.loads(args)
            except json.JSONDecodeError:
                return False
        if not isinstance(args, dict):
            return False
        calls.append({"name": obj["name"], "args": args, "id": f"call_{len(calls) + 1}", "type": "tool_call"})
        return True

    rest = text
    for m in re.finditer(r"<tool_call>\s*(.*?)\s*</tool_call>", text, flags=re.S):
        if take(m.group(1)):
            rest = rest.replace(m.group(0), "")
    return rest.strip(), calls
