"""Image I/O: NIfTI files, DICOM series folders and single DICOM files through MONAI's readers.

Every volume is returned in RAS+ voxel order (as MONAI ``Orientation(axcodes="RAS")`` gives it) with its spacing kept and CT values in
Hounsfield units (the readers apply the rescale slope/intercept). The original file's shape and affine are
kept too, so a mask can be written back in exactly the input image's space (``save_mask``).
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from wardround.settings import env_int
from wardround.tools.segmentation.errors import ImageReadError, SegmentationError

log = logging.getLogger(__name__)

NIFTI_SUFFIXES = (".nii", ".nii.gz", ".img", ".hdr")

#: Most voxels one image may hold (``WARDROUND_MAX_VOXELS`` overrides): 2**28 is a 512 x 512 x 1024 CT, 1 GiB as
#: float32. A header claiming more is refused before any voxel is read or allocated.
MAX_VOXELS = 2**28


def max_voxels() -> int:
    """The voxel limit: ``WARDROUND_MAX_VOXELS`` or ``MAX_VOXELS``."""
    return env_int("WARDROUND_MAX_VOXELS", MAX_VOXELS)


def check_voxel_budget(shape: tuple[int, ...], source: Path | str) -> None:
    """Refuse an image whose header claims more than ``max_voxels()`` voxels (before it is read into memory)."""
    dims = [int(s) for s in shape]
    if any(s < 0 for s in dims):
        raise ImageReadError(f"{source}: the header claims a negative image size {tuple(dims)}; re-export the image")
    n = 1
    for s in dims:
        n *= max(s, 1)
    limit = max_voxels()
    if n > limit:
        raise ImageReadError(
            f"{source}: the header claims {'x'.join(map(str, dims))} = {n:,} voxels, over the limit of {limit:,}; "
            "crop or resample the image (or raise WARDROUND_MAX_VOXELS if this machine has the memory)"
        )


def require_imaging(what: str = "reading images") -> None:
    """Raise a clear ``ImageReadError`` when the imaging extra (nibabel, pydicom, scikit-image, torch, MONAI) is
    not installed: a text-only install of wardround does not carry it."""
    import importlib.util

    missing = [m for m in ("nibabel", "pydicom", "scipy", "skimage") if importlib.util.find_spec(m) is None]
    if missing:
        raise ImageReadError(f"{what} needs the imaging extra ({', '.join(missing)} not installed); "
                             "install it with pip install 'wardround[imaging]'")


def import_monai(need_transformers: bool = False) -> Any:
    """Import MONAI lazily and fast.

    ``import monai`` loads every submodule, and ``monai.networks.nets.transchex`` imports ``transformers``
    (about two seconds here) although no segmentation code uses it. Unless the caller needs it (or it is
    already loaded), ``transformers`` is hidden while MONAI loads, so MONAI records it as unavailable for
    Transchex only; it stays importable normally afterwards.
    """
    if "monai" in sys.modules:
        return sys.modules["monai"]
    hide = not need_transformers and "transformers" not in sys.modules
    import importlib.util

    if importlib.util.find_spec("monai") is None or importlib.util.find_spec("torch") is None:
        raise ImageReadError("MONAI networks and readers need the imaging extra (monai, torch); "
                             "install it with pip install 'wardround[imaging]'")
    if hide:
        sys.modules["transformers"] = None  # type: ignore[assignment]
    # MONAI logs a warning at import when the optional nvImageCodec GPU decoder is absent (always, on CPU)
    logging.getLogger("monai.data.nvimgcodec_pydicom_plugin").setLevel(logging.ERROR)
    try:
        import monai
        import monai.transforms  # noqa: F401
    finally:
        if hide and sys.modules.get("transformers", 0) is None:
            del sys.modules["transformers"]
    _limit_threads()
    return monai


def _limit_threads() -> None:
    import torch

    n = int(os.environ.get("WARDROUND_THREADS", "0") or 0) or (os.cpu_count() or 1)
    if torch.get_num_threads() > n:
        torch.set_num_threads(n)


@dataclass
class Volume:
    """A 3-D image in RAS+ voxel order.

    Attributes:
        array: float32 array (X, Y, Z), RAS+ voxel order; CT in HU.
        affine: 4x4 voxel-to-world (RAS+ mm) matrix of ``array``.
        spacing: voxel size in mm along the three array axes.
        source: the file or folder it came from.
        original_affine: the affine of the image as stored (the space masks are written back to).
        original_shape: the array shape as stored.
        modality: "CT", "MR", ... when the file says so (DICOM), else ``None``.
        meta: a few reader facts (format, series description, number of files).
    """

    array: np.ndarray
    affine: np.ndarray
    spacing: tuple[float, float, float]
    source: str
    original_affine: np.ndarray
    original_shape: tuple[int, int, int]
    modality: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int, int]:
        """Array shape (X, Y, Z) in RAS+ order."""
        return tuple(int(s) for s in self.array.shape)  # type: ignore[return-value]

    @property
    def voxel_volume_ml(self) -> float:
        """Volume of one voxel in millilitres."""
        return float(abs(np.linalg.det(self.affine[:3, :3]))) / 1000.0

    @property
    def is_3d(self) -> bool:
        """True when every axis holds at least three voxels."""
        return min(self.array.shape) >= 3

    def world_to_voxel(self, point_mm: tuple[float, float, float]) -> tuple[int, int, int]:
        """RAS+ world point (mm) to the nearest voxel index of ``array``."""
        ijk = np.linalg.solve(self.affine, np.array([*point_mm, 1.0]))[:3]
        return tuple(int(round(float(v))) for v in ijk)  # type: ignore[return-value]

    def stored_voxel_to_voxel(self, ijk: tuple[int, int, int]) -> tuple[int, int, int]:
        """Voxel index of the file as stored to the voxel index of the RAS+ ``array``."""
        world = self.original_affine @ np.array([*map(float, ijk), 1.0])
        return self.world_to_voxel(tuple(world[:3]))  # type: ignore[arg-type]

    def voxel_to_world(self, ijk: tuple[float, float, float]) -> tuple[float, float, float]:
        """Voxel index of ``array`` to RAS+ world mm."""
        w = self.affine @ np.array([*map(float, ijk), 1.0])
        return (float(w[0]), float(w[1]), float(w[2]))

    def to_stored(self, mask: np.ndarray) -> np.ndarray:
        """Reorder a RAS+ array back to the voxel order of the file as stored."""
        return _reorient(mask, self.affine, self.original_affine)


def _axcodes(affine: np.ndarray) -> str:
    import nibabel as nib

    return "".join(nib.aff2axcodes(affine))


def _reorient(arr: np.ndarray, from_affine: np.ndarray, to_affine: np.ndarray) -> np.ndarray:
    """Flip/permute ``arr`` from the voxel order of ``from_affine`` to that of ``to_affine`` (same grid)."""
    import nibabel.orientations as nio

    src = nio.io_orientation(from_affine)
    dst = nio.io_orientation(to_affine)
    transform = nio.ornt_transform(src, dst)
    return np.ascontiguousarray(nio.apply_orientation(arr, transform))


def to_ras(arr: np.ndarray, affine: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flip/permute an array to RAS+ voxel order (what MONAI ``Orientation(axcodes="RAS")`` does)."""
    import nibabel.orientations as nio

    ornt = nio.io_orientation(affine)
    ras = np.ascontiguousarray(nio.apply_orientation(arr, ornt), dtype=np.float32)
    ras_affine = affine @ nio.inv_ornt_aff(ornt, arr.shape)
    return ras, np.asarray(ras_affine, dtype=np.float64)


