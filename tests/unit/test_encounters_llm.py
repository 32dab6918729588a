"""The LLM doctor against a scripted chat model behind a loopback OpenAI-compatible server (127.0.0.1, real HTTP):
tool calls become actions, the gatekeeper still answers only from the row, a bad tool call is sent back once,
the model's citations are verified (a made-up id is removed and flagged), and tokens are counted."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from loopback import LoopbackServer, Reply  # noqa: E402

from wardround.encounters import DDXPlusGatekeeper, EncounterConfig, run_encounter  # noqa: E402
from wardround.encounters.llm_doctor import LLMDoctor  # noqa: E402
from wardround.evals.ddxplus import DDXPlusRelease, load_ddxplus  # noqa: E402
from wardround.llm import ModelSpec, clear_clients  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_clients():
    clear_clients()
    yield
    clear_clients()


@pytest.fixture(scope="module")
def patient(wardround_data: Path):
    folder = wardround_data / "ddxplus"
    if not (folder / "patients_dev.csv").is_file():
        pytest.skip(f"DDXPlus dev file not found under {folder}")
    release = DDXPlusRelease.from_dir(folder)
    return release, load_ddxplus(folder / "patients_dev.csv", release=release, limit=5)[4]


class ScriptedDoctor:
    """Plays the doctor: a bad tool first, then ask, examine, and diagnose citing two real ids and a made-up one."""

    def __init__(self, ask: str, gold: str) -> None:
        self.ask, self.gold = ask, gold
        self.bad_sent = False

    def __call__(self, request: dict[str, Any]) -> Reply:
        user = [m for m in request["messages"] if m["role"] == "user"][0]["content"]
        turn = int(re.search(r"You have used (\d+)", user).group(1))
        if turn == 0 and not self.bad_sent:
            self.bad_sent = True
            return Reply(tool_calls=[{"name": "prescribe", "arguments": {"drug": "x"}}])
        if turn == 0:
            return Reply(tool_calls=[{"name": "ask", "arguments": {"target": self.ask}}])
        if turn == 1:
            return Reply(tool_calls=[{"name": "examine", "arguments": {"target": "chest"}}])
        return Reply(tool_calls=[{"name": "diagnose", "arguments": {
            "diagnosis": self.gold, "differential": ["Guillain-Barré syndrome"], "cited": ["EN1", "EN2", "EN99"],
            "confidence": 0.8}}])


def test_llm_doctor_over_loopback_http(patient) -> None:
    release, item = patient
    absent_code = next(e for e in release.evidence_names if e not in release.present(item.evidences)
                       and release.root_of(e) == e)
    script = ScriptedDoctor(absent_code, item.pathology)
    with LoopbackServer(script) as server:
        spec = ModelSpec(spec="openai:loopback-doctor", base_url=server.base_url, api_key="test-key", backoff=0.01)
        doctor = LLMDoctor(spec, max_turns=10)
        result = run_encounter(DDXPlusGatekeeper(item, release), doctor, EncounterConfig(max_turns=10))
    assert [t.action.kind for t in result.turns] == ["ask", "ask", "examine"]
    assert result.turns[1].action.target == absent_code and result.turns[1].answer.status == "absent"
    assert result.turns[2].answer.status == "not_available"
    # the unknown tool went back to the model as a tool error, and every request offered the four tools
    assert any(m["role"] == "tool" and "no tool named 'prescribe'" in m["content"]
               for r in server.requests for m in r["messages"])
    assert all({t["function"]["name"] for t in r["tools"]} == {"Ask", "Examine", "OrderTest", "Diagnose"}
               or {t["function"]["name"] for t in r["tools"]} == {"ask", "examine", "order_test", "diagnose"}
               for r in server.requests)
    dx = result.diagnosis
    assert dx["primary"]["name"] == item.pathology and dx["primary"]["probability"] == 0.8
    assert dx["primary"]["supporting"] == ["EN1", "EN2"]  # EN99 does not exist: removed and flagged
    assert dx["verification"]["removed"] == ["EN99"] and not result.verified
    assert result.usage["calls"] == 4 and result.usage["input_tokens"] > 0
    assert json.dumps(result.model_dump(mode="json"))  # the whole result serialises
