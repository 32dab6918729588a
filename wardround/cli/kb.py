"""``wardround kb``: check the knowledge base, print its figures, show a condition with its sources."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from wardround.cli.common import console, fail, handle_errors

app = typer.Typer(help="Knowledge base: validate it, print its figures, show a condition.", no_args_is_help=True)

_KNOWLEDGE = typer.Option("--knowledge", help="knowledge folder (default: the shipped one)")
_EXTRA = typer.Option("--extra", help="a folder that extends the knowledge base (repeatable)")
_KINDS = (("likelihood_ratio", "likelihood ratios"), ("sensitivity_specificity", "sensitivity/specificity"),
          ("frequency", "frequency with a base rate"), ("estimate", "estimates"))


def _load(knowledge: Path | None, extra: list[Path] | None, path: Path | None = None,
          checked: bool = False):  # noqa: ANN202
    """The knowledge base of the options; ``path`` is a full knowledge folder, or an extension of the shipped one.
    ``checked``: record every loading problem and return ``(kb, problems)`` instead of stopping at the first."""
    from wardround.knowledge.loader import load_knowledge, load_knowledge_checked

    extra = list(extra or [])
    if path is not None:
        if (path / "specialties.yaml").exists() and (path / "findings.yaml").exists():
            knowledge = path
        else:
            extra.append(path)
    if checked:
        return load_knowledge_checked(knowledge, extra)
    return load_knowledge(knowledge, extra)


def _print_report(report, over: bool, as_json: bool) -> None:  # noqa: ANN001
    from wardround.knowledge.validate import MAX_ESTIMATE_FRACTION

    if as_json:
        typer.echo(json.dumps({**report.model_dump(), "estimate_fraction": round(report.estimate_fraction, 4)},
                              indent=2))
        return
    out = console.print
    out(f"knowledge base {report.source}", markup=False, highlight=False)
    out(f"  {report.specialties} specialties, {report.conditions} conditions ({report.criteria} defined by "
        f"published criteria), {report.findings} findings, {report.references} references confirmed",
        highlight=False)
    out(f"  per-finding values: {report.finding_values}", highlight=False)
    for kind, label in _KINDS:
        n = report.by_kind.get(kind, 0)
        share = n / report.finding_values if report.finding_values else 0.0
        out(f"    {label:<28} {n:>5}  {share:6.1%}", highlight=False)
    out(f"  estimates {report.estimate_fraction:.1%} of values (target <= {MAX_ESTIMATE_FRACTION:.0%})"
        + ("  OVER TARGET" if over else ""), highlight=False)


@app.command("validate")
def validate_command(
    path: Annotated[Path | None, typer.Argument(help="a knowledge folder, or a folder that extends the shipped "
                                                "one (conditions/*.yaml); default: the shipped knowledge base")] = None,
    knowledge: Annotated[Path | None, _KNOWLEDGE] = None,
    extra: Annotated[list[Path] | None, _EXTRA] = None,
    strict: Annotated[bool, typer.Option("--strict", help="also fail when more than 10 % of per-finding values "
                                         "are estimates")] = False,
    overlaps: Annotated[bool, typer.Option("--overlaps", help="list the note phrases that more than one finding "
                                           "reads")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="show tracebacks")] = False,
) -> None:
    """Load the knowledge base, check ICD-10 codes and references, count values by kind; exit 1 on any problem."""
    from wardround.knowledge.validate import MAX_ESTIMATE_FRACTION, KBProblem, validate_knowledge

    with handle_errors(debug):
        kb, load_problems = _load(knowledge, extra, path, checked=True)
        report = validate_knowledge(kb)
    if load_problems:
        loaded = [KBProblem(where=m.split(": ", 1)[0], problem=m.split(": ", 1)[-1], fix="") for m in load_problems]
        report = report.model_copy(update={"problems": loaded + report.problems})
    over = report.estimate_fraction > MAX_ESTIMATE_FRACTION
    _print_report(report, over, as_json)
    if not as_json:
        console.print(f"  {len(report.overlaps)} note phrases are read by more than one finding"
                      + ("" if overlaps else " (--overlaps lists them)"), highlight=False)
        if overlaps:
            for phrase, ids in report.overlaps.items():
                console.print(f"    {phrase!r}: {', '.join(ids)}", markup=False, highlight=False)
        for p in report.problems:
            console.print(f"  problem: {p.where}: {p.problem}" + (f"; {p.fix}" if p.fix else ""), markup=False,
                          highlight=False)
        console.print("  ok" if report.ok else f"  {len(report.problems)} problem(s)", highlight=False)
    if not report.ok or (strict and over):
        raise typer.Exit(1)


@app.command("stats")
def stats_command(
    knowledge: Annotated[Path | None, _KNOWLEDGE] = None,
    extra: Annotated[list[Path] | None, _EXTRA] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the figures as JSON")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="show tracebacks")] = False,
) -> None:
    """Print the knowledge base's figures: specialties, conditions per specialty, values by evidence kind."""
    from wardround.knowledge.validate import MAX_ESTIMATE_FRACTION, validate_knowledge

    with handle_errors(debug):
        kb = _load(knowledge, extra)
        report = validate_knowledge(kb)
    _print_report(report, report.estimate_fraction > MAX_ESTIMATE_FRACTION, as_json)
    if as_json:
        return
    console.print("  conditions per specialty:", highlight=False)
    for spec_id, n in report.per_specialty.items():
        console.print(f"    {kb.specialties[spec_id].name:<40} {n:>3}", markup=False, highlight=False)


