"""Synthetic volumes with known truth, for demonstrations, notebooks and tests (numpy and nibabel only).

They are geometric phantoms (ellipsoids with Gaussian noise at CT-like Hounsfield values), not anatomy: good for
showing the pipeline and checking that a method recovers what was put in, never for judging accuracy on patients.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def ellipsoid(shape: tuple[int, ...], centre: tuple[float, ...], radii: tuple[float, ...],
              spacing: tuple[float, ...] = (1.0, 1.0, 1.0)) -> np.ndarray:
    """Boolean ellipsoid with centre and radii in mm on a voxel grid of ``spacing``."""
    grids = np.ogrid[tuple(slice(0, n) for n in shape)]
    return sum(((g * s - c) / r) ** 2 for g, s, c, r in zip(grids, spacing, centre, radii, strict=True)) <= 1.0


def head_ct_phantom(hematoma_radii: tuple[float, float, float] | None = (15.0, 12.0, 10.0), seed: int = 7,
                    ) -> tuple[np.ndarray, tuple[float, float, float], np.ndarray]:
    """Head CT in HU at 1 x 1 x 2 mm: scalp, skull, brain with ventricles, and one hyperdense haematoma.

    Returns ``(hu, spacing_mm, blood_mask)``; ``hematoma_radii=None`` gives a scan without blood.
    """
    rng = np.random.default_rng(seed)
    spacing = (1.0, 1.0, 2.0)
    shape = (160, 190, 80)
    c = (80.0, 95.0, 80.0)
    hu = np.full(shape, -1000.0)
    hu[ellipsoid(shape, c, (75, 90, 75), spacing)] = 20.0  # scalp
    hu[ellipsoid(shape, c, (70, 85, 70), spacing)] = 1200.0  # skull
    hu[ellipsoid(shape, c, (64, 79, 64), spacing)] = 35.0  # brain
    hu[ellipsoid(shape, (80, 95, 85), (12, 25, 10), spacing)] = 5.0  # ventricles
    blood = np.zeros(shape, bool)
    if hematoma_radii is not None:
        blood = ellipsoid(shape, (50.0, 110.0, 90.0), hematoma_radii, spacing)
        hu[blood] = 70.0
    hu += rng.normal(0, 4, shape)
    return hu, spacing, blood


def write_head_ct(path: str | Path, hematoma_radii: tuple[float, float, float] | None = (15.0, 12.0, 10.0),
                  seed: int = 7) -> tuple[Path, float]:
    """Write a synthetic head CT (NIfTI, RAS) and return its path and the true haematoma volume in mL."""
    import nibabel as nib

    hu, spacing, blood = head_ct_phantom(hematoma_radii, seed)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(hu.astype(np.float32), np.diag([*spacing, 1.0])), str(p))
    return p, float(blood.sum() * np.prod(spacing) / 1000.0)
