"""Usage and cost accounting: the price table, per-agent meters, and summing ``Usage`` records."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from wardround.errors import ConfigError
from wardround.report import Usage


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
