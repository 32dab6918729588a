"""Model specs, transient-error policy, usage accounting, response cache and answer parsing (no network)."""

from __future__ import annotations

import re
import subprocess
import sys

import httpx
import openai
import pytest
from langchain_core.messages import AIMessage

from wardround.agents.llm_agents import strip_citations
from wardround.agents.prompts import SpecialistAnswer, TriageAnswer
from wardround.errors import ConfigError
from wardround.llm import (
    Meter,
    ModelSpec,
    ResponseCache,
    build_chat_model,
    extract_json,
    get_client,
    is_transient,
    load_prices,
    parse_answer,
    parse_model_spec,
    parse_text_tool_calls,
    price_for,
    retry_after,
    sum_usage,
    usage_by_agent,
)

REQUEST = httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions")


def _status_error(cls: type, status: int, headers: dict[str, str] | None = None) -> Exception:
    response = httpx.Response(status, headers=headers or {}, request=REQUEST)
    return cls(f"status {status}", response=response, body=None)


def test_rules_spellings_mean_no_model():
    for value in (None, "rules", " RULES ", {"spec": "rules"}, ModelSpec(spec="rules")):
        assert parse_model_spec(value) is None
        assert get_client(value) is None


def test_spec_strings_carry_options():
    spec = parse_model_spec("openai:qwen2.5?base_url=http://127.0.0.1:8000/v1&temperature=0.2&max_tokens=64")
    assert isinstance(spec, ModelSpec)
    assert (spec.provider, spec.name) == ("openai", "qwen2.5")
    assert spec.base_url == "http://127.0.0.1:8000/v1" and spec.temperature == 0.2 and spec.max_tokens == 64
    hf = parse_model_spec("hf:/models/tiny?max_tokens=16")
    assert (hf.provider, hf.name, hf.max_tokens) == ("hf", "/models/tiny", 16)


@pytest.mark.parametrize("value, fragment", [
    ("gpt-4o-mini", "not a model spec"),
    ("openai:x?colour=blue", "unknown option 'colour'"),
    ("openai:x?temperature=hot", "not a number"),
    ({"spec": "openai:x", "temperature": 9}, "model.temperature"),
    (42, "expected 'rules'"),
])
def test_bad_specs_name_the_problem(value, fragment):
    with pytest.raises(ConfigError, match=re.escape(fragment)):
        parse_model_spec(value)


def test_openai_without_key_or_url_says_which_variable(monkeypatch):
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_BASE"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ConfigError, match="set OPENAI_API_KEY"):
        build_chat_model(ModelSpec(spec="openai:gpt-4o-mini"))


def test_openai_compatible_endpoint_from_environment(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8000/v1")
    model = build_chat_model(ModelSpec(spec="openai:local-model", timeout=5, max_tokens=32))
    assert model.openai_api_base == "http://127.0.0.1:8000/v1"
    assert model.model_name == "local-model" and model.max_retries == 0 and model.max_tokens == 32


def test_missing_provider_package_names_the_extra():
    pytest.importorskip("langchain")
    try:
        import langchain_anthropic  # noqa: F401
        pytest.skip("langchain-anthropic is installed here")
    except ImportError:
        pass
    with pytest.raises(ConfigError, match=r"wardround\[anthropic\]"):
        build_chat_model(ModelSpec(spec="anthropic:claude-3-5-haiku-latest"))


def test_hf_needs_a_local_folder(tmp_path):
    with pytest.raises(ConfigError, match="local weights only"):
        build_chat_model(ModelSpec(spec=f"hf:{tmp_path / 'absent'}"))
    with pytest.raises(ConfigError, match="config.json"):
        build_chat_model(ModelSpec(spec=f"hf:{tmp_path}"))


def test_transient_errors_are_the_retryable_ones():
    assert is_transient(_status_error(openai.RateLimitError, 429))
    assert is_transient(_status_error(openai.InternalServerError, 503))
    assert is_transient(openai.APITimeoutError(request=REQUEST))
    assert is_transient(openai.APIConnectionError(request=REQUEST))
    assert is_transient(TimeoutError())
    assert not is_transient(_status_error(openai.BadRequestError, 400))
    assert not is_transient(_status_error(openai.AuthenticationError, 401))
    assert not is_transient(ValueError("bad"))


def test_retry_after_headers():
    assert retry_after(_status_error(openai.RateLimitError, 429, {"Retry-After": "2"})) == 2.0
    assert retry_after(_status_error(openai.RateLimitError, 429, {"retry-after-ms": "250"})) == 0.25
    date = retry_after(_status_error(openai.RateLimitError, 429, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}))
    assert date == 0.0  # a date in the past: no wait
    assert retry_after(_status_error(openai.RateLimitError, 429)) is None


