"""Age and sex from note text ("72-year-old man", "45 yo F", "Age: 60", pronouns as a last resort).

A leaf (standard library only), below ``wardround.case``: ``Case.from_text`` reads age and sex with it without
importing the extraction layer above the case model. It is the one copy of these patterns: the note reader
(``wardround.extract``) imports ``Demographics`` and ``extract_demographics`` from here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_AGE_PATTERNS = [
    re.compile(r"\b(\d{1,3}(?:\.\d)?)[\s-]*(?:year|yr)s?[\s-]*old\b", re.I),
    re.compile(r"\b(\d{1,3})\s*(?:yo|y/o|y\.o\.|yrs?|years?)\b(?!\s+(?:ago|history|before|later|prior))", re.I),
    re.compile(r"\b(?:age|aged)\s*[:=]?\s*(\d{1,3})\b", re.I),
    re.compile(r"\b(\d{1,3})\s*(?:M|F)\b(?=[\s,.])"),
]
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_UNITS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
_TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
          "seventeen": 17, "eighteen": 18, "nineteen": 19}
_WORD_AGE = re.compile(r"\b(?:(twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[\s-](one|two|three|four|five|"
                       r"six|seven|eight|nine))?|(ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|"
                       r"eighteen|nineteen)|(one|two|three|four|five|six|seven|eight|nine))[\s-]*(?:year|yr)s?[\s-]*old\b",
                       re.I)
_MONTHS_OLD = re.compile(r"\b(\d{1,2})[\s-]*(?:month|mo)s?[\s-]*old\b", re.I)
_DAYS_WEEKS_OLD = re.compile(r"\b(\d{1,2})[\s-]*(day|week|wk)s?[\s-]*old\b", re.I)
#: A newborn or neonate named at the start of the note (not "the mother of a newborn" further on).
_NEWBORN = re.compile(r"\b(?:newborn|new-born|neonate|neonatal)\b", re.I)
_NEWBORN_WITHIN = 120
_MALE = re.compile(r"\b(?:man|male|gentleman|boy|M|he|his|him|mr\.?)\b", re.I)
_FEMALE = re.compile(r"\b(?:woman|female|lady|girl|F|she|her|hers|mrs\.?|ms\.?|pregnant)\b", re.I)
_FEMALE_ONLY = re.compile(r"\b(?:primigravida|multigravida|gravida|primipara|multipara|pregnan(?:t|cy)|"
                          r"menstrua(?:l|tion)|menses|postpartum|breastfeeding|uterus|uterine|ovar(?:y|ian)|"
                          r"G\d+P\d+)\b", re.I)
_SEX_NEAR_AGE = re.compile(r"(?:year|yr)s?[\s-]*old,?\s+(?:[a-z]+\s+){0,2}?(man|male|gentleman|boy|woman|female|"
                           r"lady|girl)\b|\b\d{1,3}\s*(?:yo|y/o)?\s*(M|F)\b", re.I)


@dataclass(frozen=True)
class Demographics:
    """Age (years) and sex read from text, with the spans they came from."""

    age: float | None = None
    age_span: tuple[int, int] | None = None
    sex: str | None = None
    sex_span: tuple[int, int] | None = None


def extract_demographics(text: str) -> Demographics:
    """Read age and sex from the first mention in the note."""
    age = age_span = None
    best = None
    for rx in _AGE_PATTERNS:
        m = rx.search(text)
        if m and (best is None or m.start() < best.start()):
            value = float(m.group(1))
            if 0 <= value <= 125:
                best = m
    wm = _WORD_AGE.search(text)
    if wm is not None and (best is None or wm.start() < best.start()):
        words = [w.lower() if w else None for w in wm.groups()]
        value = (_TENS.get(words[0] or "", 0) + _UNITS.get(words[1] or "", 0) + _TEENS.get(words[2] or "", 0)
                 + _UNITS.get(words[3] or "", 0))
        age, age_span = float(value), wm.span()
    elif best is not None:
        age, age_span = float(best.group(1)), best.span()
    else:
        m = _MONTHS_OLD.search(text)
        d = _DAYS_WEEKS_OLD.search(text)
        n = _NEWBORN.search(text, 0, _NEWBORN_WITHIN)
        if m:
            age, age_span = round(int(m.group(1)) / 12.0, 2), m.span()
        elif d:
            per_year = 365.0 if d.group(2).lower() == "day" else 52.0
            age, age_span = round(int(d.group(1)) / per_year, 3), d.span()
        elif n:
            age, age_span = 0.0, n.span()
    sex = sex_span = None
    m = _SEX_NEAR_AGE.search(text)
    if m:
        word = (m.group(1) or m.group(2)).lower()
        sex = "female" if word in ("woman", "female", "lady", "girl", "f") else "male"
        g = 1 if m.group(1) else 2
        sex_span = m.span(g)
    else:
        males = list(_MALE.finditer(text))
        females = list(_FEMALE.finditer(text))
        # bare "M"/"F" tokens are only trusted next to an age, handled above
        males = [x for x in males if x.group(0) not in ("M",)]
        females = [x for x in females if x.group(0) not in ("F",)]
        # anatomy and obstetrics that only apply to women weigh more than pronouns
        females += [x for x in _FEMALE_ONLY.finditer(text)] * 3
        females.sort(key=lambda x: x.start())
        if len(males) > len(females):
            sex, sex_span = "male", males[0].span()
        elif len(females) > len(males):
            sex, sex_span = "female", females[0].span()
    return Demographics(age=age, age_span=age_span, sex=sex, sex_span=sex_span)
