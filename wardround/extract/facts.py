"""Vital signs, measurements and laboratory values with units from note text, each with its exact span.

Forms covered: labelled values ("HR 112 bpm", "BP 142/88", "T 38.4 °C", "creatinine of 106 µmol/L",
"Na+ 134"), bare values whose unit names the quantity ("38.4 °C", "88 beats per minute", "91% on room air"),
lab tables ("Sodium | 134 | mmol/L"), trends ("creatinine rose from 1.2 to 3.4 mg/dL": the first value, with
the unit written after the last), and values written without a unit (the unit is inferred from the magnitude:
"creatinine 106" can only be µmol/L). Implausible values are dropped rather than guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from wardround.errors import UnitError
from wardround.patterns import fast_finditer, phrase_alternation
from wardround.units import ANALYTE_ALIASES, ANALYTES, DIMENSIONS, Analyte, normalize_unit


@dataclass(frozen=True)
class Fact:
    """A measured value read from the note: ``name`` is a vital field or a canonical analyte name."""

    kind: str  # "vital" | "lab" | "anthropometric" | "measurement"
    name: str
    value: float
    unit: str
    canonical_value: float
    start: int
    end: int


_NUM = r"(\d{1,3}(?:\.\d+)?)"
# Words allowed between a label and its value ("heart rate on arrival was 112", "BP of 142/88").
_FILL = r"[^\d\n;]{0,32}?"
_FILL_SHORT = r"[^\d\n;.]{0,18}?"

_HR_LABEL = r"(?:heart\s*rate|pulse\s*rate|pulse|HR|PR(?=\s*[:=])|ventricular\s+rate|tachycardic|bradycardic)"
_RR_LABEL = r"(?:respiratory\s*rate|respiration\s*rate|respirations?|breathing\s*rate|resp(?:iratory)?\.?\s*rate|RR|tachypn(?:o)?eic)"
_T_LABEL = r"(?:temperature|temp\.?|tmax|t|febrile|fever|pyrexia)"
_SPO2_LABEL = (r"(?:spo2|sp02|sao2|o2\s*sat(?:uration)?s?|oxygen\s+saturation|saturation|saturating|sats?|"
               r"pulse\s+oximetry|oximetry)")
_BP_LABEL_RX = r"(?:blood\s+pressure|b\.?p\.?|b/p|arterial\s+pressure|hypotensive|hypertensive)"

_HR_UNIT = r"(bpm|beats?\s*(?:/|per)\s*min(?:ute)?\.?|beats?/min|/\s*min\b|min-1|min⁻¹)"
_RR_UNIT = r"(breaths?\s*(?:/|per)\s*min(?:ute)?|/\s*min\b|bpm|cycles?\s*/\s*min)"
_T_UNIT = r"(°\s*[CF]\b|º\s*[CF]\b|˚\s*[CF]\b|℃|℉|degrees?\s*(?:celsius|celcius|fahrenheit|C|F)\b|[CF]\b)"

_VITAL_RX: dict[str, re.Pattern[str]] = {
    "heart_rate": re.compile(rf"\b{_HR_LABEL}\b{_FILL}{_NUM}\s*{_HR_UNIT}?", re.I),
    "respiratory_rate": re.compile(rf"\b{_RR_LABEL}\b{_FILL}{_NUM}\s*{_RR_UNIT}?", re.I),
    "temperature_c": re.compile(rf"\b{_T_LABEL}\b{_FILL_SHORT}{_NUM}\s*{_T_UNIT}?", re.I),
    "spo2": re.compile(rf"\b{_SPO2_LABEL}\b{_FILL}{_NUM}\s*(%)", re.I),
}
_VITAL_BARE: dict[str, re.Pattern[str]] = {
    "heart_rate": re.compile(r"(?<![\d./])(\d{2,3})\s*(bpm|beats?\s*(?:/|per)\s*min(?:ute)?|beats?/min)", re.I),
    "respiratory_rate": re.compile(r"(?<![\d./])(\d{1,2})\s*(breaths?\s*(?:/|per)\s*min(?:ute)?)", re.I),
    "temperature_c": re.compile(r"(?<![\d./])(\d{2,3}(?:\.\d+)?)\s*(°\s*[CF]\b|º\s*[CF]\b|˚\s*[CF]\b|℃|℉|"
                                r"degrees?\s*(?:celsius|celcius|fahrenheit|C|F)\b)", re.I),
    "spo2": re.compile(r"(?<![\d./])(\d{2,3})\s*(%)\s*(?:on|at|while\s+breathing)\s+(?:room\s+air|RA\b|ambient|"
                       r"\d+\s*(?:L|liters?|litres?)\b|nasal|supplemental|oxygen|o2\b)", re.I),
}
_BP = re.compile(rf"(?:\b{_BP_LABEL_RX}{_FILL})?(?<![\d/])(\d{{2,3}})\s*/\s*(\d{{2,3}})(?![\d/])\s*(mm\s*hg|mmhg)?",
                 re.I)
_BP_LABEL = re.compile(_BP_LABEL_RX, re.I)
_SBP_ONLY = re.compile(rf"\bsystolic(?:\s+(?:blood\s+)?(?:pressure|BP))?\b{_FILL}{_NUM}\s*(mm\s*hg)?", re.I)
_DBP_ONLY = re.compile(rf"\bdiastolic(?:\s+(?:blood\s+)?(?:pressure|BP))?\b{_FILL}{_NUM}\s*(mm\s*hg)?", re.I)
# "systolic and diastolic blood pressure recorded at 120 mm Hg and 75 mm Hg, respectively", "systolic and
# diastolic measures at 87 and 59 mm Hg"
_SBP_DBP_PAIR = re.compile(
    r"\bsystolic(?:\s+(?:blood\s+)?pressures?)?\s+and\s+diastolic(?:\s+(?:blood\s+)?(?:pressures?|BP))?"
    r"(?:\s+(?:measures?|measurements?|readings?|values?))?[^\d\n;.]{0,40}?(\d{2,3})\s*(?:mm\s*hg)?\s*(?:and|,|/)\s*"
    r"(\d{2,3})\s*(mm\s*hg)", re.I)
_VITAL_RANGES = {"heart_rate": (20, 300), "respiratory_rate": (4, 80), "temperature_c": (25, 45), "spo2": (40, 100),
                 "systolic_bp": (40, 300), "diastolic_bp": (15, 200)}


def _temp_unit(unit_text: str, value: float) -> str:
    u = unit_text.lower()
    if "℉" in u or "fahr" in u:
        return "F"
    if "℃" in u or "cel" in u:
        return "C"
    letter = re.sub(r"[°º˚\s]|degrees?", "", u)[:1]
    if letter == "f":
        return "F"
    if letter == "c":
        return "C"
    return "F" if value > 45 else "C"


def extract_vitals(text: str) -> list[Fact]:
    """Heart rate, blood pressure, respiratory rate, temperature (°C) and SpO2 mentioned in the note."""
    facts: list[Fact] = []
    taken: set[tuple[str, int]] = set()
    for name in _VITAL_RX:
        for rx in (_VITAL_RX[name], _VITAL_BARE[name]):
            for m in fast_finditer(rx, text):
                vstart = m.start(1)
                if (name, vstart) in taken:
                    continue
                value = float(m.group(1))
                unit_text = (m.group(2) or "").strip()
                label = m.group(0)[: vstart - m.start()].strip().lower()
                if rx is _VITAL_RX[name] and re.search(r"/\s*$|\d\s*/$", text[max(0, vstart - 2):vstart]):
                    continue
                if name == "temperature_c":
                    if re.fullmatch(r"t\b.*", label) and not label.startswith("temp") and not unit_text \
                            and not re.match(r"t\s*[:=]?\s*$", label):
                        continue
                    if label.startswith(("fever", "febrile", "pyrexia")) and not unit_text:
                        continue
                    if re.fullmatch(r"t", label) and not unit_text:
                        continue  # a bare "T 38" without a unit is too ambiguous
                    unit = _temp_unit(unit_text, value)
                    canonical = DIMENSIONS["temperature"].to_canonical(value, unit)
                else:
                    unit = {"heart_rate": "/min", "respiratory_rate": "/min", "spo2": "%"}[name]
                    canonical = value
                    if name == "heart_rate" and label.startswith(("tachycardic", "bradycardic")) is False and \
                            re.search(r"\bpulse\b.*\b(?:pressure|oximetry|wave|deficit)\b", m.group(0), re.I):
                        continue
                    if name == "respiratory_rate" and unit_text.lower() == "bpm" and label.startswith("resp") is False \
                            and label != "rr":
                        continue
                lo, hi = _VITAL_RANGES[name]
                if lo <= canonical <= hi:
                    start = m.start() if rx is _VITAL_RX[name] else m.start(1)
                    facts.append(Fact("vital", name, value, unit, round(canonical, 2), start, m.end()))
                    taken.add((name, vstart))
    for m in fast_finditer(_BP, text):
        if not (_BP_LABEL.search(m.group(0)) or m.group(3)):
            continue
        sbp, dbp = float(m.group(1)), float(m.group(2))
        if _VITAL_RANGES["systolic_bp"][0] <= sbp <= 300 and 15 <= dbp < sbp:
            facts.append(Fact("vital", "systolic_bp", sbp, "mmHg", sbp, m.start(), m.end()))
            facts.append(Fact("vital", "diastolic_bp", dbp, "mmHg", dbp, m.start(), m.end()))
    for m in fast_finditer(_SBP_DBP_PAIR, text):
        sbp, dbp = float(m.group(1)), float(m.group(2))
        if _VITAL_RANGES["systolic_bp"][0] <= sbp <= 300 and 15 <= dbp < sbp:
            facts.append(Fact("vital", "systolic_bp", sbp, "mmHg", sbp, m.start(), m.end()))
            facts.append(Fact("vital", "diastolic_bp", dbp, "mmHg", dbp, m.start(), m.end()))
    have = {f.name for f in facts}
    for name, rx in (("systolic_bp", _SBP_ONLY), ("diastolic_bp", _DBP_ONLY)):
        if name in have:
            continue
        for m in fast_finditer(rx, text):
            value = float(m.group(1))
            lo, hi = _VITAL_RANGES[name]
            if lo <= value <= hi and not re.match(r"\s*/\s*\d", text[m.end(1):]):
                facts.append(Fact("vital", name, value, "mmHg", value, m.start(), m.end()))
    facts.sort(key=lambda f: f.start)
    return facts


# ---------------------------------------------------------------------------------------------------------
# Other bedside measurements: GCS, FiO2, QT interval, urine output

_GCS_WORDS = {"three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
              "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15}
_GCS = re.compile(r"\b(?:GCS|Glasgow\s+Coma\s+(?:Scale|Score))\b(?:\s+score)?[^\d\n;.]{0,30}?"
                  r"(\d{1,2}|(?<![\w-])(?:" + "|".join(_GCS_WORDS) + r")(?![\w-]))(?:\s*/\s*15)?"
                  r"(?!\s*(?:mg|mm|%|\.\d))", re.I)
_GCS_EVM = re.compile(r"\bE\s*([1-4])\s*,?\s*V\s*([1-5]|T)\s*,?\s*M\s*([1-6])\b")
_FIO2 = re.compile(r"\b(?:FiO2|FIO2|FiO₂|fraction of inspired oxygen|inspired oxygen fraction)\b[^\d\n;]{0,20}?"
                   r"(\d{1,3}(?:\.\d+)?|0?\.\d+)\s*(%)?", re.I)
# the percentage written before the label ("oxygen at 55 % FiO2", "on 40% FiO2")
_FIO2_BEFORE = re.compile(r"(?<![\d.])(\d{2,3}(?:\.\d+)?)\s*(%)\s*(?:FiO2|FIO2|FiO₂)(?!\w)", re.I)
_QT = re.compile(r"\bQT(?:\s+interval)?\b(?!c)[^\d\n;]{0,20}?(\d{3})\s*(ms|msec|milliseconds?)?", re.I)
_QTC = re.compile(r"\bQTc(?:\s+interval)?\b[^\d\n;]{0,20}?(\d{3})\s*(ms|msec|milliseconds?)?", re.I)
_URINE_OUTPUT = re.compile(
    r"\burine\s+output\b[^\d\n;.]{0,40}?(\d{1,5}(?:\.\d+)?)\s*(mL|ml|L|cc)\s*(?:/|per|in|over)?\s*"
    r"(24\s*h(?:ours?|rs?)?|day|d\b|h(?:ou)?r?\b)?", re.I)


def extract_measurements(text: str) -> list[Fact]:
    """GCS total, FiO2 (%), QT and QTc interval (ms) and urine output (mL/day) mentioned in the note."""
    facts: list[Fact] = []
    for m in fast_finditer(_GCS, text):
        v = float(_GCS_WORDS.get(m.group(1).lower(), m.group(1)))
        if 3 <= v <= 15:
            facts.append(Fact("measurement", "gcs", v, "", v, m.start(), m.end()))
    for m in fast_finditer(_GCS_EVM, text):
        v = int(m.group(1)) + (1 if m.group(2).upper() == "T" else int(m.group(2))) + int(m.group(3))
        facts.append(Fact("measurement", "gcs", float(v), "", float(v), m.start(), m.end()))
    for rx in (_FIO2, _FIO2_BEFORE):
        for m in fast_finditer(rx, text):
            v = float(m.group(1))
            pct = v * 100 if v <= 1 else v
            if 21 <= pct <= 100 and not any(f.name == "fio2" and f.start <= m.start(1) < f.end for f in facts):
                facts.append(Fact("measurement", "fio2", v, "%" if v > 1 else "", round(pct, 2), m.start(), m.end()))
    for m in fast_finditer(_QT, text):
        v = float(m.group(1))
        if 150 <= v <= 900:
            facts.append(Fact("measurement", "qt_interval", v, "ms", v, m.start(), m.end()))
    for m in fast_finditer(_QTC, text):
        v = float(m.group(1))
        if 150 <= v <= 900:
            facts.append(Fact("measurement", "qtc_interval", v, "ms", v, m.start(), m.end()))
    for m in fast_finditer(_URINE_OUTPUT, text):
        v = float(m.group(1))
        unit = m.group(2).lower()
        per = (m.group(3) or "").lower()
        ml = v * (1000 if unit == "l" else 1)
        if per.startswith("h"):
            ml *= 24
        elif not per:
            continue
        facts.append(Fact("measurement", "urine_output", v, "mL/day", ml, m.start(), m.end()))
    facts.sort(key=lambda f: f.start)
    return facts


# ---------------------------------------------------------------------------------------------------------
# Laboratory values
#
# Lab names are read with the one analyte alias table, ``units.ANALYTE_ALIASES`` (a related test that is NOT the
# analyte maps to None and is matched only so that its number is not taken for the analyte).

# Short aliases that are also ordinary words, drugs or units are only accepted in a "NAME: value" form, with a
# unit, or written with a capital letter (``Na 134``) -- never "he took k 3 times" or "5 mg".
_AMBIGUOUS = {"k", "na", "ca", "cl", "mg", "cr", "hb", "tc", "tg", "co2", "glu", "alb", "bili", "plt", "ph", "got",
              "gpt", "urea", "tlc", "una", "ucr", "insulin", "ast", "alt", "po2", "tgs", "hct", "phos"}
# A number followed by a dose unit is a treatment ("potassium 40 mEq", "albumin 25 g", "insulin 10 units").
_DOSE_AFTER = re.compile(r"\s*(?:mg|g|grams?|units?|iu|meq|mmol|ml|mcg|µg|μg|tablets?|amp(?:oule)?s?)\b(?!\s*/)", re.I)

_UNIT_RX = re.compile(
    r"\s*(?:\|\s*)?(?:"
    r"(?P<count>(?:[x×*]\s*)?10\s*(?:\^|\*\*|e|\(|<sup>)?\s*(?P<exp>9|3|⁹|³|6)\)?(?:</sup>)?\s*(?:cells\s*)?/\s*"
    r"(?:l|[µμu]l|mm3|mm³|mcl|cumm)\b|[x×]\s*10\^?\s*(?:9|3)\s*/\s*l|g/l(?=\W)(?P<gl_count>)|k\s*/\s*(?:[µμu]l|mcl)\b|"
    r"thou\s*/\s*(?:[µμu]l|mm3)|(?:cells\s*)?/\s*(?:mm3|mm³|mm\^3|[µμu]l|mcl|cumm)\b|cells\s*/\s*(?:mm3|[µμu]l))"
    r"|(?P<plain>(?:mg|g|[µμu]g|mcg)\s+per\s+(?:dl|deciliters?|decilitres?)\b|"
    r"(?:mmol|[µμu]mol|micromol|mcmol|nmol|m\s*eq|meq|i?u|units?)\s+per\s+(?:l|liters?|litres?)\b|"
    r"mg\s*/\s*d[l]|mg\s*/\s*100\s*ml|mg\s*%|g\s*/\s*d[l]|g\s*/\s*l|mg\s*/\s*l|mmol\s*/\s*l|"
    r"(?:[µμu]|micro|mc)mol\s*/\s*l|nmol\s*/\s*l|pmol\s*/\s*l|m\s*eq\s*/\s*l|meq\s*/\s*l|mEq/L|"
    r"(?:i?u|units?)\s*/\s*l|ng\s*/\s*ml|ng\s*/\s*l|pg\s*/\s*ml|(?:[µμu]|mc)g\s*/\s*l|(?:[µμu]|mc)g\s*/\s*ml|"
    r"(?:[µμu]|mc)g\s*/\s*dl|(?:[µμu]|micro)\s*i?u\s*/\s*ml|m\s*i?u\s*/\s*l|mu\s*/\s*l|mosm\s*/\s*kg|"
    r"mm\s*hg|kpa|%|mg/dl)"
    r")(?![a-z])", re.I)

# Magnitudes used ONLY to infer the unit of a value written without one (a typical clinical span in the
# canonical unit): outside it, another of the analyte's units that lands inside is taken instead.
_TYPICAL: dict[str, tuple[float, float]] = {
    "creatinine": (0.1, 20.0), "glucose": (30.0, 1500.0), "bun": (1.0, 250.0), "calcium": (4.0, 20.0),
    "total_cholesterol": (50.0, 1000.0), "hdl_cholesterol": (5.0, 200.0), "ldl_cholesterol": (10.0, 800.0),
    "triglycerides": (20.0, 10000.0), "albumin": (0.8, 7.0), "total_bilirubin": (0.05, 50.0),
    "hemoglobin": (2.0, 25.0), "wbc": (0.05, 400.0), "platelets": (2.0, 2500.0), "hematocrit": (5.0, 80.0),
    "pao2": (20.0, 700.0), "paco2": (10.0, 150.0), "urine_creatinine": (2.0, 1000.0),
}
_UNIT_ORDER: dict[str, tuple[str, ...]] = {
    "creatinine": ("µmol/L",), "glucose": ("mmol/L",), "calcium": ("mmol/L",), "total_cholesterol": ("mmol/L",),
    "hdl_cholesterol": ("mmol/L",), "ldl_cholesterol": ("mmol/L",), "triglycerides": ("mmol/L",),
    "albumin": ("g/L",), "total_bilirubin": ("µmol/L",), "hemoglobin": ("g/L",), "wbc": ("/µL",),
    "platelets": ("/µL",), "hematocrit": ("L/L",), "pao2": ("kPa",), "paco2": ("kPa",),
    "urine_creatinine": ("µmol/L",), "bun": ("mmol/L",),
}


@lru_cache(maxsize=1)
def _name_pattern() -> tuple[re.Pattern[str], dict[str, str | None], dict[str, str | None]]:
    """The lab-name regex over ``units.ANALYTE_ALIASES``, the table, and the table by hyphen-free spelling."""
    aliases = ANALYTE_ALIASES
    # a name may follow another name's slash ("BUN/creatinine 32/0.87") but not a number's or a unit's ("mg/dL")
    rx = re.compile(rf"(?<!\w)(?<!\d/)(?<!\d\s/)(?<![\s(]/)"
                    rf"{phrase_alternation(sorted(aliases, key=len, reverse=True))}(?![\w])"
                    rf"(?![+\-−](?=\w))", re.I)
    by_spelling: dict[str, str | None] = {}
    for k, v in aliases.items():  # first spelling wins, as the linear search it replaces did
        by_spelling.setdefault(" ".join(k.replace("-", " ").split()), v)
    return rx, aliases, by_spelling


# label -> value: fillers ("level", "of", "was", ":", "(normal ...)" is not allowed before the value)
_VALUE_AFTER_NAME = re.compile(
    r"(?P<fill>(?:\s*\((?:[a-z+\-−₂₃0-9]{1,8}|serum|plasma|blood|venous|arterial)\))?"
    r"[^\d\n;<>]{0,60}?)"
    r"(?P<cmp>[<>≤≥]\s*)?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)", re.I)
_FILL_WORDS = frozenset((
    "serum plasma blood venous arterial total level levels concentration count value values result was were is are "
    "of at to as measured measuring reading found noted initially on admission arrival presentation elevated "
    "increased decreased reduced raised low high normal abnormal markedly mildly slightly significantly severely "
    "moderately very rose risen fell dropped improved worsened peaked from which had has been a an the in its "
    "initial baseline repeat showed revealed with and then later up down lab laboratory test tests measurement "
    "fasting random remained came back returned demonstrated counts measures measured registered recorded showing "
    "shows show approximately about around nearly only just elevation be stood stands standing").split())


def _fill_ok(fill: str) -> bool:
    """Only label words, punctuation and a short parenthesis may stand between a lab name and its value."""
    if len(fill) > 40 or re.search(r"\.\s|\n", fill):
        return False
    words = re.findall(r"\([^)]*\)|[a-z]+", fill.lower())
    return all(w.startswith("(") or w in _FILL_WORDS for w in words)


# Prose between a name and a value that carries the analyte's own unit ("bilirubin level stood at 2.3 mg/dL",
# "hemoglobin was found to be at the lower end of normal at 12 g/dL"): accepted within one clause, unless the
# words make the number something other than the patient's value (a limit, a target, a derived index).
_PROSE_NOT_VALUE = re.compile(r"\b(?:limit|reference|target|goal|threshold|cut-?off|ratio|clearance|excretion|index|"
                              r"gradient|gap|dose|dosage|infusion|bolus|given|administered|received|replacement|"
                              r"without|not|no|never|if|unless|below which|above which|than)\b", re.I)


def _prose_fill_ok(fill: str) -> bool:
    """A longer, wordier fill between a lab name and a value written with the analyte's unit (same clause)."""
    return not re.search(r"\.\s|\n|[()]", fill) and not _PROSE_NOT_VALUE.search(fill)


