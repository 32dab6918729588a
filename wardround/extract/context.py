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

from wardround.patterns import fast_finditer, lower_exactly

# Pre-triggers: their scope runs forward to the end of the sentence or a terminator.
_NEGATION_PRE = (
    "no", "not", "denies", "denied", "deny", "denying", "without", "negative for", "free of", "absence of",
    "no evidence of", "no signs of", "no sign of", "no history of", "never had", "never", "none",
    "ruled out", "rules out", "resolution of", "no complaints of", "nor", "absent", "unremarkable for",
    "did not have", "does not have", "do not have", "has not had", "no new", "no further", "negative",
    "doesn't have", "didn't have", "does not suggest", "doesn't suggest", "did not suggest", "no suggestion of",
    "not suggestive of",
)
# Post-triggers: their scope runs backwards to the start of the sentence or a terminator.
_NEGATION_POST = ("was ruled out", "is ruled out", "were ruled out", "has been ruled out", "absent",
                  "was negative", "were negative", "is negative", "are negative", "not present", "unlikely",
                  "resolved", "excluded", "was excluded", "were excluded", "has been excluded", "not seen",
                  "not shown", "not demonstrated", "negative", "not elicited", "not palpable", "not felt")
_HISTORICAL_PRE = ("history of", "h/o", "hx of", "past medical history", "pmh", "previous", "prior",
                   "previously", "in the past")
_HYPOTHETICAL_PRE = ("if", "return if", "should", "in case of", "to rule out", "rule out", "r/o", "evaluate for",
                     "concern for", "possible", "possibly", "suspected", "suspect", "questionable",
                     "cannot exclude", "may have", "risk of", "workup for", "monitor for")
_TERMINATORS = ("but", "however", "although", "though", "except", "apart from", "aside from", "which",
                "who", "presents", "presented", "reports", "complains", "with", "and has", "yet", "still",
                "now", "since", "because", "as well as", "and new", "and a new", "and shows", "and there is",
                "and there are", "and there was", "and is", "and was", "and are")
# Words that break a negation scope only (lists like "no fever, chills or cough" continue through commas).
_SENTENCE_END = re.compile(r"(?<!\b[A-Z])(?<!\bDr)(?<!\bvs)(?<!\d)[.!?;](?=\s|$)|\n\s*\n|\n(?=\s*[-*•\d])")


@dataclass(frozen=True)
class Context:
    """Assertion status of one mention."""

    negated: bool = False
    historical: bool = False
    family: bool = False
    hypothetical: bool = False
    #: about an earlier encounter (a previous admission or visit, "two months ago", a past-history section), not
    #: today's: its vitals, results and symptoms are not today's findings
    earlier: bool = False
    #: named as what provokes or worsens another complaint ("headache worse on bending or coughing", "pain on
    #: coughing"), not reported as a complaint of its own: neither present nor absent
    provoking: bool = False
    #: under a past-medical-history heading or trigger ("PMH", "previously", "in the past"): the patient's
    #: conditions and past events, not today's symptoms or results
    past_history: bool = False
    trigger: str | None = None
    trigger_start: int | None = None


