"""The embedded knowledge-based reasoner: rules triage, Bayesian specialists and a pooling attending.

No model, no network: every number comes from the shipped knowledge base (priors and likelihood ratios with
their references) and from the case's own evidence, and every claim cites the evidence ids it rests on.
"""

from __future__ import annotations

import logging
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wardround.agents.base import AgentOutput
from wardround.agents.intake import FindingStatus, finding_status
from wardround.case import Case, ImagingStudy
from wardround.config import WardConfig
from wardround.errors import CaseError
from wardround.evidence import Evidence, EvidenceWriter, Ledger
from wardround.knowledge import Condition, KnowledgeBase, load_knowledge
from wardround.knowledge.bayes import post_test_probability
from wardround.report import (
    Diagnosis,
    DifferentialItem,
    Dissent,
    Opinion,
    RationaleSentence,
    TriageDecision,
    Verification,
)

log = logging.getLogger(__name__)

ATTENDING_PREFIX = "AT"


def _pct(p: float) -> str:
    return f"{100 * p:.0f}%" if p >= 0.01 else "<1%"


def _cite(ids: list[str]) -> str:
    return "".join(f"[{i}]" for i in ids)


# ---------------------------------------------------------------------------------------------------------
# Triage


class RulesTriage:
    """Scores specialties by the triage affinity of the findings present in the case."""

    name = "rules"

    def __init__(self, kb: KnowledgeBase | None = None) -> None:
        self.kb = kb or load_knowledge()

    def triage(self, case: Case, ledger: Ledger, config: WardConfig) -> tuple[TriageDecision, AgentOutput]:
        """Consult the specialties whose score reaches ``min_triage_share`` of the best, at most ``max_specialists``."""
        kb = self.kb
        allowed = config.specialties or list(kb.specialties)
        unknown = [s for s in allowed if s not in kb.specialties]
        if unknown:
            raise CaseError("specialties", f"unknown specialty {unknown[0]!r}",
                            f"use one of: {', '.join(kb.specialties)}")
        status = finding_status(ledger)
        if not status:
            raise CaseError("note", "the case has no note text and no findings wardround can use",
                            "add a clinical note or structured vitals, labs or history")
        scores = {s: 0.0 for s in allowed}
        reasons: dict[str, list[tuple[float, str, str]]] = {s: [] for s in allowed}
        for fid, st in status.items():
            weight = 1.0 if st.present else 0.2  # an explicitly absent finding still says where to look
            for spec, affinity in kb.findings[fid].specialties.items():
                if spec in scores:
                    scores[spec] += weight * affinity
                    if st.present:
                        reasons[spec].append((affinity, kb.findings[fid].name, st.ids[0]))
        best = max(scores.values())
        ranked = sorted(allowed, key=lambda s: (-scores[s], allowed.index(s)))
        chosen = [s for s in ranked if scores[s] > 0 and scores[s] >= config.min_triage_share * best]
        chosen = chosen[: config.max_specialists] or ranked[:1]
        cited: list[str] = []
        parts = []
        for s in chosen:
            top = sorted(reasons[s], key=lambda r: -r[0])[:3]
            cited.extend(r[2] for r in top)
            why = ", ".join(f"{r[1]} [{r[2]}]" for r in top) or "explicitly absent findings only"
            parts.append(f"{kb.specialties[s].name} (score {scores[s]:.1f}: {why})")
        decision = TriageDecision(
            specialties=chosen,
            scores={s: round(v, 3) for s, v in scores.items() if v > 0},
            rationale="Consulting " + "; ".join(parts) + ".",
            cited=list(dict.fromkeys(cited)),
            agent="rules",
        )
        return decision, AgentOutput()


# ---------------------------------------------------------------------------------------------------------
# Specialist


#: A condition enters a specialist's differential only when the case's findings together favour it by at least
#: this factor (the product of their likelihood ratios, i.e. post-test odds / pre-test odds) and, when the
#: condition names presenting findings, one of them is present. Priors describe a presenting population (women
#: with urinary symptoms, adults undergoing lumbar puncture ...); a lone weak finding such as fever (LR 1.5)
#: is no reason to think the patient belongs to it, while several concordant ones can be.
ENTRY_LR = 2.0
#: ... or, inside its presenting population, the condition is more likely than not (a ureteral stone in a patient
#: with flank pain: 63 % before any further finding).
ENTRY_PROBABILITY = 0.5


