"""Weight, height and BMI from note text ("weighed 180 lbs", "5'9\"", "1.65 m tall", "BMI 31.2 kg/m2").

Each fact keeps the exact span it came from. Values are converted with ``wardround.units.DIMENSIONS``
(kg, cm, kg/m²), never with a second table.
"""

from __future__ import annotations

import re

from wardround.extract.facts import Fact
from wardround.patterns import fast_finditer
from wardround.units import DIMENSIONS

_N = r"(\d{1,3}(?:[.,]\d+)?)"
_GAP = r"[^\d\n.;]{0,30}?"  # a short run of words between a label and its number ("weight on admission was")

_WEIGHT_LABELLED = re.compile(
    rf"\b(?:body\s+)?(?:weight|weighs|weighed|weighing|wt\.?)\b{_GAP}(\d{{1,4}}(?:[.,]\d+)?)\s*(kg|kilograms?|kgs|lbs?|pounds?|g\b|grams?)",
    re.I)
_WEIGHT_BARE = re.compile(rf"(?<![/\d.])\b{_N}[\s-]*(kg|kilograms?|kgs|lbs?|pounds?)\b(?!\s*/|\s*per\b)", re.I)
_HEIGHT_FT_IN = re.compile(
    r"(?<![\d.])(\d)\s*(?:'|′|’|ft\.?|feet|foot)\s*(?:,?\s*(?:and\s+)?(\d{1,2}(?:\.\d+)?)\s*(?:\"|″|”|''|in\.?\b|inch(?:es)?\b)?)?",
    re.I)
_HEIGHT_LABELLED = re.compile(
    rf"\b(?:height|hight|tall|stature|stood|standing|measur(?:ed|ing)|ht\.?|length)\b{_GAP}{_N}\s*(cm|centimet(?:er|re)s?|m\b|met(?:er|re)s?\b|"
    r"in\b|inch(?:es)?\b|mm\b)",
    re.I)
_HEIGHT_CM_ANY = re.compile(r"(?<![\d.,])(1\d{2}|2[0-2]\d)(?:\.\d+)?\s*(cm|centimet(?:er|re)s?)\b(?!\s*(?:/|x|×|by))", re.I)
_HEIGHT_BARE = re.compile(rf"(?<![/\d.])\b{_N}\s*(cm|centimet(?:er|re)s?|m|met(?:er|re)s?|in|inch(?:es)?)\s+"
                          r"(?:tall|(?:of\s+|in\s+)?(?:height|hight|stature))\b", re.I)
_BMI = re.compile(rf"\b(?:BMI|body mass index)\b(?:\s*\([^)]{{0,8}}\))?{_GAP}{_N}\s*(kg\s*/\s*m(?:\^?2|²)?)?", re.I)
# a longer aside between label and value, accepted when the value carries the BMI unit ("body mass index, within
# the normal range, is calculated as 23 kg/m^2")
_BMI_LONG = re.compile(r"\b(?:BMI|body mass index)\b[^\d\n.;]{0,60}?(\d{1,3}(?:[.,]\d+)?)\s*(kg\s*/\s*m(?:\^?2|²))", re.I)
_TARGET_BMI = re.compile(rf"\b(?:target|goal|desired|ideal)\s+(?:BMI|body mass index)\b{_GAP}{_N}", re.I)

_MASS_UNIT = {"kg": "kg", "kilogram": "kg", "kilograms": "kg", "kgs": "kg", "lb": "lb", "lbs": "lb",
              "pound": "lb", "pounds": "lb", "g": "g", "gram": "g", "grams": "g"}
_LENGTH_UNIT = {"cm": "cm", "centimeter": "cm", "centimeters": "cm", "centimetre": "cm", "centimetres": "cm",
                "m": "m", "meter": "m", "meters": "m", "metre": "m", "metres": "m", "in": "in", "inch": "in",
                "inches": "in", "mm": "mm"}


_BIRTH_BEFORE = re.compile(r"\b(?:birth|born|newborn|neonatal|at\s+delivery)\b[^.;\n]{0,60}$", re.I)
_BIRTH_AFTER = re.compile(r"^[^.;\n]{0,25}?\b(?:at\s+birth|at\s+delivery)\b", re.I)


def at_birth(text: str, start: int, end: int) -> bool:
    """Whether a weight or length is a birth measure ("birth weight of 3820 g", "length 55 cm at birth"): a
    later measure of the same patient is the one a calculator means, so birth measures are ranked last."""
    return bool(_BIRTH_BEFORE.search(text[max(0, start - 80):start]) or _BIRTH_AFTER.search(text[end:end + 40]))


def _num(text: str) -> float:
    return float(text.replace(",", "."))


def _weight_fact(value: float, unit_text: str, start: int, end: int) -> Fact | None:
    unit = _MASS_UNIT.get(unit_text.lower().rstrip("."))
    if unit is None:
        return None
    kg = DIMENSIONS["mass"].to_canonical(value, unit)
    if not 0.3 <= kg <= 400:
        return None
    return Fact("anthropometric", "weight", value, unit, round(kg, 4), start, end)


