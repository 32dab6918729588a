"""`wardround eval`: benchmark evaluations (MedCalc-Bench here; the generic dataset commands in eval_harness)."""

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
    model: Annotated[str, typer.Option("--model", help="'rules': the rules extractor fills the calculator; a "
                                                       "chat-model spec (note mode, e.g. openai:gpt-4o-mini): the "
                                                       "model chooses and fills, wardround verifies every quoted "
                                                       "span and unit and computes")] = "rules",
    model_mode: Annotated[str, typer.Option(
        "--model-mode", help="with a chat model: full (the model fills every input, disagreements with the rules "
                             "are reported) or hybrid (the rules fill, the model completes only what they left "
                             "missing, one call per item)")] = "full",
    prices: Annotated[Path | None, typer.Option(
        "--prices", help="price table YAML/JSON {model: {input, output}} in USD per 1M tokens")] = None,
    concurrency: Annotated[int | None, typer.Option(
        "--concurrency", min=1, help="items in flight at once (default: 1 for the calculators, which are CPU-bound; 4 with a chat model)")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="only the first N rows")] = None,
    timeout: Annotated[float, typer.Option("--timeout", min=0.001, help="seconds per item attempt")] = 300.0,
    retries: Annotated[int, typer.Option("--retries", min=0, help="retries of a transient error per item")] = 3,
    backend: Annotated[str, typer.Option("--backend", help="local or ray")] = "local",
    ray_address: Annotated[str | None, typer.Option("--ray-address", help="cluster address for ray.init")] = None,
    seed: Annotated[int, typer.Option("--seed", help="seed of the bootstrap")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
    retry_errors: Annotated[bool, typer.Option("--retry-errors", help="on resume, redo items with an error")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="discard an existing run in OUT")] = False,
    log_text: Annotated[bool, typer.Option("--log-text", help="keep note text in items.jsonl and logs (off: free "
                                                              "text there is scrubbed of it and of PHI)")] = False,
) -> None:
    """Score our calculators on MedCalc-Bench; writes OUT/items.jsonl, OUT/summary.json (resumable run folder)."""
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

    rules = model.strip().lower() in ("rules", "calculators")
    if not rules and mode != "note":
        typer.echo(f"error: --model: {model!r}: oracle mode feeds the gold entities to the calculators, no model "
                   "reads anything; use --mode note with a chat model, or --model rules", err=True)
        raise typer.Exit(2)
    if model_mode not in ("full", "hybrid"):
        typer.echo(f"error: --model-mode: {model_mode!r} is not a model mode; use full or hybrid", err=True)
        raise typer.Exit(2)
    if rules and model_mode == "hybrid":
        typer.echo("error: --model-mode: hybrid completes the rules with a chat model; give --model "
                   "provider:name (e.g. openai:gpt-4o-mini)", err=True)
        raise typer.Exit(2)
    if prices is not None and not prices.is_file():
        typer.echo(f"error: --prices: file {str(prices)!r} does not exist", err=True)
        raise typer.Exit(2)

    # Both modes run through the evaluation runner (resume, manifest, bootstrap CI); the per-row work and the
    # summary figures are those of wardround.evals.medcalc (oracle) and wardround.evals.medcalc_note (note).
    from wardround.cli.common import exclusive_out
    from wardround.evals.datasets.medcalc import medcalc_task
    from wardround.evals.runner import RunOptions, run_task
    from wardround.redact import scrubbed_logs, source_texts

    check_columns(data, MEDCALC_COLUMNS[mode], "--data")
    if corrected is not None:
        check_columns(corrected, CORRECTED_COLUMNS, "--corrected")
    try:
        extra: dict = {}
        if prices is not None:
            from wardround.evals.tasks import sha256_file
            from wardround.llm import load_prices

            table = load_prices(prices)
            extra["prices"] = {"path": str(prices.resolve()), "sha256": sha256_file(prices),
                               "models": {k: v.model_dump() for k, v in table.items()}}
        task = medcalc_task(data, mode=mode, corrected=corrected, assume_normal=assume_normal, limit=limit,
                            model="rules" if rules else model, model_mode=model_mode)
        if not rules:  # a missing key or an unknown provider fails here, on one line, before any item runs
            from wardround.llm import get_client

            get_client(model)
        with exclusive_out(out), scrubbed_logs(enabled=not log_text) as logs:
            if logs is not None:
                for item in task.items:
                    logs.add_source(*source_texts([item.case, item.payload]))
            summary = run_task(task, out, RunOptions(concurrency=concurrency, timeout=timeout, retries=retries,
                                                     backend=backend, ray_address=ray_address, seed=seed,
                                                     retry_errors=retry_errors, overwrite=overwrite,
                                                     progress=False if quiet else None, log_text=log_text),
                               manifest_extra=extra)
    except WardroundError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except KeyError as exc:  # a column check_columns does not know about
        typer.echo(f"error: --data: {str(data)!r} has no column {exc.args[0]!r}; give a MedCalc-Bench CSV with "
                   "its header row", err=True)
        raise typer.Exit(2) from None
    except OSError as exc:
        typer.echo(f"error: --out: cannot write {str(exc.filename or out)!r} ({exc.strerror or exc}); give a "
                   "writable folder for --out", err=True)
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
    ci = summary.get("accuracy_ci95")
    if ci:
        typer.echo(f"accuracy 95% bootstrap CI: {pct(ci[0])} to {pct(ci[1])}")
    if summary.get("convention"):
        typer.echo(f"convention: {summary['convention']} ({summary.get('items_with_assumed_inputs', 0)} items, "
                   f"{summary.get('assumed_inputs', 0)} inputs filled by it)")
    if summary.get("model"):
        tok = summary.get("tokens") or {}
        typer.echo(f"model {summary['model']} ({summary.get('model_mode')}): {summary.get('model_calls', 0)} calls, "
                   f"tokens in/out {tok.get('input', 0)}/{tok.get('output', 0)}, "
                   f"cost ${(summary.get('cost_usd') or {}).get('total', 0):.4f}")
        reasons = ", ".join(f"{k} {v}" for k, v in (summary.get("rejected_by_reason") or {}).items())
        typer.echo(f"model inputs: {summary.get('model_inputs_accepted', 0)} verified, "
                   f"{summary.get('model_inputs_rejected', 0)} rejected and not computed on"
                   + (f" ({reasons})" if reasons else "")
                   + f"; {summary.get('disagreements', 0)} disagreements with the rules extractor in "
                   f"{summary.get('items_with_disagreements', 0)} items")
    typer.echo(f"wrote {out / 'items.jsonl'} and {out / 'summary.json'}")



