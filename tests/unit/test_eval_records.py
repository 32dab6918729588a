"""Evaluation records: whole-line appends, cut lines dropped and truncated, duplicates ignored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wardround.evals.records import ItemRecord, RecordLog, load_run, read_records


def _rec(i: int, **kw: object) -> ItemRecord:
    fields: dict[str, object] = {"prediction": "A", "gold": "A", "correct": True, **kw}
    return ItemRecord(id=str(i), **fields)


def test_append_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    with RecordLog(path) as log:
        assert log.open() == {}
        for i in range(5):
            log.append(_rec(i, extra={"note": "line\nbreak"}))
    lines = path.read_bytes().split(b"\n")
    assert len(lines) == 6 and lines[-1] == b""  # one line per record, newline-terminated
    got = read_records(path)
    assert [r.id for r in got.records] == ["0", "1", "2", "3", "4"]
    assert got.records[0].extra["note"] == "line\nbreak"
    assert got.dropped_lines == 0 and got.good_bytes == path.stat().st_size


def test_cut_last_line_is_dropped_and_truncated(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    with RecordLog(path) as log:
        log.open()
        log.append(_rec(1))
        log.append(_rec(2))
    good = path.stat().st_size
    whole = _rec(3).model_dump_json().encode()
    with open(path, "ab") as fh:
        fh.write(whole[: len(whole) // 2])  # a writer killed in the middle of a line
    got = read_records(path)
    assert [r.id for r in got.records] == ["1", "2"] and got.dropped_lines == 1
    log = RecordLog(path)
    done = log.open()
    assert set(done) == {"1", "2"}
    assert path.stat().st_size == good  # the cut tail is gone before anything is appended
    log.append(_rec(3))
    log.close()
    assert [r.id for r in read_records(path).records] == ["1", "2", "3"]


def test_complete_but_unterminated_line_is_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_bytes(_rec(1).model_dump_json().encode() + b"\n" + _rec(2).model_dump_json().encode())
    assert [r.id for r in read_records(path).records] == ["1"]


def test_bad_line_in_the_middle_and_duplicates_are_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_bytes(b"".join([_rec(1).model_dump_json().encode() + b"\n", b"{not json\n",
                               _rec(2).model_dump_json().encode() + b"\n",
                               _rec(1, correct=False).model_dump_json().encode() + b"\n"]))
    got = read_records(path)
    assert [r.id for r in got.records] == ["1", "2"] and got.records[0].correct is True
    assert got.dropped_lines == 1 and got.duplicate_ids == 1 and got.rewrite_needed
    log = RecordLog(path)
    log.open()
    log.close()
    assert [json.loads(x)["id"] for x in path.read_text().splitlines()] == ["1", "2"]


def test_keep_filters_and_duplicate_append_refused(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    with RecordLog(path) as log:
        log.open()
        log.append(_rec(1))
        log.append(_rec(2, error="TransientError: boom", correct=None))
        with pytest.raises(ValueError, match="already"):
            log.append(_rec(1))
    log = RecordLog(path)
    assert set(log.open(keep=["1"])) == {"1"}
    log.close()
    manifest, records = load_run(tmp_path)
    assert manifest == {} and [r.id for r in records] == ["1"]
