"""DDXPlus reasoner on the real dev patients (DDXPlus, CC-BY): no-fit thresholds and the cross-fitted differential."""

from __future__ import annotations

from pathlib import Path

import pytest

from wardround.evals.ddxplus import (
    DDXPlusReasoner,
    DDXPlusRelease,
    cross_fit_score,
    item_to_case,
    load_ddxplus,
    score_ddxplus,
)

pytestmark = pytest.mark.external


@pytest.fixture(scope="module")
def dev(wardround_data: Path) -> Path:
    path = wardround_data / "ddxplus" / "patients_dev.csv"
    if not path.is_file():
        pytest.skip(f"{path} not found (set WARDROUND_DATA to the folder holding ddxplus/patients_dev.csv)")
    return path


def test_every_row_loads_and_renders_as_a_case(dev: Path) -> None:
    release = DDXPlusRelease.from_dir(dev.parent)
    items = load_ddxplus(dev)
    assert len(items) == 783
    assert all(it.pathology in it.differential_names for it in items)
    cases = [item_to_case(it, release) for it in items]
    assert all(c.note.startswith("A ") and "Presenting complaint:" in c.note for c in cases)
    assert {c.sex for c in cases} == {"male", "female"}


def test_structural_reasoner_without_fit(dev: Path) -> None:
    items = load_ddxplus(dev)
    reasoner = DDXPlusReasoner.from_release(dev.parent)
    preds = reasoner.predict_many(items)
    s = score_ddxplus(items, preds)
    assert s["n"] == 783
    assert s["top1"] >= 0.98, s
    assert s["top5"] >= 0.995, s
    assert 0.0 < s["ddx_f1"] < 1.0
    assert all(p.explanations[p.pathology] for p in preds)
    # predict one by one agrees with the batch
    assert [reasoner.predict(it).pathology for it in items[:20]] == [p.pathology for p in preds[:20]]


def test_cross_fitted_differential(dev: Path) -> None:
    s = cross_fit_score(dev, folds=2, seed=0)
    assert s["n"] == 783 and len(s["folds"]) == 2
    assert s["ddx_f1"] >= 0.82, s
    assert s["top1"] >= 0.98, s
