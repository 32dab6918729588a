"""The evaluation runner: resumable, per-item logged, costed runs of a ``Task`` into a run folder.

A run folder holds:

- ``manifest.json``: dataset files with sha256, task config and fingerprint, package version, git commit,
  model specs, seed, backend, status;
- ``items.jsonl``: one ``ItemRecord`` a line, appended as each item finishes;
- ``summary.json`` / ``summary.md``: accuracy with a 95 % bootstrap CI, per category, latency percentiles,
  tokens, cost, wall time per graph node, and the dataset's own figures.

Rerunning into the same folder resumes: finished ids are skipped, a cut last line is dropped, and a folder
that holds a different evaluation (other data, model or config) is refused rather than mixed.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from wardround.errors import InputError
from wardround.evals.backends import Outcome, RetryPolicy, make_backend
from wardround.evals.metrics import summarize_records, summary_markdown
from wardround.evals.records import ItemRecord, RecordLog, read_records
from wardround.evals.solvers import redact
from wardround.evals.tasks import EvalItem, Task, sha256_file

log = logging.getLogger(__name__)


class RunOptions(BaseModel):
    """How to run a task (none of these change what an item's answer should be)."""

    concurrency: int | None = Field(None, ge=1, le=1024, description="items in flight; None: default_concurrency")
    timeout: float | None = Field(300.0, gt=0, description="seconds per item attempt")
    retries: int = Field(3, ge=0, le=50, description="retries of a transient error per item")
    backoff: float = Field(0.5, ge=0, description="first retry wait, doubles per retry (with jitter)")
    backend: str = Field("local", description="local | ray")
    ray_address: str | None = None
    retry_errors: bool = Field(False, description="on resume, redo items recorded with an error")
    overwrite: bool = Field(False, description="discard an existing run in the folder")
    progress: bool | None = Field(None, description="progress bar; None: on when stderr is a terminal")
    seed: int = 0
    fsync: bool = Field(False, description="fsync after every record (survives power loss, not only a kill)")
    bootstrap_resamples: int = Field(2000, ge=100)
    log_text: bool = Field(False, description="keep free text that may quote the input (model answers, reasons, "
                                              "issues, errors) verbatim in items.jsonl; off: it is scrubbed")


def default_concurrency(task: Task, backend: str = "local") -> int:
    """Items in flight when none is given: 4 for solvers that wait on a model; for CPU-bound solvers
    (``Task.cpu_bound``) 1 in-process (more threads only slow them: DDXPlus ran 1.17x slower at 4 than at 1) and
    one per CPU on Ray, whose workers are processes."""
    if not task.cpu_bound:
        return 4
    return max(1, os.cpu_count() or 1) if backend == "ray" else 1


def package_version() -> str:
    """The installed wardround version."""
    from wardround._version import __version__

    return __version__


def git_commit() -> dict[str, Any] | None:
    """The commit of the source tree wardround runs from (and whether it has uncommitted changes), if any."""
    root = Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=5)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": head.stdout.strip(), "dirty": bool(dirty.stdout.strip())}


