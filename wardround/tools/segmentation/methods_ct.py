"""Classical CT segmentation in Hounsfield units: body, lungs, bone, hemorrhage and seeded region growing.

The Hounsfield scale fixes water at 0 HU and air at -1000 HU (Hounsfield GN, Br J Radiol 1973;46:1016-22,
DOI 10.1259/0007-1285-46-552-1016), so thresholds below are absolute tissue densities, not per-scan tuning.
"""

from __future__ import annotations

import logging

import numpy as np

from wardround.tools.segmentation import morphology as mo
from wardround.tools.segmentation.base import MethodOutput, require_ct
from wardround.tools.segmentation.errors import SegmentationError
from wardround.tools.segmentation.io import Volume

log = logging.getLogger(__name__)

# Tissue/air boundary: midway between fat (about -100 HU) and air (-1000 HU); lung segmentation work uses
# thresholds near -500 HU (Hu S, Hoffman EA, Reinhardt JM. IEEE Trans Med Imaging 2001;20:490-8,
# PMID 11437109, DOI 10.1109/42.929615).
BODY_HU = -500.0
# Aerated lung: below -400 HU keeps the partial-volume rim of the lung bases that -500 HU loses.
LUNG_AIR_HU = -400.0
# Pure gas: lung parenchyma rarely falls below -950 HU, the level that matches emphysema on morphometry
# (Gevenois PA et al., Am J Respir Crit Care Med 1995;152:653-7, PMID 7633722, DOI 10.1164/ajrccm.152.2.7633722);
# bowel and stomach gas mostly does. A component more than half below -950 HU is gas, not lung.
PURE_GAS_HU = -950.0
PURE_GAS_MAX_FRACTION = 0.5
# Bone: cortical bone lies far above 400 HU, adult cancellous (trabecular) bone at about 150-300 HU, costal
# cartilage and enhanced soft tissue mostly below 150 HU; the threshold sits at the low end of cancellous bone
# and marrow spaces are filled slice by slice [reference unverified: textbook CT attenuation ranges].
BONE_HU = 150.0
# Acute intracranial blood is hyperdense, about 50-90 HU against 20-45 HU for brain parenchyma and >100 HU
# for calcification (Parizel PM et al., Eur Radiol 2001;11:1770-83, DOI 10.1007/s003300000800
# [reference unverified]).
BLOOD_HU = (50.0, 90.0)
SKULL_HU = 300.0
SMOOTH_MM = 2.0  # Gaussian sigma of region growing: suppresses noise, keeps organ edges


def body_mask(volume: Volume) -> np.ndarray:
    """The patient's body: tissue above -500 HU, detached from the table, holes filled slice by slice."""
    hu = volume.array
    tissue = hu > BODY_HU
    tissue = mo.opening(tissue, 3.0, volume.spacing)  # cuts the table, cables and blankets off
    labels, sizes = mo.label_components(tissue)
    if sizes.max() == 0:
        return tissue
    keep = sizes >= 0.05 * sizes.max()  # the trunk plus arms or legs lying apart from it
    keep[0] = False
    return mo.fill_holes_2d(keep[labels])


def segment_body(volume: Volume, prompt: tuple[int, int, int] | None = None) -> MethodOutput:
    """CT body outline (label 1)."""
    require_ct(volume, "body")
    body = body_mask(volume)
    return MethodOutput(labels=body.astype(np.uint8), names={1: "body"}, main_label=1,
                        params={"threshold_hu": BODY_HU})


def segment_lungs(volume: Volume, prompt: tuple[int, int, int] | None = None) -> MethodOutput:
    """Right (1) and left (2) lung: aerated components inside the body that are not pure gas (bowel, stomach)."""
    require_ct(volume, "lungs")
    sp = volume.spacing
    hu = volume.array
    body = body_mask(volume)
    # drop the skin's partial-volume rim in-plane only: the scan's top and bottom faces are not body surface
    inner = mo.erode(body, 5.0, (sp[0], sp[1], float("inf")))
    air = (hu < LUNG_AIR_HU) & inner
    labels, sizes = mo.label_components(air)
    min_voxels = int(np.ceil(5.0 / volume.voxel_volume_ml))  # 5 mL: smaller air pockets are not a lung
    keep = np.zeros_like(air)
    dropped = 0
    for lab in np.nonzero(sizes >= min_voxels)[0]:
        comp = labels == lab
        values = hu[comp]
        gas_fraction = float((values < PURE_GAS_HU).mean())
        if gas_fraction > PURE_GAS_MAX_FRACTION:
            dropped += 1
            continue
        keep |= comp
    if keep.any():
        keep = mo.fill_holes_2d(mo.closing(keep, 2.0, sp)) & inner
    out = np.zeros(volume.shape, dtype=np.uint8)
    # Split by the body's mid-sagittal plane; RAS+ x grows towards the patient's right.
    xs = np.nonzero(body.any(axis=(1, 2)))[0]
    mid = 0.5 * (xs[0] + xs[-1]) if xs.size else volume.shape[0] / 2
    right = np.zeros(volume.shape, dtype=bool)
    right[int(np.ceil(mid)):] = True
    lungs, lsizes = mo.label_components(keep)
    for lab in np.nonzero(lsizes)[0]:
        comp = lungs == lab
        frac_right = float((comp & right).sum()) / float(comp.sum())
        if 0.15 < frac_right < 0.85:  # one component across the midline: split it at the midline
            out[comp & right] = 1
            out[comp & ~right] = 2
        else:
            out[comp] = 1 if frac_right >= 0.5 else 2
    notes = [f"{dropped} gas-filled component(s) (bowel/stomach) excluded"] if dropped else []
    return MethodOutput(labels=out, names={1: "lung_right", 2: "lung_left"}, main_label=None, notes=notes,
                        params={"air_hu": LUNG_AIR_HU, "pure_gas_hu": PURE_GAS_HU,
                                "pure_gas_max_fraction": PURE_GAS_MAX_FRACTION})


