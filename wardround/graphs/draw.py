"""Draw the ward graph as a PNG locally (Pillow), so notebooks and reports never need a network renderer."""

from __future__ import annotations

import io
from collections.abc import Sequence


def draw_ward_png(specialties: Sequence[str] | None = None, *, human_review: bool = True,
                  highlight: Sequence[str] = ()) -> bytes:
    """PNG of intake -> triage -> specialists (one box each, in parallel) -> attending -> [review].

    Args:
        specialties: specialist boxes to draw (default: one generic "specialist x N" box).
        human_review: draw the optional review step.
        highlight: node names to fill in colour (e.g. the specialists a case consulted).
    """
    from PIL import Image, ImageDraw, ImageFont

    specs = list(specialties or ["specialist x N"])
    font = ImageFont.load_default(size=15) if hasattr(ImageFont, "load_default") else None
    box_w, box_h, gap_x, gap_y = 170, 40, 60, 14
    stages: list[list[str]] = [["START"], ["intake"], ["triage"], specs, ["attending"]]
    if human_review:
        stages.append(["review"])
    stages.append(["END"])
    tallest = max(len(s) for s in stages)
    height = max(160, tallest * (box_h + gap_y) + 60)
    width = len(stages) * (box_w + gap_x) + 20
    img = Image.new("RGB", (width, height), "white")
    d = ImageDraw.Draw(img)
    centres: list[list[tuple[int, int]]] = []
    for col, names in enumerate(stages):
        x = 20 + col * (box_w + gap_x)
        total = len(names) * box_h + (len(names) - 1) * gap_y
        y0 = (height - total) // 2
        col_centres = []
        for row, name in enumerate(names):
            y = y0 + row * (box_h + gap_y)
            terminal = name in ("START", "END")
            fill = "#dbeafe" if name in highlight else ("#f3f4f6" if terminal else "#ffffff")
            outline = "#6b7280" if terminal else "#1f2937"
            if terminal:
                d.rounded_rectangle([x + 40, y, x + box_w - 40, y + box_h], radius=18, fill=fill, outline=outline)
            else:
                dash = name == "review"
                d.rounded_rectangle([x, y, x + box_w, y + box_h], radius=6, fill=fill, outline=outline,
                                    width=1 if dash else 2)
            label = name.replace("_", " ")
            tw = d.textlength(label, font=font)
            d.text((x + (box_w - tw) / 2, y + box_h / 2 - 8), label, fill="#111827", font=font)
            col_centres.append((x, y + box_h // 2))
        centres.append(col_centres)
    for col in range(len(stages) - 1):
        for (x1, y1) in centres[col]:
            for (x2, y2) in centres[col + 1]:
                start = (x1 + box_w - (40 if stages[col][0] == "START" else 0), y1)
                end = (x2 + (40 if stages[col + 1][0] == "END" else 0), y2)
                d.line([start, end], fill="#4b5563", width=2)
                d.polygon([end, (end[0] - 9, end[1] - 5), (end[0] - 9, end[1] + 5)], fill="#4b5563")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