_TREND_UNIT = re.compile(r"\s*(?:to|->|→|–|-|and(?:\s+then)?|then)\s*\d+(?:\.\d+)?", re.I)


def _count_unit(exp: str | None, raw: str) -> str:
    raw_l = raw.lower().replace(" ", "")
    if exp in ("9", "⁹") or raw_l in ("g/l",):
        return "10^9/L"
    if exp in ("3", "³") or raw_l.startswith(("k/", "thou")):
        return "10^3/µL"
    if exp == "6":
        return "10^6/µL"
    return "/µL"


def read_unit(text: str, pos: int) -> tuple[str, int] | None:
    """The unit written at ``text[pos:]`` (after optional spaces) as a ``units.py`` spelling, and where it ends."""
    m = _UNIT_RX.match(text, pos)
    if not m:
        return None
    if m.group("count") is not None:
        return _count_unit(m.group("exp"), m.group("count")), m.end()
    raw = m.group("plain")
    # spelt-out forms: "mg per deciliter" -> "mg/dl", "mmol per liter" -> "mmol/l"
    raw = re.sub(r"\s+per\s+(?:deciliters?|decilitres?|dl)$", "/dl", raw, flags=re.I)
    raw = re.sub(r"\s+per\s+(?:liters?|litres?|l)$", "/l", raw, flags=re.I)
    low = raw.lower().replace(" ", "").replace("μ", "µ")
    low = low.replace("micro", "µ").replace("mcmol", "µmol").replace("mcg", "µg")
    if low in ("mg/100ml", "mg%"):
        return "mg/dL", m.end()
    if low.startswith(("units/", "iu/", "u/")):
        return "U/L", m.end()
    if low in ("µu/ml", "µiu/ml"):
        return "µIU/mL", m.end()
    if low in ("mu/l", "miu/l"):
        return "mIU/L", m.end()
    if low in ("mmhg",):
        return "mmHg", m.end()
    if low == "meq/l":
        return "mEq/L", m.end()
    return normalize_unit(low), m.end()


