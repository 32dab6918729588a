"""Input resolvers: how each calculator input is found in a case, with the item definitions they rest on.

A resolver maps a case's facts (``inputs.CaseFacts``: structured fields first, then the note's shared facts) to
one input of a calculator: a history concept affirmed or negated, a drug class on the list, a value derived from
a measurement (MAP, BMI, a threshold of a score item). ``FIELD_RESOLVERS`` holds them by field name, with
``(calculator_id, field)`` keys where a calculator defines an item differently; ``resolve`` falls back to the
plain look-ups (age, sex, vitals, labs) for fields without one. Item definitions carry their reference next to
the rule.

Patterns a resolver looks for in the note are compiled once here and searched once per note
(``NoteFacts.search`` / ``finditer``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from wardround.extract.context import assertion_context
from wardround.extract.history import find_concept
from wardround.extract.medications import extract_medications
from wardround.tools.calculators.inputs import CaseFacts, Hit, Source, span
from wardround.units import troponin_url

Resolver = Callable[[CaseFacts], "Hit | None"]


def _any(*resolvers: Resolver) -> Resolver:
    """First True wins; else the first explicit False; else unknown."""

    def run(f: CaseFacts) -> Hit | None:
        neg = None
        for r in resolvers:
            h = r(f)
            if h is None:
                continue
            if h.value is True:
                return h
            if neg is None:
                neg = h
        return neg

    return run


def _c(*concepts: str, **kw: Any) -> Resolver:
    """A history concept affirmed (True) or explicitly negated (False)."""
    return lambda f: f.concept(*concepts, **kw)


def _med(*classes: str) -> Resolver:
    """A drug of one of these classes taken (True), else unknown."""
    return lambda f: f.med_class(*classes)


def _threshold(getter: Callable[[CaseFacts], Hit | None], test: Callable[[float], bool], label: str) -> Resolver:
    """True when a measured value meets a score item's threshold, else unknown."""
    def run(f: CaseFacts) -> Hit | None:
        h = getter(f)
        if h is None:
            return None
        ok = test(float(h.value))
        return Hit(ok, h.sources, f"derived: {label} ({h.value:g})") if ok else None

    return run


def _negate(r: Resolver, label: str) -> Resolver:
    """For 'absence of X' items: X present -> False; X explicitly negated -> True."""

    def run(f: CaseFacts) -> Hit | None:
        h = r(f)
        if h is None:
            return None
        return Hit(not h.value, h.sources, f"{label}: {h.how}")

    return run


def _both_absent(*rs: Resolver) -> Resolver:
    """'Absence of X or Y' (FeverPAIN): any present -> False; all explicitly negated -> True."""

    def run(f: CaseFacts) -> Hit | None:
        hits = [r(f) for r in rs]
        for h in hits:
            if h is not None and h.value is True:
                return Hit(False, h.sources, f"present: {h.how}")
        if hits and all(h is not None and h.value is False for h in hits):
            return Hit(True, tuple(s for h in hits if h for s in h.sources), "all explicitly absent")
        return None

    return run


_FORMER_SMOKER = re.compile(r"\b(?:former|ex-?|quit|stopped|ceased|previous(?:ly)?|prior|past|gave up|remote|"
                            r"discontinued|non-?)\b|\bhistory of smoking\b.*\bquit")


def _current_smoker(f: CaseFacts) -> Hit | None:
    for m in f.facts.concept("smoking"):
        if m.family:
            continue
        window = f.note[max(0, m.start - 30):m.end + 40].lower()
        former = _FORMER_SMOKER.search(window)
        if m.present and not former:
            return Hit(True, (span(m.start, m.end),), "note: current smoker")
        if m.context.negated or former:
            return Hit(False, (span(m.quote_start, m.end),), "note: not a current smoker")
    return None


def _map(f: CaseFacts) -> Hit | None:
    s, d = f.vital("systolic_bp"), f.vital("diastolic_bp")
    if s is None or d is None:
        return None
    value = (s.value + 2 * d.value) / 3.0
    return Hit(value, s.sources + d.sources, "derived: mean arterial pressure")


def _bmi(f: CaseFacts) -> Hit | None:
    h = f.vital("bmi")
    if h is not None:
        return h
    w, ht = f.vital("weight"), f.vital("height")
    if w is None or ht is None:
        return None
    m = ht.value / 100.0
    return Hit(round(w.value / (m * m), 2), w.sources + ht.sources, "derived: weight / height²")


def _creatinine(f: CaseFacts) -> Hit | None:
    return f.lab("creatinine")


def _attend_rapidly(f: CaseFacts) -> Hit | None:
    """FeverPAIN 'attend rapidly': presentation within 3 days of symptom onset (Little et al. 2013,
    doi:10.1136/bmj.f5806)."""
    for d in f.facts.durations:
        around = f.note[max(0, d.start - 80):d.end + 40].lower()
        if re.search(r"throat|pain|fever|symptom|odynophagia|swallow|onset|history|since|for", around):
            return Hit(d.days <= 3, (span(d.start, d.end),), f"derived: symptom duration {d.days:g} days")
    return None


def _fever(f: CaseFacts) -> Hit | None:
    h = f.concept("fever")
    if h is not None and h.value:
        return h
    t = f.vital("temperature")
    if t is not None and t.value > 38.0:  # FeverPAIN fever: > 38 °C (Little et al. 2013, doi:10.1136/bmj.f5806)
        return Hit(True, t.sources, f"derived: temperature {t.value:g} °C > 38")
    return h


def _gcs_component(table: tuple[tuple[str, str], ...]) -> Resolver:
    """The first described response of a GCS component table (patterns in order of the scale)."""
    compiled = tuple((re.compile(pattern, re.I), option) for pattern, option in table)

    def run(f: CaseFacts) -> Hit | None:
        for pattern, option in compiled:
            m = f.facts.search(pattern)
            if m:
                return Hit(option, (span(m.start(), m.end()),), "note: described response")
        return None

    return run


