"""What a calculator input can be read from: a case's structured fields first, then its note's shared facts.

``CaseFacts`` answers the look-ups the input resolvers (``resolvers.py``) make -- age, sex, a vital, a lab, a
history concept, a drug class -- each with the ``Source`` it rests on (a note span or a case field), so that the
auto-fill can cite it. The note is never read here: its facts come from the one reader per note
(``wardround.extract.reader.note_facts``), which intake has usually filled already.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from wardround.case import Case
from wardround.extract.facts import Fact
from wardround.extract.history import find_concept
from wardround.extract.medications import MedicationMention, extract_medications
from wardround.extract.reader import NoteFacts, note_facts
from wardround.injection import reading_text


@dataclass(frozen=True)
class Source:
    """A span of the note or a path into the case that a filled value rests on."""

    start: int = -1
    end: int = -1
    path: str | None = None
    value: Any = None


@dataclass(frozen=True)
class Hit:
    """A value found for one input, the sources it rests on, how it was found, and its unit when it has one."""

    value: Any
    sources: tuple[Source, ...]
    how: str
    unit: str | None = None


def span(start: int, end: int) -> Source:
    """A note span as a source."""
    return Source(start, end)


class CaseFacts:
    """Look-ups over one case: structured fields first, then the note's shared facts (``NoteFacts``)."""

    def __init__(self, case: Case) -> None:
        self.case = case
        # instruction/citation look-alikes in the note are blanked out (same offsets) before anything is read
        self.note = reading_text(case.note or "")
        self.facts: NoteFacts = note_facts(self.note)

    @property
    def meds(self) -> list[MedicationMention]:
        """Drugs named in the note."""
        return self.facts.medications

    @staticmethod
    def first(facts: Iterable[Fact], name: str) -> Fact | None:
        """The first fact of that name, in note order."""
        return next((f for f in facts if f.name == name), None)

    # -- quantities ---------------------------------------------------------------------------------------
    def age(self) -> Hit | None:
        """Age in years: the case field, else the note."""
        if self.case.age is not None:
            return Hit(self.case.age, (Source(path="age", value=self.case.age),), "case field", "years")
        demo = self.facts.demographics
        if demo.age is not None and demo.age_span:
            return Hit(demo.age, (span(*demo.age_span),), "note", "years")
        return None

    def sex(self) -> Hit | None:
        """Sex: the case field, else the note."""
        if self.case.sex in ("male", "female"):
            return Hit(self.case.sex, (Source(path="sex", value=self.case.sex),), "case field")
        demo = self.facts.demographics
        if demo.sex in ("male", "female") and demo.sex_span:
            return Hit(demo.sex, (span(*demo.sex_span),), "note")
        return None

    def vital(self, name: str) -> Hit | None:
        """A vital sign or bedside measurement in the calculators' vocabulary (``temperature``, ``weight``, ...)."""
        case_name = {"temperature": "temperature_c", "weight": "weight_kg", "height": "height_cm"}.get(name, name)
        value = getattr(self.case.vitals, case_name, None)
        if value is not None:
            return Hit(float(value), (Source(path=f"vitals.{case_name}", value=value),), "case field")
        if name in ("weight", "height", "bmi", "target_bmi"):
            found = self.facts.anthropometric(name)
            fact = found[0] if found else None
        elif name in ("gcs", "fio2", "qt_interval", "urine_output"):
            fact = self.first(self.facts.measurements, name)
        else:
            fact = self.first(self.facts.vitals, {"temperature": "temperature_c"}.get(name, name))
        if fact is None:
            return None
        return Hit(fact.canonical_value, (span(fact.start, fact.end),), "note", fact.unit)

    def lab(self, analyte: str, which: str = "first") -> Hit | None:
        """A lab value in the analyte's canonical unit: the case's lab list, else the note.

        ``which`` chooses among several values of the note: ``"first"`` (the presenting value, the default) or
        ``"last"`` (the latest reported value, for quantities meant at steady state such as an eGFR).
        """
        for i, lab in enumerate(self.case.labs):
            if lab.analyte == analyte:
                canonical = lab.canonical_value()
                if canonical is not None:
                    return Hit(canonical, (Source(path=f"labs[{i}].value", value=lab.value),), "case field", lab.unit)
        if which == "last":
            found = [f for f in self.facts.labs if f.name == analyte]
            fact = found[-1] if found else None
            how = "note: latest of several values" if len(found) > 1 else "note"
        else:
            fact = self.first(self.facts.labs, analyte)
            how = "note"
        if fact is None:
            return None
        return Hit(fact.canonical_value, (span(fact.start, fact.end),), how, fact.unit)

    # -- history ------------------------------------------------------------------------------------------
    def concept(self, *concepts: str, family: bool = False, historical: bool | None = None,
                current_only: bool = False) -> Hit | None:
        """True when any concept is affirmed (``historical=True``: only as history), False when all are negated."""
        negs: list[Source] = []
        for c in concepts:
            for m in self.facts.concept(c):
                if m.family != family:
                    continue
                if m.present:
                    if historical is True and not m.historical:
                        continue
                    if current_only and m.historical:
                        continue
                    return Hit(True, (span(m.start, m.end),), f"note: {c} mentioned")
                if m.context.negated and not negs:
                    negs.append(span(m.quote_start, m.end))
        for i, item in enumerate(self.case.history.conditions):
            for c in concepts:
                if not family and any(x.present for x in find_concept(item, c)):
                    return Hit(True, (Source(path=f"history.conditions[{i}]", value=item),), "case history")
        if negs:
            return Hit(False, tuple(negs), "note: explicitly negated")
        return None

    def med_class(self, *classes: str) -> Hit | None:
        """True when a drug of one of these classes (or one of these drugs) is on the case's list or in the note."""
        for i, item in enumerate(self.case.history.medications):
            for m in extract_medications(item):
                if m.drug_class in classes or m.drug in classes:
                    return Hit(True, (Source(path=f"history.medications[{i}]", value=item),), "case medication list")
        for m in self.meds:
            if (m.drug_class in classes or m.drug in classes) and not m.context.negated:
                return Hit(True, (span(m.start, m.end),), f"note: {m.drug} ({m.drug_class})")
        return None
