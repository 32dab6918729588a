"""A case with a head CT through the ward graph: neurology segments the haemorrhage and cites its volume."""

from __future__ import annotations

import pytest

import wardround as wr

pytest.importorskip("nibabel")

NOTE = ("68-year-old man on warfarin with sudden severe headache and vomiting an hour ago, then right-sided "
        "weakness and slurred speech. GCS 13 on arrival. Blood pressure 196/112.")


def _case(tmp_path, hematoma=True):
    from wardround.tools.segmentation.synthetic import write_head_ct

    path, truth_ml = write_head_ct(tmp_path / "head_ct.nii.gz", (22.0, 18.0, 14.0) if hematoma else None)
    case = wr.Case.from_dict({
        "id": "ich-phantom", "age": 68, "sex": "male", "note": NOTE,
        "vitals": {"systolic_bp": 196, "diastolic_bp": 112, "heart_rate": 88, "gcs": 13},
        "history": {"conditions": ["atrial fibrillation"], "medications": ["warfarin"]},
        "imaging": [{"path": str(path), "modality": "CT", "body_region": "head"}],
    })
    return case, truth_ml


def test_neurology_cites_the_segmented_haemorrhage_volume(tmp_path):
    case, truth_ml = _case(tmp_path)
    result = wr.run(case, run_dir=str(tmp_path / "runs"))
    assert result.verified, result.issues
    neuro = next(op for op in result.opinions if op.specialty == "neurology")
    imaging = [result.ledger[i] for i in neuro.calculations if result.ledger[i].kind == "imaging"]
    assert len(imaging) == 1
    volume = imaging[0].value
    assert abs(volume - truth_ml) / truth_ml < 0.15
    ich = [result.ledger[i] for i in neuro.calculations if result.ledger[i].tool == "calculator:ich_score"]
    assert ich and imaging[0].id in ich[0].derived_from
    assert result.diagnosis.primary.condition == "intracerebral_haemorrhage"
    cited = result.diagnosis.cited_ids()
    assert imaging[0].id in cited or any(e.id in cited for e in ich)
    assert result.verify().ok


def test_changed_mask_fails_verification(tmp_path):
    case, _ = _case(tmp_path)
    result = wr.run(case, run_dir=str(tmp_path / "runs"))
    neuro = next(op for op in result.opinions if op.specialty == "neurology")
    img = next(result.ledger[i] for i in neuro.calculations if result.ledger[i].kind == "imaging")
    with open(img.artifact_path, "ab") as fh:
        fh.write(b"\0")
    report = result.verify()
    assert not report.ok and img.id in report.message()


def test_unreadable_scan_is_an_issue_not_a_crash(tmp_path):
    bad = tmp_path / "broken.nii.gz"
    bad.write_bytes(b"not a nifti file")
    case = wr.Case.from_dict({"id": "bad-scan", "age": 70, "note": NOTE,
                              "imaging": [{"path": str(bad), "modality": "CT", "body_region": "head"}]})
    result = wr.run(case, run_dir=str(tmp_path / "runs"))
    assert result.diagnosis is not None and result.verified
    assert any("segmentation of broken.nii.gz failed" in i for i in result.issues)
