"""Classical segmentation methods on synthetic phantoms (ellipsoids with noise) whose truth is known."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from wardround.tools.segmentation import SegmentationError, segment_study
from wardround.tools.segmentation.synthetic import ellipsoid, head_ct_phantom

RNG = np.random.default_rng(7)


def dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * float((a & b).sum()) / float(a.sum() + b.sum())


def save(tmp_path: Path, name: str, data: np.ndarray, spacing=(1.0, 1.0, 1.0), lps: bool = False) -> Path:
    """Write a NIfTI; ``lps`` stores it flipped in x and y (LPS voxel order) to exercise reorientation."""
    affine = np.diag([*spacing, 1.0])
    if lps:
        data = data[::-1, ::-1, :]
        affine = affine.copy()
        affine[0, 0] = -spacing[0]
        affine[1, 1] = -spacing[1]
        affine[0, 3] = spacing[0] * (data.shape[0] - 1)
        affine[1, 3] = spacing[1] * (data.shape[1] - 1)
    path = tmp_path / name
    nib.save(nib.Nifti1Image(data.astype(np.float32), affine), str(path))
    return path


def stored_mask(path: str, lps: bool = False) -> np.ndarray:
    data = np.asanyarray(nib.load(path).dataobj)
    return data[::-1, ::-1, :] if lps else data


def torso_phantom(spacing=(3.0, 3.0, 3.0)):
    """Abdomen/lung-base CT in HU: body, two posterior lungs, anterior bowel gas, spine, a liver (300 x 240 x 90 mm
    whatever the voxel size)."""
    shape = tuple(int(round(e / s)) for e, s in zip((300.0, 240.0, 90.0), spacing, strict=True))
    ext = [n * s for n, s in zip(shape, spacing, strict=True)]
    cx, cy = ext[0] / 2, ext[1] / 2
    hu = np.full(shape, -1000.0)
    body = ellipsoid(shape, (cx, cy, ext[2] / 2), (130, 95, 1e4), spacing)
    hu[body] = -90.0  # fat
    inner = ellipsoid(shape, (cx, cy, ext[2] / 2), (115, 80, 1e4), spacing)
    hu[inner] = 30.0  # muscle and viscera
    liver = ellipsoid(shape, (cx + 45, cy + 5, 50), (55, 45, 40), spacing) & inner
    hu[liver] = 60.0
    right_lung = ellipsoid(shape, (cx + 55, cy - 35, ext[2] + 5), (35, 25, 45), spacing) & inner
    left_lung = ellipsoid(shape, (cx - 55, cy - 35, ext[2] + 5), (35, 25, 45), spacing) & inner
    lungs = right_lung | left_lung
    hu[lungs] = -850.0 + RNG.normal(0, 40, lungs.sum())
    bowel = ellipsoid(shape, (cx - 40, cy + 45, 40), (20, 15, 12), spacing) & inner
    hu[bowel] = -1000.0
    spine = ellipsoid(shape, (cx, cy - 55, ext[2] / 2), (15, 15, 1e4), spacing)
    hu[spine] = 700.0
    hu += RNG.normal(0, 8, shape)
    return hu, {"body": body, "liver": liver, "right_lung": right_lung, "left_lung": left_lung, "bowel": bowel,
                "spine": spine}


def test_lungs_exclude_bowel_gas_and_split_sides(tmp_path):
    hu, truth = torso_phantom()
    path = save(tmp_path, "torso.nii.gz", hu, (3.0, 3.0, 3.0), lps=True)
    result = segment_study(path, "lungs", out_dir=tmp_path / "out")
    mask = stored_mask(result.mask, lps=True)
    assert dice(mask == 1, truth["right_lung"]) > 0.85  # RAS+ x grows to the patient's right
    assert dice(mask == 2, truth["left_lung"]) > 0.85
    assert not (mask > 0)[truth["bowel"]].any()
    assert {m.name for m in result.labels} == {"lung_right", "lung_left"}


def test_body_and_bone(tmp_path):
    hu, truth = torso_phantom()
    path = save(tmp_path, "torso.nii.gz", hu, (3.0, 3.0, 3.0))
    body = stored_mask(segment_study(path, "body", out_dir=tmp_path / "o").mask) > 0
    assert dice(body, truth["body"]) > 0.95
    bone = stored_mask(segment_study(path, "bone", out_dir=tmp_path / "o").mask) > 0
    assert dice(bone, truth["spine"]) > 0.85


def test_region_grows_liver_from_one_seed(tmp_path):
    hu, truth = torso_phantom()
    path = save(tmp_path, "torso.nii.gz", hu, (3.0, 3.0, 3.0), lps=True)
    centre = np.argwhere(truth["liver"]).mean(axis=0)
    world = (centre * 3.0).tolist()  # RAS+ world mm of the liver centre (identity orientation in RAS)
    result = segment_study(path, "region", prompt=world, out_dir=tmp_path / "o")
    mask = stored_mask(result.mask, lps=True) > 0
    assert dice(mask, truth["liver"]) > 0.9
    truth_ml = truth["liver"].sum() * 27 / 1000
    assert abs(result.volume_ml - truth_ml) / truth_ml < 0.1
    # the same seed given as a voxel index of the stored (LPS) file
    i, j, k = np.round(centre).astype(int)
    stored_ijk = f"{hu.shape[0] - 1 - i},{hu.shape[1] - 1 - j},{k}"
    again = segment_study(path, "region", prompt_voxel=stored_ijk, out_dir=tmp_path / "o2")
    assert dice(stored_mask(again.mask, lps=True) > 0, truth["liver"]) > 0.9


def test_region_gives_the_same_organ_at_scanner_resolution(tmp_path):
    # a 512 x 512 CT has pixels of about 0.7-1 mm: the organ grown there must match the one grown at 3 mm
    coarse_ml = None
    for spacing in ((3.0, 3.0, 3.0), (1.0, 1.0, 2.0)):
        hu, truth = torso_phantom(spacing)
        path = save(tmp_path, f"torso_{spacing[0]}.nii.gz", hu, spacing)
        centre = np.argwhere(truth["liver"]).mean(axis=0) * np.array(spacing)
        result = segment_study(path, "region", prompt=tuple(centre), out_dir=tmp_path / "o", overlay=False)
        mask = stored_mask(result.mask) > 0
        truth_ml = truth["liver"].sum() * float(np.prod(spacing)) / 1000
        assert dice(mask, truth["liver"]) > 0.9, spacing
        assert abs(result.volume_ml - truth_ml) / truth_ml < 0.1, spacing
        if coarse_ml is None:
            coarse_ml = result.volume_ml
        else:
            assert abs(result.volume_ml - coarse_ml) / coarse_ml < 0.05
            assert result.params["working_grid_mm"] == [3.0, 3.0, 2.0]


def test_region_needs_a_seed_inside_the_image(tmp_path):
    hu, _ = torso_phantom()
    path = save(tmp_path, "torso.nii.gz", hu, (3.0, 3.0, 3.0))
    with pytest.raises(SegmentationError, match="needs a seed"):
        segment_study(path, "region", out_dir=tmp_path)
    with pytest.raises(SegmentationError, match="outside the image"):
        segment_study(path, "region", prompt=(9999, 0, 0), out_dir=tmp_path)


def test_hemorrhage_volume_matches_truth(tmp_path):
    hu, spacing, blood = head_ct_phantom()
    path = save(tmp_path, "head.nii.gz", hu, spacing)
    result = segment_study(path, "hemorrhage", out_dir=tmp_path / "o")
    truth_ml = blood.sum() * 2.0 / 1000
    assert abs(result.volume_ml - truth_ml) / truth_ml < 0.15
    assert dice(stored_mask(result.mask) > 0, blood) > 0.85
    assert result.label(1).max_diameter_mm == pytest.approx(30.0, abs=4.0)


def test_hemorrhage_with_open_skull_base(tmp_path):
    """A foramen magnum joins the cranial cavity to the neck; the cavity must still be found."""
    hu, spacing, blood = head_ct_phantom()
    neck = ellipsoid(hu.shape, (80.0, 95.0, 0.0), (15.0, 15.0, 90.0), spacing)
    hu[neck & (hu > 500)] = 35.0  # hole through the skull base
    hu[neck & (hu < -500)] = 35.0  # neck soft tissue below the skull
    path = save(tmp_path, "head_open.nii.gz", hu, spacing)
    result = segment_study(path, "hemorrhage", out_dir=tmp_path / "o")
    truth_ml = blood.sum() * 2.0 / 1000
    assert abs(result.volume_ml - truth_ml) / truth_ml < 0.15


def test_hemorrhage_absent_gives_empty_mask(tmp_path):
    hu, spacing, blood = head_ct_phantom()
    hu[blood] = 35.0 + RNG.normal(0, 4, blood.sum())
    path = save(tmp_path, "head.nii.gz", hu, spacing)
    result = segment_study(path, "hemorrhage", out_dir=tmp_path / "o")
    assert result.volume_ml < 0.5


def mri_head_phantom(flair: bool = False):
    """T1 (or FLAIR) head at 1 mm: bright scalp, dark skull, CSF rim, grey-matter shell, white-matter core."""
    shape = (120, 140, 120)
    c = (60.0, 70.0, 60.0)
    img = np.zeros(shape)
    scalp = ellipsoid(shape, c, (58, 68, 58))
    skull = ellipsoid(shape, c, (53, 63, 53))
    brain = ellipsoid(shape, c, (48, 58, 48))
    gm = ellipsoid(shape, c, (46, 56, 46))
    wm = ellipsoid(shape, c, (38, 48, 38))
    ventricle = ellipsoid(shape, (60, 70, 62), (6, 14, 6))
    if not flair:
        img[scalp] = 230
        img[skull] = 15
        img[brain] = 60  # CSF
        img[gm] = 150
        img[wm] = 210
        img[ventricle] = 60
    else:
        img[scalp] = 180
        img[skull] = 10
        img[brain] = 30
        img[gm] = 110
        img[wm] = 90
        img[ventricle] = 30
    labels = np.zeros(shape, np.uint8)
    labels[brain] = 1
    labels[gm] = 2
    labels[wm] = 3
    labels[ventricle] = 1
    img = img + RNG.normal(0, 5, shape)
    img[~scalp] = np.abs(RNG.normal(0, 3, (~scalp).sum()))
    return img, labels, brain


def test_brain_strips_scalp_and_skull(tmp_path):
    img, _, brain = mri_head_phantom()
    path = save(tmp_path, "t1.nii.gz", img)
    mask = stored_mask(segment_study(path, "brain", out_dir=tmp_path / "o").mask) > 0
    assert dice(mask, brain) > 0.9


def test_tissue_classes_on_t1(tmp_path):
    img, labels, _ = mri_head_phantom()
    path = save(tmp_path, "t1.nii.gz", img)
    result = segment_study(path, "tissue", out_dir=tmp_path / "o")
    mask = stored_mask(result.mask)
    assert dice(mask == 3, labels == 3) > 0.93
    assert dice(mask == 2, labels == 2) > 0.85
    assert [m.name for m in result.labels] == ["csf", "grey_matter", "white_matter"]


def test_flair_lesion_finds_hyperintensity(tmp_path):
    img, _, brain = mri_head_phantom(flair=True)
    lesion = ellipsoid(img.shape, (45.0, 60.0, 70.0), (12, 10, 9)) & brain
    img[lesion] = 170 + RNG.normal(0, 5, lesion.sum())
    core = ellipsoid(img.shape, (45.0, 60.0, 70.0), (5, 4, 4))
    img[core] = 40  # a dark necrotic core enclosed by bright oedema belongs to the lesion
    path = save(tmp_path, "flair.nii.gz", img, lps=True)
    result = segment_study(path, "flair_lesion", out_dir=tmp_path / "o")
    assert dice(stored_mask(result.mask, lps=True) > 0, lesion) > 0.85


def test_methods_refuse_the_wrong_modality(tmp_path):
    hu, _ = torso_phantom()
    ct = save(tmp_path, "ct.nii.gz", hu, (3.0, 3.0, 3.0))
    with pytest.raises(SegmentationError, match="CT in HU"):
        segment_study(ct, "tissue", out_dir=tmp_path)
    img, _, _ = mri_head_phantom()
    mr = save(tmp_path, "t1.nii.gz", img)
    with pytest.raises(SegmentationError, match="Hounsfield"):
        segment_study(mr, "lungs", out_dir=tmp_path)
    with pytest.raises(SegmentationError, match="unknown"):
        segment_study(mr, "spleen", out_dir=tmp_path)
