"""The one diagnostic engine: competing hypotheses over a shared finding space, explained and unexplained
findings, a coverage verdict, pooling, dissent and review. Every agent and evaluation reasons through it."""

from wardround.reasoning.engine import LEAK_LR, NONE, NONE_PRIOR, normalise
from wardround.reasoning.findings import FindingStatus, finding_status
from wardround.reasoning.hypotheses import (
    ENTRY_LR,
    ENTRY_PROBABILITY,
    Assessment,
    Ranking,
    Verdict,
    assess,
    coverage_verdict,
    hypothesis_space,
    rank,
)
from wardround.reasoning.records import record_assessment, record_posterior
from wardround.reasoning.verify import verify_and_repair

__all__ = [
    "ENTRY_LR", "ENTRY_PROBABILITY", "LEAK_LR", "NONE", "NONE_PRIOR", "Assessment", "FindingStatus", "Ranking",
    "Verdict", "assess", "coverage_verdict", "finding_status", "hypothesis_space", "normalise", "rank",
    "record_assessment", "record_posterior", "verify_and_repair",
]