_EYE = ((r"eyes?\s+(?:were\s+|was\s+)?(?:open(?:ed|ing)?\s+)?spontaneous(?:ly)?|spontaneous\s+eye\s+opening", "spontaneous"),
        (r"(?:eyes?\s+)?open(?:ed|ing|s)?\s+(?:his\s+|her\s+)?(?:eyes\s+)?(?:only\s+)?(?:to|in response to|upon|on)\s+"
         r"(?:verbal|voice|speech|sound|command|being\s+(?:spoken|called))", "to sound"),
        (r"(?:eyes?\s+)?open(?:ed|ing|s)?\s+(?:his\s+|her\s+)?(?:eyes\s+)?(?:only\s+)?(?:to|in response to|upon|on|with)\s+"
         r"(?:pain|painful|pressure|noxious|sternal|trapezius|nail)", "to pressure"),
        (r"(?:no|without|did\s+not|does\s+not|didn't)\s+(?:\w+\s+){0,2}(?:eye\s+opening|open\s+(?:his\s+|her\s+)?eyes)|"
         r"eyes\s+(?:remained\s+)?closed", "none"))
_VERBAL = ((r"\boriented\b(?!\s+to\s+(?:person|self)\s+only)|conversant|normal\s+speech|answer(?:ed|ing)\s+questions"
            r"\s+appropriately", "oriented"),
           (r"confused\s+(?:conversation|speech)|disoriented|confused", "confused"),
           (r"inappropriate\s+words|random\s+words|inappropriate\s+(?:speech|responses)", "words"),
           (r"incomprehensible\s+(?:sounds|speech)|moan(?:ing|ed|s)|groan(?:ing|ed|s)|mumbl(?:ing|ed)|"
            r"unintelligible", "sounds"),
           (r"(?:no|without)\s+(?:verbal\s+(?:response|output)|vocali[sz]ation|speech)|non-?verbal|aphasic|mute|"
            r"(?:did|does|do)\s+not\s+(?:\w+\s+){0,2}?(?:speak|verbali[sz]e|respond\s+verbally)", "none"))
_MOTOR = ((r"obey(?:s|ed|ing)?\s+(?:simple\s+)?commands|follow(?:s|ed|ing)?\s+(?:simple\s+)?commands", "obeys commands"),
          (r"locali[sz](?:es|ed|ing|ation)\s+(?:to\s+)?(?:the\s+)?(?:pain|painful|stimul)|locali[sz]ing", "localising"),
          (r"withdr(?:ew|aws?|awal|awing)\s+(?:\w+\s+){0,4}?(?:from|to|in response to)\s+(?:the\s+)?(?:pain|painful|"
           r"stimul|noxious)|withdrawal\s+(?:response|to\s+pain)|withdr(?:ew|aws?)", "normal flexion"),
          (r"decorticate|abnormal\s+flexion|flexion\s+(?:posturing|to\s+pain)", "abnormal flexion"),
          (r"decerebrate|extensor\s+posturing|extension\s+(?:posturing|to\s+pain)", "extension"),
          (r"(?:no|without)\s+(?:motor\s+response|movement|response\s+to\s+pain)|flaccid", "none"))


# GCS components described in prose (Teasdale & Jennett 1974, doi:10.1016/s0140-6736(74)91639-0, PMID 4136544;
# the terms "to sound", "to pressure" of Teasdale et al. 2014, doi:10.1016/S1474-4422(14)70120-6): the stimulus and the response are often in different clauses of one sentence
# ("When a sternal rub was applied, his eyes opened"), so a component is read per sentence, taking the stimulus
# word nearest to the eye-opening mention and the most specific motor response the sentence describes.
_EYE_OPENING = re.compile(r"\beyes?\b[^.;\n]{0,40}?\bop(?:en|ens|ened|ening)\b|\bop(?:en|ens|ened|ening)\s+"
                          r"(?:\w+\s+){0,2}?eyes?\b|\beye[- ]opening\b", re.I)
_EYE_NONE = re.compile(r"\b(?:no|without|absent)\s+(?:\w+\s+){0,2}?eye[- ]opening|\b(?:not|never|unable\s+to|"
                       r"failed\s+to|did\s+not|does\s+not|didn't)\s+(?:\w+\s+){0,2}?open\s+(?:\w+\s+){0,2}?eyes?|"
                       r"\beyes\s+(?:remained|remain|stayed|were|are|kept)\s+closed", re.I)
_EYE_STIMULI = ((re.compile(r"\bspontaneous(?:ly)?\b", re.I), "spontaneous"),
                (re.compile(r"\b(?:pain\w*|pressure|sternal|trapezius|supraorbital|nail\s*bed|fingernail|pinch\w*|"
                            r"noxious|rub)\b", re.I), "to pressure"),
                (re.compile(r"\b(?:voice|verbal|name|called|calling|spoken|speech|sound|command\w*|loud|shout\w*|"
                            r"talk\w*|asked)\b", re.I), "to sound"))
_MOTOR_CUE = re.compile(r"\b(?:pain\w*|stimul\w*|sternal|rub|pinch\w*|noxious|pressure|motor|limbs?|arms?|legs?|"
                        r"extremit\w+|command\w*|movements?|posturing)\b", re.I)
