"""Choosing the calculator a question asks for ("What is the patient's CURB-65 score?" -> ``curb_65``).

Each calculator is scored by the rarity-weighted words of its id, name and synonyms that the question shares,
plus a bonus for a whole name or synonym written in it; common misspellings are corrected first. MedCalc-Bench
note mode uses it; so can anyone holding a question and a note.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

_TYPOS = {"cholestrol": "cholesterol", "critiera": "criteria", "miligram": "milligram", "cockroft": "cockcroft",
          "melda": "meld", "outuput": "output", "mass mass": "mass"}
# Abbreviations expanded on both sides so that "QTc" and "corrected QT" (or "BMI" and "body mass index") match.
_EXPAND = {"qtc": ("qt", "corrected"), "bmi": ("body", "mass", "index"), "gfr": ("glomerular", "filtration", "rate"),
           "mme": ("morphine", "milligram", "equivalent"), "map": ("mean", "arterial", "pressure"),
           "ldl": ("low", "density", "lipoprotein"), "gcs": ("glasgow", "coma"), "cci": ("charlson", "comorbidity"),
           "psi": ("pneumonia", "severity"), "dvt": ("deep", "vein", "thrombosis"), "pe": ("pulmonary", "embolism"),
           "fena": ("fractional", "excretion", "sodium"), "crcl": ("creatinine", "clearance")}


def _tokens(text: str) -> list[str]:
    out = []
    for w in re.findall(r"[a-z0-9₂]+", text.lower()):
        if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        out.append(w)
        out.extend(_EXPAND.get(w, ()))
    return out


_QUESTION_STOP = frozenset("the a an of for in on to and or with what is are patient patients s based using "
                           "your answer response should be terms please score calculator formula equation value "
                           "number use you may this their at as by from it its".split())


@lru_cache(maxsize=1)
def _calculator_index() -> tuple[dict[str, set[str]], dict[str, float], dict[str, list[str]]]:
    """Per calculator: its name tokens; per token: its inverse document frequency; per calculator: its phrases."""
    from wardround.tools.calculators.registry import all_calculators

    tokens: dict[str, set[str]] = {}
    phrases: dict[str, list[str]] = {}
    for calc in all_calculators().values():
        names = (calc.name, *calc.synonyms, calc.id.replace("_", " "))
        tokens[calc.id] = {t for n in names for t in _tokens(n)} - _QUESTION_STOP
        phrases[calc.id] = [" ".join(_tokens(n)) for n in names if len(" ".join(_tokens(n))) >= 4]
    n = len(tokens)
    df: dict[str, int] = {}
    for toks in tokens.values():
        for t in toks:
            df[t] = df.get(t, 0) + 1
    idf = {t: math.log((n + 1) / (c + 0.5)) for t, c in df.items()}
    return tokens, idf, phrases


def choose_calculator(question: str) -> str | None:
    """The calculator a question names in words ("What is the patient's CURB-65 score?" -> ``"curb_65"``).

    Each calculator is scored by the rarity-weighted name words (id, name, synonyms) the question shares with it,
    plus a bonus for a whole name or synonym written in the question; common misspellings are corrected first.
    """
    if not question or not question.strip():
        return None
    text = question.lower()
    for wrong, right in _TYPOS.items():
        text = re.sub(rf"\b{wrong}\b", right, text)
    first = re.split(r"(?<=\?)\s", text, maxsplit=1)[0]
    q_tokens = [t for t in _tokens(first) if t not in _QUESTION_STOP]
    q_set = set(q_tokens)
    q_joined = " " + " ".join(_tokens(first)) + " "
    tokens, idf, phrases = _calculator_index()
    best: tuple[float, str] | None = None
    for cid, toks in tokens.items():
        score = sum(idf[t] for t in q_set & toks)
        if score <= 0:
            continue
        longest = max((len(p) for p in phrases[cid] if f" {p} " in q_joined), default=0)
        score += longest / 4.0
        # names whose words are mostly absent from the question are penalised a little
        score -= 0.1 * len(toks - q_set)
        if best is None or score > best[0]:
            best = (score, cid)
    if best is None:
        from wardround.tools.calculators.registry import find_calculator

        hits = find_calculator(first, limit=1)
        return hits[0].id if hits else None
    return best[1]
