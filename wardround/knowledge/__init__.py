"""The shipped clinical knowledge base: specialties, findings, conditions, likelihood ratios, references."""

from wardround.knowledge.loader import KnowledgeBase, load_knowledge, normalize_name
from wardround.knowledge.models import (
    Condition,
    DemographicRule,
    Finding,
    FindingLR,
    LabRule,
    Reference,
    Specialty,
    VitalRule,
)

__all__ = [
    "Condition",
    "DemographicRule",
    "Finding",
    "FindingLR",
    "KnowledgeBase",
    "LabRule",
    "Reference",
    "Specialty",
    "VitalRule",
    "load_knowledge",
    "normalize_name",
]
