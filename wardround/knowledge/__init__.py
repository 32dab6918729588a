"""The shipped clinical knowledge base: specialties, findings, conditions, likelihood ratios, references."""

from wardround.knowledge.loader import KnowledgeBase, load_knowledge, normalize_name
from wardround.knowledge.models import (
    BaseRate,
    Condition,
    Criteria,
    CriteriaGroup,
    DemographicRule,
    Finding,
    FindingLR,
    LabRule,
    Reference,
    Specialty,
    VitalRule,
)

__all__ = [
    "BaseRate",
    "Condition",
    "Criteria",
    "CriteriaGroup",
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