def _height_fact(value: float, unit: str, start: int, end: int) -> Fact | None:
    cm = DIMENSIONS["length"].to_canonical(value, unit)
    if not 30 <= cm <= 250:
        return None
    return Fact("anthropometric", "height", value, unit, round(cm, 4), start, end)


def extract_weight(text: str) -> list[Fact]:
    """Body weights in kg/lb/g: labelled mentions first ("weight 70 kg"), then bare ones ("a 70-kg man")."""
    out: list[Fact] = []
    taken: list[tuple[int, int]] = []
    for rx in (_WEIGHT_LABELLED, _WEIGHT_BARE):
        for m in fast_finditer(rx, text):
            if any(s <= m.start(1) < e for s, e in taken):
                continue
            if rx is _WEIGHT_BARE and re.search(r"(?:lost|gain(?:ed)?|loss of|down|up)\s*(?:of\s*)?$",
                                                text[max(0, m.start() - 20):m.start()], re.I):
                continue  # a weight change, not a body weight
            fact = _weight_fact(_num(m.group(1)), m.group(2), m.start(1) if rx is _WEIGHT_BARE else m.start(),
                                m.end())
            if fact is not None:
                out.append(fact)
                taken.append((m.start(), m.end()))
    out.sort(key=lambda f: (at_birth(text, f.start, f.end), 0 if text[f.start:f.end][:1].isalpha() else 1, f.start))
    return out


def extract_height(text: str) -> list[Fact]:
    """Body heights: "165 cm", "1.65 m", "5'9\"", "5 ft 9 in", "69 inches tall" (labelled mentions first)."""
    out: list[Fact] = []
    for m in fast_finditer(_HEIGHT_FT_IN, text):
        if m.group(2) is None and not re.search(r"ft|feet|foot", m.group(0), re.I):
            continue  # a bare 5' is too ambiguous without inches
        feet = float(m.group(1))
        inches = float(m.group(2)) if m.group(2) else 0.0
        if not 3 <= feet <= 7 or inches >= 12:
            continue
        total_in = feet * 12 + inches
        fact = _height_fact(total_in, "in", m.start(), m.end())
        if fact is not None:
            out.append(fact)
    for rx in (_HEIGHT_LABELLED, _HEIGHT_BARE):
        for m in fast_finditer(rx, text):
            unit = _LENGTH_UNIT.get(m.group(2).lower())
            if unit is None or any(f.start <= m.start(1) < f.end for f in out):
                continue
            value = _num(m.group(1))
            if unit == "m" and value > 3:
                continue
            start = m.start() if rx is _HEIGHT_LABELLED else m.start(1)
            fact = _height_fact(value, unit, start, m.end())
            if fact is not None:
                out.append(fact)
    if not out:
        # a body-sized length in centimetres with no label ("weight and height of 52 kg and 164 cm")
        for m in fast_finditer(_HEIGHT_CM_ANY, text):
            fact = _height_fact(float(m.group(0).split()[0].rstrip("cmCM")) if False else float(
                re.match(r"[\d.]+", m.group(0)).group(0)), "cm", m.start(), m.end())  # type: ignore[union-attr]
            if fact is not None:
                out.append(fact)
                break
    out.sort(key=lambda f: (at_birth(text, f.start, f.end), f.start))
    return out


def extract_bmi(text: str) -> list[Fact]:
    """Body mass index mentions ("BMI 31.2 kg/m2", "body mass index of 24"); target BMIs are left out."""
    out: list[Fact] = []
    for rx in (_BMI, _BMI_LONG):
        for m in fast_finditer(rx, text):
            if re.search(r"(?:target|goal|desired|ideal)\s+$", text[max(0, m.start() - 10):m.start()], re.I):
                continue
            if any(f.start == m.start() for f in out):
                continue
            value = _num(m.group(1))
            if 8 <= value <= 120:
                out.append(Fact("anthropometric", "bmi", value, "kg/m²", value, m.start(), m.end()))
    out.sort(key=lambda f: f.start)
    return out


def extract_target_bmi(text: str) -> list[Fact]:
    """Target BMI ("their target BMI is 22.6 kg/m^2")."""
    out = []
    for m in fast_finditer(_TARGET_BMI, text):
        value = _num(m.group(1))
        if 8 <= value <= 60:
            end = m.end()
            unit = re.match(r"\s*kg\s*/\s*m(?:\^?2|²)?", text[end:])
            if unit:
                end += unit.end()
            out.append(Fact("anthropometric", "target_bmi", value, "kg/m²", value, m.start(), end))
    return out


def extract_anthropometrics(text: str) -> list[Fact]:
    """Weight, height, BMI and target BMI facts, in note order within each kind."""
    return [*extract_weight(text), *extract_height(text), *extract_bmi(text), *extract_target_bmi(text)]