def _is_nifti(path: Path) -> bool:
    name = path.name.lower()
    return any(name.endswith(s) for s in NIFTI_SUFFIXES)


def _check_dicom_folder(folder: Path) -> dict[str, Any]:
    """Read every header of a DICOM folder; refuse folders that hold several series or broken files."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise ImageReadError(f"{folder}: the folder is empty; pass a folder holding one DICOM series")
    groups: dict[tuple, list[Path]] = {}
    total_frames = 0
    modality = None
    description = None
    for p in files:
        try:
            ds = pydicom.dcmread(p, stop_before_pixels=True)
        except (InvalidDicomError, OSError, EOFError, ValueError, AttributeError) as exc:
            raise ImageReadError(
                f"{p}: not a readable DICOM file ({type(exc).__name__}: {exc}); remove it from the series folder"
            ) from exc
        if "PixelData" not in ds and "Rows" not in ds:
            raise ImageReadError(f"{p}: DICOM file without an image; remove it from the series folder")
        total_frames += _dicom_frames(ds)
        check_voxel_budget((int(ds.get("Rows", 0) or 0), int(ds.get("Columns", 0) or 0), total_frames,
                            int(ds.get("SamplesPerPixel", 1) or 1)), folder)
        key = (
            str(ds.get("SeriesInstanceUID", "")),
            int(ds.get("Rows", 0)),
            int(ds.get("Columns", 0)),
            tuple(round(float(v), 3) for v in ds.get("ImageOrientationPatient", []) or []),
        )
        groups.setdefault(key, []).append(p)
        modality = modality or ds.get("Modality")
        description = description or ds.get("SeriesDescription")
    if len(groups) > 1:
        parts = [f"{len(v)} file(s) like {v[0].name} (series {k[0] or '?'}, {k[1]}x{k[2]})" for k, v in groups.items()]
        raise ImageReadError(
            f"{folder}: the folder mixes {len(groups)} DICOM series ({'; '.join(parts)}); "
            "put each series in its own folder and pass one of them"
        )
    return {"files": len(files), "modality": modality, "series_description": description}


def _check_dicom_file(path: Path) -> dict[str, Any]:
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
    except (InvalidDicomError, OSError, EOFError, ValueError, AttributeError) as exc:
        raise ImageReadError(
            f"{path}: not a readable NIfTI or DICOM file ({type(exc).__name__}: {exc}); "
            "pass a .nii/.nii.gz file, a DICOM file or a folder holding one DICOM series"
        ) from exc
    if "Rows" not in ds:
        raise ImageReadError(f"{path}: DICOM file without an image; pass an image DICOM file")
    check_voxel_budget((int(ds.get("Rows", 0) or 0), int(ds.get("Columns", 0) or 0), _dicom_frames(ds),
                        int(ds.get("SamplesPerPixel", 1) or 1)), path)
    return {"files": 1, "modality": ds.get("Modality"), "series_description": ds.get("SeriesDescription")}


def _dicom_frames(ds: Any) -> int:
    try:
        return max(1, int(ds.get("NumberOfFrames", 1) or 1))
    except (TypeError, ValueError):
        return 1


def load_image(path: str | Path, reader: str = "auto") -> Volume:
    """Load a NIfTI file, a DICOM series folder or a single DICOM file as a RAS+ ``Volume``.

    Args:
        path: the image.
        reader: ``"auto"`` reads NIfTI with nibabel and a DICOM series folder with pydicom directly
            (``_read_dicom_series``), and a single DICOM file with MONAI's ``PydicomReader``; ``"monai"`` reads
            everything through MONAI's ``LoadImage``. Both give the same array and affine (unit tests check it);
            the direct path spares the three to four seconds of importing torch and MONAI, which the classical
            methods do not otherwise need.

    Raises:
        ImageReadError: the path is missing, unreadable, truncated, mixes several series, or is not 2-D/3-D.
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise ImageReadError(f"{p}: no such file or folder; check the path")
    require_imaging(f"{p}: reading the image")
    if p.is_dir():
        info = _check_dicom_folder(p)
        reader_name, fmt = "PydicomReader", "dicom-series"
    elif _is_nifti(p):
        info = {"files": 1, "modality": None, "series_description": None}
        reader_name, fmt = "NibabelReader", "nifti"
    else:
        info = _check_dicom_file(p)
        reader_name, fmt = "PydicomReader", "dicom"
    if fmt == "nifti":
        _check_nifti_header(p)
    if fmt == "nifti" and reader != "monai":
        arr, affine = _read_nifti(p)
        return _to_volume(p, arr, affine, info, fmt)
    if fmt == "dicom-series" and reader != "monai":
        arr, affine = _read_dicom_series(p)
        return _to_volume(p, arr, affine, info, fmt)
    import_monai()
    import warnings

    from monai.transforms import LoadImage

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            img = LoadImage(reader=reader_name, image_only=True, dtype=np.float32)(str(p))
    except ImageReadError:
        raise
    except Exception as exc:  # readers raise many types for broken files
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        raise ImageReadError(
            f"{p}: could not be read ({reason}); the file may be truncated or not a {fmt} image — re-export it"
        ) from exc
    return _to_volume(p, np.asarray(img), np.asarray(img.affine, dtype=np.float64), info, fmt)


