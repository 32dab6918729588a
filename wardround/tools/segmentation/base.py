"""What every segmentation method returns, and small shared checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from wardround.tools.segmentation.errors import SegmentationError
from wardround.tools.segmentation.io import Volume


@dataclass
class MethodOutput:
    """A label array in the volume's RAS+ grid with the names of its labels.

    Attributes:
        labels: uint8 array, 0 = background.
        names: label value -> name (every value that may appear; absent labels measure as empty).
        main_label: the label whose volume is the headline figure (``None``: all foreground together).
        notes: facts about the run worth showing (window used, components dropped, ...).
        params: the parameters actually used (recorded with the evidence).
    """

    labels: np.ndarray
    names: dict[int, str]
    main_label: int | None = None
    notes: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)


def require_ct(volume: Volume, method: str) -> None:
    """Refuse images that are not CT in Hounsfield units (a CT always holds air near -1000 HU)."""
    if volume.modality and volume.modality.upper() not in ("CT",):
        raise SegmentationError(
            f"{volume.source}: DICOM modality is {volume.modality}; method {method!r} needs CT in HU"
        )
    low = float(np.percentile(volume.array[::2, ::2, ::2], 0.5))
    if low > -500.0:
        raise SegmentationError(
            f"{volume.source}: lowest values ({low:.0f}) are not air in HU; method {method!r} needs CT in "
            "Hounsfield units — pass a CT (rescaled, not windowed) or use an MRI method"
        )


def require_mr(volume: Volume, method: str) -> None:
    """Refuse CT images for MRI methods."""
    if volume.modality and volume.modality.upper() == "CT":
        raise SegmentationError(f"{volume.source}: DICOM modality is CT; method {method!r} needs an MR image")
    low, high = (float(v) for v in np.percentile(volume.array[::2, ::2, ::2], [0.5, 99.5]))
    if low <= -500.0 and high >= 100.0:  # air near -1000 and tissue above: Hounsfield units
        raise SegmentationError(
            f"{volume.source}: values span {low:.0f} to {high:.0f}, which is CT in HU; method {method!r} needs "
            "an MR image — use body, lungs, bone, hemorrhage or region for CT"
        )


def empty_like(volume: Volume) -> np.ndarray:
    """A zero uint8 label array in the volume's grid."""
    return np.zeros(volume.shape, dtype=np.uint8)
