"""Command-line interface (Typer). Sub-commands live in sibling modules and import heavy code lazily."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="wardround",
    help="Multi-agent clinical reasoning: a ward round of triage, specialists and an attending.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def main() -> None:
    """Console-script entry point."""
    app()
