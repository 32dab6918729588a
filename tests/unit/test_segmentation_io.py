"""Image I/O: orientation to RAS+, masks written back in the input's space, clear errors for bad input."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys

import nibabel as nib
import numpy as np
import pytest

from wardround.errors import WardroundError
from wardround.tools.segmentation import ImageReadError, SegmentationError, segment_study
from wardround.tools.segmentation.io import load_image, save_mask


def _oblique_lps_affine() -> np.ndarray:
    aff = np.array([[-0.8, 0.0, 0.0, 90.0], [0.0, 0.0, 2.5, -40.0], [0.0, -0.9, 0.0, 60.0], [0, 0, 0, 1.0]])
    return aff


def test_import_does_not_load_torch_or_monai():
    code = "import sys, wardround.tools.segmentation; print('torch' in sys.modules, 'monai' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_nifti_is_reordered_to_ras_like_monai(tmp_path):
    data = np.random.default_rng(0).normal(size=(12, 9, 7)).astype(np.float32)
    path = tmp_path / "x.nii.gz"
    nib.save(nib.Nifti1Image(data, _oblique_lps_affine()), str(path))
    direct = load_image(path)
    via_monai = load_image(path, reader="monai")
    np.testing.assert_array_equal(direct.array, via_monai.array)
    np.testing.assert_allclose(direct.affine, via_monai.affine, atol=1e-5)
    assert "".join(nib.aff2axcodes(direct.affine)) == "RAS"
    assert direct.spacing == pytest.approx((0.8, 2.5, 0.9))  # stored axis 2 runs along A, axis 1 along S
    # the world position of every voxel is unchanged by the reordering
    ijk = np.array([3, 4, 5, 1.0])
    world = _oblique_lps_affine() @ ijk
    ras_ijk = np.linalg.solve(direct.affine, world)[:3].round().astype(int)
    assert direct.array[tuple(ras_ijk)] == data[3, 4, 5]


def test_mask_keeps_input_shape_and_affine(tmp_path):
    data = np.zeros((12, 9, 7), np.float32)
    path = tmp_path / "x.nii.gz"
    nib.save(nib.Nifti1Image(data, _oblique_lps_affine()), str(path))
    vol = load_image(path)
    mask = np.zeros(vol.shape, np.uint8)
    mask[1, 2, 3] = 1
    out = save_mask(mask, vol, tmp_path / "m.nii.gz")
    img = nib.load(str(out))
    assert img.shape == (12, 9, 7)
    np.testing.assert_allclose(img.affine, _oblique_lps_affine(), atol=1e-5)
    world_ras = vol.affine @ np.array([1, 2, 3, 1.0])
    stored_ijk = tuple(np.linalg.solve(img.affine, world_ras)[:3].round().astype(int))
    assert np.asanyarray(img.dataobj)[stored_ijk] == 1


def test_missing_truncated_and_garbage_files(tmp_path):
    with pytest.raises(ImageReadError, match="no such file"):
        load_image(tmp_path / "nope.nii.gz")
    data = np.random.default_rng(0).normal(size=(40, 40, 40)).astype(np.float32)
    good = tmp_path / "good.nii.gz"
    nib.save(nib.Nifti1Image(data, np.eye(4)), str(good))
    raw = good.read_bytes()
    bad = tmp_path / "truncated.nii.gz"
    bad.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ImageReadError, match="truncated.nii.gz") as exc:
        load_image(bad)
    assert isinstance(exc.value, WardroundError)
    junk = tmp_path / "notes.txt"
    junk.write_text("not an image")
    with pytest.raises(ImageReadError, match="notes.txt"):
        load_image(junk)


def test_two_dimensional_and_four_dimensional_input(tmp_path):
    flat = tmp_path / "flat.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((30, 30), np.float32), np.eye(4)), str(flat))
    assert load_image(flat).shape == (30, 30, 1)
    with pytest.raises(SegmentationError, match="2-D"):
        segment_study(flat, "body", out_dir=tmp_path)
    four = tmp_path / "four.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((8, 8, 8, 3), np.float32), np.eye(4)), str(four))
    with pytest.raises(ImageReadError, match="single 3-D volume"):
        load_image(four)


def test_ct_small_dicom_loads_in_hu_with_spacing():
    pydicom = pytest.importorskip("pydicom")
    from pydicom.data import get_testdata_file

    path = get_testdata_file("CT_small.dcm")
    ds = pydicom.dcmread(path)
    vol = load_image(path)
    expected = ds.pixel_array.astype(np.float32) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    assert vol.modality == "CT"
    assert vol.original_shape[:2] == (128, 128)
    assert sorted(vol.array.ravel().tolist()) == pytest.approx(sorted(expected.ravel().tolist()))
    assert vol.spacing[0] == pytest.approx(float(ds.PixelSpacing[1]), abs=1e-4)
    assert vol.spacing[1] == pytest.approx(float(ds.PixelSpacing[0]), abs=1e-4)
    origin_lps = np.array([float(v) for v in ds.ImagePositionPatient])
    corners = [vol.voxel_to_world(c) for c in [(0, 0, 0), (127, 0, 0), (0, 127, 0), (127, 127, 0)]]
    assert any(np.allclose(c, origin_lps * [-1, -1, 1], atol=1e-3) for c in corners)  # LPS -> RAS


def _write_series(folder, uid: str, positions, rows: int = 16):
    import pydicom
    from pydicom.data import get_testdata_file
    from pydicom.uid import ExplicitVRLittleEndian

    folder.mkdir(parents=True, exist_ok=True)
    for n, z in enumerate(positions):
        ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
        ds.SeriesInstanceUID = uid
        ds.SOPInstanceUID = f"{uid}.{n + 1}"
        ds.InstanceNumber = n + 1
        ds.ImagePositionPatient = [-10.0, -20.0, float(z)]
        ds.Rows = ds.Columns = rows
        ds.PixelData = (np.full((rows, rows), 1024 + 10 * n, np.int16)).tobytes()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.save_as(folder / f"{uid}_{n}.dcm", enforce_file_format=True)


def test_dicom_series_folder_geometry_and_mixed_series(tmp_path):
    series = tmp_path / "series"
    _write_series(series, "1.2.3.1", positions=[0.0, 2.5, 5.0, 7.5])
    vol = load_image(series)
    assert vol.original_shape == (16, 16, 4)
    assert vol.spacing[2] == pytest.approx(2.5)
    values = sorted({round(float(v)) for v in np.unique(vol.array)})
    assert values == [0, 10, 20, 30]  # 1024 + 10 n stored, intercept -1024
    mixed = tmp_path / "mixed"
    shutil.copytree(series, mixed)
    _write_series(mixed, "1.2.3.2", positions=[0.0, 2.5])
    with pytest.raises(ImageReadError, match="mixes 2 DICOM series"):
        load_image(mixed)
    broken = tmp_path / "broken"
    shutil.copytree(series, broken)
    (broken / "zz_broken.dcm").write_bytes(b"\x00" * 50)
    with pytest.raises(ImageReadError, match="zz_broken.dcm"):
        load_image(broken)


def test_gzip_of_non_nifti_is_reported(tmp_path):
    p = tmp_path / "fake.nii.gz"
    with gzip.open(p, "wb") as fh:
        fh.write(b"hello world" * 100)
    with pytest.raises(ImageReadError, match="fake.nii.gz"):
        load_image(p)
