"""Clinical facts from notes without an LLM: demographics, vitals, labs with units, findings with negation.

Each extracted fact keeps the exact character span it came from, so it can become note evidence whose
quote re-checks against the note.
"""

from wardround.extract.anthropometrics import extract_anthropometrics
from wardround.extract.context import Context, assertion_context, sentence_bounds
from wardround.extract.dates import extract_dates, extract_durations
from wardround.extract.demographics import Demographics, extract_demographics
from wardround.extract.facts import Fact, extract_labs, extract_measurements, extract_vitals
from wardround.extract.findings import FindingMention, extract_findings
from wardround.extract.history import ConceptMention, concept_status, extract_alcohol, extract_history
from wardround.extract.medications import MedicationMention, extract_medications

__all__ = [
    "ConceptMention",
    "MedicationMention",
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
    "sentence_bounds",
]
