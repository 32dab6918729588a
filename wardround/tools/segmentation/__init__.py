"""3-D segmentation tools: classical CT/MRI methods, MONAI bundles, measurements and ledger evidence.

``import wardround.tools.segmentation`` stays light: torch and MONAI load only when an image is read or a
model runs.

    from wardround.tools.segmentation import segment_study
    result = segment_study("head_ct.nii.gz", "hemorrhage", out_dir="runs/case1", writer=writer)
    result.volume_ml, result.evidence_id
"""

from wardround.evidence import register_verifier
from wardround.tools.segmentation.agent_tools import segmentation_tools
from wardround.tools.segmentation.api import (
    SegmentationResult,
    list_methods,
    measure_mask,
    record_evidence,
    segment_study,
    verify_segmentation_evidence,
)
from wardround.tools.segmentation.errors import ImageReadError, SegmentationError
from wardround.tools.segmentation.measure import LabelMeasurement, measure_labels
from wardround.tools.segmentation.plausibility import (
    ImplausibleImageError,
    PlausibilityResult,
    check_plausibility,
)

register_verifier("segmentation", verify_segmentation_evidence)

__all__ = [
    "ImageReadError",
    "ImplausibleImageError",
    "LabelMeasurement",
    "PlausibilityResult",
    "SegmentationError",
    "SegmentationResult",
    "check_plausibility",
    "list_methods",
    "measure_labels",
    "measure_mask",
    "record_evidence",
    "segment_study",
    "segmentation_tools",
    "verify_segmentation_evidence",
]
