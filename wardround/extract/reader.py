"""The one reader of a note per case: every extraction runs once per note text and is shared by every agent.

Intake, the specialists' calculator auto-fill (which runs in parallel threads) and the evaluations all ask
``note_facts(text)`` for the facts of a note. The first to ask for one kind of fact (vitals, labs, medications,
a concept's mentions, ...) reads it from the text; everyone after gets the same result, so a note is read once per
case whatever the number of calculators, and latency grows linearly with the note.

Why a content-keyed cache and not an object in graph state: graph state stays JSON-serialisable (checkpoints,
``stream``), so a reader object cannot travel in it. ``note_facts`` keeps the readers of the most recently read
notes (``CACHE_SIZE``), keyed on the note's text itself (equal text, equal facts), behind a lock; each reader
computes each kind of fact under its own lock, so two threads never read the same thing twice.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from wardround.demographics import Demographics, extract_demographics
from wardround.extract.anthropometrics import extract_bmi, extract_height, extract_target_bmi, extract_weight
from wardround.extract.dates import (
    CycleLength,
    DateMention,
    Duration,
    extract_durations,
    find_current_date,
    find_cycle_length,
    find_last_menstrual_period,
)
from wardround.extract.facts import Fact, extract_labs, extract_measurements, extract_vitals
from wardround.extract.findings import FindingMention, extract_findings
from wardround.extract.history import AlcoholUse, ConceptMention, extract_alcohol, find_concept
from wardround.extract.medications import MedicationMention, extract_medications
from wardround.patterns import fast_finditer, fast_search

if TYPE_CHECKING:
    from wardround.knowledge import KnowledgeBase

T = TypeVar("T")

CACHE_SIZE = 32
"""Readers kept by ``note_facts`` (the notes of the cases being worked on; older ones are dropped first)."""


class NoteFacts:
    """Facts of one note text, each kind extracted on first use and then shared (safe across threads).

    Spans index ``text``; callers pass the note as they read it (``injection.reading_text`` of the case note:
    same length and offsets as the note itself).
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._memo: dict[Any, Any] = {}
        self._lock = threading.RLock()

    def _once(self, key: Any, compute: Callable[[], T]) -> T:
        """``compute()`` the first time ``key`` is asked for; the stored result afterwards."""
        try:
            return self._memo[key]
        except KeyError:
            pass
        with self._lock:
            if key not in self._memo:
                self._memo[key] = compute()
            return self._memo[key]

    # -- measured values ----------------------------------------------------------------------------------
    @property
    def vitals(self) -> list[Fact]:
        """Heart rate, blood pressure, respiratory rate, temperature and SpO2 (``extract_vitals``)."""
        return self._once("vitals", lambda: extract_vitals(self.text))

    @property
    def measurements(self) -> list[Fact]:
        """GCS, FiO2, QT/QTc and urine output (``extract_measurements``)."""
        return self._once("measurements", lambda: extract_measurements(self.text))

    @property
    def labs(self) -> list[Fact]:
        """Laboratory values with units (``extract_labs``)."""
        return self._once("labs", lambda: extract_labs(self.text))

    def anthropometric(self, name: str) -> list[Fact]:
        """Weight, height, BMI or target BMI mentions (``name``: weight | height | bmi | target_bmi)."""
        reader = {"weight": extract_weight, "height": extract_height, "bmi": extract_bmi,
                  "target_bmi": extract_target_bmi}[name]
        return self._once(("anthropometric", name), lambda: reader(self.text))

    @property
    def demographics(self) -> Demographics:
        """Age and sex written in the note (``extract_demographics``)."""
        return self._once("demographics", lambda: extract_demographics(self.text))

    # -- history, medications, findings -------------------------------------------------------------------
    @property
    def medications(self) -> list[MedicationMention]:
        """Drugs of the lexicon with dose, route and frequency (``extract_medications``)."""
        return self._once("medications", lambda: extract_medications(self.text))

    def concept(self, concept: str) -> list[ConceptMention]:
        """Every mention of one history/score concept with its assertion context (``find_concept``)."""
        return self._once(("concept", concept), lambda: find_concept(self.text, concept))

    def findings(self, kb: KnowledgeBase) -> list[FindingMention]:
        """Knowledge-base finding phrases in the note (``extract_findings``), per knowledge base."""
        # the knowledge base is kept with its result so that its id cannot be reused by another one
        return self._once(("findings", id(kb)), lambda: (kb, extract_findings(self.text, kb)))[1]

    @property
    def alcohol(self) -> AlcoholUse | None:
        """Alcoholic drinks per week (``extract_alcohol``)."""
        return self._once("alcohol", lambda: extract_alcohol(self.text))

    # -- time ---------------------------------------------------------------------------------------------
    @property
    def durations(self) -> list[Duration]:
        """Durations in days (``extract_durations``)."""
        return self._once("durations", lambda: extract_durations(self.text))

    @property
    def last_menstrual_period(self) -> DateMention | None:
        """The date given as the last menstrual period."""
        return self._once("lmp", lambda: find_last_menstrual_period(self.text))

    @property
    def current_date(self) -> DateMention | None:
        """The date the note calls today."""
        return self._once("today", lambda: find_current_date(self.text))

    @property
    def cycle_length(self) -> CycleLength | None:
        """The menstrual cycle length in days."""
        return self._once("cycle", lambda: find_cycle_length(self.text))

    # -- one-off patterns ---------------------------------------------------------------------------------
    def search(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        """The first match of a compiled pattern in the note (searched once per pattern)."""
        return self._once(("search", pattern), lambda: fast_search(pattern, self.text))

    def finditer(self, pattern: re.Pattern[str]) -> list[re.Match[str]]:
        """Every match of a compiled pattern in the note (scanned once per pattern)."""
        return self._once(("finditer", pattern), lambda: fast_finditer(pattern, self.text))


_READERS: OrderedDict[str, NoteFacts] = OrderedDict()
_READERS_LOCK = threading.Lock()


def note_facts(text: str) -> NoteFacts:
    """The shared reader of ``text``: the same object for the same text while it is among the recent notes."""
    with _READERS_LOCK:
        reader = _READERS.get(text)
        if reader is not None:
            _READERS.move_to_end(text)
            return reader
        reader = NoteFacts(text)
        _READERS[text] = reader
        while len(_READERS) > CACHE_SIZE:
            _READERS.popitem(last=False)
        return reader


def clear_note_facts() -> None:
    """Forget every cached reader (benchmarks measuring a cold read; tests)."""
    with _READERS_LOCK:
        _READERS.clear()
