"""`wardround eval medqa|ddxplus|agentclinic|compare`: generic benchmark commands on the evaluation runner.

The commands are plain functions; ``wardround.cli.eval`` registers them on its Typer app (this module never
imports that one, so the two do not form an import cycle).

Every dataset command writes OUT/manifest.json, OUT/items.jsonl (one record per item, appended as it
finishes), OUT/summary.json and OUT/summary.md; rerunning into the same OUT resumes. Heavy code is imported
inside the commands so that ``wardround --help`` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

# ---------------------------------------------------------------------------------------------------------
# Options shared by the dataset commands

Data = Annotated[Path, typer.Option("--data", help="dataset file (never bundled: give your own copy)")]
Out = Annotated[Path, typer.Option("--out", help="run folder: manifest.json, items.jsonl, summary.json/.md")]
Model = Annotated[str, typer.Option("--model", help="'rules' (embedded reasoner) or a chat-model spec, "
                                                    "e.g. openai:gpt-4o-mini")]
Solver = Annotated[str, typer.Option("--solver", help="ward: the ward graph; chat: ask the model directly")]
Concurrency = Annotated[int | None, typer.Option("--concurrency", min=1, help="items in flight at once (default: 1 "
                                                 "for the offline reasoners, which are CPU-bound; 4 for chat models)")]
Limit = Annotated[int | None, typer.Option("--limit", min=1, help="only the first N items")]
Timeout = Annotated[float, typer.Option("--timeout", min=0.001, help="seconds per item attempt")]
Retries = Annotated[int, typer.Option("--retries", min=0, help="retries of a transient error per item")]
Backend = Annotated[str, typer.Option("--backend", help="local (asyncio) or ray (Ray tasks; pip install "
                                                        "'wardround[ray]')")]
RayAddress = Annotated[str | None, typer.Option("--ray-address", help="cluster address for ray.init "
                                                                       "(default: $RAY_ADDRESS or a local Ray)")]
Prices = Annotated[Path | None, typer.Option("--prices", help="price table YAML/JSON {model: {input, output}} in "
                                                              "USD per 1M tokens (merged into the default table)")]
Seed = Annotated[int, typer.Option("--seed", help="seed of the bootstrap (and of anything random)")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar, only the final table")]
RetryErrors = Annotated[bool, typer.Option("--retry-errors", help="on resume, redo items recorded with an error")]
Overwrite = Annotated[bool, typer.Option("--overwrite", help="discard an existing run in OUT")]
Debug = Annotated[bool, typer.Option("--debug", help="show tracebacks")]
LogText = Annotated[bool, typer.Option("--log-text", help="keep note/question text in items.jsonl and logs "
                                                          "(off: free text there is scrubbed of it and of PHI)")]


def check_file(path: Path | None, option: str) -> None:
    """Exit 2 with a one-line error when ``path`` is not a file."""
    if path is not None and not path.is_file():
        from wardround.cli.common import fail

        fail(option, f"file {str(path)!r} does not exist", "check the path")


def run_and_report(task: Any, out: Path, *, concurrency: int | None, timeout: float, retries: int, backend: str,
                   ray_address: str | None, prices: Path | None, seed: int, quiet: bool, retry_errors: bool,
                   overwrite: bool, log_text: bool = False) -> dict[str, Any]:
    """Run ``task`` with the runner and print the summary table; returns the summary."""
    from wardround.evals.runner import RunOptions, run_task
    from wardround.redact import scrubbed_logs, source_texts

    extra: dict[str, Any] = {}
    if prices is not None:
        from wardround.evals.tasks import sha256_file
        from wardround.llm import load_prices

        table = load_prices(prices)
        extra["prices"] = {"path": str(prices.resolve()), "sha256": sha256_file(prices),
                           "models": {k: v.model_dump() for k, v in table.items()}}
    opts = RunOptions(concurrency=concurrency, timeout=timeout, retries=retries, backend=backend,
                      ray_address=ray_address, seed=seed, retry_errors=retry_errors, overwrite=overwrite,
                      progress=False if quiet else None, log_text=log_text)
    from wardround.cli.common import exclusive_out, fail

    with exclusive_out(out), scrubbed_logs(enabled=not log_text) as logs:
        if logs is not None:
            for item in task.items:
                logs.add_source(*source_texts([item.case, item.payload]))
        try:
            summary = run_task(task, out, opts, manifest_extra=extra)
        except OSError as exc:
            fail("--out", f"cannot write {str(exc.filename or out)!r} ({exc.strerror or exc}); items finished "
                 "so far are kept in items.jsonl and resume", "give a writable folder for --out")
    print_summary(summary, out)
    return summary


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def print_summary(summary: dict[str, Any], out: Path) -> None:
    """A rich table of the headline figures, then where the files are."""
    from rich.console import Console
    from rich.table import Table

    ci = summary.get("accuracy_ci95")
    table = Table(title=f"{summary.get('task')}: {summary['n']} of {summary['n_items']} items "
                        f"({summary.get('ran_now', 0)} run now, {summary.get('elapsed_s', 0):.2f} s)")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("accuracy", _pct(summary.get("accuracy"))
                  + (f"  (95% CI {_pct(ci[0])}-{_pct(ci[1])})" if ci else ""))
    for key, value in (summary.get("dataset_metrics") or {}).items():
        if key in ("n", "accuracy", "correct", "errors"):
            continue
        table.add_row(key, f"{value:.4f}" if isinstance(value, float) else str(value))
    table.add_row("errors", str(summary.get("errors", 0)))
    table.add_row("items retried", str(summary.get("retried_items", 0)))
    lat = summary.get("latency_s")
    if lat:
        table.add_row("latency p50 / p90 / max", f"{lat['p50']:.3f} / {lat['p90']:.3f} / {lat['max']:.3f} s")
    tok = summary.get("tokens") or {}
    table.add_row("tokens in / out", f"{tok.get('input', 0)} / {tok.get('output', 0)}")
    table.add_row("cost", f"${(summary.get('cost_usd') or {}).get('total', 0):.4f}")
    Console().print(table)
    typer.echo(f"wrote {out / 'items.jsonl'}, {out / 'summary.json'}, {out / 'summary.md'}")


# ---------------------------------------------------------------------------------------------------------
# Dataset commands


def medqa_command(data: Data, out: Out, model: Model = "rules", solver: Solver = "ward",
                  concurrency: Concurrency = None,
                  limit: Limit = None, timeout: Timeout = 300.0, retries: Retries = 3, backend: Backend = "local",
                  ray_address: RayAddress = None, prices: Prices = None, seed: Seed = 0, quiet: Quiet = False,
                  retry_errors: RetryErrors = False, overwrite: Overwrite = False, debug: Debug = False,
                  log_text: LogText = False) -> None:
    """MedQA multiple choice (MedAgentsBench JSONL: question, options, answer_idx); prediction = option letter."""
    from wardround.cli.common import handle_errors

    check_file(data, "--data")
    with handle_errors(debug):
        from wardround.evals.datasets.medqa import medqa_task

        task = medqa_task(data, model=model, solver=solver, limit=limit)
        run_and_report(task, out, concurrency=concurrency, timeout=timeout, retries=retries, backend=backend,
                       ray_address=ray_address, prices=prices, seed=seed, quiet=quiet, retry_errors=retry_errors,
                       overwrite=overwrite, log_text=log_text)


def agentclinic_command(data: Data, out: Out, model: Model = "rules", solver: Solver = "ward",
                        judge: Annotated[str | None, typer.Option(
                            "--judge", help="chat-model spec of an optional LLM judge for answers the name "
                                            "match rejects (off by default)")] = None,
                        concurrency: Concurrency = None, limit: Limit = None, timeout: Timeout = 300.0,
                        retries: Retries = 3, backend: Backend = "local", ray_address: RayAddress = None,
                        prices: Prices = None, seed: Seed = 0, quiet: Quiet = False,
                        retry_errors: RetryErrors = False, overwrite: Overwrite = False, debug: Debug = False,
                        log_text: LogText = False) -> None:
    """AgentClinic OSCE JSONL: case -> free-text diagnosis, scored against Correct_Diagnosis by name/alias."""
    from wardround.cli.common import handle_errors

    check_file(data, "--data")
    with handle_errors(debug):
        from wardround.evals.datasets.agentclinic import agentclinic_task

        task = agentclinic_task(data, model=model, solver=solver, judge=judge, limit=limit)
        run_and_report(task, out, concurrency=concurrency, timeout=timeout, retries=retries, backend=backend,
                       ray_address=ray_address, prices=prices, seed=seed, quiet=quiet, retry_errors=retry_errors,
                       overwrite=overwrite, log_text=log_text)


def ddxplus_command(data: Data, out: Out,
                    kb_dir: Annotated[Path | None, typer.Option(
                        "--kb-dir", help="folder of release_conditions.json and release_evidences.json "
                                         "(default: beside --data)")] = None,
                    fit: Annotated[Path | None, typer.Option(
                        "--fit", help="patients CSV to fit the reasoner on (never the rows scored)")] = None,
                    model: Model = "rules", concurrency: Concurrency = None, limit: Limit = None,
                    timeout: Timeout = 300.0, retries: Retries = 3, backend: Backend = "local",
                    ray_address: RayAddress = None, prices: Prices = None, seed: Seed = 0, quiet: Quiet = False,
                    retry_errors: RetryErrors = False, overwrite: Overwrite = False, debug: Debug = False,
                    log_text: LogText = False,
                    interactive: Annotated[bool, typer.Option(
                        "--interactive", help="sequential setting: the initial evidence first, then one question "
                                              "per turn (rules EIG doctor, cross-fitted)")] = False,
                    max_turns: Annotated[int, typer.Option(
                        "--max-turns", min=0, help="--interactive: questions allowed after the initial "
                                                   "evidence")] = 30,
                    folds: Annotated[int, typer.Option(
                        "--folds", min=2, help="--interactive: cross-fitting folds (reasoner fitted and stopping "
                                               "rule tuned on the other folds)")] = 2,
                    test_prices: Annotated[Path | None, typer.Option(
                        "--test-prices", help="--interactive: CSV test price table (test_name, cpt_code, price; "
                                              "approximate)")] = None,
                    visit_fee: Annotated[float, typer.Option(
                        "--visit-fee", min=0, help="--interactive: US$ per question round")] = 300.0) -> None:
    """DDXPlus patients CSV with the embedded DDXPlus reasoner: top-1/3/5 and differential precision/recall/F1."""
    from wardround.cli.common import fail, handle_errors

    check_file(data, "--data")
    check_file(fit, "--fit")
    check_file(test_prices, "--test-prices")
    if model != "rules":
        fail("--model", f"{model!r}: DDXPlus runs on the embedded DDXPlus reasoner only", "use --model rules")
    if interactive:
        with handle_errors(debug):
            ddxplus_interactive(data, out, kb_dir=kb_dir, fit=fit, limit=limit, max_turns=max_turns, folds=folds,
                                seed=seed, test_prices=test_prices, visit_fee=visit_fee, quiet=quiet,
                                overwrite=overwrite)
        return
    with handle_errors(debug):
        from wardround.evals.datasets.ddxplus import ddxplus_task

        task = ddxplus_task(data, kb_dir=kb_dir, fit=fit, limit=limit)
        run_and_report(task, out, concurrency=concurrency, timeout=timeout, retries=retries, backend=backend,
                       ray_address=ray_address, prices=prices, seed=seed, quiet=quiet, retry_errors=retry_errors,
                       overwrite=overwrite, log_text=log_text)


INTERACTIVE_METRICS = ("IL", "GTPA@1", "GTPA@3", "GTPA@5", "GTPA", "DDR", "DDP", "DDF1", "DDR@5", "DDP@5", "DDF1@5",
                       "ddx_f1_fullset", "cost_usd")


def ddxplus_interactive(data: Path, out: Path, *, kb_dir: Path | None, fit: Path | None, limit: int | None,
                        max_turns: int, folds: int, seed: int, test_prices: Path | None, visit_fee: float,
                        quiet: bool, overwrite: bool) -> None:
    """`--interactive`: cross-fitted encounters, DDXPlus-paper metrics, per-turn records, the accuracy-IL curve.

    Writes OUT/items.jsonl (one encounter per line and objective, every turn with its cumulative cost),
    OUT/summary.json, OUT/summary.md and OUT/accuracy_vs_il.png. A rerun into the same OUT needs --overwrite.
    """
    from rich.console import Console
    from rich.table import Table

    from wardround.cli.common import exclusive_out, fail
    from wardround.encounters import PriceTable, load_price_table
    from wardround.encounters.ddxplus_eval import interactive_eval, plot_curve
    from wardround.evals.ddxplus import DDXPlusRelease, load_ddxplus

    summary_path = out / "summary.json"
    if summary_path.exists() and not overwrite:
        fail("--out", f"{str(out)!r} already holds an interactive run", "use --overwrite or another --out")
    release = DDXPlusRelease.from_dir(kb_dir if kb_dir is not None else data.parent)
    items = load_ddxplus(data, release=release, limit=limit)
    train = load_ddxplus(fit, release=release) if fit is not None else None
    prices = (load_price_table(test_prices, visit_fee_usd=visit_fee) if test_prices is not None
              else PriceTable(visit_fee_usd=visit_fee))
    out.mkdir(parents=True, exist_ok=True)
    with exclusive_out(out):
        records = (out / "items.jsonl").open("w", encoding="utf-8")
        count = {"n": 0}

        def on_result(objective: str, item: Any, result: Any) -> None:
            rec = {"id": item.id, "objective": objective, "gold": item.pathology,
                   "predicted": result.ranked[0][0] if result.ranked else None, "questions": result.questions,
                   "cost_usd": result.cost_usd, "stop_reason": result.stop_reason, "verified": result.verified,
                   "differential": result.differential,
                   "turns": [{"turn": t.turn, "ask": t.action.target, "answer": t.answer.codes or t.answer.status,
                              "evidence": t.evidence_id, "cumulative_cost_usd": t.cumulative_cost_usd}
                             for t in result.turns]}
            records.write(json.dumps(rec, default=str) + "\n")
            count["n"] += 1
            if not quiet and count["n"] % 100 == 0:
                typer.echo(f"  {count['n']} encounters ...", err=True)

        try:
            reports = interactive_eval(items, release, max_turns=max_turns, folds=folds, seed=seed, prices=prices,
                                       on_result=on_result, fit=train)
        finally:
            records.close()
        png = plot_curve(reports["pathology"], out / "accuracy_vs_il.png")
        summary = {"task": "ddxplus-interactive", "data": str(data), "n": len(items), "max_turns": max_turns,
                   "folds": folds, "seed": seed, "doctor": "rules-eig", "prices": prices.source or "none (visit fee only)",
                   "prices_note": prices.note, "visit_fee_usd": prices.visit_fee_usd,
                   "reports": {k: r.model_dump(mode="json") for k, r in reports.items()}, "curve_png": str(png)}
        summary_path.write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
        table = Table(title=f"DDXPlus interactive: {len(items)} patients, {max_turns}-turn budget, {folds}-fold "
                            "cross-fitted (out-of-fold)")
        table.add_column("metric")
        for objective in reports:
            table.add_column(f"stop for {objective}", justify="right")
        for key in INTERACTIVE_METRICS:
            vals = [reports[o].metrics.get(key) for o in reports]
            table.add_row(key, *("-" if v is None else f"{v:.4f}" if key != "cost_usd" else f"${v:,.0f}"
                                 for v in vals))
        table.add_row("threshold per fold", *(", ".join(f"{t:g}" if t <= 1 else "never"
                                                         for t in reports[o].thresholds) for o in reports))
        md = ["| metric | " + " | ".join(f"stop for {o}" for o in reports) + " |",
              "|---|" + "---|" * len(reports)]
        for key in INTERACTIVE_METRICS:
            md.append(f"| {key} | " + " | ".join(str(reports[o].metrics.get(key)) for o in reports) + " |")
        (out / "summary.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    Console().print(table)
    typer.echo(f"wrote {out / 'items.jsonl'}, {summary_path}, {out / 'summary.md'}, {png}")


def compare_command(
    run_a: Annotated[Path, typer.Argument(help="run folder A (written by wardround eval --out)")],
    run_b: Annotated[Path, typer.Argument(help="run folder B")],
    as_json: Annotated[bool, typer.Option("--json", help="print the comparison as JSON")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="also write the comparison JSON to this file")] = None,
    seed: Seed = 0,
    debug: Debug = False,
) -> None:
    """Paired comparison of two runs on shared ids: McNemar exact test and bootstrap accuracy difference."""
    from wardround.cli.common import handle_errors

    with handle_errors(debug):
        from wardround.cli.common import fail
        from wardround.evals.compare import compare_runs, comparison_text

        result = compare_runs(run_a, run_b, seed=seed)
        typer.echo(json.dumps(result, indent=2, default=str) if as_json else comparison_text(result))
        if out is not None:  # after printing: an unwritable --out never loses the comparison
            try:
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
            except OSError as exc:
                fail("--out", f"cannot write {str(out)!r} ({exc.strerror or exc}); the comparison above was "
                     "printed but not saved", "give a writable file path for --out")
