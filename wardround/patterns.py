"""One regular expression for a long list of phrases, written as a prefix tree so a note is scanned fast.

Python's ``re`` tries every branch of a flat alternation (``creatinine|creat|crp|...``) at every character of
the text, so a lexicon of a few hundred phrases costs milliseconds per kilobyte of note. The same phrases
written as a prefix tree (``cr(?:eat(?:inine)?|p)``) let the engine reject a position after one or two
characters: about twenty times faster on a long note, and it matches exactly what the flat alternation did
(longest phrase first at each position, then the same boundary checks).

Why not a library (``pyahocorasick``, ``trieregex``): an Aho-Corasick automaton finds overlapping literals but not
our separators (``[\\s-]+`` between words) nor our look-around boundaries, and the prefix-tree alternation is
fifty lines of our own that keep one regex per lexicon.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

#: What a space in a phrase matches in the note: any run of spaces, line breaks and hyphens.
WORD_SEPARATOR = r"[\s-]+"


def phrase_alternation(phrases: Iterable[str], separator: str = WORD_SEPARATOR) -> str:
    """A non-capturing regex matching any of ``phrases`` (longest first), spaces written as ``separator``.

    Equivalent to ``"|".join(re.escape(p).replace(r"\\ ", separator) for p in sorted(phrases, key=len,
    reverse=True))``: at each position the longest phrase that matches (and lets the rest of the pattern match)
    wins, as in the flat alternation.
    """
    end = ""  # marker key: a phrase ends at this node
    root: dict[str, dict] = {}
    for phrase in dict.fromkeys(phrases):
        if not phrase:
            continue
        node = root
        for ch in phrase:
            node = node.setdefault(separator if ch == " " else re.escape(ch), {})
        node[end] = {}

    def render(node: dict[str, dict]) -> tuple[str, int]:
        """(regex of the subtree, length of its longest phrase)."""
        branches = []
        for order, (token, child) in enumerate(node.items()):
            if token == end:
                continue
            sub, longest = render(child)
            branches.append((-(longest + 1), order, token + sub))
        if not branches:
            return "", 0
        branches.sort()  # the branch holding the longest phrase is tried first
        body = "|".join(b[2] for b in branches)
        longest = -branches[0][0]
        if end in node:
            return f"(?:{body})?", longest
        return (body if len(branches) == 1 else f"(?:{body})"), longest

    pattern, _ = render(root)
    return f"(?:{pattern})"


# Characters that ``re.IGNORECASE`` matches with an ASCII letter although their ``str.lower()`` is not that letter
# (or has another length): dotted and dotless i, long s, the Kelvin sign. Found by checking every code point.
_CASE_SPECIAL = ("\u0130", "\u0131", "\u017f", "\u212a")


def lower_exactly(text: str) -> str | None:
    """``text.lower()`` when a case-sensitive lower-case ASCII pattern on it matches exactly what the pattern with
    ``re.IGNORECASE`` matches on ``text`` (same offsets), else ``None``.

    Why: ``re`` skips ahead with a character-set scan only for case-sensitive patterns, so a lexicon scanned on the
    lowered note is about twice as fast as the same lexicon scanned with ``re.IGNORECASE``.
    """
    low = text.lower()
    if len(low) != len(text) or any(ch in text for ch in _CASE_SPECIAL):
        return None
    return low


#: ``lower_exactly`` cached for whole notes (read by several lexicons in turn); sentence windows use the uncached one.
lowered = lru_cache(maxsize=16)(lower_exactly)


_WORD_OR_HYPHEN = re.compile(r"[\w-]")


def word_start_matches(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]] | None:
    """Spans that ``(?<![\\w-])`` + ``pattern`` would find with ``finditer``, the look-behind checked here.

    A leading look-behind keeps ``re`` from its fast character-set scan; checking it in Python on each match (and
    searching again one character later when it fails) gives the same leftmost, non-overlapping matches. ``None``
    when the pattern matches an empty string (``finditer`` treats those differently): use ``finditer`` then.
    """
    out: list[tuple[int, int]] = []
    search, before = pattern.search, _WORD_OR_HYPHEN.match
    pos = 0
    while True:
        m = search(text, pos)
        if m is None:
            return out
        start, end = m.span()
        if end == start:
            return None
        if start and before(text, start - 1):
            pos = start + 1
            continue
        out.append((start, end))
        pos = end


def _structure(regex: str, start: int = 0):
    """``(index, char, depth)`` of each character of ``regex`` from ``start`` that lies outside escapes and
    character classes; ``depth`` is the group nesting before the character."""
    depth, j, in_class = 0, start, False
    while j < len(regex):
        ch = regex[j]
        if ch == "\\":
            j += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            if regex[j + 1:j + 2] == "]":
                j += 1
        else:
            yield j, ch, depth
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
        j += 1


def _group_end(regex: str, i: int) -> int:
    """Index just past the group that opens at ``regex[i]`` (escapes and character classes respected)."""
    for j, ch, depth in _structure(regex, i):
        if ch == ")" and depth == 1:
            return j + 1
    raise ValueError(f"unbalanced group in {regex!r}")


def _split_alternatives(regex: str) -> list[str]:
    """The top-level alternatives of a regex body (``a|b(?:c|d)`` -> ``a``, ``b(?:c|d)``)."""
    out, start = [], 0
    for j, ch, depth in _structure(regex):
        if ch == "|" and depth == 0:
            out.append(regex[start:j])
            start = j + 1
    out.append(regex[start:])
    return out


def literal_first(alternative: str, limit: int = 64) -> list[str]:
    """The same alternative written as alternatives that each start with a literal character, where possible.

    ``re`` scans fast to the next possible first character only when every alternative starts with a literal.
    Rewrites keep the order in which ``re`` tries things, so matches are unchanged: ``(?:a|b)c`` -> ``ac|bc``,
    ``(?:a)?b`` and ``a?b`` -> ``ab|b``, and a leading ``\\b`` before a letter is dropped (valid only where the
    caller checks that no word character precedes, as ``word_start_matches`` does).
    """
    if alternative.startswith("\\b") and alternative[2:3].isalnum():
        return literal_first(alternative[2:], limit)
    split = _leading_choice(alternative, capturing=False)
    if split is None:
        return [alternative]
    return _distributed(alternative, *split, lambda a: literal_first(a, limit), limit)


def _leading_choice(alternative: str, capturing: bool) -> tuple[list[str], str] | None:
    """``(heads, rest)`` of an alternative that starts with a choice: an optional letter (``a?b`` -> ``["a", ""]``,
    ``"b"``) or a group, optional or not (``(?:a|b)?c`` -> ``["a", "b", ""]``, ``"c"``; capturing groups too when
    ``capturing``). ``None`` when it starts otherwise or the group is repeated."""
    if alternative[:1].isalnum() and alternative[1:2] == "?" and alternative[2:3] not in ("?", "+"):
        return [alternative[0], ""], alternative[2:]
    if alternative.startswith("(?:"):
        opening = 3
    elif capturing and alternative.startswith("(") and not alternative.startswith("(?"):
        opening = 1
    else:
        return None
    end = _group_end(alternative, 0)
    inner, rest = alternative[opening:end - 1], alternative[end:]
    optional = rest.startswith("?") and rest[1:2] not in ("?", "+")
    if rest[:1] in ("*", "+", "{") or (rest.startswith("?") and not optional):
        return None
    if optional:
        rest = rest[1:]
    return _split_alternatives(inner) + ([""] if optional else []), rest


def _distributed(alternative: str, heads: list[str], rest: str, rewrite, limit: int) -> list[str]:
    """``rewrite(head + rest)`` for each head, in order; ``[alternative]`` unchanged when that exceeds ``limit``."""
    out: list[str] = []
    for head in heads:
        out.extend(rewrite(head + rest))
        if len(out) > limit:
            return [alternative]
    return out


def literal_prefix(alternative: str) -> str:
    """The letters and digits every match of ``alternative`` starts with (``"heart\\s+failure"`` -> ``"heart"``)."""
    n = 0
    while n < len(alternative) and alternative[n].isalnum():
        n += 1
    if n < len(alternative) and alternative[n] in "?*{":  # the last letter is optional or repeated
        n -= 1
    return alternative[:max(n, 0)]


_WORD_START = re.compile(r"(?<![\w-])\w")


@lru_cache(maxsize=8)
def _word_starts(low: str) -> dict[str, list[int]]:
    """Where words start in a text (no word character or hyphen before), by their first one, two and three
    characters."""
    index: dict[str, list[int]] = {}
    for m in _WORD_START.finditer(low):
        p = m.start()
        key = low[p:p + 3]
        hit = index.get(key)
        if hit is None:
            index[key] = [p]
        else:
            hit.append(p)
    for key, where in list(index.items()):  # the shorter keys from the distinct three-character ones
        for short in (key[:1], key[:2]):
            if short != key:
                index.setdefault(short, []).extend(where)
    return index


def word_start_matches_indexed(pattern: re.Pattern[str], prefixes: tuple[str, ...],
                               text: str) -> list[tuple[int, int]] | None:
    """``word_start_matches(pattern, text)`` for a pattern whose every match starts with one of ``prefixes``.

    Only word starts beginning with a prefix are tried (looked up in an index of the text's word starts built
    once per text), instead of scanning the whole text once per pattern: a note is read once for a whole
    lexicon of concepts. ``None`` when the pattern matches an empty string.
    """
    index = _word_starts(text)
    candidates = sorted({p for prefix in prefixes for p in index.get(prefix[:3], ())
                         if text.startswith(prefix, p)})
    out: list[tuple[int, int]] = []
    match = pattern.match
    last = 0
    for p in candidates:
        if p < last:
            continue
        m = match(text, p)
        if m is None:
            continue
        if m.end() == p:
            return None
        out.append((p, m.end()))
        last = m.end()
    return out


# ---------------------------------------------------------------------------------------------------------
# Scanning a long note fast with any pattern: a looser pattern finds candidate positions, the pattern decides

# back-references, conditionals, inline flags and escapes naming characters are left to ``re`` itself
_UNSUPPORTED = re.compile(r"\\[1-9NxuUpPg]|\(\?P=|\(\?\(|\(\?[aiLmsux-]+[:)]")
_NAMED_GROUP = re.compile(r"\(\?P<\w+>")


def _lower_source(regex: str) -> str | None:
    """The regex with its letters lower-cased (escapes kept), or ``None`` when a class range mixes cases."""
    out, j, in_class = [], 0, False
    while j < len(regex):
        ch = regex[j]
        if ch == "\\":
            out.append(regex[j:j + 2])
            j += 2
            continue
        if in_class:
            if ch == "]":
                in_class = False
            elif ch == "-" and out and j + 1 < len(regex) and regex[j + 1] != "]":
                lo, hi = regex[j - 1], regex[j + 1]
                if not ((lo.islower() and hi.islower()) or (lo.isupper() and hi.isupper()) or
                        (lo.isdigit() and hi.isdigit())):
                    return None
        elif ch == "[":
            in_class = True
        out.append(ch.lower())
        j += 1
    return "".join(out)


def _loosened(alternative: str, limit: int = 64) -> list[str]:
    """Alternatives that match wherever ``alternative`` matches (maybe more), each starting with a literal if possible.

    Leading zero-width checks (``\\b``, look-arounds) are dropped, an alternative anchored with ``^`` is left out
    (``fast_finditer`` tries the text's start itself), and leading optional atoms and optional or alternative
    groups are distributed (``(?:a|b)?c`` -> ``ac|bc|c``, ``\\s*c`` -> ``\\s\\s*c|c``), so that ``re`` can skip to
    the next possible first character.
    """
    if alternative.startswith(("\\b", "\\B")):
        return _loosened(alternative[2:], limit)
    if alternative.startswith("^"):  # matches at the text's start only, which ``fast_finditer`` always tries
        return []
    if alternative.startswith(("(?=", "(?!", "(?<=", "(?<!")):
        return _loosened(alternative[_group_end(alternative, 0):], limit)
    peeled = _peel_repeat(alternative)
    if peeled is not None:
        return [peeled]
    star = _LEADING_ATOM.match(alternative)
    if star is not None and alternative[star.end():star.end() + 1] in ("*", "?") \
            and alternative[star.end() + 1:star.end() + 2] not in ("?", "+"):
        # ``\s*x`` -> ``\s\s*x|x`` and ``[ab]?x`` -> ``[ab]x|x``: each alternative then starts with a known character
        atom, op, rest = star.group(0), alternative[star.end()], alternative[star.end() + 1:]
        out = [atom + (atom + "*" if op == "*" else "") + rest, *_loosened(rest, limit)]
        return out if len(out) <= limit else [alternative]
    split = _leading_choice(alternative, capturing=True)
    if split is None:
        return [alternative]
    return _distributed(alternative, *split, lambda a: _loosened(a, limit), limit)


_LEADING_ATOM = re.compile(r"\\[dswDSW]|\[(?:\\.|[^\\\]])+\]|[A-Za-z0-9]")
_REPEAT = re.compile(r"\{(\d+)(?:,(\d*))?\}|\+")


def _peel_repeat(alternative: str) -> str | None:
    """``\\d{2,3}x`` -> ``\\d\\d{1,2}x`` and ``\\d+x`` -> ``\\d\\d*x`` (same matches, one leading atom), else ``None``."""
    atom = _LEADING_ATOM.match(alternative)
    if atom is None:
        return None
    rep = _REPEAT.match(alternative, atom.end())
    if rep is None:
        return None
    a, rest = atom.group(0), alternative[rep.end():]
    if rep.group(0) == "+":
        return a + a + "*" + rest
    low = int(rep.group(1))
    if low < 1:
        return None
    high = rep.group(2)
    if high is None:  # {n}
        return a + (a + "{" + str(low - 1) + "}" if low > 1 else "") + rest
    if high == "":  # {n,}
        return a + a + "{" + str(low - 1) + ",}" + rest
    return a + a + "{" + str(low - 1) + "," + str(int(high) - 1) + "}" + rest


_LITERAL_ESCAPES = frozenset("nt[](){}.*+?|^$\\/#<>-:,;'\"& ")


def _first_literal(alternative: str) -> str | None:
    """The literal character (or escape of one) an alternative starts with, when no quantifier follows it."""
    if not alternative:
        return None
    if alternative[0] == "\\":
        token = alternative[:2] if alternative[1:2] in _LITERAL_ESCAPES else None
    else:
        token = alternative[0] if alternative[0] not in "[(.^$|*+?{)" else None
    if token is None or alternative[len(token):len(token) + 1] in ("*", "+", "?", "{"):
        return None
    return token


def _by_first_character(alternatives: list[str]) -> str:
    """``a1|b1|a2`` as ``a(?:1|2)|b(?:1)``: ``re`` tries each branch in turn at every candidate position, so one
    branch per first character instead of one per alternative. Matches start where the flat alternation's start
    (branches with another first character cannot match there)."""
    groups: dict[str, list[str]] = {}
    other: list[str] = []
    for alt in alternatives:
        token = _first_literal(alt)
        if token is None:
            other.append(alt)
        else:
            groups.setdefault(token, []).append(alt[len(token):])
    parts = [token + (rests[0] if len(rests) == 1 and "|" not in rests[0] else "(?:" + "|".join(rests) + ")")
             for token, rests in groups.items()]
    return "|".join(parts + other)


@lru_cache(maxsize=256)
def _prefilter(pattern: re.Pattern[str]) -> re.Pattern[str] | None:
    """A looser, faster pattern whose matches include every position where ``pattern`` matches, or ``None``."""
    source = pattern.pattern
    if pattern.flags & re.VERBOSE or _UNSUPPORTED.search(source):
        return None
    if pattern.flags & re.MULTILINE and "^" in source:  # ``^`` would match after every line break
        return None
    source = _NAMED_GROUP.sub("(?:", source)
    flags = pattern.flags & ~re.IGNORECASE
    if pattern.flags & re.IGNORECASE:
        lowered_source = _lower_source(source)
        if lowered_source is None:
            return None
        # a non-ASCII letter with other case forms (µ, μ, Μ) may not lower to the pattern's spelling
        if any(not ch.isascii() and ch.lower() != ch.upper() for ch in lowered_source):
            return None
        source = lowered_source
    try:
        loose = [a for alternative in _split_alternatives(source) for a in _loosened(alternative)]
        return re.compile(_by_first_character(loose) if loose else "(?!)", flags)
    except (re.error, ValueError):
        return None


def fast_finditer(pattern: re.Pattern[str], text: str) -> list[re.Match[str]]:
    """``list(pattern.finditer(text))``, found faster on long texts.

    A loosened copy of the pattern (``_prefilter``: case-sensitive on the lowered text, leading look-arounds
    dropped, leading groups distributed so that ``re`` skips ahead by first character) proposes positions; the
    pattern itself is then matched there, so the matches -- and their groups, taken from ``text`` -- are exactly
    those of ``finditer``.
    """
    loose = _prefilter(pattern)
    scan = text if loose is None or not pattern.flags & re.IGNORECASE else lowered(text)
    if loose is None or scan is None:
        return list(pattern.finditer(text))
    out: list[re.Match[str]] = []
    search, match = loose.search, pattern.match
    pos = 0
    first = match(text, 0)  # the start of the text, where ``^`` alternatives match (left out of ``loose``)
    if first is not None:
        if first.end() == 0:
            return list(pattern.finditer(text))
        out.append(first)
        pos = first.end()
    end = len(text)
    while pos <= end:  # ``search`` clips a position past the end to the end: stop there
        candidate = search(scan, pos)
        if candidate is None:
            return out
        start = candidate.start()
        m = match(text, start)
        if m is None:
            pos = start + 1
            continue
        if m.end() == start:  # an empty match: finditer's own rules apply
            return list(pattern.finditer(text))
        out.append(m)
        pos = m.end()
    return out


def fast_search(pattern: re.Pattern[str], text: str, pos: int = 0) -> re.Match[str] | None:
    """``pattern.search(text, pos)``, found faster on long texts (as ``fast_finditer``)."""
    loose = _prefilter(pattern)
    scan = text if loose is None or not pattern.flags & re.IGNORECASE else lowered(text)
    if loose is None or scan is None:
        return pattern.search(text, pos)
    search, match = loose.search, pattern.match
    if pos == 0 and (first := match(text, 0)) is not None:
        return first
    while pos <= len(text):
        candidate = search(scan, pos)
        if candidate is None:
            return None
        m = match(text, candidate.start())
        if m is not None:
            return m
        pos = candidate.start() + 1
    return None
