"""Agent outputs and the final report: Opinion, DifferentialItem, Diagnosis, WardResult (models only).

The renderers (text, Markdown, HTML) live in ``wardround.render``, above these models; the models reach them
through ``wardround.display`` (``to_text``, ``to_markdown``, ``_repr_html_``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from wardround import display
from wardround.case import Case, Coverage
from wardround.evidence import CitationCheck, Ledger, VerificationReport, cited_ids


class FindingRef(BaseModel):
    """A finding of the case, named, with the evidence ids that show it."""

    finding: str = Field(description="knowledge-base finding id")
    name: str
    evidence: list[str] = Field(default_factory=list)


class DifferentialItem(BaseModel):
    """One condition in a ranked differential, with the evidence for and against it.

    ``probability`` is the condition's share of the posterior over every hypothesis the ward considered, "none of
    these" included (``wardround.reasoning``), so it means the same in every opinion and report.
    """

    condition: str = Field(description="knowledge-base condition id (or a free name from a model)")
    name: str
    icd10: str | None = None
    probability: float = Field(ge=0.0, le=1.0)
    specialty: str | None = None
    supporting: list[str] = Field(default_factory=list, description="evidence ids for")
    opposing: list[str] = Field(default_factory=list, description="evidence ids against")
    explains: list[FindingRef] = Field(default_factory=list, description="salient findings it accounts for")
    unexplained: list[FindingRef] = Field(default_factory=list,
                                          description="salient findings of the case it leaves unexplained")


class TriageDecision(BaseModel):
    """Which specialists to consult, and why."""

    specialties: list[str]
    scores: dict[str, float] = Field(default_factory=dict)
    rationale: str = ""
    cited: list[str] = Field(default_factory=list)
    agent: str = "rules"


class Opinion(BaseModel):
    """One specialist's differential and summary (citations inline as ``[E3]``)."""

    specialty: str
    agent: str = "rules"
    summary: str = ""
    differential: list[DifferentialItem] = Field(default_factory=list)
    evidence_ids: list[str] = Field(default_factory=list, description="evidence this specialist produced")
    calculations: list[str] = Field(default_factory=list, description="calculator results (evidence ids)")
    confidence: float = Field(0.0, ge=0.0, le=1.0)

    @property
    def primary(self) -> DifferentialItem | None:
        """The specialist's leading condition."""
        return self.differential[0] if self.differential else None

    def cited_ids(self) -> list[str]:
        """Every evidence id this opinion cites."""
        ids = cited_ids(self.summary) + list(self.calculations)
        for item in self.differential:
            ids.extend(item.supporting)
            ids.extend(item.opposing)
        return list(dict.fromkeys(ids))

    def _repr_html_(self) -> str:  # pragma: no cover - notebooks
        return display.to_html(self)


class RationaleSentence(BaseModel):
    """A sentence of the attending's rationale and the evidence it cites."""

    text: str
    citations: list[str] = Field(default_factory=list)
    kind: str = Field("", description="what the sentence says (leading, for, against, unexplained, review, ...)")


class Dissent(BaseModel):
    """A specialist whose leading diagnosis differs from the final primary, and how that was resolved."""

    specialty: str
    their_primary: str
    their_probability: float
    resolution: str


class ReviewRecord(BaseModel):
    """What a human reviewer decided at the review step."""

    reviewer: str = "reviewer"
    action: str = Field(description="approve | override")
    primary: str | None = None
    comment: str = ""
    evidence_id: str | None = None


class Verification(BaseModel):
    """Verification status of the final report's citations."""

    verified: bool
    checked: int
    failures: list[CitationCheck] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list, description="citations removed because they failed")


