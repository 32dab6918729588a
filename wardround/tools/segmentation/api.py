"""The plain Python API: segment a study, measure a mask, record and verify ledger evidence."""

from __future__ import annotations

import base64
import html
import logging
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, Field

from wardround.tools.segmentation.errors import SegmentationError
from wardround.tools.segmentation.measure import LabelMeasurement, measure_labels

if TYPE_CHECKING:
    from wardround.evidence import Evidence, EvidenceWriter

log = logging.getLogger(__name__)

MODEL_METHOD = "model"


class SegmentationResult(BaseModel):
    """What a segmentation run produced: artifact paths, hash and per-label measurements."""

    method: str
    image: str
    mask: str = Field(description="NIfTI label mask with the input image's shape and affine")
    sha256: str
    overlay: str | None = None
    labels: list[LabelMeasurement]
    main_label: int | None = None
    volume_ml: float = Field(description="headline volume: the main label, or all labels together")
    shape: list[int]
    spacing_mm: list[float]
    affine: list[list[float]]
    prompt_voxel: list[int] | None = Field(None, description="seed in the RAS+ grid, when a prompt was given")
    prompt_ras_mm: list[float] | None = Field(None, description="centre of the seed voxel, world mm, RAS+ (NIfTI)")
    prompt_lps_mm: list[float] | None = Field(None, description="the same point in LPS (DICOM patient) mm")
    notes: list[str] = Field(default_factory=list)
    params: dict[str, Any] = Field(default_factory=dict)
    seconds: float = 0.0
    evidence_id: str | None = None
    plausibility: list[dict[str, Any]] = Field(
        default_factory=list, description="checks that the image fits its body region/modality (plausibility.py)")

    def label(self, name_or_value: str | int) -> LabelMeasurement:
        """The measurement of one label, by value or name."""
        for m in self.labels:
            if m.label == name_or_value or m.name == name_or_value:
                return m
        raise SegmentationError(f"label {name_or_value!r} is not in this result ({[m.name for m in self.labels]})")

    def summary(self) -> str:
        """One line naming each label's volume and largest diameter."""
        parts = [f"{m.name} {m.volume_ml:.1f} mL (max diameter {m.max_diameter_mm:.0f} mm)" for m in self.labels]
        return f"{self.method} on {Path(self.image).name}: " + ("; ".join(parts) or "nothing found")

    def _repr_html_(self) -> str:  # pragma: no cover - notebooks
        rows = "".join(
            f"<tr><td>{m.label}</td><td>{html.escape(m.name)}</td><td>{m.volume_ml:.2f}</td>"
            f"<td>{m.max_diameter_mm:.1f}</td><td>{m.axial_long_axis_mm:.1f} x {m.axial_short_axis_mm:.1f}</td></tr>"
            for m in self.labels
        )
        img = ""
        if self.overlay and Path(self.overlay).is_file():
            b64 = base64.b64encode(Path(self.overlay).read_bytes()).decode()
            img = f'<img src="data:image/png;base64,{b64}" style="max-width:100%"/>'
        return (f"<div><b>{html.escape(self.summary())}</b>{img}<table><tr><th>label</th><th>name</th>"
                f"<th>volume mL</th><th>max diameter mm</th><th>axial axes mm</th></tr>{rows}</table></div>")


def list_methods() -> dict[str, str]:
    """Method name -> one-line description (classical methods plus ``model`` for bundles)."""
    from wardround.tools.segmentation.methods import METHODS

    out = {name: f"[{spec.modality}] {spec.description}" for name, spec in METHODS.items()}
    out[MODEL_METHOD] = "learned MONAI network from --bundle DIR (or checkpoint + network config)"
    return out


#: World coordinate conventions of a seed: RAS+ (NIfTI, nibabel, MONAI after Orientation("RAS")) and LPS (DICOM
#: patient coordinates, ImagePositionPatient, ITK). They differ in the sign of x and y.
SPACES = ("RAS", "LPS")


def _seed_voxel(volume: Any, prompt: Any, prompt_voxel: Any, space: str = "RAS") -> tuple[int, int, int] | None:
    if prompt is not None and prompt_voxel is not None:
        raise SegmentationError("pass either prompt (world mm) or prompt_voxel (voxel indices), not both")
    if str(space).upper() not in SPACES:
        raise SegmentationError(f"space: {space!r} is not a world convention; use 'RAS' (NIfTI) or 'LPS' (DICOM)")
    if prompt is not None:
        x, y, z = _triple(prompt, "prompt")
        pt = (-x, -y, z) if str(space).upper() == "LPS" else (x, y, z)
        return volume.world_to_voxel(pt)
    if prompt_voxel is not None:
        ijk = _triple(prompt_voxel, "prompt_voxel")
        return volume.stored_voxel_to_voxel(tuple(int(round(v)) for v in ijk))
    return None


