"""A brain-MRI case on real data (BRATS 2013 pat0001 FLAIR): neurology measures the lesion and cites the volume."""

from __future__ import annotations

import numpy as np
import pytest

import wardround as wr

NOTE = ("52-year-old woman with three weeks of worsening morning headaches, vomiting and word-finding difficulty; "
        "a first focal seizure of the right arm this morning. No fever.")


def test_brain_mri_case_cites_measured_flair_lesion(wardround_data, tmp_path):
    nib = pytest.importorskip("nibabel")
    folder = wardround_data / "imaging" / "brats2013" / "pat0001"
    flair = folder / "Flair_subtrMeanDivStd.nii.gz"
    if not flair.is_file():
        pytest.skip(f"{flair} not found")
    case = wr.Case.from_dict({
        "id": "brats-pat0001", "age": 52, "sex": "female", "note": NOTE,
        "imaging": [{"path": str(flair), "modality": "MR", "body_region": "brain", "sequence": "FLAIR"}],
    })
    result = wr.run(case, run_dir=str(tmp_path))
    assert result.verified, result.issues
    neuro = next(op for op in result.opinions if op.specialty == "neurology")
    lesion = next(result.ledger[i] for i in neuro.calculations if result.ledger[i].kind == "imaging")
    assert lesion.tool == "segmentation:flair_lesion"
    # the measured volume agrees with the manual whole-tumour labels within 20 %
    labels = nib.load(str(folder / "OTMultiClass.nii.gz"))
    truth_ml = float((np.asarray(labels.dataobj) > 0).sum() * np.prod(labels.header.get_zooms()[:3]) / 1000.0)
    assert abs(lesion.value - truth_ml) / truth_ml < 0.2
    assert lesion.id in result.diagnosis.cited_ids()
    assert result.verify().ok