@dataclass
class _Update:
    condition: Condition
    probability: float
    lrs: list[float]
    contributions: list[dict]
    supporting: list[str]
    opposing: list[str]
    in_population: bool = True

    @property
    def enters(self) -> bool:
        """Whether the patient is in the condition's presenting population and either the findings together
        favour it by at least ENTRY_LR or it is more likely than not (ENTRY_PROBABILITY)."""
        return self.in_population and (math.prod(self.lrs) >= ENTRY_LR or self.probability >= ENTRY_PROBABILITY)


def bayes_update(condition: Condition, status: dict[str, FindingStatus]) -> _Update:
    """Post-test probability of ``condition`` from the observed findings (LR+ if present, LR- if absent)."""
    lrs: list[float] = []
    contributions: list[dict] = []
    supporting: list[str] = []
    opposing: list[str] = []
    for fid, lr_info in condition.findings.items():
        st = status.get(fid)
        if st is None:
            continue
        lr = lr_info.lr_pos if st.present else lr_info.lr_neg
        if lr is None or lr == 1.0:
            continue
        lrs.append(lr)
        contributions.append({"finding": fid, "present": st.present, "lr": lr, "evidence": st.ids[:3],
                              "reference": lr_info.reference})
        (supporting if lr > 1.0 else opposing).extend(st.ids[:3])
    p = post_test_probability(condition.prior, lrs)
    in_population = not condition.presenting or any(
        (st := status.get(fid)) is not None and st.present for fid in condition.presenting)
    return _Update(condition, p, lrs, contributions, list(dict.fromkeys(supporting)),
                   list(dict.fromkeys(opposing)), in_population)


def record_update(u: _Update, kb: KnowledgeBase, writer: EvidenceWriter,
                  specialty: str) -> tuple[Evidence, DifferentialItem]:
    """Write ``u`` as recomputable ``bayes:`` evidence and return it with the differential item that cites it."""
    c = u.condition
    lr_text = ", ".join(f"{kb.findings[x['finding']].name} {'+' if x['present'] else '-'} LR {x['lr']:g}"
                        for x in u.contributions) or "no informative findings"
    ev = writer.add(
        "tool",
        f"Post-test probability of {c.name}: {_pct(u.probability)} (pre-test {_pct(c.prior)}; {lr_text})",
        tool=f"bayes:{c.id}",
        inputs={"prior": c.prior, "lrs": u.lrs, "findings": u.contributions, "candidate": u.enters},
        value=round(u.probability, 4),
        derived_from=list(dict.fromkeys(u.supporting + u.opposing)),
        reference=c.prior_reference,
    )
    item = DifferentialItem(condition=c.id, name=c.name, icd10=c.icd10, probability=round(u.probability, 4),
                            specialty=specialty, supporting=[ev.id, *u.supporting], opposing=u.opposing)
    return ev, item