_MOTOR_RESPONSES = (
    (re.compile(r"\bno\s+(?:\w+\s+){0,2}?(?:movements?|motor\s+response|response\s+to\s+pain\w*)|\bflaccid\b|"
                r"\b(?:did\s+not|does\s+not|didn't|failed\s+to)\s+(?:\w+\s+){0,2}?move\b", re.I), "none"),
    (re.compile(r"\bextens(?:ion|or)\b|\bdecerebrate\b", re.I), "extension"),
    (re.compile(r"\babnormal(?:ly)?\s+flex\w*|\bdecorticate\b|\bflexion\s+posturing\b", re.I), "abnormal flexion"),
    (re.compile(r"\bwithdr[ae]w\w*|\bwithdrawal\b|\bpull\w*\s+away\b|\bevade\w*\b|\bflex(?:ion|ed|es)?\b", re.I),
     "normal flexion"),
    (re.compile(r"\blocali[sz]\w*\b", re.I), "localising"),
    (re.compile(r"\b(?:obey\w*|follow\w*)\s+(?:\w+\s+){0,1}?commands?\b", re.I), "obeys commands"))
_NOT_BEFORE = re.compile(r"\b(?:not|unable\s+to|no|without|never|failed\s+to|cannot|can't)\s+(?:\w+\s+){0,3}$", re.I)


def _sentences_with(f: CaseFacts, rx: re.Pattern[str]) -> list[tuple[int, int, re.Match[str]]]:
    """(sentence start, end, first match) for each sentence of the note where ``rx`` matches."""
    from wardround.extract.context import sentence_bounds

    out = []
    for a, b in sentence_bounds(f.note):
        m = rx.search(f.note, a, b)
        if m:
            out.append((a, b, m))
    return out


def _gcs_eye_prose(f: CaseFacts) -> Hit | None:
    """GCS eye opening from a sentence: none when negated, else the stimulus nearest the eye-opening mention."""
    for a, b, m in _sentences_with(f, _EYE_OPENING):
        neg = _EYE_NONE.search(f.note, a, b)
        if neg:
            return Hit("none", (span(neg.start(), neg.end()),), "note: no eye opening")
        best: tuple[int, str, int, int] | None = None
        for rx, option in _EYE_STIMULI:
            for s in rx.finditer(f.note, a, b):
                d = min(abs(s.start() - m.end()), abs(m.start() - s.end()))
                if best is None or d < best[0]:
                    best = (d, option, s.start(), s.end())
        if best is not None:
            lo, hi = min(m.start(), best[2]), max(m.end(), best[3])
            return Hit(best[1], (span(lo, hi),), "note: eye opening and its stimulus")
    return None


def _gcs_motor_prose(f: CaseFacts) -> Hit | None:
    """GCS best motor response from a sentence describing limb movement to a stimulus or to commands."""
    for a, b in _sentence_spans(f):
        if not _MOTOR_CUE.search(f.note, a, b):
            continue
        for rx, option in _MOTOR_RESPONSES:
            for m in rx.finditer(f.note, a, b):
                if option != "none" and _NOT_BEFORE.search(f.note[max(a, m.start() - 30):m.start()]):
                    continue
                if option in ("extension", "normal flexion") and not _MOTOR_CUE.search(
                        f.note, max(a, m.start() - 120), min(b, m.end() + 60)):
                    continue
                if option == "none" and not re.search(r"limb|arm|leg|extremit|motor|pain|stimul", f.note[a:b], re.I):
                    continue
                return Hit(option, (span(m.start(), m.end()),), "note: described motor response")
    return None


def _sentence_spans(f: CaseFacts) -> tuple[tuple[int, int], ...]:
    from wardround.extract.context import sentence_bounds

    return sentence_bounds(f.note)


_VERBAL_NT = re.compile(r"\bverbal\w*\b[^.;\n]{0,60}?\b(?:could\s+not|cannot|can't|unable\s+to)\s+be\s+"
                        r"(?:evaluated|assessed|tested|obtained)|\bverbal\w*\s+(?:response\s+)?(?:not\s+)?"
                        r"(?:testable|untestable|not\s+assessable)", re.I)


def _gcs_verbal(f: CaseFacts) -> Hit | None:
    """GCS verbal: 'not testable' when the note says so (intubation), else the described response."""
    m = f.facts.search(_VERBAL_NT)
    if m:
        return Hit("not testable", (span(m.start(), m.end()),), "note: verbal response not testable")
    return _gcs_component(_VERBAL)(f)


def _ascites(f: CaseFacts) -> Hit | None:
    for m in f.facts.concept("ascites"):
        if m.family:
            continue
        if not m.present:
            if m.context.negated:
                return Hit("absent", (span(m.quote_start, m.end),), "note: no ascites")
            continue
        around = f.note[max(0, m.start - 40):m.end + 30].lower()
        grade = "moderate" if re.search(r"moderate|severe|massive|large|tense|significant|gross|marked", around) \
            else "slight"
        return Hit(grade, (span(m.start, m.end),), "note: ascites described")
    return None


def _encephalopathy(f: CaseFacts) -> Hit | None:
    for m in f.facts.concept("encephalopathy"):
        if m.family:
            continue
        if not m.present:
            if m.context.negated:
                return Hit("none", (span(m.quote_start, m.end),), "note: no encephalopathy")
            continue
        around = f.note[max(0, m.start - 40):m.end + 40].lower()
        grade = "grade 3-4" if re.search(r"grade\s*(?:3|4|iii|iv)|coma|stupor|severe", around) else "grade 1-2"
        return Hit(grade, (span(m.start, m.end),), "note: encephalopathy described")
    return None


_GRADE_WORDS = re.compile(r"\b(?:moderate(?:ly)?|severe(?:ly)?|advanced|decompensated|end[- ]stage)\b", re.I)


def _graded(f: CaseFacts, *concepts: str) -> Hit | None:
    """A present mention of ``concepts`` graded moderate or worse in its own phrase ("moderate renal
    insufficiency", "chronic liver disease of moderate severity")."""
    for c in concepts:
        for m in f.facts.concept(c):
            if not m.present or m.family:
                continue
            # the grade word in the mention's own phrase: no punctuation between it and the mention
            before = re.split(r"[.;,]", f.note[max(0, m.start - 25):m.start])[-1]
            after = re.split(r"[.;,]", f.note[m.end:m.end + 25])[0]
            g = _GRADE_WORDS.search(before) or _GRADE_WORDS.search(after)
            if g:
                return Hit(True, (span(m.start, m.end),), f"note: {c} graded '{g.group(0)}'")
    return None


