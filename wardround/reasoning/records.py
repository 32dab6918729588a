"""Write the reasoning core's results as recomputable ledger evidence and differential items."""

from __future__ import annotations

from wardround.evidence import Evidence, EvidenceWriter
from wardround.knowledge import KnowledgeBase
from wardround.reasoning import engine
from wardround.reasoning.hypotheses import Assessment, Ranking
from wardround.report import DifferentialItem


def pct(p: float) -> str:
    """A probability as a whole percentage (``<1%`` below one per cent)."""
    return f"{100 * p:.0f}%" if p >= 0.01 else "<1%"


def cite(ids: list[str]) -> str:
    """Inline citations ``[E1][E2]``."""
    return "".join(f"[{i}]" for i in ids)


def term_name(kb: KnowledgeBase, contribution: dict) -> str:
    """What a term of an assessment weighs: the finding's name, or the criteria it stands for ("meets ...")."""
    f = kb.findings.get(contribution["finding"])
    return f.name if f is not None else contribution["finding"]


def lr_text(kb: KnowledgeBase, contributions: list[dict]) -> str:
    """``fever + LR 1.5, petechial rash unexplained LR 0.25, ...`` for a statement."""
    parts = []
    for x in contributions:
        name = term_name(kb, x)
        if x.get("unexplained"):
            parts.append(f"{name} unexplained LR {x['lr']:g}")
        else:
            parts.append(f"{name} {'+' if x['present'] else '-'} LR {x['lr']:g}")
    return ", ".join(parts) or "no informative findings"


def record_assessment(a: Assessment, kb: KnowledgeBase, writer: EvidenceWriter, specialty: str | None,
                      posterior_id: str | None = None) -> tuple[Evidence, DifferentialItem]:
    """Write ``a`` as recomputable ``bayes:`` evidence and return it with the differential item that cites it.

    The item's probability is the assessment's share of the posterior (``posterior_id`` cites the record that
    recomputes it); the bayes record keeps the condition's own post-test probability in its population.
    """
    c = a.condition
    ev = writer.add(
        "tool",
        f"Post-test probability of {c.name} in its presenting population: {pct(a.probability)} "
        f"(pre-test {pct(c.prior)}; {lr_text(kb, a.contributions)})",
        tool=f"bayes:{c.id}",
        inputs={"prior": c.prior, "lrs": a.lrs, "findings": a.contributions, "candidate": a.enters},
        value=round(a.probability, 4),
        derived_from=list(dict.fromkeys(a.supporting + a.opposing)),
        reference=c.prior_reference,
    )
    return ev, item_for(a, ev.id, specialty, posterior_id)


def item_for(a: Assessment, bayes_id: str, specialty: str | None, posterior_id: str | None) -> DifferentialItem:
    """The differential item of an assessment already recorded as ``bayes_id``."""
    c = a.condition
    supporting = [bayes_id, *([posterior_id] if posterior_id else []), *a.supporting]
    return DifferentialItem(condition=c.id, name=c.name, icd10=c.icd10, probability=round(a.share, 4),
                            specialty=specialty or c.specialty, supporting=list(dict.fromkeys(supporting)),
                            opposing=a.opposing, explains=a.explains, unexplained=a.unexplained)


def record_posterior(ranking: Ranking, kb: KnowledgeBase, writer: EvidenceWriter, scope: str) -> Evidence:
    """Write the normalised posterior over every hypothesis (and "none of these") as one recomputable record."""
    inputs = ranking.posterior_inputs()
    shares = inputs["shares"]
    top = sorted(((k, v) for k, v in shares.items() if k != engine.NONE), key=lambda kv: -kv[1])[:3]
    named = ", ".join(f"{kb.conditions[k].name} {pct(v)}" for k, v in top) or "no condition in its population"
    return writer.add(
        "tool",
        f"Posterior over {len(shares) - 1} competing conditions and none of these: {named}; "
        f"none of these {pct(shares[engine.NONE])}",
        tool=f"posterior:{scope}",
        inputs=inputs,
        value=shares[engine.NONE],
        reference=LEAK_NOTE,
    )


LEAK_NOTE = "DOI:10.1055/s-0038-1634846"
"""Reference recorded on posterior records: the leak model behind unexplained-finding terms (QMR-DT)."""
