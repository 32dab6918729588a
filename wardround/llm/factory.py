"""Model spec -> chat model -> ``ChatClient``: provider packages are imported here, lazily; clients are cached."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from typing import TYPE_CHECKING, Any

from wardround.errors import ConfigError
from wardround.llm.client import ChatClient, _model_name
from wardround.llm.hf import LocalHFChat
from wardround.llm.specs import PROVIDER_EXTRAS, ModelSpec, parse_model_spec

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

_NO_RETRY_KW = {"ollama"}  # providers whose chat class has no max_retries field


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
