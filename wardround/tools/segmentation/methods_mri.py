"""Classical brain MRI segmentation: skull stripping, CSF/grey/white matter, FLAIR hyperintense lesions."""

from __future__ import annotations

import logging

import numpy as np

from wardround.tools.segmentation import morphology as mo
from wardround.tools.segmentation.base import MethodOutput, require_mr
from wardround.tools.segmentation.errors import SegmentationError
from wardround.tools.segmentation.io import Volume

log = logging.getLogger(__name__)

# Skull stripping by morphology: bone and CSF are dark on T1/FLAIR, so an erosion of a few millimetres cuts
# the brain from the scalp; the largest remaining piece is the brain (the idea of Brummer ME et al.,
# IEEE Trans Med Imaging 1993;12:153-66, DOI 10.1109/42.232244 [reference unverified]).
STRIP_EROSION_MM = 4.0
# Robust z-score thresholds for FLAIR hyperintensity (hysteresis: seeds at 4, extent at 2.5 robust SD above
# the brain median).
LESION_SEED_Z = 4.0
LESION_EXTENT_Z = 2.5
LESION_MIN_ML = 0.02


def _foreground(volume: Volume) -> np.ndarray:
    """Head/brain foreground: above Otsu's threshold of the image (background is air or a constant)."""
    a = volume.array
    sample = a[:: 2, :: 2, :: 2].ravel()
    if np.ptp(sample) == 0:
        raise SegmentationError(f"{volume.source}: image is constant; nothing to segment")
    return a > mo.otsu(sample)


