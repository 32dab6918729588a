"""Agent outputs and the final report: Opinion, DifferentialItem, Diagnosis, WardResult, and their renderers."""

from __future__ import annotations

import html
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from wardround.case import Case
from wardround.evidence import CITATION_RE, CitationCheck, Ledger, VerificationReport, cited_ids

Coverage = Literal["explained", "partly_explained", "outside"]
"""How well the primary accounts for the case's salient findings (``wardround.reasoning.coverage_verdict``)."""


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
        return render_opinion_html(self)


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
        """Plain-text report."""
        return render_text(self, ledger)

    def to_markdown(self, ledger: Ledger | None = None) -> str:
        """Markdown report."""
        return render_markdown(self, ledger)

    def _repr_html_(self) -> str:  # pragma: no cover - notebooks
        return render_diagnosis_html(self)


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
        """Plain-text report of the diagnosis."""
        return render_text(self.diagnosis, self.ledger, self.issues) if self.diagnosis else "no diagnosis"

    def to_markdown(self) -> str:
        """Markdown report of the diagnosis."""
        return render_markdown(self.diagnosis, self.ledger, self.issues) if self.diagnosis else "no diagnosis"

    def _repr_html_(self) -> str:  # pragma: no cover - notebooks
        return render_result_html(self)


# ---------------------------------------------------------------------------------------------------------
# Renderers


def describe_review(review: ReviewRecord) -> str:
    """One line: who reviewed, what they decided, and their comment."""
    verb = "approved" if review.action == "approve" else "overrode the primary diagnosis to"
    text = f"{review.reviewer} {verb}" + (f" {review.primary}" if review.action != "approve" else
                                          f" {review.primary}" if review.primary else "")
    return text + (f" ({review.comment})" if review.comment else "")


def _pct(p: float) -> str:
    return f"{100 * p:.0f}%" if p >= 0.01 else "<1%"


def _cites(ids: list[str]) -> str:
    return "".join(f"[{i}]" for i in ids)


def _refs(refs: list[FindingRef]) -> str:
    return ", ".join(f"{r.name} {_cites(r.evidence[:1])}".strip() for r in refs) or "-"


COVERAGE_TEXT = {
    "explained": "the primary explains every salient finding",
    "partly_explained": "the primary explains most salient findings, not all",
    "outside": "outside the knowledge base: no condition considered explains the salient findings",
}


def render_text(diagnosis: Diagnosis, ledger: Ledger | None = None, issues: list[str] | None = None) -> str:
    """Terminal text: primary, differential, rationale, dissent, next steps, cited evidence, verification."""
    d = diagnosis
    lines = [f"Primary diagnosis: {d.primary.name}" + (f" ({d.primary.icd10})" if d.primary.icd10 else "")
             + f"  p={_pct(d.primary.probability)}" if d.supported else
             f"Primary diagnosis: none supported by this case (nearest condition considered: {d.primary.name}, "
             f"{_pct(d.primary.probability)})"]
    lines.append(f"Coverage: {COVERAGE_TEXT[d.coverage]}; none of these {_pct(d.none_probability)}")
    if d.unexplained:
        lines.append("Unexplained findings: " + ", ".join(f"{r.name} {_cites(r.evidence[:1])}" for r in d.unexplained))
    if d.refer_to:
        lines.append("Should be seen by: " + ", ".join(d.refer_to))
    if d.consulted:
        lines.append("Specialists consulted: " + ", ".join(d.consulted))
    lines.append("")
    lines.append("Differential:")
    for i, item in enumerate(d.differential, 1):
        lines.append(f"  {i}. {item.name} ({item.icd10 or '-'}) {_pct(item.probability)}"
                     f"  for {_cites(item.supporting) or '-'}  against {_cites(item.opposing) or '-'}")
        if item.explains or item.unexplained:
            lines.append(f"     explains: {_refs(item.explains)}; leaves unexplained: {_refs(item.unexplained)}")
    if d.rationale:
        lines.append("")
        lines.append("Rationale:")
        lines.extend(f"  - {s.text}" for s in d.rationale)
    lines.append("")
    if d.dissent:
        lines.append("Dissent:")
        lines.extend(f"  - {x.specialty}: {x.their_primary} ({_pct(x.their_probability)}). {x.resolution}"
                     for x in d.dissent)
    else:
        lines.append("Dissent: none (specialists agreed)")
    if d.review:
        lines.append(f"Human review: {describe_review(d.review)}"
                     + (f" [{d.review.evidence_id}]" if d.review.evidence_id else ""))
    if d.next_steps:
        lines.append("")
        lines.append("Next steps:")
        lines.extend(f"  - {s}" for s in d.next_steps)
    if ledger is not None:
        lines.append("")
        lines.append("Evidence cited:")
        for eid in d.cited_ids():
            ev = ledger.get(eid)
            lines.append(f"  [{eid}] {ev.statement if ev else '(missing)'}")
    lines.append("")
    v = d.verification
    status = "all citations verified" if v.verified else "VERIFICATION FAILED"
    lines.append(f"Verification: {status} ({v.checked} checked"
                 + (f", {len(v.removed)} removed" if v.removed else "") + ")")
    for f in v.failures:
        lines.append(f"  [{f.id}] {f.reason}")
    if issues:
        lines.append("Issues:")
        lines.extend(f"  - {i}" for i in issues)
    return "\n".join(lines)


