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
LESION_MIN_RELATIVE_SPREAD = 0.1


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


def _pure_tissue_thresholds(values_img: np.ndarray, thresholds: list[float], brain: np.ndarray,
                            max_iterations: int = 10) -> tuple[list[float], list[float]]:
    """Partial-volume-aware class boundaries, iterated to a fixed point.

    Under the linear partial-volume model a voxel holding more than half of tissue B rather than A has an
    intensity past the midpoint of the *pure* A and B intensities; pure intensities are the medians of each
    class's interior (its mask eroded by one voxel), which boundary (mixed) voxels cannot reach.
    """
    pure: list[float] = []
    tolerance = 1e-3 * float(np.ptp(values_img[brain]) or 1.0)
    for _ in range(max_iterations):
        labels = _classify(values_img, thresholds, brain)
        uniform = _same_as_neighbours(labels)
        pure = []
        for k in (1, 2, 3):
            interior = uniform & (labels == k)
            sel = values_img[interior] if interior.sum() > 50 else values_img[labels == k]
            pure.append(float(np.median(sel)) if sel.size else float("nan"))
        new = [(pure[0] + pure[1]) / 2.0, (pure[1] + pure[2]) / 2.0]
        converged = all(abs(x - y) <= tolerance for x, y in zip(new, thresholds, strict=True))
        thresholds = new
        if converged:
            break
    return thresholds, pure


def _same_as_neighbours(labels: np.ndarray) -> np.ndarray:
    """Voxels whose six face neighbours carry the same label (the interior of every class at once)."""
    same = np.zeros(labels.shape, dtype=bool)
    core = (slice(1, -1),) * 3
    same[core] = True
    inner = labels[core]
    for axis in range(3):
        for shift in (-1, 1):
            idx = [slice(1, -1)] * 3
            idx[axis] = slice(1 + shift, labels.shape[axis] - 1 + shift)
            same[core] &= labels[tuple(idx)] == inner
    return same


def _classify(img: np.ndarray, thresholds: list[float], mask: np.ndarray) -> np.ndarray:
    """Labels 1..3 by two thresholds inside ``mask`` (0 outside)."""
    out = (img >= thresholds[0]).astype(np.uint8)
    out += img >= thresholds[1]
    out += 1
    out[~mask] = 0
    return out


def _initial_thresholds(values: np.ndarray) -> list[float]:
    """Start from the grey/white split: Otsu's threshold between the two dominant T1 classes.

    CSF inside a skull-stripped mask may be a few percent of voxels (or most of the outer CSF may be
    excluded), so a 3-class k-means would split white matter instead; a first CSF intensity is placed as far
    below grey matter as white matter lies above it, and the fixed-point iteration refines all three.
    """
    cut = mo.otsu(values)
    grey = float(np.median(values[values < cut]))
    white = float(np.median(values[values >= cut]))
    csf = grey - (white - grey)
    return [(csf + grey) / 2.0, (grey + white) / 2.0]


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
    thresholds, pure = _pure_tissue_thresholds(img, _initial_thresholds(values), b)
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
    # On a clean, low-noise image the robust SD shrinks to the noise and grey matter (slightly brighter than
    # white matter on FLAIR) would pass for lesion; the spread is therefore never taken below a tenth of the
    # brain-to-background contrast, i.e. a lesion must be at least 25 % brighter than the brain median.
    background = float(np.median(volume.array[~brain])) if (~brain).any() else 0.0
    spread = max(spread, LESION_MIN_RELATIVE_SPREAD * abs(median - background))
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