def _alt(words: tuple[str, ...]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_WORD = re.compile(r"\w")


class _Triggers:
    """A trigger lexicon, ``\\b(?:words)\\b`` matched case-insensitively, found fast in a sentence window.

    The window is lowered once and scanned with a case-sensitive pattern without the leading ``\\b`` (``re`` then
    skips ahead by first letter); the ``\\b`` is checked on each hit. The spans are those of ``self.rx``.
    """

    def __init__(self, words: tuple[str, ...], extra: str = "") -> None:
        tail = f"|{extra}" if extra else ""
        self.rx = re.compile(rf"\b(?:{_alt(words)})\b{tail}", re.I)
        # the fast scan needs lower-case ASCII words that start with a word character
        simple = all(_WORD.match(w) and w == w.lower() and w.isascii() for w in words)
        self._loose = re.compile(rf"(?:{_alt(words)})\b{tail}") if simple else None

    def spans(self, text: str, low: str | None) -> list[tuple[int, int]]:
        """``[m.span() for m in self.rx.finditer(text)]``; ``low`` is ``patterns.lower_exactly(text)``."""
        if low is None or self._loose is None:
            return [m.span() for m in self.rx.finditer(text)]
        out: list[tuple[int, int]] = []
        pos = 0
        search, word = self._loose.search, _WORD.match
        while (m := search(low, pos)) is not None:
            a, b = m.span()
            if a and word(low, a) and word(low, a - 1):  # a word trigger must start a word
                pos = a + 1
                continue
            out.append((a, b))
            pos = b
        return out

    def found(self, text: str, low: str | None) -> bool:
        """Whether ``self.rx`` matches anywhere in ``text``."""
        if low is None or self._loose is None:
            return self.rx.search(text) is not None
        search, word = self._loose.search, _WORD.match
        pos = 0
        while (m := search(low, pos)) is not None:
            a = m.start()
            if not (a and word(low, a) and word(low, a - 1)):
                return True
            pos = a + 1
        return False


_PRE_NEG = _Triggers(_NEGATION_PRE)
_POST_NEG = _Triggers(_NEGATION_POST)
_HIST = _Triggers(_HISTORICAL_PRE)
_HYPO = _Triggers(_HYPOTHETICAL_PRE)
_TERM = _Triggers(_TERMINATORS, extra="[:]")
# Experiencer (ConText): a relative as the subject of a clinical statement, not any mention of one ("brought in
# by her daughter" is not about the daughter's health).
_RELATIVE = (r"(?:father|mother|dad|mum|mom|brother|sister|sibling|son|daughter|grandmother|grandfather|aunt|"
             r"uncle|cousin|parents?|twin)")
_FAMILY_RX = re.compile(
    r"\b(?:family history|fhx|f/h|family hx)\b"
    rf"|\b{_RELATIVE}(?:'s)?\s+(?:had|has|have|with|died|was diagnosed|diagnosed|suffered|developed|underwent|"
    r"passed away|who had)\b"
    rf"|\b(?:in|of) (?:his|her|their|the patient's|a) {_RELATIVE}\b"
    rf"|\b{_RELATIVE}'s\b|\b{_RELATIVE}\s*:", re.I)
# What ends an experiencer or temporal scope: a change back to the patient or to today (ConText terminators for
# those scopes; "with" and ":" do not end them: "Family history: father with an MI").
_SCOPE_END = re.compile(
    r"\b(?:but|however|although|though|except|apart from|aside from|the patient|patient|presents|presented|"
    r"today|now|currently|this admission|on admission|on arrival|at presentation|this time|this morning|"
    r"tonight|this evening|himself|herself)\b", re.I)
_NUMBER_WORD = r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|several|a few|few|many)"
_ENCOUNTER = r"(?:admissions?|visits?|attendances?|presentations?|episodes?|clinic|appointments?|reviews?|encounters?)"
# Temporality (ConText "historical" for an encounter): an earlier visit or admission, or months and years ago.
# Days and hours ago are left alone: they date today's illness ("pain began two days ago").
_EARLIER_RX = re.compile(
    rf"\b{_NUMBER_WORD}\s+(?:months?|years?)\s+(?:ago|earlier|before|previously)\b"
    rf"|\b(?:last|previous|prior|earlier|an earlier|a previous|a prior|his last|her last|their last)\s+"
    rf"(?:hospital\s+)?{_ENCOUNTER}\b"
    rf"|\b(?:at|on|during) (?:a|an|his|her|their) (?:visit|admission|clinic|appointment|review|attendance)\b"
    rf"[^.;\n]{{0,40}}\b{_NUMBER_WORD}\s+(?:weeks?|months?|years?)\s+ago\b"
    rf"|\b{_NUMBER_WORD}\s+weeks?\s+ago\b[^.;\n]{{0,40}}\b(?:at|in|on|during)\s+(?:a\s+|the\s+|his\s+|her\s+)?"
    rf"(?:visit|clinic|admission|appointment|review|attendance|surgery|practice)\b"
    r"|\blast (?:year|month)\b|\bin (?:19|20)\d\d\b", re.I)
# Section headers: a family-history or past-history section holds no finding of today's illness.
_SECTION_RX = re.compile(
    r"(?:^|\n|(?<=[.;!?])[ \t]+)[ \t]*(?P<name>family history|fhx|fh|family hx|social history|shx|"
    r"past medical history|pmhx?|past history|past medical and surgical history|previous admissions?|"
    r"earlier history[^:\n]{0,80}|prior admissions?|old notes|history of (?:presenting|present) (?:complaint|illness)|"
    r"hpi|hpc|presenting complaint|examination|on examination|o/e|investigations|results|assessment|impression|"
    r"plan|medications|drug history|allergies|today|current admission)\s*[:\-\u2013]", re.I)
_SECTION_KIND = {"family history": "family", "fhx": "family", "fh": "family", "family hx": "family",
                 "past medical history": "past", "pmh": "past", "pmhx": "past", "past history": "past",
                 "past medical and surgical history": "past", "previous admission": "past",
                 "previous admissions": "past", "prior admission": "past", "prior admissions": "past",
                 "old notes": "past"}