def _read_slice(f: Path) -> tuple[np.ndarray, np.ndarray, tuple[float, float], np.ndarray, Path, float]:
    """One slice of a series: orientation, position, pixel spacing, rescaled pixels, path, slice thickness."""
    import pydicom

    try:
        ds = pydicom.dcmread(f)
        iop = np.array([float(v) for v in ds.ImageOrientationPatient])
        ipp = np.array([float(v) for v in ds.ImagePositionPatient])
        row_mm, col_mm = (float(v) for v in ds.PixelSpacing)
        pixels = ds.pixel_array
    except AttributeError as exc:
        raise ImageReadError(
            f"{f}: DICOM slice without {str(exc).split()[-1]} (ImageOrientationPatient, ImagePositionPatient "
            "and PixelSpacing place a slice); re-export the series with its geometry") from exc
    except Exception as exc:  # pixel decoders raise many types for broken or compressed data
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        raise ImageReadError(f"{f}: could not be read ({reason}); re-export the series") from exc
    if pixels.ndim != 2:
        raise ImageReadError(f"{f}: a multi-frame or colour DICOM file in a series folder; pass it on its own")
    slope = float(ds.get("RescaleSlope", 1) or 1)
    intercept = float(ds.get("RescaleIntercept", 0) or 0)
    thickness = float(ds.get("SliceThickness", 1.0) or 1.0)
    return iop, ipp, (row_mm, col_mm), pixels.astype(np.float32) * slope + intercept, f, thickness