class RulesSpecialist:
    """Bayesian update over the specialty's conditions; records each update as recomputable evidence."""

    name = "rules"

    def __init__(self, kb: KnowledgeBase | None = None) -> None:
        self.kb = kb or load_knowledge()

    def consult(self, specialty: str, case: Case, ledger: Ledger,
                config: WardConfig) -> tuple[Opinion, AgentOutput]:
        """Rank the specialty's conditions by post-test probability and cite every contributing finding."""
        kb = self.kb
        spec = kb.specialties[specialty]
        writer = EvidenceWriter(spec.prefix, specialty, ledger.entries)
        issues: list[str] = []
        imaging = self._image(specialty, case, ledger, writer, config, issues)
        work = Ledger(entries={**ledger.entries, **writer.items})
        status = finding_status(work)
        # A condition outside its presenting population, or which the findings do not favour by ENTRY_LR, is not
        # a candidate for this case: its pre-test probability describes other patients. Candidates rank first.
        updates = sorted((bayes_update(c, status) for c in kb.conditions_for(specialty)),
                         key=lambda u: (not u.enters, -u.probability, u.condition.id))
        items: list[DifferentialItem] = []
        supported = [u for u in updates if u.enters]
        # Only candidates enter the differential; with none, the most probable condition is kept so the
        # attending sees the specialty's view, and the summary says no finding supports it strongly enough.
        shown = supported[: config.differential_size] or updates[:1]
        for u in shown:
            items.append(record_update(u, kb, writer, specialty)[1])
        extra = {}
        for img in imaging:
            if img.tool == "segmentation:hemorrhage" and isinstance(img.value, int | float):
                extra["hematoma_volume"] = (float(img.value), img.id)
        calculations = self._calculate(shown if supported else [], case, work, writer, config, extra)
        top = items[0]
        top_update = updates[0]
        strongest = sorted((x for x in top_update.contributions if x["lr"] > 1), key=lambda x: -x["lr"])[:3]
        why = ", ".join(f"{kb.findings[x['finding']].name} (LR+ {x['lr']:g}) {_cite(x['evidence'][:1])}"
                        for x in strongest)
        if supported:
            summary = f"{spec.name}: most likely {top.name}, {_pct(top.probability)} [{top.supporting[0]}]"
            summary += f", supported by {why}." if why else "."
        else:
            summary = (f"{spec.name}: no {spec.name.lower()} condition is a candidate in this case (a presenting "
                       f"finding and findings that together favour it by a likelihood ratio of {ENTRY_LR:g} or more); {top.name} is "
                       f"listed for completeness [{top.supporting[0]}].")
        if len(items) > 1:
            second = items[1]
            summary += f" Next: {second.name}, {_pct(second.probability)} [{second.supporting[0]}]."
        if imaging:
            summary += " Imaging: " + "; ".join(f"{ev.statement} [{ev.id}]" for ev in imaging) + "."
        if calculations:
            summary += " Calculated: " + "; ".join(f"{ev.statement} [{ev.id}]" for ev in calculations) + "."
        opinion = Opinion(specialty=specialty, agent="rules", summary=summary, differential=items,
                          evidence_ids=list(writer.items), confidence=top.probability if supported else 0.0,
                          calculations=[ev.id for ev in imaging] + [ev.id for ev in calculations])
        return opinion, AgentOutput(evidence=list(writer.items.values()), issues=issues)

    def _image(self, specialty: str, case: Case, ledger: Ledger, writer: EvidenceWriter, config: WardConfig,
               issues: list[str]) -> list[Evidence]:
        """Segment the case's studies this specialty reads; record the measurement and any finding it shows.

        Failures (unreadable file, wrong kind of scan) become issues; the opinion is still given.
        """
        if not config.use_imaging or not case.imaging:
            return []
        out: list[Evidence] = []
        for study in case.imaging:
            plan = imaging_plan(specialty, study)
            if plan is None:
                continue
            method, finding = plan
            from wardround.errors import WardroundError
            from wardround.tools.segmentation import record_evidence, segment_study

            folder = Path(config.run_dir or os.environ.get("WARDROUND_RUN_DIR", "runs")) / _safe(case.id) / specialty
            try:
                result = segment_study(study.path, method, out_dir=folder)
            except WardroundError as exc:
                issues.append(f"{specialty}: {method} segmentation of {Path(study.path).name} failed: {exc}")
                continue
            except (OSError, MemoryError, ValueError, RuntimeError) as exc:  # image readers raise many types
                log.warning("%s: %s segmentation failed", specialty, method, exc_info=True)
                issues.append(f"{specialty}: {method} segmentation of {Path(study.path).name} failed "
                              f"({type(exc).__name__}: {' '.join(str(exc).split())[:160]})")
                continue
            ev = record_evidence(result, writer)
            out.append(ev)
            if finding is not None:
                present = result.volume_ml >= MIN_FINDING_VOLUME_ML
                f = self.kb.findings.get(finding)
                if f is not None:
                    out.append(writer.add(
                        "derived", f"{f.name}: {'yes' if present else 'no'} ({result.volume_ml:.1f} mL segmented; "
                                   f"threshold {MIN_FINDING_VOLUME_ML:g} mL)",
                        derived_from=[ev.id], finding=finding, present=present))
        return out

    def _calculate(self, updates: list[_Update], case: Case, ledger: Ledger, writer: EvidenceWriter,
                   config: WardConfig, extra: dict[str, tuple[float, str]] | None = None) -> list[Evidence]:
        """Run the calculators of the leading conditions whose inputs the case fills; cite every input.

        Inputs are auto-filled from the structured case and the note. A calculator runs when every input is
        found, or when only findings are missing and at least half of the inputs were found: then the missing
        findings are taken as absent (MedCalc-Bench's convention) and the evidence lists them as assumed.
        """
        if not config.use_calculators:
            return []
        from wardround.agents.autofill import run_autofilled
        from wardround.tools.calculators import all_calculators, result_to_evidence

        registry = all_calculators()
        wanted = list(dict.fromkeys(cid for u in updates[:2] for cid in u.condition.calculators if cid in registry))
        out: list[Evidence] = []
        work = Ledger(entries=dict(ledger.entries))
        for cid in wanted:
            calc = registry[cid]
            given = {k: v for k, v in (extra or {}).items() if k in calc.fields}
            result, filled = run_autofilled(cid, case, writer=writer, ledger=work, policy="strict")
            if given:
                result, filled = _with_measurements(cid, filled, given)
            if result is None and filled.missing:
                found = len(calc.fields) - len(filled.missing)
                only_findings = all(calc.fields[f].kind == "finding" for f in filled.missing if f in calc.fields)
                if only_findings and found >= max(2, (len(calc.fields) + 1) // 2):
                    result, filled = run_autofilled(cid, case, writer=writer, ledger=work, policy="assume_normal")
                    if given:
                        result, filled = _with_measurements(cid, filled, given, assume_normal=True)
            work.extend(filled.evidence)
            if result is None:
                log.debug("%s not computed: %s", cid, filled.error or filled.missing)
                continue
            sources = [i for ids in filled.sources.values() for i in ids]
            ev = result_to_evidence(writer, result, derived_from=sources)
            work.add(ev)
            out.append(ev)
        return out


DISSENT_MIN_PROBABILITY = 0.15
"""A specialist whose leading condition stays below this post-test probability has no view worth calling dissent."""

MIN_FINDING_VOLUME_ML = 1.0
"""Smallest segmented volume read as a positive imaging finding (smaller specks are treated as noise)."""


def imaging_plan(specialty: str, study: ImagingStudy) -> tuple[str, str | None] | None:
    """(segmentation method, finding it can show) for a study this specialty reads, or ``None``.

    Neurology reads head CT for haemorrhage (its volume feeds the ICH score) and brain MRI for FLAIR lesions (or
    the brain volume when the sequence is not FLAIR); pulmonology reads chest CT for the lungs.
    """
    region = (study.body_region or "").lower()
    modality = "MR" if study.modality in ("MR", "MRI") else study.modality
    head = region in ("", "head", "brain", "skull", "cranium")
    if specialty == "neurology" and head:
        if modality == "CT":
            return "hemorrhage", "ct_intracranial_haemorrhage"
        if modality == "MR":
            flair = (study.sequence or "").upper() == "FLAIR" or "flair" in Path(study.path).name.lower()
            return ("flair_lesion" if flair else "brain"), None
    if specialty == "pulmonology" and modality == "CT" and region in ("chest", "thorax", "lung", "lungs"):
        return "lungs", None
    return None


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:80] or "case"


