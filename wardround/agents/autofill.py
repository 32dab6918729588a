"""Calculator auto-fill: map a case's facts to a calculator's inputs, citing every filled input.

For a chosen calculator, each input is looked for in the structured case first (age, sex, vitals, labs,
history) and then in the note (``wardround.extract``). Every filled input cites the exact note span or case field
it came from, through evidence that ``Ledger.verify`` re-checks; an existing ledger item quoting the same span or
field is reused. Inputs that are found nowhere are reported as ``missing``; under ``policy="assume_normal"``
(MedCalc-Bench's convention: an unmentioned finding is absent) those with a normal value are filled with it and
listed in ``assumed``.

Item definitions used to derive an input from a measured value carry their reference next to the rule.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, Field

from wardround.case import Case
from wardround.errors import WardroundError
from wardround.evidence import Evidence, EvidenceWriter, Ledger
from wardround.extract.anthropometrics import extract_bmi, extract_height, extract_target_bmi, extract_weight
from wardround.extract.dates import (
    extract_durations,
    find_current_date,
    find_cycle_length,
    find_last_menstrual_period,
)
from wardround.extract.demographics import extract_demographics
from wardround.extract.facts import Fact, extract_labs, extract_measurements, extract_vitals
from wardround.extract.history import ConceptStatus, concept_status, extract_alcohol, find_concept
from wardround.extract.medications import MedicationMention, extract_medications

log = logging.getLogger(__name__)

AUTOFILL_PREFIX = "AF"
Policy = Literal["strict", "assume_normal"]


class AutofillResult(BaseModel):
    """Inputs for one calculator read from a case, with the evidence behind each."""

    calculator_id: str
    policy: Policy
    inputs: dict[str, Any] = Field(default_factory=dict, description="ready for calculate()")
    sources: dict[str, list[str]] = Field(default_factory=dict, description="field -> evidence ids it rests on")
    evidence: list[Evidence] = Field(default_factory=list, description="evidence created by this call")
    missing: list[str] = Field(default_factory=list, description="required inputs found neither in the case nor "
                                                                 "the note")
    assumed: list[str] = Field(default_factory=list, description="missing inputs filled by the policy's normal value")
    how: dict[str, str] = Field(default_factory=dict, description="field -> how it was filled")
    error: str | None = None


# ---------------------------------------------------------------------------------------------------------
# Sources: one cited piece of the case


@dataclass(frozen=True)
class _Src:
    """A span of the note or a path into the case that a filled value rests on."""

    start: int = -1
    end: int = -1
    path: str | None = None
    value: Any = None


@dataclass(frozen=True)
class _Hit:
    value: Any
    sources: tuple[_Src, ...]
    how: str
    unit: str | None = None


def _span(start: int, end: int) -> _Src:
    return _Src(start, end)


class _Filler:
    """Reads one case once and answers field look-ups (all extraction is cached per case)."""

    def __init__(self, case: Case) -> None:
        self.case = case
        from wardround.injection import reading_text

        # instruction/citation look-alikes in the note are blanked out (same offsets) before anything is read
        self.note = reading_text(case.note or "")
        self._cache: dict[str, Any] = {}

    def _get(self, key: str, fn: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]

    # -- extraction caches --------------------------------------------------------------------------------
    @property
    def vitals(self) -> list[Fact]:
        return self._get("vitals", lambda: extract_vitals(self.note))

    @property
    def measurements(self) -> list[Fact]:
        return self._get("measurements", lambda: extract_measurements(self.note))

    @property
    def labs(self) -> list[Fact]:
        return self._get("labs", lambda: extract_labs(self.note))

    @property
    def meds(self) -> list[MedicationMention]:
        return self._get("meds", lambda: extract_medications(self.note))

    def first(self, facts: Iterable[Fact], name: str) -> Fact | None:
        return next((f for f in facts if f.name == name), None)

    def status(self, concept: str, **kw: Any) -> ConceptStatus | None:
        return concept_status(self.note, concept, **kw)

    # -- quantities ---------------------------------------------------------------------------------------
    def age(self) -> _Hit | None:
        if self.case.age is not None:
            return _Hit(self.case.age, (_Src(path="age", value=self.case.age),), "case field", "years")
        demo = self._get("demo", lambda: extract_demographics(self.note))
        if demo.age is not None and demo.age_span:
            return _Hit(demo.age, (_span(*demo.age_span),), "note", "years")
        return None

    def sex(self) -> _Hit | None:
        if self.case.sex in ("male", "female"):
            return _Hit(self.case.sex, (_Src(path="sex", value=self.case.sex),), "case field")
        demo = self._get("demo", lambda: extract_demographics(self.note))
        if demo.sex in ("male", "female") and demo.sex_span:
            return _Hit(demo.sex, (_span(*demo.sex_span),), "note")
        return None

    def vital(self, name: str) -> _Hit | None:
        case_name = {"temperature": "temperature_c", "weight": "weight_kg", "height": "height_cm"}.get(name, name)
        value = getattr(self.case.vitals, case_name, None)
        if value is not None:
            return _Hit(float(value), (_Src(path=f"vitals.{case_name}", value=value),), "case field")
        if name in ("weight", "height", "bmi", "target_bmi"):
            facts = {"weight": extract_weight, "height": extract_height, "bmi": extract_bmi,
                     "target_bmi": extract_target_bmi}[name](self.note)
            fact = facts[0] if facts else None
        elif name in ("gcs", "fio2", "qt_interval", "urine_output"):
            fact = self.first(self.measurements, name)
        else:
            fact = self.first(self.vitals, {"temperature": "temperature_c"}.get(name, name))
        if fact is None:
            return None
        return _Hit(fact.canonical_value, (_span(fact.start, fact.end),), "note", fact.unit)

    def lab(self, analyte: str) -> _Hit | None:
        for i, lab in enumerate(self.case.labs):
            if lab.analyte == analyte:
                canonical = lab.canonical_value()
                if canonical is not None:
                    return _Hit(canonical, (_Src(path=f"labs[{i}].value", value=lab.value),), "case field", lab.unit)
        fact = self.first(self.labs, analyte)
        if fact is None:
            return None
        return _Hit(fact.canonical_value, (_span(fact.start, fact.end),), "note", fact.unit)

    def concept(self, *concepts: str, family: bool = False, historical: bool | None = None,
                current_only: bool = False) -> _Hit | None:
        """True when any concept is affirmed (``historical=True``: only as history), False when all are negated."""
        negs: list[_Src] = []
        for c in concepts:
            for m in find_concept(self.note, c):
                if m.family != family:
                    continue
                if m.present:
                    if historical is True and not m.historical:
                        continue
                    if current_only and m.historical:
                        continue
                    return _Hit(True, (_span(m.start, m.end),), f"note: {c} mentioned")
                if m.context.negated and not negs:
                    negs.append(_span(m.quote_start, m.end))
        hist_items = [self.case.history.conditions]
        for i, item in enumerate(hist_items[0]):
            for c in concepts:
                if not family and find_concept(item, c) and any(x.present for x in find_concept(item, c)):
                    return _Hit(True, (_Src(path=f"history.conditions[{i}]", value=item),), "case history")
        if negs:
            return _Hit(False, tuple(negs), "note: explicitly negated")
        return None

    def med_class(self, *classes: str) -> _Hit | None:
        for i, item in enumerate(self.case.history.medications):
            for m in extract_medications(item):
                if m.drug_class in classes or m.drug in classes:
                    return _Hit(True, (_Src(path=f"history.medications[{i}]", value=item),), "case medication list")
        for m in self.meds:
            if (m.drug_class in classes or m.drug in classes) and not m.context.negated:
                return _Hit(True, (_span(m.start, m.end),), f"note: {m.drug} ({m.drug_class})")
        return None


# ---------------------------------------------------------------------------------------------------------
# Field resolvers

Resolver = Callable[[_Filler], "_Hit | None"]


def _any(*resolvers: Resolver) -> Resolver:
    """First True wins; else the first explicit False; else unknown."""

    def run(f: _Filler) -> _Hit | None:
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
    return lambda f: f.concept(*concepts, **kw)


def _med(*classes: str) -> Resolver:
    return lambda f: f.med_class(*classes)


def _threshold(getter: Callable[[_Filler], _Hit | None], test: Callable[[float], bool], label: str) -> Resolver:
    def run(f: _Filler) -> _Hit | None:
        h = getter(f)
        if h is None:
            return None
        ok = test(float(h.value))
        return _Hit(ok, h.sources, f"derived: {label} ({h.value:g})") if ok else None

    return run


def _negate(r: Resolver, label: str) -> Resolver:
    """For 'absence of X' items: X present -> False; X explicitly negated -> True."""

    def run(f: _Filler) -> _Hit | None:
        h = r(f)
        if h is None:
            return None
        return _Hit(not h.value, h.sources, f"{label}: {h.how}")

    return run


def _both_absent(*rs: Resolver) -> Resolver:
    """'Absence of X or Y' (FeverPAIN): any present -> False; all explicitly negated -> True."""

    def run(f: _Filler) -> _Hit | None:
        hits = [r(f) for r in rs]
        for h in hits:
            if h is not None and h.value is True:
                return _Hit(False, h.sources, f"present: {h.how}")
        if hits and all(h is not None and h.value is False for h in hits):
            return _Hit(True, tuple(s for h in hits if h for s in h.sources), "all explicitly absent")
        return None

    return run


def _current_smoker(f: _Filler) -> _Hit | None:
    for m in find_concept(f.note, "smoking"):
        if m.family:
            continue
        window = f.note[max(0, m.start - 30):m.end + 40].lower()
        former = re.search(r"\b(?:former|ex-?|quit|stopped|ceased|previous(?:ly)?|prior|past|gave up|remote|"
                           r"discontinued|non-?)\b|\bhistory of smoking\b.*\bquit", window)
        if m.present and not former:
            return _Hit(True, (_span(m.start, m.end),), "note: current smoker")
        if m.context.negated or former:
            return _Hit(False, (_span(m.quote_start, m.end),), "note: not a current smoker")
    return None


def _map(f: _Filler) -> _Hit | None:
    s, d = f.vital("systolic_bp"), f.vital("diastolic_bp")
    if s is None or d is None:
        return None
    value = (s.value + 2 * d.value) / 3.0
    return _Hit(value, s.sources + d.sources, "derived: mean arterial pressure")


def _bmi(f: _Filler) -> _Hit | None:
    h = f.vital("bmi")
    if h is not None:
        return h
    w, ht = f.vital("weight"), f.vital("height")
    if w is None or ht is None:
        return None
    m = ht.value / 100.0
    return _Hit(round(w.value / (m * m), 2), w.sources + ht.sources, "derived: weight / height²")


def _creatinine(f: _Filler) -> _Hit | None:
    return f.lab("creatinine")


def _attend_rapidly(f: _Filler) -> _Hit | None:
    """FeverPAIN 'attend rapidly': presentation within 3 days of symptom onset (Little et al. 2013,
    doi:10.1136/bmj.f5806)."""
    for d in extract_durations(f.note):
        around = f.note[max(0, d.start - 80):d.end + 40].lower()
        if re.search(r"throat|pain|fever|symptom|odynophagia|swallow|onset|history|since|for", around):
            return _Hit(d.days <= 3, (_span(d.start, d.end),), f"derived: symptom duration {d.days:g} days")
    return None


def _fever(f: _Filler) -> _Hit | None:
    h = f.concept("fever")
    if h is not None and h.value:
        return h
    t = f.vital("temperature")
    if t is not None and t.value > 38.0:  # FeverPAIN fever: > 38 °C (Little et al. 2013, doi:10.1136/bmj.f5806)
        return _Hit(True, t.sources, f"derived: temperature {t.value:g} °C > 38")
    return h


def _gcs_component(table: tuple[tuple[str, str], ...]) -> Resolver:
    def run(f: _Filler) -> _Hit | None:
        for pattern, option in table:
            m = re.search(pattern, f.note, re.I)
            if m:
                return _Hit(option, (_span(m.start(), m.end()),), "note: described response")
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
            r"did\s+not\s+(?:speak|verbalize|respond\s+verbally)", "none"))
_MOTOR = ((r"obey(?:s|ed|ing)?\s+(?:simple\s+)?commands|follow(?:s|ed|ing)?\s+(?:simple\s+)?commands", "obeys commands"),
          (r"locali[sz](?:es|ed|ing|ation)\s+(?:to\s+)?(?:the\s+)?(?:pain|painful|stimul)|locali[sz]ing", "localising"),
          (r"withdr(?:ew|aws?|awal|awing)\s+(?:\w+\s+){0,4}?(?:from|to|in response to)\s+(?:the\s+)?(?:pain|painful|"
           r"stimul|noxious)|withdrawal\s+(?:response|to\s+pain)|withdr(?:ew|aws?)", "normal flexion"),
          (r"decorticate|abnormal\s+flexion|flexion\s+(?:posturing|to\s+pain)", "abnormal flexion"),
          (r"decerebrate|extensor\s+posturing|extension\s+(?:posturing|to\s+pain)", "extension"),
          (r"(?:no|without)\s+(?:motor\s+response|movement|response\s+to\s+pain)|flaccid", "none"))


def _ascites(f: _Filler) -> _Hit | None:
    for m in find_concept(f.note, "ascites"):
        if m.family:
            continue
        if not m.present:
            if m.context.negated:
                return _Hit("absent", (_span(m.quote_start, m.end),), "note: no ascites")
            continue
        around = f.note[max(0, m.start - 40):m.end + 30].lower()
        grade = "moderate" if re.search(r"moderate|severe|massive|large|tense|significant|gross|marked", around) \
            else "slight"
        return _Hit(grade, (_span(m.start, m.end),), "note: ascites described")
    return None


def _encephalopathy(f: _Filler) -> _Hit | None:
    for m in find_concept(f.note, "encephalopathy"):
        if m.family:
            continue
        if not m.present:
            if m.context.negated:
                return _Hit("none", (_span(m.quote_start, m.end),), "note: no encephalopathy")
            continue
        around = f.note[max(0, m.start - 40):m.end + 40].lower()
        grade = "grade 3-4" if re.search(r"grade\s*(?:3|4|iii|iv)|coma|stupor|severe", around) else "grade 1-2"
        return _Hit(grade, (_span(m.start, m.end),), "note: encephalopathy described")
    return None


def _liver_severity(f: _Filler) -> _Hit | None:
    """Charlson liver disease: moderate-severe = cirrhosis with portal hypertension (Charlson 1987,
    doi:10.1016/0021-9681(87)90171-8)."""
    severe = f.concept("portal_hypertension")
    if severe is not None and severe.value:
        return _Hit("moderate to severe", severe.sources, "note: portal hypertension / varices")
    h = f.concept("liver_disease")
    if h is None:
        return None
    return _Hit("mild" if h.value else "none", h.sources, h.how)


def _diabetes_severity(f: _Filler) -> _Hit | None:
    h = f.concept("diabetes")
    if h is None:
        return None
    if not h.value:
        return _Hit("none or diet-controlled", h.sources, h.how)
    organ = f.concept("diabetic_end_organ_damage")
    if organ is not None and organ.value:
        return _Hit("end-organ damage", h.sources + organ.sources, "note: diabetes with end-organ damage")
    return _Hit("uncomplicated", h.sources, h.how)


def _solid_tumor(f: _Filler) -> _Hit | None:
    h = f.concept("cancer")
    if h is None:
        return None
    if not h.value:
        return _Hit("none", h.sources, h.how)
    met = f.concept("metastatic")
    if met is not None and met.value:
        return _Hit("metastatic", h.sources + met.sources, "note: metastatic cancer")
    return _Hit("localized", h.sources, h.how)


def _ecg(f: _Filler) -> _Hit | None:
    st = f.concept("st_deviation")
    if st is not None and st.value:
        return _Hit("significant st deviation", st.sources, st.how)
    ns = f.concept("nonspecific_repolarization")
    if ns is not None and ns.value:
        return _Hit("non-specific repolarization disturbance", ns.sources, ns.how)
    normal = f.concept("normal_ecg")
    if normal is not None and normal.value:
        return _Hit("normal", normal.sources, normal.how)
    return None


def _troponin(f: _Filler) -> _Hit | None:
    m = re.search(r"troponin[^.;\n]{0,40}?\b(negative|normal|unremarkable|within normal|not elevated|undetectable|"
                  r"elevated|positive|raised|increased)\b", f.note, re.I)
    if not m:
        return None
    word = m.group(1).lower()
    if word in ("elevated", "positive", "raised", "increased") and not re.search(r"\bnot\s+$", m.group(0)[:-len(word)]):
        return _Hit("1-3x normal limit", (_span(m.start(), m.end()),), "note: troponin elevated")
    return _Hit("<= normal limit", (_span(m.start(), m.end()),), "note: troponin normal")


def _caprini_surgery(f: _Filler) -> _Hit | None:
    for pattern, option in ((r"(?:hip|knee)\s+(?:arthroplasty|replacement)|arthroplasty",
                             "elective major lower extremity arthroplasty"),
                            (r"laparoscop\w+", "laparoscopic"), (r"arthroscop\w+", "arthroscopic"),
                            (r"minor\s+(?:surgery|procedure)", "minor")):
        m = re.search(pattern, f.note, re.I)
        if m and assertion_ok(f.note, m.start(), m.end()):
            return _Hit(option, (_span(m.start(), m.end()),), "note: surgery described")
    h = f.concept("recent_surgery", "high_risk_surgery")
    if h is not None and h.value:
        return _Hit("major", h.sources, "note: major surgery")
    return None


def assertion_ok(text: str, start: int, end: int) -> bool:
    """The mention is affirmed (not negated, hypothetical or about a relative)."""
    from wardround.extract.context import assertion_context

    ctx = assertion_context(text, start, end)
    return not (ctx.negated or ctx.hypothetical or ctx.family)


def _mobility(f: _Filler) -> _Hit | None:
    h = f.concept("bedridden")
    if h is None or not h.value:
        return None
    s = h.sources[0]
    around = f.note[max(0, s.start - 40):s.end + 60].lower()
    if re.search(r"72\s*h|>\s*3\s*days|more than (?:3|three) days|(?:\d+|several|many)\s+(?:days|weeks)|bed-?bound|"
                 r"confined", around):
        return _Hit("confined to bed > 72 hours", h.sources, "note: confined to bed")
    return _Hit("bed rest", h.sources, "note: bed rest")


def _admission_type(f: _Filler) -> _Hit | None:
    h = f.concept("recent_surgery")
    if h is None or not h.value:
        return None
    s = h.sources[0]
    around = f.note[max(0, s.start - 80):s.end + 80].lower()
    if re.search(r"elective|scheduled|planned", around):
        return _Hit("elective postoperative", h.sources, "note: elective surgery")
    return _Hit("emergency postoperative", h.sources, "note: emergency surgery")


def _alcohol(f: _Filler) -> _Hit | None:
    a = extract_alcohol(f.note)
    if a is not None:
        return _Hit(int(round(a.drinks_per_week)), (_span(a.start, a.end),), "note: drinks per week")
    h = f.concept("alcohol_use")
    if h is not None and not h.value:
        return _Hit(0, h.sources, "note: no alcohol")
    return None


def _has_bled_renal(f: _Filler) -> _Hit | None:
    """HAS-BLED abnormal renal function: chronic dialysis, renal transplant or creatinine >= 200 µmol/L
    (2.26 mg/dL) (Pisters et al. 2010, doi:10.1378/chest.10-0134)."""
    return _any(_c("dialysis", "kidney_transplant", "severe_ckd", "renal_impairment"),
                _threshold(_creatinine, lambda v: v >= 2.26, "creatinine >= 2.26 mg/dL"))(f)


def _ccI_renal(f: _Filler) -> _Hit | None:
    """Charlson moderate-severe renal disease: creatinine > 3 mg/dL, dialysis, transplant, uraemia (Charlson 1987,
    doi:10.1016/0021-9681(87)90171-8)."""
    return _any(_c("severe_ckd", "dialysis", "kidney_transplant"),
                _threshold(_creatinine, lambda v: v > 3.0, "creatinine > 3 mg/dL"))(f)


def _uncontrolled_htn(f: _Filler) -> _Hit | None:
    """HAS-BLED hypertension: uncontrolled, systolic > 160 mmHg (Pisters et al. 2010, doi:10.1378/chest.10-0134)."""
    m = re.search(r"(?:uncontrolled|poorly\s+controlled|resistant|refractory)\s+(?:hypertension|htn|blood\s+pressure)",
                  f.note, re.I)
    if m and assertion_ok(f.note, m.start(), m.end()):
        return _Hit(True, (_span(m.start(), m.end()),), "note: uncontrolled hypertension")
    return _threshold(lambda x: x.vital("systolic_bp"), lambda v: v > 160, "systolic > 160 mmHg")(f)


def _hypotension_map(f: _Filler) -> _Hit | None:
    """SOFA cardiovascular 1 point: MAP < 70 mmHg (Vincent et al. 1996, doi:10.1007/BF01709751)."""
    h = _map(f)
    if h is None:
        return None
    return _Hit(h.value < 70, h.sources, f"derived: MAP {h.value:.0f} mmHg")


def _obesity(f: _Filler) -> _Hit | None:
    """HEART risk factor obesity: BMI > 30 kg/m² (Six et al. 2008, doi:10.1007/BF03086144)."""
    h = f.concept("obesity")
    if h is not None and h.value:
        return h
    b = _bmi(f)
    if b is not None:
        return _Hit(b.value > 30, b.sources, f"derived: BMI {b.value:.1f}")
    return h


def _dialysis_recent(f: _Filler) -> _Hit | None:
    h = f.concept("dialysis", current_only=True)
    return h


def _vasopressor(drug: str) -> Resolver:
    def run(f: _Filler) -> _Hit | None:
        for m in f.meds:
            if m.drug == drug and not m.context.negated and m.dose is not None and m.dose_unit and "kg/min" in m.dose_unit:
                return _Hit(m.dose, (_span(m.quote_start, m.quote_end),), f"note: {drug} infusion")
        return None

    return run


def _steroid(which: str) -> Resolver:
    def run(f: _Filler) -> _Hit | None:
        note_meds = [m for m in f.meds if m.drug_class == "glucocorticoid"]
        q = f.case.question or ""
        q_meds = [m for m in extract_medications(q) if m.drug_class == "glucocorticoid"]
        if which == "input":
            if note_meds:
                m = note_meds[0]
                return _Hit(m.drug, (_span(m.start, m.end),), "note: steroid given")
            return None
        if which == "dose":
            if note_meds and note_meds[0].dose is not None:
                m = note_meds[0]
                unit = {"µg": "µg", "g": "g"}.get(m.dose_unit or "mg", "mg")
                return _Hit(f"{m.dose:g} {unit}", (_span(m.quote_start, m.quote_end),), "note: steroid dose")
            return None
        given = note_meds[0].drug if note_meds else None
        targets = [m for m in q_meds if m.drug != given] or q_meds[-1:]
        if targets:
            return _Hit(targets[-1].drug, (_Src(path="question", value=q),), "question: target steroid")
        return None

    return run


def _opioid(drug: str, part: str) -> Resolver:
    def run(f: _Filler) -> _Hit | None:
        for m in f.meds:
            if m.drug != drug or m.context.negated:
                continue
            if part == "dose" and m.dose is not None:
                unit = m.dose_unit or ("µg/h" if drug == "fentanyl_patch" else "mg")
                unit = unit.replace("hr", "h").replace("hour", "h")
                if drug.startswith("fentanyl"):
                    value = m.dose * (1000 if unit.startswith("mg") else 1)
                    return _Hit(value, (_span(m.quote_start, m.quote_end),), f"note: {drug} dose")
                value = m.dose * (1000 if unit == "g" else 0.001 if unit.startswith("µg") else 1)
                return _Hit(value, (_span(m.quote_start, m.quote_end),), f"note: {drug} dose")
            if part == "per_day" and m.per_day is not None:
                return _Hit(m.per_day, (_span(m.quote_start, m.quote_end),), f"note: {drug} frequency")
        return None

    return run


def _date(kind: str) -> Resolver:
    def run(f: _Filler) -> _Hit | None:
        d = find_last_menstrual_period(f.note) if kind == "lmp" else find_current_date(f.note)
        if d is None:
            return None
        return _Hit(d.date.isoformat(), (_span(d.start, d.end),), "note: date")

    return run


def _cycle(f: _Filler) -> _Hit | None:
    c = find_cycle_length(f.note)
    return None if c is None else _Hit(float(c.days), (_span(c.start, c.end),), "note: cycle length")


def _bands(f: _Filler) -> _Hit | None:
    m = re.search(r"\bbands?\b[^\d\n;.]{0,15}(\d{1,2}(?:\.\d+)?)\s*%|(\d{1,2}(?:\.\d+)?)\s*%\s*bands\b", f.note, re.I)
    if not m:
        return None
    return _Hit(float(m.group(1) or m.group(2)), (_span(m.start(), m.end()),), "note: band forms")


_DIAGNOSIS_STATEMENT = re.compile(
    r"\b(?:(?:was|were|is|been)\s+diagnosed\s+(?:with|as)|diagnosis\s+(?:of|was)|consistent\s+with|compatible\s+with|"
    r"suggestive\s+of|(?:final|working|clinical)\s+diagnosis)\b[^.;\n]{3,60}", re.I)


def _alternative_to(concept: str) -> Resolver:
    """Wells 'alternative diagnosis at least as likely': False when the note makes ``concept`` the working
    diagnosis; True when it states a different diagnosis (cited); unknown otherwise."""

    def run(f: _Filler) -> _Hit | None:
        own = f.concept(concept, current_only=True)
        if own is not None and own.value:
            return _Hit(False, own.sources, f"note: {concept} is the working diagnosis")
        for m in _DIAGNOSIS_STATEMENT.finditer(f.note):
            if not find_concept(m.group(0), concept) and assertion_ok(f.note, m.start(), m.end()):
                return _Hit(True, (_span(m.start(), m.end()),), "note: another diagnosis is stated")
        return None

    return run


# Field resolvers by field name; ``(calculator_id, field)`` keys override the field-name default.
_FIELDS: dict[str | tuple[str, str], Resolver] = {
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
    "cvvhd_past_week": lambda f: f.concept("dialysis", current_only=True) if re.search(
        r"cvvh|continuous\s+veno", f.note, re.I) else None,
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
    "eye_response": _gcs_component(_EYE),
    "verbal_response": _gcs_component(_VERBAL),
    "motor_response": _gcs_component(_MOTOR),
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
    "dopamine": _vasopressor("dopamine"),
    "dobutamine": _vasopressor("dobutamine"),
    "epinephrine": _vasopressor("epinephrine"),
    "norepinephrine": _vasopressor("norepinephrine"),
}
for _drug in ("codeine", "fentanyl_buccal", "fentanyl_patch", "hydrocodone", "hydromorphone", "methadone", "morphine",
              "oxycodone", "oxymorphone", "tapentadol", "tramadol"):
    _FIELDS[f"{_drug}_dose"] = _opioid(_drug, "dose")
    _FIELDS[f"{_drug}_doses_per_day"] = _opioid(_drug, "per_day")

_VITAL_FIELDS = {"weight", "height", "heart_rate", "systolic_bp", "diastolic_bp", "respiratory_rate", "temperature",
                 "spo2", "fio2", "gcs", "qt_interval", "urine_output", "target_bmi"}


def _resolve(f: _Filler, calculator_id: str, fname: str, info: Any) -> _Hit | None:
    """Find one field's value: structured case, then note."""
    resolver = _FIELDS.get((calculator_id, fname)) or _FIELDS.get(fname)
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