def segment_bone(volume: Volume, prompt: tuple[int, int, int] | None = None) -> MethodOutput:
    """Bone (label 1): voxels above 150 HU inside the body, marrow filled, specks dropped."""
    require_ct(volume, "bone")
    sp = volume.spacing
    body = body_mask(volume)
    bone = (mo.gaussian(volume.array, 0.5, sp) >= BONE_HU) & body
    bone = mo.fill_holes_2d(mo.closing(bone, max(1.5, sp[0], sp[1]), sp))  # at least one in-plane voxel
    bone = mo.remove_small(bone, int(np.ceil(0.1 / volume.voxel_volume_ml)))
    return MethodOutput(labels=bone.astype(np.uint8), names={1: "bone"}, main_label=1,
                        notes=["contrast-filled vessels above 150 HU are counted as bone"],
                        params={"threshold_hu": BONE_HU})


def intracranial_mask(volume: Volume) -> np.ndarray:
    """The cranial cavity: soft tissue enclosed by the skull, largest component.

    The cavity opens to the neck at the foramen magnum, so a 3-D fill leaks; it is filled slice by slice in
    the axial, coronal and sagittal directions instead (skull-base slices that are open axially are
    closed rings coronally or sagittally) and the union is kept.
    """
    sp = volume.spacing
    hu = volume.array
    skull = mo.closing(hu >= SKULL_HU, 3.0, sp)
    enclosed = (mo.fill_holes_2d(skull, 2) | mo.fill_holes_2d(skull, 1) | mo.fill_holes_2d(skull, 0)) & ~skull
    inside = enclosed & (hu > -100.0) & (hu < 150.0)
    inside = mo.opening(inside, 2.0, sp)
    return mo.largest_component(inside)


def segment_hemorrhage(volume: Volume, prompt: tuple[int, int, int] | None = None) -> MethodOutput:
    """Hyperdense intracranial blood (label 1) on non-contrast head CT."""
    require_ct(volume, "hemorrhage")
    sp = volume.spacing
    cranium = intracranial_mask(volume)
    if not cranium.any():
        raise SegmentationError(
            f"{volume.source}: no skull-enclosed cranial cavity found; method 'hemorrhage' needs a head CT"
        )
    core = mo.erode(cranium, 2.0, sp)  # skip the partial-volume rim against the inner table of the skull
    smooth = mo.gaussian(volume.array, 1.0, sp)
    blood = (smooth >= BLOOD_HU[0]) & (smooth <= BLOOD_HU[1]) & core
    blood = mo.opening(blood, 1.0, sp)
    blood = mo.remove_small(blood, int(np.ceil(0.1 / volume.voxel_volume_ml)))  # < 0.1 mL: noise or specks
    blood = mo.fill_holes_3d(mo.closing(blood, 1.0, sp)) & cranium
    return MethodOutput(labels=blood.astype(np.uint8), names={1: "hemorrhage"}, main_label=1,
                        params={"blood_hu": list(BLOOD_HU), "skull_hu": SKULL_HU},
                        notes=[f"cranial cavity {cranium.sum() * volume.voxel_volume_ml:.0f} mL"])


