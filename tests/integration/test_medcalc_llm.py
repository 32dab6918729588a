"""MedCalc-Bench note mode with a chat model, over real HTTP: langchain-openai against the loopback server.

The scripted model (``ScriptedReader``) plays the two roles wardround prompts for (``medcalc choose``: pick the
calculator from the listed registry; ``medcalc fill``: read the asked inputs from the note with their quoted
spans); per-field overrides inject the faults a real model makes (an invented span, a wrong unit).
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest
from loopback import LoopbackServer, Reply
from typer.testing import CliRunner

from wardround.cli import app
from wardround.evals.datasets.medcalc import medcalc_task
from wardround.evals.runner import RunOptions, run_task
from wardround.llm import PRICES, ModelSpec, clear_clients
from wardround.tools.calculators import calculate

runner = CliRunner()

#: field -> pattern whose group 1 is the value and group 2 (when present) the unit; the span is the whole match
READERS: dict[str, str] = {
    "age": r"(\d+)-year-old()",
    "sex": r"\b(man|woman|male|female)\b",
    "weight": r"[Ww]eight(?: was| of|:)? (\d+(?:\.\d+)?) ?(kg|lb)\b",
    "height": r"[Hh]eight(?: was| of|:)? (\d+(?:\.\d+)?) ?(cm|m|in)\b",
    "creatinine": r"[Cc]reatinine(?: was| of|:)? (\d+(?:\.\d+)?) ?(mg/dL|µmol/L)",
    "systolic_bp": r"blood pressure (?:was |of )?(\d+)/\d+ ?(mmHg)",
    "diastolic_bp": r"blood pressure (?:was |of )?\d+/(\d+) ?(mmHg)",
}


class ScriptedReader:
    """A careful model: the calculator whose name shares most words with the question; inputs read by pattern."""

    def __init__(self, overrides: dict[str, Any] | None = None) -> None:
        self.overrides = dict(overrides or {})
        self.log: list[tuple[str, list[str]]] = []

    def __call__(self, request: dict[str, Any]) -> Reply:
        messages = request.get("messages", [])
        system = messages[0]["content"]
        user = messages[1]["content"]
        if system.startswith("Role: medcalc choose"):
            question = user.split("Question:\n", 1)[1].split("\n\nCalculators", 1)[0].lower()
            words = set(re.findall(r"[a-z]+", question))
            catalog = re.findall(r"^- (\w+): (.+)$", user, re.M)
            best = max(catalog, key=lambda c: len(words & set(re.findall(r"[a-z]+", c[1].lower()))))
            self.log.append(("choose", [best[0]]))
            return Reply(content=json.dumps({"calculator_id": best[0]}))
        if system.startswith("Role: medcalc fill"):
            fields = re.findall(r"^- (\w+) \[", user, re.M)
            note = re.search(r'Note:\n"""\n(.*)\n"""', user, re.S).group(1)  # type: ignore[union-attr]
            inputs: dict[str, Any] = {}
            for name in fields:
                if name in self.overrides:
                    inputs[name] = self.overrides[name]
                    continue
                m = re.search(READERS[name], note) if name in READERS else None
                if m is None:
                    inputs[name] = None
                elif name == "sex":
                    inputs[name] = {"value": "female" if m.group(1) in ("woman", "female") else "male",
                                    "unit": None, "span": m.group(0)}
                else:
                    inputs[name] = {"value": float(m.group(1)), "unit": m.group(2) or None, "span": m.group(0)}
            self.log.append(("fill", fields))
            return Reply(content="Here are the inputs:\n```json\n" + json.dumps({"inputs": inputs}) + "\n```")
        return Reply(content="I do not know this role.")


CRCL_NOTE = ("A 64-year-old woman was admitted with dyspnoea. Her weight was 70 kg and her height 165 cm. "
             "Serum creatinine 1.1 mg/dL.")
HYBRID_NOTE = ("A 64-year-old woman was admitted with dyspnoea. She tips the scales at 70 kilos and her height "
               "was 165 cm. Serum creatinine 1.1 mg/dL.")
MAP_NOTE = "A 50-year-old man with a headache. His blood pressure was 130/70 mmHg, heart rate 80."
CRCL_Q = "What is the patient's Creatinine Clearance using the Cockroft-Gault Equation in terms of mL/min?"
MAP_Q = "What is patient's mean arterial pressure in mm Hg?"
CRCL = calculate("creatinine_clearance", {"age": 64, "sex": "female", "weight": 70, "height": 165,
                                          "creatinine": 1.1}).value
COLUMNS = ["Row Number", "Calculator ID", "Calculator Name", "Category", "Output Type", "Note ID", "Note Type",
           "Patient Note", "Question", "Relevant Entities", "Ground Truth Answer", "Lower Limit", "Upper Limit",
           "Ground Truth Explanation"]


def write_csv(path: Path, rows: list[tuple[str, str, str, str, str, float]]) -> Path:
    """A MedCalc-Bench CSV of invented notes: (row, calculator name, category, note, question, gold)."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, COLUMNS)
        w.writeheader()
        for number, name, category, note, question, gold in rows:
            w.writerow({"Row Number": number, "Calculator ID": "0", "Calculator Name": name, "Category": category,
                        "Output Type": "decimal", "Note ID": f"invented-{number}", "Note Type": "Invented",
                        "Patient Note": note, "Question": question, "Relevant Entities": "{}",
                        "Ground Truth Answer": f"{gold:.3f}", "Lower Limit": f"{gold * 0.95:.3f}",
                        "Upper Limit": f"{gold * 1.05:.3f}", "Ground Truth Explanation": ""})
    return path