# ---------------------------------------------------------------------------------------------------------
# Evidence


class _Citer:
    """Creates (or reuses) the evidence each filled input cites."""

    def __init__(self, case: Case, writer: EvidenceWriter, ledger: Ledger | None) -> None:
        self.case = case
        self.writer = writer
        self.by_span: dict[tuple[int, int], str] = {}
        self.by_field: dict[str, str] = {}
        self.created: list[Evidence] = []
        for ev in (ledger or Ledger()):
            if ev.kind == "note" and ev.span is not None and ev.quote is not None:
                self.by_span.setdefault(tuple(ev.span), ev.id)  # type: ignore[arg-type]
            elif ev.kind == "field" and ev.field:
                self.by_field.setdefault(ev.field, ev.id)
        for ev in writer.items.values():
            if ev.kind == "note" and ev.span is not None:
                self.by_span.setdefault(tuple(ev.span), ev.id)  # type: ignore[arg-type]
            elif ev.kind == "field" and ev.field:
                self.by_field.setdefault(ev.field, ev.id)

    def cite(self, src: _Src, fname: str, value: Any, unit: str | None) -> str:
        shown = value if isinstance(value, int | float | str | bool) else str(value)
        if src.path is not None:
            hit = self.by_field.get(src.path)
            if hit:
                return hit
            ev = self.writer.field(f"{fname}: from case field {src.path}", src.path, src.value, quantity=fname)
            self.by_field[src.path] = ev.id
        else:
            key = (src.start, src.end)
            hit = self.by_span.get(key)
            if hit:
                return hit
            quote = self.case.note[src.start:src.end]
            ev = self.writer.note(f"{fname} = {shown}{' ' + unit if unit else ''}: \"{quote}\"", self.case.note,
                                  src.start, src.end, quantity=fname,
                                  value=shown if not isinstance(shown, bool) else None,
                                  present=shown if isinstance(shown, bool) else None)
            self.by_span[key] = ev.id
        self.created.append(ev)
        return ev.id