def render_markdown(diagnosis: Diagnosis, ledger: Ledger | None = None, issues: list[str] | None = None) -> str:
    """Markdown report with a differential table and the cited evidence."""
    d = diagnosis
    out = [(f"## Diagnosis: {d.primary.name}" + (f" ({d.primary.icd10})" if d.primary.icd10 else "")
            if d.supported else f"## Diagnosis: none supported by this case (nearest: {d.primary.name})"), ""]
    out += [f"**Coverage:** {COVERAGE_TEXT[d.coverage]}; none of these {_pct(d.none_probability)}", ""]
    if d.unexplained:
        out += [f"**Unexplained findings:** {_refs(d.unexplained)}", ""]
    if d.refer_to:
        out += [f"**Should be seen by:** {', '.join(d.refer_to)}", ""]
    if d.consulted:
        out += [f"**Specialists consulted:** {', '.join(d.consulted)}", ""]
    out += ["| # | Condition | ICD-10 | Probability | For | Against | Explains | Leaves unexplained |",
            "|---|---|---|---|---|---|---|---|"]
    for i, item in enumerate(d.differential, 1):
        out.append(f"| {i} | {item.name} | {item.icd10 or ''} | {_pct(item.probability)} | "
                   f"{_cites(item.supporting)} | {_cites(item.opposing)} | {_refs(item.explains)} | "
                   f"{_refs(item.unexplained)} |")
    if d.rationale:
        out += ["", "### Rationale", ""] + [f"- {s.text}" for s in d.rationale]
    out += ["", "### Dissent", ""]
    out += [f"- **{x.specialty}**: {x.their_primary} ({_pct(x.their_probability)}). {x.resolution}"
            for x in d.dissent] or ["- none: the specialists agreed"]
    if d.review:
        out += ["", f"**Human review:** {describe_review(d.review)}"]
    if d.next_steps:
        out += ["", "### Next steps", ""] + [f"- {s}" for s in d.next_steps]
    if ledger is not None:
        out += ["", "### Evidence", "", "| id | kind | statement |", "|---|---|---|"]
        for eid in d.cited_ids():
            ev = ledger.get(eid)
            out.append(f"| {eid} | {ev.kind if ev else '?'} | {ev.statement if ev else '(missing)'} |")
    v = d.verification
    out += ["", f"**Verification:** {'all citations verified' if v.verified else 'FAILED'} ({v.checked} checked)"]
    if issues:
        out += ["", "### Issues", ""] + [f"- {i}" for i in issues]
    return "\n".join(out)


def _link_citations(text: str) -> str:
    """Escape text and turn ``[E3]`` citations into links to the evidence rows."""
    escaped = html.escape(text)

    def repl(m: re.Match[str]) -> str:
        ids = [x.strip() for x in m.group(1).split(",")]
        return "".join(f'<a href="#ev-{i}" class="wr-cite">[{i}]</a>' for i in ids)

    return CITATION_RE.sub(repl, escaped)


_CSS = ("<style>.wr table{border-collapse:collapse;font-size:13px;margin:4px 0}.wr td,.wr th{border:1px solid #ccc;"
        "padding:3px 6px;text-align:left!important;vertical-align:top}.wr th{background:#f3f5f7}.wr .ok{color:#17803d}"
        ".wr .bad{color:#b42318;font-weight:600}.wr a.wr-cite{text-decoration:none;color:#175cd3}"
        ".wr h3,.wr h4{margin:8px 0 4px}</style>")


def render_ledger_html(ledger: Ledger, ids: list[str] | None = None) -> str:
    """Evidence table; each row has an anchor ``ev-<id>`` that citations link to."""
    rows = []
    for ev in ledger:
        if ids is not None and ev.id not in ids:
            continue
        detail = ev.quote if ev.kind == "note" else (ev.field or ev.tool or ev.artifact_path or
                                                      ", ".join(ev.derived_from))
        value = "" if ev.value is None else f"{ev.value}{(' ' + ev.unit) if ev.unit else ''}"
        rows.append(f'<tr id="ev-{ev.id}"><td><b>{ev.id}</b></td><td>{ev.kind}</td><td>{html.escape(ev.producer)}</td>'
                    f"<td>{html.escape(ev.statement)}</td><td>{html.escape(str(value))}</td>"
                    f"<td><code>{html.escape(str(detail or ''))}</code></td></tr>")
    return (f'{_CSS}<div class="wr"><table><tr><th>id</th><th>kind</th><th>producer</th><th>statement</th>'
            f"<th>value</th><th>source</th></tr>{''.join(rows)}</table></div>")


