"""Dates and durations from note text: calendar dates, last menstrual period, cycle length, "3 weeks ago".

Dates are read in the forms notes use (``05/23/2024`` US month/day/year, ISO ``2024-05-23``, ``May 23, 2024``,
``23 May 2024``); each mention keeps its exact span so it can be cited.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from wardround.patterns import fast_finditer

_MONTHS = {m: i + 1 for i, m in enumerate(("january", "february", "march", "april", "may", "june", "july", "august",
                                             "september", "october", "november", "december"))}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_MON = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|" \
       r"nov(?:ember)?|dec(?:ember)?)\.?"
_DATE_RX = re.compile(
    r"(?<![\d/])(?P<us>(\d{1,2})/(\d{1,2})/(\d{4}|\d{2}))(?![\d/])"
    r"|(?<![\d-])(?P<iso>(\d{4})-(\d{1,2})-(\d{1,2}))(?![\d-])"
    rf"|(?P<mdy>\b{_MON}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}}))\b"
    rf"|(?P<dmy>\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MON},?\s+(\d{{4}}))\b",
    re.I)

_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "several": 3,
                 "few": 3, "couple": 2}
_UNIT_DAYS = {"hour": 1 / 24, "day": 1.0, "week": 7.0, "month": 30.44, "year": 365.25}
_NUMBER = r"(\d+(?:\.\d+)?|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen|several|few|" \
          r"a\s+couple\s+of|couple\s+of)"
_DURATION_RX = re.compile(
    rf"\b{_NUMBER}[\s-]+(hours?|hrs?|days?|weeks?|wks?|months?|mos?|years?|yrs?)\b(?P<ago>\s+(?:ago|prior|before|earlier|"
    r"previously))?", re.I)
_CYCLE_RX = re.compile(
    r"\b(?:(?:menstrual\s+)?cycles?(?:\s+length)?|cycle\s+length)\b[^\d\n.]{0,25}?(\d{2})\s*(?:-|\s)?days?\b"
    r"|\b(\d{2})[\s-]*days?\s+(?:menstrual\s+)?cycles?\b", re.I)
_LMP_RX = re.compile(r"\b(?:last\s+menstrual\s+period|LMP|last\s+(?:menstrual\s+)?period|last\s+menses|"
                     r"last\s+menstruation)\b", re.I)
_TODAY_RX = re.compile(r"\b(?:today(?:'s|’s)?(?:\s+date)?|current\s+date|date\s+of\s+(?:the\s+)?(?:visit|"
                       r"examination|presentation)|presents?\s+(?:today|on))\b", re.I)


@dataclass(frozen=True)
class DateMention:
    """A calendar date in the note and its span."""

    date: dt.date
    start: int
    end: int


@dataclass(frozen=True)
class Duration:
    """A span of time ("3 weeks", "2 days ago") in days, with its span; ``ago`` marks a time before now."""

    days: float
    value: float
    unit: str
    ago: bool
    start: int
    end: int


@dataclass(frozen=True)
class CycleLength:
    """Menstrual cycle length in days and its span."""

    days: int
    start: int
    end: int


def _year(y: str) -> int:
    n = int(y)
    return n + (2000 if n < 50 else 1900) if len(y) == 2 else n


def _month(name: str) -> int:
    return _MONTHS[name.lower().rstrip(".")[:4] if name.lower().startswith("sept") else name.lower().rstrip(".")[:3]]


def extract_dates(text: str) -> list[DateMention]:
    """Every calendar date written in the note (invalid dates such as 02/30/2020 are skipped)."""
    out = []
    for m in fast_finditer(_DATE_RX, text):
        try:
            if m.group("us"):
                d = dt.date(_year(m.group(4)), int(m.group(2)), int(m.group(3)))
            elif m.group("iso"):
                d = dt.date(int(m.group(6)), int(m.group(7)), int(m.group(8)))
            elif m.group("mdy"):
                d = dt.date(int(m.group(12)), _month(m.group(10)), int(m.group(11)))
            else:
                d = dt.date(int(m.group(16)), _month(m.group(15)), int(m.group(14)))
        except (ValueError, KeyError):
            continue
        out.append(DateMention(d, m.start(), m.end()))
    return out


def _date_after(text: str, rx: re.Pattern[str], window: int = 60) -> DateMention | None:
    dates = extract_dates(text)
    for m in fast_finditer(rx, text):
        for d in dates:
            if m.end() <= d.start <= m.end() + window and not re.search(r"[.;]\s", text[m.end():d.start]):
                return d
    return None


def find_last_menstrual_period(text: str) -> DateMention | None:
    """The date given as the last menstrual period ("LMP: 02/14/2024", "last menstrual period was on ...")."""
    return _date_after(text, _LMP_RX)


def find_current_date(text: str) -> DateMention | None:
    """The date the note calls today / the current date."""
    return _date_after(text, _TODAY_RX, window=40)


def find_cycle_length(text: str) -> CycleLength | None:
    """The menstrual cycle length in days ("cycle length is 22 days", "30-day cycles")."""
    for m in fast_finditer(_CYCLE_RX, text):
        days = int(m.group(1) or m.group(2))
        if 15 <= days <= 60:
            return CycleLength(days, m.start(), m.end())
    return None


def extract_durations(text: str) -> list[Duration]:
    """Durations in days ("for 3 days", "2 weeks ago", "a couple of months")."""
    out = []
    for m in fast_finditer(_DURATION_RX, text):
        raw = m.group(1).lower()
        raw_key = raw.split()[-2] if raw.endswith(" of") else raw
        value = float(raw) if raw[0].isdigit() else float(_NUMBER_WORDS.get(raw_key, _NUMBER_WORDS.get(raw, 1)))
        unit_word = m.group(2).lower()
        unit = next((u for u in _UNIT_DAYS if unit_word.startswith(u[:2]) and not (u == "month" and unit_word[:2] == "mi")),
                    "day")
        if unit_word.startswith(("hr", "hour")):
            unit = "hour"
        elif unit_word.startswith(("wk", "week")):
            unit = "week"
        elif unit_word.startswith(("mo",)):
            unit = "month"
        elif unit_word.startswith(("yr", "year")):
            unit = "year"
        out.append(Duration(value * _UNIT_DAYS[unit], value, unit, bool(m.group("ago")), m.start(), m.end()))
    return out
