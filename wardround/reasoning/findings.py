"""The case's finding space: one status per knowledge-base finding, read from the ledger's evidence."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from wardround.evidence import Evidence


@dataclass
class FindingStatus:
    """Whether a finding is present or explicitly absent, and the evidence ids that say so."""

    present: bool
    ids: list[str] = field(default_factory=list)


def finding_status(evidence: Iterable[Evidence]) -> dict[str, FindingStatus]:
    """Collapse evidence into one status per finding; a documented or measured presence beats an absence."""
    status: dict[str, FindingStatus] = {}
    for ev in evidence:
        if not ev.finding or ev.present is None:
            continue
        cur = status.get(ev.finding)
        if cur is None:
            status[ev.finding] = FindingStatus(ev.present, [ev.id])
        elif cur.present == ev.present:
            cur.ids.append(ev.id)
        elif ev.present and not cur.present:
            status[ev.finding] = FindingStatus(True, [ev.id])
    return status


@dataclass(frozen=True)
class Patient:
    """Who the patient is, as far as priors care: age in years and sex (``None`` when unknown)."""

    age: float | None = None
    sex: str | None = None


def patient_of(evidence: Iterable[Evidence]) -> Patient:
    """The patient's age and sex from the intake evidence (``quantity`` age / sex)."""
    age = sex = None
    for ev in evidence:
        if ev.quantity == "age" and age is None and isinstance(ev.value, (int, float)):
            age = float(ev.value)
        elif ev.quantity == "sex" and sex is None and isinstance(ev.value, str):
            sex = ev.value
    return Patient(age, sex)
