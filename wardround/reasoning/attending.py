"""The attending's reasoning: pool the opinions over one posterior, judge coverage, keep dissent, cite it all.

Used by the rules attending, by human review, and to check a chat model's differential against the case's
findings. Reports are built here from structured data (items, records, verdicts), never by editing rendered text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from wardround.case import Case
from wardround.config import WardConfig
from wardround.evidence import Evidence, EvidenceWriter, Ledger
from wardround.knowledge import KnowledgeBase
from wardround.reasoning.findings import finding_status, patient_of
from wardround.reasoning.hypotheses import (
    ENTRY_LR,
    Assessment,
    Ranking,
    Verdict,
    coverage_verdict,
    explains_itself,
    hypothesis_space,
    likely_source,
    rank,
)
from wardround.reasoning.records import cite, item_for, pct, record_assessment, record_posterior, term_name
from wardround.reasoning.verify import verify_and_repair
from wardround.report import Diagnosis, DifferentialItem, Dissent, FindingRef, Opinion, RationaleSentence

ATTENDING_PREFIX = "AT"

DISSENT_MIN_PROBABILITY = 0.10
"""A specialist whose leading condition holds less than this share of the posterior has no view worth calling
dissent."""


def consulted_names(kb: KnowledgeBase, specialties: Iterable[str]) -> list[str]:
    """Display names of the consulted specialties, each once, in consultation order."""
    return list(dict.fromkeys(kb.specialties[s].name if s in kb.specialties else s for s in specialties))


def case_ranking(kb: KnowledgeBase, ledger: Ledger, config: WardConfig) -> Ranking:
    """The posterior over the whole hypothesis space from every finding in the ledger."""
    return rank(kb, finding_status(ledger), hypothesis_space(kb, config.specialties), patient_of(ledger))


def finding_list(refs: list[FindingRef]) -> str:
    """``fever [E3], petechial rash [E9]`` for a sentence."""
    return ", ".join(f"{r.name} {cite(r.evidence[:1])}".strip() for r in refs)


@dataclass
class _Writer:
    """Collects the rationale: one cited sentence at a time, with its role for later rebuilding."""

    sentences: list[RationaleSentence] = field(default_factory=list)

    def say(self, text: str, cites: Iterable[str | None], kind: str = "", inline: bool = False) -> None:
        """Add a sentence; its citations follow it, or sit inside it already when ``inline``."""
        ids = list(dict.fromkeys(c for c in cites if c))
        body = text if inline else f"{text} {cite(ids)}".strip()
        self.sentences.append(RationaleSentence(text=body, citations=ids, kind=kind))


def leading_sentence(kb: KnowledgeBase, item: DifferentialItem, *, past: bool = False) -> tuple[str, list[str]]:
    """The sentence that names the leading diagnosis (``past``: the ward round's, after a review override)."""
    cond = kb.conditions.get(item.condition)
    verb = "was the ward round's leading diagnosis" if past else "is the leading diagnosis"
    text = f"{item.name} {verb}: {pct(item.probability)} of the posterior over the conditions considered"
    if cond is not None:
        text += f" (pre-test {pct(cond.prior)} in {cond.prior_context})"
    return text + ".", item.supporting[:2]


def _contributions(ledger: Ledger, item: DifferentialItem) -> list[dict]:
    ev = ledger.get(item.supporting[0]) if item.supporting else None
    if ev is None or not (ev.tool or "").startswith("bayes:") or not ev.inputs:
        return []
    return list(ev.inputs.get("findings", []))


def _finding_name(kb: KnowledgeBase, contribution: dict) -> str:
    name = term_name(kb, contribution)
    if contribution.get("criteria"):
        return name  # "meets ..." / "does not meet ..."
    return name if contribution.get("present", True) else f"no {name}"


def _lr_label(contribution: dict) -> str:
    return f"{'LR+' if contribution.get('present', True) else 'LR-'} {contribution['lr']:g}"


def compose_rationale(kb: KnowledgeBase, ledger: Ledger, primary: DifferentialItem,
                      differential: list[DifferentialItem], verdict: Verdict, calc_ids: list[str],
                      dissent: list[Dissent], dissent_ids: list[str]) -> list[RationaleSentence]:
    """The cited rationale of a diagnosis, sentence by sentence, from structured data."""
    w = _Writer()
    if not verdict.supported:
        names = finding_list(verdict.unexplained)
        if verdict.primary is None:
            w.say("No condition of the knowledge base is supported by this case: none has a presenting finding "
                  f"with findings that together favour it by a likelihood ratio of {ENTRY_LR:g} or more.",
                  primary.supporting[:1], "outside")
        else:
            w.say(f"The case is outside what the knowledge base explains: {verdict.reason}.",
                  primary.supporting[:2], "outside")
        if verdict.unexplained:
            w.say(f"Unexplained by any condition considered: {names}.",
                  [i for r in verdict.unexplained for i in r.evidence[:1]], "unexplained", inline=True)
        w.say(f"{primary.name} ({pct(primary.probability)}) is shown only as the nearest condition considered, "
              "not as a diagnosis.", primary.supporting[:1], "nearest")
        if dissent:
            w.say("Specialists' views: " + "; ".join(
                f"{kb.specialties[d.specialty].name if d.specialty in kb.specialties else d.specialty} favoured "
                f"{d.their_primary} ({pct(d.their_probability)})" for d in dissent) + ".", dissent_ids, "dissent")
        return w.sentences
    text, ids = leading_sentence(kb, primary)
    w.say(text, ids, "leading")
    contrib = _contributions(ledger, primary)
    pro = sorted((x for x in contrib if x["lr"] > 1), key=lambda x: -x["lr"])[:4]
    con = sorted((x for x in contrib if x["lr"] < 1 and not x.get("unexplained")), key=lambda x: x["lr"])[:3]
    if pro:
        w.say("For it: " + "; ".join(f"{_finding_name(kb, x)} ({_lr_label(x)})" for x in pro) + ".",
              [i for x in pro for i in x["evidence"][:1]], "for")
    if con:
        w.say("Against it: " + "; ".join(f"{_finding_name(kb, x)} ({_lr_label(x)})" for x in con) + ".",
              [i for x in con for i in x["evidence"][:1]], "against")
    if primary.explains:
        w.say(f"It explains {finding_list(primary.explains)}.", [i for r in primary.explains for i in r.evidence[:1]],
              "explains", inline=True)
    cond = kb.conditions.get(primary.condition)
    source = likely_source(cond, kb, [r.finding for r in primary.explains]) if cond is not None else None
    if source is not None:
        by_source = [r for r in primary.explains if explains_itself(source, r.finding)]
        w.say(f"Likely source: {source.name}, which accounts for {finding_list(by_source)}.",
              [i for r in by_source for i in r.evidence[:1]], "source", inline=True)
    if verdict.unexplained:
        others = [x for x in differential[1:] if {r.finding for r in x.explains} & {r.finding for r in verdict.unexplained}]
        tail = f"; {others[0].name} would account for some of them" if others else ""
        w.say(f"It leaves unexplained: {finding_list(verdict.unexplained)}{tail}.",
              [i for r in verdict.unexplained for i in r.evidence[:1]], "unexplained", inline=True)
    if calc_ids:
        measured = any(ledger[i].kind != "tool" for i in calc_ids if i in ledger)
        w.say(("Measured and calculated: " if measured else "Calculated: ")
              + "; ".join(ledger[i].statement for i in calc_ids if i in ledger) + ".", calc_ids, "calculated")
    if len(differential) > 1:
        second = differential[1]
        gap = primary.probability - second.probability
        verdict_text = "a close alternative that still needs to be excluded" if gap < 0.15 else "less likely"
        w.say(f"{second.name} ({pct(second.probability)}) is {verdict_text}.", second.supporting[:1], "alternative")
    if dissent:
        w.say("Dissent considered: " + "; ".join(
            f"{kb.specialties[d.specialty].name if d.specialty in kb.specialties else d.specialty} favoured "
            f"{d.their_primary} ({pct(d.their_probability)})" for d in dissent) + ".", dissent_ids, "dissent")
    return w.sentences


def _dissent(opinions: list[Opinion], primary: DifferentialItem, ranking: Ranking) -> tuple[list[Dissent], list[str]]:
    """Specialists whose supported leading condition differs from the primary, and how each was resolved."""
    votes: dict[str, list[str]] = {}
    for op in opinions:
        if op.primary:
            votes.setdefault(op.primary.condition, []).append(op.specialty)
    majority = max(votes.items(), key=lambda kv: len(kv[1])) if votes else None
    out: list[Dissent] = []
    ids: list[str] = []
    for op in opinions:
        theirs = op.primary
        if theirs is None or theirs.condition == primary.condition:
            continue
        a = ranking.get(theirs.condition)
        if a is None or not a.enters or a.share < DISSENT_MIN_PROBABILITY:
            continue
        if majority and len(majority[1]) > len(opinions) / 2 and theirs.condition == majority[0]:
            resolution = (f"Majority view overruled: {primary.name} holds more of the posterior "
                          f"({pct(primary.probability)} vs {pct(a.share)}).")
        elif a.share >= 0.3:
            resolution = (f"Not adopted but kept open: {theirs.name} is also likely ({pct(a.share)}); "
                          f"{primary.name} is higher ({pct(primary.probability)}), so both stay on the differential.")
        else:
            resolution = (f"Not adopted: {theirs.name} holds {pct(a.share)} of the posterior against "
                          f"{pct(primary.probability)} for {primary.name}.")
        out.append(Dissent(specialty=op.specialty, their_primary=theirs.name, their_probability=round(a.share, 4),
                           resolution=resolution))
        ids.extend(theirs.supporting[:1])
    return out, ids


def _bayes_record(ledger: Ledger, a: Assessment) -> Evidence | None:
    """A specialist's record of exactly this assessment (same prior and LRs), so the attending need not repeat it."""
    for ev in ledger:
        if ev.tool == f"bayes:{a.condition.id}" and ev.inputs and ev.inputs.get("lrs") == a.lrs \
                and ev.inputs.get("prior") == a.condition.prior:
            return ev
    return None


def decide(kb: KnowledgeBase, case: Case, ledger: Ledger, opinions: list[Opinion],
           config: WardConfig) -> tuple[Diagnosis, list[Evidence], list[str]]:
    """The rules attending: one posterior over every finding in the ledger, judged for coverage, cited, verified.

    Returns:
        the verified diagnosis, the attending's new evidence (``AT`` ids) and issues for the report.
    """
    writer = EvidenceWriter(ATTENDING_PREFIX, "attending", ledger.entries)
    ranking = case_ranking(kb, ledger, config)
    consulted = list(dict.fromkeys(op.specialty for op in opinions))
    among = [c.id for c in kb.conditions.values() if c.specialty in consulted]
    verdict = coverage_verdict(ranking, kb, among)
    posterior = record_posterior(ranking, kb, writer, "attending")
    work = Ledger(entries={**ledger.entries, posterior.id: posterior})
    pool = [a for a in ranking.candidates if a.condition.id in among]
    shown = pool[: config.differential_size]
    if verdict.rival is not None and verdict.rival not in shown:  # the wider explanation is shown beside the leader
        shown = [*shown[: max(1, config.differential_size - 1)], verdict.rival]
    if not shown:  # nothing fits: the nearest condition considered, shown as such
        nearest = [a for a in ranking.hypotheses if a.condition.id in among] or ranking.hypotheses
        # nearest: the largest share of the posterior (the report and the posterior record agree), then the one
        # that explains most of the salient findings
        shown = sorted(nearest, key=lambda a: (-a.share, -len(a.explains), a.condition.id))[:1]
    items: list[DifferentialItem] = []
    for a in shown:
        existing = _bayes_record(ledger, a)
        if existing is None:
            ev, item = record_assessment(a, kb, writer, a.condition.specialty, posterior.id)
            work.add(ev)
        else:
            item = item_for(a, existing.id, a.condition.specialty, posterior.id)
        items.append(item)
    primary = items[0]
    issues: list[str] = []
    outside_top = next((a for a in ranking.candidates if a.condition.id not in among), None)
    if outside_top is not None and outside_top.share > primary.probability:
        issues.append(f"{outside_top.condition.name} ({pct(outside_top.share)}) outweighs the consulted "
                      f"specialties' conditions; consider {kb.specialties[outside_top.condition.specialty].name}")
    dissent, dissent_ids = _dissent(opinions, primary, ranking)
    calc_ids = [i for op in opinions if any(x.condition == primary.condition for x in op.differential)
                for i in op.calculations if i in work] if verdict.supported else []
    rationale = compose_rationale(kb, work, primary, items, verdict, calc_ids, dissent, dissent_ids)
    diagnosis = Diagnosis(primary=primary, differential=items, rationale=rationale, dissent=dissent,
                          consulted=consulted_names(kb, consulted), next_steps=_next_steps(kb, items, verdict),
                          supported=verdict.supported, coverage=verdict.coverage, unexplained=verdict.unexplained,
                          none_probability=round(ranking.none_share, 4), refer_to=verdict.refer_to)
    if not verdict.supported:
        issues.append(f"{'undecided' if verdict.rival is not None else 'outside the knowledge base'}: "
                      f"{verdict.reason}")
    diagnosis, repair_issues = verify_and_repair(diagnosis, work, case)
    return diagnosis, list(writer.items.values()), issues + repair_issues


def _next_steps(kb: KnowledgeBase, items: list[DifferentialItem], verdict: Verdict) -> list[str]:
    if not verdict.supported:
        who = ", ".join(verdict.refer_to) if verdict.refer_to else "the admitting team"
        if verdict.rival is not None and verdict.primary is not None:
            steps = [f"Clinical assessment: {verdict.primary.condition.name} or {verdict.rival.condition.name} "
                     f"({verdict.reason}); the patient should be seen by {who}"]
        else:
            steps = [f"Clinical assessment: the knowledge base does not explain this presentation; "
                     f"the patient should be seen by {who}"]
        if verdict.unexplained:
            steps.append("Work up the unexplained findings: " + ", ".join(r.name for r in verdict.unexplained))
        return steps
    cond = kb.conditions.get(items[0].condition)
    steps = list(cond.next_steps) if cond else []
    if len(items) > 1 and items[1].probability >= 0.25:
        alt = kb.conditions.get(items[1].condition)
        if alt and alt.next_steps:
            steps.append(f"To exclude {alt.name}: {alt.next_steps[0]}")
    if verdict.unexplained and verdict.refer_to:
        steps.append(f"Unexplained findings ({', '.join(r.name for r in verdict.unexplained)}): "
                     f"ask {', '.join(verdict.refer_to)}")
    return steps


def annotate(kb: KnowledgeBase, ledger: Ledger, config: WardConfig,
             items: list[DifferentialItem]) -> tuple[list[DifferentialItem], Ranking]:
    """Fill what each knowledge-base item of a model's differential explains and leaves unexplained."""
    ranking = case_ranking(kb, ledger, config)
    out = []
    for item in items:
        a = ranking.get(item.condition)
        out.append(item if a is None else item.model_copy(update={"explains": a.explains,
                                                                  "unexplained": a.unexplained}))
    return out, ranking
