"""PNG overlay: three orthogonal slices through the largest component, drawn with Pillow.

matplotlib is not needed: the slices are windowed, resampled to square millimetres, tinted per label and
outlined, in radiological display (patient right on the image left, anterior/superior up).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

PALETTE = [(255, 64, 64), (64, 200, 255), (80, 230, 80), (255, 210, 40), (220, 90, 255), (255, 140, 0),
           (0, 220, 180), (255, 105, 180)]
CT_WINDOWS = {"lungs": (-1350.0, 150.0), "bone": (-450.0, 1050.0), "hemorrhage": (0.0, 80.0)}
CT_DEFAULT = (-160.0, 240.0)  # soft-tissue window W400/L40


def _window(image: np.ndarray, method: str, is_ct: bool) -> tuple[float, float]:
    if is_ct:
        return CT_WINDOWS.get(method, CT_DEFAULT)
    lo, hi = np.percentile(image[image > image.min()] if (image > image.min()).any() else image, [0.5, 99.5])
    return float(lo), float(hi if hi > lo else lo + 1)



def _panel(img2d: np.ndarray, lab2d: np.ndarray, sx: float, sy: float, lo: float, hi: float,
           px_per_mm: float, height: int, labels: list[int]) -> np.ndarray:
    from PIL import Image
    from scipy import ndimage as ndi

    gray = np.clip((img2d - lo) / (hi - lo), 0, 1)
    rgb = np.repeat((gray * 255).astype(np.float32)[..., None], 3, axis=-1)
    for idx, lab in enumerate(labels):
        m = lab2d == lab
        if not m.any():
            continue
        colour = np.array(PALETTE[idx % len(PALETTE)], dtype=np.float32)
        rgb[m] = 0.6 * rgb[m] + 0.4 * colour
        edge = m & ~ndi.binary_erosion(m)
        rgb[edge] = colour
    disp = np.ascontiguousarray(_display_rgb(rgb))
    h_px = max(1, int(round(disp.shape[0] * sy * px_per_mm)))
    w_px = max(1, int(round(disp.shape[1] * sx * px_per_mm)))
    im = np.asarray(Image.fromarray(disp.astype(np.uint8)).resize((w_px, h_px), Image.NEAREST))
    canvas = np.zeros((height, w_px, 3), dtype=np.uint8)  # centre vertically on a common height
    top = (height - h_px) // 2
    canvas[top:top + h_px] = im[: height - top]
    return canvas


def _display_rgb(rgb: np.ndarray) -> np.ndarray:
    return np.transpose(rgb, (1, 0, 2))[::-1, ::-1]


def render_overlay(image: np.ndarray, labels: np.ndarray, spacing: tuple[float, float, float], path: str | Path,
                   names: dict[int, str], method: str, is_ct: bool, title: str = "",
                   panel_height: int = 320) -> Path:
    """Write a PNG with axial, coronal and sagittal slices through the largest labelled component."""
    from PIL import Image, ImageDraw

    from wardround.tools.segmentation import morphology as mo

    fg = labels > 0
    if fg.any():
        crop = mo.bbox_crop(fg, margin=0)
        comp = mo.largest_component(fg[crop])
        pts = np.argwhere(comp)
        centre = np.round(pts.mean(axis=0)).astype(int)
        # move to a voxel inside the component (a centroid may fall in a hole)
        centre = pts[int(((pts - centre) ** 2).sum(1).argmin())] + np.array([c.start for c in crop])
    else:
        centre = np.array(image.shape) // 2
    present = sorted(int(v) for v in np.unique(labels) if v)
    lo, hi = _window(image, method, is_ct)
    sx, sy, sz = spacing
    i, j, k = (int(v) for v in centre)
    px_per_mm = panel_height / max(n * s for n, s in zip(image.shape, spacing, strict=True))
    args = (lo, hi, px_per_mm, panel_height, present)
    panels = [
        _panel(image[:, :, k], labels[:, :, k], sx, sy, *args),   # axial (x, y)
        _panel(image[:, j, :], labels[:, j, :], sx, sz, *args),   # coronal (x, z)
        _panel(image[i, :, :], labels[i, :, :], sy, sz, *args),   # sagittal (y, z)
    ]
    gap = np.zeros((panel_height, 6, 3), dtype=np.uint8)
    strip = np.concatenate([p for pair in zip(panels, [gap] * 3, strict=True) for p in pair][:-1], axis=1)
    legend_h = 22 + 16 * max(1, len(present))
    canvas = Image.new("RGB", (strip.shape[1], panel_height + legend_h), (0, 0, 0))
    canvas.paste(Image.fromarray(strip), (0, legend_h))
    draw = ImageDraw.Draw(canvas)
    draw.text((4, 3), (title or method) + f"   axial z={k}  coronal y={j}  sagittal x={i}   (R on left)",
              fill=(255, 255, 255))
    for n, lab in enumerate(present):
        colour = PALETTE[present.index(lab) % len(PALETTE)]
        draw.rectangle((4, 21 + 16 * n, 14, 31 + 16 * n), fill=colour)
        draw.text((20, 20 + 16 * n), f"{lab}: {names.get(lab, f'label_{lab}')}", fill=(255, 255, 255))
    if not present:
        draw.text((4, 20), "empty mask", fill=(255, 120, 120))
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(out)
    return out