def test_usage_per_agent_sums_across_branches():
    a, b = Meter(input_tokens=10, output_tokens=2, calls=1, cost_usd=0.5), Meter(input_tokens=5, calls=2, retries=1)
    total = sum_usage(a.usage("triage"), b.usage("specialist:cardiology"))
    assert (total.input_tokens, total.calls, total.retries, total.cost_usd) == (15, 3, 1, 0.5)
    per = usage_by_agent(total)
    assert per["triage"]["input_tokens"] == 10 and per["specialist:cardiology"]["calls"] == 2


def test_price_table_is_editable(tmp_path, monkeypatch):
    import wardround.llm.usage as usage

    monkeypatch.setattr(usage, "PRICES", dict(usage.PRICES))  # the table price_for and load_prices use
    assert price_for("gpt-4o-mini-2024-07-18").input == 0.15  # longest prefix
    assert price_for("my-local-model") is None
    path = tmp_path / "prices.yaml"
    path.write_text("my-local-model: {input: 1.0, output: 2.0}\n")
    load_prices(path)
    assert price_for("my-local-model").output == 2.0
    path.write_text("broken: {input: -1}\n")
    with pytest.raises(ConfigError, match="prices"):
        load_prices(path)


def test_response_cache_round_trip(tmp_path):
    cache = ResponseCache(tmp_path / "cache.sqlite")
    msg = AIMessage(content="hi", tool_calls=[{"name": "calculate", "args": {"x": 1}, "id": "c1"}],
                    usage_metadata={"input_tokens": 3, "output_tokens": 1, "total_tokens": 4})
    cache.put("k", "openai:x", msg)
    back = cache.get("k")
    assert back.content == "hi" and back.tool_calls[0]["args"] == {"x": 1} and len(cache) == 1
    assert cache.get("other") is None
    cache.close()


def test_extract_json_tolerates_fences_and_prose():
    assert extract_json('Sure:\n```json\n{"a": 1}\n```') == {"a": 1}
    assert extract_json('I think {"a": {"b": 2}} is right') == {"a": {"b": 2}}
    with pytest.raises(ValueError, match="not a JSON object"):
        extract_json("no json here")
    with pytest.raises(ValueError, match="empty"):
        extract_json("   ")


def test_parse_answer_reports_schema_problems():
    ok = parse_answer('{"specialties": ["cardiology"], "rationale": "x [E1]"}', TriageAnswer)
    assert ok.specialties == ["cardiology"]
    with pytest.raises(ValueError, match="differential"):
        parse_answer('{"summary": "s", "differential": [], "confidence": 0.5}', SpecialistAnswer)
    with pytest.raises(ValueError, match="probability"):
        parse_answer('{"summary": "s", "differential": [{"condition": "c", "probability": 3}], "confidence": 1}',
                     SpecialistAnswer)


def test_strip_citations_keeps_good_ids():
    assert strip_citations("A [E1, E99] and B [E99].", {"E99"}) == "A [E1] and B."
    assert strip_citations("Fine [E2].", set()) == "Fine [E2]."


def test_text_tool_calls_are_parsed():
    text = 'Let me compute. <tool_call>{"name": "calculate", "arguments": {"calculator_id": "bmi"}}</tool_call>'
    prose, calls = parse_text_tool_calls(text)
    assert prose == "Let me compute." and calls[0]["name"] == "calculate"
    assert calls[0]["args"] == {"calculator_id": "bmi"}
    assert parse_text_tool_calls("<tool_call>not json</tool_call>")[1] == []


def test_import_wardround_stays_light():
    code = ("import sys, wardround, wardround.llm, wardround.agents.llm_agents; "
            "bad = [m for m in ('langchain_openai', 'transformers', 'torch') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
