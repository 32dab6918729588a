"""The MCP tool catalogue without a transport, the MCP server configuration, and MCP evidence verification."""

from __future__ import annotations

import json

import pytest
from langchain_core.utils.function_calling import convert_to_openai_tool

from wardround.agents.llm_agents import (
    _content_text,
    _mcp_digest,
    mcp_result_to_evidence,
    verify_mcp_evidence,
)
from wardround.config import McpServer, WardConfig, ward_config
from wardround.errors import ConfigError
from wardround.evidence import EvidenceWriter, Ledger
from wardround.mcp import META_TOOLS, Catalogue, ToolCallError
from wardround.tools.calculators import all_calculators, calculate
from wardround.tools.calculators.tools import calculator_tool, result_payload


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue()


def test_catalogue_serves_every_calculator_with_the_langchain_tool_schema(catalogue):
    calcs = all_calculators()
    assert list(catalogue.tools)[: len(META_TOOLS)] == list(META_TOOLS)
    assert set(catalogue.tools) == set(calcs) | set(META_TOOLS)
    for cid, calc in calcs.items():
        reused = convert_to_openai_tool(calculator_tool(calc))["function"]
        spec = catalogue.tools[cid]
        assert spec.input_schema == {**reused["parameters"], "type": "object"}, cid
        assert spec.description == reused["description"] and spec.title == calc.name


def test_calculator_tools_give_the_python_api_result(catalogue):
    inputs = {"weight": "176 lb", "height": [180, "cm"]}
    expected = result_payload(calculate("bmi", inputs))
    assert catalogue.call("bmi", inputs) == expected
    assert catalogue.call("calculate", {"calculator_id": "bmi", "inputs": inputs}) == expected
    assert catalogue.call("bmi", {**inputs, "weight": None, "Weight": "80 kg"})["inputs_used"]["weight"] == 80


@pytest.mark.parametrize(("name", "args", "expected"), [
    ("bmi", {"weight": "80 kg"}, "bmi: height: missing required input for bmi"),
    ("bmi", {"weight": "80 kg", "height": "180 parsecs"}, "unknown unit"),
    ("curb_65", {"age": -4}, "curb_65:"),
    ("calculate", {"inputs": {}}, "invalid arguments for calculate: calculator_id: Field required"),
    ("calculate", {"calculator_id": "bmi_", "inputs": {}}, "did you mean bmi"),
    ("list_calculators", {"category": "cardiology"}, "category: unknown category 'cardiology'"),
    ("lookup_condition", {"condition": "acute gut"}, "did you mean 'Acute gout flare'"),
    ("lookup_condition", {}, "condition: Field required"),
    ("run_case", {"note": "chest pain", "case": {"note": "x"}}, "exactly one of 'case'"),
    ("run_case", {"note": "   "}, "note: the note is empty"),
    ("run_case", {"case": {"age": "seventy", "note": "chest pain"}}, "age"),
    ("find_calculators", {"query": "x"}, "did you mean find_calculator"),
])
def test_refused_calls_name_the_field_and_the_fix(catalogue, name, args, expected):
    with pytest.raises(ToolCallError) as err:
        catalogue.call(name, args)
    assert expected in str(err.value)
    assert "\n" not in str(err.value)


def test_arguments_must_be_an_object(catalogue):
    with pytest.raises(ToolCallError, match="must be a JSON object"):
        catalogue.call("bmi", ["80 kg", "180 cm"])  # type: ignore[arg-type]


def test_lookup_condition_gives_every_number_with_its_source(catalogue):
    cond = catalogue.call("lookup_condition", {"condition": "DKA"})
    assert cond["id"] == "diabetic_ketoacidosis" or "ketoacidosis" in cond["name"].lower()
    assert cond["icd10"] and cond["prior"]["source"]["key"]
    assert cond["references"] and all(r["key"] for r in cond["references"])
    assert all(f["source"] is None or f["source"]["key"] for f in cond["findings"])
    json.dumps(cond)  # plain JSON


def test_describe_and_list_and_find(catalogue):
    d = catalogue.call("describe_calculator", {"calculator_id": "ckd_epi_2021"})
    assert "mg/dL" in d["inputs"]["creatinine"]["accepts"] and "PMID" in d["reference"]
    assert d["input_schema"] == catalogue.tools["ckd_epi_2021"].input_schema
    listed = catalogue.call("list_calculators", {})
    assert listed["count"] == len(all_calculators()) == len(listed["calculators"])
    found = catalogue.call("find_calculator", {"query": "pneumonia severity"})["calculators"]
    assert any(c["id"] == "curb_65" for c in found)


