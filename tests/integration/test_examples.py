"""The shipped example cases through the whole graph with the shipped knowledge base.

Every ``examples/cases/*.json`` is checked against its own ``expected`` block (read beside the case by
``load_case_file``; the case the ward sees carries no gold label).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import wardround as wr
from wardround.case import Expected, load_case_file
from wardround.knowledge import load_knowledge

CASES = sorted((Path(__file__).resolve().parents[2] / "examples" / "cases").glob("*.json"))
TEXT_CASES = [p for p in CASES if not json.loads(p.read_text()).get("imaging")]


def _expected(path: Path) -> Expected:
    expected = load_case_file(path).expected
    assert expected is not None, f"{path.name}: add an 'expected' block (at least diagnosis and supported)"
    return expected


def _unexplained_section(text: str) -> str:
    """The 'Unexplained findings:' lines of the text report (empty when the report names none)."""
    return "\n".join(line for line in text.splitlines() if re.match(r"\s*unexplained findings\b", line, re.I))


def test_there_are_enough_cases_across_specialties():
    """At least two supported cases for every specialty of the acute take, and 40 beyond the first six."""
    kb = load_knowledge()
    per_specialty: dict[str, int] = {}
    for p in TEXT_CASES:
        expected = _expected(p)
        if expected.supported is False or expected.diagnosis is None:
            continue
        cond = kb.find_condition(expected.diagnosis)
        assert cond is not None, (p.name, expected.diagnosis)
        per_specialty[cond.specialty] = per_specialty.get(cond.specialty, 0) + 1
    first_six = {"cardiology", "pulmonology", "nephrology", "neurology", "gastroenterology_hepatology",
                 "infectious_disease"}
    thin = {s: per_specialty.get(s, 0) for s in kb.specialties if per_specialty.get(s, 0) < 2}
    assert not thin, f"specialties with fewer than 2 supported example cases: {thin}"
    assert sum(n for s, n in per_specialty.items() if s not in first_six) >= 40


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_example_meets_its_expected_block(path: Path):
    kb = load_knowledge()
    loaded = load_case_file(path)
    expected = _expected(path)
    case = loaded.case
    assert "expected" not in case.model_dump() and "expected_diagnosis" not in case.model_dump()
    result = wr.run(case)
    d = result.diagnosis
    assert d is not None, path.name
    assert result.verify().ok, (path.name, result.verify())
    assert result.verified, (path.name, d.verification)

    gold = kb.find_condition(expected.diagnosis) if expected.diagnosis else None
    if expected.diagnosis and expected.supported is not False:
        assert gold is not None, f"{path.name}: expected.diagnosis {expected.diagnosis!r} is not a condition " \
                                 "of the knowledge base"
    # the worst defect: a confident wrong answer
    if d.supported and gold is not None:
        assert d.primary.condition == gold.id, (
            f"{path.name}: SUPPORTED WRONG PRIMARY - the ward presents {d.primary.name!r} as supported, "
            f"the case expects {gold.name!r}")
    if expected.supported is True and gold is not None:
        assert d.primary.condition == gold.id, (path.name, d.primary.name, gold.name)
    if expected.supported is not None:
        assert d.supported == expected.supported, (
            f"{path.name}: supported is {d.supported}, expected {expected.supported} (primary {d.primary.name!r})")
    if expected.coverage is not None:
        # Diagnosis.coverage: getattr so that this file stays importable across report-model changes
        assert getattr(d, "coverage", None) == expected.coverage, (path.name, getattr(d, "coverage", None))
    if expected.unexplained:
        section = _unexplained_section(result.to_text()).lower()
        ids = {ref.finding.lower() for ref in getattr(d, "unexplained", [])}
        missing = [name for name in expected.unexplained if name.lower() not in section and name.lower() not in ids]
        assert not missing, f"{path.name}: the report does not name {missing} as unexplained:\n{section or '(none)'}"
    assert d.consulted
    assert d.rationale and all(s.citations for s in d.rationale)


#: The CLI is exercised on one text case per specialty (a process each); every case runs in-process above.
def _one_per_specialty(paths: list[Path]) -> list[Path]:
    """The cases without a specialty prefix, and the first ``<specialty>__*`` case of each specialty."""
    seen: set[str] = set()
    out = []
    for p in paths:
        prefix = p.stem.split("__")[0] if "__" in p.stem else None
        if prefix is None or prefix not in seen:
            out.append(p)
            seen.add(prefix or "")
    return out


CLI_CASES = _one_per_specialty(TEXT_CASES)


@pytest.mark.parametrize("path", CLI_CASES, ids=lambda p: p.stem)
def test_cli_run_exits_zero_and_names_specialists(path):
    out = subprocess.run([sys.executable, "-m", "wardround.cli", "run", str(path)], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "COLUMNS": "200"})
    assert out.returncode == 0, out.stderr
    assert "Primary diagnosis:" in out.stdout
    assert "Specialists consulted:" in out.stdout
    assert "Dissent" in out.stdout
    assert "verified: True" in out.stdout
    expected = _expected(path)
    if expected.diagnosis:
        assert f"expected: {expected.diagnosis}" in out.stdout  # read beside the case, shown to the user
