"""Image plausibility: does a volume's content fit the body region and modality it is labelled with?

A specialist that segments a study trusts its label: an abdominal CT labelled ``head`` was once read as a head
(a 3 mL "cranial cavity", "no intracranial haemorrhage"). ``check_plausibility`` looks at the loaded volume
before any method runs and says whether the label fits, with the reasons and the measured values. The checks
are simple, deterministic numpy/scipy measurements on a grid of about 2 mm; they catch a wrong region, not
subtle anatomy:

- field of view: the L-R and A-P width of the body (CT: tissue above -500 HU; MR: signal above background),
  the median over the axial slices that hold a real cross-section (for a head CT with a cranial cavity, the
  slices through the cavity, so neck or shoulder slices do not decide it);
- head CT: a skull, a ring of bone >= 300 HU, enclosing a cavity (``methods_ct.intracranial_mask``, the very
  cavity the haemorrhage method reads) that holds mostly brain-density tissue (20-45 HU) and fills a large
  share of the head's cross-section, and no large lung fields;
- chest CT: lung-density air (-950 to -600 HU) inside the body, a large share of it, in both halves;
- abdomen CT: a trunk-wide body of soft tissue without large lung fields and without a skull-enclosed brain;
- MR: intensities have no absolute scale, so only the field of view is checked and the result says so
  (``limited``).

A region without a check (neck, pelvis, limb, ...) passes with ``checked=False``; nothing is refused for want
of a rule. Thresholds are deliberately wide: they separate a head (about 14-20 cm across) from a trunk (about
25-50 cm) and a brain from a spinal canal, nothing finer. Children, amputees, pneumonectomy and very partial
coverage can fall outside them; the reason says which measurement failed so a human can overrule the label.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from wardround.tools.segmentation.errors import SegmentationError

if TYPE_CHECKING:
    from wardround.tools.segmentation.io import Volume

# -- region names ----------------------------------------------------------------------------------------

HEAD = "head"
CHEST = "chest"
ABDOMEN = "abdomen"
REGION_ALIASES = {
    HEAD: ("head", "brain", "skull", "cranium", "cranial", "intracranial", "neuro"),
    CHEST: ("chest", "thorax", "thoracic", "lung", "lungs", "pulmonary"),
    ABDOMEN: ("abdomen", "abdominal", "abdo", "abdomen_pelvis", "abdomen-pelvis", "abdomenpelvis", "liver",
              "kidney", "kidneys"),
}
#: The region a segmentation method presupposes, checked even when the study carries no label
#: (``hemorrhage`` reads a skull-enclosed cranial cavity, so it only means anything on a head CT).
METHOD_REGION = {"hemorrhage": HEAD}

# -- thresholds (each says where it comes from) -----------------------------------------------------------

#: Grid the measurements run on: about 2 mm is fine enough for a 5 mm skull and keeps a 512x512x300 CT fast.
GRID_MM = 2.0
#: Body/air boundary, the same -500 HU as ``methods_ct.BODY_HU`` (cited there: Hu, Hoffman, Reinhardt 2001).
BODY_HU = -500.0
#: Bone of the skull: ``methods_ct.SKULL_HU`` (300 HU), the level the haemorrhage method's cavity is built on;
#: cortical bone is far above it [unverified textbook value: cortical bone about +1000 HU and more].
SKULL_HU = 300.0
#: Brain parenchyma 20-45 HU (teaching table "Radiodensity of common tissues", ecgcourse.com, found with the
#: search tool; the same range is quoted in ``methods_ct.BLOOD_HU`` from Parizel et al. 2001 [unverified]).
BRAIN_HU = (20.0, 45.0)
#: Aerated lung: -950 HU is the pure-gas/emphysema level of Gevenois et al. 1995 (cited in ``methods_ct``);
#: -600 HU as the dense end of normally aerated parenchyma is an [unverified textbook value] (an exam-revision
#: page found with the search tool gives -500 to -900 HU for lung). Bowel gas is mostly below -950 HU.
LUNG_HU = (-950.0, -600.0)
#: Head width (L-R or A-P extent of the body on a typical axial slice): adult head breadth about 14-16 cm and
#: length about 18-20 cm [unverified textbook anthropometry]; the limits leave room for a child, a scalp
#: haematoma or a dressing, and stay below any adult trunk.
HEAD_WIDTH_MM = (90.0, 260.0)
#: Trunk width (L-R extent of chest or abdomen): about 25-50 cm in adults [unverified textbook anthropometry];
#: the lower limit allows a thin adult or an older child, the upper an obese patient.
TRUNK_WIDTH_MM = (200.0, 650.0)
#: A cranial cavity worth reading: the adult intracranial volume is about 1200-1700 mL [unverified textbook
#: value]; 100 mL allows a scan that covers only part of the head, and is far above a spinal canal segment
#: (the abdominal CT of the fault gave a 3 mL "cavity").
MIN_CAVITY_ML = 100.0
#: Share of the cavity at brain density: a head CT cavity is mostly brain (CSF, blood and partial volume make
#: up the rest); 0.4 tolerates a large haematoma or atrophy [design choice, not from a reference].
MIN_BRAIN_FRACTION = 0.4
#: Cavity area / body area on the axial slice where the cavity is largest: the brain fills most of a head's
#: cross-section, a spinal canal about 1 % of a trunk's [design choice, not from a reference].
MIN_CAVITY_SHARE = 0.35
#: Lung-density volume / body volume: above this the scan holds large lung fields. Lungs fill a large part of
#: a chest CT; an abdominal CT that starts at the lung bases holds a few per cent [design choice, set on
#: synthetic phantoms; the one real upper-abdomen CT in the dev data measures in the test file].
LARGE_LUNG_SHARE = 0.15
#: Each half (left/right of the body's midline) must hold this share of the lung-density volume on a chest CT
#: [design choice; a pneumonectomy or a complete lung collapse falls below it and is reported, not hidden].
MIN_LUNG_SIDE_SHARE = 0.1
#: A slice counts for the width when its body area is at least this share of the largest slice's.
SLICE_AREA_SHARE = 0.25
#: MR foreground: signal farther from the background (median of the volume's outer faces) than this share of
#: the robust intensity range (1st-99.5th percentile) [design choice].
MR_FOREGROUND_SHARE = 0.1


@dataclass
class PlausibilityResult:
    """Whether a volume fits its label, why, and what was measured.

    Attributes:
        plausible: ``False`` when a check the region has failed.
        region: the canonical region checked (``head``, ``chest``, ``abdomen``) or the label as given.
        modality: ``CT`` or ``MR`` as checked.
        checked: ``False`` when no check exists for this region/modality (then ``plausible`` is ``True``).
        limited: ``True`` when only the field of view could be checked (MR).
        reasons: one sentence per check, failed ones first.
        measured: the numbers behind the reasons (mm, mL, fractions).
        found: what the content looks like instead, when implausible ("a trunk 33 cm wide with lung fields").
    """

    plausible: bool
    region: str
    modality: str
    checked: bool = True
    limited: bool = False
    reasons: list[str] = field(default_factory=list)
    measured: dict[str, Any] = field(default_factory=dict)
    found: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return {"plausible": self.plausible, "region": self.region, "modality": self.modality,
                "checked": self.checked, "limited": self.limited, "reasons": list(self.reasons),
                "measured": dict(self.measured), "found": self.found}

    def message(self, source: str, stated: str | None = None) -> str:
        """One sentence naming the file, the stated region and what was found."""
        label = stated or self.region
        failed = [r for r in self.reasons if r.startswith("not ")] or self.reasons
        text = (f"{Path(source).name} is labelled {label!r} {self.modality} but its content does not fit: "
                + "; ".join(failed))
        if self.found:
            text += f"; it looks like {self.found}"
        return text + ". The image was not used; check the study's body_region and modality"


class ImplausibleImageError(SegmentationError):
    """The image's content does not fit its stated body region or modality (``result`` says why)."""

    def __init__(self, message: str, result: PlausibilityResult) -> None:
        super().__init__(message)
        self.result = result


