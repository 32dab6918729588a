"""Per-item evaluation records: the JSONL schema, a crash-safe appender, and a reader that drops cut lines.

One JSON object a line, written whole with a single ``write`` as each item finishes. A process killed in the
middle of a write leaves at most one cut (unterminated or unparsable) line; ``read_records`` detects it and
``RecordLog.open`` truncates the file back to the last complete record, so a rerun never reads a corrupt line
and never duplicates an id.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

log = logging.getLogger(__name__)

#: Version of the record schema (bumped when a field changes meaning).
RECORD_SCHEMA = 1


class ItemRecord(BaseModel):
    """The outcome of one evaluation item (one line of ``items.jsonl``)."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(description="item id, unique within a run")
    category: str | None = Field(None, description="dataset category used for per-category accuracy")
    prediction: Any = Field(None, description="the answer scored (option letter, diagnosis name, value, ...)")
    gold: Any = Field(None, description="the reference answer")
    correct: bool | None = Field(None, description="scorer verdict; None when the item could not be scored")
    latency_s: float = Field(0.0, description="wall seconds of the solver call that produced the record")
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    seconds: dict[str, float] = Field(default_factory=dict, description="wall seconds per graph node")
    cited: list[str] = Field(default_factory=list, description="evidence ids the answer cites")
    attempts: int = Field(1, description="solver attempts (1 + retries of transient errors)")
    error: str | None = Field(None, description="'<ExceptionType>: message' when the item failed for good")
    extra: dict[str, Any] = Field(default_factory=dict, description="dataset-specific fields")
    finished_at: float = Field(0.0, description="unix time the record was written")


class ReadResult(BaseModel):
    """Records read from a file, and what had to be dropped."""

    records: list[ItemRecord] = Field(default_factory=list)
    good_bytes: int = Field(0, description="length of the prefix holding only complete, valid lines")
    dropped_lines: int = 0
    duplicate_ids: int = 0
    rewrite_needed: bool = Field(False, description="a bad line sits before a good one: the file must be rewritten")


def read_records(path: str | Path) -> ReadResult:
    """Read ``items.jsonl``; cut, unparsable or duplicated lines are dropped (first record of an id wins)."""
    p = Path(path)
    out = ReadResult()
    if not p.is_file():
        return out
    data = p.read_bytes()
    seen: set[str] = set()
    offset = 0
    bad_seen = False
    for raw in data.splitlines(keepends=True):
        end = offset + len(raw)
        offset = end
        complete = raw.endswith(b"\n")
        record = None
        if complete and raw.strip():
            try:
                record = ItemRecord.model_validate_json(raw)
            except ValueError:
                record = None
        if record is None:
            if raw.strip():
                out.dropped_lines += 1
                bad_seen = True
                log.warning("%s: dropped a cut or unreadable record line at byte %d", p, end - len(raw))
            continue
        if record.id in seen:
            out.duplicate_ids += 1
            bad_seen = True
            continue
        seen.add(record.id)
        out.records.append(record)
        if bad_seen:
            out.rewrite_needed = True
        out.good_bytes = end
    return out


class RecordLog:
    """Append-only ``items.jsonl``: repairs a cut tail on open, then appends one whole line per record."""

    def __init__(self, path: str | Path, *, fsync: bool = False) -> None:
        self.path = Path(path)
        self.fsync = fsync
        self._fh: Any = None
        self.done: dict[str, ItemRecord] = {}

    def open(self, *, keep: Iterable[str] | None = None) -> dict[str, ItemRecord]:
        """Open for appending after dropping cut/duplicate lines (and records whose id is not in ``keep``).

        Returns the complete records already in the file, keyed by id.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        result = read_records(self.path)
        records = result.records
        keep_set = set(keep) if keep is not None else None
        if keep_set is not None:
            records = [r for r in records if r.id in keep_set]
        if result.rewrite_needed or (keep_set is not None and len(records) != len(result.records)):
            self._rewrite(records)
        elif self.path.is_file() and self.path.stat().st_size != result.good_bytes:
            with open(self.path, "r+b") as fh:  # drop the cut tail left by a killed writer
                fh.truncate(result.good_bytes)
        self.done = {r.id: r for r in records}
        self._fh = open(self.path, "ab", buffering=0)
        return dict(self.done)

    def _rewrite(self, records: list[ItemRecord]) -> None:
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        with open(tmp, "wb") as fh:
            for r in records:
                fh.write(_line(r))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def append(self, record: ItemRecord) -> None:
        """Write one record as a single line (one ``write`` call); ids already written are refused."""
        if self._fh is None:
            raise RuntimeError("RecordLog.append before open()")
        if record.id in self.done:
            raise ValueError(f"record {record.id!r} is already in {self.path}")
        self._fh.write(_line(record))
        if self.fsync:
            os.fsync(self._fh.fileno())
        self.done[record.id] = record

    def close(self) -> None:
        """Close the file."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> RecordLog:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _line(record: ItemRecord) -> bytes:
    return record.model_dump_json().encode("utf-8") + b"\n"


def load_run(out_dir: str | Path) -> tuple[dict[str, Any], list[ItemRecord]]:
    """The manifest (``{}`` when missing) and the complete records of a run folder."""
    d = Path(out_dir)
    manifest: dict[str, Any] = {}
    if (d / "manifest.json").is_file():
        manifest = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    return manifest, read_records(d / "items.jsonl").records