def _with_measurements(cid: str, filled: Any, given: dict[str, tuple[float, str]],
                       assume_normal: bool = False) -> tuple[Any, Any]:
    """Recompute an auto-filled calculator with measured inputs (e.g. a segmented volume) and cite them."""
    from wardround.errors import WardroundError
    from wardround.tools.calculators import calculate

    inputs = dict(filled.inputs)
    sources = dict(filled.sources)
    for name, (value, evidence_id) in given.items():
        inputs[name] = value
        sources[name] = [evidence_id]
    missing = [m for m in filled.missing if m not in given]
    updated = filled.model_copy(update={"inputs": inputs, "sources": sources, "missing": missing,
                                        "assumed": [a for a in filled.assumed if a not in given]})
    if missing and not assume_normal:
        return None, updated
    try:
        result = calculate(cid, inputs, assume_normal=assume_normal, unknown="ignore")
    except WardroundError as exc:
        return None, updated.model_copy(update={"error": str(exc)})
    return result, updated


# ---------------------------------------------------------------------------------------------------------
# Attending


class RulesAttending:
    """Pools the specialists' differentials, keeps dissent, writes cited rationale and verifies it."""

    name = "rules"

    def __init__(self, kb: KnowledgeBase | None = None) -> None:
        self.kb = kb or load_knowledge()

    def decide(self, case: Case, ledger: Ledger, opinions: list[Opinion],
               config: WardConfig) -> tuple[Diagnosis, AgentOutput]:
        """Pick the primary diagnosis by post-test probability across specialties and explain it with citations."""
        kb = self.kb
        if not opinions:
            raise CaseError("opinions", "no specialist gave an opinion", "check the triage configuration")
        pooled: dict[str, DifferentialItem] = {}
        votes: dict[str, list[str]] = {}
        for op in opinions:
            for item in op.differential:
                cur = pooled.get(item.condition)
                if cur is None or item.probability > cur.probability:
                    pooled[item.condition] = item
            if op.primary:
                votes.setdefault(op.primary.condition, []).append(op.specialty)
        ranked = sorted(pooled.values(), key=lambda x: (not _supported(x, ledger), -x.probability, x.condition))
        backed = [x for x in ranked if _supported(x, ledger)]
        issues: list[str] = []
        if not backed:
            issues.append("no finding in the case supports any condition in the knowledge base; the differential "
                          "rests on pre-test probabilities alone")
        differential = (backed or ranked)[: config.differential_size]
        consulted = [kb.specialties[op.specialty].name if op.specialty in kb.specialties else op.specialty
                     for op in opinions]
        primary = differential[0]
        rationale: list[RationaleSentence] = []

        def say(text: str, cites: list[str]) -> None:
            cites = list(dict.fromkeys(c for c in cites if c))
            rationale.append(RationaleSentence(text=f"{text} {_cite(cites)}".strip(), citations=cites))

        cond = kb.conditions.get(primary.condition)
        bayes_id = primary.supporting[0] if primary.supporting else None
        if not backed:
            say(f"No condition of the knowledge base is supported by this case: none has a presenting finding "
                f"with findings that together favour it by a likelihood ratio of {ENTRY_LR:g} or more. "
                f"{primary.name} ({_pct(primary.probability)}) is shown as the nearest on pre-test probability, "
                "not as a diagnosis.", [bayes_id])
            diagnosis = Diagnosis(primary=primary, differential=differential, rationale=rationale,
                                  consulted=consulted, next_steps=[f"Clinical assessment: the knowledge base's {len(kb.conditions)} "
                                              "acute conditions do not cover this presentation"],
                                  supported=False)
            diagnosis, repair_issues = verify_and_repair(diagnosis, ledger, case)
            return diagnosis, AgentOutput(issues=issues + repair_issues)
        if cond is not None:
            say(f"{primary.name} is the leading diagnosis: post-test probability {_pct(primary.probability)} "
                f"from a pre-test {_pct(cond.prior)} ({cond.prior_context}).", [bayes_id])
        else:
            say(f"{primary.name} is the leading diagnosis ({_pct(primary.probability)}).", [bayes_id])
        contrib = _contributions(ledger, bayes_id)
        pro = sorted((x for x in contrib if x["lr"] > 1), key=lambda x: -x["lr"])[:4]
        con = sorted((x for x in contrib if x["lr"] < 1), key=lambda x: x["lr"])[:3]
        if pro:
            say("For it: " + "; ".join(f"{_finding_name(kb, x)} ({_lr_label(x)})" for x in pro) + ".",
                [i for x in pro for i in x["evidence"][:1]])
        if con:
            say("Against it: " + "; ".join(f"{_finding_name(kb, x)} ({_lr_label(x)})" for x in con) + ".",
                [i for x in con for i in x["evidence"][:1]])
        calc_ids = [i for op in opinions if any(x.condition == primary.condition for x in op.differential)
                    for i in op.calculations if i in ledger]
        if calc_ids:
            measured = any(ledger[i].kind != "tool" for i in calc_ids)
            say(("Measured and calculated: " if measured else "Calculated: ")
                + "; ".join(ledger[i].statement for i in calc_ids) + ".", calc_ids)
        if len(differential) > 1:
            second = differential[1]
            second_bayes = second.supporting[0] if second.supporting else None
            gap = primary.probability - second.probability
            verdict = "a close alternative that still needs to be excluded" if gap < 0.15 else "less likely"
            say(f"{second.name} ({_pct(second.probability)}) is {verdict}.", [second_bayes])

        dissent: list[Dissent] = []
        majority = max(votes.items(), key=lambda kv: len(kv[1])) if votes else None
        for op in opinions:
            if (op.primary is None or op.primary.condition == primary.condition or not _supported(op.primary, ledger)
                    or op.primary.probability < DISSENT_MIN_PROBABILITY):
                continue
            theirs = op.primary
            if majority and len(majority[1]) > len(opinions) / 2 and theirs.condition == majority[0]:
                resolution = (f"Majority view overruled: {primary.name} has the higher post-test probability "
                              f"({_pct(primary.probability)} vs {_pct(theirs.probability)}).")
            elif theirs.probability >= 0.5:
                resolution = (f"Not adopted but kept open: {theirs.name} is also likely ({_pct(theirs.probability)}); "
                              f"{primary.name} is higher ({_pct(primary.probability)}), so both stay on the differential.")
            else:
                resolution = (f"Not adopted: {theirs.name} reaches {_pct(theirs.probability)} against "
                              f"{_pct(primary.probability)} for {primary.name}.")
            dissent.append(Dissent(specialty=op.specialty, their_primary=theirs.name,
                                   their_probability=theirs.probability, resolution=resolution))
        if dissent:
            say("Dissent considered: " + "; ".join(f"{kb.specialties[d.specialty].name if d.specialty in kb.specialties else d.specialty}"
                                                   f" favoured {d.their_primary} ({_pct(d.their_probability)})"
                                                   for d in dissent) + ".",
                [op.primary.supporting[0] for op in opinions
                 if op.primary and op.primary.supporting and op.specialty in {d.specialty for d in dissent}])

        next_steps = list(cond.next_steps) if cond else []
        if len(differential) > 1 and differential[1].probability >= 0.25:
            alt = kb.conditions.get(differential[1].condition)
            if alt and alt.next_steps:
                next_steps.append(f"To exclude {alt.name}: {alt.next_steps[0]}")
        diagnosis = Diagnosis(primary=primary, differential=differential, rationale=rationale, dissent=dissent,
                              consulted=consulted, next_steps=next_steps)
        diagnosis, repair_issues = verify_and_repair(diagnosis, ledger, case)
        return diagnosis, AgentOutput(issues=issues + repair_issues)