@app.command("show")
def show_command(
    condition: Annotated[str, typer.Argument(help="condition id, name or alias, e.g. 'dka' or 'Acute gout'")],
    knowledge: Annotated[Path | None, _KNOWLEDGE] = None,
    extra: Annotated[list[Path] | None, _EXTRA] = None,
    debug: Annotated[bool, typer.Option("--debug", help="show tracebacks")] = False,
) -> None:
    """Print a condition: ICD-10, prior and population, every finding's evidence with its source, criteria."""
    with handle_errors(debug):
        kb = _load(knowledge, extra)
        cond = kb.find_condition(condition)
        if cond is None:
            from difflib import get_close_matches

            from wardround.knowledge import normalize_name

            names = {normalize_name(c.name): c.name for c in kb.conditions.values()}
            near = get_close_matches(normalize_name(condition), list(names), n=3, cutoff=0.5)
            hint = f"did you mean {', '.join(repr(names[n]) for n in near)}?" if near else \
                "list them with 'wardround kb stats' or look in conditions/*.yaml"
            fail("CONDITION", f"no condition {condition!r} in the knowledge base", hint)
        for line in condition_lines(kb, cond):
            console.print(line, markup=False, highlight=False)


def condition_lines(kb, cond) -> list[str]:  # noqa: ANN001
    """A condition as readable lines, every number beside its source (``wardround kb show``)."""

    def source(ref: str) -> str:
        entry = kb.references.get(ref)
        return f"{ref} ({entry.citation})" if entry else ref

    spec = kb.specialties[cond.specialty].name
    lines = [f"{cond.name} [{cond.id}]  ICD-10 {cond.icd10}  ({spec})"]
    if cond.aliases:
        lines.append(f"  also: {', '.join(cond.aliases)}")
    low, high = cond.ages
    who = (f"ages {low or 0}-{high:g}" if high is not None else f"ages {low or 0}+") + \
        (f", {cond.sex}" if cond.sex else "")
    lines.append(f"  prior {cond.prior:g} in {cond.prior_context} ({who})")
    lines.append(f"    source: {source(cond.prior_reference)}")
    if cond.presenting:
        lines.append("  presenting: " + ", ".join(kb.findings[f].name for f in cond.presenting))
    lines.append("  findings:")
    for fid, lr in cond.findings.items():
        parts = []
        if lr.sens is not None:
            parts.append(f"sens {lr.sens:g} spec {lr.spec:g}")
        if lr.frequency is not None:
            parts.append(f"frequency {lr.frequency:g} vs base rate {lr.base_rate:g}")
        parts += [f"LR+ {lr.lr_pos:g}"] if lr.lr_pos is not None else []
        parts += [f"LR- {lr.lr_neg:g}"] if lr.lr_neg is not None else []
        lines.append(f"    {kb.findings[fid].name}: {', '.join(parts)}  [{lr.kind.replace('_', ' ')}]")
        lines.append(f"      source: {source(lr.reference)}")
        if lr.base_reference:
            lines.append(f"      base rate: {source(lr.base_reference)}")
    for c in cond.criteria:
        kind = "definition" if c.definitional else f"classification criteria, sens {c.sens:g} spec {c.spec:g}"
        lines.append(f"  criteria: {c.name} ({kind}); source: {source(c.reference)}")
        for g in c.groups:
            names = ", ".join(kb.findings[f].name for f in g.of)
            lines.append(f"    {g.label}: at least {g.min} of {names}")
    if cond.explains:
        lines.append("  also explains: " + ", ".join(kb.findings[f].name for f in cond.explains))
    if cond.next_steps:
        lines.append("  next steps:")
        lines += [f"    - {step}" for step in cond.next_steps]
    if cond.calculators:
        lines.append("  calculators: " + ", ".join(cond.calculators))
    return lines


@app.command("list")
def list_command(
    knowledge: Annotated[Path | None, _KNOWLEDGE] = None,
    extra: Annotated[list[Path] | None, _EXTRA] = None,
    markdown: Annotated[bool, typer.Option("--markdown", help="print a Markdown table (docs/knowledge_conditions.md)")]
    = False,
    debug: Annotated[bool, typer.Option("--debug", help="show tracebacks")] = False,
) -> None:
    """List every condition: specialty, ICD-10, prior and population, sourced values, criteria."""
    with handle_errors(debug):
        kb = _load(knowledge, extra)
    rows = []
    for cond in kb.conditions.values():
        sourced = sum(lr.kind != "estimate" for lr in cond.findings.values())
        prior_src = "estimate" if cond.prior_reference.startswith("unverified:") else cond.prior_reference
        crit = "; ".join(c.name for c in cond.criteria) or "-"
        rows.append((cond.name, kb.specialties[cond.specialty].name, cond.icd10,
                     f"{cond.prior:g} ({cond.prior_context}; {prior_src})", f"{sourced}/{len(cond.findings)}", crit))
    if markdown:
        typer.echo("| Condition | Specialty | ICD-10 | Prior (population; source) | Sourced values | Criteria |")
        typer.echo("|---|---|---|---|---|---|")
        for r in rows:
            typer.echo("| " + " | ".join(x.replace("|", "/") for x in r) + " |")
        return
    for name, spec, icd, _prior, values, crit in rows:
        console.print(f"{name} ({icd}) - {spec}; values {values}; criteria: {crit}", markup=False, highlight=False)