def invented(tmp_path: Path, note: str = CRCL_NOTE) -> Path:
    return write_csv(tmp_path / "invented.csv", [
        ("1", "Creatinine Clearance (Cockcroft-Gault Equation)", "lab", note, CRCL_Q, CRCL),
        ("2", "Mean Arterial Pressure (MAP)", "physical", MAP_NOTE, MAP_Q, (130 + 2 * 70) / 3),
    ])


@pytest.fixture(autouse=True)
def _fresh_clients():
    clear_clients()
    yield
    clear_clients()
    PRICES.pop("loopback-model", None)


def _spec(server: LoopbackServer) -> ModelSpec:
    return ModelSpec(spec="openai:loopback-model", base_url=server.base_url, api_key="test-key", backoff=0.01,
                     prices={"input": 1.0, "output": 2.0})


def _run(tmp_path: Path, script: ScriptedReader, *, data: Path | None = None, model_mode: str = "full",
         out: str = "run", log_text: bool = False) -> tuple[dict[str, Any], list[dict[str, Any]], LoopbackServer]:
    data = data or invented(tmp_path)
    with LoopbackServer(script) as server:
        task = medcalc_task(data, mode="note", model=_spec(server), model_mode=model_mode)
        summary = run_task(task, tmp_path / out, RunOptions(concurrency=1, progress=False, log_text=log_text))
    records = [json.loads(line) for line in (tmp_path / out / "items.jsonl").read_text().splitlines()]
    return summary, records, server


