"""Image plausibility: a study whose content does not fit its label is refused, never read as what it says.

The fault: an abdominal CT labelled ``body_region: head`` was segmented as a head ("cranial cavity 3 mL",
"no intracranial haemorrhage", LR- 0.11) and pulled intracerebral haemorrhage from 65 % to 17 %. Phantoms are
built here with numpy and saved as NIfTI in ``tmp_path``; the real-data tests read ``WARDROUND_DATA`` and skip
when it is absent.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import wardround as wr

nib = pytest.importorskip("nibabel")

RNG_SEED = 11
NOTE = ("68-year-old man on warfarin with sudden severe headache and vomiting an hour ago, then right-sided "
        "weakness and slurred speech. GCS 13 on arrival. Blood pressure 196/112.")


# -- phantoms -------------------------------------------------------------------------------------------------


def _ellipsoid(shape, centre, radii, spacing):
    grids = np.ogrid[tuple(slice(0, n) for n in shape)]
    return sum(((g * s - c) / r) ** 2 for g, s, c, r in zip(grids, spacing, centre, radii, strict=True)) <= 1.0


def _save(path: Path, hu: np.ndarray, spacing) -> Path:
    nib.save(nib.Nifti1Image(hu.astype(np.float32), np.diag([*spacing, 1.0])), str(path))
    return path


def head_phantom(tmp_path: Path, name: str = "head.nii.gz") -> Path:
    """Head CT: scalp, a closed skull ring (1000 HU) around brain (32 HU) with ventricles; 1 x 1 x 3 mm."""
    rng = np.random.default_rng(RNG_SEED)
    spacing = (1.0, 1.0, 3.0)
    shape = (190, 220, 50)
    c = (95.0, 110.0, 75.0)
    hu = np.full(shape, -1000.0)
    hu[_ellipsoid(shape, c, (76, 92, 72), spacing)] = 25.0  # scalp
    hu[_ellipsoid(shape, c, (72, 88, 68), spacing)] = 1000.0  # skull
    hu[_ellipsoid(shape, c, (66, 82, 62), spacing)] = 32.0  # brain
    hu[_ellipsoid(shape, (95, 110, 80), (10, 22, 12), spacing)] = 6.0  # ventricles
    hu += rng.normal(0, 5, shape)
    return _save(tmp_path / name, hu, spacing)


def _trunk(shape, spacing, c):
    """Body wall (fat, muscle) and a spine whose vertebral body rings a small spinal canal."""
    hu = np.full(shape, -1000.0)
    hu[_ellipsoid(shape, c, (170, 120, 1e4), spacing)] = -90.0  # subcutaneous fat
    hu[_ellipsoid(shape, c, (160, 110, 1e4), spacing)] = 45.0  # muscle and organs
    spine_c = (c[0], c[1] + 75.0, c[2])
    hu[_ellipsoid(shape, spine_c, (20, 20, 1e4), spacing)] = 700.0  # vertebra
    hu[_ellipsoid(shape, spine_c, (7, 7, 1e4), spacing)] = 25.0  # spinal canal: the "3 mL cavity"
    return hu


def chest_phantom(tmp_path: Path, name: str = "chest.nii.gz") -> Path:
    """Chest CT: a 34 cm trunk with two aerated lungs (-850 HU) and a mediastinum; 3 mm."""
    rng = np.random.default_rng(RNG_SEED)
    spacing = (3.0, 3.0, 3.0)
    shape = (130, 100, 60)
    c = (195.0, 150.0, 90.0)
    hu = _trunk(shape, spacing, c)
    hu[_ellipsoid(shape, (c[0] + 75, c[1], c[2]), (60, 80, 110), spacing)] = -850.0  # right lung (RAS+ x)
    hu[_ellipsoid(shape, (c[0] - 75, c[1], c[2]), (55, 80, 110), spacing)] = -850.0  # left lung
    hu[_ellipsoid(shape, (c[0] - 20, c[1] - 30, c[2]), (35, 30, 40), spacing)] = 40.0  # heart
    hu += rng.normal(0, 8, shape)
    return _save(tmp_path / name, hu, spacing)


def abdomen_phantom(tmp_path: Path, name: str = "abdomen.nii.gz") -> Path:
    """Abdominal CT: a 34 cm trunk with liver, kidneys, pockets of bowel gas and a thin lung base; 3 mm."""
    rng = np.random.default_rng(RNG_SEED)
    spacing = (3.0, 3.0, 3.0)
    shape = (130, 100, 40)
    c = (195.0, 150.0, 60.0)
    hu = _trunk(shape, spacing, c)
    hu[_ellipsoid(shape, (c[0] + 70, c[1] - 10, c[2]), (70, 70, 60), spacing)] = 60.0  # liver
    for dx in (-60.0, 60.0):
        hu[_ellipsoid(shape, (c[0] + dx, c[1] + 50, c[2]), (25, 25, 40), spacing)] = 35.0  # kidneys
    for x, y, z in ((150, 110, 40), (230, 100, 70), (180, 80, 90), (120, 140, 60)):
        hu[_ellipsoid(shape, (x, y, z), (15, 12, 12), spacing)] = -1000.0  # bowel gas
    hu[_ellipsoid(shape, (c[0] + 70, c[1], 117.0), (50, 60, 6), spacing)] = -850.0  # right lung base, top slices
    hu += rng.normal(0, 8, shape)
    return _save(tmp_path / name, hu, spacing)


def _check(path: Path, region: str, modality: str = "CT"):
    from wardround.tools.segmentation.io import load_image
    from wardround.tools.segmentation.plausibility import check_plausibility

    return check_plausibility(load_image(path), region, modality)


def _case(path: Path, region: str | None, modality: str = "CT", case_id: str = "plausibility") -> wr.Case:
    imaging = [] if path is None else [{"path": str(path), "modality": modality, "body_region": region}]
    return wr.Case.from_dict({
        "id": case_id, "age": 68, "sex": "male", "note": NOTE,
        "vitals": {"systolic_bp": 196, "diastolic_bp": 112, "heart_rate": 88, "gcs": 13},
        "history": {"conditions": ["atrial fibrillation"], "medications": ["warfarin"]},
        "imaging": imaging,
    })


def _image_evidence(result) -> list:
    return [e for e in result.ledger.entries.values()
            if e.kind == "imaging" or (e.tool or "").startswith("segmentation")
            or e.finding == "ct_intracranial_haemorrhage"]


# -- the check on phantoms --------------------------------------------------------------------------------------


def test_head_phantom_labelled_head_passes(tmp_path):
    res = _check(head_phantom(tmp_path), "head")
    assert res.plausible and res.checked and not res.limited, res.reasons
    m = res.measured
    assert 130 <= m["body_lr_mm"] <= 160 and m["cavity_ml"] > 500
    assert m["cavity_brain_fraction"] > 0.8 and m["cavity_share"] > 0.6 and m["lung_share"] < 0.01


def test_head_and_neck_reaching_the_shoulders_passes(tmp_path):
    """The head is judged on the slices through its cavity, not by wider shoulders below it."""
    spacing = (1.5, 1.5, 3.0)
    shape = (300, 180, 100)
    hu = np.full(shape, -1000.0)
    hu[_ellipsoid(shape, (225, 135, 150), (50, 50, 100), spacing)] = 40.0  # neck
    hu[_ellipsoid(shape, (225, 135, 0), (210, 90, 140), spacing)] = 40.0  # shoulders and upper chest
    hu[_ellipsoid(shape, (225, 135, 220), (76, 92, 66), spacing)] = 1000.0  # skull
    hu[_ellipsoid(shape, (225, 135, 220), (70, 86, 60), spacing)] = 32.0  # brain
    hu += np.random.default_rng(RNG_SEED).normal(0, 5, shape)
    res = _check(_save(tmp_path / "head_neck.nii.gz", hu, spacing), "head")
    assert res.plausible, res.reasons
    assert res.measured["body_lr_mm"] > 260 and res.measured["cavity_slices_lr_mm"] < 170


def test_abdomen_phantom_labelled_head_is_refused(tmp_path):
    res = _check(abdomen_phantom(tmp_path), "head")
    assert not res.plausible
    text = " ".join(res.reasons)
    assert "not head-sized" in text and "not a skull around a brain" in text
    assert res.measured["cavity_ml"] < 50 and res.measured["cavity_share"] < 0.05  # the spinal canal
    assert "trunk" in res.found
    assert _check(abdomen_phantom(tmp_path, "a2.nii.gz"), "abdomen").plausible


def test_chest_phantom_labelled_head_is_refused(tmp_path):
    path = chest_phantom(tmp_path)
    res = _check(path, "head")
    assert not res.plausible
    assert any("lung-density air" in r for r in res.reasons if r.startswith("not "))
    assert "lung fields in both halves" in res.found
    chest = _check(path, "chest")
    assert chest.plausible, chest.reasons
    assert chest.measured["lung_min_side_share"] > 0.3


def test_head_labelled_chest_or_abdomen_is_refused(tmp_path):
    path = head_phantom(tmp_path)
    for region in ("chest", "abdomen"):
        res = _check(path, region)
        assert not res.plausible and "a head" in res.found, (region, res.reasons)


def test_abdomen_labelled_chest_is_refused(tmp_path):
    res = _check(abdomen_phantom(tmp_path), "chest")
    assert not res.plausible and any(r.startswith("not a chest") for r in res.reasons)


def test_unknown_region_is_not_checked(tmp_path):
    res = _check(abdomen_phantom(tmp_path), "left knee")
    assert res.plausible and not res.checked


def test_check_is_deterministic(tmp_path):
    path = abdomen_phantom(tmp_path)
    assert _check(path, "head").to_dict() == _check(path, "head").to_dict()


def test_segment_study_refuses_before_segmenting(tmp_path):
    from wardround.tools.segmentation import ImplausibleImageError, segment_study

    path = abdomen_phantom(tmp_path)
    with pytest.raises(ImplausibleImageError, match=r"abdomen\.nii\.gz is labelled 'head' CT") as info:
        segment_study(path, "lungs", out_dir=tmp_path / "o", body_region="head", modality="CT")
    assert not info.value.result.plausible
    assert not (tmp_path / "o").exists()  # nothing was written
    # haemorrhage presupposes a head, so an unlabelled abdomen is refused too
    with pytest.raises(ImplausibleImageError, match="read by method 'hemorrhage' as head"):
        segment_study(path, "hemorrhage", out_dir=tmp_path / "o")
    ok = segment_study(head_phantom(tmp_path), "hemorrhage", out_dir=tmp_path / "h", body_region="head")
    assert ok.plausibility and ok.plausibility[0]["plausible"]


# -- the ward round --------------------------------------------------------------------------------------------


def test_ward_round_refuses_abdomen_labelled_head(tmp_path):
    path = abdomen_phantom(tmp_path)
    result = wr.run(_case(path, "head"), run_dir=str(tmp_path / "runs"))
    assert result.diagnosis is not None and result.verified
    assert _image_evidence(result) == []  # no volume, no "no intracranial haemorrhage" LR-
    statements = " ".join(e.statement for e in result.ledger.entries.values()).lower()
    assert "intracranial haemorrhage: no" not in statements and "cranial cavity" not in statements
    issues = [i for i in result.issues if "abdomen.nii.gz" in i]
    assert issues and "'head'" in issues[0] and "trunk" in issues[0], result.issues
    # the image changed nothing: the same case without it gives the same diagnosis and probability
    bare = wr.run(_case(None, None, case_id="plausibility"), run_dir=str(tmp_path / "runs2"))
    assert result.diagnosis.primary.condition == bare.diagnosis.primary.condition
    assert result.diagnosis.primary.probability == pytest.approx(bare.diagnosis.primary.probability)


def test_ward_round_refuses_unlabelled_chest_read_as_head(tmp_path):
    result = wr.run(_case(chest_phantom(tmp_path), None), run_dir=str(tmp_path / "runs"))
    assert _image_evidence(result) == []
    assert any("chest.nii.gz" in i and "lung" in i for i in result.issues), result.issues


def test_ward_round_reads_head_phantom(tmp_path):
    result = wr.run(_case(head_phantom(tmp_path), "head"), run_dir=str(tmp_path / "runs"))
    assert result.verified, result.issues
    found = [e for e in result.ledger.entries.values() if e.finding == "ct_intracranial_haemorrhage"]
    assert found and found[0].present is False  # a head without blood: the negative finding is earned
    assert not [i for i in result.issues if "head.nii.gz" in i]


# -- real data (WARDROUND_DATA) --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def imaging_root(wardround_data) -> Path:
    root = wardround_data / "imaging"
    if not root.is_dir():
        pytest.skip(f"no imaging folder under {wardround_data}")
    return root


def _real(root: Path, rel: str) -> Path:
    p = root / rel
    if not p.exists():
        pytest.skip(f"{p} not found in WARDROUND_DATA")
    return p


def test_real_abdominal_ct_labelled_head_is_refused(imaging_root):
    """TotalSegmentator's abdominal CT (the kind of scan of the fault): refused as head and chest, fits abdomen."""
    from wardround.tools.segmentation.plausibility import MIN_CAVITY_ML

    for rel in ("totalsegmentator_example/example_ct.nii.gz", "totalsegmentator_example/example_ct_sm.nii.gz",
                "totalsegmentator_example/example_ct_dicom"):
        path = _real(imaging_root, rel)
        head = _check(path, "head")
        assert not head.plausible, (rel, head.reasons)
        assert head.measured["cavity_ml"] < MIN_CAVITY_ML and head.measured["body_lr_mm"] > 300
        assert not _check(path, "chest").plausible, rel
        assert _check(path, "abdomen").plausible, rel


