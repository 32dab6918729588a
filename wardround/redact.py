"""PHI redaction helpers for logs and run records: pattern redaction, echo scrubbing and a logging filter.

``redact(text)`` replaces what looks like a personal identifier in a clinical note -- names introduced by a
title or a label ("Mr. John Smith", "Patient: Jane Doe"), dates, medical record and other identifying numbers,
phone numbers, e-mail addresses and street addresses -- with a bracketed placeholder such as ``[NAME]``.

Limits (read them before relying on it):

- It is a helper for keeping logs, run records and shared examples clean, **not a de-identification
  guarantee**. It meets neither HIPAA Safe Harbor (it does not remove every one of the 18 identifiers, e.g.
  ages over 89, geographic units smaller than a state, device or vehicle numbers, URLs, photos) nor Expert
  Determination. Data that leaves your control needs a validated de-identification tool and a human review.
- It is pattern-based and English-centred: a name is only found when a title (Mr, Mrs, Ms, Dr, ...) or a label
  ("Patient:", "Name:", "Pt name:") introduces it, so bare names ("John came in with ..."), nicknames, names
  in capitals, lower-case particles ("al-", "van"), misspellings and names in other scripts are missed; dates
  in unusual formats and foreign address or phone formats may be missed; and a clinical eponym after a title
  ("Dr. Seuss") is redacted like any name.
- Why not a library: Microsoft Presidio and Philter need spaCy language models or large lexicons that cannot be
  installed offline here, and the job at hand -- keeping note text out of logs -- is done mainly by
  ``scrub_echo`` (removing any verbatim copy of the note), with ``redact`` as a second layer.

``scrub_echo(text, sources)`` removes every run of at least ``min_words`` consecutive words of ``text`` that
also occurs in one of ``sources`` (the case note, the question), then applies ``redact``: a log line or an
error message that quotes the note loses the quote but keeps the rest.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

_TITLE = r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Professor|Sir|Dame|Mme|Mlle|Sr|Sra|Herr|Frau)"
_NAME_WORD = r"[A-Z](?:[a-z'\u00C0-\u024F-][a-zA-Z'\u00C0-\u024F-]*|\.)"  # a capitalised word or an initial
_MONTHS = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?"
           r"|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
_STREET = (r"(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Boulevard|Blvd|Court|Ct|Way|Place|Pl|Terrace|"
           r"Close|Crescent|Square|Sq|Parkway|Pkwy|Highway|Hwy)")
_US_STATE = (r"(?:AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|"
             r"NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC)")

#: (kind, compiled pattern, group holding the identifier: 0 = the whole match). Order matters: earlier kinds win.
PATTERNS: list[tuple[str, re.Pattern[str], int]] = [
    ("EMAIL", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"), 0),
    ("ID", re.compile(
        r"\b(?:MRN|medical\s+record\s+(?:number|no\.?|#)|record\s+(?:number|no\.?|#)|hospital\s+(?:number|no\.?)|"
        r"patient\s+(?:id|number|no\.?)|NHS\s+(?:number|no\.?)|account\s+(?:number|no\.?)|SSN|social\s+security"
        r"(?:\s+number)?|insurance\s+(?:id|number))\s*[:#]?\s*((?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{3,})",
        re.I), 1),
    ("ID", re.compile(r"\b\d{3}-\d{2}-\d{4}\b"), 0),  # US social security number shape
    ("PHONE", re.compile(
        r"(?<![\w/.])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)\s?|\d{2,4}[\s.-])\d{3,4}[\s.-]\d{3,4}(?![\w/.])"
        r"|(?<![\w/.])\+\d{1,3}(?:[\s.-]?\d{2,4}){3,4}(?![\w/.])"), 0),
    ("ADDRESS", re.compile(
        rf"\b\d{{1,5}}\s+(?:{_NAME_WORD}\s+){{1,3}}{_STREET}\b\.?(?:,?\s+(?:{_NAME_WORD}\s*){{1,3}})?"
        rf"(?:,?\s+{_US_STATE}\b)?(?:,?\s+\d{{5}}(?:-\d{{4}})?)?"), 0),
    ("ADDRESS", re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s+\d[ABD-HJLNP-UW-Z]{2}\b"), 0),  # UK postcode
    ("ADDRESS", re.compile(rf"\b{_US_STATE}\s+\d{{5}}(?:-\d{{4}})?\b"), 0),  # US state + ZIP
    ("DATE", re.compile(
        rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}\.?,?\s+\d{{2,4}}\b"
        rf"|\b{_MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{2,4}}\b"
        rf"|\b{_MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?!\s*(?:mg|mL|%|mm|cm|kg|units?)\b)"
        r"|\b\d{4}-\d{1,2}-\d{1,2}\b|\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b"), 0),
    ("NAME", re.compile(rf"\b{_TITLE}\.?\s+((?:{_NAME_WORD}\s+){{0,3}}{_NAME_WORD})"), 1),
    ("NAME", re.compile(
        rf"\b(?i:patient|pt|name|patient\s+name|pt\s+name|full\s+name|next\s+of\s+kin|nok|contact|guardian|"
        rf"signed\s+by|seen\s+by|attending|resident|referred\s+by)\s*[:\-]\s*((?:{_NAME_WORD},?\s+){{0,3}}{_NAME_WORD})"),
        1),
]

KINDS = ("NAME", "DATE", "ID", "PHONE", "EMAIL", "ADDRESS")


@dataclass(frozen=True)
class Redaction:
    """One replaced span: its kind and its character offsets in the *original* text (the text is not kept)."""

    kind: str
    start: int
    end: int


@dataclass
class RedactionResult:
    """The redacted text and what was replaced."""

    text: str
    redactions: list[Redaction] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        """Number of redactions per kind."""
        out: dict[str, int] = {}
        for r in self.redactions:
            out[r.kind] = out.get(r.kind, 0) + 1
        return out

    def __str__(self) -> str:
        return self.text


def redact(text: str, *, kinds: Iterable[str] = KINDS, placeholder: str = "[{kind}]") -> RedactionResult:
    """Replace names (after a title or label), dates, record numbers, phones, e-mails and addresses in ``text``.

    Args:
        text: any text, e.g. a clinical note or a log line.
        kinds: the kinds to redact (default: all of ``KINDS``).
        placeholder: replacement, formatted with ``kind`` (default ``"[NAME]"`` style).

    Returns:
        ``RedactionResult`` with the new text and the replaced spans (offsets into ``text``). See the module
        docstring for what this does not catch: it is a helper, not a de-identification guarantee.
    """
    wanted = {k.upper() for k in kinds}
    unknown = wanted - set(KINDS)
    if unknown:
        raise ValueError(f"unknown redaction kind(s) {sorted(unknown)}; choose from {', '.join(KINDS)}")
    taken: list[Redaction] = []
    for kind, rx, group in PATTERNS:
        if kind not in wanted:
            continue
        for m in rx.finditer(text):
            start, end = m.span(group)
            if start < 0 or start == end:
                continue
            if any(r.start < end and start < r.end for r in taken):
                continue
            taken.append(Redaction(kind, start, end))
    taken.sort(key=lambda r: r.start)
    parts: list[str] = []
    pos = 0
    for r in taken:
        parts.append(text[pos:r.start])
        parts.append(placeholder.format(kind=r.kind))
        pos = r.end
    parts.append(text[pos:])
    return RedactionResult("".join(parts), taken)


_WORD = re.compile(r"\w+", re.UNICODE)
ECHO_PLACEHOLDER = "[note text]"



class EchoScrubber:
    """Finds verbatim copies of source texts in other texts: every run of ``min_words`` words a source contains."""

    def __init__(self, sources: Iterable[str | None] = (), *, min_words: int = 4) -> None:
        self.min_words = min_words
        self._grams: set[tuple[str, ...]] = set()
        self._lock = threading.Lock()
        self.add(*sources)

    def add(self, *sources: str | None) -> None:
        """Register more source texts (a case's note, chief complaint, question)."""
        n = self.min_words
        new: set[tuple[str, ...]] = set()
        for src in sources:
            if src:
                words = [w.lower() for w in _WORD.findall(src)]
                new.update(tuple(words[i:i + n]) for i in range(len(words) - n + 1))
        with self._lock:
            self._grams |= new

    def __bool__(self) -> bool:
        return bool(self._grams)

    def scrub(self, text: str, *, redact_patterns: bool = True) -> str:
        """``text`` with every copied run replaced by ``[note text]`` (then ``redact`` unless switched off)."""
        if not text:
            return text
        n = self.min_words
        out = text
        if self._grams:
            tokens = [(m.start(), m.end(), m.group(0).lower()) for m in _WORD.finditer(text)]
            covered = [False] * len(tokens)
            for i in range(len(tokens) - n + 1):
                if tuple(t[2] for t in tokens[i:i + n]) in self._grams:
                    for j in range(i, i + n):
                        covered[j] = True
            spans: list[list[int]] = []
            for (start, end, _), hit in zip(tokens, covered, strict=True):
                if not hit:
                    continue
                if spans and not text[spans[-1][1]:start].strip(_JOINERS):
                    spans[-1][1] = end  # join runs separated only by spaces and punctuation
                else:
                    spans.append([start, end])
            if spans:
                parts, pos = [], 0
                for start, end in spans:
                    parts += [text[pos:start], ECHO_PLACEHOLDER]
                    pos = end
                parts.append(text[pos:])
                out = "".join(parts)
        return redact(out).text if redact_patterns else out


_JOINERS = " \t\r\n,;:.\"'()[]{}\\-/"


def scrub_echo(text: str, sources: Iterable[str | None], *, min_words: int = 4, redact_patterns: bool = True) -> str:
    """Remove every run of ``min_words`` or more words of ``text`` copied from any of ``sources``; then ``redact``.

    Used to keep note text out of logs and evaluation records: an error message or a model answer that quotes
    the note keeps its own words and loses the quote (replaced by ``[note text]``).
    """
    return EchoScrubber(sources, min_words=min_words).scrub(text, redact_patterns=redact_patterns)


#: Keys of free text in evaluation records that may echo the input (scrubbed unless note text is allowed).
FREE_TEXT_KEYS = ("response", "reason", "issues", "rationale", "explanation", "note", "text", "question",
                  "error", "summary")


def scrub_free_text(data: Any, scrubber: EchoScrubber, keys: Iterable[str] = FREE_TEXT_KEYS) -> Any:
    """A copy of ``data`` (nested dicts and lists) whose strings under ``keys`` are scrubbed; the rest is kept."""
    wanted = set(keys)

    def walk(value: Any, inside: bool) -> Any:
        if isinstance(value, str):
            return scrubber.scrub(value) if inside else value
        if isinstance(value, dict):
            return {k: walk(v, inside or k in wanted) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [walk(v, inside) for v in value]
        return value

    return walk(data, False)


def source_texts(value: Any, *, limit: int = 10_000) -> list[str]:
    """Every string inside ``value`` (a case, a dataset row: nested dicts, lists, pydantic models), at most ``limit``."""
    out: list[str] = []

    def walk(v: Any) -> None:
        if len(out) >= limit:
            return
        if isinstance(v, str):
            if len(v.split()) >= 4:
                out.append(v)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list | tuple | set):
            for x in v:
                walk(x)
        elif hasattr(v, "model_dump"):
            walk(v.model_dump())

    walk(value)
    return out


class NoteTextFilter(logging.Filter):
    """A logging filter that scrubs registered note texts (and PHI patterns) out of every record it sees.

    Install it on the handlers that write logs (``scrubbed_logs``); register each case's note with
    ``add_source`` as it is loaded. Records are rewritten in place, never dropped.
    """

    def __init__(self) -> None:
        super().__init__()
        self.scrubber = EchoScrubber()

    def add_source(self, *texts: str | None) -> None:
        """Texts that must never appear in a log line (a case's note, chief complaint, question)."""
        self.scrubber.add(*texts)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is logging's problem, not ours
            return True
        scrubbed = self.scrubber.scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, ()
        if record.exc_info and record.exc_info[1] is not None and self.scrubber:
            # the traceback text is formatted later from the exception: scrub it now and drop the original
            import traceback

            text = "".join(traceback.format_exception(*record.exc_info))
            record.msg = f"{record.msg}\n{self.scrubber.scrub(text)}"
            record.exc_info, record.exc_text = None, None
        return True


#: Third-party loggers that write whole request bodies (prompts with the note) at DEBUG level.
CHATTY_LOGGERS = ("openai", "httpx", "httpx2", "httpcore", "httpcore2", "urllib3", "langchain", "langchain_core",
                  "langchain_openai", "anthropic", "ollama", "langsmith")


@contextlib.contextmanager
def scrubbed_logs(*sources: str | None, enabled: bool = True,
                  quiet_third_party: bool = True) -> Iterator[NoteTextFilter | None]:
    """While active, log handlers scrub ``sources`` (add more through the yielded filter) and PHI patterns.

    Args:
        sources: note texts that must not reach a log.
        enabled: ``False`` (the user opted in with ``--log-text``) makes this a no-op that yields ``None``.
        quiet_third_party: hold client libraries that log request bodies at DEBUG at INFO meanwhile.
    """
    if not enabled:
        yield None
        return
    flt = NoteTextFilter()
    flt.add_source(*sources)
    handlers = list(logging.getLogger().handlers) or [logging.lastResort]
    handlers = [h for h in handlers if h is not None]
    for h in handlers:
        h.addFilter(flt)
    saved: dict[str, int] = {}
    if quiet_third_party:
        for name in CHATTY_LOGGERS:
            lg = logging.getLogger(name)
            if lg.getEffectiveLevel() < logging.INFO:
                saved[name] = lg.level
                lg.setLevel(logging.INFO)
    try:
        yield flt
    finally:
        for h in handlers:
            h.removeFilter(flt)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)
