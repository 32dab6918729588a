"""Segmentation on real scans under WARDROUND_DATA (skipped when the data folder is absent).

References are third-party: BRATS 2013 manual tumour labels, the MNI152 2009a tissue probability maps, and
the TotalSegmentator example CT with its organ mask (a model output). Seeds are derived from the reference
mask for the test only (the deepest voxel of the liver); the method never sees the reference.
"""

from __future__ import annotations

import json
import logging

import nibabel as nib
import numpy as np
import pytest

from wardround.tools.segmentation import segment_study
from wardround.tools.segmentation.io import load_image

pytestmark = pytest.mark.external
log = logging.getLogger(__name__)


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * float((a & b).sum()) / float(a.sum() + b.sum())


def _stored(path) -> np.ndarray:
    return np.asanyarray(nib.load(str(path)).dataobj)


@pytest.fixture(scope="module")
def imaging(wardround_data):
    root = wardround_data / "imaging"
    if not root.is_dir():
        pytest.skip(f"no imaging folder under {wardround_data}")
    return root


def _same_grid(mask_path, image_path) -> None:
    mask, image = nib.load(str(mask_path)), nib.load(str(image_path))
    assert mask.shape == image.shape[:3]
    np.testing.assert_allclose(mask.affine, image.affine, atol=1e-4)


def test_brats_flair_lesion_whole_tumour(imaging, tmp_path):
    case = imaging / "brats2013" / "pat0001"
    flair = case / "Flair_subtrMeanDivStd.nii.gz"
    result = segment_study(flair, "flair_lesion", out_dir=tmp_path)
    _same_grid(result.mask, flair)
    truth = _stored(case / "OTMultiClass.nii.gz") > 0
    dice = _dice(_stored(result.mask) > 0, truth)
    print(f"BRATS pat0001 flair_lesion whole-tumour Dice {dice:.3f}")
    assert dice >= 0.85


def test_brats_brain_mask(imaging, tmp_path):
    case = imaging / "brats2013" / "pat0001"
    result = segment_study(case / "T1c_subtrMeanDivStd.nii.gz", "brain", out_dir=tmp_path)
    dice = _dice(_stored(result.mask) > 0, _stored(case / "brainmask.nii.gz") > 0.5)
    print(f"BRATS pat0001 brain mask (T1c) Dice vs the supplied brain mask {dice:.3f}")
    assert dice >= 0.9


def test_mni152_tissue_classes(imaging, tmp_path):
    folder = imaging / "nilearn_mni152"
    t1 = folder / "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"
    result = segment_study(t1, "tissue", out_dir=tmp_path)
    _same_grid(result.mask, t1)
    labels = _stored(result.mask)
    white = _stored(folder / "mni_icbm152_wm_tal_nlin_sym_09a_converted.nii.gz") >= 127.5
    grey = _stored(folder / "mni_icbm152_gm_tal_nlin_sym_09a_converted.nii.gz") >= 127.5
    d_white, d_grey = _dice(labels == 3, white), _dice(labels == 2, grey)
    print(f"MNI152 tissue Dice: white matter {d_white:.3f}, grey matter {d_grey:.3f}")
    assert d_white >= 0.93
    assert d_grey >= 0.90


@pytest.fixture(scope="module")
def totalseg(imaging):
    folder = imaging / "totalsegmentator_example"
    names = {int(k): v for k, v in json.loads((folder / "class_map_total.json").read_text())["labels"].items()}
    return folder, _stored(folder / "example_seg.nii.gz").astype(int), names


def test_liver_from_one_seed(totalseg, tmp_path):
    from scipy import ndimage as ndi

    folder, seg, names = totalseg
    ct = folder / "example_ct_sm.nii.gz"
    liver = seg == next(k for k, v in names.items() if v == "liver")
    img = nib.load(str(ct))
    # seed: the liver voxel farthest from the liver's edge (the scan's top and bottom count as edges)
    depth = ndi.distance_transform_edt(np.pad(liver, 1), sampling=img.header.get_zooms()[:3])[1:-1, 1:-1, 1:-1]
    seed_voxel = np.unravel_index(int(depth.argmax()), depth.shape)
    seed_world = (img.affine @ np.r_[seed_voxel, 1.0])[:3]
    result = segment_study(ct, "region", prompt=tuple(seed_world), out_dir=tmp_path)
    _same_grid(result.mask, ct)
    mask = _stored(result.mask) > 0
    dice = _dice(mask, liver)
    truth_ml = liver.sum() * float(np.prod(img.header.get_zooms()[:3])) / 1000
    error = abs(result.volume_ml - truth_ml) / truth_ml
    print(f"TotalSegmentator liver (region, seed {seed_world.round(1)} mm): Dice {dice:.3f}, "
          f"volume {result.volume_ml:.0f} vs {truth_ml:.0f} mL ({100 * error:.1f} %)")
    assert dice >= 0.90
    assert error <= 0.10


