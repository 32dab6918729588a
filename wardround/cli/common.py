"""Shared CLI helpers: the console, one-line errors with exit code 2, and traceback only with --debug."""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console

console = Console()

CONTROL_CHARS = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""ANSI escape sequences and control characters (tab and newline kept)."""


def fail(field: str, problem: str, fix: str | None = None) -> NoReturn:
    """Print ``error: field: problem; fix`` on one line and exit with code 2."""
    error_line(f"{field}: {problem}" + (f"; {fix}" if fix else ""))
    raise typer.Exit(2)


def error_line(message: str, prefix: str = "error") -> None:
    """Write one unwrapped error line to stderr (coloured on a terminal)."""
    message = CONTROL_CHARS.sub("", message)  # an id or path with ANSI escapes must not restyle the terminal
    typer.secho(f"{prefix}: {' '.join(message.split())}", err=True, fg="red", bold=True)


@contextlib.contextmanager
def handle_errors(debug: bool = False) -> Iterator[None]:
    """Turn expected errors into one-line messages (exit 2); with ``debug`` re-raise with the traceback."""
    if debug:
        logging.basicConfig(level=logging.DEBUG)
    try:
        yield
    except typer.Exit:
        raise
    except Exception as exc:
        from pydantic import ValidationError

        from wardround.errors import WardroundError

        if debug:
            raise
        if isinstance(exc, WardroundError | ValidationError | FileNotFoundError | PermissionError):
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            error_line(message)
            raise typer.Exit(2) from None
        error_line(f"{type(exc).__name__}: {exc} (run with --debug for the traceback)", prefix="internal error")
        raise typer.Exit(3) from None


def lock_path(out: Path) -> Path:
    """The lock file of a run folder: ``.<name>.lock`` beside it (outside it, so --overwrite never removes it)."""
    return out.parent / f".{out.name or 'out'}.lock"


@contextlib.contextmanager
def exclusive_out(out: Path, option: str = "--out") -> Iterator[None]:
    """Hold an exclusive lock on the run folder ``out`` for the whole run; exit 2 if another run holds it.

    Two evaluations writing one folder would interleave their items.jsonl lines and overwrite each other's
    summary. The lock is ``fcntl.flock`` on a lock file beside the folder (released when the process ends,
    even if it is killed). A folder that cannot be created is reported here, before any work is done.
    """
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.exists() and not out.is_dir():
            fail(option, f"{str(out)!r} is a file, not a run folder", "give a folder path for --out")
        fd = os.open(lock_path(out), os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        fail(option, f"cannot write the run folder {str(out)!r} ({exc.strerror or exc})",
             "give a writable folder for --out")
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory lock
        fcntl = None  # type: ignore[assignment]
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fail(option, f"{str(out)!r} is being written by another evaluation (lock {str(lock_path(out))!r} "
                     "is held)", "wait for that run to finish, or give another --out folder")
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        if fcntl is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