@lru_cache(maxsize=64)
def sections(text: str) -> tuple[tuple[int, int, str], ...]:
    """``(start, end, kind)`` of the family-history and past-history sections of ``text``.

    A section runs from its header ("Family history:", "PMH -", "Earlier history (previous admissions):") to the
    next header or blank line. Past-medical-history lists name the patient's conditions (risk factors, kept);
    sections of earlier encounters ("previous admissions", "earlier history") are not today's findings.
    """
    heads = list(_SECTION_RX.finditer(text))
    out = []
    for i, m in enumerate(heads):
        name = " ".join(m.group("name").lower().split())
        kind = "earlier" if name.startswith("earlier history") else _SECTION_KIND.get(name)
        if kind is None:
            continue
        stop = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        blank = re.search(r"\n[ \t]*\n", text[m.end():stop])
        out.append((m.start("name"), m.end() + blank.start() if blank else stop, kind))
    return tuple(out)


def section_kind(text: str, pos: int) -> str | None:
    """``family``, ``past`` or ``earlier`` when ``pos`` lies in such a section of ``text``, else ``None``."""
    for a, b, kind in sections(text):
        if a <= pos < b:
            return kind
    return None


def _in_scope(rx: re.Pattern[str], before: str, after: str, *, both: bool) -> bool:
    """Whether a trigger of ``rx`` reaches the mention: before it (or, with ``both``, after it) within the
    sentence window, with no ``_SCOPE_END`` word between trigger and mention."""
    found = None
    for found in rx.finditer(before):  # noqa: B007 - the nearest trigger before the mention
        pass
    if found is not None and not _SCOPE_END.search(before[found.end():]) and \
            not enclosed_before(before, found.start()):
        return True
    if both:
        m = rx.search(after)
        if m is not None and not _SCOPE_END.search(after[:m.start()]) and not enclosed_after(after, m.start()):
            return True
    return False


def enclosed_before(before: str, pos: int) -> bool:
    """Whether position ``pos`` of the text before a mention lies in a parenthesis closed before the mention
    ("creatinine (normal 6 months ago), c-ANCA positive": the aside dates its own words, not what follows)."""
    opened = before.rfind("(", 0, pos)
    return opened != -1 and ")" not in before[opened:pos] and ")" in before[pos:]


def enclosed_after(after: str, pos: int) -> bool:
    """Whether position ``pos`` of the text after a mention lies in a parenthesis opened after the mention."""
    opened = after.rfind("(", 0, pos)
    return opened != -1 and ")" not in after[opened:pos]


# A complaint named only as what provokes or worsens another ("worse on bending/coughing", "pain on coughing",
# "brought on by exertion"): the nearest words before the mention are the provoking phrase, optionally followed
# by a short list of other provokers ("bending/", "lying flat or").
_PROVOKING_RX = re.compile(
    r"(?:\b(?:worse|worsens|worsened|worsening|exacerbated|aggravated|provoked|brought on|triggered|precipitated|"
    r"made worse|increases|increased)\s+(?:(?:in the \w+|at night|mainly|especially|particularly|only)\s+"
    r"(?:and\s+)?)?(?:on|with|by|when|while|after|during)"
    r"|\b(?:pain|painful|hurts|discomfort)\s+(?:on|when|while|during))\s+"
    r"(?:[\w-]+\s*(?:/|,|\bor\b|\band\b)\s*){0,3}$", re.I)
# A mention hedged right after it ("sensory level unclear", "clonus equivocal", "? pneumonia"): not asserted.
_HEDGE_POST = re.compile(r"\s*(?:is\s+|was\s+|felt\s+)?(?:unclear|equivocal|uncertain|indeterminate|questionable|"
                         r"not clear|difficult to assess|\?)(?![\w-])", re.I)
# A mention whose status the note says is unknown ("history of liver disease or stroke could not be obtained",
# "family history unknown"): neither present nor absent. A short coordinated list may stand between.
_UNKNOWN_POST = re.compile(r"(?:\s*(?:,|\bor\b|\band\b)\s*[\w\s-]{1,40}?)?\s*(?:(?:could|can|was|were)\s*not\s+be\s+"
                           r"(?:obtained|assessed|determined|ascertained|established|elicited|evaluated)|"
                           r"(?:is|was|are|were|remains?|remained)\s+(?:unknown|not\s+known|unavailable|"
                           r"not\s+available))\b", re.I)
_PAST_TRIGGERS = ("pmh", "past medical history", "previously", "in the past")


_PSEUDO = re.compile(r"\b(?:no increase|not only|no change|not necessarily|without difficulty|no further "
                     r"(?:workup|imaging)|gram[- ]negative|not ruled out|no doubt)\b", re.I)