def _to_canonical(analyte: Analyte, value: float, unit: str) -> float | None:
    try:
        c = analyte.to_canonical(value, unit)
        analyte.check_plausible(c)
    except UnitError:
        return None
    return c


def _infer_unit(analyte: Analyte, value: float) -> tuple[str, float] | None:
    """Unit for a value written without one: canonical when typical, else the first alternative that is."""
    canonical = _to_canonical(analyte, value, analyte.canonical)
    lo, hi = _TYPICAL.get(analyte.name, analyte.plausible)
    if canonical is not None and lo <= canonical <= hi:
        return analyte.canonical, canonical
    for unit in _UNIT_ORDER.get(analyte.name, ()):
        if unit not in analyte.factors:
            continue
        c = _to_canonical(analyte, value, unit)
        if c is not None and lo <= c <= hi:
            return unit, c
    if canonical is not None and analyte.name not in _TYPICAL:
        return analyte.canonical, canonical
    return None


# A urine panel named before its values ("Urine electrolytes were sodium 179 mmol/L, ... creatinine 37 mg/dL",
# "urinary levels of sodium/potassium were 95/73"): its analytes are urine analytes up to the sentence's end,
# unless a blood specimen is named again in between.
_URINE_PANEL = re.compile(r"\burin(?:e|ary)\s+(?:electrolytes?|studies|study|chemistr(?:y|ies)|indices|analysis|levels?|"
                          r"values?|tests?|results?|concentrations?|spot|lytes)\b|\burin(?:e|ary)\s*[:(]", re.I)
