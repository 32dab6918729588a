"""Clinical facts from notes without an LLM: demographics, vitals, labs with units, findings with negation.

Each extracted fact keeps the exact character span it came from, so it can become note evidence whose
quote re-checks against the note. ``note_facts(text)`` is the one reader per note that every agent and
calculator shares: each kind of fact is read from a note once.
"""

from wardround.demographics import Demographics, extract_demographics
from wardround.extract.anthropometrics import extract_anthropometrics
from wardround.extract.context import Context, assertion_context, sentence_bounds
from wardround.extract.dates import extract_dates, extract_durations
from wardround.extract.facts import Fact, extract_labs, extract_measurements, extract_vitals
from wardround.extract.findings import FindingMention, extract_findings
from wardround.extract.history import ConceptMention, concept_status, extract_alcohol, extract_history
from wardround.extract.medications import MedicationMention, extract_medications
from wardround.extract.reader import NoteFacts, note_facts

__all__ = [
    "ConceptMention",
    "MedicationMention",
    "NoteFacts",
    "concept_status",
    "extract_alcohol",
    "extract_anthropometrics",
    "extract_dates",
    "extract_durations",
    "extract_history",
    "extract_measurements",
    "extract_medications",
    "Context",
    "Demographics",
    "Fact",
    "FindingMention",
    "assertion_context",
    "extract_demographics",
    "extract_findings",
    "extract_labs",
    "extract_vitals",
    "note_facts",
    "sentence_bounds",
]