_COMMON = ("Row Number", "Calculator Name", "Category", "Ground Truth Answer", "Lower Limit", "Upper Limit")
MEDCALC_COLUMNS = {"oracle": _COMMON + ("Output Type", "Relevant Entities"),
                   "note": _COMMON + ("Patient Note", "Question")}
CORRECTED_COLUMNS = ("Unique ID", "Ground Truth Answer", "Lower Limit", "Upper Limit")


def check_columns(path: Path, needed: tuple[str, ...], option: str) -> None:
    """Exit 2 naming the first column of ``needed`` missing from the CSV header of ``path``."""
    import csv

    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            header = next(csv.reader(fh), [])
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        typer.echo(f"error: {option}: cannot read {str(path)!r} as a CSV ({exc})", err=True)
        raise typer.Exit(2) from None
    have = {h.strip() for h in header}
    missing = [c for c in needed if c not in have]
    if missing:
        typer.echo(f"error: {option}: {str(path)!r} has no column {missing[0]!r}"
                   + (f" (nor {', '.join(repr(m) for m in missing[1:])})" if missing[1:] else "")
                   + "; give a MedCalc-Bench CSV with its header row", err=True)
        raise typer.Exit(2)


# The generic dataset commands are plain functions in eval_harness, registered here (one import direction).
from wardround.cli import eval_harness as _harness  # noqa: E402

app.command("medqa")(_harness.medqa_command)
app.command("agentclinic")(_harness.agentclinic_command)
app.command("ddxplus")(_harness.ddxplus_command)
app.command("compare")(_harness.compare_command)
