"""The embedded knowledge-based reasoner: rules triage, Bayesian specialists and a pooling attending.

No model, no network: every number comes from the shipped knowledge base (priors and likelihood ratios with
their references) and from the case's own evidence, and every claim cites the evidence ids it rests on.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from wardround.agents.base import AgentOutput, allowed_specialties, artifact_dir, specialty_of
from wardround.case import Case, ImagingStudy
from wardround.config import WardConfig
from wardround.errors import CaseError
from wardround.evidence import Evidence, EvidenceWriter, Ledger
from wardround.knowledge import KnowledgeBase, load_knowledge
from wardround.reasoning import attending
from wardround.reasoning.findings import finding_status, patient_of
from wardround.reasoning.hypotheses import ENTRY_LR, Assessment, hypothesis_space, rank
from wardround.reasoning.records import cite, pct, record_assessment, record_posterior, term_name
from wardround.report import Diagnosis, Opinion, TriageDecision

log = logging.getLogger(__name__)


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
        allowed = allowed_specialties(kb, config)
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
        leading = self._leading(status, allowed, patient_of(ledger), config)
        for spec, _ in leading:  # the specialty of a leading hypothesis is always consulted
            if spec not in chosen:
                chosen = [*chosen[: config.max_specialists - 1], spec] if len(chosen) >= config.max_specialists \
                    else [*chosen, spec]
        lead_of = {spec: a for spec, a in leading}
        cited: list[str] = []
        parts = []
        for s in chosen:
            top = sorted(reasons[s], key=lambda r: -r[0])[:3]
            cited.extend(r[2] for r in top)
            why = ", ".join(f"{r[1]} [{r[2]}]" for r in top) or "explicitly absent findings only"
            if s in lead_of:
                a = lead_of[s]
                ids = a.supporting[:3]
                cited.extend(ids)
                why += f"; leading hypothesis {a.condition.name} {pct(a.share)} {cite(ids)}"
            parts.append(f"{kb.specialties[s].name} (score {scores[s]:.1f}: {why})")
        decision = TriageDecision(
            specialties=chosen,
            scores={s: round(v, 3) for s, v in scores.items() if v > 0},
            rationale="Consulting " + "; ".join(parts) + ".",
            cited=list(dict.fromkeys(cited)),
            agent="rules",
        )
        return decision, AgentOutput()

    #: At most this many leading hypotheses bring their specialty into the consultation.
    LEADING = 2

    def _leading(self, status: dict, allowed: list[str], patient: Any,
                 config: WardConfig) -> list[tuple[str, Assessment]]:
        """The specialties of the best candidates of the shared ranking (that outweigh "none of these").

        With many specialties, findings' affinities alone can miss the one whose condition the findings fit
        (a ketoacidosis scores for gastroenterology on its vomiting); the specialists rank the same space, so this
        ranking is computed once for the whole round.
        """
        ranking = rank(self.kb, status, hypothesis_space(self.kb, config.specialties), patient)
        out: list[tuple[str, Assessment]] = []
        # the best shares of the posterior, candidates or not: the specialist of a condition the posterior favours
        # should see the case even when no single finding has a recorded likelihood ratio for it
        for a in sorted((a for a in ranking.hypotheses if a.competes), key=lambda a: -a.share):
            if len(out) >= self.LEADING or a.share <= ranking.none_share:
                break
            spec = a.condition.specialty
            if spec in allowed and all(spec != s for s, _ in out):
                out.append((spec, a))
        return out


# ---------------------------------------------------------------------------------------------------------
# Specialist


class RulesSpecialist:
    """Scores the whole hypothesis space over the case's findings and reports its specialty's conditions.

    Every specialist reasons over the same finding space and the same competing hypotheses
    (``wardround.reasoning``), so its probabilities are shares of one posterior and compare across specialties.
    """

    name = "rules"

    def __init__(self, kb: KnowledgeBase | None = None) -> None:
        self.kb = kb or load_knowledge()

    def consult(self, specialty: str, case: Case, ledger: Ledger,
                config: WardConfig) -> tuple[Opinion, AgentOutput]:
        """Rank the specialty's conditions by their share of the posterior and cite every contributing finding."""
        kb = self.kb
        spec = specialty_of(kb, specialty)
        writer = EvidenceWriter(spec.prefix, specialty, ledger.entries)
        issues: list[str] = []
        imaging = self._image(specialty, case, ledger, writer, config, issues)
        work = Ledger(entries={**ledger.entries, **writer.items})
        ranking = rank(kb, finding_status(work), hypothesis_space(kb, config.specialties), patient_of(work))
        mine = [a for a in ranking.hypotheses if a.condition.specialty == specialty]
        supported = [a for a in mine if a.enters]
        # With no candidate the specialty's nearest condition is kept so the attending sees its view, and the
        # summary says no finding supports it strongly enough.
        shown = supported[: config.differential_size] or mine[:1]
        posterior = record_posterior(ranking, kb, writer, specialty)
        items = [record_assessment(a, kb, writer, specialty, posterior.id)[1] for a in shown]
        work = Ledger(entries={**ledger.entries, **writer.items})
        extra = {}
        for img in imaging:
            if img.tool == "segmentation:hemorrhage" and isinstance(img.value, int | float):
                extra["hematoma_volume"] = (float(img.value), img.id)
        calculations = self._calculate(supported, case, work, writer, config, extra)
        top, top_assessment = items[0], shown[0]
        strongest = sorted((x for x in top_assessment.contributions if x["lr"] > 1), key=lambda x: -x["lr"])[:3]
        why = ", ".join(f"{term_name(kb, x)} (LR+ {x['lr']:g}) {cite(x['evidence'][:1])}"
                        for x in strongest)
        if supported:
            summary = f"{spec.name}: most likely {top.name}, {pct(top.probability)} [{top.supporting[0]}]"
            summary += f", supported by {why}." if why else "."
            if top.unexplained:
                summary += " It leaves unexplained: " + ", ".join(
                    f"{r.name} {cite(r.evidence[:1])}" for r in top.unexplained) + "."
        else:
            summary = (f"{spec.name}: no {spec.name.lower()} condition is a candidate in this case (a presenting "
                       f"finding and findings that together favour it by a likelihood ratio of {ENTRY_LR:g} or more); "
                       f"{top.name} is listed for completeness [{top.supporting[0]}].")
        if len(items) > 1:
            second = items[1]
            summary += f" Next: {second.name}, {pct(second.probability)} [{second.supporting[0]}]."
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
            from wardround.tools.segmentation import ImplausibleImageError, record_evidence, segment_study

            folder = artifact_dir(config, case.id, specialty)
            # the content must fit the label before anything is read from it (an unlabelled study is read as a
            # head by imaging_plan, so it is checked as one)
            region = study.body_region or "head"
            try:
                result = segment_study(study.path, method, out_dir=folder, body_region=region,
                                       modality=study.modality)
            except ImplausibleImageError as exc:
                issues.append(f"{specialty}: image not read: {exc}")  # names the file, label and findings
                continue
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

    def _calculate(self, updates: list[Assessment], case: Case, ledger: Ledger, writer: EvidenceWriter,
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
    """Pools the opinions over one posterior, judges coverage, keeps dissent, writes cited rationale, verifies."""

    name = "rules"

    def __init__(self, kb: KnowledgeBase | None = None) -> None:
        self.kb = kb or load_knowledge()

    def decide(self, case: Case, ledger: Ledger, opinions: list[Opinion],
               config: WardConfig) -> tuple[Diagnosis, AgentOutput]:
        """The diagnosis from the reasoning core (``wardround.reasoning.attending.decide``)."""
        if not opinions:
            raise CaseError("opinions", "no specialist gave an opinion", "check the triage configuration")
        diagnosis, evidence, issues = attending.decide(self.kb, case, ledger, opinions, config)
        return diagnosis, AgentOutput(evidence=evidence, issues=issues)
