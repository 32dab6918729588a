"""Model specs: the strings and options that name the chat model behind a role (see ``wardround.llm``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from wardround.errors import ConfigError
from wardround.llm.usage import Price

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

RULES = "rules"

#: Provider -> the wardround extra (or pip package) that brings its LangChain integration.
PROVIDER_EXTRAS: dict[str, str] = {
    "openai": "wardround[openai]",
    "azure_openai": "wardround[openai]",
    "anthropic": "wardround[anthropic]",
    "ollama": "wardround[ollama]",
    "hf": "transformers (a core dependency)",
}


class ModelSpec(BaseModel):
    """A chat-model spec with its options (the spec strings are described in ``wardround.llm``)."""

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