_BLOOD_AGAIN = re.compile(r"\b(?:serum|plasma|blood|venous|arterial)\b", re.I)
_URINE_ANALYTE = {"sodium": "urine_sodium", "creatinine": "urine_creatinine"}


def _specimen(text: str, start: int, end: int, analyte_name: str) -> str:
    """The analyte as measured: its urine analyte inside a urine panel (``_URINE_PANEL``), else itself."""
    target = _URINE_ANALYTE.get(analyte_name)
    if target is None or target not in ANALYTES:
        return analyte_name
    from wardround.extract.context import sentence_bounds

    for a, b in sentence_bounds(text):
        if a <= start < b:
            heads = list(_URINE_PANEL.finditer(text, a, start))
            if heads and not _BLOOD_AGAIN.search(text, heads[-1].end(), end):
                return target
            break
    return analyte_name


def extract_labs(text: str) -> list[Fact]:
    """Laboratory values with units ("creatinine of 2.1 mg/dL", "Na 128", "WBC 14.2 x10^9/L")."""
    rx, aliases, by_spelling = _name_pattern()
    names = fast_finditer(rx, text)
    consumed: set[int] = set()
    facts: list[Fact] = _list_facts(text, names, aliases, consumed)
    listed = {f.start for f in facts} | consumed
    for i, nm in enumerate(names):
        if nm.start() in listed:
            continue
        alias_text = nm.group(0)
        key = " ".join(alias_text.lower().replace("-", " ").split())
        analyte_name = aliases.get(alias_text.lower(), aliases.get(key, aliases.get(key.replace(" ", "-"))))
        if analyte_name is None:
            analyte_name = by_spelling.get(key)
            if analyte_name is None:
                continue
        analyte = ANALYTES.get(_specimen(text, nm.start(), nm.end(), analyte_name))
        if analyte is None:
            continue
        vm = _VALUE_AFTER_NAME.match(text, nm.end())
        if vm is None:
            continue
        next_name = names[i + 1].start() if i + 1 < len(names) else len(text)
        if vm.start("num") > next_name:
            continue  # another lab's name stands between this name and the number
        fill = vm.group("fill")
        prose = not _fill_ok(fill)
        if prose and not _prose_fill_ok(fill):
            continue
        low_alias = alias_text.lower()
        is_colon = bool(re.match(r"\s*[:=|]", fill))
        value = float(vm.group("num").replace(",", ""))
        num_end = vm.end("num")
        unit_hit = read_unit(text, num_end)
        if unit_hit is None:
            trend = _TREND_UNIT.match(text, num_end)
            later = read_unit(text, trend.end()) if trend else None
            if later is not None:
                unit_hit = (later[0], num_end)  # the unit written after the last value of a trend
        if low_alias in _AMBIGUOUS or key in _AMBIGUOUS:
            upper = alias_text[:1].isupper() or alias_text == "pH"  # "pH" is its own spelling, never a word
            preceded_by_number = re.search(r"\d\s*$", text[max(0, nm.start() - 3):nm.start()])
            if preceded_by_number or not (unit_hit or is_colon or upper):
                continue
        if unit_hit is None and _DOSE_AFTER.match(text, num_end):
            continue
        if prose and (unit_hit is None or _to_canonical(analyte, value, unit_hit[0]) is None):
            continue  # prose before the number: only the analyte's own unit ties the number to the name
        if unit_hit is not None:
            unit, end = unit_hit
            if unit == "%" and analyte_name not in ("hematocrit",):
                continue
            canonical = _to_canonical(analyte, value, unit)
            if canonical is None:
                # a unit the analyte does not take (e.g. mg/dL written for a count): fall back to inference
                inferred = _infer_unit(analyte, value)
                if inferred is None:
                    continue
                unit, canonical = inferred
                end = num_end
        else:
            inferred = _infer_unit(analyte, value)
            if inferred is None:
                continue
            unit, canonical = inferred
            end = num_end
        if vm.group("cmp"):
            pass  # "< 0.5" is kept as its bound
        facts.append(Fact("lab", analyte.name, value, unit, canonical, nm.start(), end))
    facts.sort(key=lambda f: f.start)
    return facts