def _read_dicom_series(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """A folder of single-frame DICOM slices as a float32 array (columns, rows, slices) and its RAS+ affine.

    Geometry as DICOM PS3.3 C.7.6.2 defines it: pixel (column c, row r) of a slice lies at
    ImagePositionPatient + c * column spacing * row direction + r * row spacing * column direction (LPS mm);
    slices are ordered by their position along the normal (row direction x column direction), not by file
    name or InstanceNumber, and the slice spacing is the distance between neighbouring positions (which may
    differ from SliceThickness). Stored values are rescaled to HU by RescaleSlope/RescaleIntercept per slice.
    """
    from concurrent.futures import ThreadPoolExecutor

    files = sorted(x for x in folder.iterdir() if x.is_file() and not x.name.startswith("."))
    # compressed slices (JPEG, JPEG 2000) decode in C outside the interpreter lock: two threads halve the wait
    with ThreadPoolExecutor(max_workers=min(4, max(1, os.cpu_count() or 1))) as pool:
        slices = list(pool.map(_read_slice, files))
    thickness = slices[0][5]  # a one-slice series' only depth
    iop, _, (row_mm, col_mm), first, _, _ = slices[0]
    row_dir, col_dir = iop[:3], iop[3:]
    normal = np.cross(row_dir, col_dir)
    for other_iop, _, spacing, px, f, _ in slices[1:]:
        if not np.allclose(other_iop, iop, atol=1e-4) or px.shape != first.shape or \
                not np.allclose(spacing, (row_mm, col_mm), atol=1e-4):
            raise ImageReadError(f"{f}: its orientation, size or pixel spacing differs from the rest of the series; "
                                 "pass one series per folder")
    slices.sort(key=lambda x: float(x[1] @ normal))
    positions = np.array([float(x[1] @ normal) for x in slices])
    gaps = np.diff(positions)
    if len(slices) > 1 and (gaps.min() <= 1e-3 or np.ptp(gaps) > 0.01 * max(float(np.median(gaps)), 1e-3) + 1e-3):
        raise ImageReadError(f"{folder}: slice positions are {'repeated' if gaps.min() <= 1e-3 else 'unevenly spaced'} "
                             f"(gaps {gaps.min():.3f} to {gaps.max():.3f} mm); pass one evenly spaced series")
    dz = float(np.median(gaps)) if len(slices) > 1 else thickness
    arr = np.stack([x[3].T for x in slices], axis=-1)  # (columns, rows, slices)
    lps = np.eye(4)
    lps[:3, 0] = row_dir * col_mm
    lps[:3, 1] = col_dir * row_mm
    lps[:3, 2] = normal * dz
    lps[:3, 3] = slices[0][1]
    affine = np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps  # LPS -> RAS
    return arr, affine


def _check_nifti_header(p: Path) -> None:
    """Read only the NIfTI header and refuse a claimed shape over the voxel limit."""
    import nibabel as nib

    try:
        img = nib.load(str(p))  # reads the header; the voxels stay on disk until asked for
        shape = tuple(img.header.get_data_shape())
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        raise ImageReadError(
            f"{p}: could not be read ({reason}); the file may be truncated or not a NIfTI image — re-export it"
        ) from exc
    check_voxel_budget(shape, p)


def _read_nifti(p: Path) -> tuple[np.ndarray, np.ndarray]:
    """NIfTI data (scaling applied, float32) and affine, as MONAI's ``NibabelReader`` returns them."""
    import nibabel as nib

    try:
        img = nib.load(str(p))
        arr = np.asarray(img.get_fdata(dtype=np.float32))
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        raise ImageReadError(
            f"{p}: could not be read ({reason}); the file may be truncated or not a NIfTI image — re-export it"
        ) from exc
    return arr, np.asarray(img.affine, dtype=np.float64)


def _to_volume(p: Path, arr: np.ndarray, affine: np.ndarray, info: dict[str, Any], fmt: str) -> Volume:
    """Check shape and geometry, reorder to RAS+ and wrap as a ``Volume``."""
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim != 3:
        raise ImageReadError(
            f"{p}: image has shape {tuple(arr.shape)}; pass a single 3-D volume (split 4-D series first)"
        )
    if not np.all(np.isfinite(affine)) or abs(np.linalg.det(affine[:3, :3])) < 1e-9:
        raise ImageReadError(f"{p}: the image geometry (affine) is degenerate; fix the header spacing/orientation")
    ras_arr, ras_affine = to_ras(arr, affine)
    spacing = tuple(float(v) for v in np.sqrt((ras_affine[:3, :3] ** 2).sum(axis=0)))
    if not np.all(np.isfinite(ras_arr)):
        ras_arr = np.nan_to_num(ras_arr, nan=float(np.nanmin(ras_arr)) if np.isfinite(ras_arr).any() else 0.0)
    meta = {"format": fmt, "stored_axcodes": _axcodes(affine), **{k: v for k, v in info.items() if k != "modality"}}
    log.debug("loaded %s: shape %s spacing %s axcodes %s", p, ras_arr.shape, spacing, meta["stored_axcodes"])
    return Volume(
        array=ras_arr,
        affine=ras_affine,
        spacing=spacing,  # type: ignore[arg-type]
        source=str(p),
        original_affine=affine,
        original_shape=tuple(int(s) for s in arr.shape),  # type: ignore[arg-type]
        modality=str(info["modality"]) if info.get("modality") else None,
        meta=meta,
    )


def require_3d(volume: Volume, method: str) -> None:
    """Raise ``SegmentationError`` when a 3-D method receives 2-D data."""
    if not volume.is_3d:
        raise SegmentationError(
            f"{volume.source}: image is 2-D ({'x'.join(map(str, volume.original_shape))} voxels); "
            f"method {method!r} needs a 3-D volume — pass a NIfTI volume or a DICOM series folder"
        )


def save_mask(mask: np.ndarray, volume: Volume, path: str | Path) -> Path:
    """Write a RAS+ label mask as NIfTI with the input image's stored shape and affine."""
    import nibabel as nib

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    stored = volume.to_stored(mask.astype(np.uint8, copy=False))
    if tuple(stored.shape) != tuple(volume.original_shape):
        raise SegmentationError(
            f"{out}: mask shape {stored.shape} does not match the image {volume.original_shape}; this is a bug"
        )
    img = nib.Nifti1Image(stored, volume.original_affine)
    img.header.set_data_dtype(np.uint8)
    img.header.set_xyzt_units("mm")
    img.set_qform(volume.original_affine, code=1)
    img.set_sform(volume.original_affine, code=1)
    nib.save(img, str(out))
    return out


def load_mask(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read a label mask NIfTI with nibabel into RAS+ order; return (labels, affine)."""
    import nibabel as nib

    p = Path(path)
    _check_nifti_header(p)
    try:
        img = nib.load(str(p))
        data = np.asanyarray(img.dataobj)
    except Exception as exc:
        raise ImageReadError(f"{p}: mask could not be read ({type(exc).__name__}: {exc}); pass a NIfTI mask") from exc
    if data.ndim == 4 and data.shape[-1] == 1:
        data = data[..., 0]
    if data.ndim != 3:
        raise ImageReadError(f"{p}: mask has shape {data.shape}; pass a 3-D label mask")
    ras = nib.as_closest_canonical(nib.Nifti1Image(np.rint(data).astype(np.int32), img.affine))
    return np.asarray(ras.dataobj), np.asarray(ras.affine, dtype=np.float64)
