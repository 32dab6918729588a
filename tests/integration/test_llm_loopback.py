"""LLM ward rounds over real HTTP: langchain-openai's ChatOpenAI against a loopback OpenAI-compatible server.

The server (``loopback.py``) binds 127.0.0.1 on a free port and plays every role from wardround's own prompts;
faults are injected through it. No network, no API key.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from langchain_openai import ChatOpenAI
from loopback import Fault, LoopbackServer, ScriptedWard

import wardround as wr
from wardround.config import WardConfig
from wardround.graphs.ward import build_graph
from wardround.llm import ModelSpec, clear_clients, usage_by_agent

FIXTURE_KB = str(Path(__file__).resolve().parents[1] / "fixtures" / "kb")
CASE = {
    "id": "llm-1", "age": 70, "sex": "male",
    "note": "70 yo man with crushing chest pain for an hour. Denies cough or fever.",
    "vitals": {"heart_rate": 110, "temperature_c": 37.0, "systolic_bp": 150, "diastolic_bp": 90},
    "labs": [{"name": "troponin", "value": 1.2, "unit": "ng/mL"}],
}


@pytest.fixture(autouse=True)
def _fresh_clients():
    clear_clients()
    yield
    clear_clients()


def _spec(server: LoopbackServer, **options) -> ModelSpec:
    return ModelSpec(spec="openai:loopback-model", base_url=server.base_url, api_key="test-key", backoff=0.01,
                     **options)


def _run(script: ScriptedWard, **options) -> tuple[wr.WardResult, LoopbackServer]:
    with LoopbackServer(script) as server:
        result = wr.run(CASE, model=_spec(server, **options), knowledge=FIXTURE_KB)
    return result, server


def test_full_case_over_http_with_tools_structured_outputs_and_verified_citations():
    script = ScriptedWard()
    result, server = _run(script)
    assert result.verified and result.verify().ok
    assert result.diagnosis.primary.name == "Heart attack"
    assert result.triage.agent == "openai:loopback-model"
    assert {op.specialty for op in result.opinions} == {"cardiology", "pulmonology"}
    # calculator results became evidence under each specialist's prefix, and they recompute
    calc = result.ledger["CA1"]
    assert calc.kind == "tool" and calc.tool == "calculator:mean_arterial_pressure" and calc.value == 110
    quote = result.ledger["CA2"]
    assert quote.kind == "note" and CASE["note"][quote.span[0]:quote.span[1]] == quote.quote
    assert "CA1" in result.diagnosis.cited_ids() and result.ledger.verify(wr.Case.from_dict(CASE), ["CA1", "PU1"]).ok
    # the dissenting specialist is kept, with the model's resolution
    assert [d.specialty for d in result.diagnosis.dissent] == ["pulmonology"]
    # real HTTP requests: tools were offered to specialists, tool results went back as tool messages
    specialist_requests = [r for r in server.requests if r["messages"][0]["content"].startswith("Role: specialist")]
    assert all(any(t["function"]["name"] == "calculate" for t in r.get("tools", [])) for r in specialist_requests)
    assert any(m["role"] == "tool" and '"evidence_id": "CA1"' in m["content"]
               for r in specialist_requests for m in r["messages"])
    # usage: per case and per agent, tokens from usage_metadata
    assert result.usage.calls == 6 and result.usage.retries == 0 and result.usage.repairs == 0
    assert result.usage.input_tokens > 0 and result.usage.output_tokens > 0
    per = usage_by_agent(result.usage)
    assert per["triage"]["calls"] == 1 and per["specialist:cardiology"]["calls"] == 2 and per["attending"]["calls"] == 1
    assert not result.issues


def test_rate_limit_is_retried_after_retry_after():
    script = ScriptedWard([Fault("429", role="triage")])
    result, server = _run(script)
    assert result.verified and result.usage.retries == 1 and not result.issues
    first, second = server.requests[0], server.requests[1]
    assert first == second  # the same request, sent again
    assert script.log[0] == ("triage", "fault:429")
    # Retry-After: 1 was honoured (backoff alone would have waited about 0.01 s)
    (_, rejected_at), (retried_at, _) = server.times[0], server.times[1]
    assert retried_at - rejected_at >= 0.9


@pytest.mark.parametrize("fault", [Fault("500", role="attending", times=2), Fault("malformed_body", role="triage"),
                                   Fault("timeout", role="specialist:cardiology", seconds=2.0)])
def test_transient_faults_are_retried_and_counted(fault):
    expected = fault.times
    result, _ = _run(ScriptedWard([Fault(fault.kind, fault.role, fault.times, fault.seconds)]), timeout=1.0)
    assert result.verified and result.verify().ok
    assert result.usage.retries == expected
    assert not result.issues
    assert result.diagnosis.primary.name == "Heart attack"


def test_malformed_answer_is_repaired_once():
    result, server = _run(ScriptedWard([Fault("bad_json", role="attending")]))
    assert result.verified and result.usage.repairs == 1 and not result.issues
    last = server.requests[-1]["messages"][-1]
    assert last["role"] == "user" and last["content"].startswith("REPAIR:") and "not a JSON object" in last["content"]
    assert result.diagnosis.rationale[0].citations


def test_unknown_tool_and_wrong_argument_types_go_back_to_the_model():
    result, server = _run(ScriptedWard([Fault("unknown_tool", role="specialist:cardiology"),
                                        Fault("wrong_args", role="specialist:pulmonology")]))
    assert result.verified and not result.issues
    tool_messages = [m["content"] for r in server.requests for m in r["messages"] if m["role"] == "tool"]
    assert any("no tool named 'magic_score'" in c for c in tool_messages)
    assert any(c.startswith("error: invalid arguments for calculate") and "inputs" in c for c in tool_messages)
    # after reading the errors, both specialists called the calculator correctly
    assert result.ledger["CA1"].tool == result.ledger["PU1"].tool == "calculator:mean_arterial_pressure"


def test_citation_of_missing_evidence_is_repaired():
    result, server = _run(ScriptedWard(bad_citations={"attending": "fix"}))
    assert result.verified and result.usage.repairs == 1 and not result.issues
    assert "E99" not in result.diagnosis.cited_ids()
    assert any(m["content"].startswith("REPAIR: these citations failed verification: [E99] does not exist")
               for m in server.requests[-1]["messages"] if m["role"] == "user")


@pytest.mark.parametrize("role", ["attending", "specialist:cardiology"])
def test_citation_that_stays_bad_is_removed_and_flagged(role):
    result, _ = _run(ScriptedWard(bad_citations={role: "persist"}))
    assert result.verified and result.verify().ok
    assert "E99" not in result.cited_ids()
    assert any(i.startswith(f"{role}: citation [E99] removed") for i in result.issues)
    assert result.usage.repairs == 1
    if role == "attending":
        assert "E99" in result.diagnosis.verification.removed


def test_model_failing_beyond_repair_falls_back_to_rules():
    result, _ = _run(ScriptedWard([Fault("bad_json", role="attending", times=5),
                                   Fault("500", role="triage", times=10)]), max_retries=2)
    assert result.verified and result.diagnosis.primary.name == "Heart attack"
    triage_issue = next(i for i in result.issues if i.startswith("triage:"))
    assert "gave up after attempt 3" in triage_issue and "rules" in triage_issue
    assert any(i.startswith("attending:") and "no usable answer after 1 repair" in i for i in result.issues)
    assert result.triage.agent == "rules (fallback from openai:loopback-model)"
    assert result.usage.retries == 2 and result.usage.repairs == 1 and result.usage.model_extra["fallbacks"] == 2


def test_response_cache_makes_reruns_free_and_identical(tmp_path):
    cache = str(tmp_path / "responses.sqlite")
    with LoopbackServer(ScriptedWard()) as server:
        first = wr.run(CASE, model=_spec(server, cache=cache), knowledge=FIXTURE_KB)
        clear_clients()
        calls = len(server.requests)
        second = wr.run(CASE, model=_spec(server, cache=cache), knowledge=FIXTURE_KB)
        assert len(server.requests) == calls  # nothing went over the wire
    assert first.usage.calls == 6 and second.usage.calls == 0 and second.usage.model_extra["cache_hits"] == 6
    assert second.usage.cost_usd == 0 and second.diagnosis == first.diagnosis
    assert list(second.ledger.entries) == list(first.ledger.entries)


def test_per_role_models_and_a_chat_model_instance():
    with LoopbackServer(ScriptedWard()) as server:
        model = ChatOpenAI(model="instance-model", base_url=server.base_url, api_key="k", max_retries=0)
        result = wr.run(CASE, model="rules", specialist_model=model, knowledge=FIXTURE_KB)
    assert result.verified
    assert result.triage.agent == "rules"
    assert {op.agent for op in result.opinions} == {"instance:instance-model"}
    assert result.diagnosis.verification.verified and "CA1" in result.ledger


def test_stream_shows_tokens_tool_calls_and_evidence_per_specialist():
    with LoopbackServer(ScriptedWard()) as server:
        graph = build_graph()
        config = {"configurable": {"ward": WardConfig(model=_spec(server), knowledge=FIXTURE_KB)}}
        tokens: dict[str, str] = {}
        events = []
        for mode, chunk in graph.stream({"case": wr.Case.from_dict(CASE)}, config, stream_mode=["messages", "custom"]):
            if mode == "messages":
                message, metadata = chunk
                tokens[metadata["wardround_agent"]] = tokens.get(metadata["wardround_agent"], "") + message.content
            else:
                events.append(chunk)
    assert set(tokens) == {"triage", "specialist:cardiology", "specialist:pulmonology", "attending"}
    assert json.loads(tokens["triage"])["specialties"] == ["cardiology", "pulmonology"]
    kinds = {(e["agent"], e["event"]) for e in events}
    for specialist in ("specialist:cardiology", "specialist:pulmonology"):
        assert {(specialist, "tool_call"), (specialist, "tool_result"), (specialist, "evidence")} <= kinds
    assert {"CA1", "CA2", "PU1", "PU2"} == {e["id"] for e in events if e["event"] == "evidence"}


def test_cli_run_against_any_openai_compatible_server(tmp_path):
    case = tmp_path / "case.json"
    case.write_text(json.dumps(CASE))
    with LoopbackServer(ScriptedWard()) as server:
        env = {**os.environ, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "test-key", "COLUMNS": "200"}
        out = subprocess.run([sys.executable, "-m", "wardround.cli", "run", str(case), "--model", "openai:loopback",
                              "--knowledge", FIXTURE_KB, "--stream"], capture_output=True, text=True, env=env,
                             timeout=120)
        assert out.returncode == 0, out.stderr
        assert "calls calculate" in out.stdout and "new evidence [CA1]" in out.stdout
        assert "verified: True" in out.stdout
        as_json = subprocess.run([sys.executable, "-m", "wardround.cli", "run", str(case), "--model", "openai:loopback",
                                  "--knowledge", FIXTURE_KB, "--json"], capture_output=True, text=True, env=env,
                                 timeout=120)
    result = wr.WardResult.model_validate_json(as_json.stdout)
    assert result.verified and result.usage.calls == 6 and result.opinions[0].agent == "openai:loopback"
