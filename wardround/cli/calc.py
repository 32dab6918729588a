"""`wardround calc`: list, show and run the clinical calculators."""

from __future__ import annotations

import json
import re
import sys
from typing import Annotated

import typer

app = typer.Typer(help="Clinical calculators: list, show, run.", no_args_is_help=True)

_ARG = re.compile(r"^\s*([A-Za-z_][\w .()/-]*?)\s*=\s*(.*)$")


def _fail(message: str) -> None:
    """One-line error on stderr, exit code 2, no traceback."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@app.command("list")
def list_command(category: Annotated[str | None, typer.Option("--category", "-c", help="lab, physical, risk, "
                                                                "severity, diagnosis, date or dosage")] = None,
                 as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False) -> None:
    """List the calculators (id, name, category, unit)."""
    from wardround.tools.calculators import all_calculators
    from wardround.tools.calculators.base import CATEGORIES

    if category is not None and category not in CATEGORIES:
        _fail(f"--category: unknown category {category!r}; use one of: {', '.join(CATEGORIES)}")
    calcs = sorted((c for c in all_calculators().values() if category in (None, c.category)),
                   key=lambda c: (c.category, c.id))
    if as_json:
        typer.echo(json.dumps([{"id": c.id, "name": c.name, "category": c.category, "unit": c.unit}
                               for c in calcs], ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(calcs)} calculators")
    for col in ("id", "name", "category", "unit"):
        table.add_column(col)
    for c in calcs:
        table.add_row(c.id, c.name, c.category, c.unit)
    Console().print(table)


@app.command("show")
def show_command(calculator_id: Annotated[str, typer.Argument(help="calculator id (see `wardround calc list`)")],
                 as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False) -> None:
    """Show one calculator: reference and every input with its accepted units and range."""
    from wardround.errors import WardroundError
    from wardround.tools.calculators import get_calculator
    from wardround.tools.calculators.tools import describe_calculator

    try:
        calc = get_calculator(calculator_id)
    except WardroundError as exc:
        _fail(str(exc))
        return
    info = describe_calculator(calc)
    info["reference"] = calc.reference
    if as_json:
        typer.echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"[bold]{calc.name}[/bold]  ({calc.id}, {calc.category}, result in {calc.unit or 'no unit'})")
    console.print(calc.description)
    console.print(f"[dim]Reference: {calc.reference}[/dim]")
    table = Table()
    for col in ("input", "required", "accepts", "description"):
        table.add_column(col)
    for name, f in calc.fields.items():
        req = "yes" if f.required else f"no (default {f.default!r})"
        table.add_row(name, req, info["inputs"][name]["accepts"], f.description)
    console.print(table)


def parse_assignments(args: list[str]) -> dict[str, str]:
    """``["weight=80kg", "sex=male"]`` -> ``{"weight": "80kg", "sex": "male"}``."""
    from wardround.errors import InputError

    out: dict[str, str] = {}
    seen: dict[str, str] = {}
    for arg in args:
        m = _ARG.match(arg)
        if not m:
            raise InputError(arg, "expected name=value", "write e.g. weight=80kg")
        name = m.group(1)
        key = re.sub(r"[\s_-]+", "_", name.strip().lower())
        if key in seen:  # a repeated input is an error: which of the two values was meant is a guess
            raise InputError(name, f"given twice ({seen[key]}={out[seen[key]]!r} and {name}={m.group(2).strip()!r})",
                             "give each input once")
        seen[key] = name
        out[name] = m.group(2).strip()
    return out


def _check_repeated_fields(calc: object, inputs: dict[str, str]) -> None:
    """Two input names that mean the same field (``weight=`` and ``body_weight=``) are an error, not last-wins."""
    from wardround.errors import InputError

    fields: dict[str, str] = {}
    for name in inputs:
        field = calc.resolve_key(name)  # type: ignore[attr-defined]
        if field is None:
            continue
        if field in fields:
            raise InputError(field, f"given twice, as {fields[field]}= and {name}=", "give each input once")
        fields[field] = name


@app.command("run")
def run_command(calculator_id: Annotated[str, typer.Argument(help="calculator id")],
                assignments: Annotated[list[str] | None, typer.Argument(
                    help="inputs as name=value[unit], e.g. weight=80kg")] = None,
                assume_normal: Annotated[bool, typer.Option("--assume-normal",
                                                            help="treat missing findings as absent/normal")] = False,
                as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False) -> None:
    """Run a calculator: `wardround calc run bmi weight=80kg height=180cm`."""
    from wardround.errors import WardroundError
    from wardround.tools.calculators import get_calculator

    try:
        calc = get_calculator(calculator_id)
        inputs = parse_assignments(assignments or [])
        _check_repeated_fields(calc, inputs)
        result = calc.run(inputs, assume_normal=assume_normal)
    except WardroundError as exc:
        _fail(str(exc))
        return
    if as_json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
        return
    typer.echo(result.text())
    for step in result.explanation:
        typer.echo(f"  - {step}")
    for w in result.warnings:
        typer.echo(f"  ! {w}")
    typer.echo(f"  Reference: {result.reference}")
