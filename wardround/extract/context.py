"""A small ConText-style assertion classifier: negated, historical, family and hypothetical mentions.

Why not medspacy: medspacy 1.3 pins spaCy < 3.8 and with it numpy < 2, which conflicts with the rest of the
stack; the part wardround needs -- trigger phrases whose scope runs to the end of the sentence or to a
termination term -- is small. Algorithm after Harkema et al., "ConText: an algorithm for determining
negation, experiencer, and temporal status from clinical reports", J Biomed Inform 2009;42(5):839-51,
doi:10.1016/j.jbi.2009.05.002, and NegEx (Chapman et al., J Biomed Inform 2001;34(5):301-10,
doi:10.1006/jbin.2001.1029).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache

# Pre-triggers: their scope runs forward to the end of the sentence or a terminator.
_NEGATION_PRE = (
    "no", "not", "denies", "denied", "deny", "denying", "without", "negative for", "free of", "absence of",
    "no evidence of", "no signs of", "no sign of", "no history of", "never had", "never", "none",
    "ruled out", "rules out", "resolution of", "no complaints of", "nor", "absent", "unremarkable for",
    "did not have", "does not have", "do not have", "has not had", "no new", "no further",
)
# Post-triggers: their scope runs backwards to the start of the sentence or a terminator.
_NEGATION_POST = ("was ruled out", "is ruled out", "were ruled out", "has been ruled out", "absent",
                  "was negative", "were negative", "is negative", "are negative", "not present", "unlikely",
                  "resolved")
_HISTORICAL_PRE = ("history of", "h/o", "hx of", "past medical history", "pmh", "previous", "prior",
                   "previously", "in the past")
_FAMILY_PRE = ("family history", "fhx", "mother", "father", "brother", "sister", "sibling", "son", "daughter",
               "grandmother", "grandfather", "aunt", "uncle", "mother's", "father's")
_HYPOTHETICAL_PRE = ("if", "return if", "should", "in case of", "to rule out", "rule out", "r/o", "evaluate for",
                     "concern for", "possible", "possibly", "suspected", "suspect", "questionable",
                     "cannot exclude", "may have", "risk of", "workup for", "monitor for")
_TERMINATORS = ("but", "however", "although", "though", "except", "apart from", "aside from", "which",
                "who", "presents", "presented", "reports", "complains", "with", "and has", "yet", "still",
                "now", "since", "because", "as well as")
# Words that break a negation scope only (lists like "no fever, chills or cough" continue through commas).
_SENTENCE_END = re.compile(r"(?<!\b[A-Z])(?<!\bDr)(?<!\bvs)(?<!\d)[.!?;](?=\s|$)|\n\s*\n|\n(?=\s*[-*•\d])")


@dataclass(frozen=True)
class Context:
    """Assertion status of one mention."""

    negated: bool = False
    historical: bool = False
    family: bool = False
    hypothetical: bool = False
    trigger: str | None = None
    trigger_start: int | None = None


def _alt(words: tuple[str, ...]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_PRE_NEG = re.compile(rf"\b(?:{_alt(_NEGATION_PRE)})\b", re.I)
_POST_NEG = re.compile(rf"\b(?:{_alt(_NEGATION_POST)})\b", re.I)
_HIST = re.compile(rf"\b(?:{_alt(_HISTORICAL_PRE)})\b", re.I)
_FAM = re.compile(rf"\b(?:{_alt(_FAMILY_PRE)})\b", re.I)
_HYPO = re.compile(rf"\b(?:{_alt(_HYPOTHETICAL_PRE)})\b", re.I)
_TERM = re.compile(rf"\b(?:{_alt(_TERMINATORS)})\b|[:]", re.I)
_PSEUDO = re.compile(r"\b(?:no increase|not only|no change|not necessarily|without difficulty|no further "
                     r"(?:workup|imaging)|gram[- ]negative|not ruled out|no doubt)\b", re.I)


@lru_cache(maxsize=64)
def sentence_bounds(text: str) -> tuple[tuple[int, int], ...]:
    """Sentence (start, end) offsets; splits on . ! ? ; and blank lines, not on decimals or abbreviations."""
    bounds = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        end = m.end()
        if text[start:end].strip():
            bounds.append((start, end))
        start = end
    if text[start:].strip():
        bounds.append((start, len(text)))
    return tuple(bounds)


@lru_cache(maxsize=64)
def _sentence_starts(text: str) -> tuple[list[int], tuple[tuple[int, int], ...]]:
    bounds = sentence_bounds(text)
    return [b[0] for b in bounds], bounds


def _sentence_of(text: str, pos: int) -> tuple[int, int]:
    """The sentence holding ``pos`` (binary search: a long note has many sentences and many mentions)."""
    starts, bounds = _sentence_starts(text)
    i = bisect.bisect_right(starts, pos) - 1
    if i >= 0 and bounds[i][0] <= pos < bounds[i][1]:
        return bounds[i]
    return 0, len(text)


#: Characters of a sentence read on each side of a mention. Trigger scopes are a few words (NegEx windows), so
#: this changes nothing in real sentences; it keeps a note without sentence punctuation linear to read.
CONTEXT_WINDOW = 400


def assertion_context(text: str, start: int, end: int) -> Context:
    """Classify the mention ``text[start:end]`` as negated / historical / family / hypothetical."""
    s, e = _sentence_of(text, start)
    s = max(s, start - CONTEXT_WINDOW)
    e = min(e, end + CONTEXT_WINDOW)
    before = text[s:start]
    after = text[end:e]
    negated = False
    trigger = None
    trigger_start = None
    # pre-negation: the nearest trigger before the mention with no terminator in between. Triggers are tried
    # nearest first: once one is cut off by a terminator or lies too far away, every earlier one is too.
    for m in reversed(list(_PRE_NEG.finditer(before))):
        if _PSEUDO.match(before, m.start()):
            continue
        between = before[m.end():]
        if _TERM.search(between) or len(between.split()) > 8:  # NegEx-style window: a few words at most
            break
        negated, trigger, trigger_start = True, m.group(0), s + m.start()
        break
    if not negated:
        m = _POST_NEG.search(after)
        if m and not _TERM.search(after[: m.start()]) and len(after[: m.start()].split()) <= 4:
            negated, trigger, trigger_start = True, m.group(0), end + m.start()

    def scoped(rx: re.Pattern[str]) -> bool:
        # a trigger whose scope reaches the mention: only the nearest can (a terminator after it cuts every
        # earlier one too)
        last = None
        for last in rx.finditer(before):  # noqa: B007 - the loop finds the last match
            pass
        return last is not None and not _TERM.search(before[last.end():])

    return Context(negated=negated, historical=scoped(_HIST), family=scoped(_FAM),
                   hypothetical=scoped(_HYPO), trigger=trigger, trigger_start=trigger_start)