def _liver_severity(f: CaseFacts) -> Hit | None:
    """Charlson liver disease: moderate-severe = cirrhosis with portal hypertension (Charlson 1987,
    doi:10.1016/0021-9681(87)90171-8), or liver disease the note itself grades moderate or severe."""
    severe = f.concept("portal_hypertension")
    if severe is not None and severe.value:
        return Hit("moderate to severe", severe.sources, "note: portal hypertension / varices")
    graded = _graded(f, "liver_disease")
    if graded is not None:
        return Hit("moderate to severe", graded.sources, graded.how)
    h = f.concept("liver_disease")
    if h is None:
        return None
    return Hit("mild" if h.value else "none", h.sources, h.how)


def _diabetes_severity(f: CaseFacts) -> Hit | None:
    h = f.concept("diabetes")
    if h is None:
        return None
    if not h.value:
        return Hit("none or diet-controlled", h.sources, h.how)
    organ = f.concept("diabetic_end_organ_damage")
    if organ is not None and organ.value:
        return Hit("end-organ damage", h.sources + organ.sources, "note: diabetes with end-organ damage")
    return Hit("uncomplicated", h.sources, h.how)


_HAEMATOLOGICAL = re.compile(r"lymphoma|leuka?emia|myeloma|hodgkin", re.I)


def _solid_tumor(f: CaseFacts) -> Hit | None:
    """Charlson solid tumour: a cancer that is not a lymphoma, leukaemia or myeloma (those are items of their own,
    Charlson 1987, doi:10.1016/0021-9681(87)90171-8)."""
    solid = [m for m in f.facts.concept("cancer") if not m.family and not _HAEMATOLOGICAL.match(f.note, m.start)]
    h = None
    for m in solid:
        if m.present:
            h = Hit(True, (span(m.start, m.end),), "note: solid tumour mentioned")
            break
        if m.context.negated and h is None:
            h = Hit(False, (span(m.quote_start, m.end),), "note: explicitly negated")
    if h is None:
        return None
    if not h.value:
        return Hit("none", h.sources, h.how)
    met = f.concept("metastatic")
    if met is not None and met.value:
        return Hit("metastatic", h.sources + met.sources, "note: metastatic cancer")
    return Hit("localized", h.sources, h.how)


def _ecg(f: CaseFacts) -> Hit | None:
    st = f.concept("st_deviation")
    if st is not None and st.value:
        return Hit("significant st deviation", st.sources, st.how)
    ns = f.concept("nonspecific_repolarization")
    if ns is not None and ns.value:
        return Hit("non-specific repolarization disturbance", ns.sources, ns.how)
    normal = f.concept("normal_ecg")
    if normal is not None and normal.value:
        return Hit("normal", normal.sources, normal.how)
    return None


# HEART troponin item (Six 2008, PMID 18665203): the initial troponin as a multiple of the assay's upper reference
# limit (the 99th-percentile URL): <= 1x -> 0, > 1-3x -> 1, > 3x -> 2. A measured value is read against the URL of
# its assay (``units.troponin_url``: hs-cTnI 26 ng/L, hs-cTnT 14 ng/L, assay-specific); words alone say only
# whether it is above the limit, so an elevated troponin without a number scores at least the 1-3x band.
_TROPONIN = re.compile(r"troponin[^.;\n]{0,40}?\b(not\s+(?:normal|elevated|raised|increased|detected|detectable)|"
                       r"abnormal|negative|normal|unremarkable|within\s+normal|undetectable|elevated|positive|"
                       r"raised|increased|rising)\b", re.I)
_TROPONIN_HIGH = ("elevated", "positive", "raised", "increased", "abnormal", "rising", "not normal")
_TROPONIN_ASSAY = re.compile(r"(?:hs-?\s*)?c?(?:troponin|tn|trop)\s*-?\s*([it])\b", re.I)


def troponin_band(multiple: float) -> str:
    """HEART troponin category of a multiple of the URL (Six 2008): <= 1 -> 0, 1-3 -> 1, > 3 -> 2 points."""
    return "<= normal limit" if multiple <= 1.0 else "1-3x normal limit" if multiple <= 3.0 else "> 3x normal limit"


def _troponin_measured(value_ng_ml: float, assay_text: str) -> tuple[str, str]:
    url, which = troponin_url(assay_text)
    ng_l = value_ng_ml * 1000.0
    multiple = ng_l / url
    return troponin_band(multiple), f"{ng_l:g} ng/L = {multiple:.1f}x the {which}"


def _troponin(f: CaseFacts) -> Hit | None:
    for i, lab in enumerate(f.case.labs):
        if lab.analyte == "troponin":
            canonical = lab.canonical_value()
            if canonical is not None:
                band, how = _troponin_measured(canonical, lab.name)
                return Hit(band, (Source(path=f"labs[{i}].value", value=lab.value),), f"case field: troponin {how}")
    fact = f.first(f.facts.labs, "troponin")
    if fact is not None:
        window = f.note[max(0, fact.start - 60):fact.end]
        assay = _TROPONIN_ASSAY.findall(window)
        band, how = _troponin_measured(fact.canonical_value, f"troponin {assay[-1]}" if assay else "troponin")
        return Hit(band, (span(fact.start, fact.end),), f"note: troponin {how}")
    m = f.facts.search(_TROPONIN)
    if not m:
        return None
    word = " ".join(m.group(1).lower().split())
    if word in _TROPONIN_HIGH:
        return Hit("1-3x normal limit", (span(m.start(), m.end()),),
                   f"note: troponin {word} without a value: scored as above the normal limit (1-3x, at least 1 "
                   "point); give the value for the full item")
    return Hit("<= normal limit", (span(m.start(), m.end()),), "note: troponin normal")


