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
    #: note spans of the evidence that makes the finding present (two findings read from the same words are one
    #: observation: ``co_read``)
    spans: list[tuple[int, int]] = field(default_factory=list)


def co_read(status: dict[str, FindingStatus], among: Iterable[str]) -> dict[str, set[str]]:
    """For each finding of ``among``, the other present findings read from overlapping words of the note
    ("hot potato voice" is both a muffled voice and a voice change)."""
    wanted = [fid for fid in among if status[fid].spans]
    present = [(fid, st.spans) for fid, st in status.items() if st.present and st.spans]
    out: dict[str, set[str]] = {}
    for fid in wanted:
        mine = status[fid].spans
        for other, spans in present:
            if other != fid and any(a < d and c < b for a, b in mine for c, d in spans):
                out.setdefault(fid, set()).add(other)
    return out


def finding_status(evidence: Iterable[Evidence]) -> dict[str, FindingStatus]:
    """Collapse evidence into one status per finding; a documented or measured presence beats an absence."""
    status: dict[str, FindingStatus] = {}
    for ev in evidence:
        if not ev.finding or ev.present is None:
            continue
        cur = status.get(ev.finding)
        spans = [ev.span] if ev.present and ev.span is not None else []
        if cur is None:
            status[ev.finding] = FindingStatus(ev.present, [ev.id], spans)
        elif cur.present == ev.present:
            cur.ids.append(ev.id)
            cur.spans.extend(spans)
        elif ev.present and not cur.present:
            status[ev.finding] = FindingStatus(True, [ev.id], spans)
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