def _world(volume: Any, seed: tuple[int, int, int] | None, *, lps: bool) -> list[float] | None:
    if seed is None:
        return None
    x, y, z = volume.voxel_to_world(seed)
    return [round(-x if lps else x, 3), round(-y if lps else y, 3), round(z, 3)]


def _triple(value: Any, field: str) -> tuple[float, float, float]:
    if isinstance(value, str):
        value = [v for v in re.split(r"[,\s]+", value.strip()) if v]
    try:
        out = tuple(float(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise SegmentationError(f"{field}: expected three numbers x,y,z, got {value!r}") from exc
    if len(out) != 3:
        raise SegmentationError(f"{field}: expected three numbers x,y,z, got {value!r}")
    return out  # type: ignore[return-value]


def _safe_stem(path: str) -> str:
    name = Path(path.rstrip("/")).name
    for suffix in (".nii.gz", ".nii", ".dcm"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name) or "image"


def segment_study(path: str | Path, method: str, prompt: Any = None, *, prompt_voxel: Any = None, space: str = "RAS",
                  out_dir: str | Path = "runs/segmentation", bundle: str | Path | None = None,
                  checkpoint: str | Path | None = None, network: dict[str, Any] | None = None,
                  writer: EvidenceWriter | None = None, overlay: bool = True, body_region: str | None = None,
                  modality: str | None = None) -> SegmentationResult:
    """Segment one study and write its mask (NIfTI, input space), overlay PNG and result JSON to ``out_dir``.

    Args:
        path: NIfTI file, DICOM series folder or single DICOM file.
        method: a classical method (``list_methods()``) or ``"model"`` with ``bundle``/``checkpoint``.
        prompt: seed point in world mm, ``(x, y, z)`` or ``"x,y,z"`` (method ``region``), in ``space``.
        prompt_voxel: seed as voxel indices of the file as stored.
        space: convention of ``prompt``: ``"RAS"`` (NIfTI, the default) or ``"LPS"`` (DICOM patient
            coordinates, as ImagePositionPatient and DICOM viewers give them). The result states the seed in both.
        out_dir: run folder for the artifacts.
        bundle, checkpoint, network: the learned model (see ``models.load_model``).
        writer: when given, one ``imaging`` evidence item is added through it (``result.evidence_id``).
        overlay: write the PNG overlay.
        body_region, modality: what the study is labelled as; before any method runs the image is checked to
            fit them (and the region the method presupposes, e.g. a head for ``hemorrhage``), see
            ``plausibility.require_plausible``.

    Raises:
        ImplausibleImageError: the image's content does not fit its label (a ``SegmentationError``).
    """
    from wardround.evidence import sha256_file
    from wardround.tools.segmentation.io import load_image, require_3d, save_mask
    from wardround.tools.segmentation.methods import METHODS
    from wardround.tools.segmentation.overlay import render_overlay
    from wardround.tools.segmentation.plausibility import require_plausible

    start = time.perf_counter()
    if method not in METHODS and method != MODEL_METHOD:
        raise SegmentationError(f"method {method!r} is unknown; choose one of {', '.join(list_methods())}")
    if method == MODEL_METHOD and bundle is None and checkpoint is None:
        raise SegmentationError("method 'model' needs bundle=DIR (or checkpoint=FILE with network=config)")
    volume = load_image(path)
    require_3d(volume, method)
    checks = require_plausible(volume, body_region, modality, method)
    seed = _seed_voxel(volume, prompt, prompt_voxel, space)
    if method == MODEL_METHOD:
        from wardround.tools.segmentation.models import load_model, run_model

        output = run_model(volume, load_model(bundle=bundle, checkpoint=checkpoint, network=network))
    else:
        spec = METHODS[method]
        if spec.needs_prompt and seed is None:
            raise SegmentationError(
                f"method {method!r} needs a seed: pass prompt='x,y,z' (world mm, RAS or space='LPS') or "
                "prompt_voxel='i,j,k'"
            )
        output = spec.run(volume, seed)
    out = Path(out_dir)
    stem = f"{_safe_stem(str(path))}.{method}"
    mask_path = save_mask(output.labels, volume, out / f"{stem}.mask.nii.gz")
    is_ct = (volume.modality or "").upper() == "CT" or float(np.percentile(volume.array[::2, ::2, ::2], 0.5)) <= -500.0
    measurements = measure_labels(output.labels, volume.affine, output.names, image=volume.array,
                                  only=sorted(output.names) or None)
    if output.main_label is not None:
        headline = next((m.volume_ml for m in measurements if m.label == output.main_label), 0.0)
    else:
        headline = round(sum(m.volume_ml for m in measurements), 4)
    overlay_path = None
    if overlay:
        overlay_path = str(render_overlay(volume.array, output.labels, volume.spacing, out / f"{stem}.overlay.png",
                                          output.names, method, is_ct, title=f"{method}: {Path(str(path)).name}"))
    result = SegmentationResult(
        method=method, image=str(path), mask=str(mask_path), sha256=sha256_file(mask_path), overlay=overlay_path,
        labels=measurements, main_label=output.main_label, volume_ml=headline,
        shape=list(volume.original_shape), spacing_mm=[round(s, 6) for s in volume.spacing],
        affine=[[float(v) for v in row] for row in volume.original_affine],
        prompt_voxel=list(seed) if seed is not None else None, notes=output.notes, params=output.params,
        prompt_ras_mm=_world(volume, seed, lps=False), prompt_lps_mm=_world(volume, seed, lps=True),
        seconds=round(time.perf_counter() - start, 3), plausibility=[c.to_dict() for c in checks],
    )
    if writer is not None:
        ev = record_evidence(result, writer)
        result = result.model_copy(update={"evidence_id": ev.id})
    (out / f"{stem}.json").write_text(result.model_dump_json(indent=2))
    log.info("%s", result.summary())
    return result


def measure_mask(path: str | Path, label: int = 1, image: str | Path | None = None,
                 name: str | None = None) -> LabelMeasurement:
    """Measure one label of a NIfTI mask (volume, diameters, centroid, bbox; intensity when ``image`` is given)."""
    from wardround.tools.segmentation.io import load_image, load_mask

    labels, affine = load_mask(path)
    img = None
    if image is not None:
        vol = load_image(image)
        if vol.shape != labels.shape or not np.allclose(vol.affine, affine, atol=1e-3):
            raise SegmentationError(f"{image}: image grid does not match the mask {path}; pass the segmented image")
        img = vol.array
    return measure_labels(labels, affine, {label: name or f"label_{label}"}, image=img, only=[label])[0]


def record_evidence(result: SegmentationResult, writer: EvidenceWriter) -> Evidence:
    """Add one ``imaging`` evidence item for ``result`` through ``writer`` and return it."""
    labels = [
        {"label": m.label, "name": m.name, "volume_ml": m.volume_ml, "max_diameter_mm": m.max_diameter_mm,
         "axial_long_axis_mm": m.axial_long_axis_mm, "axial_short_axis_mm": m.axial_short_axis_mm,
         "centroid_mm": m.centroid_mm, "mean_intensity": m.mean_intensity, "components": m.components}
        for m in result.labels
    ]
    main = next((m for m in result.labels if m.label == result.main_label), None)
    if main is not None:
        statement = (f"{result.method} segmentation of {Path(result.image).name}: {main.name} "
                     f"{main.volume_ml:.1f} mL, largest diameter {main.max_diameter_mm:.0f} mm")
    else:
        statement = f"{result.method} segmentation of {Path(result.image).name}: " + ", ".join(
            f"{m.name} {m.volume_ml:.1f} mL" for m in result.labels)
    return writer.add(
        "imaging", statement, tool=f"segmentation:{result.method}", artifact_path=result.mask,
        sha256=result.sha256, value=result.volume_ml, unit="mL",
        inputs={"image": result.image, "prompt_voxel": result.prompt_voxel},
        measurements={"method": result.method, "main_label": result.main_label, "volume_ml": result.volume_ml,
                      "labels": labels, "overlay": result.overlay},
    )


def verify_segmentation_evidence(ev: Evidence) -> str | None:
    """Ledger verifier: each recorded label volume re-measures from the mask.

    ``Ledger.verify`` has already checked that the mask exists and its sha256 matches (imaging evidence rules).
    """
    import nibabel as nib

    if not ev.artifact_path:
        return "segmentation evidence without a mask path"
    p = Path(ev.artifact_path)
    labels = (ev.measurements or {}).get("labels") or []
    try:
        img = nib.load(str(p))
        data = np.asanyarray(img.dataobj)
    except Exception as exc:
        return f"mask {p.name} cannot be read ({type(exc).__name__})"
    voxel_ml = float(abs(np.linalg.det(img.affine[:3, :3]))) / 1000.0
    counts = np.bincount(np.rint(data).astype(np.int64).ravel().clip(0))
    for entry in labels:
        lab = int(entry["label"])
        actual = (int(counts[lab]) if lab < len(counts) else 0) * voxel_ml
        if not np.isclose(actual, float(entry["volume_ml"]), rtol=1e-4, atol=1e-3):
            return f"label {lab} measures {actual:.3f} mL in {p.name}, not the recorded {entry['volume_ml']} mL"
    return None