def _supported(item: DifferentialItem, ledger: Ledger) -> bool:
    """Whether the case backs ``item``: its probability record marks it a candidate (see ``_Update.enters``).

    An item without a probability record (a model's own candidate) needs at least one cited case fact.
    """
    cited = [ev for ev in (ledger.get(eid) for eid in item.supporting) if ev is not None]
    records = [ev for ev in cited if (ev.tool or "").startswith("bayes:")]
    if records:
        return any(bool((ev.inputs or {}).get("candidate")) for ev in records)
    return bool(cited)


def _contributions(ledger: Ledger, bayes_id: str | None) -> list[dict]:
    ev: Evidence | None = ledger.get(bayes_id) if bayes_id else None
    if ev is None or not ev.inputs:
        return []
    return list(ev.inputs.get("findings", []))


def _lr_label(contribution: dict) -> str:
    return f"{'LR+' if contribution.get('present', True) else 'LR-'} {contribution['lr']:g}"


def _finding_name(kb: KnowledgeBase, contribution: dict) -> str:
    f = kb.findings.get(contribution["finding"])
    name = f.name if f else contribution["finding"]
    return name if contribution.get("present", True) else f"no {name}"


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

    rationale = [RationaleSentence(text=strip_text(s.text), citations=[c for c in s.citations if c not in bad])
                 for s in diagnosis.rationale]

    def clean(item: DifferentialItem) -> DifferentialItem:
        return item.model_copy(update={"supporting": [i for i in item.supporting if i not in bad],
                                       "opposing": [i for i in item.opposing if i not in bad]})

    repaired = diagnosis.model_copy(update={
        "rationale": rationale,
        "primary": clean(diagnosis.primary),
        "differential": [clean(x) for x in diagnosis.differential],
    })
    again = ledger.verify(case, repaired.cited_ids())
    repaired.verification = Verification(verified=again.ok, checked=report.checked, failures=again.failures,
                                         removed=sorted(bad))
    for issue in issues:
        log.warning(issue)
    return repaired, issues
