"""Shared CLI helpers: the console, one-line errors with exit code 2, and traceback only with --debug."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import NoReturn

import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True)


def fail(field: str, problem: str, fix: str | None = None) -> NoReturn:
    """Print ``error: field: problem; fix`` on one line and exit with code 2."""
    err_console.print(f"[bold red]error:[/] {field}: {problem}" + (f"; {fix}" if fix else ""), highlight=False)
    raise typer.Exit(2)


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
            err_console.print(f"error: {message}", style="bold red", highlight=False, markup=False)
            raise typer.Exit(2) from None
        err_console.print(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)",
                          style="bold red", highlight=False, markup=False)
        raise typer.Exit(3) from None
