"""Checkpointers that know wardround's state types, so a thread resumes in a new process without warnings."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

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
