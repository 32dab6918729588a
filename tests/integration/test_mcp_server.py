"""`wardround mcp` against a real `mcp` client session: the server runs as a subprocess (stdio, and streamable
HTTP on loopback), tools are listed and called, and results are compared with the Python API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

import wardround as wr
from wardround.mcp import META_TOOLS
from wardround.tools.calculators import all_calculators, calculate
from wardround.tools.calculators.tools import result_payload

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}

#: Ten calculators across categories, with inputs in mixed units (converted by the server as by the Python API).
TEN = {
    "curb_65": {"confusion": True, "bun": "25 mg/dL", "respiratory_rate": 32, "systolic_bp": 85,
                "diastolic_bp": 50, "age": 72},
    "bmi": {"weight": "176 lb", "height": "180 cm"},
    "mean_arterial_pressure": {"systolic_bp": 150, "diastolic_bp": 90},
    "anion_gap": {"sodium": "140 mmol/L", "chloride": 100, "bicarbonate": 18},
    "creatinine_clearance": {"age": 70, "sex": "female", "weight": "60 kg", "creatinine": "88 µmol/L"},
    "qtc_bazett": {"qt_interval": "400 ms", "heart_rate": 90},
    "ckd_epi_2021": {"age": 55, "sex": "male", "creatinine": "1.4 mg/dL"},
    "cha2ds2_vasc": {"age": 76, "sex": "female", "congestive_heart_failure": False, "hypertension": True,
                     "diabetes": True, "stroke": False, "transient_ischemic_attack": False,
                     "thromboembolism": False, "vascular_disease": True},
    "meld_na": {"creatinine": 1.9, "total_bilirubin": "3.2 mg/dL", "inr": 1.8, "sodium": 128,
                "dialysis_twice_past_week": False, "cvvhd_past_week": False},
    "estimated_due_date": {"last_menstrual_period": "2024-05-23"},
}


def _server_params() -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, args=["-m", "wardround.cli", "mcp"], env=ENV, cwd=str(ROOT))


def in_session(scenario: Callable[[ClientSession], Awaitable[Any]]) -> Any:
    """Start `wardround mcp` as a subprocess, open a real client session over stdio and run ``scenario``."""
    async def main() -> Any:
        async with stdio_client(_server_params()) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            return await scenario(session)
    return anyio.run(main)


def _python(calculator_id: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """What the Python API gives, as JSON (the form the MCP result travels in)."""
    return json.loads(json.dumps(result_payload(calculate(calculator_id, inputs)), default=str))


def test_lists_every_calculator_with_its_typed_schema_and_units():
    async def scenario(session: ClientSession) -> Any:
        return (await session.list_tools()).tools

    tools = {t.name: t for t in in_session(scenario)}
    calcs = all_calculators()
    assert set(calcs) | set(META_TOOLS) == set(tools), "every calculator and every meta tool, nothing else"
    assert len(tools) == len(calcs) + len(META_TOOLS) >= 86
    for cid, calc in calcs.items():
        schema = tools[cid].inputSchema
        assert schema["type"] == "object" and set(schema["properties"]) == set(calc.fields), cid
        required = {f for f, info in calc.fields.items() if info.required}
        assert set(schema.get("required", [])) == required, cid
        assert tools[cid].annotations.readOnlyHint is True
    creatinine = tools["ckd_epi_2021"].inputSchema["properties"]["creatinine"]["description"]
    assert "mg/dL" in creatinine and "µmol/L" in creatinine and "range" in creatinine  # units and range travel
    assert tools["calculate"].inputSchema["required"] == ["calculator_id", "inputs"]
    assert "case" in tools["run_case"].inputSchema["properties"]


def test_ten_calculators_give_the_same_results_as_the_python_api():
    async def scenario(session: ClientSession) -> Any:
        direct, generic = {}, {}
        for cid, inputs in TEN.items():
            direct[cid] = await session.call_tool(cid, inputs)
            generic[cid] = await session.call_tool("calculate", {"calculator_id": cid, "inputs": inputs})
        return direct, generic

    direct, generic = in_session(scenario)
    for cid, inputs in TEN.items():
        expected = _python(cid, inputs)
        for result in (direct[cid], generic[cid]):
            assert not result.isError, result.content[0].text
            assert result.structuredContent == expected, cid
            assert json.loads(result.content[0].text) == expected  # the text block carries the same JSON
    assert direct["curb_65"].structuredContent["value"] == 5
    assert isinstance(direct["estimated_due_date"].structuredContent["value"], str)  # an ISO date


def test_bad_arguments_are_mcp_errors_and_the_server_keeps_serving():
    bad_calls = [
        ("curb_65", {"age": 72}, "missing required inputs"),
        ("bmi", {"weight": "80 kg", "height": "9 m"}, "outside the accepted range"),
        ("anion_gap", {"sodium": "140 furlongs", "chloride": 100, "bicarbonate": 18}, "unknown unit"),
        ("bmi", {"weight": "80 kg", "height": "180 cm", "shoe_size": 44}, "not an input of bmi"),
        ("calculate", {"calculator_id": "curb65x", "inputs": {}}, "unknown calculator"),
        ("calculate", {"calculator_id": "bmi", "inputs": "weight 80"}, "invalid arguments for calculate"),
        ("no_such_tool", {}, "unknown tool 'no_such_tool'"),
        ("run_case", {}, "exactly one of 'case'"),
        ("lookup_condition", {"condition": "dragon pox"}, "no condition 'dragon pox'"),
        ("describe_calculator", {"calculator_id": 42}, "invalid arguments for describe_calculator"),
    ]

    async def scenario(session: ClientSession) -> Any:
        seen = []
        for name, args, _ in bad_calls:
            bad = await session.call_tool(name, args)
            good = await session.call_tool("mean_arterial_pressure", {"systolic_bp": 120, "diastolic_bp": 60})
            seen.append((bad, good))
        await session.send_ping()
        return seen

    for (name, _args, expected), (bad, good) in zip(bad_calls, in_session(scenario), strict=True):
        assert bad.isError, name
        text = bad.content[0].text
        assert text.startswith("error: ") and expected in text, (name, text)
        assert "\n" not in text and "Traceback" not in text
        assert not good.isError and good.structuredContent["value"] == 80  # the server still serves


def test_run_case_returns_the_cited_verified_diagnosis_and_lookup_gives_sources():
    case_file = ROOT / "examples" / "cases" / "chest_pain.json"
    case = json.loads(case_file.read_text())

    async def scenario(session: ClientSession) -> Any:
        ran = await session.call_tool("run_case", {"case": case})
        noted = await session.call_tool("run_case", {"note": case["note"]})
        looked = await session.call_tool("lookup_condition", {"condition": "Pulmonary embolism"})
        described = await session.call_tool("describe_calculator", {"calculator_id": "wells_pe"})
        listed = await session.call_tool("list_calculators", {"category": "lab"})
        return ran, noted, looked, described, listed

    ran, noted, looked, described, listed = in_session(scenario)
    assert not ran.isError, ran.content[0].text
    payload = ran.structuredContent
    expected = wr.run(case)
    assert payload["verified"] is True and expected.verified
    assert payload["primary"]["name"] == expected.diagnosis.primary.name
    assert payload["primary"]["icd10"] == expected.diagnosis.primary.icd10
    assert [d["condition"] for d in payload["differential"]] == [d.condition for d in expected.diagnosis.differential]
    cited = expected.diagnosis.cited_ids()
    assert cited and set(payload["evidence"]) == {i for i in cited if i in expected.ledger}
    assert all(payload["evidence"][i]["statement"] == expected.ledger[i].statement for i in payload["evidence"])
    assert "Primary" in payload["report"] or expected.diagnosis.primary.name in payload["report"]
    assert not noted.isError and noted.structuredContent["case_id"] == "mcp-case"

    cond = looked.structuredContent
    assert cond["id"] == "pulmonary_embolism" and cond["icd10"].startswith("I26")
    assert cond["prior"]["source"]["key"] and cond["findings"]
    assert any(f["source"] and f["source"]["key"].startswith(("PMID:", "DOI:")) for f in cond["findings"])
    assert described.structuredContent["reference"].count("PMID") >= 1
    assert set(described.structuredContent["input_schema"]["properties"]) == set(all_calculators()["wells_pe"].fields)
    assert {c["category"] for c in listed.structuredContent["calculators"]} == {"lab"}


def test_streamable_http_on_loopback():
    from mcp.client.streamable_http import streamable_http_client

    proc = subprocess.Popen([sys.executable, "-m", "wardround.cli", "mcp", "--http", "--port", "0"], env=ENV,
                            cwd=str(ROOT), stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        deadline = time.monotonic() + 60
        line = ""
        while time.monotonic() < deadline and "http://127.0.0.1:" not in line:
            line = proc.stderr.readline() if proc.stderr else ""
            if not line and proc.poll() is not None:
                break
        assert "http://127.0.0.1:" in line, f"the server did not announce its URL (said {line!r})"
        url = line.split("wardround MCP server: ", 1)[1].split()[0]
        assert url.endswith("/mcp")

        async def main() -> Any:
            async with streamable_http_client(url) as (read, write, _), ClientSession(read, write) as session:
                await session.initialize()
                tools = (await session.list_tools()).tools
                ok = await session.call_tool("bmi", TEN["bmi"])
                bad = await session.call_tool("bmi", {"weight": "80 kg"})
                again = await session.call_tool("qtc_bazett", TEN["qtc_bazett"])
                return tools, ok, bad, again

        tools, ok, bad, again = anyio.run(main)
        assert {t.name for t in tools} >= set(all_calculators())
        assert ok.structuredContent == _python("bmi", TEN["bmi"])
        assert bad.isError and "missing required input" in bad.content[0].text
        assert again.structuredContent == _python("qtc_bazett", TEN["qtc_bazett"])

        import httpx  # a request naming another host is refused (DNS rebinding protection)

        port = url.split(":")[2].split("/")[0]
        refused = httpx.post(url, headers={"Host": f"evil.example:{port}", "content-type": "application/json",
                                           "accept": "application/json, text/event-stream"},
                             json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
        assert refused.status_code in (400, 403, 421)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.parametrize("option", [["--port", "70000"]])
def test_cli_rejects_a_bad_port(option):
    out = subprocess.run([sys.executable, "-m", "wardround.cli", "mcp", "--http", *option], env=ENV, cwd=str(ROOT),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "--port" in out.stderr
