"""The shipped example cases through the whole graph with the shipped knowledge base."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import wardround as wr
from wardround.knowledge import load_knowledge

CASES = sorted((Path(__file__).resolve().parents[2] / "examples" / "cases").glob("*.json"))
TEXT_CASES = [p for p in CASES if not json.loads(p.read_text()).get("imaging")]


def test_there_are_enough_cases_across_specialties():
    kb = load_knowledge()
    specialties = set()
    for p in TEXT_CASES:
        cond = kb.find_condition(json.loads(p.read_text())["expected_diagnosis"])
        assert cond is not None, p.name
        specialties.add(cond.specialty)
    assert len(TEXT_CASES) >= 8
    assert len(specialties) >= 6


def test_expected_diagnosis_for_at_least_seven_of_eight():
    kb = load_knowledge()
    hits = []
    for p in TEXT_CASES:
        case = wr.Case.from_file(p)
        result = wr.run(case)
        assert result.verified, (p.name, result.diagnosis.verification)
        assert result.verify().ok
        expected = kb.find_condition(case.expected_diagnosis)
        hits.append(result.diagnosis.primary.condition == expected.id)
        assert result.diagnosis.consulted
        assert result.diagnosis.rationale and all(s.citations for s in result.diagnosis.rationale)
    assert sum(hits) >= 7 * len(hits) / 8, hits


@pytest.mark.parametrize("path", TEXT_CASES, ids=lambda p: p.stem)
def test_cli_run_exits_zero_and_names_specialists(path):
    out = subprocess.run([sys.executable, "-m", "wardround.cli", "run", str(path)], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Primary diagnosis:" in out.stdout
    assert "Specialists consulted:" in out.stdout
    assert "Dissent" in out.stdout
    assert "verified: True" in out.stdout
