"""MedCalc-Bench note mode on the real dev split: accuracy floor and every auto-filled input's citation verifies."""

from __future__ import annotations

import json

import pytest

from wardround.evals.medcalc_note import evaluate_note, load_note_rows, run_note_item


@pytest.fixture(scope="module")
def dev_csv(wardround_data):
    path = wardround_data / "medcalc_bench" / "dev.csv"
    if not path.is_file():
        pytest.skip(f"MedCalc-Bench dev split not found at {path}")
    return path


def test_every_autofilled_source_verifies(dev_csv):
    from wardround.agents.autofill import choose_calculator, run_autofilled
    from wardround.case import Case
    from wardround.evidence import Ledger

    checked = 0
    for row in load_note_rows(dev_csv):
        cid = choose_calculator(row.question)
        assert cid is not None, row.question
        case = Case(id=row.row_number, note=row.note, question=row.question)
        _, filled = run_autofilled(cid, case, policy="assume_normal")
        ledger = Ledger()
        ledger.extend(filled.evidence)
        ids = [i for ids in filled.sources.values() for i in ids]
        report = ledger.verify(case, ids)
        assert report.ok, f"row {row.row_number}: {report.message()}"
        assert set(filled.sources) | set(filled.assumed) >= set(filled.inputs)
        checked += len(ids)
    assert checked > 1000


def test_note_mode_summary(dev_csv, tmp_path):
    corrected = dev_csv.parent / "dev_corrected_labels.csv"
    summary = evaluate_note(dev_csv, tmp_path, corrected if corrected.is_file() else None)
    for key in ("n", "accuracy", "accuracy_corrected", "n_corrected", "per_calculator", "per_category"):
        assert key in summary
    assert summary["n"] == 327
    assert summary["accuracy"] >= 0.60
    assert summary["citations_failed"] == 0
    first = json.loads((tmp_path / "items.jsonl").read_text().splitlines()[0])
    assert {"row_number", "answer", "correct", "assumed", "sources"} <= set(first)


def test_single_item_records_assumptions(dev_csv):
    rows = [r for r in load_note_rows(dev_csv) if r.category == "risk"][:3]
    for r in rows:
        item = run_note_item(r)
        assert item.calculator_id is not None
        assert isinstance(item.assumed, list)