@lru_cache(maxsize=64)
def sentence_bounds(text: str) -> tuple[tuple[int, int], ...]:
    """Sentence (start, end) offsets; splits on . ! ? ; and blank lines, not on decimals or abbreviations."""
    bounds = []
    start = 0
    for m in fast_finditer(_SENTENCE_END, text):
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


_LIST_SPLIT = re.compile(r",|;|\bor\b|\band\b|\bnor\b")


def _too_far(between: str) -> bool:
    """Whether a negation trigger is too far before a mention: more than 8 words (NegEx-style window), unless the
    words between are a list of short items ("no hearing loss, tinnitus, headache, diplopia, dysarthria or limb
    weakness"), which a negation covers to its end (up to 30 words)."""
    words = len(between.split())
    if words <= 8:
        return False
    items = [_LIST_LEAD.sub("", x) for x in _LIST_SPLIT.split(between) if x.strip()]
    return words > 30 or len(items) < 2 or any(len(x.split()) > 4 for x in items)


# An item of a negated list may carry its own lead-in ("denies any past history of heart disease, renal
# disease or cancer"; "no heart failure, history of a solid tumour, or ulcer disease"): not counted as words.
_LIST_LEAD = re.compile(r"^\s*(?:(?:any|a|an|prior|previous|past|personal|known|medical)\s+|"
                        r"(?:history|hx|episodes?)\s+(?:of\s+)?)+", re.I)


def assertion_context(text: str, start: int, end: int) -> Context:
    """Classify the mention ``text[start:end]`` as negated / historical / family / hypothetical."""
    s, e = _sentence_of(text, start)
    s = max(s, start - CONTEXT_WINDOW)
    e = min(e, end + CONTEXT_WINDOW)
    before = text[s:start]
    after = text[end:e]
    low_before, low_after = lower_exactly(before), lower_exactly(after)
    negated = False
    trigger = None
    trigger_start = None
    # pre-negation: the nearest trigger before the mention with no terminator in between. Triggers are tried
    # nearest first: once one is cut off by a terminator or lies too far away, every earlier one is too.
    for a, b in reversed(_PRE_NEG.spans(before, low_before)):
        if _PSEUDO.match(before, a):
            continue
        between = before[b:]
        if _TERM.found(between, low_before and low_before[b:]) or _too_far(between):
            break
        if enclosed_before(before, a):
            break  # "(not on treatment)" negates its own aside
        if before[a:b].lower() == "not" and re.search(r"[,;]", between):
            break  # "not" negates its own phrase ("not sleeping, talking to himself"); lists take "no"/"denies"
        negated, trigger, trigger_start = True, before[a:b], s + a
        break
    if not negated:
        post = _POST_NEG.spans(after, low_after)[:1]
        if post:
            a, b = post[0]
            gap = after[:a]
            # "ascitic neutrophils 640/mm3, gram stain negative": once the mention has its own value, a
            # "negative" after the next comma belongs to another test
            own_value = re.search(r"\d[^,;]*[,;]", gap) is not None
            if not _TERM.found(gap, low_after and low_after[:a]) and len(gap.split()) <= 4 and not own_value:
                negated, trigger, trigger_start = True, after[a:b], end + a

    def scoped(triggers: _Triggers) -> bool:
        # a trigger whose scope reaches the mention: only the nearest can (a terminator after it cuts every
        # earlier one too)
        found = triggers.spans(before, low_before)
        return bool(found) and not _TERM.found(before[found[-1][1]:], low_before and low_before[found[-1][1]:])

    section = section_kind(text, start)
    hist = _HIST.spans(before, low_before)
    past_history = section == "past" or (bool(hist) and before[hist[-1][0]:hist[-1][1]].lower() in _PAST_TRIGGERS
                                         and not _TERM.found(before[hist[-1][1]:], low_before and
                                                             low_before[hist[-1][1]:]))
    provoking = not negated and _PROVOKING_RX.search(before[-80:]) is not None
    family = section == "family" or _in_scope(_FAMILY_RX, before, "", both=False)
    earlier = section == "earlier" or _in_scope(_EARLIER_RX, before, after, both=True)
    hedged = _HEDGE_POST.match(after) is not None or (not negated and _UNKNOWN_POST.match(after) is not None)
    return Context(negated=negated, historical=scoped(_HIST) or section == "past" or earlier, family=family,
                   hypothetical=scoped(_HYPO) or hedged, earlier=earlier, provoking=provoking, past_history=past_history,
                   trigger=trigger, trigger_start=trigger_start)