def test_lungs_against_lung_lobes(totalseg, tmp_path):
    folder, seg, names = totalseg
    ct = folder / "example_ct_sm.nii.gz"
    result = segment_study(ct, "lungs", out_dir=tmp_path)
    mask = _stored(result.mask)
    lung_ids = [k for k, v in names.items() if v.startswith("lung_")]
    right_ids = [k for k, v in names.items() if v.startswith("lung_") and v.endswith("_right")]
    truth = np.isin(seg, lung_ids)
    dice = _dice(mask > 0, truth)
    d_right = _dice(mask == 1, np.isin(seg, right_ids))
    print(f"TotalSegmentator lungs Dice {dice:.3f} (right lung {d_right:.3f})")
    assert dice >= 0.85
    assert d_right >= 0.8  # label 1 is the patient's right lung
    bowel_ids = [k for k, v in names.items() if v in ("colon", "small_bowel", "duodenum", "stomach")]
    assert (mask > 0)[np.isin(seg, bowel_ids)].sum() < 0.02 * truth.sum()


def test_bone_against_vertebrae_and_ribs(totalseg, tmp_path):
    folder, seg, names = totalseg
    ct = folder / "example_ct_sm.nii.gz"
    result = segment_study(ct, "bone", out_dir=tmp_path)
    bone_ids = [k for k, v in names.items() if v.startswith(("vertebrae", "rib_", "sacrum"))]
    dice = _dice(_stored(result.mask) > 0, np.isin(seg, bone_ids))
    print(f"TotalSegmentator bone Dice vs vertebrae + ribs: {dice:.3f}")
    assert dice >= 0.6


def test_dicom_series_geometry_matches_headers(imaging):
    import pydicom

    folder = imaging / "totalsegmentator_example" / "example_ct_dicom"
    headers = sorted((pydicom.dcmread(p, stop_before_pixels=True) for p in folder.iterdir()),
                     key=lambda d: float(d.ImagePositionPatient[2]))
    vol = load_image(folder)
    first = headers[0]
    rows, cols = int(first.Rows), int(first.Columns)
    assert sorted(vol.original_shape) == sorted((rows, cols, len(headers)))
    row_mm, col_mm = (float(v) for v in first.PixelSpacing)
    slice_mm = abs(float(headers[1].ImagePositionPatient[2]) - float(headers[0].ImagePositionPatient[2]))
    assert sorted(vol.spacing) == pytest.approx(sorted((row_mm, col_mm, slice_mm)), abs=1e-4)
    # orientation: the stored affine's direction columns are the DICOM row/column cosines in RAS (x, y negated)
    iop = np.array([float(v) for v in first.ImageOrientationPatient])
    lps_to_ras = np.array([-1.0, -1.0, 1.0])
    directions = vol.original_affine[:3, :3] / np.linalg.norm(vol.original_affine[:3, :3], axis=0)
    for cosines in (iop[:3], iop[3:]):
        assert any(np.allclose(directions[:, k], cosines * lps_to_ras, atol=1e-4) for k in range(3))
    # origin: every slice's ImagePositionPatient is the world position of a corner voxel of that slice
    corners = {tuple(np.round(vol.original_affine @ np.array([0, 0, k, 1.0]), 3)[:3])
               for k in range(vol.original_shape[2])}
    for ds in headers:
        ipp = np.array([float(v) for v in ds.ImagePositionPatient]) * lps_to_ras
        assert tuple(np.round(ipp, 3)) in corners
    assert vol.modality == "CT"
    assert float(vol.array.min()) == pytest.approx(-1024.0, abs=1.0)  # HU after rescale (air outside the FOV)


# A point in the right liver lobe of the DICOM series, read off an axial slice (RAS+ world mm).
DICOM_LIVER_SEED_MM = (83.5, 183.6, -784.5)


def test_dicom_series_liver_region(imaging, tmp_path):
    folder = imaging / "totalsegmentator_example" / "example_ct_dicom"
    result = segment_study(folder, "region", prompt=DICOM_LIVER_SEED_MM, out_dir=tmp_path)
    m = result.label(1)
    print(f"DICOM liver region: {m.volume_ml:.0f} mL, mean {m.mean_intensity:.0f} HU, centroid {m.centroid_mm} "
          f"overlay {result.overlay}")
    assert nib.load(result.mask).shape == tuple(result.shape)
    assert 150 <= m.volume_ml <= 1500  # a 40 mm slab of liver
    assert 40 <= m.mean_intensity <= 200  # enhanced liver parenchyma, not fat, air or bone
    assert m.centroid_mm[0] > 0  # patient's right
    assert m.components == 1


def test_dicom_series_direct_read_equals_monai_and_lps_seed(imaging, tmp_path):
    folder = imaging / "totalsegmentator_example" / "example_ct_dicom"
    direct = load_image(folder)
    via_monai = load_image(folder, reader="monai")
    np.testing.assert_array_equal(direct.array, via_monai.array)
    np.testing.assert_allclose(direct.affine, via_monai.affine, atol=1e-4)
    assert direct.spacing == pytest.approx(via_monai.spacing)
    x, y, z = DICOM_LIVER_SEED_MM
    result = segment_study(folder, "region", prompt=(-x, -y, z), space="LPS", out_dir=tmp_path, overlay=False)
    assert result.prompt_lps_mm == pytest.approx([-x, -y, z], abs=1.0)
    assert result.params["working_grid_mm"] == pytest.approx([2.93, 2.93, 2.0], abs=0.01)