def test_full_mode_end_to_end_over_http(tmp_path: Path) -> None:
    summary, records, server = _run(tmp_path, ScriptedReader())
    assert summary["n"] == 2 and summary["accuracy"] == 1.0 and summary["errors"] == 0
    # two calls per item (choose, fill), tokens from the server's usage, cost from the spec's price
    assert len(server.requests) == 4 and summary["model_calls"] == 4
    assert summary["tokens"]["input"] > 0 and summary["tokens"]["output"] > 0 and summary["cost_usd"]["total"] > 0
    assert summary["model"] == "openai:loopback-model" and summary["model_mode"] == "full"
    assert summary["model_inputs_rejected"] == 0 and summary["citations_failed"] == 0
    crcl = next(r for r in records if r["id"] == "1")
    m = crcl["extra"]["medcalc"]
    assert m["calculator_id"] == "creatinine_clearance" and m["calculator_source"] == "model"
    assert m["rules_calculator_id"] == "creatinine_clearance" and summary["calculator_disagreements"] == 0
    assert m["inputs"] == {"age": 64.0, "sex": "female", "weight": 70.0, "height": 165.0, "creatinine": 1.1}
    assert m["citations_verified"] is True and set(crcl["cited"]) == {"LM1", "LM2", "LM3", "LM4", "LM5"}
    checks = {c["field"]: c for c in m["model_inputs"]}
    assert checks["creatinine"]["unit_support"] == "in_span"
    assert CRCL_NOTE[checks["weight"]["start"]:checks["weight"]["end"]] == "weight was 70 kg"
    # run records keep no run of note text (no --log-text): the offsets locate the quote instead
    assert checks["weight"]["text"] == "[note text]" and checks["age"]["text"] == "64-year-old"
    assert m["rules_inputs"]["weight"] == 70.0 and m["disagreements"] == []
    assert crcl["input_tokens"] > 0 and crcl["cost_usd"] > 0
    # the fill prompt carries the calculator's typed inputs, units and ranges; weight_basis (a setting) is not asked
    fill = next(r for r in server.requests if r["messages"][0]["content"].startswith("Role: medcalc fill")
                and "creatinine_clearance" in r["messages"][1]["content"])
    assert "accepted units: mg/dL (also µmol/L" in fill["messages"][1]["content"]
    assert "weight_basis" not in fill["messages"][1]["content"]
    # resumable: a rerun into the same folder calls nobody
    with LoopbackServer(ScriptedReader()) as again:
        resumed = run_task(medcalc_task(tmp_path / "invented.csv", mode="note", model=_spec(again)),
                           tmp_path / "run", RunOptions(concurrency=1, progress=False))
    assert resumed["ran_now"] == 0 and again.requests == [] and resumed["accuracy"] == 1.0


def test_invented_span_is_caught_reported_and_never_computed_on(tmp_path: Path) -> None:
    script = ScriptedReader({"age": {"value": 46, "unit": "years", "span": "A 46-year-old woman"}})
    summary, records, _ = _run(tmp_path, script)
    m = next(r for r in records if r["id"] == "1")["extra"]["medcalc"]
    check = next(c for c in m["model_inputs"] if c["field"] == "age")
    assert check["status"] == "rejected" and "not in the note (model invention)" in check["reason"]
    assert m["rejected"] == ["age"] and "age" not in m["inputs"] and "age" in m["missing"]
    assert "treated as missing" in m["how"]["age"]
    # age has no normal value: no answer rather than one computed on an invented age
    assert m["answer"] is None and m["correct"] is False and "age" in m["error"]
    assert summary["rejected_by_reason"] == {"invented span": 1} and summary["items_with_rejections"] == 1


def test_wrong_unit_is_caught_reported_and_never_computed_on(tmp_path: Path) -> None:
    # 70 lb would be a plausible 31.8 kg: computing on it would give a confident wrong clearance
    script = ScriptedReader({"weight": {"value": 70, "unit": "lb", "span": "weight was 70 kg"}})
    summary, records, _ = _run(tmp_path, script)
    m = next(r for r in records if r["id"] == "1")["extra"]["medcalc"]
    check = next(c for c in m["model_inputs"] if c["field"] == "weight")
    assert check["status"] == "rejected" and "wrong unit" in check["reason"] and "'kg'" in check["reason"]
    assert "weight" not in m["inputs"] and m["answer"] is None and "weight" in m["error"]
    assert summary["rejected_by_reason"] == {"wrong unit": 1}


