"""Diagnosis-name matching for scoring free-text answers and mapping a differential onto answer options.

Two names match when, after ``normalize_name`` (case, punctuation, UK/US spelling), they are equal, resolve to
the same knowledge-base condition (id, name or alias), or have the same content words once generic qualifiers
are set aside ("acute", "disease", "syndrome", ...). Partial word overlap is a *similarity* (Jaccard on
content words), used only to rank answer options, never to mark a free-text answer correct.
"""

from __future__ import annotations

import functools
from typing import Any

from wardround.knowledge import load_knowledge, normalize_name

#: Words that do not distinguish one diagnosis from another when comparing names.
GENERIC_WORDS = frozenset({
    "a", "an", "the", "of", "and", "or", "with", "without", "due", "to", "in", "on", "by", "from", "for", "secondary",
    "acute", "chronic", "disease", "syndrome", "disorder", "infection", "condition", "type", "primary", "left",
    "right", "bilateral", "unspecified", "s",
})


@functools.lru_cache(maxsize=1)
def _kb() -> Any:
    return load_knowledge()


def content_words(name: str) -> frozenset[str]:
    """The distinguishing words of a normalised name."""
    return frozenset(w for w in normalize_name(name).split() if w not in GENERIC_WORDS)


def condition_id(name: str) -> str | None:
    """The knowledge-base condition a name (id, name or alias) resolves to, if any."""
    cond = _kb().find_condition(name)
    return cond.id if cond else None


def labels_of(condition: str, name: str | None = None) -> list[str]:
    """Every label of a condition: the given name, and the knowledge base's id, name and aliases."""
    out = [name] if name else []
    cond = _kb().conditions.get(condition) or _kb().find_condition(condition)
    if cond is not None:
        out += [cond.name, cond.id.replace("_", " "), *cond.aliases]
    return [x for x in dict.fromkeys(out) if x]


def names_match(predicted: str | None, gold: str | None, *, gold_aliases: list[str] | None = None) -> tuple[bool, str]:
    """Whether a predicted diagnosis names the gold one; returns (match, how)."""
    if not predicted or not gold:
        return False, "empty"
    p = normalize_name(predicted)
    golds = [gold, *(gold_aliases or [])]
    if any(p == normalize_name(g) for g in golds):
        return True, "exact"
    pid = condition_id(predicted)
    if pid is not None and any(condition_id(g) == pid for g in golds):
        return True, "alias"
    if pid is not None:  # the prediction's knowledge-base labels against the gold name
        for label in labels_of(pid):
            if any(normalize_name(label) == normalize_name(g) for g in golds):
                return True, "alias"
    pw = content_words(predicted)
    if pw and any(pw == content_words(g) for g in golds):
        return True, "content-words"
    return False, "no-match"


def similarity(a: str, b: str) -> float:
    """1.0 for matching names (``names_match``), else the Jaccard overlap of their content words."""
    if names_match(a, b)[0]:
        return 1.0
    wa, wb = content_words(a), content_words(b)
    if not wa or not wb:
        return 0.0
    return len(wa & wb) / len(wa | wb)
