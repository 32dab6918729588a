"""Medication mentions with dose, unit, route and frequency ("oxycodone 10 mg PO q6h", "60 mg of Tapentadol 1 time
a day", "fentanyl patch 25 mcg/hr", "norepinephrine 0.1 µg/kg/min").

The drug lexicon groups drugs into the classes that clinical scores ask about (opioids for morphine milligram
equivalents, glucocorticoids for steroid conversion, antihypertensives, antiplatelets/NSAIDs, hormones,
vasopressors, insulin, anticoagulants). Frequencies are read as administrations per day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from wardround.extract.context import Context, assertion_context
from wardround.patterns import fast_finditer, phrase_alternation

# canonical drug -> (class, spellings)
DRUGS: dict[str, tuple[str, tuple[str, ...]]] = {
    # opioids (MME)
    "codeine": ("opioid", ("codeine",)),
    "fentanyl_patch": ("opioid", ("fentanyl patch", "fentanyl transdermal", "transdermal fentanyl", "fentanyl patches",
                                  "duragesic", "fentanyl transdermal patch")),
    "fentanyl_buccal": ("opioid", ("fentanyl buccal", "buccal fentanyl", "fentanyl sublingual", "sublingual fentanyl",
                                   "fentanyl buccal tablet", "fentanyl lozenge", "fentanyl", "fentora", "actiq")),
    "hydrocodone": ("opioid", ("hydrocodone", "vicodin", "norco")),
    "hydromorphone": ("opioid", ("hydromorphone", "dilaudid")),
    "methadone": ("opioid", ("methadone",)),
    "morphine": ("opioid", ("morphine", "ms contin")),
    "oxycodone": ("opioid", ("oxycodone", "oxycontin", "percocet")),
    "oxymorphone": ("opioid", ("oxymorphone", "opana")),
    "tapentadol": ("opioid", ("tapentadol", "nucynta")),
    "tramadol": ("opioid", ("tramadol", "ultram")),
    "buprenorphine": ("opioid", ("buprenorphine",)),
    # glucocorticoids
    "betamethasone": ("glucocorticoid", ("betamethasone",)),
    "cortisone": ("glucocorticoid", ("cortisone",)),
    "dexamethasone": ("glucocorticoid", ("dexamethasone", "decadron")),
    "hydrocortisone": ("glucocorticoid", ("hydrocortisone", "cortef", "solu-cortef")),
    "methylprednisolone": ("glucocorticoid", ("methylprednisolone", "solu-medrol", "medrol")),
    "prednisolone": ("glucocorticoid", ("prednisolone",)),
    "prednisone": ("glucocorticoid", ("prednisone",)),
    "triamcinolone": ("glucocorticoid", ("triamcinolone", "kenalog")),
    # vasopressors and inotropes (SOFA)
    "norepinephrine": ("vasopressor", ("norepinephrine", "noradrenaline", "levophed")),
    "epinephrine": ("vasopressor", ("epinephrine", "adrenaline")),
    "dopamine": ("vasopressor", ("dopamine",)),
    "dobutamine": ("vasopressor", ("dobutamine",)),
    "vasopressin": ("vasopressor", ("vasopressin",)),
    "phenylephrine": ("vasopressor", ("phenylephrine",)),
    # classes asked about by risk scores
    "insulin": ("insulin", ("insulin", "insulin glargine", "insulin lispro", "insulin aspart", "lantus", "humalog",
                            "novolog", "nph insulin", "insulin detemir", "insulin degludec")),
    "antiplatelet": ("antiplatelet", ("aspirin", "acetylsalicylic acid", "clopidogrel", "prasugrel", "ticagrelor",
                                      "dipyridamole", "cilostazol", "asa", "antiplatelet",
                                      "antiplatelets", "antiplatelet medication", "antiplatelet medications",
                                      "antiplatelet agent", "antiplatelet agents", "antiplatelet therapy",
                                      "dual antiplatelet therapy", "dapt")),
    "nsaid": ("nsaid", ("ibuprofen", "naproxen", "diclofenac", "ketorolac", "indomethacin", "meloxicam", "celecoxib",
                        "nsaid", "nsaids", "non-steroidal anti-inflammatory", "nonsteroidal anti-inflammatory",
                        "piroxicam", "ketoprofen")),
    "anticoagulant": ("anticoagulant", ("warfarin", "coumadin", "apixaban", "rivaroxaban", "dabigatran", "edoxaban",
                                        "heparin", "enoxaparin", "acenocoumarol", "phenprocoumon")),
    "antihypertensive": ("antihypertensive", (
        "lisinopril", "enalapril", "ramipril", "captopril", "perindopril", "benazepril", "quinapril", "fosinopril",
        "losartan", "valsartan", "irbesartan", "candesartan", "olmesartan", "telmisartan", "amlodipine", "nifedipine",
        "felodipine", "diltiazem", "verapamil", "hydrochlorothiazide", "hctz", "chlorthalidone", "indapamide",
        "metoprolol", "atenolol", "bisoprolol", "carvedilol", "propranolol", "nebivolol", "labetalol", "hydralazine",
        "clonidine", "spironolactone", "doxazosin", "furosemide", "torsemide", "antihypertensive",
        "antihypertensives", "antihypertensive medication", "antihypertensive medications", "ace inhibitor",
        "angiotensin receptor blocker", "beta blocker", "beta-blocker", "calcium channel blocker")),
    "hormone": ("hormone", ("oral contraceptive", "oral contraceptives", "oral contraceptive pill", "ocp", "ocps",
                            "birth control pill", "birth control pills", "combined oral contraceptive", "estrogen",
                            "oestrogen", "estradiol", "ethinyl estradiol", "hormone replacement therapy", "hrt",
                            "hormonal contraception", "hormone therapy", "conjugated estrogens", "levonorgestrel",
                            "norethindrone", "drospirenone", "tamoxifen", "raloxifene")),
}

_FREQ_WORDS: dict[str, float] = {
    "once daily": 1, "once a day": 1, "once per day": 1, "daily": 1, "qd": 1, "od": 1, "q24h": 1, "every day": 1,
    "per day": 1, "a day": 1, "nightly": 1, "qhs": 1, "at bedtime": 1, "every morning": 1, "qam": 1,
    "twice daily": 2, "twice a day": 2, "bid": 2, "b.i.d.": 2, "q12h": 2, "every 12 hours": 2, "twice per day": 2,
    "three times daily": 3, "three times a day": 3, "tid": 3, "t.i.d.": 3, "q8h": 3, "every 8 hours": 3,
    "thrice daily": 3, "four times daily": 4, "four times a day": 4, "qid": 4, "q.i.d.": 4, "q6h": 4,
    "every 6 hours": 4, "q4h": 6, "every 4 hours": 6, "q3h": 8, "every 3 hours": 8, "q2h": 12, "every 2 hours": 12,
    "every 72 hours": 1 / 3, "q72h": 1 / 3, "every 3 days": 1 / 3, "every 48 hours": 0.5, "every other day": 0.5,
    "weekly": 1 / 7, "once weekly": 1 / 7,
}
_NUM_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "once": 1, "twice": 2, "thrice": 3}
_FREQ_RX = re.compile(
    r"\b(?P<n>\d+|one|two|three|four|five|six)\s*(?:x|times?)\s*(?:a|per|/|each)\s*day\b"
    r"|\b(?P<once>once|twice|thrice)\s+(?:a|per|each)\s+day\b"
    r"|\b(?:q|every)\s*(?P<h>\d{1,2})\s*(?:h|hr|hrs|hours?)\b"
    r"|(?P<word>" + "|".join(re.escape(w) for w in sorted(_FREQ_WORDS, key=len, reverse=True)) + r")(?![\w])",
    re.I)
_DOSE_RX = re.compile(
    r"(?<![\w.])(?P<v>\d+(?:\.\d+)?)\s*(?P<u>mcg\s*/\s*h(?:r|our)?|µg\s*/\s*h(?:r|our)?|μg\s*/\s*h(?:r|our)?|"
    r"ug\s*/\s*h(?:r|our)?|(?:mcg|µg|μg|ug)\s*/\s*kg\s*/\s*min|mg\s*/\s*kg|mg|mcg|µg|μg|ug|g|units?|iu|mL)\b",
    re.I)
_ROUTE_RX = re.compile(r"\b(po|p\.o\.|oral(?:ly)?|by mouth|iv|i\.v\.|intravenous(?:ly)?|im|intramuscular(?:ly)?|"
                       r"sc|subcutaneous(?:ly)?|sq|transdermal|topical|inhaled|buccal|sublingual|sl|pr|rectal)\b", re.I)
_ROUTES = {"p.o.": "PO", "po": "PO", "oral": "PO", "orally": "PO", "by mouth": "PO", "iv": "IV", "i.v.": "IV",
           "intravenous": "IV", "intravenously": "IV", "im": "IM", "intramuscular": "IM", "intramuscularly": "IM",
           "sc": "SC", "subcutaneous": "SC", "subcutaneously": "SC", "sq": "SC", "transdermal": "transdermal",
           "topical": "topical", "inhaled": "inhaled", "buccal": "buccal", "sublingual": "sublingual",
           "sl": "sublingual", "pr": "PR", "rectal": "PR"}


@dataclass(frozen=True)
class MedicationMention:
    """A drug named in the note with what was read around it (dose per administration, route, times per day)."""

    drug: str
    drug_class: str
    start: int
    end: int
    dose: float | None = None
    dose_unit: str | None = None
    route: str | None = None
    per_day: float | None = None
    context: Context = Context()
    quote_start: int = 0
    quote_end: int = 0


@lru_cache(maxsize=1)
def _drug_rx() -> tuple[re.Pattern[str], dict[str, str]]:
    index: dict[str, str] = {}
    for drug, (_, names) in DRUGS.items():
        for n in names:
            index.setdefault(n.lower(), drug)
    alt = phrase_alternation(sorted(index, key=len, reverse=True))
    return re.compile(rf"(?<![\w-]){alt}(?![\w])", re.I), index


def _per_day(m: re.Match[str]) -> float:
    if m.group("n"):
        n = m.group("n").lower()
        return float(_NUM_WORDS.get(n, n))  # type: ignore[arg-type]
    if m.group("once"):
        return float(_NUM_WORDS[m.group("once").lower()])
    if m.group("h"):
        h = int(m.group("h"))
        return 24.0 / h if h else 0.0
    return float(_FREQ_WORDS[m.group("word").lower()])


def _clause(text: str, start: int, end: int) -> tuple[int, int]:
    """The clause around a drug name: bounded by sentence ends, semicolons and the next list comma+drug."""
    left = max(text.rfind(". ", 0, start), text.rfind(";", 0, start), text.rfind("\n", 0, start))
    right_candidates = [i for i in (text.find(". ", end), text.find(";", end), text.find("\n", end)) if i != -1]
    right = min(right_candidates) if right_candidates else len(text)
    return left + 1, right


def extract_medications(text: str) -> list[MedicationMention]:
    """Every drug of the lexicon named in the note, with dose, route and frequency read from its clause."""
    rx, index = _drug_rx()
    names = fast_finditer(rx, text)
    out: list[MedicationMention] = []
    for i, m in enumerate(names):
        key = " ".join(m.group(0).lower().replace("-", " ").split())
        drug = index.get(key) or index.get(m.group(0).lower())
        if drug is None:
            drug = next((d for n, d in index.items() if " ".join(n.replace("-", " ").split()) == key), None)
            if drug is None:
                continue
        cls = DRUGS[drug][0]
        cs, ce = _clause(text, m.start(), m.end())
        prev_end = names[i - 1].end() if i > 0 else cs
        next_start = names[i + 1].start() if i + 1 < len(names) else ce
        lo = max(cs, prev_end)
        hi = min(ce, next_start)
        # the dose sits right after the name ("morphine 10 mg") or right before it ("10 mg of morphine")
        dose = dose_unit = None
        q0, q1 = m.start(), m.end()
        after = _DOSE_RX.search(text, m.end(), hi)
        before = None
        for d in _DOSE_RX.finditer(text, lo, m.start()):
            before = d
        pick = None
        if before is not None and re.fullmatch(r"\s*(?:of\s+)?(?:oral\s+|iv\s+|intravenous\s+)?", text[before.end():m.start()],
                                               re.I):
            pick = before  # "60 mg of tapentadol"
        elif after is not None and re.fullmatch(r"[\s:(]*(?:[a-z.]+\s+){0,5}?", text[m.end():after.start()], re.I):
            pick = after  # "morphine 10 mg", "fentanyl patch of 25 mcg/hr"
        elif before is not None and m.start() - before.end() <= 12:
            pick = before
        elif after is not None:
            pick = after
        if pick is not None:
            dose = float(pick.group("v"))
            dose_unit = re.sub(r"\s+", "", pick.group("u")).replace("μ", "µ").replace("ug", "µg").replace("mcg", "µg")
            q0, q1 = min(q0, pick.start()), max(q1, pick.end())
        window_lo = q0 if pick is before and pick is not None else m.start()
        freq = None
        fm = None
        for f in _FREQ_RX.finditer(text, window_lo, hi):
            fm = f
            break
        if fm is not None:
            freq = _per_day(fm)
            q1 = max(q1, fm.end())
        route = None
        rm = _ROUTE_RX.search(text, max(lo, m.start() - 5), hi)
        if rm is not None:
            route = _ROUTES.get(rm.group(1).lower())
            if route == "buccal" and drug == "fentanyl_buccal":
                pass
        if drug == "fentanyl_buccal" and dose_unit and "/h" in dose_unit:
            drug = "fentanyl_patch"
        ctx = assertion_context(text, m.start(), m.end())
        out.append(MedicationMention(drug, cls, m.start(), m.end(), dose, dose_unit, route, freq, ctx, q0, q1))
    return _coordinated_doses(text, out)


_JOIN = re.compile(r"\s*(?:,\s*(?:and\s+)?|\s+and\s+|\s*&\s*)\s*", re.I)
_DOSE_SEP = re.compile(r"\s*(?:,\s*(?:and\s+)?|\s+and\s+)\s*", re.I)


def _coordinated_doses(text: str, meds: list[MedicationMention]) -> list[MedicationMention]:
    """Doses written after coordinated drug names: "A and B at 0.1 mcg/kg/min each" (one dose for every name) and
    "A and B run at 3 and 2 mcg/kg/min respectively" (one dose per name, in order)."""
    out = list(meds)
    i = 0
    while i < len(out):
        j = i
        while j + 1 < len(out) and _JOIN.fullmatch(text, out[j].end, out[j + 1].start):
            j += 1
        if j == i:
            i += 1
            continue
        group = list(range(i, j + 1))
        _, clause_end = _clause(text, out[j].start, out[j].end)
        stop = out[j + 1].start if j + 1 < len(out) else clause_end
        stop = min(stop, clause_end)
        doses: list[re.Match[str]] = []
        pos = out[j].end
        lead = re.match(r"[^\d.;]{0,40}?(?=\d)", text[pos:stop])
        if lead is not None:
            pos += lead.end()
            while True:
                d = _DOSE_RX.match(text, pos)
                if d is None:
                    bare = re.match(r"(\d+(?:\.\d+)?)", text[pos:stop])
                    sep = _DOSE_SEP.match(text, pos + bare.end()) if bare else None
                    if bare is None or sep is None:
                        break
                    doses.append(re.match(r"(?P<v>\d+(?:\.\d+)?)(?P<u>)", text[pos:]))  # unit written later
                    pos = sep.end()
                    continue
                doses.append(d)
                sep = _DOSE_SEP.match(text, d.end())
                if sep is None or len(doses) >= len(group):
                    pos = d.end()
                    break
                pos = sep.end()
        tail = text[pos:min(stop, pos + 25)].lower()
        unit = next((d.group("u") for d in reversed(doses) if d.group("u")), None)
        values: list[float] = []
        if len(doses) == len(group) and "respectively" in tail and unit:
            values = [float(d.group("v")) for d in doses]
        elif len(doses) == 1 and unit and ("each" in tail or re.search(r"\bboth\s+$", text[max(0, out[i].start - 6):
                                                                                          out[i].start], re.I)):
            values = [float(doses[0].group("v"))] * len(group)
        if values and unit:
            u = re.sub(r"\s+", "", unit).replace("μ", "µ").replace("ug", "µg").replace("mcg", "µg")
            for k, v in zip(group, values, strict=True):
                out[k] = replace(out[k], dose=v, dose_unit=u, quote_start=out[k].start, quote_end=max(out[k].end, pos))
        i = j + 1
    return out