def _diff_rows(items: list[DifferentialItem]) -> str:
    def cites(ids: list[str]) -> str:
        return "".join(f'<a href="#ev-{i}" class="wr-cite">[{i}]</a>' for i in ids)

    return "".join(f"<tr><td>{i}</td><td>{html.escape(x.name)}</td><td>{x.icd10 or ''}</td><td>{_pct(x.probability)}"
                   f"</td><td>{cites(x.supporting)}</td><td>{cites(x.opposing)}</td></tr>"
                   for i, x in enumerate(items, 1))


def render_diagnosis_html(d: Diagnosis) -> str:
    """HTML block for a diagnosis: primary, differential table, rationale with linked citations."""
    v = d.verification
    status = (f'<span class="ok">all {v.checked} citations of the diagnosis verified</span>' if v.verified
              else f'<span class="bad">verification failed: {html.escape("; ".join(f.id + " " + f.reason for f in v.failures))}</span>')
    title = html.escape(d.primary.name) if d.supported else \
        f"No supported diagnosis <small>(nearest condition considered: {html.escape(d.primary.name)})</small>"
    parts = [_CSS, '<div class="wr">', f"<h3>{title} "
             f"<small>({d.primary.icd10 or ''}, {_pct(d.primary.probability)})</small></h3>"]
    if d.consulted:
        parts.append(f"<p><b>Consulted:</b> {html.escape(', '.join(d.consulted))}</p>")
    parts.append("<table><tr><th>#</th><th>condition</th><th>ICD-10</th><th>p</th><th>for</th><th>against</th></tr>"
                 + _diff_rows(d.differential) + "</table>")
    if d.rationale:
        parts.append("<h4>Rationale</h4><ul>" + "".join(f"<li>{_link_citations(s.text)}</li>" for s in d.rationale)
                     + "</ul>")
    if d.dissent:
        parts.append("<h4>Dissent</h4><ul>" + "".join(
            f"<li><b>{html.escape(x.specialty)}</b>: {html.escape(x.their_primary)} ({_pct(x.their_probability)})."
            f" {html.escape(x.resolution)}</li>" for x in d.dissent) + "</ul>")
    if d.review:
        parts.append(f"<p><b>Human review:</b> {html.escape(describe_review(d.review))}</p>")
    if d.next_steps:
        parts.append("<h4>Next steps</h4><ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in d.next_steps) + "</ul>")
    parts.append(f"<p>{status}</p></div>")
    return "".join(parts)


def render_opinion_html(op: Opinion) -> str:
    """HTML block for one specialist's opinion."""
    return (f'{_CSS}<div class="wr"><h4>{html.escape(op.specialty)} <small>({html.escape(op.agent)})</small></h4>'
            f"<p>{_link_citations(op.summary)}</p><table><tr><th>#</th><th>condition</th><th>ICD-10</th><th>p</th>"
            f"<th>for</th><th>against</th></tr>{_diff_rows(op.differential)}</table></div>")


def render_case_html(case: Case) -> str:
    """HTML summary of a case: demographics, vitals, labs, note."""
    vit = ", ".join(f"{k} {v:g}" for k, v in case.vitals.model_dump().items() if v is not None)
    labs = "".join(f"<tr><td>{html.escape(lab.name)}</td><td>{lab.value}</td><td>{html.escape(lab.unit)}</td></tr>"
                   for lab in case.labs)
    hist = "; ".join(case.history.conditions)
    return (f'{_CSS}<div class="wr"><h3>Case {html.escape(case.id)}</h3><p><b>{case.age if case.age is not None else "?"}'
            f" y, {case.sex}</b>" + (f" &mdash; {html.escape(case.chief_complaint)}" if case.chief_complaint else "")
            + f"</p><p><b>Vitals:</b> {html.escape(vit) or '-'}</p><p><b>History:</b> {html.escape(hist) or '-'}</p>"
            + (f"<table><tr><th>lab</th><th>value</th><th>unit</th></tr>{labs}</table>" if labs else "")
            + f"<p style='white-space:pre-wrap'>{html.escape(case.note)}</p></div>")


def render_result_html(result: WardResult) -> str:
    """HTML for a whole ward round: diagnosis, opinions, cited evidence table, issues."""
    parts: list[str] = []
    if result.diagnosis:
        parts.append(render_diagnosis_html(result.diagnosis))
    for op in result.opinions:
        parts.append(render_opinion_html(op))
    parts.append("<h4>Evidence</h4>" + render_ledger_html(result.ledger))
    if result.issues:
        parts.append("<h4>Issues</h4><ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in result.issues) + "</ul>")
    return "".join(parts)


def jsonable(model: BaseModel) -> dict[str, Any]:
    """JSON-mode dump of any report model."""
    return model.model_dump(mode="json")
