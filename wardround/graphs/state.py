"""``WardState``: the graph's state and the reducers that merge parallel specialists' updates."""

from __future__ import annotations

import operator
from typing import Annotated, TypedDict

from wardround.case import Case
from wardround.evidence import Evidence, merge_ledger
from wardround.report import Diagnosis, Opinion, ReviewRecord, TriageDecision, Usage


def add_usage(left: Usage | dict | None, right: Usage | dict | None) -> Usage:
    """LangGraph reducer: sum token, cost and timing accounting from parallel branches."""
    a = Usage.model_validate(left) if isinstance(left, dict) else (left or Usage())
    b = Usage.model_validate(right) if isinstance(right, dict) else (right or Usage())
    return a + b


class WardState(TypedDict, total=False):
    """State of one ward round. Volumes and arrays never enter it: imaging tools write files and cite them."""

    case: Case
    ledger: Annotated[dict[str, Evidence], merge_ledger]
    triage: TriageDecision
    opinions: Annotated[list[Opinion], operator.add]
    diagnosis: Diagnosis
    review: ReviewRecord
    usage: Annotated[Usage, add_usage]
    issues: Annotated[list[str], operator.add]


class SpecialistInput(TypedDict):
    """What ``Send`` hands one specialist: the case, the ledger so far, and its specialty."""

    case: Case
    ledger: dict[str, Evidence]
    specialty: str
