"""MedCalc-Bench (dev split, real data): every calculator resolves, and oracle mode scores as documented."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from wardround.evals.medcalc import evaluate_oracle, load_rows
from wardround.tools.calculators import find_calculator

pytestmark = pytest.mark.external

OURS = {"lab", "physical", "date", "dosage"}


@pytest.fixture(scope="module")
def medcalc_dir(wardround_data: Path) -> Path:
    d = wardround_data / "medcalc_bench"
    if not (d / "dev.csv").is_file():
        pytest.skip(f"MedCalc-Bench dev.csv not found under {d}")
    return d


def test_all_55_calculators_resolve_by_name(medcalc_dir: Path) -> None:
    with open(medcalc_dir / "dev.csv", newline="", encoding="utf-8") as fh:
        names = {(r["Calculator Name"], r["Category"]) for r in csv.DictReader(fh)}
    assert len(names) == 55
    unresolved = []
    for name, category in sorted(names):
        hits = find_calculator(name, limit=1)
        if not hits or (hits[0].name != name and name not in hits[0].synonyms) or hits[0].category != category:
            unresolved.append((name, hits[0].id if hits else None))
    assert not unresolved, unresolved


def test_relevant_entities_are_read_as_literals(medcalc_dir: Path) -> None:
    rows = load_rows(medcalc_dir / "dev.csv")
    assert len(rows) == 327 and all(isinstance(r.entities, dict) and r.entities for r in rows)


def test_oracle_evaluation_and_documented_disagreements(medcalc_dir: Path, tmp_path: Path, repo_root: Path) -> None:
    corrected = medcalc_dir / "dev_corrected_labels.csv"
    summary = evaluate_oracle(medcalc_dir / "dev.csv", tmp_path, corrected if corrected.is_file() else None)
    assert summary["n"] == 327
    assert (tmp_path / "items.jsonl").is_file() and json.loads((tmp_path / "summary.json").read_text())["n"] == 327
    assert set(summary["per_category"]) == {"lab", "physical", "risk", "severity", "diagnosis", "date", "dosage"}
    items = [json.loads(line) for line in (tmp_path / "items.jsonl").read_text().splitlines()]
    # physical calculators agree with both label sets everywhere
    assert summary["per_category"]["physical"]["accuracy"] == 1.0
    if corrected.is_file():
        assert summary["n_corrected"] > 200
        # every disagreement with a corrected label in our categories is documented with its cause
        doc = (repo_root / "docs" / "calculators" / "disagreements.md").read_text(encoding="utf-8")
        documented = set(re.findall(r"^\|\s*(\d+)\s*\|", doc, flags=re.M))
        missing = [i["row_number"] for i in items if i["category"] in OURS and i["correct_corrected"] is False
                   and i["calculator_id"] != "framingham_hard_chd" and i["row_number"] not in documented]
        assert not missing, f"undocumented disagreements: {missing}"
