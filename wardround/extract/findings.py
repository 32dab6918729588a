"""Knowledge-base findings mentioned in the note, with ConText assertion status and exact spans."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from wardround.extract.context import Context, assertion_context
from wardround.extract.patterns import phrase_alternation

if TYPE_CHECKING:
    from wardround.knowledge import KnowledgeBase


@dataclass(frozen=True)
class FindingMention:
    """A finding phrase found in the note.

    ``start``/``end`` cover the phrase; ``quote_start`` also covers a negation trigger ("denies fever") so the
    quoted evidence shows why the finding counts as absent.
    """

    finding: str
    present: bool
    start: int
    end: int
    quote_start: int
    context: Context


@lru_cache(maxsize=8)
def _compile(kb_id: int, phrases: tuple[tuple[str, str], ...]) -> tuple[re.Pattern[str], dict[str, list[str]]]:
    index: dict[str, list[str]] = {}
    for phrase, fid in phrases:
        index.setdefault(phrase, []).append(fid)
    alt = phrase_alternation(sorted(index, key=len, reverse=True))
    return re.compile(rf"(?<![\w-]){alt}(?![\w])", re.I), index


def _normalise(phrase: str) -> str:
    return " ".join(phrase.lower().replace("-", " ").split())


def extract_findings(text: str, kb: KnowledgeBase) -> list[FindingMention]:
    """Every knowledge-base finding phrase in ``text`` (longest match wins), skipping family and hypothetical."""
    phrases = tuple(sorted({(_normalise(p), f.id) for f in kb.findings.values() for p in f.patterns}))
    if not phrases:
        return []
    rx, index = _compile(id(kb), phrases)
    out: list[FindingMention] = []
    for m in rx.finditer(text):
        key = _normalise(m.group(0))
        ctx = assertion_context(text, m.start(), m.end())
        if ctx.family or (ctx.hypothetical and not ctx.negated):
            continue
        quote_start = ctx.trigger_start if ctx.negated and ctx.trigger_start is not None and \
            ctx.trigger_start < m.start() else m.start()
        for fid in index.get(key, []):
            out.append(FindingMention(fid, not ctx.negated, m.start(), m.end(), quote_start, ctx))
    return out
