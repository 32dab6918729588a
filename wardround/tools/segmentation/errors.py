"""Errors of the segmentation tools: each message names the file or option and says how to fix it."""

from __future__ import annotations

from wardround.errors import WardroundError


class SegmentationError(WardroundError, ValueError):
    """A segmentation could not be run (wrong method, missing prompt, 2-D data, wrong modality, bad bundle)."""


class ImageReadError(SegmentationError):
    """An image file or DICOM folder could not be read (unreadable, truncated, mixed series, wrong shape)."""