def brain_mask(volume: Volume) -> np.ndarray:
    """Skull-stripped brain mask (bool) in the RAS+ grid.

    The morphology runs on a grid of about 2 mm (eight times fewer voxels than 1 mm data); the coarse mask
    is then brought back to full resolution and intersected with the full-resolution foreground.
    """
    sp = volume.spacing
    fg = _foreground(volume)
    crop = mo.bbox_crop(fg, margin=3)
    sub = fg[crop]
    step = tuple(max(1, int(2.0 // s)) for s in sp)
    coarse = sub[:: step[0], :: step[1], :: step[2]]
    csp = tuple(s * f for s, f in zip(sp, step, strict=True))
    core = mo.erode(coarse, STRIP_EROSION_MM, csp)
    if not core.any():
        core = coarse
    core = mo.largest_component(core)
    brain = mo.dilate(core, STRIP_EROSION_MM + 2.0, csp) & coarse
    brain = mo.fill_holes_3d(mo.closing(brain, 4.0, csp))
    if max(step) > 1:  # one coarse voxel of slack, then the full-resolution foreground decides the edge
        brain = mo.dilate(brain, max(csp), csp)
    full = np.repeat(np.repeat(np.repeat(brain, step[0], 0), step[1], 1), step[2], 2)[: sub.shape[0], : sub.shape[1],
                                                                                    : sub.shape[2]]
    brain = mo.fill_holes_2d(mo.fill_holes_3d(full & sub))
    out = np.zeros(volume.shape, dtype=bool)
    out[crop] = brain
    return out


def segment_brain(volume: Volume, prompt: tuple[int, int, int] | None = None) -> MethodOutput:
    """Brain mask (label 1) by morphological skull stripping."""
    require_mr(volume, "brain")
    brain = brain_mask(volume)
    return MethodOutput(labels=brain.astype(np.uint8), names={1: "brain"}, main_label=1,
                        params={"erosion_mm": STRIP_EROSION_MM})


def _pure_tissue_thresholds(values_img: np.ndarray, labels_init: np.ndarray, brain: np.ndarray,
                            iterations: int = 2) -> tuple[list[float], list[float]]:
    """Partial-volume-aware class boundaries.

    Under the linear partial-volume model a voxel holding more than half of tissue B rather than A has an
    intensity past the midpoint of the *pure* A and B intensities; pure intensities are the medians of each
    class's interior (its mask eroded by one voxel), which boundary voxels cannot reach.
    """
    from scipy import ndimage as ndi

    labels = labels_init
    thresholds: list[float] = []
    pure: list[float] = []
    for _ in range(iterations):
        pure = []
        for k in (1, 2, 3):
            interior = ndi.binary_erosion(labels == k)
            sel = values_img[interior] if interior.sum() > 50 else values_img[labels == k]
            pure.append(float(np.median(sel)) if sel.size else float("nan"))
        thresholds = [(pure[0] + pure[1]) / 2.0, (pure[1] + pure[2]) / 2.0]
        labels = _classify(values_img, thresholds, brain)
    return thresholds, pure


def _classify(img: np.ndarray, thresholds: list[float], mask: np.ndarray) -> np.ndarray:
    """Labels 1..3 by two thresholds inside ``mask`` (0 outside)."""
    out = (img >= thresholds[0]).astype(np.uint8)
    out += img >= thresholds[1]
    out += 1
    out[~mask] = 0
    return out


def _kmeans_1d(values: np.ndarray, k: int = 3, iterations: int = 50) -> np.ndarray:
    """Sorted k-means centres of a 1-D sample (initialised at the 10/50/90th percentiles)."""
    centres = np.percentile(values, np.linspace(10, 90, k)).astype(np.float64)
    for _ in range(iterations):
        cut = (centres[:-1] + centres[1:]) / 2.0
        idx = np.digitize(values, cut)
        new = np.array([values[idx == j].mean() if np.any(idx == j) else centres[j] for j in range(k)])
        if np.allclose(new, centres, atol=1e-4):
            break
        centres = new
    return np.sort(centres)


def segment_tissue(volume: Volume, prompt: tuple[int, int, int] | None = None) -> MethodOutput:
    """CSF (1), grey matter (2) and white matter (3) on a T1-weighted brain MRI."""
    require_mr(volume, "tissue")
    brain = brain_mask(volume)
    if brain.sum() < 1000:
        raise SegmentationError(f"{volume.source}: no brain found; method 'tissue' needs a T1-weighted head MRI")
    crop = mo.bbox_crop(brain, margin=2)
    img = volume.array[crop]
    b = brain[crop]
    values = img[b]
    centres = _kmeans_1d(values[:: max(1, values.size // 400_000)])
    init = _classify(img, list((centres[:-1] + centres[1:]) / 2.0), b)
    thresholds, pure = _pure_tissue_thresholds(img, init, b)
    if not (pure[0] < pure[1] < pure[2]):
        raise SegmentationError(f"{volume.source}: no CSF < grey < white contrast; 'tissue' needs a T1-weighted MRI")
    sub = _classify(img, thresholds, b)
    out = np.zeros(volume.shape, dtype=np.uint8)
    out[crop] = sub
    return MethodOutput(
        labels=out, names={1: "csf", 2: "grey_matter", 3: "white_matter"}, main_label=None,
        notes=[f"pure intensities CSF {pure[0]:.3g}, GM {pure[1]:.3g}, WM {pure[2]:.3g}"],
        params={"thresholds": [round(t, 4) for t in thresholds], "pure_intensities": [round(p, 4) for p in pure]},
    )


def segment_flair_lesion(volume: Volume, prompt: tuple[int, int, int] | None = None) -> MethodOutput:
    """FLAIR hyperintensity inside the brain (label 1): tumour with oedema, white-matter lesions."""
    from skimage.filters import apply_hysteresis_threshold

    require_mr(volume, "flair_lesion")
    sp = volume.spacing
    brain = brain_mask(volume)
    if brain.sum() < 1000:
        raise SegmentationError(f"{volume.source}: no brain found; method 'flair_lesion' needs a FLAIR head MRI")
    crop = mo.bbox_crop(brain, margin=2)
    b = brain[crop]
    smooth = mo.gaussian(volume.array[crop], 1.0, sp)
    values = smooth[b]
    median = float(np.median(values))
    spread = 1.4826 * float(np.median(np.abs(values - median)))
    if spread <= 0:
        raise SegmentationError(f"{volume.source}: brain intensities are constant; pass a FLAIR image")
    z = np.where(b, (smooth - median) / spread, -np.inf).astype(np.float32)
    lesion = apply_hysteresis_threshold(z, LESION_EXTENT_Z, LESION_SEED_Z)
    lesion = mo.remove_small(lesion, int(np.ceil(LESION_MIN_ML / volume.voxel_volume_ml)))
    lesion = mo.closing(lesion, 2.0, sp)
    lesion = mo.fill_holes_2d(mo.fill_holes_3d(lesion)) & b  # necrotic/cystic cores enclosed by oedema
    out = np.zeros(volume.shape, dtype=np.uint8)
    out[crop] = lesion
    return MethodOutput(
        labels=out, names={1: "flair_hyperintensity"}, main_label=1,
        params={"seed_z": LESION_SEED_Z, "extent_z": LESION_EXTENT_Z, "brain_median": round(median, 4),
                "brain_robust_sd": round(spread, 4)},
    )
