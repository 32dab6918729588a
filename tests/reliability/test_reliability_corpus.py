"""The bad-input corpus (corpus/corpus.yaml): each input gives a clear one-line error or a flagged issue, never a crash.

Every row runs through the ``wardround`` Typer app in-process, in a fresh folder that is also the current folder
(so the imaging allowed-roots rule is exercised against a known set of folders). Time and memory per input are
measured by ``examples/benchmarks/bench_reliability.py``; the timeout here is only a guard against hangs.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from reliability_corpus import check as check_outcome
from reliability_corpus import load_entries, run_entry

ENTRIES = load_entries()


def test_the_corpus_is_large_and_covers_every_category() -> None:
    counts = Counter(e.category for e in ENTRIES)
    assert len(ENTRIES) >= 60
    assert {"malformed-json", "malformed-yaml", "wrong-types", "impossible-values", "unit-typos", "size", "binary",
            "unicode", "injection", "imaging", "calculator"} <= set(counts)
    assert {e.expect for e in ENTRIES} == {"error", "issue", "ok"}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
def test_bad_input(entry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "case"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.delenv("WARDROUND_IMAGING_ROOTS", raising=False)
    monkeypatch.delenv("WARDROUND_MAX_NOTE_CHARS", raising=False)
    monkeypatch.delenv("WARDROUND_MAX_VOXELS", raising=False)
    monkeypatch.setenv("WARDROUND_RUN_DIR", str(tmp_path / "runs"))
    outcome = run_entry(entry, work)
    problems = check_outcome(entry, outcome)
    assert not problems, f"{entry.id}: {problems}"