def test_real_abdominal_ct_in_the_ward_gives_no_head_evidence(imaging_root, tmp_path):
    path = _real(imaging_root, "totalsegmentator_example/example_ct.nii.gz")
    result = wr.run(_case(path, "head", case_id="real-abdomen-as-head"), run_dir=str(tmp_path / "runs"))
    assert _image_evidence(result) == []
    assert any("example_ct.nii.gz" in i and "'head'" in i for i in result.issues), result.issues


def test_real_brain_mri_passes_with_a_limited_check(imaging_root):
    for rel in ("nilearn_mni152/mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz",
                "brats2013/pat0001/Flair_subtrMeanDivStd.nii.gz"):
        res = _check(_real(imaging_root, rel), "brain", "MR")
        assert res.plausible and res.limited, (rel, res.reasons)
        assert any("only the field of view" in r for r in res.reasons)


def test_real_abdominal_mri_labelled_head_is_refused(imaging_root):
    res = _check(_real(imaging_root, "totalsegmentator_example/example_mr_sm.nii.gz"), "head", "MR")
    assert not res.plausible and res.limited and res.measured["body_lr_mm"] > 300


def test_real_head_ct_passes_as_head(imaging_root):
    heads = sorted(p for p in imaging_root.rglob("*") if p.is_file() and p.name.endswith((".nii", ".nii.gz"))
                   and "head" in p.name.lower() and "ct" in p.name.lower())
    if not heads:
        pytest.skip(f"no head CT in {imaging_root} (the dev data has abdominal CT and brain MRI only)")
    for p in heads:
        assert _check(p, "head").plausible, p
