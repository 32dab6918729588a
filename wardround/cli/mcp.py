"""`wardround mcp`: serve the calculators, the ward round and the knowledge base as MCP tools."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wardround.cli.common import fail, handle_errors


def mcp_command(
    http: Annotated[bool, typer.Option("--http", help="Serve streamable HTTP on 127.0.0.1 instead of stdio.")] = False,
    port: Annotated[int, typer.Option("--port", help="Port for --http (0: a free port, printed on stderr).",
                                      min=0, max=65535)] = 8765,
    model: Annotated[str, typer.Option("--model", "-m", help="Model the run_case tool uses: 'rules' (embedded "
                                                            "reasoner) or a chat-model spec.")] = "rules",
    knowledge: Annotated[Path | None, typer.Option("--knowledge", help="Folder of an alternative knowledge base.")]
    = None,
    knowledge_extra: Annotated[list[Path] | None, typer.Option("--knowledge-extra", help="Folder that extends the "
                                                               "knowledge base (repeatable).")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Log debug output to stderr; show tracebacks.")] = False,
) -> None:
    """Serve wardround as an MCP server (stdio by default; `--http` for streamable HTTP on loopback).

    Tools: list_calculators, describe_calculator, find_calculator, calculate, one tool per calculator, run_case (the cited diagnosis of a case) and lookup_condition (a condition with its sources).
    """  # noqa: E501 - one paragraph, so that the help text wraps it
    import logging
    import sys

    import anyio

    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, stream=sys.stderr)
    if not debug:  # the SDK warns on every call of an unknown tool; the client already gets an error result
        logging.getLogger("mcp.server.lowlevel.server").setLevel(logging.ERROR)
    with handle_errors(debug):
        try:
            import mcp  # noqa: F401 - the SDK is an optional extra
        except ImportError:
            fail("mcp", "the MCP SDK is not installed", "pip install 'wardround[mcp]'")
        from wardround.mcp import Catalogue, serve_http, serve_stdio
        from wardround.mcp.server import loopback_socket

        catalogue = Catalogue(model=model, knowledge=str(knowledge) if knowledge else None,
                              knowledge_extra=[str(p) for p in knowledge_extra or []])
        if not http:
            typer.echo(f"wardround MCP server: stdio ({len(catalogue.tools)} tools); waiting for a client",
                       err=True)
            try:
                anyio.run(serve_stdio, catalogue)
            except KeyboardInterrupt:
                pass
            return
        try:
            sock = loopback_socket(port)
        except OSError as exc:
            fail("--port", f"cannot listen on 127.0.0.1:{port} ({exc.strerror or exc})",
                 "give a free port, or --port 0 for any free port")
        try:
            anyio.run(serve_http, sock, catalogue)
        except KeyboardInterrupt:
            pass
        finally:
            sock.close()
