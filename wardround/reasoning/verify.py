"""Verify a diagnosis' citations; remove and flag those that fail, so the report never carries one."""

from __future__ import annotations

import logging

from wardround.case import Case
from wardround.evidence import Ledger
from wardround.report import Diagnosis, DifferentialItem, FindingRef, RationaleSentence, Verification

log = logging.getLogger(__name__)


def verify_and_repair(diagnosis: Diagnosis, ledger: Ledger, case: Case) -> tuple[Diagnosis, list[str]]:
    """Verify every citation of the diagnosis; remove those that fail and flag them as issues.

    The returned diagnosis contains only citations that verified, and records what was removed.
    """
    report = ledger.verify(case, diagnosis.cited_ids())
    if report.ok:
        diagnosis.verification = Verification(verified=True, checked=report.checked)
        return diagnosis, []
    bad = {f.id for f in report.failures}
    issues = [f"citation [{f.id}] removed from the report: {f.reason}" for f in report.failures]

    def strip_text(text: str) -> str:
        for b in bad:
            text = text.replace(f"[{b}]", "")
        return " ".join(text.split())

    rationale = [s.model_copy(update={"text": strip_text(s.text), "citations": [c for c in s.citations if c not in bad]})
                 for s in diagnosis.rationale]

    def refs(items: list[FindingRef]) -> list[FindingRef]:
        return [r.model_copy(update={"evidence": [i for i in r.evidence if i not in bad]}) for r in items]

    def clean(item: DifferentialItem) -> DifferentialItem:
        return item.model_copy(update={"supporting": [i for i in item.supporting if i not in bad],
                                       "opposing": [i for i in item.opposing if i not in bad],
                                       "explains": refs(item.explains), "unexplained": refs(item.unexplained)})

    repaired = diagnosis.model_copy(update={
        "rationale": [RationaleSentence.model_validate(s.model_dump()) for s in rationale],
        "primary": clean(diagnosis.primary),
        "differential": [clean(x) for x in diagnosis.differential],
        "unexplained": refs(diagnosis.unexplained),
    })
    again = ledger.verify(case, repaired.cited_ids())
    repaired.verification = Verification(verified=again.ok, checked=report.checked, failures=again.failures,
                                         removed=sorted(bad))
    for issue in issues:
        log.warning(issue)
    return repaired, issues
