"""The shipped knowledge base as a source of competing hypotheses, and the coverage verdict.

Every condition of the hypothesis space is scored over the same findings of the case (``engine``): a present
finding with a likelihood ratio contributes its LR+, an explicitly absent one its LR-; a present *salient*
finding (``Finding.salient``) that the condition does not explain contributes ``LEAK_LR``. The shares of all
conditions and of "none of these" are normalised together, so the numbers compare across specialties.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from wardround.knowledge import Condition, Criteria, KnowledgeBase
from wardround.knowledge.bayes import post_test_probability
from wardround.reasoning import engine
from wardround.reasoning.findings import FindingStatus, Patient, co_read
from wardround.report import Coverage, FindingRef

#: A condition enters a differential only when the case's findings together favour it by at least this factor
#: (the product of their recorded likelihood ratios) and, when the condition names
#: presenting findings, one of them is present. Priors describe a presenting population (women with urinary
#: symptoms, adults undergoing lumbar puncture ...); a lone weak finding such as fever (LR 1.5) is no reason to
#: think the patient belongs to it, while several concordant ones can be.
ENTRY_LR = 2.0
#: ... or, inside its presenting population, the condition is more likely than not (a ureteral stone in a patient
#: with flank pain: 63 % before any further finding) and explains at least ``MIN_EXPLAINED`` salient findings.
ENTRY_PROBABILITY = 0.5
#: A condition that enters on its prior alone (no finding with a recorded likelihood ratio favours it) must explain
#: at least this many salient findings: its presenting finding alone (abdominal pain for pelvic inflammatory
#: disease, hearing loss for sudden sensorineural hearing loss) fits too many conditions, most of them outside any
#: knowledge base, to name one of them.
MIN_EXPLAINED = 2
#: ... unless it takes at least this share of the posterior over every condition and "none of these": nothing
#: else in the knowledge base accounts for the finding (hives three days into a cold: acute urticaria).
DOMINANT_SHARE = 0.9
#: ... or, explaining at least ``MIN_EXPLAINED`` salient findings, it is more likely than every alternative together,
#: "none of these" included: the best explanation of the case even where no single finding has a recorded
#: likelihood ratio (conditions known by their presenting features and published criteria).
ENTRY_SHARE = 0.5

#: Likelihood ratio of a met definition (``Criteria.definitional``: ADA DKA thresholds, NIAID/FAAN anaphylaxis).
#: Met, the published definition says the condition is present; this convention, not a clinical figure, ranks it
#: above conditions that the findings merely favour (docs/knowledge.md, "Conditions defined by criteria").
DEFINITION_LR = 100.0

LEAK_REFERENCE = "DOI:10.1055/s-0038-1634846"
"""Reference of the unexplained-finding leak recorded beside each leak term (QMR-DT, Shwe et al. 1991)."""


@dataclass
class Assessment:
    """One condition scored against the case: its terms, what it explains, and its share of the posterior."""

    condition: Condition
    lrs: list[float]
    contributions: list[dict]
    supporting: list[str]
    opposing: list[str]
    explains: list[FindingRef]
    unexplained: list[FindingRef]
    in_population: bool = True
    share: float = 0.0
    #: name of the published criteria the case meets, if any (``Condition.criteria``)
    criteria_met: str | None = None
    #: why the condition's own definition rules it out here (a required clause whose findings are absent)
    excluded_by: str | None = None

    @property
    def competes(self) -> bool:
        """Whether the condition takes a share of the posterior: in its population and not excluded by its
        definition."""
        return self.in_population and self.excluded_by is None

    @cached_property
    def probability(self) -> float:
        """Post-test probability of the condition alone in its presenting population (clamped, as recorded)."""
        return post_test_probability(self.condition.prior, self.lrs)

    @cached_property
    def score(self) -> float:
        """Log posterior odds against the reference population (``engine.score``)."""
        return engine.score(self.condition.prior, self.lrs)

    @cached_property
    def evidence_lr(self) -> float:
        """Product of the recorded likelihood ratios of the observed findings (leaks left out: they weigh in the
        competition, while entry asks whether the condition's own findings favour it)."""
        return math.prod(x["lr"] for x in self.contributions if not x.get("unexplained"))

    @property
    def enters(self) -> bool:
        """Whether the condition is a candidate: in its presenting population, and favoured by the findings
        (``ENTRY_LR``) or more likely than not there (``ENTRY_PROBABILITY``)."""
        return self.competes and (self.criteria_met is not None or self.evidence_lr >= ENTRY_LR
                                  or (self.share >= ENTRY_SHARE and len(self.explains) >= MIN_EXPLAINED)
                                  or (self.probability >= ENTRY_PROBABILITY
                                      and (len(self.explains) >= MIN_EXPLAINED or self.share >= DOMINANT_SHARE)))


def _ref(kb: KnowledgeBase, finding_id: str, st: FindingStatus) -> FindingRef:
    f = kb.findings.get(finding_id)
    return FindingRef(finding=finding_id, name=f.name if f else finding_id, evidence=st.ids[:3])


def explains_itself(condition: Condition, finding_id: str) -> bool:
    """``explains`` without the condition's sources: what the condition accounts for on its own."""
    return finding_id in condition.expected


def explains(condition: Condition, finding_id: str, kb: KnowledgeBase | None = None) -> bool:
    """Whether a present finding is accounted for by ``condition``.

    LR+ > 1, a presenting finding, a finding listed in ``explains``, one whose recorded LR is only for its
    absence (the condition expects it: missing, it counts against), or -- given ``kb`` -- a finding that one of
    the condition's ``sources`` explains (the cough of the pneumonia behind a sepsis).
    """
    if explains_itself(condition, finding_id):
        return True
    return kb is not None and any(
        src in kb.conditions and explains_itself(kb.conditions[src], finding_id) for src in condition.sources)


def _linked_sources(condition: Condition, kb: KnowledgeBase, salient: list[str]) -> list[Condition]:
    """The sources whose findings ``condition`` is credited with in this case.

    A source counts only where it leaves unexplained a salient finding that the condition explains by itself
    (the hypotension of a sepsis beside a pneumonia): when the source alone accounts for everything, the simpler
    explanation is the source, and the linked pair earns no credit (parsimony).
    """
    if not condition.sources:
        return []
    own = [fid for fid in salient if fid in condition.expected]
    out = []
    for src in condition.sources:
        cond = kb.conditions.get(src)
        if cond is not None and any(fid not in cond.expected for fid in own):
            out.append(cond)
    return out


def likely_source(condition: Condition, kb: KnowledgeBase, present: Iterable[str]) -> Condition | None:
    """The source of ``condition`` (``Condition.sources``) that explains most of the ``present`` findings."""
    wanted = list(present)
    best, best_n = None, 0
    for src in condition.sources:
        cond = kb.conditions.get(src)
        n = sum(explains_itself(cond, fid) for fid in wanted) if cond else 0
        if n > best_n:
            best, best_n = cond, n
    return best


def salient_present(kb: KnowledgeBase, status: dict[str, FindingStatus]) -> list[str]:
    """Ids of the present findings a diagnosis must explain, in the order the case shows them.

    A finding that a known condition of the patient accounts for (``Finding.accounts_for``: an irregular pulse in
    known atrial fibrillation) needs no new explanation.
    """
    known = {other for fid, st in status.items() if st.present and fid in kb.findings
             for other in kb.findings[fid].accounts_for}
    return [fid for fid, st in status.items()
            if st.present and fid in kb.findings and kb.findings[fid].salient and fid not in known]


def _salient_refs(kb: KnowledgeBase, status: dict[str, FindingStatus]) -> dict[str, FindingRef]:
    """The salient present findings (``salient_present``) with their report references, in case order."""
    return {fid: _ref(kb, fid, status[fid]) for fid in salient_present(kb, status)}


def criteria_state(criteria: Criteria, status: dict[str, FindingStatus]) -> tuple[str, list[str]]:
    """``met``, ``excluded`` (a group can no longer be met: too many of its findings are explicitly absent),
    ``not_met`` (every finding assessed, some group short) or ``open``; with the evidence ids that decide it."""
    met, excluded, assessed = True, False, True
    ids: list[str] = []
    for group in criteria.groups:
        present = [fid for fid in group.of if (st := status.get(fid)) is not None and st.present]
        absent = [fid for fid in group.of if (st := status.get(fid)) is not None and not st.present]
        ids.extend(i for fid in present for i in status[fid].ids[:1])
        if len(present) < group.min:
            met = False
            if len(group.of) - len(absent) < group.min:
                excluded = True
                ids.extend(i for fid in absent for i in status[fid].ids[:1])
            if len(present) + len(absent) < len(group.of):
                assessed = False
    if met:
        return "met", ids
    if excluded:
        return "excluded", ids
    return ("not_met" if assessed else "open"), ids


def _apply_criteria(condition: Condition, status: dict[str, FindingStatus], lrs: list[float],
                    contributions: list[dict]) -> tuple[str | None, str | None]:
    """Weigh a condition's published criteria into its terms; return (criteria met, reason for exclusion)."""
    states = [(c, *criteria_state(c, status)) for c in condition.criteria]
    for c, state, ids in states:
        if state != "met":
            continue
        if c.definitional:
            term = {"finding": f"meets {c.name}", "present": True, "lr": DEFINITION_LR, "evidence": ids,
                    "reference": c.reference, "criteria": True}
        else:  # classification criteria weigh by their own accuracy, in place of their items' LRs
            _drop_items(c, lrs, contributions)
            term = {"finding": f"meets {c.name}", "present": True, "lr": round(c.lr_pos or 1.0, 4),
                    "evidence": ids, "reference": c.reference, "criteria": True}
        lrs.append(term["lr"])
        contributions.append(term)
        return c.name, None
    definitional = [x for x in states if x[0].definitional]
    if definitional and len(definitional) == len(states) and all(state == "excluded" for _, state, _ in states):
        return None, "; ".join(f"{c.name} cannot be met" for c, _, _ in states)
    for c, state, ids in states:
        if state == "not_met" and not c.definitional:
            _drop_items(c, lrs, contributions)
            term = {"finding": f"does not meet {c.name}", "present": False, "lr": round(c.lr_neg or 1.0, 4),
                    "evidence": ids, "reference": c.reference, "criteria": True}
            lrs.append(term["lr"])
            contributions.append(term)
            break
    return None, None


def _drop_items(criteria: Criteria, lrs: list[float], contributions: list[dict]) -> None:
    """Remove the terms of the criteria's own findings (their accuracy is counted once, by the criteria)."""
    items = set(criteria.items)
    keep = [x for x in contributions if x.get("unexplained") or x["finding"] not in items]
    if len(keep) != len(contributions):
        contributions[:] = keep
        lrs[:] = [x["lr"] for x in keep]


def _leak(fid: str, st: FindingStatus) -> dict:
    """The leak term of a salient finding that a condition leaves unexplained (the same for every condition)."""
    return {"finding": fid, "present": True, "lr": engine.LEAK_LR, "evidence": st.ids[:3],
            "reference": LEAK_REFERENCE, "unexplained": True}


def assess(condition: Condition, status: dict[str, FindingStatus], kb: KnowledgeBase,
           salient: dict[str, FindingRef] | None = None, patient: Patient | None = None,
           same_words: dict[str, set[str]] | None = None, leaks: dict[str, dict] | None = None) -> Assessment:
    """Score ``condition`` over the case's findings (LR+ if present, LR- if absent, the leak if unexplained).

    ``salient`` is ``_salient_refs(kb, status)`` and ``same_words`` is ``co_read(status, salient)``, passed in when
    many conditions are scored over one case. A salient finding read from the same words of the note as a finding
    the condition explains is explained too: the words are one observation.
    """
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
        ids = st.ids[:3]
        lrs.append(lr)
        contributions.append({"finding": fid, "present": st.present, "lr": lr, "evidence": ids,
                              "reference": lr_info.reference})
        (supporting if lr > 1.0 else opposing).extend(ids)
    explained: list[FindingRef] = []
    unexplained: list[FindingRef] = []
    if salient is None:
        salient = _salient_refs(kb, status)
    expected = condition.expected
    linked = [src.expected for src in _linked_sources(condition, kb, list(salient))] if condition.sources else []
    if same_words is None:
        same_words = co_read(status, salient)
    for fid, ref in salient.items():
        # explained itself, or read from the same words as a finding the condition (or a linked source) explains
        readings = same_words.get(fid)
        if fid in expected or (readings and not expected.isdisjoint(readings)) or (linked and any(
                fid in src or (readings and not src.isdisjoint(readings)) for src in linked)):
            explained.append(ref)
            continue
        unexplained.append(ref)
        if fid not in condition.findings:  # a recorded LR <= 1 already counts it against the condition
            leak = leaks.get(fid) if leaks is not None else None
            if leak is None:
                leak = _leak(fid, status[fid])
            lrs.append(engine.LEAK_LR)
            contributions.append(leak)
            opposing.extend(leak["evidence"])
    criteria_met, excluded_by = _apply_criteria(condition, status, lrs, contributions) if condition.criteria \
        else (None, None)
    if condition.presenting:
        in_population = any((st := status.get(fid)) is not None and st.present for fid in condition.presenting)
    else:  # a population-wide prior (AKI in adults admitted from the ED) needs one present finding it explains
        in_population = bool(explained) or any(lr > 1.0 for lr in lrs)
    if patient is not None and not condition.fits(patient.age, patient.sex):
        in_population = False  # the prior describes other patients (adults; one sex)
    return Assessment(condition, lrs, contributions, list(dict.fromkeys(supporting)),
                      list(dict.fromkeys(opposing)), explained, unexplained, in_population,
                      criteria_met=criteria_met, excluded_by=excluded_by)


@dataclass
class Ranking:
    """Every hypothesis of the space, scored and normalised together with "none of these"."""

    hypotheses: list[Assessment]
    none_share: float
    salient: list[FindingRef] = field(default_factory=list)

    @property
    def candidates(self) -> list[Assessment]:
        """Hypotheses that enter a differential (``Assessment.enters``), best first."""
        return [a for a in self.hypotheses if a.enters]

    def get(self, condition_id: str) -> Assessment | None:
        """The assessment of one condition, or ``None`` when it is not in the space."""
        return next((a for a in self.hypotheses if a.condition.id == condition_id), None)

    def posterior_inputs(self) -> dict:
        """What a ``posterior:`` record stores so that every share recomputes (``engine.verify_posterior``)."""
        return engine.posterior_inputs({a.condition.id: (a.condition.prior, a.lrs)
                                        for a in self.hypotheses if a.competes})


def hypothesis_space(kb: KnowledgeBase, specialties: Iterable[str] | None = None) -> list[Condition]:
    """The conditions that compete: those of ``specialties`` (default: the whole knowledge base)."""
    wanted = list(specialties) if specialties else list(kb.specialties)
    return [c for c in kb.conditions.values() if c.specialty in wanted]


def rank(kb: KnowledgeBase, status: dict[str, FindingStatus], conditions: Iterable[Condition] | None = None,
         patient: Patient | None = None) -> Ranking:
    """Score every condition over the case's findings and normalise them with "none of these".

    A condition outside its presenting population takes no share: its prior describes other patients.
    Order: candidates first, then by share, then by id (deterministic).
    """
    pool = list(conditions) if conditions is not None else list(kb.conditions.values())
    key = (id(kb), tuple((fid, st.present, tuple(st.ids), tuple(st.spans)) for fid, st in status.items()),
           tuple(c.id for c in pool), patient)
    with _RANKINGS_LOCK:
        hit = _RANKINGS.get(key)
    if hit is not None and hit[0] is kb:
        return hit[1]
    ranking = _rank(kb, status, pool, patient)
    with _RANKINGS_LOCK:  # specialists rank in parallel threads
        while len(_RANKINGS) >= _RANKINGS_MAX:
            _RANKINGS.pop(next(iter(_RANKINGS)))
        _RANKINGS[key] = (kb, ranking)
    return ranking


#: Rankings of recent finding spaces. The specialists of one case usually see the same findings (imaging adds
#: its own), and the attending ranks them once more: each space is scored once. Rankings are read, never changed.
_RANKINGS: dict[tuple, tuple[KnowledgeBase, Ranking]] = {}
_RANKINGS_MAX = 64
_RANKINGS_LOCK = threading.Lock()


def _rank(kb: KnowledgeBase, status: dict[str, FindingStatus], pool: list[Condition],
          patient: Patient | None) -> Ranking:
    salient = _salient_refs(kb, status)
    same_words = co_read(status, salient)
    leaks = {fid: _leak(fid, status[fid]) for fid in salient}  # shared, read-only terms
    assessed = [assess(c, status, kb, salient, patient, same_words, leaks) for c in pool]
    shares = engine.normalise({a.condition.id: a.score for a in assessed if a.competes},
                              engine.log_odds(engine.NONE_PRIOR))
    for a in assessed:
        a.share = shares.get(a.condition.id, 0.0)
    assessed.sort(key=lambda a: (not a.enters, -a.share, -a.probability, a.condition.id))
    return Ranking(assessed, shares.get(engine.NONE, 1.0), list(salient.values()))


@dataclass
class Verdict:
    """How well the leading hypothesis covers the case (``coverage_verdict``)."""

    coverage: Coverage
    supported: bool
    primary: Assessment | None
    unexplained: list[FindingRef]
    refer_to: list[str]
    reason: str
    #: a condition that explains every salient finding the leading candidate explains and some it leaves
    #: unexplained, whose own findings carry no weight to rank it: the case is undecided between the two
    rival: Assessment | None = None


def coverage_verdict(ranking: Ranking, kb: KnowledgeBase, among: Iterable[str] | None = None) -> Verdict:
    """Whether the case is explained by its leading candidate, partly explained, or outside the knowledge base.

    - explained: the leading candidate outweighs "none of these" and explains every salient finding;
    - partly explained: it outweighs "none of these" and explains at least as many salient findings as it leaves;
    - outside: no candidate, "none of these" weighs more, or most salient findings stay unexplained.
    Only ``supported`` verdicts present the leading candidate as a diagnosis.

    Args:
        among: restrict the leading candidate to these condition ids (the ones the consulted specialists listed).
    """
    allowed = set(among) if among is not None else None
    candidates = [a for a in ranking.candidates if allowed is None or a.condition.id in allowed]
    top = candidates[0] if candidates else None
    if top is None:
        unexplained = list(ranking.salient)
        reason = "no condition of the knowledge base has a presenting finding with findings that favour it"
        return Verdict("outside", False, None, unexplained, _refer(kb, unexplained), reason)
    unexplained = list(top.unexplained)
    if top.share <= ranking.none_share:
        reason = (f"none of these ({ranking.none_share:.0%}) outweighs {top.condition.name} ({top.share:.0%})")
        return Verdict("outside", False, top, unexplained, _refer(kb, unexplained), reason)
    if len(unexplained) > len(top.explains):
        reason = f"{top.condition.name} leaves {len(unexplained)} of {len(ranking.salient)} salient findings unexplained"
        return Verdict("outside", False, top, unexplained, _refer(kb, unexplained), reason)
    if unexplained:
        # the rival may come from any specialty: a wider explanation outside the consulted ones is the more
        # reason not to present the leader as the diagnosis
        rival = _wider_explanation(ranking, top)
        if rival is not None:
            covered = [r.name for r in unexplained if r.finding in {x.finding for x in rival.explains}]
            reason = (f"{top.condition.name} leaves {', '.join(covered)} unexplained, which "
                      f"{rival.condition.name} explains together with everything {top.condition.name} explains; "
                      f"undecided between them")
            return Verdict("partly_explained", False, top, unexplained, _refer(kb, unexplained), reason, rival)
        return Verdict("partly_explained", True, top, unexplained, _refer(kb, unexplained),
                       f"{top.condition.name} leaves {len(unexplained)} salient finding(s) unexplained")
    return Verdict("explained", True, top, [], [], f"{top.condition.name} explains every salient finding")


def _wider_explanation(ranking: Ranking, top: Assessment) -> Assessment | None:
    """A competing condition (in its population, not excluded) that explains every salient finding ``top``
    explains and at least one it leaves unexplained: the single explanation of more of the case (parsimony, as
    INTERNIST-1 weighs competitors), which the leader outranks only by carrying recorded likelihood ratios."""
    mine = {r.finding for r in top.explains}
    left = {r.finding for r in top.unexplained}
    best = None
    for a in ranking.hypotheses:
        if a is top or not a.competes:
            continue
        theirs = {r.finding for r in a.explains}
        if mine <= theirs and theirs & left and (best is None or len(theirs) > len({r.finding for r in best.explains})):
            best = a
    return best


def _refer(kb: KnowledgeBase, unexplained: list[FindingRef]) -> list[str]:
    """Who should see the patient: each unexplained finding's ``refer``, else the specialties it points to."""
    out: list[str] = []
    for ref in unexplained:
        f = kb.findings.get(ref.finding)
        if f is None:
            continue
        names = list(f.refer) or [kb.specialties[s].name for s, _ in sorted(f.specialties.items(), key=lambda kv: -kv[1])
                                  if s in kb.specialties][:1]
        out.extend(names)
    return list(dict.fromkeys(out))
