"""Specialists in LLM mode calling the tools of a configured MCP server, tested against `wardround mcp` itself.

The chat model is a scripted ward behind the loopback OpenAI-compatible server (``loopback.py``); the MCP server
is the real `wardround mcp` subprocess (stdio, and streamable HTTP on loopback), reached through
langchain-mcp-adapters. Every MCP result must enter the ledger as tool evidence that is cited and verifies.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from loopback import LoopbackServer, Reply, ScriptedWard

import wardround as wr
from wardround.agents.llm_agents import _mcp_digest, close_mcp_sessions
from wardround.evidence import Ledger
from wardround.llm import ModelSpec, clear_clients
from wardround.tools.calculators import calculate

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_KB = str(ROOT / "tests" / "fixtures" / "kb")
CASE = {
    "id": "mcp-1", "age": 70, "sex": "male",
    "note": "70 yo man with crushing chest pain for an hour. Denies cough or fever.",
    "vitals": {"heart_rate": 110, "temperature_c": 37.0, "systolic_bp": 150, "diastolic_bp": 90},
    "labs": [{"name": "troponin", "value": 1.2, "unit": "ng/mL"}],
}
STDIO = {"name": "wardround", "command": sys.executable, "args": ["-m", "wardround.cli", "mcp"],
         "cwd": str(ROOT), "env": {**os.environ, "HF_HUB_OFFLINE": "1"}, "timeout": 90,
         "tools": ["calculate", "curb_65", "lookup_condition"]}
MAP_ARGS = {"calculator_id": "mean_arterial_pressure", "inputs": {"systolic_bp": "150 mmHg", "diastolic_bp": "90 mmHg"}}


class McpScriptedWard(ScriptedWard):
    """Specialists first call the MCP server's ``calculate`` and, with bad arguments, its ``curb_65``."""

    def _specialist(self, request: dict[str, Any], specialty: str, fault: Any, repairing: bool) -> Reply:
        offered = {t["function"]["name"] for t in request.get("tools") or []}
        answered = [m for m in request.get("messages", []) if m.get("role") == "tool"]
        if "wardround_calculate" in offered and not answered:
            self.log.append((f"specialist:{specialty}", "mcp"))
            return Reply(tool_calls=[{"name": "wardround_calculate", "arguments": MAP_ARGS},
                                     {"name": "wardround_curb_65", "arguments": {"age": "old"}}])
        return super()._specialist(request, specialty, fault, repairing)


@pytest.fixture(autouse=True)
def _fresh():
    clear_clients()
    close_mcp_sessions()
    yield
    close_mcp_sessions()
    clear_clients()


def _spec(server: LoopbackServer) -> ModelSpec:
    return ModelSpec(spec="openai:loopback-model", base_url=server.base_url, api_key="test-key", backoff=0.01)


def _run(mcp_servers: list[dict[str, Any]]) -> tuple[wr.WardResult, LoopbackServer, McpScriptedWard]:
    script = McpScriptedWard()
    with LoopbackServer(script) as server:
        result = wr.run(CASE, model=_spec(server), knowledge=FIXTURE_KB, mcp_servers=mcp_servers)
    return result, server, script


def _check_mcp_evidence(result: wr.WardResult, server: LoopbackServer) -> None:
    """CA1 and PU1 are the MCP calculator results: recorded, cited, verified, equal to the Python API."""
    expected = calculate("mean_arterial_pressure", MAP_ARGS["inputs"])
    for eid in ("CA1", "PU1"):
        ev = result.ledger[eid]
        assert ev.kind == "tool" and ev.tool == "mcp:wardround/calculate" and ev.producer in ("cardiology",
                                                                                            "pulmonology")
        payload = json.loads(ev.value)
        assert payload["value"] == expected.value == 110 and payload["inputs_used"] == expected.inputs
        assert ev.unit == "mmHg" and ev.statement.startswith("Mean Arterial Pressure") and ev.sha256
        assert ev.inputs == MAP_ARGS
    assert result.verified and result.verify().ok
    assert {"CA1", "PU1"} <= set(result.cited_ids())
    assert "CA1" in result.diagnosis.cited_ids()
    assert result.ledger.verify(wr.Case.from_dict(CASE), ["CA1", "PU1"]).ok
    specialist_requests = [r for r in server.requests if r["messages"][0]["content"].startswith("Role: specialist")]
    offered = {t["function"]["name"] for r in specialist_requests for t in r.get("tools", [])}
    assert {"wardround_calculate", "wardround_curb_65", "wardround_lookup_condition"} <= offered
    assert "wardround_run_case" not in offered  # only the tools the configuration names
    tool_messages = [m["content"] for r in specialist_requests for m in r["messages"] if m["role"] == "tool"]
    assert any('"evidence_id": "CA1"' in c and '"tool": "wardround_calculate"' in c for c in tool_messages)
    # the malformed call came back from the MCP server as an error the model can read, and nothing was recorded
    assert any(c.startswith("error:") and "curb_65" in c and "missing required inputs" in c for c in tool_messages)
    assert not any(ev.tool == "mcp:wardround/curb_65" for ev in result.ledger)


