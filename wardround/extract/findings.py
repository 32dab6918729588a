"""Knowledge-base findings mentioned in the note, with ConText assertion status and exact spans."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from wardround.extract.context import Context, assertion_context
from wardround.patterns import fast_finditer, phrase_alternation

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
def _compile(kb_id: int, phrases: tuple[tuple[str, str, bool], ...]
             ) -> tuple[re.Pattern[str], dict[str, list[tuple[str, bool]]]]:
    index: dict[str, list[tuple[str, bool]]] = {}
    for phrase, fid, absent in phrases:
        index.setdefault(phrase, []).append((fid, absent))
    alt = phrase_alternation(sorted(index, key=len, reverse=True))
    return re.compile(rf"(?<![\w-]){alt}(?![\w])", re.I), index


def _normalise(phrase: str) -> str:
    return " ".join(phrase.lower().replace("-", " ").split())


_LEXICON: dict[int, tuple[KnowledgeBase, tuple[re.Pattern[str], dict[str, list[tuple[str, bool]]]] | None]] = {}


def _lexicon(kb: KnowledgeBase) -> tuple[re.Pattern[str], dict[str, list[tuple[str, bool]]]] | None:
    """The knowledge base's finding phrases as one pattern and a phrase -> (finding id, absent phrase) index,
    built once per kb; ``absent_patterns`` ("non-smoker") record their finding as explicitly absent."""
    hit = _LEXICON.get(id(kb))
    if hit is not None and hit[0] is kb:
        return hit[1]
    phrases = tuple(sorted({(_normalise(p), f.id, False) for f in kb.findings.values() for p in f.patterns} |
                           {(_normalise(p), f.id, True) for f in kb.findings.values() for p in f.absent_patterns}))
    built = _compile(id(kb), phrases) if phrases else None
    if len(_LEXICON) >= 8:
        _LEXICON.clear()
    _LEXICON[id(kb)] = (kb, built)
    return built


def extract_findings(text: str, kb: KnowledgeBase) -> list[FindingMention]:
    """Every knowledge-base finding phrase in ``text`` (longest match wins), skipping family and hypothetical
    mentions, complaints named only as what provokes another ("worse on coughing"), and symptoms or results from
    an earlier encounter or the past history (the patient's risk factors and conditions, a previous DVT, are kept)."""
    lexicon = _lexicon(kb)
    if lexicon is None:
        return []
    rx, index = lexicon
    out: list[FindingMention] = []
    for m in fast_finditer(rx, text):
        key = _normalise(m.group(0))
        ctx = assertion_context(text, m.start(), m.end())
        if ctx.family or ctx.provoking or (ctx.hypothetical and not ctx.negated):
            continue
        quote_start = ctx.trigger_start if ctx.negated and ctx.trigger_start is not None and \
            ctx.trigger_start < m.start() else m.start()
        for fid, absent in index.get(key, []):
            kind = kb.findings[fid].kind
            if (ctx.earlier and kind != "risk_factor") or (ctx.past_history and kind == "finding"):
                continue  # a symptom or result of an earlier encounter or of the past history is not today's
            present = not ctx.negated and not absent  # "non-smoker" says absent by itself
            out.append(FindingMention(fid, present, m.start(), m.end(), m.start() if absent else quote_start, ctx))
    return out