class Diagnosis(BaseModel):
    """The attending's cited final diagnosis."""

    primary: DifferentialItem
    differential: list[DifferentialItem]
    rationale: list[RationaleSentence] = Field(default_factory=list)
    dissent: list[Dissent] = Field(default_factory=list)
    consulted: list[str] = Field(default_factory=list)
    next_steps: list[str] = Field(default_factory=list)
    verification: Verification = Field(default_factory=lambda: Verification(verified=False, checked=0))
    review: ReviewRecord | None = None
    #: False when no condition of the knowledge base is supported by the case: ``primary`` is then only the
    #: nearest condition on pre-test probability, not a diagnosis (evaluations count it as an abstention).
    supported: bool = True
    coverage: Coverage = "explained"
    #: Salient findings the primary leaves unexplained (named in the report; ``coverage`` says how many matter).
    unexplained: list[FindingRef] = Field(default_factory=list)
    #: Posterior share of "none of these": the case is explained by a condition the ward did not consider.
    none_probability: float = Field(0.0, ge=0.0, le=1.0)
    #: Who should see the patient when the findings stay unexplained (``Finding.refer``, then the specialties).
    refer_to: list[str] = Field(default_factory=list)

    def cited_ids(self) -> list[str]:
        """Every evidence id the diagnosis cites (rationale, primary and differential)."""
        ids: list[str] = []
        for s in self.rationale:
            ids.extend(s.citations)
            ids.extend(cited_ids(s.text))
        for item in [self.primary, *self.differential]:
            ids.extend(item.supporting)
            ids.extend(item.opposing)
            for ref in [*item.explains, *item.unexplained]:
                ids.extend(ref.evidence)
        for ref in self.unexplained:
            ids.extend(ref.evidence)
        if self.review and self.review.evidence_id:
            ids.append(self.review.evidence_id)
        return list(dict.fromkeys(ids))

    def to_text(self, ledger: Ledger | None = None) -> str:
        """Plain-text report (``wardround.render.render_text``)."""
        return display.to_text(self, ledger)

    def to_markdown(self, ledger: Ledger | None = None) -> str:
        """Markdown report (``wardround.render.render_markdown``)."""
        return display.to_markdown(self, ledger)

    def _repr_html_(self) -> str:  # pragma: no cover - notebooks
        return display.to_html(self)


class Usage(BaseModel):
    """Token, cost and timing accounting, summed over agents."""

    model_config = ConfigDict(extra="allow")

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0
    retries: int = 0
    repairs: int = 0
    seconds: dict[str, float] = Field(default_factory=dict, description="wall time per node")

    def __add__(self, other: Usage) -> Usage:
        """Sum two records: numbers added, seconds per node added, extra per-agent entries added."""
        seconds = dict(self.seconds)
        for k, v in other.seconds.items():
            seconds[k] = round(seconds.get(k, 0.0) + v, 6)
        extra: dict[str, Any] = dict(self.model_extra or {})
        for k, v in (other.model_extra or {}).items():
            extra[k] = extra.get(k, 0) + v if isinstance(v, int | float) else v
        return Usage(input_tokens=self.input_tokens + other.input_tokens,
                     output_tokens=self.output_tokens + other.output_tokens,
                     cost_usd=round(self.cost_usd + other.cost_usd, 8), calls=self.calls + other.calls,
                     retries=self.retries + other.retries, repairs=self.repairs + other.repairs, seconds=seconds,
                     **extra)


class WardResult(BaseModel):
    """Everything a ward round produced. ``diagnosis.primary.name`` and ``verified`` are stable JSON paths."""

    case: Case
    triage: TriageDecision | None = None
    opinions: list[Opinion] = Field(default_factory=list)
    diagnosis: Diagnosis | None = None
    ledger: Ledger = Field(default_factory=Ledger)
    issues: list[str] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    verified: bool = False

    def cited_ids(self) -> list[str]:
        """Every evidence id cited anywhere in the result."""
        ids: list[str] = []
        if self.triage:
            ids.extend(self.triage.cited)
        for op in self.opinions:
            ids.extend(op.cited_ids())
        if self.diagnosis:
            ids.extend(self.diagnosis.cited_ids())
        return list(dict.fromkeys(ids))

    def verify(self, *, strict: bool = False) -> VerificationReport:
        """Re-check every citation against the ledger and the case (and re-run calculators, re-hash artifacts).

        Args:
            strict: raise ``CitationError`` naming each failed citation instead of returning the report.
        """
        report = self.ledger.verify(self.case, self.cited_ids())
        if strict:
            report.raise_for_failures()
        return report

    def to_text(self) -> str:
        """Plain-text report of the diagnosis (``wardround.render.render_result_text``)."""
        return display.to_text(self)

    def to_fhir(self) -> Any:
        """The result as a FHIR R4 ``DiagnosticReport`` (a ``fhir.resources`` R4B model, validated).

        Each condition of the differential is a contained Observation with its ICD-10 code, probability and the
        evidence it rests on (FHIR resources cited where the case came from a bundle); see ``wardround.fhir``.
        """
        from wardround.fhir.writer import to_diagnostic_report

        return to_diagnostic_report(self)

    def to_markdown(self) -> str:
        """Markdown report of the diagnosis (``wardround.render.render_result_markdown``)."""
        return display.to_markdown(self)

    def _repr_html_(self) -> str:  # pragma: no cover - notebooks
        return display.to_html(self)


def jsonable(model: BaseModel) -> dict[str, Any]:
    """JSON-mode dump of any report model."""
    return model.model_dump(mode="json")
