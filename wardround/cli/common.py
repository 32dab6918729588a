"""Shared CLI helpers: the console, one-line errors with exit code 2, and traceback only with --debug."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import NoReturn

import typer
from rich.console import Console

console = Console()


def fail(field: str, problem: str, fix: str | None = None) -> NoReturn:
    """Print ``error: field: problem; fix`` on one line and exit with code 2."""
    error_line(f"{field}: {problem}" + (f"; {fix}" if fix else ""))
    raise typer.Exit(2)


def error_line(message: str, prefix: str = "error") -> None:
    """Write one unwrapped error line to stderr (coloured on a terminal)."""
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