_SURGERY_TYPES = tuple((re.compile(p, re.I), option) for p, option in (
    (r"(?:hip|knee)\s+(?:arthroplasty|replacement)|arthroplasty", "elective major lower extremity arthroplasty"),
    (r"laparoscop\w+", "laparoscopic"), (r"arthroscop\w+", "arthroscopic"),
    (r"minor\s+(?:surgery|procedure)", "minor")))


def _caprini_surgery(f: CaseFacts) -> Hit | None:
    for pattern, option in _SURGERY_TYPES:
        m = f.facts.search(pattern)
        if m and assertion_ok(f.note, m.start(), m.end()):
            return Hit(option, (span(m.start(), m.end()),), "note: surgery described")
    h = f.concept("recent_surgery", "high_risk_surgery")
    if h is not None and h.value:
        return Hit("major", h.sources, "note: major surgery")
    return None


def assertion_ok(text: str, start: int, end: int) -> bool:
    """The mention is affirmed (not negated, hypothetical or about a relative)."""
    ctx = assertion_context(text, start, end)
    return not (ctx.negated or ctx.hypothetical or ctx.family)


def _mobility(f: CaseFacts) -> Hit | None:
    h = f.concept("bedridden")
    if h is None or not h.value:
        return None
    s = h.sources[0]
    around = f.note[max(0, s.start - 40):s.end + 60].lower()
    if re.search(r"72\s*h|>\s*3\s*days|more than (?:3|three) days|(?:\d+|several|many)\s+(?:days|weeks)|bed-?bound|"
                 r"confined", around):
        return Hit("confined to bed > 72 hours", h.sources, "note: confined to bed")
    return Hit("bed rest", h.sources, "note: bed rest")


def _admission_type(f: CaseFacts) -> Hit | None:
    h = f.concept("recent_surgery")
    if h is None or not h.value:
        return None
    s = h.sources[0]
    around = f.note[max(0, s.start - 80):s.end + 80].lower()
    if re.search(r"elective|scheduled|planned", around):
        return Hit("elective postoperative", h.sources, "note: elective surgery")
    return Hit("emergency postoperative", h.sources, "note: emergency surgery")


def _alcohol(f: CaseFacts) -> Hit | None:
    a = f.facts.alcohol
    if a is not None:
        return Hit(int(round(a.drinks_per_week)), (span(a.start, a.end),), "note: drinks per week")
    h = f.concept("alcohol_use")
    if h is not None and not h.value:
        return Hit(0, h.sources, "note: no alcohol")
    return None


def _has_bled_renal(f: CaseFacts) -> Hit | None:
    """HAS-BLED abnormal renal function: chronic dialysis, renal transplant or creatinine >= 200 µmol/L
    (2.26 mg/dL) (Pisters et al. 2010, doi:10.1378/chest.10-0134)."""
    return _any(_c("dialysis", "kidney_transplant", "severe_ckd", "renal_impairment"),
                _threshold(_creatinine, lambda v: v >= 2.26, "creatinine >= 2.26 mg/dL"))(f)


def _ccI_renal(f: CaseFacts) -> Hit | None:
    """Charlson moderate-severe renal disease: creatinine > 3 mg/dL, dialysis, transplant, uraemia (Charlson 1987,
    doi:10.1016/0021-9681(87)90171-8)."""
    return _any(_c("severe_ckd", "dialysis", "kidney_transplant"),
                _threshold(_creatinine, lambda v: v > 3.0, "creatinine > 3 mg/dL"),
                lambda x: _graded(x, "chronic_kidney_disease"))(f)


_UNCONTROLLED_HTN = re.compile(r"(?:uncontrolled|poorly\s+controlled|resistant|refractory)\s+"
                               r"(?:hypertension|htn|blood\s+pressure)", re.I)


# Blood pressure described as running high with its systolic value ("his blood pressure readings have tended to be
# elevated at above 170 mmHg for the systolic pressure"): the value is the clause's number before mmHg.
_BP_RUNNING_HIGH = re.compile(r"\b(?:blood\s+pressures?|BP)\b(?:\s+(?:readings?|values?|measurements?))?[^.;\n\d]{0,50}?"
                              r"\b(?:elevated|high|raised|above|over|exceed\w*|greater\s+than|>)\b[^.;\n\d]{0,20}?"
                              r"(\d{3})\s*(?:mm\s*hg)", re.I)


def _uncontrolled_htn(f: CaseFacts) -> Hit | None:
    """HAS-BLED hypertension: uncontrolled, systolic > 160 mmHg (Pisters et al. 2010, doi:10.1378/chest.10-0134)."""
    m = f.facts.search(_UNCONTROLLED_HTN)
    if m and assertion_ok(f.note, m.start(), m.end()):
        return Hit(True, (span(m.start(), m.end()),), "note: uncontrolled hypertension")
    for m in f.facts.finditer(_BP_RUNNING_HIGH):
        if float(m.group(1)) > 160 and assertion_ok(f.note, m.start(), m.end()):
            return Hit(True, (span(m.start(), m.end()),), f"note: blood pressure running above 160 ({m.group(1)} mmHg)")
    return _threshold(lambda x: x.vital("systolic_bp"), lambda v: v > 160, "systolic > 160 mmHg")(f)


def _hypotension_map(f: CaseFacts) -> Hit | None:
    """SOFA cardiovascular 1 point: MAP < 70 mmHg (Vincent et al. 1996, doi:10.1007/BF01709751)."""
    h = _map(f)
    if h is None:
        return None
    return Hit(h.value < 70, h.sources, f"derived: MAP {h.value:.0f} mmHg")


