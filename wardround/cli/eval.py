"""`wardround eval`: benchmark evaluations (MedCalc-Bench oracle mode)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Benchmark evaluations.", no_args_is_help=True)


@app.command("medcalc")
def medcalc_command(
    data: Annotated[Path, typer.Option("--data", help="MedCalc-Bench CSV (e.g. dev.csv)")],
    out: Annotated[Path, typer.Option("--out", help="output folder for items.jsonl and summary.json")],
    mode: Annotated[str, typer.Option("--mode", help="oracle: feed the gold Relevant Entities to the "
                                                     "calculators; note: choose the calculator from the question "
                                                     "and auto-fill it from the patient note")] = "oracle",
    corrected: Annotated[Path | None, typer.Option(
        "--corrected", help="corrected-labels CSV (Unique ID = Row Number); default: dev_corrected_labels.csv "
                            "beside --data if present")] = None,
    assume_normal: Annotated[bool, typer.Option(
        "--assume-normal/--no-assume-normal",
        help="MedCalc-Bench's convention: unmentioned findings are absent/normal")] = True,
) -> None:
    """Score our calculators on MedCalc-Bench; writes OUT/items.jsonl and OUT/summary.json."""
    from wardround.errors import WardroundError

    if mode not in ("oracle", "note"):
        typer.echo(f"error: --mode: {mode!r} is not available in this command; use --mode oracle or note", err=True)
        raise typer.Exit(2)
    if not data.is_file():
        typer.echo(f"error: --data: file {str(data)!r} does not exist", err=True)
        raise typer.Exit(2)
    if corrected is None:
        sibling = data.parent / "dev_corrected_labels.csv"
        corrected = sibling if sibling.is_file() else None
    elif not corrected.is_file():
        typer.echo(f"error: --corrected: file {str(corrected)!r} does not exist", err=True)
        raise typer.Exit(2)

    from rich.console import Console
    from rich.table import Table

    from wardround.evals.medcalc import evaluate_oracle

    try:
        if mode == "note":  # note mode: wardround.evals.medcalc_note (question -> calculator, note -> inputs)
            from wardround.evals.medcalc_note import evaluate_note

            summary = evaluate_note(data, out, corrected, policy="assume_normal" if assume_normal else "strict")
        else:
            summary = evaluate_oracle(data, out, corrected, assume_normal=assume_normal)
    except WardroundError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None

    def pct(x: float | None) -> str:
        return "-" if x is None else f"{100 * x:.1f}%"

    table = Table(title=f"MedCalc-Bench {summary.get('mode', mode)}: {summary['n']} items in {summary['elapsed_s']:.2f} s")
    for col in ("category", "n", "accuracy", "n corrected", "accuracy corrected", "errors"):
        table.add_column(col, justify="right" if col != "category" else "left")
    for cat, b in summary["per_category"].items():
        table.add_row(cat, str(b["n"]), pct(b["accuracy"]), str(b["n_corrected"]), pct(b["accuracy_corrected"]),
                      str(b["errors"]))
    table.add_row("[bold]all[/bold]", str(summary["n"]), pct(summary["accuracy"]), str(summary["n_corrected"]),
                  pct(summary["accuracy_corrected"]), str(summary["errors"]))
    Console().print(table)
    typer.echo(f"wrote {out / 'items.jsonl'} and {out / 'summary.json'}")
