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



def _version(value: bool) -> None:
    if value:
        from wardround._version import __version__

        typer.echo(f"wardround {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Multi-agent clinical reasoning: a ward round of triage, specialists and an attending."""


def main() -> None:
    """Console-script entry point."""
    app()


# Sub-commands register after ``app`` exists; each module imports its heavy code lazily.
from wardround.cli import calc as _calc  # noqa: E402
from wardround.cli import encounter as _encounter  # noqa: E402
from wardround.cli import eval as _eval  # noqa: E402
from wardround.cli import kb as _kb  # noqa: E402
from wardround.cli import mcp as _mcp  # noqa: E402
from wardround.cli import run as _run  # noqa: E402
from wardround.cli import segment as _segment  # noqa: E402

app.command("run")(_run.run_command)
app.command("review")(_run.review_command)
app.command("graph")(_run.graph_command)
app.add_typer(_calc.app, name="calc")
app.add_typer(_eval.app, name="eval")
app.add_typer(_kb.app, name="kb")
app.add_typer(_segment.app, name="segment")
app.command("mcp")(_mcp.mcp_command)
app.command("encounter")(_encounter.encounter_command)