def _open_at_seed(grown: np.ndarray, seed: tuple[int, ...], radius_mm: float,
                  sp: tuple[float, float, float]) -> np.ndarray:
    """Opening of ``grown`` and its component at the seed, computed on a grid of about 2 mm.

    The opening only decides which bulk belongs to the seed; running it on sub-millimetre CT pixels would
    cost ten times more for the same answer. The caller restores the full-resolution edge.
    """
    step = tuple(max(1, int(2.0 // s)) for s in sp)
    coarse = grown[:: step[0], :: step[1], :: step[2]]
    csp = tuple(s * f for s, f in zip(sp, step, strict=True))
    cseed = tuple(c // f for c, f in zip(seed, step, strict=True))
    opened = mo.opening(coarse, radius_mm, csp)  # type: ignore[arg-type]
    if not opened[cseed]:
        return grown
    core = mo.component_at(opened, cseed)  # type: ignore[arg-type]
    if max(step) > 1:
        core = mo.dilate(core, max(csp), csp)  # type: ignore[arg-type]
        core = np.repeat(np.repeat(np.repeat(core, step[0], 0), step[1], 1), step[2], 2)
        core = core[: grown.shape[0], : grown.shape[1], : grown.shape[2]]
    return core & grown


def _refine_edge(image: np.ndarray, region: np.ndarray, centre: float, sp: tuple[float, float, float]) -> np.ndarray:
    """Move the edge to the half-way intensity between the region and what surrounds it.

    The growing window (centre +/- k SD) stops short of an edge blurred by smoothing and partial volume;
    a voxel just outside that is closer to the region's intensity than to the surrounding tissue's is
    added (one shell of about one voxel, so no new leak can open).
    """
    ring = mo.dilate(region, max(sp), sp) & ~region
    if not ring.any():
        return region
    light = mo.gaussian(image, 0.5 * min(sp), sp)
    outside = float(np.median(light[mo.dilate(region, 3.0 * max(sp), sp) & ~mo.dilate(region, max(sp), sp)]))
    half = 0.5 * (centre + outside)
    closer = light >= half if centre > outside else light <= half
    return region | (ring & closer)


#: Region growing runs on a grid of at most this spacing (block means of the image): the window statistics,
#: opening and closing then see the same organ whatever the scanner's pixel size, and a 512 x 512 CT costs a
#: tenth as much. The edge is restored at the image's own resolution afterwards.
WORK_MM = 3.0


def _block_mean(array: np.ndarray, step: tuple[int, int, int]) -> np.ndarray:
    """Mean of each ``step`` block (edge blocks padded by repeating the border)."""
    pad = [(0, (-n) % f) for n, f in zip(array.shape, step, strict=True)]
    a = np.pad(array, pad, mode="edge") if any(p[1] for p in pad) else array
    shape = [x for n, f in zip(a.shape, step, strict=True) for x in (n // f, f)]
    return a.reshape(shape).mean(axis=(1, 3, 5), dtype=np.float64).astype(np.float32)


def segment_region(volume: Volume, prompt: tuple[int, int, int] | None = None, k: float = 3.0,
                   opening_mm: float = 9.0, iterations: int = 4) -> MethodOutput:
    """Seeded region growing from one voxel (label 1), e.g. liver or spleen from one click.

    Confidence-connected growing: the intensity window starts as median +/- k robust SD of the seed's
    neighbourhood, is re-estimated from the grown region at each iteration, and an opening of
    ``opening_mm`` cuts leaks through thin bridges into neighbouring organs or the body wall. Images finer than
    ``WORK_MM`` are grown on a grid of block means of about that spacing and the edge is then set at full
    resolution (``_restore_edge``).
    """
    if prompt is None:
        raise SegmentationError("method 'region' needs a seed: pass prompt=(x, y, z) in mm or a voxel index")
    seed = tuple(int(v) for v in prompt)
    if not all(0 <= s < n for s, n in zip(seed, volume.shape, strict=True)):
        raise SegmentationError(f"{volume.source}: seed voxel {seed} lies outside the image {volume.shape}")
    step = tuple(max(1, int(WORK_MM / s + 1e-6)) for s in volume.spacing)  # never coarser than WORK_MM
    if max(step) == 1:
        return _grow(volume.array, volume.spacing, seed, volume.source, k, opening_mm, iterations)
    coarse_sp = tuple(s * f for s, f in zip(volume.spacing, step, strict=True))
    coarse_seed = tuple(c // f for c, f in zip(seed, step, strict=True))
    out = _grow(_block_mean(volume.array, step), coarse_sp, coarse_seed, volume.source, k, opening_mm,
                iterations, refine=False)
    window = out.params["window"]
    region = _restore_edge(volume.array, out.labels > 0, step, volume.spacing, window, seed)
    out.labels = region.astype(np.uint8)
    out.params = {**out.params, "seed_voxel": list(seed), "working_grid_mm": [round(s, 3) for s in coarse_sp]}
    out.notes = [*out.notes, f"grown on a {'x'.join(f'{s:.1f}' for s in coarse_sp)} mm grid, edge at full "
                 "resolution"]
    return out


def _restore_edge(image: np.ndarray, coarse: np.ndarray, step: tuple[int, int, int],
                  sp: tuple[float, float, float], window: list[float], seed: tuple[int, ...]) -> np.ndarray:
    """The coarse region at full resolution: voxels within one coarse voxel of its edge are kept when their
    (lightly smoothed) intensity lies in the final window; the rest of the coarse region is kept as grown.

    Work is confined to the region's bounding box (plus a margin), not the whole image.
    """
    up = np.repeat(np.repeat(np.repeat(coarse, step[0], 0), step[1], 1), step[2], 2)
    up = up[: image.shape[0], : image.shape[1], : image.shape[2]]
    margin = [2 * f for f in step]
    idx = np.argwhere(up)
    lo = np.maximum(idx.min(axis=0) - margin, 0)
    hi = np.minimum(idx.max(axis=0) + margin + 1, image.shape)
    box = tuple(slice(int(a), int(b)) for a, b in zip(lo, hi, strict=True))
    sub = up[box]
    reach = max(s * f for s, f in zip(sp, step, strict=True))
    band = mo.dilate(sub, reach, sp) & ~mo.erode(sub, reach, sp)
    light = mo.gaussian(image[box], 0.5 * SMOOTH_MM, sp)
    centre = 0.5 * (window[0] + window[1])
    ring = mo.dilate(sub, 2.0 * reach, sp) & ~mo.dilate(sub, reach, sp)
    outside = float(np.median(light[ring])) if ring.any() else centre
    half = 0.5 * (centre + outside)
    # in the window, and nearer the region's intensity than the surroundings' (the half-way edge)
    inside = (light >= window[0]) & (light <= window[1]) & ((light >= half) if centre > outside else (light <= half))
    region = (sub & ~band) | (band & inside)
    local_seed = tuple(int(c - b.start) for c, b in zip(seed, box, strict=True))
    if region[local_seed]:
        region = mo.component_at(region, local_seed)  # type: ignore[arg-type]
    else:
        region = mo.largest_component(region)
    region = mo.fill_holes_2d(region)
    full = np.zeros(image.shape, dtype=bool)
    full[box] = region
    return full


def _grow(image: np.ndarray, sp: tuple[float, float, float], seed: tuple[int, ...], source: str, k: float,
          opening_mm: float, iterations: int, refine: bool = True) -> MethodOutput:
    """Confidence-connected growing of ``segment_region`` on one grid."""
    shape = image.shape
    is_ct = float(np.percentile(image, 0.5)) <= -500.0
    smooth = mo.gaussian(image, SMOOTH_MM, sp)
    lo_p, hi_p = np.percentile(smooth, [1, 99])
    sd_floor = 5.0 if is_ct else 0.01 * float(hi_p - lo_p)  # CT noise is a few HU
    reach = [max(1, int(round(4.0 / s))) for s in sp]
    neighbourhood = smooth[tuple(slice(max(0, c - r), c + r + 1) for c, r in zip(seed, reach, strict=True))]
    centre = float(np.median(neighbourhood))
    spread = max(1.4826 * float(np.median(np.abs(neighbourhood - centre))), sd_floor)
    region = np.zeros(shape, dtype=bool)
    for _ in range(iterations):
        window = (smooth >= centre - k * spread) & (smooth <= centre + k * spread)
        window = mo.fill_holes_2d(window)
        grown = mo.component_at(window, seed)  # type: ignore[arg-type]
        if not grown.any():
            break
        core = _open_at_seed(grown, seed, opening_mm, sp)
        region = mo.dilate(core, 3.0, sp) & grown
        # statistics from the interior only: edge voxels are blurred towards the neighbours by the smoothing
        # and partial volume, and would let the window creep outwards iteration after iteration
        interior = mo.erode(region, 2.0 * SMOOTH_MM, sp)
        values = smooth[interior] if interior.sum() >= 20 else smooth[region]
        centre = float(np.median(values))
        spread = max(1.4826 * float(np.median(np.abs(values - centre))), sd_floor)
    if not region.any():
        raise SegmentationError(f"{source}: region growing from {seed} found nothing; move the seed")
    region = mo.fill_holes_2d(mo.closing(region, 6.0, sp)) | region
    if refine:
        region = _refine_edge(image, region, centre, sp)
    return MethodOutput(
        labels=region.astype(np.uint8), names={1: "region"}, main_label=1,
        notes=[f"window {centre - k * spread:.1f} to {centre + k * spread:.1f}"],
        params={"seed_voxel": list(seed), "window": [round(centre - k * spread, 2), round(centre + k * spread, 2)],
                "k": k, "opening_mm": opening_mm, "iterations": iterations},
    )