def test_run_case_on_a_note_returns_a_verified_cited_diagnosis(catalogue):
    out = catalogue.call("run_case", {"note": "72 year old man with cough, fever 39C, confusion, respiratory rate "
                                              "32, BP 85/50, urea 9 mmol/L"})
    assert out["verified"] is True and out["primary"]["icd10"]
    cited = {i for s in out["rationale"] for i in s["citations"]} | set(out["primary"]["supporting"])
    assert cited and cited <= set(out["evidence"])  # every cited id comes with what it stands for
    json.dumps(out)


# ---------------------------------------------------------------------------------------------------------
# configuration


def test_mcp_server_configuration_is_checked():
    cfg = WardConfig(mcp_servers=[{"name": "wardround", "command": "wardround", "args": ["mcp"]},
                                  {"name": "remote", "transport": "streamable_http",
                                   "url": "http://127.0.0.1:8765/mcp", "tools": ["bmi"]}])
    assert cfg.mcp_servers[0].connection() == {"transport": "stdio", "command": "wardround", "args": ["mcp"],
                                               "env": None, "cwd": None}
    assert cfg.mcp_servers[1].connection()["url"].endswith("/mcp")
    with pytest.raises(ValueError, match="needs 'command'"):
        McpServer(name="x")
    with pytest.raises(ValueError, match="needs 'url'"):
        McpServer(name="x", transport="streamable_http", url="127.0.0.1:8765")
    with pytest.raises(ValueError, match="name"):
        McpServer(name="Bad Name", command="x")
    with pytest.raises(ValueError, match="share a name"):
        WardConfig(mcp_servers=[{"name": "a", "command": "x"}, {"name": "a", "command": "y"}])
    with pytest.raises(ConfigError, match="mcp_servers"):
        ward_config({"configurable": {"ward": {"mcp_servers": [{"name": "a", "transport": "sse", "url": "x"}]}}})


# ---------------------------------------------------------------------------------------------------------
# evidence


def _calc_evidence() -> tuple[Ledger, str]:
    writer = EvidenceWriter("CA", "cardiology")
    args = {"calculator_id": "mean_arterial_pressure", "inputs": {"systolic_bp": 150, "diastolic_bp": 90}}
    payload = result_payload(calculate("mean_arterial_pressure", args["inputs"]))
    ev = mcp_result_to_evidence(writer, "wardround", "calculate", args, json.dumps(payload), payload)
    return Ledger(entries=writer.items), ev.id


def test_mcp_calculator_result_is_sealed_and_recomputes():
    ledger, eid = _calc_evidence()
    ev = ledger[eid]
    assert ev.kind == "tool" and ev.tool == "mcp:wardround/calculate" and ev.unit == "mmHg"
    assert ev.statement == "Mean Arterial Pressure (MAP) = 110 mmHg (normal or high) [MCP wardround/calculate]"
    assert ev.reference and ev.sha256 and ledger.verify().ok
    assert verify_mcp_evidence(ev) is None


def test_tampered_mcp_evidence_fails():
    ledger, eid = _calc_evidence()
    ev = ledger[eid]
    for change in ({"statement": ev.statement.replace("110", "100")}, {"inputs": {"x": 1}}, {"unit": "kPa"},
                   {"sha256": None}):
        assert verify_mcp_evidence(ev.model_copy(update=change)), change
    value = ev.value.replace('"value": 110.0', '"value": 95.0')
    assert value != ev.value
    resealed = ev.model_copy(update={"value": value, "sha256": _mcp_digest(ev.tool, ev.inputs, value, ev.unit,
                                                                          ev.statement)})
    assert "recomputes to 110" in verify_mcp_evidence(resealed)


def test_other_mcp_results_are_sealed_text():
    writer = EvidenceWriter("PU", "pulmonology")
    ev = mcp_result_to_evidence(writer, "guidelines", "search", {"q": "asthma"}, "GINA 2024: step 1 ... " * 30)
    assert ev.statement.startswith("guidelines/search: GINA 2024") and len(ev.statement) <= 260
    assert verify_mcp_evidence(ev) is None
    assert verify_mcp_evidence(ev.model_copy(update={"value": "something else"}))
    foreign = {"calculator_id": "their_score", "value": 3, "unit": "points", "inputs_used": {"a": 1}}
    ev2 = mcp_result_to_evidence(writer, "other", "their_score", {"a": 1}, json.dumps(foreign), foreign)
    assert verify_mcp_evidence(ev2) is None  # not a local calculator: the seal is what can be checked


def test_content_text_joins_text_blocks():
    assert _content_text("plain") == "plain"
    assert _content_text([{"type": "text", "text": "a"}, {"type": "image", "base64": "xx"}, "b"]) == \
        "a\n[image omitted]\nb"
