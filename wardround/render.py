"""Renderers of cases, evidence and reports: plain text, Markdown and HTML (Jupyter ``_repr_html_``).

They sit above the models they render (``wardround.case``, ``wardround.evidence``, ``wardround.report``) and
register themselves with ``wardround.display``, through which the models' ``to_text``, ``to_markdown`` and
``_repr_html_`` reach them without an upward import.
"""

from __future__ import annotations

import html
import re

from wardround import display
from wardround.case import Case
from wardround.evidence import CITATION_RE, Ledger
from wardround.report import Diagnosis, DifferentialItem, FindingRef, Opinion, ReviewRecord, WardResult


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


def render_result_text(result: WardResult) -> str:
    """Plain-text report of a ward round's diagnosis with its cited evidence and issues."""
    return render_text(result.diagnosis, result.ledger, result.issues) if result.diagnosis else "no diagnosis"


def render_result_markdown(result: WardResult) -> str:
    """Markdown report of a ward round's diagnosis with its cited evidence and issues."""
    return render_markdown(result.diagnosis, result.ledger, result.issues) if result.diagnosis else "no diagnosis"


display.to_html.register(Case, render_case_html)
display.to_html.register(Ledger, render_ledger_html)
display.to_html.register(Opinion, render_opinion_html)
display.to_html.register(Diagnosis, render_diagnosis_html)
display.to_html.register(WardResult, render_result_html)
display.to_text.register(Diagnosis, render_text)
display.to_text.register(WardResult, render_result_text)
display.to_markdown.register(Diagnosis, render_markdown)
display.to_markdown.register(WardResult, render_result_markdown)
