"""Synthetic volumes with known truth (ellipsoids with noise), written as NIfTI for segmentation tests."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np


def ellipsoid(shape, centre, radii, spacing=(1.0, 1.0, 1.0)) -> np.ndarray:
    """Boolean ellipsoid with centre and radii in mm on a grid of ``spacing``."""
    grids = np.ogrid[tuple(slice(0, n) for n in shape)]
    return sum(((g * s - c) / r) ** 2 for g, s, c, r in zip(grids, spacing, centre, radii, strict=True)) <= 1.0


def head_ct_phantom(hematoma_radii=(15.0, 12.0, 10.0), seed: int = 7):
    """Head CT in HU at 1 x 1 x 2 mm: scalp, skull, brain with CSF spaces, one hyperdense haematoma.

    Returns (hu, spacing, blood mask); ``hematoma_radii=None`` gives a scan without blood.
    """
    rng = np.random.default_rng(seed)
    spacing = (1.0, 1.0, 2.0)
    shape = (160, 190, 80)
    c = (80.0, 95.0, 80.0)
    hu = np.full(shape, -1000.0)
    hu[ellipsoid(shape, c, (75, 90, 75), spacing)] = 20.0  # scalp
    hu[ellipsoid(shape, c, (70, 85, 70), spacing)] = 1200.0  # skull
    brain = ellipsoid(shape, c, (64, 79, 64), spacing)
    hu[brain] = 35.0
    hu[ellipsoid(shape, (80, 95, 85), (12, 25, 10), spacing)] = 5.0  # ventricles
    blood = np.zeros(shape, bool)
    if hematoma_radii is not None:
        blood = ellipsoid(shape, (50.0, 110.0, 90.0), hematoma_radii, spacing)
        hu[blood] = 70.0
    hu += rng.normal(0, 4, shape)
    return hu, spacing, blood


def save_nifti(path: Path, data: np.ndarray, spacing=(1.0, 1.0, 1.0)) -> Path:
    """Write ``data`` as NIfTI (RAS, diagonal affine) and return the path."""
    nib.save(nib.Nifti1Image(data.astype(np.float32), np.diag([*spacing, 1.0])), str(path))
    return path
