"""LangChain tools for agents: ``segment`` and ``measure``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class SegmentArgs(BaseModel):
    """Arguments of the ``segment`` tool."""

    study: str = Field(description="path of a NIfTI file, a DICOM series folder or a DICOM file")
    method: str = Field(description="body, lungs, bone, hemorrhage, region (needs prompt), brain, tissue, "
                                    "flair_lesion, or model (needs bundle)")
    prompt: list[float] | None = Field(None, description="seed point [x, y, z] in world mm (method region)")
    space: str = Field("RAS", description="convention of prompt: RAS (NIfTI) or LPS (DICOM patient coordinates)")
    bundle: str | None = Field(None, description="MONAI bundle folder for method 'model'")
    out_dir: str = Field("runs/segmentation", description="folder for the mask, overlay and JSON")
    body_region: str | None = Field(None, description="the study's stated body region (head, chest, abdomen); "
                                                      "the image is refused when its content does not fit it")
    modality: str | None = Field(None, description="the study's stated modality (CT or MR)")


class MeasureArgs(BaseModel):
    """Arguments of the ``measure`` tool."""

    mask: str = Field(description="path of a NIfTI label mask")
    label: int = Field(1, description="label value to measure")
    image: str | None = Field(None, description="the segmented image, for mean/std intensity")


def _segment(study: str, method: str, prompt: list[float] | None = None, space: str = "RAS",
             bundle: str | None = None,
             out_dir: str = "runs/segmentation", body_region: str | None = None,
             modality: str | None = None) -> dict[str, Any]:
    from wardround.tools.segmentation.api import segment_study

    result = segment_study(study, method, prompt=prompt, space=space, bundle=bundle, out_dir=out_dir,
                           body_region=body_region, modality=modality)
    return {"summary": result.summary(), "mask": result.mask, "sha256": result.sha256, "overlay": result.overlay,
            "volume_ml": result.volume_ml, "seed_ras_mm": result.prompt_ras_mm, "seed_lps_mm": result.prompt_lps_mm,
            "labels": [m.model_dump(include={"label", "name", "volume_ml", "max_diameter_mm", "centroid_mm",
                                             "axial_long_axis_mm", "axial_short_axis_mm"}) for m in result.labels]}


def _measure(mask: str, label: int = 1, image: str | None = None) -> dict[str, Any]:
    from wardround.tools.segmentation.api import measure_mask

    return measure_mask(mask, label, image=image).model_dump()


def segmentation_tools() -> list[Any]:
    """The ``segment`` and ``measure`` tools as LangChain ``StructuredTool`` objects."""
    from langchain_core.tools import StructuredTool

    return [
        StructuredTool.from_function(
            func=_segment, name="segment", args_schema=SegmentArgs,
            description="Segment a CT/MRI study and return label volumes (mL), diameters (mm) and the mask path.",
        ),
        StructuredTool.from_function(
            func=_measure, name="measure", args_schema=MeasureArgs,
            description="Measure one label of a NIfTI mask: volume, diameters, centroid, bounding box.",
        ),
    ]
