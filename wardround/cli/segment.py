"""``wardround segment``: run a segmentation method on a NIfTI file or DICOM series and print its measurements."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="3-D segmentation of CT/MRI (NIfTI, DICOM) with measurements.",
    add_completion=False,
    # one command taking IMAGE then options: let options follow the argument as in `segment IMAGE --method M`
    context_settings={"allow_interspersed_args": True},
)


@app.callback(invoke_without_command=True)
def segment(
    image: Annotated[Path, typer.Argument(help="NIfTI file, DICOM series folder, or single DICOM file")],
    method: Annotated[str, typer.Option("--method", "-m", help="body, lungs, bone, hemorrhage, region, brain, "
                                                                 "tissue, flair_lesion, model")],
    prompt: Annotated[str | None, typer.Option("--prompt", help="seed x,y,z in world mm (RAS+ as in NIfTI, or "
                                                                "--space LPS as in DICOM)")] = None,
    space: Annotated[str, typer.Option("--space", help="convention of --prompt: RAS (NIfTI) or LPS (DICOM "
                                                       "patient coordinates)")] = "RAS",
    prompt_voxel: Annotated[str | None, typer.Option("--prompt-voxel",
                                                     help="seed i,j,k in voxel indices as stored")] = None,
    bundle: Annotated[Path | None, typer.Option("--bundle", help="MONAI bundle folder (method 'model')")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="run folder for mask, overlay, JSON")] = Path(
        "runs/segmentation"),
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
    no_overlay: Annotated[bool, typer.Option("--no-overlay", help="skip the PNG overlay")] = False,
) -> None:
    """Segment IMAGE with METHOD; write the mask (input space), an overlay PNG and a JSON result to --out."""
    from rich.console import Console

    from wardround.errors import WardroundError

    err = Console(stderr=True)
    try:
        prompt = _seed(prompt, "--prompt", voxel=False)
        prompt_voxel = _seed(prompt_voxel, "--prompt-voxel", voxel=True)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise typer.BadParameter(f"--out: cannot create the run folder {str(out)!r} "
                                     f"({exc.strerror or exc}); give a writable folder") from None
        with err.status(f"[bold]segmenting {image.name} with {method}…", spinner="dots"):
            from wardround.tools.segmentation import segment_study

            if method == "model" and bundle is None:
                raise typer.BadParameter("method 'model' needs --bundle DIR")
            result = segment_study(image, method, prompt=prompt, prompt_voxel=prompt_voxel, space=space, out_dir=out,
                                   bundle=bundle if method == "model" else None, overlay=not no_overlay)
    except (WardroundError, typer.BadParameter) as exc:
        from rich.markup import escape

        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=2) from None
    if as_json:
        payload = result.model_dump(mode="json")
        typer.echo(json.dumps(payload, indent=2))
        return
    from rich.console import Console as _Console
    from rich.table import Table

    table = Table(title=result.summary(), title_justify="left")
    for col in ("label", "name", "volume mL", "max diam. mm", "axial long x short mm", "centroid mm (RAS)"):
        table.add_column(col)
    for m in result.labels:
        table.add_row(str(m.label), m.name, f"{m.volume_ml:.2f}", f"{m.max_diameter_mm:.1f}",
                      f"{m.axial_long_axis_mm:.1f} x {m.axial_short_axis_mm:.1f}",
                      ", ".join(f"{v:.1f}" for v in (m.centroid_mm or [])))
    console = _Console()
    console.print(table)
    console.print(f"mask: {result.mask}\noverlay: {result.overlay}\nsha256: {result.sha256}", highlight=False)


MAX_SEED_MM = 1e6
"""Largest seed coordinate accepted, in mm or voxels (a metre is far outside any scan)."""


def _seed(value: str | None, option: str, *, voxel: bool) -> str | None:
    """Check a seed ``x,y,z``: three finite numbers of sane size (voxel indices: whole and not negative)."""
    if value is None:
        return None
    import math
    import re

    parts = [v for v in re.split(r"[,\s]+", value.strip()) if v]
    what = "three voxel indices i,j,k" if voxel else "three numbers x,y,z in world mm"
    try:
        nums = [float(v) for v in parts]
    except ValueError:
        raise typer.BadParameter(f"{option}: expected {what}, got {value!r}") from None
    if len(nums) != 3:
        raise typer.BadParameter(f"{option}: expected {what}, got {len(nums)} value(s) in {value!r}")
    for v in nums:
        if not math.isfinite(v) or abs(v) > MAX_SEED_MM:
            raise typer.BadParameter(f"{option}: {v!r} in {value!r} is not a usable coordinate; give finite "
                                     f"numbers within +-{MAX_SEED_MM:g}")
        if voxel and (v < 0 or v != int(v)):
            raise typer.BadParameter(f"{option}: {v!r} in {value!r} is not a voxel index; give whole numbers "
                                     "from 0")
    return ",".join(repr(v) for v in nums)
