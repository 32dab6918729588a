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

One module per concern (this package re-exports the public names):

- ``specs``: ``ModelSpec`` and ``parse_model_spec``; ``factory``: spec -> chat model -> cached ``ChatClient``;
- ``client``: ``ChatClient`` and its call policy (transient errors, ``Retry-After``, stream events);
  ``cache``: the SQLite response cache; ``hf``: local Hugging Face models;
- ``usage``: prices, per-agent ``Meter`` and ``Usage`` sums;
- ``structured``: an answer as one JSON object validated by a schema, with bounded repair.
"""

from __future__ import annotations

from wardround.llm.cache import ResponseCache
from wardround.llm.client import ChatClient, ModelCallError, emit, is_transient, retry_after, status_code
from wardround.llm.factory import build_chat_model, clear_clients, get_client
from wardround.llm.hf import LocalHFChat, parse_text_tool_calls
from wardround.llm.specs import PROVIDER_EXTRAS, RULES, ModelSpec, parse_model_spec
from wardround.llm.structured import (
    ModelOutputError,
    ask_back,
    ask_structured,
    extract_json,
    message_text,
    parse_answer,
    validation_problems,
)
from wardround.llm.usage import PRICES, Meter, Price, load_prices, price_for, sum_usage, usage_by_agent

__all__ = [
    "PRICES", "PROVIDER_EXTRAS", "RULES", "ChatClient", "LocalHFChat", "Meter", "ModelCallError",
    "ModelOutputError", "ModelSpec", "Price", "ResponseCache", "ask_back", "ask_structured", "build_chat_model",
    "clear_clients", "emit", "extract_json", "get_client", "is_transient", "load_prices", "message_text",
    "parse_answer", "parse_model_spec", "parse_text_tool_calls", "price_for", "retry_after", "status_code",
    "sum_usage", "usage_by_agent", "validation_problems",
]
