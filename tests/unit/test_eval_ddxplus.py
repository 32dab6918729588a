"""The DDXPlus harness task on small invented release files (the fixtures of test_ddxplus.py): figures equal
``score_ddxplus`` on the reasoner's predictions, with and without a fit, across a resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_ddxplus import CONDITIONS, EVIDENCES, HEADER, ROWS, _many_rows

from wardround.errors import InputError
from wardround.evals.datasets.ddxplus import ddxplus_task, find_kb_dir, from_jsonable, to_jsonable
from wardround.evals.ddxplus import DDXPlusPrediction, DDXPlusReasoner, load_ddxplus, score_ddxplus
from wardround.evals.records import read_records
from wardround.evals.runner import RunOptions, run_task

KEYS = ("n", "accuracy", "top1", "top3", "top5", "ddx_precision", "ddx_recall", "ddx_f1")


@pytest.fixture()
def kb(tmp_path: Path) -> Path:
    (tmp_path / "release_evidences.json").write_text(json.dumps(EVIDENCES))
    (tmp_path / "release_conditions.json").write_text(json.dumps(CONDITIONS))
    (tmp_path / "patients.csv").write_text(HEADER + "".join(ROWS * 4))
    (tmp_path / "train.csv").write_text(_many_rows(30))
    return tmp_path


def test_summary_equals_the_direct_scores_and_survives_resume(kb: Path, tmp_path: Path) -> None:
    items = load_ddxplus(kb / "patients.csv")
    reasoner = DDXPlusReasoner.from_release(kb)
    direct = score_ddxplus(items, [reasoner.predict(it) for it in items])
    out = tmp_path / "run"
    run_task(ddxplus_task(kb / "patients.csv", limit=5), out, RunOptions(progress=False))
    summary = run_task(ddxplus_task(kb / "patients.csv"), out, RunOptions(progress=False, concurrency=3))
    assert summary["ran_now"] == 7 and summary["n"] == 12
    for key in KEYS:
        assert summary[key] == pytest.approx(direct[key]), key
    recs = read_records(out / "items.jsonl").records
    assert recs[0].prediction == recs[0].gold == "Flu" and recs[0].category == "Flu"
    assert recs[0].extra["ddx_prediction_type"].endswith(":DDXPlusPrediction") and "top5" in recs[0].extra


def test_fit_on_another_file_and_refusal_on_the_scored_file(kb: Path, tmp_path: Path) -> None:
    reasoner = DDXPlusReasoner.from_release(kb).fit(kb / "train.csv")
    items = load_ddxplus(kb / "patients.csv")
    direct = score_ddxplus(items, [reasoner.predict(it) for it in items])
    summary = run_task(ddxplus_task(kb / "patients.csv", fit=kb / "train.csv"), tmp_path / "fit",
                       RunOptions(progress=False))
    for key in KEYS:
        assert summary[key] == pytest.approx(direct[key]), key
    assert summary["config"]["fit"] == "train.csv"
    with pytest.raises(InputError, match="never on the rows scored"):
        ddxplus_task(kb / "patients.csv", fit=kb / "patients.csv")


def test_kb_lookup_and_prediction_round_trip(kb: Path, tmp_path: Path) -> None:
    assert find_kb_dir(kb / "patients.csv", None) == kb
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "p.csv").write_text(HEADER + ROWS[0])
    with pytest.raises(InputError, match="--kb-dir"):
        find_kb_dir(other / "p.csv", None)
    assert find_kb_dir(other / "p.csv", kb) == kb
    pred = DDXPlusReasoner.from_release(kb).predict(load_ddxplus(kb / "patients.csv")[0])
    data, type_path = to_jsonable(pred)
    assert from_jsonable(json.loads(json.dumps(data)), type_path) == pred
    assert isinstance(from_jsonable(data, type_path), DDXPlusPrediction)
    with pytest.raises(InputError):
        from_jsonable({}, "os:system")


def test_two_stage_differential_model_and_its_small_data_fallback(kb: Path) -> None:
    import numpy as np

    from wardround.evals.ddxplus.reasoner import STACK_FOLDS, _fit_logistic, _probability

    train = load_ddxplus(kb / "train.csv")
    items = load_ddxplus(kb / "patients.csv")
    stacked = DDXPlusReasoner.from_release(kb).fit(train)
    assert stacked.membership is not None and stacked.membership["stage2"] is not None
    # stage 2 sees the 49 (here: all) stage-1 probabilities as extra patient columns and 3 extra pair features
    s1, s2 = stacked.membership["stage1"], stacked.membership["stage2"]
    assert s2["weights"].shape[0] == s1["weights"].shape[0] + len(stacked.pathologies)
    assert s2["shared"].shape[0] == s1["shared"].shape[0] + 3
    small = DDXPlusReasoner.from_release(kb).fit(train[: 4 * STACK_FOLDS - 1])
    assert small.membership is not None and small.membership["stage2"] is None
    for reasoner in (stacked, small):
        for pred in reasoner.predict_many(items):
            assert pred.differential_names[0] == pred.pathology
            assert all(0.0 <= p <= 1.0 for _, p in pred.differential)
    # a warm start changes the path, not the optimum of the (strictly convex) fit
    x, asked = stacked._encode(train)
    feats, pair = stacked._features(train), stacked._pair_features(x, stacked._structural(x, asked))
    y = np.zeros((len(train), len(stacked.pathologies)))
    for n, it in enumerate(train):
        for name in it.differential_names:
            y[n, stacked._pidx[name]] = 1.0
    cold = _probability(feats, pair, _fit_logistic(feats, pair, y))
    warm = _probability(feats, pair, _fit_logistic(feats, pair, y, init=s1))
    assert np.allclose(cold, warm, atol=1e-3)
