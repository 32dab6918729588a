"""The optional SQLite response cache (``cache=PATH`` or ``WARDROUND_LLM_CACHE``): reruns reproducible and free."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from langchain_core.messages import AIMessage


class ResponseCache:
    """SQLite cache of model responses keyed by a hash of model, options, messages and tools."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, model TEXT, "
                         "message TEXT NOT NULL, created REAL)")
        self._db.commit()

    def get(self, key: str) -> AIMessage | None:
        """The cached message for ``key``, or ``None``."""
        from langchain_core.messages import messages_from_dict

        with self._lock:
            row = self._db.execute("SELECT message FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        return messages_from_dict([json.loads(row[0])])[0]  # type: ignore[return-value]

    def put(self, key: str, model: str, message: AIMessage) -> None:
        """Store ``message`` under ``key``."""
        from langchain_core.messages import message_to_dict

        data = json.dumps(message_to_dict(message), default=str)
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?)", (key, model, data, time.time()))
            self._db.commit()

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()
