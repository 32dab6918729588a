"""Binary morphology with radii in millimetres (anisotropic voxels), components, hole filling, smoothing.

A ball of radius r applied at once costs O(N r^3) in scipy and an exact distance transform about a second per
5 M voxels here; r successive 3x3x3 steps (cross/box alternation) cost far less and are accurate enough for
cutting leaks and smoothing masks.
"""

from __future__ import annotations

import numpy as np

Spacing = tuple[float, float, float]


def _ball_steps(radius_mm: float, spacing: Spacing) -> list[np.ndarray]:
    """Structuring elements whose successive application approximates a Euclidean ball of ``radius_mm``.

    Steps alternate a cross (6-connected) and a box (26-connected) element, the classic octagonal
    approximation of a disc/ball; an axis takes part only in as many steps as its voxel radius, which honours
    anisotropic spacing (3 mm slices, 0.8 mm pixels).
    """
    n_axis = [int(round(radius_mm / s)) for s in spacing]
    n = max(n_axis)
    steps = []
    for i in range(1, n + 1):
        active = [na > 0 and (i * na) // n > ((i - 1) * na) // n for na in n_axis]
        if not any(active):
            continue
        shape = tuple(3 if a else 1 for a in active)
        if i % 2 == 0:
            se = np.ones(shape, dtype=bool)
        else:
            se = np.zeros(shape, dtype=bool)
            centre = tuple(1 if a else 0 for a in active)
            for ax, a in enumerate(active):
                if a:
                    idx = list(centre)
                    for v in (0, 2):
                        idx[ax] = v
                        se[tuple(idx)] = True
            se[centre] = True
        steps.append(se)
    return steps


def erode(mask: np.ndarray, radius_mm: float, spacing: Spacing) -> np.ndarray:
    """Erosion by an (approximate) ball of ``radius_mm``; voxels outside the array count as background."""
    from scipy import ndimage as ndi

    out = mask.astype(bool, copy=True)
    for se in _ball_steps(radius_mm, spacing):
        if not out.any():
            break
        out = ndi.binary_erosion(out, structure=se, border_value=0)
    return out


def dilate(mask: np.ndarray, radius_mm: float, spacing: Spacing) -> np.ndarray:
    """Dilation by an (approximate) ball of ``radius_mm``."""
    from scipy import ndimage as ndi

    out = mask.astype(bool, copy=True)
    for se in _ball_steps(radius_mm, spacing):
        if not out.any():
            break
        out = ndi.binary_dilation(out, structure=se)
    return out


def opening(mask: np.ndarray, radius_mm: float, spacing: Spacing) -> np.ndarray:
    """Opening: removes parts thinner than a ball of ``radius_mm`` and breaks narrow bridges."""
    return dilate(erode(mask, radius_mm, spacing), radius_mm, spacing) & mask


def closing(mask: np.ndarray, radius_mm: float, spacing: Spacing) -> np.ndarray:
    """Closing: bridges gaps narrower than a ball of ``radius_mm`` (image border treated as open)."""
    if radius_mm <= 0 or not mask.any():
        return mask.copy()
    pad = [int(np.ceil(radius_mm / s)) + 1 for s in spacing]
    padded = np.pad(mask, [(p, p) for p in pad])
    closed = erode(dilate(padded, radius_mm, spacing), radius_mm, spacing)
    return closed[pad[0]:-pad[0], pad[1]:-pad[1], pad[2]:-pad[2]] | mask


def fill_holes_2d(mask: np.ndarray, axis: int = 2) -> np.ndarray:
    """Fill holes slice by slice along ``axis`` (axial for RAS arrays): closes cavities open in 3-D."""
    from scipy import ndimage as ndi

    out = np.moveaxis(mask.copy(), axis, 0)
    for k in range(out.shape[0]):
        if out[k].any():
            out[k] = ndi.binary_fill_holes(out[k])
    return np.moveaxis(out, 0, axis)


def fill_holes_3d(mask: np.ndarray) -> np.ndarray:
    """Fill enclosed 3-D cavities."""
    from scipy import ndimage as ndi

    return ndi.binary_fill_holes(mask)


def label_components(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """26-connected components; returns (labels, sizes) with ``sizes[0] == 0``."""
    from scipy import ndimage as ndi

    labels, _ = ndi.label(mask, structure=np.ones((3, 3, 3), dtype=bool))
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return labels, sizes


def largest_component(mask: np.ndarray) -> np.ndarray:
    """The largest 26-connected component (empty in, empty out)."""
    if not mask.any():
        return mask.copy()
    labels, sizes = label_components(mask)
    return labels == int(sizes.argmax())


def component_at(mask: np.ndarray, ijk: tuple[int, int, int]) -> np.ndarray:
    """The 26-connected component of ``mask`` that holds voxel ``ijk`` (empty when it is background)."""
    if not mask[ijk]:
        return np.zeros_like(mask)
    labels, _ = label_components(mask)
    return labels == labels[ijk]


def remove_small(mask: np.ndarray, min_voxels: int) -> np.ndarray:
    """Drop components smaller than ``min_voxels``."""
    if not mask.any():
        return mask.copy()
    labels, sizes = label_components(mask)
    keep = sizes >= max(1, min_voxels)
    keep[0] = False
    return keep[labels]


def gaussian(array: np.ndarray, sigma_mm: float, spacing: Spacing) -> np.ndarray:
    """Gaussian smoothing with a sigma given in millimetres (MONAI ``GaussianSmooth`` semantics)."""
    from scipy import ndimage as ndi

    if sigma_mm <= 0:
        return array.astype(np.float32, copy=False)
    sig = [sigma_mm / s for s in spacing]
    return ndi.gaussian_filter(array.astype(np.float32, copy=False), sig, truncate=3.0)


def otsu(values: np.ndarray) -> float:
    """Otsu's threshold of a 1-D sample (scikit-image)."""
    from skimage.filters import threshold_otsu

    return float(threshold_otsu(values))


def bbox_crop(mask: np.ndarray, margin: int = 2) -> tuple[slice, slice, slice]:
    """Slices of the bounding box of ``mask`` plus ``margin`` voxels (whole array when empty)."""
    if not mask.any():
        return tuple(slice(0, s) for s in mask.shape)  # type: ignore[return-value]
    idx = [np.nonzero(mask.any(axis=tuple(a for a in range(3) if a != ax)))[0] for ax in range(3)]
    return tuple(  # type: ignore[return-value]
        slice(max(0, int(i[0]) - margin), min(mask.shape[ax], int(i[-1]) + margin + 1)) for ax, i in enumerate(idx)
    )
