"""Checkpointers that know wardround's state types, so a thread resumes in a new process without warnings.

In memory, in a SQLite file, or in PostgreSQL (``langgraph-checkpoint-postgres``, the ``[postgres]`` extra).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from wardround.errors import ConfigError

_STATE_MODULES = ("wardround.case", "wardround.evidence", "wardround.report")


def state_types() -> list[tuple[str, str]]:
    """(module, class) of every pydantic model that may sit in ``WardState``."""
    import importlib

    out = []
    for name in _STATE_MODULES:
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if isinstance(value, type) and issubclass(value, BaseModel) and value.__module__ == name:
                out.append((name, attr))
    return out


def serializer() -> Any:
    """A LangGraph ``JsonPlusSerializer`` that allows exactly wardround's state models."""
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    return JsonPlusSerializer(allowed_msgpack_modules=state_types())


def memory_checkpointer() -> Any:
    """An ``InMemorySaver`` for wardround state."""
    from langgraph.checkpoint.memory import InMemorySaver

    return InMemorySaver(serde=serializer())


@contextlib.contextmanager
def sqlite_checkpointer(path: str | Path) -> Iterator[Any]:
    """A ``SqliteSaver`` on ``path`` (created if missing) for wardround state; closes the connection after use."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(p), check_same_thread=False)
    try:
        yield SqliteSaver(conn, serde=serializer())
    finally:
        conn.close()


POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(db: str | Path | None) -> bool:
    """Whether ``db`` names a PostgreSQL database (a ``postgresql://`` or ``postgres://`` URL), not a SQLite file."""
    return isinstance(db, str) and db.strip().lower().startswith(POSTGRES_SCHEMES)


def redact_url(url: str) -> str:
    """``url`` with its password (in the user part or a ``password=`` parameter) replaced by ``***``.

    Connection URLs end up in error messages, logs and printed resume commands; the password must not.
    """
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("://", 1)[0] + "://***"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        if ":" in userinfo:
            netloc = f"{userinfo.split(':', 1)[0]}:***@{host}"
    query = parts.query
    if "password" in query.lower():
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "***" if k.lower() == "password" else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _connect_postgres(url: str, connect_timeout: int) -> Any:
    """A psycopg connection configured as ``PostgresSaver`` needs it (autocommit, dict rows, no prepares)."""
    from psycopg import Connection
    from psycopg.conninfo import conninfo_to_dict
    from psycopg.rows import dict_row

    options: dict[str, Any] = {}
    if "connect_timeout" not in conninfo_to_dict(url):  # an unreachable host fails in seconds, not minutes
        options["connect_timeout"] = connect_timeout
    return Connection.connect(url, autocommit=True, prepare_threshold=0, row_factory=dict_row, **options)


@contextlib.contextmanager
def postgres_checkpointer(url: str, *, setup: bool = True, connect_timeout: int = 10) -> Iterator[Any]:
    """A ``PostgresSaver`` on the database at ``url`` for wardround state; closes the connection after use.

    Args:
        url: a libpq URL, e.g. ``postgresql://ward@db.example/wardround``; a password is best given by
            ``PGPASSWORD`` or ``~/.pgpass`` rather than in the URL.
        setup: create or migrate LangGraph's checkpoint tables first (idempotent; needs CREATE rights once).
        connect_timeout: seconds to wait for the server, unless the URL sets ``connect_timeout`` itself.
    """
    try:
        from langgraph.checkpoint.postgres import PostgresSaver
    except ImportError as exc:
        raise ConfigError(f"db: PostgreSQL checkpoints need langgraph-checkpoint-postgres and psycopg ({exc}); "
                          "install them with pip install 'wardround[postgres]'") from exc

    conn = _connect_postgres(url, connect_timeout)
    try:
        saver = PostgresSaver(conn, serde=serializer())
        if setup:
            saver.setup()
        yield saver
    finally:
        conn.close()


@contextlib.asynccontextmanager
async def async_postgres_checkpointer(url: str, *, setup: bool = True,
                                      connect_timeout: int = 10) -> AsyncIterator[Any]:
    """An ``AsyncPostgresSaver`` on ``url`` for ``graph.ainvoke``/``astream``; as ``postgres_checkpointer``."""
    try:
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        from psycopg import AsyncConnection
        from psycopg.conninfo import conninfo_to_dict
        from psycopg.rows import dict_row
    except ImportError as exc:
        raise ConfigError(f"db: PostgreSQL checkpoints need langgraph-checkpoint-postgres and psycopg ({exc}); "
                          "install them with pip install 'wardround[postgres]'") from exc

    options: dict[str, Any] = {}
    if "connect_timeout" not in conninfo_to_dict(url):
        options["connect_timeout"] = connect_timeout
    conn = await AsyncConnection.connect(url, autocommit=True, prepare_threshold=0, row_factory=dict_row,
                                         **options)
    try:
        saver = AsyncPostgresSaver(conn, serde=serializer())
        if setup:
            await saver.setup()
        yield saver
    finally:
        await conn.close()


def postgres_problem(url: str, *, connect_timeout: int = 10) -> str | None:
    """Why the database at ``url`` cannot hold checkpoints (unreachable, bad URL, no rights...), or ``None``."""
    try:
        import psycopg
        import psycopg.conninfo
    except ImportError:
        return "PostgreSQL checkpoints need the postgres extra: pip install 'wardround[postgres]'"
    try:
        with postgres_checkpointer(url, connect_timeout=connect_timeout):
            return None
    except (psycopg.Error, ValueError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        try:
            password = psycopg.conninfo.conninfo_to_dict(url).get("password")
        except psycopg.Error:
            password = None
        if password:
            reason = reason.replace(str(password), "***")
        return f"cannot be used for checkpoints ({type(exc).__name__}: {reason})"


@contextlib.contextmanager
def open_checkpointer(db: str | Path) -> Iterator[Any]:
    """The checkpointer for ``db``: PostgreSQL for a ``postgresql://`` URL, else a SQLite file at that path."""
    if is_postgres_url(db):
        with postgres_checkpointer(str(db).strip()) as saver:
            yield saver
    else:
        with sqlite_checkpointer(db) as saver:
            yield saver