def canonical_region(region: str | None) -> str | None:
    """``head``/``chest``/``abdomen`` for a known label (case and spaces ignored), else ``None``."""
    if not region:
        return None
    key = region.strip().lower().replace(" ", "_")
    for name, aliases in REGION_ALIASES.items():
        if key in aliases:
            return name
    return None


def _modality(volume: Volume, stated: str | None) -> str:
    mod = (stated or volume.modality or "").upper()
    if mod in ("MRI", "MR"):
        return "MR"
    if mod == "CT":
        return "CT"
    low = float(np.percentile(volume.array[::2, ::2, ::2], 0.5))
    return "CT" if low <= -500.0 else "MR"


def _coarse(volume: Volume) -> Volume:
    """The volume on a grid of about ``GRID_MM`` (every n-th voxel; deterministic, no interpolation)."""
    from wardround.tools.segmentation.io import Volume

    step = tuple(max(1, int(GRID_MM // s)) if s > 0 else 1 for s in volume.spacing)
    if step == (1, 1, 1):
        return volume
    arr = np.ascontiguousarray(volume.array[:: step[0], :: step[1], :: step[2]])
    affine = volume.affine.copy()
    affine[:3, :3] = affine[:3, :3] * np.array(step)[None, :]
    spacing = tuple(float(s * f) for s, f in zip(volume.spacing, step, strict=True))
    return Volume(array=arr, affine=affine, spacing=spacing, source=volume.source,  # type: ignore[arg-type]
                  original_affine=affine, original_shape=arr.shape, modality=volume.modality)  # type: ignore[arg-type]


def _widths(body: np.ndarray, spacing: tuple[float, float, float],
            where: np.ndarray | None = None) -> dict[str, float]:
    """Median L-R and A-P body extent (mm) over the axial slices with a real cross-section; image FOV too.

    The slices are those whose body area (or, with ``where``, whose ``where`` area) is at least
    ``SLICE_AREA_SHARE`` of the largest slice's.
    """
    out = {"fov_lr_mm": round(body.shape[0] * spacing[0], 1), "fov_ap_mm": round(body.shape[1] * spacing[1], 1),
           "fov_si_mm": round(body.shape[2] * spacing[2], 1)}
    area = (body if where is None else where).sum(axis=(0, 1))
    if area.max() == 0:
        return {**out, "body_lr_mm": 0.0, "body_ap_mm": 0.0, "body_touches_edge": False}
    slices = [k for k in np.flatnonzero(area >= SLICE_AREA_SHARE * area.max()) if body[:, :, k].any()]
    lr, ap = [], []
    edge = False
    for k in slices:
        xs = np.flatnonzero(body[:, :, k].any(axis=1))
        ys = np.flatnonzero(body[:, :, k].any(axis=0))
        lr.append((xs[-1] - xs[0] + 1) * spacing[0])
        ap.append((ys[-1] - ys[0] + 1) * spacing[1])
        edge = edge or xs[0] == 0 or xs[-1] == body.shape[0] - 1
    return {**out, "body_lr_mm": round(float(np.median(lr)), 1), "body_ap_mm": round(float(np.median(ap)), 1),
            "body_touches_edge": bool(edge)}


def _ct_measurements(volume: Volume) -> dict[str, Any]:
    """Body width, lung-density air per side and the skull-enclosed cavity of a CT (on the coarse grid)."""
    from wardround.tools.segmentation import morphology as mo
    from wardround.tools.segmentation.methods_ct import body_mask, intracranial_mask

    vol = _coarse(volume)
    hu = vol.array
    sp = vol.spacing
    voxel_ml = vol.voxel_volume_ml
    m: dict[str, Any] = {"grid_mm": [round(s, 2) for s in sp],
                         "hu_p0_5": round(float(np.percentile(hu, 0.5)), 1)}
    body = body_mask(vol) if (hu > BODY_HU).any() else np.zeros(hu.shape, bool)
    m.update(_widths(body, sp))
    body_ml = float(body.sum()) * voxel_ml
    m["body_ml"] = round(body_ml, 1)
    lung = body & (hu >= LUNG_HU[0]) & (hu <= LUNG_HU[1])
    lung = mo.opening(lung, max(sp[0], sp[1]), sp)  # drops the partial-volume rim around bowel gas
    mid = int(round(np.argwhere(body)[:, 0].mean())) if body.any() else hu.shape[0] // 2
    # RAS+: the first array index grows towards the patient's right, so indices above the midline are right
    right_ml = float(lung[mid:].sum()) * voxel_ml
    left_ml = float(lung[:mid].sum()) * voxel_ml
    lung_ml = right_ml + left_ml
    m.update({"lung_ml": round(lung_ml, 1), "lung_right_ml": round(right_ml, 1), "lung_left_ml": round(left_ml, 1),
              "lung_share": round(lung_ml / body_ml, 4) if body_ml else 0.0,
              "lung_min_side_share": round(min(right_ml, left_ml) / lung_ml, 3) if lung_ml else 0.0})
    soft = body & (hu > -150.0) & (hu < 150.0)
    m["soft_tissue_share"] = round(float(soft.sum()) / float(body.sum()), 3) if body.any() else 0.0
    skull = hu >= SKULL_HU
    m["bone_ml"] = round(float(skull.sum()) * voxel_ml, 1)
    cavity = intracranial_mask(vol) if skull.any() else np.zeros(hu.shape, bool)
    cavity_ml = float(cavity.sum()) * voxel_ml
    m["cavity_ml"] = round(cavity_ml, 1)
    if cavity.any():
        inside = hu[cavity]
        m["cavity_brain_fraction"] = round(float(((inside >= BRAIN_HU[0]) & (inside <= BRAIN_HU[1])).mean()), 3)
        m["cavity_median_hu"] = round(float(np.median(inside)), 1)
        k = int(np.argmax(cavity.sum(axis=(0, 1))))
        filled = mo.fill_holes_2d(body[:, :, k : k + 1])  # the head's cross-section on that slice
        m["cavity_share"] = round(float(cavity[:, :, k].sum()) / max(float(filled.sum()), 1.0), 3)
        # the head's own width, on the slices through the cavity: a head-and-neck scan reaching the shoulders
        # is not judged by its shoulders
        w = _widths(body, sp, where=cavity)
        m["cavity_slices_lr_mm"], m["cavity_slices_ap_mm"] = w["body_lr_mm"], w["body_ap_mm"]
    else:
        m.update({"cavity_brain_fraction": 0.0, "cavity_median_hu": None, "cavity_share": 0.0,
                  "cavity_slices_lr_mm": 0.0, "cavity_slices_ap_mm": 0.0})
    return m


def _mr_measurements(volume: Volume) -> dict[str, Any]:
    """Field of view and foreground width of an MR image (signal that differs from the background)."""
    vol = _coarse(volume)
    a = vol.array
    faces = np.concatenate([a[0].ravel(), a[-1].ravel(), a[:, 0].ravel(), a[:, -1].ravel()])
    background = float(np.median(faces))
    lo, hi = (float(v) for v in np.percentile(a, [1.0, 99.5]))
    fg = np.abs(a - background) > MR_FOREGROUND_SHARE * max(hi - lo, 1e-6)
    m: dict[str, Any] = {"grid_mm": [round(s, 2) for s in vol.spacing], "background": round(background, 3)}
    m.update(_widths(fg, vol.spacing))
    return m


def _a(region: str) -> str:
    return f"{'an' if region[:1] in 'aeiou' else 'a'} {region}"


def _in(value: float, bounds: tuple[float, float]) -> bool:
    return bounds[0] <= value <= bounds[1]


def _describe_ct(m: dict[str, Any]) -> str:
    """What a CT looks like from its measurements (for the refusal message)."""
    parts = []
    width = m.get("body_lr_mm", 0.0)
    if width >= TRUNK_WIDTH_MM[0]:
        parts.append(f"a trunk {width / 10:.0f} cm wide")
    elif width > 0:
        parts.append(f"a body {width / 10:.0f} cm wide")
    if m.get("lung_share", 0.0) >= LARGE_LUNG_SHARE and m.get("lung_min_side_share", 0.0) >= MIN_LUNG_SIDE_SHARE:
        parts.append(f"lung fields in both halves ({m['lung_ml']:.0f} mL, a chest)")
    elif m.get("lung_ml", 0.0) > 0:
        parts.append(f"{m['lung_ml']:.0f} mL of lung-density air")
    if m.get("cavity_share", 0.0) >= MIN_CAVITY_SHARE and m.get("cavity_ml", 0.0) >= MIN_CAVITY_ML:
        parts.append(f"a skull-enclosed cavity of {m['cavity_ml']:.0f} mL (a head)")
    else:
        parts.append(f"no skull-enclosed brain (largest bone-enclosed cavity {m.get('cavity_ml', 0.0):.0f} mL)")
    return ", ".join(parts)


def check_plausibility(volume: Volume, region: str | None, modality: str | None = None) -> PlausibilityResult:
    """Check that ``volume`` shows the stated ``region`` in the stated ``modality``.

    Args:
        volume: a loaded RAS+ volume (``io.load_image``).
        region: the study's body region as labelled (``head``, ``brain``, ``chest``, ``abdomen``, ...).
        modality: ``CT``/``MR``; when ``None`` the file's own modality, else CT when the values hold air in HU.

    Returns:
        A ``PlausibilityResult``; it never raises for an implausible image (``segment_study`` does).
    """
    canon = canonical_region(region)
    mod = _modality(volume, modality)
    if canon is None:
        return PlausibilityResult(True, region or "", mod, checked=False,
                                  reasons=[f"no plausibility check exists for body region {region!r}"])
    if mod == "MR":
        return _check_mr(volume, canon)
    return _check_ct(volume, canon)


def _check_ct(volume: Volume, region: str) -> PlausibilityResult:
    m = _ct_measurements(volume)
    ok: list[str] = []
    bad: list[str] = []

    def check(passed: bool, good: str, fail: str) -> None:
        (ok if passed else bad).append(good if passed else fail)

    if m["hu_p0_5"] > -500.0:
        bad.append(f"not CT in Hounsfield units (lowest values {m['hu_p0_5']:.0f}, no air near -1000 HU)")
    width, depth = m["body_lr_mm"], m["body_ap_mm"]
    if region == HEAD:
        if m["cavity_ml"] >= MIN_CAVITY_ML:
            width, depth = m["cavity_slices_lr_mm"], m["cavity_slices_ap_mm"]
        check(_in(width, HEAD_WIDTH_MM) and _in(depth, HEAD_WIDTH_MM),
              f"head-sized field ({width / 10:.1f} x {depth / 10:.1f} cm)",
              f"not head-sized: the body is {width / 10:.1f} cm wide and {depth / 10:.1f} cm deep (a head is "
              f"{HEAD_WIDTH_MM[0] / 10:g}-{HEAD_WIDTH_MM[1] / 10:g} cm)")
        check(m["cavity_ml"] >= MIN_CAVITY_ML,
              f"skull-enclosed cavity of {m['cavity_ml']:.0f} mL",
              f"not a skull around a brain: the largest bone-enclosed cavity (bone >= {SKULL_HU:g} HU) holds "
              f"{m['cavity_ml']:.0f} mL (a head CT shows >= {MIN_CAVITY_ML:g} mL)")
        if m["cavity_ml"] > 0:
            check(m["cavity_brain_fraction"] >= MIN_BRAIN_FRACTION,
                  f"{m['cavity_brain_fraction']:.0%} of the cavity at brain density",
                  f"not brain inside: {m['cavity_brain_fraction']:.0%} of the cavity is at brain density "
                  f"{BRAIN_HU[0]:g}-{BRAIN_HU[1]:g} HU (needs >= {MIN_BRAIN_FRACTION:.0%})")
            check(m["cavity_share"] >= MIN_CAVITY_SHARE,
                  f"the cavity fills {m['cavity_share']:.0%} of the cross-section",
                  f"not filling the head: the cavity is {m['cavity_share']:.0%} of the body's cross-section "
                  f"(a brain fills >= {MIN_CAVITY_SHARE:.0%})")
        check(m["lung_share"] < LARGE_LUNG_SHARE,
              "no large lung fields",
              f"not a head: {m['lung_ml']:.0f} mL of lung-density air ({LUNG_HU[0]:g} to {LUNG_HU[1]:g} HU), "
              f"{m['lung_share']:.0%} of the body")
    else:
        check(_in(width, TRUNK_WIDTH_MM),
              f"trunk-sized field ({width / 10:.1f} cm wide)",
              f"not trunk-sized: the body is {width / 10:.1f} cm wide ({_a(region)} is "
              f"{TRUNK_WIDTH_MM[0] / 10:g}-{TRUNK_WIDTH_MM[1] / 10:g} cm)")
        head_like = m["cavity_ml"] >= MIN_CAVITY_ML and m["cavity_share"] >= MIN_CAVITY_SHARE
        check(not head_like, "no skull-enclosed brain",
              f"not {_a(region)}: a skull encloses a {m['cavity_ml']:.0f} mL cavity filling "
              f"{m['cavity_share']:.0%} of the cross-section (a head)")
        if region == CHEST:
            check(m["lung_share"] >= LARGE_LUNG_SHARE,
                  f"lung fields {m['lung_share']:.0%} of the body",
                  f"not a chest: lung-density air ({LUNG_HU[0]:g} to {LUNG_HU[1]:g} HU) is {m['lung_share']:.0%} "
                  f"of the body ({m['lung_ml']:.0f} mL; a chest CT shows >= {LARGE_LUNG_SHARE:.0%})")
            check(m["lung_min_side_share"] >= MIN_LUNG_SIDE_SHARE,
                  f"lung on both sides (smaller side {m['lung_min_side_share']:.0%})",
                  f"not two lungs: the smaller side holds {m['lung_min_side_share']:.0%} of the lung-density air "
                  f"(right {m['lung_right_ml']:.0f} mL, left {m['lung_left_ml']:.0f} mL)")
        else:  # abdomen
            check(m["lung_share"] < LARGE_LUNG_SHARE,
                  f"no large lung fields ({m['lung_share']:.0%} of the body)",
                  f"not an abdomen: lung-density air is {m['lung_share']:.0%} of the body ({m['lung_ml']:.0f} mL, "
                  f"a chest)")
            check(m["soft_tissue_share"] >= 0.5,
                  f"{m['soft_tissue_share']:.0%} soft tissue (-150 to 150 HU)",
                  f"not an abdomen: only {m['soft_tissue_share']:.0%} of the body is soft tissue (-150 to 150 HU)")
    result = PlausibilityResult(not bad, region, "CT", reasons=bad + ok, measured=m)
    if bad:
        result.found = _describe_ct(m)
    return result


def _check_mr(volume: Volume, region: str) -> PlausibilityResult:
    m = _mr_measurements(volume)
    width, depth = m["body_lr_mm"], m["body_ap_mm"]
    limit = "MR intensities have no absolute scale: only the field of view was checked, not the anatomy"
    if region == HEAD:
        ok = _in(width, HEAD_WIDTH_MM) and _in(depth, HEAD_WIDTH_MM)
        reason = (f"head-sized field ({width / 10:.1f} x {depth / 10:.1f} cm)" if ok else
                  f"not head-sized: the imaged body is {width / 10:.1f} cm wide and {depth / 10:.1f} cm deep "
                  f"(a head is {HEAD_WIDTH_MM[0] / 10:g}-{HEAD_WIDTH_MM[1] / 10:g} cm)")
    else:
        ok = _in(width, TRUNK_WIDTH_MM)
        reason = (f"trunk-sized field ({width / 10:.1f} cm wide)" if ok else
                  f"not trunk-sized: the imaged body is {width / 10:.1f} cm wide ({_a(region)} is "
                  f"{TRUNK_WIDTH_MM[0] / 10:g}-{TRUNK_WIDTH_MM[1] / 10:g} cm)")
    found = "" if ok else (f"a body {width / 10:.0f} cm wide" +
                           (" (a trunk)" if width >= TRUNK_WIDTH_MM[0] else ""))
    return PlausibilityResult(ok, region, "MR", limited=True, reasons=[reason, limit], measured=m, found=found)


def require_plausible(volume: Volume, region: str | None, modality: str | None = None,
                      method: str | None = None) -> list[PlausibilityResult]:
    """Check the stated region and the region ``method`` presupposes; raise ``ImplausibleImageError`` on a misfit.

    Returns the results of the checks made (empty when there was nothing to check).
    """
    wanted: list[str] = []
    stated = canonical_region(region)
    if region:
        wanted.append(region)
    needed = METHOD_REGION.get(method or "")
    if needed and needed != stated:
        wanted.append(needed)
    results = []
    for r in wanted:
        res = check_plausibility(volume, r, modality)
        results.append(res)
        if not res.plausible:
            label = region if r == region else f"{region or 'unlabelled'}, read by method {method!r} as {needed}"
            raise ImplausibleImageError(res.message(volume.source, label), res)
    return results