def test_specialists_use_wardround_mcp_tools_over_stdio_and_results_verify():
    result, server, script = _run([STDIO])
    assert ("specialist:cardiology", "mcp") in script.log and ("specialist:pulmonology", "mcp") in script.log
    _check_mcp_evidence(result, server)
    assert not result.issues, result.issues
    assert result.diagnosis.primary.name == "Heart attack"
    again = wr.WardResult.model_validate_json(result.model_dump_json())  # the evidence survives JSON
    assert again.ledger["CA1"] == result.ledger["CA1"] and again.verify().ok

    # tampering with a recorded MCP result fails verification ...
    ev = result.ledger["CA1"]
    changed = ev.model_copy(update={"value": ev.value.replace("110", "120")})
    report = Ledger(entries={**result.ledger.entries, "CA1": changed}).verify(result.case, ["CA1"])
    assert not report.ok and "sha256 mismatch" in report.failures[0].reason
    # ... and so does a result re-sealed with a value the local calculator does not reproduce
    resealed = changed.model_copy(update={"sha256": _mcp_digest(ev.tool, ev.inputs, changed.value, ev.unit,
                                                                ev.statement)})
    report = Ledger(entries={**result.ledger.entries, "CA1": resealed}).verify(result.case, ["CA1"])
    assert not report.ok and "recomputes to 110" in report.failures[0].reason


def test_specialists_use_wardround_mcp_over_streamable_http():
    proc = subprocess.Popen([sys.executable, "-m", "wardround.cli", "mcp", "--http", "--port", "0"],
                            env={**os.environ, "HF_HUB_OFFLINE": "1"}, cwd=str(ROOT), stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, text=True)
    try:
        line, deadline = "", time.monotonic() + 60
        while time.monotonic() < deadline and "http://127.0.0.1:" not in line:
            line = proc.stderr.readline() if proc.stderr else ""
            if not line and proc.poll() is not None:
                break
        url = line.split("wardround MCP server: ", 1)[1].split()[0]
        http = {"name": "wardround", "transport": "streamable_http", "url": url,
                "tools": ["calculate", "curb_65", "lookup_condition"]}
        result, server, _ = _run([http])
    finally:
        close_mcp_sessions()
        proc.terminate()
        proc.wait(timeout=20)
    _check_mcp_evidence(result, server)
    assert not result.issues, result.issues


@pytest.mark.parametrize("hangs", [False, True], ids=["exits-at-once", "never-answers"])
def test_an_unreachable_mcp_server_is_reported_and_the_ward_round_goes_on(hangs, tmp_path):
    pid_file = tmp_path / "pid"
    program = (f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(120)" if hangs
               else "import sys; sys.exit(3)")
    dead = {"name": "broken", "command": sys.executable, "args": ["-c", program], "timeout": 3.0 if hangs else 20.0}
    started = time.monotonic()
    result, server, _ = _run([dead])
    assert time.monotonic() - started < 60
    assert result.verified and result.diagnosis.primary.name == "Heart attack"
    reported = [i for i in result.issues if "MCP server 'broken' is unavailable" in i]
    assert len(reported) == 2, result.issues  # once per specialist, naming the server
    if hangs:
        assert "Waited 3.0 seconds" in reported[0]
        pid = int(pid_file.read_text())
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.2)
        assert not _alive(pid), "the server that never answered was left running"
    # the specialists went on with the built-in calculator
    assert result.ledger["CA1"].tool == "calculator:mean_arterial_pressure"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as fh:  # a zombie has exited
            return fh.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:  # no /proc: the signal check is all there is
        return True