def _obesity(f: CaseFacts) -> Hit | None:
    """HEART risk factor obesity: BMI > 30 kg/m² (Six et al. 2008, doi:10.1007/BF03086144)."""
    h = f.concept("obesity")
    if h is not None and h.value:
        return h
    b = _bmi(f)
    if b is not None:
        return Hit(b.value > 30, b.sources, f"derived: BMI {b.value:.1f}")
    return h


def _dialysis_recent(f: CaseFacts) -> Hit | None:
    h = f.concept("dialysis", current_only=True)
    return h


def _vasopressor(drug: str) -> Resolver:
    def run(f: CaseFacts) -> Hit | None:
        for m in f.meds:
            if m.drug == drug and not m.context.negated and m.dose is not None and m.dose_unit and "kg/min" in m.dose_unit:
                return Hit(m.dose, (span(m.quote_start, m.quote_end),), f"note: {drug} infusion")
        return None

    return run


def _steroid(which: str) -> Resolver:
    def run(f: CaseFacts) -> Hit | None:
        note_meds = [m for m in f.meds if m.drug_class == "glucocorticoid"]
        q = f.case.question or ""
        q_meds = [m for m in extract_medications(q) if m.drug_class == "glucocorticoid"]
        if which == "input":
            if note_meds:
                m = note_meds[0]
                return Hit(m.drug, (span(m.start, m.end),), "note: steroid given")
            return None
        if which == "dose":
            if note_meds and note_meds[0].dose is not None:
                m = note_meds[0]
                unit = {"µg": "µg", "g": "g"}.get(m.dose_unit or "mg", "mg")
                return Hit(f"{m.dose:g} {unit}", (span(m.quote_start, m.quote_end),), "note: steroid dose")
            return None
        given = note_meds[0].drug if note_meds else None
        targets = [m for m in q_meds if m.drug != given] or q_meds[-1:]
        if targets:
            return Hit(targets[-1].drug, (Source(path="question", value=q),), "question: target steroid")
        return None

    return run


def _opioid(drug: str, part: str) -> Resolver:
    def run(f: CaseFacts) -> Hit | None:
        for m in f.meds:
            if m.drug != drug or m.context.negated:
                continue
            if part == "dose" and m.dose is not None:
                unit = m.dose_unit or ("µg/h" if drug == "fentanyl_patch" else "mg")
                unit = unit.replace("hr", "h").replace("hour", "h")
                if drug.startswith("fentanyl"):
                    value = m.dose * (1000 if unit.startswith("mg") else 1)
                    return Hit(value, (span(m.quote_start, m.quote_end),), f"note: {drug} dose")
                value = m.dose * (1000 if unit == "g" else 0.001 if unit.startswith("µg") else 1)
                return Hit(value, (span(m.quote_start, m.quote_end),), f"note: {drug} dose")
            if part == "per_day" and m.per_day is not None:
                return Hit(m.per_day, (span(m.quote_start, m.quote_end),), f"note: {drug} frequency")
        return None

    return run


def _date(kind: str) -> Resolver:
    def run(f: CaseFacts) -> Hit | None:
        d = f.facts.last_menstrual_period if kind == "lmp" else f.facts.current_date
        if d is None:
            return None
        return Hit(d.date.isoformat(), (span(d.start, d.end),), "note: date")

    return run


def _cycle(f: CaseFacts) -> Hit | None:
    c = f.facts.cycle_length
    return None if c is None else Hit(float(c.days), (span(c.start, c.end),), "note: cycle length")


_BANDS = re.compile(r"\bbands?\b[^\d\n;.]{0,15}(\d{1,2}(?:\.\d+)?)\s*%|(\d{1,2}(?:\.\d+)?)\s*%\s*bands\b", re.I)


def _bands(f: CaseFacts) -> Hit | None:
    m = f.facts.search(_BANDS)
    if not m:
        return None
    return Hit(float(m.group(1) or m.group(2)), (span(m.start(), m.end()),), "note: band forms")


_DIAGNOSIS_STATEMENT = re.compile(
    r"\b(?:(?:was|were|is|been)\s+diagnosed\s+(?:with|as)|diagnosis\s+(?:of|was)|consistent\s+with|compatible\s+with|"
    r"suggestive\s+of|(?:final|working|clinical)\s+diagnosis)\b[^.;\n]{3,60}", re.I)


def _alternative_to(concept: str) -> Resolver:
    """Wells 'alternative diagnosis at least as likely': False when the note makes ``concept`` the working
    diagnosis; True when it states a different diagnosis (cited); unknown otherwise."""

    def run(f: CaseFacts) -> Hit | None:
        own = f.concept(concept, current_only=True)
        if own is not None and own.value:
            return Hit(False, own.sources, f"note: {concept} is the working diagnosis")
        for m in f.facts.finditer(_DIAGNOSIS_STATEMENT):
            if not find_concept(m.group(0), concept) and assertion_ok(f.note, m.start(), m.end()):
                return Hit(True, (span(m.start(), m.end()),), "note: another diagnosis is stated")
        return None

    return run


_CVVH = re.compile(r"cvvh|continuous\s+veno", re.I)
# an A-a gradient the note reports ("an A-a gradient of 473", "A-a O2 gradient 310 mmHg")
_AA_GRADIENT = re.compile(r"\bA\s*-\s*a(?:\s*-\s*|\s+)(?:O2\s+|oxygen\s+)?gradient\b[^\d\n;.]{0,20}?(\d{1,3}(?:\.\d+)?)"
                          r"(?:\s*mm\s*hg)?", re.I)


def _reported_aa_gradient(f: CaseFacts) -> Hit | None:
    m = f.facts.search(_AA_GRADIENT)
    if m is None:
        return None
    return Hit(float(m.group(1)), (span(m.start(), m.end()),), "note: A-a gradient reported", "mmHg")