def _manifest(task: Task, options: RunOptions, status: str, started: float,
              extra: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "task": task.name,
        "fingerprint": task.fingerprint(),
        "status": status,
        "data": [{"path": str(Path(p).resolve()), "sha256": sha256_file(p), "bytes": Path(p).stat().st_size}
                 for p in task.data_files],
        "licence": task.licence,
        "config": task.config,
        "models": task.models,
        "n_items": len(task.items),
        "seed": options.seed,
        "run": {**options.model_dump(exclude={"overwrite", "retry_errors", "progress"}),
                "concurrency": options.concurrency or default_concurrency(task, options.backend)},
        "wardround_version": package_version(),
        "git": git_commit(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "argv": [redact(a) for a in sys.argv],
        "started_at": started,
        "updated_at": time.time(),
        **(extra or {}),
    }


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    os.replace(tmp, path)


def scrub_record(record: ItemRecord, item: EvalItem) -> ItemRecord:
    """The record with free text that may quote the item's input (note, question) scrubbed of it and of PHI.

    ``extra`` keys of free text (``wardround.redact.FREE_TEXT_KEYS``: model responses, abstention reasons,
    issues) and ``error`` lose every run of four or more words copied from the item and any name, date, record
    number, phone, e-mail or address pattern; answers, gold labels and structured fields are kept.
    """
    from wardround.redact import EchoScrubber, scrub_free_text, source_texts

    scrubber = EchoScrubber(source_texts([item.case, item.payload]))
    extra = scrub_free_text(record.extra, scrubber)
    error = scrubber.scrub(record.error) if record.error else record.error
    if extra == record.extra and error == record.error:
        return record
    return record.model_copy(update={"extra": extra, "error": error})


def build_record(item: EvalItem, outcome: Outcome) -> ItemRecord:
    """The JSONL record of one finished item."""
    pred, score = outcome.prediction, outcome.score
    if pred is None or score is None:
        return ItemRecord(id=item.id, category=item.category, gold=item.gold, correct=None,
                          latency_s=round(outcome.latency_s, 6), attempts=outcome.attempts, error=outcome.error,
                          finished_at=time.time())
    u = pred.usage
    return ItemRecord(id=item.id, category=item.category, prediction=pred.prediction, gold=item.gold,
                      correct=score.correct, latency_s=round(outcome.latency_s, 6), input_tokens=u.input_tokens,
                      output_tokens=u.output_tokens, cost_usd=round(u.cost_usd, 8),
                      seconds={k: round(v, 6) for k, v in u.seconds.items()}, cited=pred.cited,
                      attempts=outcome.attempts, error=None, extra={**pred.extra, **score.extra},
                      finished_at=time.time())


class _Progress:
    """A rich progress bar on stderr (no-op when disabled)."""

    def __init__(self, enabled: bool, total: int, done: int, title: str) -> None:
        self.bar: Any = None
        self.correct = 0
        self.errors = 0
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[stats]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                            console=Console(stderr=True), transient=False)
        self.task_id = self.bar.add_task(title, total=total, completed=done, stats="")
        self.bar.start()

    def advance(self, record: ItemRecord) -> None:
        if self.bar is None:
            return
        self.correct += bool(record.correct)
        self.errors += record.error is not None
        self.bar.update(self.task_id, advance=1, stats=f"correct {self.correct} errors {self.errors}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def run_task(task: Task, out_dir: str | Path, options: RunOptions | None = None, *,
             manifest_extra: dict[str, Any] | None = None,
             on_record: Callable[[ItemRecord], None] | None = None) -> dict[str, Any]:
    """Run (or resume) ``task`` into ``out_dir``; returns the summary (also written as JSON and Markdown).

    Args:
        task: dataset items, solver, scorer (see ``wardround.evals.tasks``).
        out_dir: run folder; rerunning into it skips finished items.
        options: concurrency, timeout, retries, backend, ... (``RunOptions``).
        manifest_extra: more keys for ``manifest.json`` (e.g. the price table used).
        on_record: called with each new record after it is written.
    """
    opts = options or RunOptions()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ids = [it.id for it in task.items]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise InputError("data", f"item id {dup!r} occurs more than once", "give every row a unique id")
    manifest_path, items_path = out / "manifest.json", out / "items.jsonl"
    started = time.time()
    if opts.overwrite:
        for name in ("items.jsonl", "summary.json", "summary.md", "manifest.json"):
            (out / name).unlink(missing_ok=True)
    elif manifest_path.is_file():
        old = json.loads(manifest_path.read_text(encoding="utf-8"))
        if old.get("fingerprint") != task.fingerprint():
            raise InputError("out", f"{str(out)!r} holds a run of a different evaluation (task {old.get('task')!r}, "
                             f"config {old.get('config')})", "use a new --out folder, or --overwrite to discard it")
        started = old.get("started_at", started)
    elif items_path.is_file() and items_path.stat().st_size > 0:
        raise InputError("out", f"{str(items_path)!r} exists without a manifest.json",
                         "use a new --out folder, or --overwrite to discard it")

    writer = RecordLog(items_path, fsync=opts.fsync)
    keep: list[str] | None = None
    if opts.retry_errors and items_path.is_file():
        keep = [r.id for r in read_records(items_path).records if r.error is None]
    done = writer.open(keep=keep)
    pending = [it for it in task.items if it.id not in done]
    _write_json(manifest_path, _manifest(task, opts, "running", started, manifest_extra))
    log.info("%s: %d items, %d already recorded, %d to run", task.name, len(task.items), len(task.items) - len(pending),
             len(pending))

    show = opts.progress if opts.progress is not None else sys.stderr.isatty()
    progress = _Progress(bool(show) and bool(pending), len(task.items), len(task.items) - len(pending), task.name)
    t0 = time.perf_counter()

    def on_done(item: EvalItem, outcome: Outcome) -> None:
        record = build_record(item, outcome)
        if not opts.log_text:
            record = scrub_record(record, item)
        writer.append(record)
        progress.advance(record)
        if on_record is not None:
            on_record(record)

    try:
        if pending:
            policy = RetryPolicy(retries=opts.retries, timeout=opts.timeout, backoff=opts.backoff)
            backend = make_backend(opts.backend, opts.concurrency or default_concurrency(task, opts.backend),
                                   **({"address": opts.ray_address} if opts.backend == "ray" else {}))
            backend.run(pending, task.solver, task.scorer, policy, on_done)
    finally:
        progress.close()
        writer.close()
    elapsed = time.perf_counter() - t0
    summary = summarize(task, list(writer.done.values()), opts)
    summary["elapsed_s"] = round(elapsed, 3)
    summary["ran_now"] = len(pending)
    _write_json(out / "summary.json", summary)
    (out / "summary.md").write_text(summary_markdown(summary, f"{task.name} evaluation"), encoding="utf-8")
    status = "complete" if summary["complete"] else "partial"
    _write_json(manifest_path, _manifest(task, opts, status, started, manifest_extra))
    return summary


def summarize(task: Task, records: list[ItemRecord], options: RunOptions | None = None) -> dict[str, Any]:
    """The summary of the records of ``task``'s current items (in dataset order), with the dataset's figures."""
    opts = options or RunOptions()
    by_id = {r.id: r for r in records}
    items = [it for it in task.items if it.id in by_id]
    ordered = [by_id[it.id] for it in items]
    summary: dict[str, Any] = {"task": task.name, "n_items": len(task.items),
                               "complete": len(ordered) == len(task.items)}
    summary.update(summarize_records(ordered, seed=opts.seed, resamples=opts.bootstrap_resamples))
    summary["harness_errors"] = summary["errors"]  # items whose solver failed for good (kept if a dataset redefines errors)
    if task.aggregate is not None and ordered:
        dataset = task.aggregate(items, ordered)
        summary["dataset_metrics"] = {k: v for k, v in dataset.items() if not isinstance(v, dict | list)}
        summary.update(dataset)  # the dataset's own keys win (e.g. MedCalc's per_category blocks)
    summary["config"] = task.config
    return summary
