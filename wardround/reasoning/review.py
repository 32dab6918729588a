"""Human review of the attending's diagnosis: approve, or override to another condition on checkable evidence."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wardround.case import Case
from wardround.config import WardConfig
from wardround.evidence import Evidence, EvidenceWriter, Ledger
from wardround.knowledge import KnowledgeBase, normalize_name
from wardround.reasoning.attending import case_ranking, leading_sentence
from wardround.reasoning.records import record_assessment, record_posterior
from wardround.report import Diagnosis, DifferentialItem, RationaleSentence, ReviewRecord

REVIEW_PREFIX = "HR"


@dataclass
class ReviewOutcome:
    """What a review answer changes: the diagnosis, its record, new evidence, issues."""

    diagnosis: Diagnosis | None = None
    record: ReviewRecord | None = None
    evidence: list[Evidence] = field(default_factory=list)
    issues: list[str] = field(default_factory=list)


def read_answer(answer: Any) -> dict | None:
    """A resume value as ``{"action": "approve"|"override", ...}``; a bare string approves or names the primary."""
    if isinstance(answer, str):
        answer = {"action": "approve"} if answer.lower() in ("approve", "ok", "yes") else \
            {"action": "override", "primary": answer}
    if not isinstance(answer, dict) or answer.get("action") not in ("approve", "override"):
        return None
    return answer


def find_item(diagnosis: Diagnosis, target: str, kb: KnowledgeBase) -> DifferentialItem | None:
    """The differential item that ``target`` names (condition id, name or knowledge-base alias)."""
    key = normalize_name(target)
    for item in diagnosis.differential:
        if key in (normalize_name(item.condition), normalize_name(item.name)):
            return item
    cond = kb.find_condition(target)
    if cond is not None:
        return next((item for item in diagnosis.differential if item.condition == cond.id), None)
    return None


def apply_review(kb: KnowledgeBase, case: Case, ledger: Ledger, diagnosis: Diagnosis, answer: Any,
                 config: WardConfig) -> ReviewOutcome:
    """Apply a reviewer's answer; an override rests on recorded evidence and the report is rebuilt, not edited.

    A knowledge-base condition the round did not list gets its assessment and the posterior recorded first, so
    its probability recomputes like every other item's.
    """
    parsed = read_answer(answer)
    if parsed is None:
        return ReviewOutcome(issues=[f"review: ignored an unreadable review answer {answer!r}; expected "
                                     "{'action': 'approve'} or {'action': 'override', 'primary': ...}"])
    reviewer = str(parsed.get("reviewer", "reviewer"))
    comment = str(parsed.get("comment", ""))
    if parsed["action"] == "approve":
        record = ReviewRecord(reviewer=reviewer, action="approve", primary=diagnosis.primary.name, comment=comment)
        return ReviewOutcome(diagnosis.model_copy(update={"review": record}), record)
    target = str(parsed.get("primary", ""))
    writer = EvidenceWriter(REVIEW_PREFIX, f"human_review:{reviewer}", ledger.entries)
    chosen = find_item(diagnosis, target, kb)
    if chosen is None:
        cond = kb.find_condition(target)
        if cond is None:
            return ReviewOutcome(issues=[f"review: override target {target!r} is neither on the differential "
                                         f"({', '.join(x.name for x in diagnosis.differential)}) nor a condition of "
                                         "the knowledge base; diagnosis left unchanged"])
        ranking = case_ranking(kb, ledger, config)
        assessment = ranking.get(cond.id)
        if assessment is None:  # outside the configured specialties: assess it on its own
            from wardround.reasoning.findings import finding_status, patient_of
            from wardround.reasoning.hypotheses import rank

            ranking = rank(kb, finding_status(ledger), [*(a.condition for a in ranking.hypotheses), cond],
                           patient_of(ledger))
            assessment = ranking.get(cond.id)
        assert assessment is not None
        posterior = record_posterior(ranking, kb, writer, "review")
        _, chosen = record_assessment(assessment, kb, writer, cond.specialty, posterior.id)
    known = {**ledger.entries, **writer.items}
    sources = [i for i in chosen.supporting if i in known]
    evidence_id = None
    if sources:
        ev = writer.add("derived", f"Reviewer {reviewer} overrode the primary diagnosis to {chosen.name}"
                        + (f": {comment}" if comment else ""), derived_from=sources)
        evidence_id = ev.id
    record = ReviewRecord(reviewer=reviewer, action="override", primary=chosen.name, comment=comment,
                          evidence_id=evidence_id)
    ids = [evidence_id] if evidence_id else []
    note = RationaleSentence(
        text=f"Primary diagnosis set to {chosen.name} by human review" + (f" ({comment})" if comment else "")
        + "".join(f" [{i}]" for i in ids) + f"; the ward round had ranked {diagnosis.primary.name} first.",
        citations=ids, kind="review")
    earlier = []
    for s in diagnosis.rationale:
        if s.kind == "leading":
            text, cites = leading_sentence(kb, diagnosis.primary, past=True)
            s = RationaleSentence(text=f"{text} {''.join(f'[{i}]' for i in cites)}".strip(), citations=cites,
                                  kind="ward_leading")
        earlier.append(s)
    cond = kb.conditions.get(chosen.condition)
    next_steps = list(cond.next_steps) if cond else []
    next_steps += [s for s in diagnosis.next_steps if s not in next_steps]
    rest = [x for x in diagnosis.differential if x.condition != chosen.condition]
    updated = diagnosis.model_copy(update={
        "primary": chosen, "differential": [chosen, *rest], "review": record, "supported": True,
        "coverage": "partly_explained" if chosen.unexplained else "explained", "unexplained": chosen.unexplained,
        "rationale": [note, *earlier], "next_steps": next_steps})
    work = Ledger(entries={**ledger.entries, **writer.items})
    report = work.verify(case, updated.cited_ids())
    updated.verification = updated.verification.model_copy(update={"verified": report.ok, "checked": report.checked,
                                                                   "failures": report.failures})
    return ReviewOutcome(updated, record, list(writer.items.values()))