# Field resolvers by field name; ``(calculator_id, field)`` keys override the field-name default.
FIELD_RESOLVERS: dict[str | tuple[str, str], Resolver] = {
    "hypertension": _c("hypertension"),
    "diabetes": _c("diabetes"),
    "congestive_heart_failure": _c("congestive_heart_failure"),
    "cardiac_failure": _c("congestive_heart_failure"),
    "chf_recent": _c("congestive_heart_failure"),
    "stroke": _c("stroke"),
    "transient_ischemic_attack": _c("transient_ischemic_attack"),
    "thromboembolism": _c("thromboembolism", "pulmonary_embolism", "deep_vein_thrombosis", historical=True),
    # CHA2DS2-VASc vascular disease: prior MI, peripheral artery disease, aortic plaque (Lip et al. 2010,
    # doi:10.1378/chest.09-1584)
    "vascular_disease": _c("myocardial_infarction", "peripheral_artery_disease", "coronary_artery_disease",
                           "coronary_revascularization"),
    "myocardial_infarction": _c("myocardial_infarction"),
    "acute_myocardial_infarction": _c("myocardial_infarction", current_only=True),
    # RCRI ischaemic heart disease (Lee et al. 1999, doi:10.1161/01.CIR.100.10.1043)
    "ischemic_heart_disease": _c("myocardial_infarction", "coronary_artery_disease", "coronary_revascularization"),
    "cerebrovascular_disease": _c("stroke", "transient_ischemic_attack"),
    "cerebrovascular_accident": _c("stroke"),
    "peripheral_vascular_disease": _c("peripheral_artery_disease"),
    "dementia": _c("dementia"),
    "copd": _c("copd", "chronic_lung_disease"),
    ("caprini_vte_2005", "copd"): _c("copd"),
    "connective_tissue_disease": _c("connective_tissue_disease"),
    "peptic_ulcer_disease": _c("peptic_ulcer_disease"),
    "liver_disease_severity": _liver_severity,
    "diabetes_severity": _diabetes_severity,
    "hemiplegia": _c("hemiplegia"),
    "moderate_severe_ckd": _ccI_renal,
    "solid_tumor": _solid_tumor,
    "leukemia": _c("leukemia"),
    "lymphoma": _c("lymphoma"),
    "aids": _c("aids"),
    "confusion": _c("confusion", current_only=True),
    "altered_mental_status": _c("confusion", current_only=True),
    "nursing_home_resident": _c("nursing_home"),
    "neoplastic_disease": _c("cancer"),
    "liver_disease": _c("liver_disease"),
    ("has_bled", "liver_disease"): _c("chronic_liver_disease"),
    "renal_disease": _c("chronic_kidney_disease", "dialysis", "severe_ckd", "kidney_transplant"),
    ("has_bled", "renal_disease"): _has_bled_renal,
    "pleural_effusion": _c("pleural_effusion"),
    "hemoptysis": _c("hemoptysis"),
    "clinical_signs_dvt": _any(_c("deep_vein_thrombosis", current_only=True), _c("unilateral_leg_swelling")),
    "pe_most_likely_diagnosis": _c("pulmonary_embolism", current_only=True),
    "immobilization": _c("bedridden"),
    "recent_surgery": _c("recent_surgery"),
    "recent_surgery_or_trauma": _any(_c("recent_surgery"), _c("trauma", current_only=True)),
    "major_surgery_recent": _c("recent_surgery"),
    "recent_major_surgery": _c("recent_surgery"),
    "previous_pe": _c("pulmonary_embolism", historical=True),
    "previous_dvt": _c("deep_vein_thrombosis", historical=True),
    "malignancy": _any(_c("malignancy_active"), _c("cancer", current_only=True)),
    ("caprini_vte_2005", "malignancy"): _c("cancer"),
    "active_cancer": _any(_c("malignancy_active"), _c("cancer", current_only=True)),
    "paralysis_or_cast": _c("paralysis_or_cast"),
    "bedridden_recently": _c("bedridden"),
    "localized_tenderness": _c("deep_vein_tenderness"),
    "alternative_diagnosis_likely": _alternative_to("deep_vein_thrombosis"),
    "entire_leg_swollen": _c("entire_leg_swollen"),
    "calf_swelling": _c("calf_swelling"),
    "pitting_edema": _c("pitting_edema"),
    "collateral_veins": _c("collateral_veins"),
    "unilateral_leg_swelling": _c("unilateral_leg_swelling"),
    "hormone_use": _any(_c("hormone_use"), _med("hormone")),
    "oral_contraceptives_or_hrt": _any(_c("hormone_use"), _med("hormone")),
    "cough_absent": _negate(_c("cough", current_only=True), "cough"),
    "no_cough_or_coryza": _both_absent(_c("cough", current_only=True), _c("coryza", current_only=True)),
    "tender_anterior_cervical_nodes": _c("cervical_adenopathy"),
    "tonsillar_exudate_or_swelling": _c("tonsillar_exudate", "tonsillar_swelling"),
    "fever_past_24h": _fever,
    "purulence": _c("purulence", "tonsillar_exudate"),
    "attend_rapidly": _attend_rapidly,
    "inflamed_tonsils": _c("inflamed_tonsils", "tonsillar_swelling"),
    "melena": _c("melena"),
    "syncope": _c("syncope"),
    "hepatic_disease": _c("liver_disease"),
    "uncontrolled_hypertension": _uncontrolled_htn,
    "prior_major_bleeding": _c("major_bleeding"),
    "labile_inr": _c("labile_inr"),
    "bleeding_predisposing_drugs": _med("antiplatelet", "nsaid"),
    "alcohol_drinks_per_week": _alcohol,
    "hypercholesterolemia": _c("hypercholesterolemia"),
    "obesity": _obesity,
    "smoking": _current_smoker,
    "smoker": _current_smoker,
    "family_history_cvd": _c("family_history_cvd", family=True),
    # HEART atherosclerotic disease: prior MI, PCI/CABG, CVA/TIA, peripheral arterial disease (Six et al. 2008)
    "atherosclerotic_disease": _c("myocardial_infarction", "coronary_revascularization", "coronary_artery_disease",
                                  "stroke", "transient_ischemic_attack", "peripheral_artery_disease"),
    "blood_pressure_treated": _med("antihypertensive"),
    "insulin_treatment": _any(_med("insulin"), _c("insulin_treatment")),
    "high_risk_surgery": _c("high_risk_surgery"),
    "acute_renal_failure": _c("acute_kidney_injury", current_only=True),
    "chronic_health": _c("cirrhosis", "dialysis", "severe_ckd"),
    "dialysis_twice_past_week": _dialysis_recent,
    "cvvhd_past_week": lambda f: f.concept("dialysis", current_only=True) if f.facts.search(_CVVH) else None,
    "black_race": _c("black_race"),
    "mechanical_ventilation": _c("mechanical_ventilation", current_only=True),
    "cpap": _c("cpap", current_only=True),
    "hypotension": _hypotension_map,
    "sepsis_recent": _c("sepsis"),
    "pneumonia_recent": _c("pneumonia"),
    "plaster_cast": _c("paralysis_or_cast"),
    "leg_fracture": _c("leg_fracture"),
    "stroke_recent": _c("stroke", current_only=True),
    "multiple_trauma": _c("multiple_trauma"),
    "spinal_cord_injury": _c("spinal_cord_injury"),
    "varicose_veins": _c("varicose_veins"),
    "swollen_legs": _c("leg_swelling"),
    "central_venous_access": _c("central_venous_access"),
    "family_history_thrombosis": _c("family_history_thrombosis", family=True),
    "factor_v_leiden": _c("factor_v_leiden"),
    "prothrombin_20210a": _c("prothrombin_20210a"),
    "elevated_homocysteine": _c("elevated_homocysteine"),
    "lupus_anticoagulant": _c("lupus_anticoagulant"),
    "anticardiolipin_antibody": _c("anticardiolipin_antibody"),
    "heparin_induced_thrombocytopenia": _c("heparin_induced_thrombocytopenia"),
    "other_thrombophilia": _c("thrombophilia"),
    "inflammatory_bowel_disease": _c("inflammatory_bowel_disease"),
    "pregnancy_or_postpartum": _c("pregnancy", current_only=True),
    "adverse_pregnancy_history": _c("adverse_pregnancy"),
    "ascites": _ascites,
    "encephalopathy": _encephalopathy,
    "eye_response": lambda f: _gcs_component(_EYE)(f) or _gcs_eye_prose(f),
    "verbal_response": _gcs_verbal,
    "motor_response": lambda f: _gcs_component(_MOTOR)(f) or _gcs_motor_prose(f),
    "ecg": _ecg,
    "troponin": _troponin,
    ("caprini_vte_2005", "surgery_type"): _caprini_surgery,
    "mobility": _mobility,
    "admission_type": _admission_type,
    "input_steroid": _steroid("input"),
    "dose": _steroid("dose"),
    "target_steroid": _steroid("target"),
    "last_menstrual_period": _date("lmp"),
    "current_date": _date("today"),
    "cycle_length": _cycle,
    "bands_percent": _bands,
    "bmi": _bmi,
    # the reference albumin of the calcium correction (Payne et al. 1973, doi:10.1136/bmj.4.5893.643) is a
    # constant (4 g/dL by default), never the patient's measured albumin
    "normal_albumin": lambda f: None,
    ("apache_ii", "a_a_gradient"): _reported_aa_gradient,
    # GFR equations estimate kidney function at steady state (KDIGO 2012 CKD guideline, Kidney Int Suppl
    # 2013;3(1):1-150, chapter 1: creatinine-based estimates are unreliable when creatinine is not stable): of
    # several creatinine values the latest reported is taken, not the one drawn in the acute illness the note
    # opens with
    ("ckd_epi_2021", "creatinine"): lambda f: f.lab("creatinine", "last"),
    ("mdrd_gfr", "creatinine"): lambda f: f.lab("creatinine", "last"),
    ("creatinine_clearance", "creatinine"): lambda f: f.lab("creatinine", "last"),
    "dopamine": _vasopressor("dopamine"),
    "dobutamine": _vasopressor("dobutamine"),
    "epinephrine": _vasopressor("epinephrine"),
    "norepinephrine": _vasopressor("norepinephrine"),
}
for _drug in ("codeine", "fentanyl_buccal", "fentanyl_patch", "hydrocodone", "hydromorphone", "methadone", "morphine",
              "oxycodone", "oxymorphone", "tapentadol", "tramadol"):
    FIELD_RESOLVERS[f"{_drug}_dose"] = _opioid(_drug, "dose")
    FIELD_RESOLVERS[f"{_drug}_doses_per_day"] = _opioid(_drug, "per_day")

_VITAL_FIELDS = {"weight", "height", "heart_rate", "systolic_bp", "diastolic_bp", "respiratory_rate", "temperature",
                 "spo2", "fio2", "gcs", "qt_interval", "urine_output", "target_bmi"}


def resolve(f: CaseFacts, calculator_id: str, fname: str, info: Any) -> Hit | None:
    """One input's value for a calculator: its resolver, else the plain look-up (structured case, then note)."""
    resolver = FIELD_RESOLVERS.get((calculator_id, fname)) or FIELD_RESOLVERS.get(fname)
    if resolver is not None:
        return resolver(f)
    if fname == "age":
        return f.age()
    if fname == "sex":
        return f.sex()
    if fname in _VITAL_FIELDS:
        return f.vital(fname)
    spec = getattr(info, "spec", None)
    if spec is not None and spec.kind == "analyte":
        return f.lab(spec.name)
    return None