# ---------------------------------------------------------------------------------------------------------
# Public API


def autofill(calculator_id: str, case: Case, *, writer: EvidenceWriter | None = None, ledger: Ledger | None = None,
             policy: Policy = "strict") -> AutofillResult:
    """Fill a calculator's inputs from a case (structured fields first, then the note), citing each input.

    Args:
        calculator_id: a registered calculator id (``find_calculator``/``choose_calculator`` find one).
        case: the case whose fields and note are read.
        writer: evidence writer for new evidence (default: prefix ``AF``, numbering after ``ledger``'s ids).
        ledger: existing evidence; an item quoting the same note span or case field is cited instead of a new one.
        policy: ``"strict"`` leaves unfound inputs missing; ``"assume_normal"`` fills those with a normal value
            (an unmentioned finding is absent) and lists them in ``assumed``.
    """
    from wardround.tools.calculators import get_calculator

    calc = get_calculator(calculator_id)
    if writer is None:
        writer = EvidenceWriter(AUTOFILL_PREFIX, "autofill", existing=(ledger.entries if ledger else ()))
    citer = _Citer(case, writer, ledger)
    filler = _Filler(case)
    result = AutofillResult(calculator_id=calc.id, policy=policy)
    for fname, info in calc.fields.items():
        try:
            hit = _resolve(filler, calc.id, fname, info)
        except WardroundError as exc:  # a resolver must never take the whole fill down
            log.debug("autofill %s.%s failed: %s", calc.id, fname, exc)
            hit = None
        if hit is not None and info.kind == "finding" and not isinstance(hit.value, bool):
            hit = None
        if hit is not None and info.kind in ("quantity", "count") and isinstance(hit.value, bool):
            hit = None
        if hit is None:
            if info.required:
                result.missing.append(fname)
                if policy == "assume_normal" and info.has_normal:
                    result.inputs[fname] = info.normal
                    result.assumed.append(fname)
                    result.how[fname] = "assumed normal (not mentioned)"
            continue
        value = hit.value
        if info.kind == "count":
            value = int(round(float(value)))
        result.inputs[fname] = value
        result.sources[fname] = list(dict.fromkeys(citer.cite(s, fname, value, hit.unit) for s in hit.sources))
        result.how[fname] = hit.how
    result.evidence = list(citer.created)
    return result


def run_autofilled(calculator_id: str, case: Case, *, writer: EvidenceWriter | None = None,
                   ledger: Ledger | None = None, policy: Policy = "strict") -> tuple[Any, AutofillResult]:
    """Auto-fill and compute: ``(CalculatorResult | None, AutofillResult)``; ``None`` with ``error`` set on failure."""
    from wardround.tools.calculators import calculate

    filled = autofill(calculator_id, case, writer=writer, ledger=ledger, policy=policy)
    try:
        result = calculate(calculator_id, filled.inputs, assume_normal=policy == "assume_normal", unknown="ignore")
    except WardroundError as exc:
        filled.error = str(exc)
        return None, filled
    return result, filled


# ---------------------------------------------------------------------------------------------------------
# Choosing the calculator a question asks for

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
    from wardround.tools.calculators import all_calculators

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
        from wardround.tools.calculators import find_calculator

        hits = find_calculator(first, limit=1)
        return hits[0].id if hits else None
    return best[1]