def test_disagreement_with_the_rules_is_reported(tmp_path: Path) -> None:
    note = CRCL_NOTE + " Last month her weight was 74 kg."
    script = ScriptedReader({"weight": {"value": 74, "unit": "kg", "span": "weight was 74 kg"}})
    summary, records, _ = _run(tmp_path, script, data=invented(tmp_path, note), log_text=True)
    m = next(r for r in records if r["id"] == "1")["extra"]["medcalc"]
    assert m["disagreements"] == [{"field": "weight", "rules": 70.0, "model": 74.0, "text": "weight was 74 kg",
                                   "rules_sources": m["disagreements"][0]["rules_sources"]}]
    assert m["disagreements"][0]["rules_sources"] and summary["disagreements"] == 1


def test_hybrid_mode_asks_the_model_only_for_what_the_rules_missed(tmp_path: Path) -> None:
    script = ScriptedReader({"weight": {"value": 70, "unit": "kg", "span": "tips the scales at 70 kilos"}})
    summary, records, server = _run(tmp_path, script, data=invented(tmp_path, HYBRID_NOTE), model_mode="hybrid")
    # the rules chose both calculators and filled MAP entirely: one call in all, for CrCl's weight only
    assert script.log == [("fill", ["weight"])] and len(server.requests) == 1 and summary["model_calls"] == 1
    assert summary["accuracy"] == 1.0 and summary["model_mode"] == "hybrid"
    by_id = {r["id"]: r["extra"]["medcalc"] for r in records}
    crcl, map_ = by_id["1"], by_id["2"]
    assert crcl["asked"] == ["weight"] and crcl["calculator_source"] == "rules"
    assert crcl["how"]["weight"].startswith("model: span verified") and crcl["how"]["age"].startswith("rules:")
    assert crcl["sources"]["weight"] == ["LM1"] and crcl["sources"]["age"][0].startswith("AF")
    assert crcl["citations_verified"] is True
    assert map_["asked"] == [] and map_["model_calls"] == 0 and map_["correct"] is True
    assert next(r for r in records if r["id"] == "2")["input_tokens"] == 0


def test_an_unusable_answer_is_repaired_once_then_recorded_as_unanswered(tmp_path: Path) -> None:
    class NoSuchCalculator(ScriptedReader):
        def __call__(self, request: dict[str, Any]) -> Reply:
            if request["messages"][0]["content"].startswith("Role: medcalc choose"):
                self.log.append(("choose", ["magic"]))
                return Reply(content='{"calculator_id": "magic_score"}')
            return super().__call__(request)

    script = NoSuchCalculator()
    summary, records, server = _run(tmp_path, script)
    assert summary["n"] == 2 and summary["accuracy"] == 0.0 and summary["model_calls"] == 4
    assert summary["calculator_disagreements"] == 0  # no calculator was chosen at all
    repair = server.requests[1]["messages"][-1]
    assert repair["role"] == "user" and "'magic_score' is not an id of the list" in repair["content"]
    for rec in records:
        m = rec["extra"]["medcalc"]
        assert m["answer"] is None and m["error"].startswith("model: no usable answer after 1 repair")
        assert m["inputs"] == {} and rec["input_tokens"] > 0  # the calls were still counted


def test_a_prose_fill_is_repaired_and_then_used(tmp_path: Path) -> None:
    class ProseFirst(ScriptedReader):
        def __call__(self, request: dict[str, Any]) -> Reply:
            messages = request["messages"]
            if messages[0]["content"].startswith("Role: medcalc fill") and len(messages) == 2:
                return Reply(content="She is 64 and weighs 70 kg.")
            return super().__call__(request)

    summary, records, server = _run(tmp_path, ProseFirst())
    assert summary["accuracy"] == 1.0 and summary["model_calls"] == 6
    repair = next(r for r in server.requests if len(r["messages"]) == 4)["messages"][-1]["content"]
    assert repair.startswith("REPAIR: the answer is not a JSON object") and '{"inputs": {"<input name>"' in repair
    assert all(r["extra"]["medcalc"]["model_calls"] == 3 for r in records)


