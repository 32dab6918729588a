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


def _series_from_volume(folder, ras: np.ndarray, affine: np.ndarray, iop, shuffle: bool = True) -> None:
    """Write a RAS+ volume as a DICOM series whose slices lie along ``iop`` (LPS row and column directions).

    Pixel (column c, row r) of slice s is placed at the world point of the RAS voxel it samples, so the series
    and a NIfTI of ``ras`` describe the same image. Files get shuffled names and reversed InstanceNumbers: only
    ImagePositionPatient may order the slices.
    """
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian

    folder.mkdir(parents=True, exist_ok=True)
    row_dir, col_dir = np.array(iop[:3], float), np.array(iop[3:], float)
    normal = np.cross(row_dir, col_dir)
    flip = np.diag([-1.0, -1.0, 1.0])
    # the RAS axes that the row, column and normal directions run along (axis-aligned directions only)
    axes = [int(np.argmax(np.abs(flip @ d))) for d in (row_dir, col_dir, normal)]
    signs = [float(np.sign((flip @ d)[a])) for d, a in zip((row_dir, col_dir, normal), axes, strict=True)]
    spacing = np.sqrt((affine[:3, :3] ** 2).sum(axis=0))
    grid = np.transpose(ras, axes)  # (along row dir, along column dir, along normal), before signs
    for i, sgn in enumerate(signs):
        if sgn < 0:
            grid = grid[::-1] if i == 0 else (grid[:, ::-1] if i == 1 else grid[:, :, ::-1])
    n_slices = grid.shape[2]
    order = np.random.default_rng(1).permutation(n_slices) if shuffle else np.arange(n_slices)
    for s in range(n_slices):
        # RAS index of pixel (0, 0) of slice s
        idx = [0, 0, 0]
        for i, (a, sgn) in enumerate(zip(axes, signs, strict=True)):
            pos = s if i == 2 else 0
            idx[a] = pos if sgn > 0 else ras.shape[a] - 1 - pos
        world_ras = affine @ np.r_[idx, 1.0]
        ds = Dataset()
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CTImageStorage
        meta.MediaStorageSOPInstanceUID = f"1.2.826.0.1.3680043.8.498.{s + 1}"
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
        ds.Modality, ds.SeriesInstanceUID, ds.StudyInstanceUID = "CT", "1.2.826.0.1.3680043.8.498.99", "1.2.3"
        ds.InstanceNumber = n_slices - s
        ds.ImagePositionPatient = [float(v) for v in flip @ world_ras[:3]]
        ds.ImageOrientationPatient = [float(v) for v in iop]
        ds.PixelSpacing = [float(spacing[axes[1]]), float(spacing[axes[0]])]  # row spacing, column spacing
        ds.SliceThickness = 3.0  # thicker than the slice spacing, as in overlapping reconstructions
        pixels = grid[:, :, s].T  # [row, column]
        ds.Rows, ds.Columns = pixels.shape
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
        ds.PixelData = np.round(pixels + 1024).astype(np.int16).tobytes()
        ds.save_as(folder / f"slice_{order[s]:03d}.dcm", enforce_file_format=True)


@pytest.mark.parametrize("iop", [
    (1, 0, 0, 0, 1, 0),     # axial, the usual CT orientation (LPS rows and columns)
    (0, 1, 0, 0, 0, -1),    # sagittal
    (1, 0, 0, 0, 0, -1),    # coronal
])
def test_dicom_series_reads_like_the_same_volume_written_to_nifti(tmp_path, iop):
    pytest.importorskip("pydicom")
    rng = np.random.default_rng(0)
    ras = np.round(rng.normal(40.0, 30.0, size=(14, 11, 9))).astype(np.float32)
    affine = np.array([[0.8, 0, 0, -40.0], [0, 0.9, 0, 12.5], [0, 0, 2.0, -700.0], [0, 0, 0, 1.0]])
    nifti = tmp_path / "same.nii.gz"
    nib.save(nib.Nifti1Image(ras, affine), str(nifti))
    _series_from_volume(tmp_path / "series", ras, affine, iop)
    from_nifti = load_image(nifti)
    direct = load_image(tmp_path / "series")
    via_monai = load_image(tmp_path / "series", reader="monai")
    for vol in (direct, via_monai):
        np.testing.assert_array_equal(vol.array, from_nifti.array)
        np.testing.assert_allclose(vol.affine, from_nifti.affine, atol=1e-4)
        assert vol.spacing == pytest.approx(from_nifti.spacing, abs=1e-5)
    assert "".join(nib.aff2axcodes(direct.affine)) == "RAS"
    # a world point names the same voxel in both, whichever convention it is given in
    lps = (-(-40.0 + 0.8 * 5), -(12.5 + 0.9 * 4), -700.0 + 2.0 * 3)
    assert direct.world_to_voxel((-lps[0], -lps[1], lps[2])) == (5, 4, 3)


def test_dicom_series_read_without_torch_or_monai(tmp_path):
    pytest.importorskip("pydicom")
    ras = np.zeros((6, 5, 4), np.float32)
    _series_from_volume(tmp_path / "s", ras, np.diag([1.0, 1.0, 2.0, 1.0]), (1, 0, 0, 0, 1, 0))
    code = ("import sys; from wardround.tools.segmentation.io import load_image; "
            f"v = load_image({str(tmp_path / 's')!r}); print(v.shape, 'torch' in sys.modules, 'monai' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split()[-2:] == ["False", "False"]


def test_dicom_series_with_repeated_slice_positions_is_refused(tmp_path):
    _write_series(tmp_path / "s", "1.2.3.7", positions=[0.0, 2.5, 2.5, 5.0])
    with pytest.raises(ImageReadError, match="repeated"):
        load_image(tmp_path / "s")


def test_seed_in_lps_or_ras_names_the_same_voxel(tmp_path):
    ras = np.full((20, 20, 12), -1000.0, np.float32)
    ras[4:16, 4:16, 2:10] = 60.0
    affine = np.array([[1.5, 0, 0, -10.0], [0, 1.5, 0, 20.0], [0, 0, 2.5, -300.0], [0, 0, 0, 1.0]])
    path = tmp_path / "box.nii.gz"
    nib.save(nib.Nifti1Image(ras, affine), str(path))
    centre_ras = (affine @ np.array([10, 10, 6, 1.0]))[:3]
    a = segment_study(path, "region", prompt=tuple(centre_ras), out_dir=tmp_path / "a", overlay=False)
    lps = (-centre_ras[0], -centre_ras[1], centre_ras[2])
    b = segment_study(path, "region", prompt=lps, space="LPS", out_dir=tmp_path / "b", overlay=False)
    assert a.prompt_voxel == b.prompt_voxel == [10, 10, 6]
    assert b.prompt_ras_mm == pytest.approx(list(centre_ras)) and b.prompt_lps_mm == pytest.approx(list(lps))
    assert a.volume_ml == pytest.approx(b.volume_ml)
    with pytest.raises(SegmentationError, match="space"):
        segment_study(path, "region", prompt=lps, space="RAI", out_dir=tmp_path / "c", overlay=False)
