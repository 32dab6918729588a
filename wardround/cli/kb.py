"""``wardround kb``: check the knowledge base and print its figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from wardround.cli.common import console, handle_errors

app = typer.Typer(help="Knowledge base: validate it and print its figures.", no_args_is_help=True)


@app.command("validate")
def validate_command(
    knowledge: Annotated[Path | None, typer.Option("--knowledge", help="knowledge folder (default: the shipped "
                                                   "one)")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="also fail when more than 10 % of per-finding values "
                                         "are estimates")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="show tracebacks")] = False,
) -> None:
    """Load the knowledge base, check ICD-10 codes and references, count estimates; exit 1 on any problem."""
    from wardround.knowledge import load_knowledge
    from wardround.knowledge.validate import MAX_ESTIMATE_FRACTION, validate_knowledge

    with handle_errors(debug):
        report = validate_knowledge(load_knowledge(knowledge))
    over = report.estimate_fraction > MAX_ESTIMATE_FRACTION
    if as_json:
        typer.echo(json.dumps({**report.model_dump(), "estimate_fraction": round(report.estimate_fraction, 4)},
                              indent=2))
    else:
        console.print(f"knowledge base {report.source}", markup=False, highlight=False)
        console.print(f"  {report.specialties} specialties, {report.conditions} conditions, {report.findings} findings, "
                      f"{report.references} references", highlight=False)
        console.print(f"  per-finding values: {report.finding_values}, estimates {report.estimates} "
                      f"({report.estimate_fraction:.1%}; target <= {MAX_ESTIMATE_FRACTION:.0%})"
                      + ("  OVER TARGET" if over else ""), highlight=False)
        for p in report.problems:
            console.print(f"  problem: {p.where}: {p.problem}; {p.fix}", markup=False, highlight=False)
        console.print("  ok" if report.ok else f"  {len(report.problems)} problem(s)", highlight=False)
    if not report.ok or (strict and over):
        raise typer.Exit(1)
