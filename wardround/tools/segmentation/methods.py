"""The registry of segmentation methods that need no learned weights."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from wardround.tools.segmentation import methods_ct, methods_mri
from wardround.tools.segmentation.base import MethodOutput
from wardround.tools.segmentation.io import Volume


@dataclass(frozen=True)
class MethodSpec:
    """One classical method: what it segments and on which images."""

    name: str
    modality: str
    description: str
    run: Callable[[Volume, tuple[int, int, int] | None], MethodOutput]
    needs_prompt: bool = False


METHODS: dict[str, MethodSpec] = {
    spec.name: spec
    for spec in (
        MethodSpec("body", "CT", "body outline (tissue above -500 HU)", methods_ct.segment_body),
        MethodSpec("lungs", "CT", "right (1) and left (2) lung; bowel and stomach gas excluded", methods_ct.segment_lungs),
        MethodSpec("bone", "CT", "bone above 150 HU with marrow", methods_ct.segment_bone),
        MethodSpec("hemorrhage", "CT", "hyperdense intracranial blood on non-contrast head CT",
                   methods_ct.segment_hemorrhage),
        MethodSpec("region", "CT", "seeded region growing from one point (e.g. liver, spleen)",
                   methods_ct.segment_region, needs_prompt=True),
        MethodSpec("brain", "MR", "skull-stripped brain", methods_mri.segment_brain),
        MethodSpec("tissue", "MR", "CSF (1), grey matter (2), white matter (3) on T1", methods_mri.segment_tissue),
        MethodSpec("flair_lesion", "MR", "FLAIR hyperintensity inside the brain", methods_mri.segment_flair_lesion),
    )
}
