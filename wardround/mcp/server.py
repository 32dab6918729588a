"""The MCP server of ``wardround mcp``: the catalogue's tools over stdio or streamable HTTP on loopback.

Built on the official ``mcp`` SDK's low-level ``Server`` because each calculator brings its own JSON input
schema (from its pydantic model); the SDK's decorator API derives schemas from Python signatures instead.
Arguments are validated by the calculators' own models (their messages name the field, the accepted units and
the range), so the SDK's generic JSON-schema check is off. A refused call is an MCP error result
(``isError: true``) with a one-line reason; the server itself keeps serving.
"""

from __future__ import annotations

import json
import logging
import socket
import sys
from typing import Any

from wardround.mcp.tools import Catalogue, ToolCallError

log = logging.getLogger(__name__)

SERVER_NAME = "wardround"
DEFAULT_PORT = 8765
HTTP_PATH = "/mcp"

#: Tools that only read: every tool of the catalogue computes from its arguments and the shipped data.
_READ_ONLY = {"readOnlyHint": True, "destructiveHint": False, "idempotentHint": True, "openWorldHint": False}


def build_server(catalogue: Catalogue | None = None) -> Any:
    """The low-level ``mcp`` server with the catalogue's tools (``tools/list`` and ``tools/call``)."""
    import anyio
    from mcp import types
    from mcp.server.lowlevel import Server

    from wardround._version import __version__

    cat = catalogue or Catalogue()
    server: Any = Server(SERVER_NAME, version=__version__,
                         instructions="Clinical calculators with units, a multi-agent ward round that returns a "
                                      "cited diagnosis, and a knowledge base of conditions with their sources.")
    listed = [types.Tool(name=t.name, title=t.title, description=t.description, inputSchema=t.input_schema,
                         annotations=types.ToolAnnotations(title=t.title, **_READ_ONLY))
              for t in cat.tools.values()]

    @server.list_tools()
    async def list_tools() -> list[types.Tool]:
        return listed

    @server.call_tool(validate_input=False)
    async def call_tool(name: str, arguments: dict[str, Any] | None) -> Any:
        try:
            if name == "run_case":  # the ward round takes milliseconds to seconds: off the event loop
                payload = await anyio.to_thread.run_sync(cat.call, name, arguments)
            else:
                payload = cat.call(name, arguments)
        except ToolCallError as exc:
            return _error(types, f"error: {exc}")
        except Exception as exc:  # a bug must not end the session: report it as this call's error
            log.exception("MCP tool %s failed", name)
            return _error(types, f"error: {name} failed: {type(exc).__name__}: {exc}")
        text = json.dumps(payload, ensure_ascii=False, default=str)
        return types.CallToolResult(content=[types.TextContent(type="text", text=text)],
                                    structuredContent=payload, isError=False)

    return server


def _error(types: Any, message: str) -> Any:
    return types.CallToolResult(content=[types.TextContent(type="text", text=" ".join(message.split()))],
                                isError=True)


async def serve_stdio(catalogue: Catalogue | None = None) -> None:
    """Serve over stdin/stdout until the client closes the pipe (logs go to stderr)."""
    from mcp.server.stdio import stdio_server

    server = build_server(catalogue)
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


def loopback_socket(port: int) -> socket.socket:
    """A listening TCP socket on 127.0.0.1 (``port`` 0: a free port), so the URL is known before serving."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


async def serve_http(sock: socket.socket, catalogue: Catalogue | None = None, *, announce: bool = True) -> None:
    """Serve streamable HTTP at ``http://127.0.0.1:<port>/mcp`` on ``sock`` (loopback only, Host header checked)."""
    import contextlib

    import uvicorn
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
    from mcp.server.transport_security import TransportSecuritySettings
    from starlette.applications import Starlette
    from starlette.routing import Route

    port = sock.getsockname()[1]
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[f"127.0.0.1:{port}", f"localhost:{port}", "127.0.0.1", "localhost"],
        allowed_origins=[f"http://127.0.0.1:{port}", f"http://localhost:{port}"])
    manager = StreamableHTTPSessionManager(app=build_server(catalogue), security_settings=security)

    class _Endpoint:
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await manager.handle_request(scope, receive, send)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> Any:
        async with manager.run():
            if announce:
                print(f"wardround MCP server: http://127.0.0.1:{port}{HTTP_PATH} (streamable HTTP)",
                      file=sys.stderr, flush=True)
            yield

    app = Starlette(routes=[Route(HTTP_PATH, endpoint=_Endpoint())], lifespan=lifespan)
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    await uvicorn.Server(config).serve(sockets=[sock])
