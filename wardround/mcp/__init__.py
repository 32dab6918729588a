"""wardround as an MCP server: calculators, the ward round and the knowledge base as Model Context Protocol tools.

``wardround mcp`` serves over stdio (``--http`` for streamable HTTP on 127.0.0.1). The tools:

- ``list_calculators``, ``describe_calculator``, ``find_calculator``, ``calculate`` and one tool per calculator
  (its id), whose input schema is the calculator's own, units included;
- ``run_case``: a case (structured, or note text) through the ward round, returning the cited diagnosis;
- ``lookup_condition``: a condition of the knowledge base with every number beside its source.

Python: ``Catalogue().call("curb_65", {...})`` runs a tool without a transport; ``build_server()`` gives the
``mcp`` server object. See docs/mcp.md.
"""

from __future__ import annotations

from wardround.mcp.server import DEFAULT_PORT, HTTP_PATH, build_server, serve_http, serve_stdio
from wardround.mcp.tools import META_TOOLS, Catalogue, ToolCallError

__all__ = ["DEFAULT_PORT", "HTTP_PATH", "META_TOOLS", "Catalogue", "ToolCallError", "build_server", "serve_http",
           "serve_stdio"]