_LIST_SEP = r"\s*(?:,\s*(?:and\s+)?|\s+and\s+|/)\s*"


def _list_facts(text: str, names: list[re.Match[str]], aliases: dict[str, str | None],
                consumed: set[int] | None = None) -> list[Fact]:
    """Lists and ratios: "sodium, potassium and chloride were 134, 4.1 and 100 mmol/L", "BUN/creatinine 32/0.87".

    The start of every name of a matched list goes into ``consumed``, kept or not (an implausible value is
    dropped, and its name must not take a neighbour's number instead)."""
    out: list[Fact] = []
    i = 0
    while i < len(names):
        j = i
        while j + 1 < len(names) and re.fullmatch(_LIST_SEP, text[names[j].end():names[j + 1].start()], re.I):
            j += 1
        if j == i:
            i += 1
            continue
        group = names[i:j + 1]
        pos = group[-1].end()
        fill = re.match(r"[^\d\n;]{0,60}?(?=\d)", text[pos:])
        # label words only; or prose ("levels remain within normal ranges at") when the values end "respectively"
        prose = fill is not None and not _fill_ok(fill.group(0))
        if fill is None or (prose and not _prose_fill_ok(fill.group(0))):
            i = j + 1
            continue
        pos += fill.end()
        values: list[tuple[float, int, int, str | None]] = []
        for k in range(len(group)):
            vm = re.match(r"(\d+(?:\.\d+)?)", text[pos:])
            if vm is None:
                break
            v_start, v_end = pos, pos + vm.end()
            unit_hit = read_unit(text, v_end)
            unit = unit_hit[0] if unit_hit else None
            end = unit_hit[1] if unit_hit else v_end
            end_unit = end
            # tolerate a misspelt unit ("mEql/L")
            junk = re.match(r"[a-zA-Zµμ][a-zA-Z/µμ]{0,7}", text[end:])
            if unit is None and junk:
                end_unit = end + junk.end()
            values.append((float(vm.group(1)), v_start, end, unit))
            if k == len(group) - 1:
                break
            sep = re.match(_LIST_SEP, text[end_unit:], re.I)
            if sep is None:
                break
            pos = end_unit + sep.end()
        if prose and not (values and re.match(r"\s*,?\s*respectively\b", text[values[-1][2]:], re.I)):
            i = j + 1
            continue
        if len(values) == len(group):
            if consumed is not None:
                consumed.update(nm.start() for nm in group)
            shared = next((u for *_, u in reversed(values) if u), None)
            for nm, (value, _vs, v_end, unit) in zip(group, values, strict=True):
                key = " ".join(nm.group(0).lower().replace("-", " ").split())
                name = aliases.get(nm.group(0).lower(), aliases.get(key)) or ""
                analyte = ANALYTES.get(_specimen(text, nm.start(), nm.end(), name) if name else "")
                if analyte is None:
                    continue
                canonical = None
                for u in (unit, shared):
                    if u:
                        canonical = _to_canonical(analyte, value, u)
                        if canonical is not None:
                            unit = u
                            break
                if canonical is None:
                    inferred = _infer_unit(analyte, value)
                    if inferred is None:
                        continue
                    unit, canonical = inferred
                out.append(Fact("lab", analyte.name, value, unit or analyte.canonical, canonical, nm.start(), v_end))
        i = j + 1
    return out


def extract_all_measurements(text: str) -> list[Fact]:
    """Vitals, bedside measurements and labs together, in note order."""
    out = [*extract_vitals(text), *extract_measurements(text), *extract_labs(text)]
    out.sort(key=lambda f: f.start)
    return out