def test_cli_note_mode_with_a_chat_model(tmp_path: Path) -> None:
    data = invented(tmp_path)
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"loopback-model": {"input": 1.0, "output": 2.0}}))
    with LoopbackServer(ScriptedReader()) as server:
        spec = f"openai:loopback-model?base_url={server.base_url}&backoff=0.01"
        args = ["eval", "medcalc", "--data", str(data), "--mode", "note", "--model", spec, "--quiet",
                "--prices", str(prices)]
        res = runner.invoke(app, [*args, "--out", str(tmp_path / "cli")], env={"COLUMNS": "200"})
        assert res.exit_code == 0, res.output
        hybrid = runner.invoke(app, [*args, "--model-mode", "hybrid", "--out", str(tmp_path / "cli-h")],
                               env={"COLUMNS": "200"})
        assert hybrid.exit_code == 0, hybrid.output
    assert "model openai:loopback-model" in res.output and "(full): 4 calls" in res.output
    assert "5 verified" not in res.output and "7 verified, 0 rejected" in res.output
    assert "(hybrid): 0 calls" in hybrid.output  # the rules filled both invented notes
    summary = json.loads((tmp_path / "cli" / "summary.json").read_text())
    assert summary["accuracy"] == 1.0 and summary["cost_usd"]["total"] > 0
    manifest = json.loads((tmp_path / "cli" / "manifest.json").read_text())
    assert manifest["config"]["model_mode"] == "full" and "api_key" not in json.dumps(manifest)
    bad = runner.invoke(app, ["eval", "medcalc", "--data", str(data), "--mode", "oracle", "--model", spec,
                              "--out", str(tmp_path / "x"), "--quiet"])
    assert bad.exit_code == 2 and "use --mode note with a chat model" in bad.output
    bad = runner.invoke(app, ["eval", "medcalc", "--data", str(data), "--mode", "note", "--model-mode", "hybrid",
                              "--out", str(tmp_path / "x"), "--quiet"])
    assert bad.exit_code == 2 and "hybrid completes the rules with a chat model" in bad.output
    nokey = runner.invoke(app, ["eval", "medcalc", "--data", str(data), "--mode", "note", "--model",
                                "openai:gpt-4o-mini", "--out", str(tmp_path / "nokey"), "--quiet"],
                          env={"OPENAI_API_KEY": None, "OPENAI_BASE_URL": None, "OPENAI_API_BASE": None})
    assert nokey.exit_code == 2 and "needs an API key; set OPENAI_API_KEY" in nokey.output
    assert not (tmp_path / "nokey").exists()  # failed before any item ran


def test_real_dev_rows(tmp_path: Path, wardround_data: Path) -> None:
    dev = wardround_data / "medcalc_bench" / "dev.csv"
    if not dev.is_file():
        pytest.skip(f"MedCalc-Bench dev split not found at {dev}")
    with LoopbackServer(ScriptedReader()) as server:
        task = medcalc_task(dev, mode="note", model=_spec(server), limit=3)
        summary = run_task(task, tmp_path / "dev", RunOptions(concurrency=2, progress=False, log_text=True))
    records = [json.loads(line) for line in (tmp_path / "dev" / "items.jsonl").read_text().splitlines()]
    assert summary["n"] == 3 and summary["model_calls"] == 6 and summary["tokens"]["input"] > 0
    notes = {r.row_number: r.note for r in (it.payload for it in task.items)}
    for rec in records:
        m = rec["extra"]["medcalc"]
        assert m["calculator_id"] == "creatinine_clearance"  # the first dev rows are Cockcroft-Gault
        for c in m["model_inputs"]:
            if c["status"] == "accepted":  # every value computed on quotes the note exactly
                assert notes[rec["id"]][c["start"]:c["end"]] == c["text"]
    first = next(r for r in records if r["id"] == "8")["extra"]["medcalc"]
    assert first["correct"] is True and first["inputs"]["creatinine"] == 1.42
