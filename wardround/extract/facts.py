"""Vital signs and laboratory values with units from note text, each with its exact span."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from wardround.errors import UnitError
from wardround.units import ANALYTES, DIMENSIONS, find_analyte, normalize_unit


@dataclass(frozen=True)
class Fact:
    """A measured value read from the note: ``name`` is a vital field or a canonical analyte name."""

    kind: str  # "vital" | "lab" | "anthropometric"
    name: str
    value: float
    unit: str
    canonical_value: float
    start: int
    end: int


_SEP = r"\s*(?:of|was|were|is|are|at|:|=|-|measured|recorded|reading)?\s*(?:of|at)?\s*"
_NUM = r"(\d{1,3}(?:\.\d+)?)"

_VITAL_PATTERNS: dict[str, re.Pattern[str]] = {
    "heart_rate": re.compile(rf"\b(?:heart rate|hr|pulse rate|pulse|p){_SEP}{_NUM}\s*(bpm|beats\s*(?:/|per)\s*min(?:ute)?|/min)?",
                             re.I),
    "respiratory_rate": re.compile(rf"\b(?:respiratory rate|resp(?:iratory)? rate|rr|respirations|resp){_SEP}{_NUM}"
                                   r"\s*(breaths\s*(?:/|per)\s*min(?:ute)?|/min)?", re.I),
    "temperature_c": re.compile(rf"\b(?:temperature|temp|t|tmax){_SEP}{_NUM}\s*(°\s*[cf]\b|º\s*[cf]\b|degrees?\s*"
                                r"(?:celsius|fahrenheit|c|f)\b|[cf]\b)?", re.I),
    "spo2": re.compile(rf"\b(?:spo2|sao2|sp02|o2 sat(?:uration)?s?|oxygen saturation|saturation|saturating|sats?)"
                       rf"{_SEP}{_NUM}\s*(%)", re.I),
}
_BP = re.compile(r"\b(?:(?:blood pressure|bp|b/p)" + _SEP + r")?(\d{2,3})\s*/\s*(\d{2,3})\s*(mm\s*hg)?", re.I)
_BP_LABEL = re.compile(r"(?:blood pressure|bp|b/p)", re.I)
_VITAL_RANGES = {"heart_rate": (20, 300), "respiratory_rate": (4, 80), "temperature_c": (25, 45), "spo2": (40, 100),
                 "systolic_bp": (40, 300), "diastolic_bp": (15, 200)}

_UNIT_RX = (r"(mg\s*/\s*dl|g\s*/\s*dl|g\s*/\s*l|mmol\s*/\s*l|[µμu]mol\s*/\s*l|meq\s*/\s*l|i?u\s*/\s*l|ng\s*/\s*ml|"
            r"ng\s*/\s*l|pg\s*/\s*ml|mg\s*/\s*l|mcg\s*/\s*l|[µμu]g\s*/\s*l|[µμu]g\s*/\s*ml|[µμu]g\s*/\s*dl|mosm\s*/\s*kg|"
            r"[x×]\s*10\^?9\s*/\s*l|10\^?9\s*/\s*l|[x×]\s*10\^?3\s*/\s*[µμu]l|10\^?3\s*/\s*[µμu]l|k\s*/\s*[µμu]l|"
            r"/\s*mm3|/\s*[µμu]l|cells\s*/\s*[µμu]l|mm\s*hg|kpa|[µμu]iu\s*/\s*ml|miu\s*/\s*l|pmol\s*/\s*l|%)")

# Short aliases that are also ordinary words or units are only accepted in a "NAME: value" / "NAME value unit" form.
_AMBIGUOUS = {"k", "na", "ca", "cl", "mg", "cr", "hb", "tc", "tg", "co2", "glu", "alb", "bili", "plt", "ph"}


@lru_cache(maxsize=1)
def _lab_pattern() -> re.Pattern[str]:
    names = set()
    for a in ANALYTES.values():
        names.add(a.name.replace("_", " "))
        names.update(a.aliases)
    alt = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(
        rf"(?<![\w/])({alt})(?![\w])\s*(?:level|levels|concentration|count|value)?\s*(?:\([^)]{{0,12}}\))?"
        rf"{_SEP}(?:(?:elevated|increased|decreased|raised|low|high|normal)\s*(?:at|to|of)?\s*)?"
        rf"(\d+(?:,\d{{3}})*(?:\.\d+)?)\s*{_UNIT_RX}?",
        re.I,
    )


def extract_vitals(text: str) -> list[Fact]:
    """Heart rate, blood pressure, respiratory rate, temperature (°C) and SpO2 mentioned in the note."""
    facts: list[Fact] = []
    for name, rx in _VITAL_PATTERNS.items():
        for m in rx.finditer(text):
            value = float(m.group(1))
            unit_text = (m.group(2) or "").strip()
            if name == "temperature_c":
                if m.group(0).lower().startswith("t") and not m.group(0).lower().startswith("temp") and not unit_text:
                    continue  # a bare "T 38" without unit is too ambiguous
                letter = unit_text.lower().replace("°", "").replace("º", "").replace("degrees", "").replace(
                    "degree", "").strip()[:1]
                unit = "F" if letter == "f" or (not letter and value > 45) else "C"
                canonical = DIMENSIONS["temperature"].to_canonical(value, unit)
            else:
                unit = {"heart_rate": "/min", "respiratory_rate": "/min", "spo2": "%"}[name]
                canonical = value
                if name == "heart_rate" and m.group(0)[:1] in "pP" and not m.group(0).lower().startswith("pulse") \
                        and not m.group(2):
                    continue  # bare "P 90" only with a unit
            lo, hi = _VITAL_RANGES[name]
            if lo <= canonical <= hi:
                facts.append(Fact("vital", name, value, unit, round(canonical, 2), m.start(), m.end()))
    for m in _BP.finditer(text):
        if not (_BP_LABEL.search(m.group(0)) or m.group(3)):
            continue
        sbp, dbp = float(m.group(1)), float(m.group(2))
        if _VITAL_RANGES["systolic_bp"][0] <= sbp <= 300 and 15 <= dbp < sbp:
            facts.append(Fact("vital", "systolic_bp", sbp, "mmHg", sbp, m.start(), m.end()))
            facts.append(Fact("vital", "diastolic_bp", dbp, "mmHg", dbp, m.start(), m.end()))
    facts.sort(key=lambda f: f.start)
    return facts


def extract_labs(text: str) -> list[Fact]:
    """Laboratory values with units ("creatinine of 2.1 mg/dL", "Na 128", "WBC 14.2 x10^9/L")."""
    facts: list[Fact] = []
    for m in _lab_pattern().finditer(text):
        alias = m.group(1)
        analyte = find_analyte(alias)
        if analyte is None:
            continue
        raw_unit = m.group(3)
        if alias.lower() in _AMBIGUOUS and not (raw_unit or re.match(r"\s*[:=]", text[m.end(1):])):
            continue
        value = float(m.group(2).replace(",", ""))
        unit = normalize_unit(raw_unit) if raw_unit else analyte.canonical
        try:
            canonical = analyte.to_canonical(value, unit)
            analyte.check_plausible(canonical)
        except UnitError:
            continue
        end = m.end(3) if raw_unit else m.end(2)
        facts.append(Fact("lab", analyte.name, value, unit, canonical, m.start(), end))
    return facts
