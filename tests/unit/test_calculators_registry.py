"""Registry, input mapping (aliases, assume_normal), precise errors, agent tools, ledger evidence and the CLI."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from wardround.cli import app
from wardround.errors import InputError
from wardround.evidence import EvidenceWriter, Ledger
from wardround.tools.calculators import (
    all_calculators,
    calculate,
    calculator_tools,
    find_calculator,
    get_calculator,
    result_to_evidence,
)
from wardround.tools.calculators.base import CATEGORIES, STANDARD_ALIASES


def test_every_calculator_is_well_formed() -> None:
    calcs = all_calculators()
    assert len(calcs) >= 35
    for cid, c in calcs.items():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", cid)
        assert c.category in CATEGORIES
        assert c.reference and ("PMID" in c.reference or "doi" in c.reference.lower()
                                or "unverified" in c.reference or "no PMID" in c.reference), cid
        assert c.fields, cid


def test_consistent_field_names_for_shared_quantities() -> None:
    """The same clinical quantity carries the same field name (and unit) in every calculator."""
    units: dict[str, set[str]] = {}
    for c in all_calculators().values():
        for name, f in c.fields.items():
            if f.spec is not None and name in STANDARD_ALIASES | {"creatinine": (), "sodium": (), "glucose": ()}:
                units.setdefault(name, set()).add(f.spec.canonical)
    for name, canon in units.items():
        assert len(canon) == 1, (name, canon)


def test_aliases_and_medcalc_style_inputs() -> None:
    r = calculate("qtc_bazett", {"Heart Rate or Pulse": [82, "beats per minute"], "QT interval": [330, "msec"]})
    assert r.inputs == {"qt_interval": 330.0, "heart_rate": 82.0}
    r = calculate("mean_arterial_pressure", {"Systolic Blood Pressure": "120 mm hg",
                                             "Diastolic Blood Pressure": {"value": 80, "unit": "mmHg"}})
    assert r.value == pytest.approx(93.333, rel=1e-4)
    r = calculate("anion_gap", {"Na": 140, "serum chloride": 100, "HCO3-": [24, "mEq/L"]})
    assert r.value == 16


def test_missing_inputs_are_named_and_assume_normal_fills_findings() -> None:
    with pytest.raises(InputError) as exc:
        calculate("anion_gap", {"sodium": 140})
    assert "chloride" in str(exc.value) and "bicarbonate" in str(exc.value)
    r = calculate("meld_na", {"creatinine": 1, "bilirubin": 1, "inr": 1, "sodium": 137}, assume_normal=True)
    assert set(r.assumed) == {"dialysis_twice_past_week", "cvvhd_past_week"}
    assert "assumed" in r.explanation[0]
    with pytest.raises(InputError, match="dialysis_twice_past_week"):
        calculate("meld_na", {"creatinine": 1, "bilirubin": 1, "inr": 1, "sodium": 137})
    with pytest.raises(InputError, match="no normal value"):
        calculate("anion_gap", {"sodium": 140}, assume_normal=True)


@pytest.mark.parametrize(("calc_id", "inputs", "field", "hint"), [
    ("creatinine_clearance", {"age": 60, "sex": "m", "weight": 70, "height": 170, "creatinine": 0}, "creatinine",
     "0.05-30"),
    ("ckd_epi_2021", {"age": 250, "sex": "f", "creatinine": 1}, "age", "0-130"),
    ("bmi", {"weight": -70, "height": 170}, "weight", "0.3-650"),
    ("bmi", {"weight": "70 stone", "height": 170}, "weight", "lb"),
    ("bmi", {"weight": float("nan"), "height": 170}, "weight", "finite"),
    ("estimated_due_date", {"last_menstrual_period": "1899-12-31"}, "last_menstrual_period", "1900-2200"),
    ("ckd_epi_2021", {"age": 50, "sex": "alien", "creatinine": 1}, "sex", "male"),
    ("bmi", {"weight": 70, "height": 170, "colour": "blue"}, "colour", "accepted inputs"),
])
def test_bad_input_errors_are_precise(calc_id: str, inputs: dict, field: str, hint: str) -> None:
    with pytest.raises(InputError) as exc:
        calculate(calc_id, inputs)
    msg = str(exc.value)
    assert msg.startswith(field) and hint in msg
    assert "\n" not in msg


def test_unknown_calculator_suggests() -> None:
    with pytest.raises(InputError, match="did you mean bmi"):
        get_calculator("bmx")


def test_find_calculator_ranks_by_name_synonym_keyword() -> None:
    assert find_calculator("Body Mass Index (BMI)")[0].id == "bmi"
    assert find_calculator("cockcroft gault")[0].id == "creatinine_clearance"
    assert find_calculator("opioid conversion")[0].id == "morphine_milligram_equivalents"
    assert "ckd_epi_2021" in [c.id for c in find_calculator("kidney function glomerular filtration")]


def test_evidence_recomputes_and_detects_tampering() -> None:
    writer = EvidenceWriter("CA", "cardiology")
    ev = result_to_evidence(writer, calculate("qtc_fridericia", {"qt_interval": "0.42 s", "heart_rate": "75/min"}))
    assert ev.tool == "calculator:qtc_fridericia" and ev.inputs == {"qt_interval": 420.0, "heart_rate": 75.0}
    assert ev.reference and "Fridericia" in ev.reference
    ledger = Ledger()
    ledger.add(ev)
    assert ledger.verify().ok
    bad = Ledger()
    bad.add(ev.model_copy(update={"value": 999.0}))
    report = bad.verify()
    assert not report.ok and "recomputes" in report.message()


def test_structured_tools_and_meta_tools() -> None:
    tools = {t.name: t for t in calculator_tools()}
    assert {"find_calculator", "calculate", "bmi", "creatinine_clearance"} <= set(tools)
    schema = tools["bmi"].args
    assert "kg" in schema["weight"]["description"]
    assert tools["bmi"].invoke({"weight": "176 lb", "height": "6 ft"})["value"] == pytest.approx(23.87, abs=0.01)
    assert tools["bmi"].invoke({"weight": "-1 kg", "height": "6 ft"}).startswith("error: weight")
    out = tools["calculate"].invoke({"calculator_id": "anion_gap", "inputs": {"sodium": 140, "chloride": 100}})
    assert out.startswith("error: bicarbonate")
    found = tools["find_calculator"].invoke({"query": "corrected calcium"})
    assert found[0]["id"] == "calcium_correction" and "albumin" in found[0]["inputs"]


def test_cli_run_list_show_and_errors() -> None:
    runner = CliRunner()
    r = runner.invoke(app, ["calc", "run", "bmi", "weight=80kg", "height=180cm", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["value"] == pytest.approx(24.69, abs=0.01)
    r = runner.invoke(app, ["calc", "run", "bmi", "weight=80kg"])
    assert r.exit_code == 2 and "height" in r.output and "Traceback" not in r.output
    r = runner.invoke(app, ["calc", "run", "nope", "x=1"])
    assert r.exit_code == 2 and "unknown calculator" in r.output
    r = runner.invoke(app, ["calc", "list", "--category", "dosage", "--json"])
    assert {d["id"] for d in json.loads(r.stdout)} == {"morphine_milligram_equivalents", "steroid_conversion"}
    r = runner.invoke(app, ["calc", "show", "ckd_epi_2021", "--json"])
    assert "PMID:34554658" in json.loads(r.stdout)["reference"]
    r = runner.invoke(app, ["calc", "list", "--category", "nonsense"])
    assert r.exit_code == 2


def test_import_does_not_pull_heavy_libraries() -> None:
    import subprocess
    import sys

    code = ("import sys, wardround.tools.calculators as c; c.all_calculators(); "
            "print(any(m in sys.modules for m in ('torch', 'monai', 'transformers', 'langchain_core', 'pint')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
