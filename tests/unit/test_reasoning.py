"""The reasoning core: entry rule, competing hypotheses over one finding space, the unexplained-finding leak,
the normalised posterior with "none of these", and the coverage verdict."""

from __future__ import annotations

from pathlib import Path

import wardround
from wardround.case import Case
from wardround.evidence import EvidenceWriter
from wardround.knowledge import load_knowledge
from wardround.reasoning import (
    ENTRY_LR,
    ENTRY_PROBABILITY,
    LEAK_LR,
    NONE,
    FindingStatus,
    assess,
    coverage_verdict,
    rank,
    record_posterior,
)
from wardround.reasoning.engine import verify_posterior

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "cases"


def _assess(condition, status):
    return assess(condition, status, load_knowledge())


def _present(*ids: str) -> dict[str, FindingStatus]:
    return {fid: FindingStatus(present=True, ids=[f"E{i}"]) for i, fid in enumerate(ids, 1)}


def test_every_presenting_finding_is_known_and_most_conditions_name_their_population() -> None:
    kb = load_knowledge()
    gated = [c for c in kb.conditions.values() if c.presenting]
    assert len(gated) >= 25
    for c in gated:
        assert all(f in kb.findings for f in c.presenting), c.id


def test_strong_finding_outside_the_presenting_population_does_not_enter() -> None:
    ugib, strong, entry = next(
        (c, f, p) for c in load_knowledge().conditions.values() if not c.criteria
        for p in c.presenting if (c.findings.get(p) and (c.findings[p].lr_pos or 0) > 1)
        for f, lr in c.findings.items() if (lr.lr_pos or 0) >= ENTRY_LR and f not in c.presenting)
    outside = _assess(ugib, _present(strong))
    assert not outside.in_population and not outside.enters
    inside = _assess(ugib, _present(strong, entry))
    assert inside.in_population and inside.enters
    assert inside.probability > outside.probability  # the update itself is unchanged by the gate


def test_entry_needs_the_findings_together_to_favour_the_condition_by_entry_lr() -> None:
    sepsis = load_knowledge().conditions["sepsis"]
    lone = _assess(sepsis, _present("fever"))  # LR 1.5
    assert lone.in_population and lone.supporting and not lone.enters
    assert not _assess(sepsis, _present("fever", "tachycardia")).enters  # 1.5 x 1.3 = 1.95
    assert _assess(sepsis, _present("fever", "tachycardia", "leukocytosis")).enters  # x 1.3 = 2.5
    assert ENTRY_LR == 2.0


def test_final_differential_keeps_only_candidates() -> None:
    # The AKI example has a raised urea nitrogen and NSAID use (each LR 2 for an upper GI source) but no sign of
    # bleeding: without the presenting-population gate upper GI bleeding would rank second.
    result = wardround.run(Case.from_file(EXAMPLES / "acute_kidney_injury.json"))
    names = [d.condition for d in result.diagnosis.differential]
    assert names[0] == "acute_kidney_injury" and "upper_gi_bleed" not in names
    records = [result.ledger[d.supporting[0]] for d in result.diagnosis.differential]
    assert records and all(r.inputs and r.inputs["candidate"] for r in records)
    assert result.verify().ok


def test_a_case_outside_the_knowledge_base_gets_no_supported_diagnosis() -> None:
    from wardround.evals.solvers import primary_name

    note = ("32-year-old man twisted his right ankle playing football yesterday. Swelling over the lateral "
            "malleolus, able to bear weight. No other complaints.")
    result = wardround.run(note)
    d = result.diagnosis
    assert d is not None and d.supported is False
    assert "none supported by this case" in result.to_text()
    assert d.coverage == "outside" and any("not as a diagnosis" in s.text for s in d.rationale)
    assert d.next_steps and "does not explain this presentation" in d.next_steps[0]
    assert result.verify().ok
    answer, extra = primary_name(None, result)  # type: ignore[arg-type]
    assert answer is None and extra["abstained"] is True
    supported = wardround.run(Case.from_file(EXAMPLES / "chest_pain.json"))
    assert supported.diagnosis.supported and primary_name(None, supported)[0] == "Acute coronary syndrome"  # type: ignore[arg-type]


def test_a_condition_more_likely_than_not_in_its_population_enters_on_its_prior() -> None:
    stone = load_knowledge().conditions["nephrolithiasis"]
    assert stone.prior >= ENTRY_PROBABILITY and "flank_pain" in stone.presenting
    assert "flank_pain" not in stone.findings  # the presenting finding is already counted by the prior
    assert _assess(stone, _present("flank_pain", "costovertebral_angle_tenderness")).enters
    assert not _assess(stone, _present("flank_pain")).enters  # its presenting finding alone names nothing
    assert not _assess(stone, _present("vomiting", "costovertebral_angle_tenderness")).enters  # no flank pain


def test_a_salient_finding_a_condition_cannot_explain_counts_against_it() -> None:
    kb = load_knowledge()
    ich = kb.conditions["intracerebral_haemorrhage"]
    status = _present("altered_mental_status", "neck_stiffness", "headache")
    without = _assess(ich, status)
    with_rash = _assess(ich, {**status, **_present("petechial_rash", "fever", "photophobia")})
    assert {r.finding for r in with_rash.unexplained} >= {"petechial_rash", "fever", "photophobia"}
    assert with_rash.lrs.count(LEAK_LR) == 3
    assert with_rash.probability < without.probability
    # a finding the condition carries an LR for is never also charged the leak
    assert all(x["finding"] not in ich.findings for x in with_rash.contributions if x.get("unexplained"))


def test_meningitis_with_a_rash_outranks_haemorrhage_on_the_shared_findings() -> None:
    kb = load_knowledge()
    status = _present("fever", "neck_stiffness", "photophobia", "petechial_rash", "altered_mental_status", "headache")
    ranking = rank(kb, status)
    order = [a.condition.id for a in ranking.candidates]
    assert order.index("bacterial_meningitis") < order.index("intracerebral_haemorrhage")
    shares = [a.share for a in ranking.hypotheses]
    assert abs(sum(shares) + ranking.none_share - 1.0) < 1e-9


def test_findings_no_condition_explains_leave_the_case_outside() -> None:
    kb = load_knowledge()
    known = [f for f, x in kb.findings.items()
             if x.salient and not any(c.explains_finding(f) for c in kb.conditions.values())]
    assert known, "the knowledge base should name findings that no condition explains"
    status = _present("wheeze", "dyspnoea", *known[:3])
    verdict = coverage_verdict(rank(kb, status), kb)
    assert not verdict.supported and verdict.coverage == "outside"
    assert {r.finding for r in verdict.unexplained} >= set(known[:3])


def test_the_posterior_record_recomputes_and_tampering_fails() -> None:
    kb = load_knowledge()
    ranking = rank(kb, _present("chest_pain", "troponin_elevated", "st_depression"))
    ev = record_posterior(ranking, kb, EvidenceWriter("AT", "attending"), "attending")
    assert verify_posterior(ev) is None
    assert abs(sum(ev.inputs["shares"].values()) - 1.0) < 1e-3 and NONE in ev.inputs["shares"]
    bad = dict(ev.inputs)
    bad["shares"] = {**bad["shares"], "acute_coronary_syndrome": 0.01}
    assert verify_posterior(ev.model_copy(update={"inputs": bad})) is not None


def test_sepsis_is_credited_with_its_source_only_when_the_source_leaves_something_unexplained() -> None:
    kb = load_knowledge()
    sepsis, pneumonia = kb.conditions["sepsis"], kb.conditions["community_acquired_pneumonia"]
    chest = ("fever", "cough", "crackles")
    # pneumonia with shock: sepsis explains the hypotension the pneumonia cannot, and the cough via its source
    shock = _present(*chest, "hypotension", "lactate_elevated")
    a = assess(sepsis, shock, kb)
    assert {"cough", "crackles"} <= {r.finding for r in a.explains}
    assert not [x for x in a.contributions if x.get("unexplained")]
    ranking = rank(kb, shock, [sepsis, pneumonia])
    assert ranking.hypotheses[0].condition.id == "sepsis"
    # pneumonia alone: the source explains everything, so sepsis earns no credit for the cough (parsimony)
    alone = assess(sepsis, _present(*chest), kb)
    assert "cough" in {r.finding for r in alone.unexplained}
    assert rank(kb, _present(*chest), [sepsis, pneumonia]).hypotheses[0].condition.id == "community_acquired_pneumonia"


def test_the_report_names_the_likely_source_of_a_sepsis() -> None:
    result = wardround.run(Case.from_file(EXAMPLES / "pneumonia_septic_shock.json"))
    d = result.diagnosis
    assert d.primary.condition == "sepsis" and d.supported and result.verified
    source = [s for s in d.rationale if s.kind == "source"]
    assert source and "Community-acquired pneumonia" in source[0].text and source[0].citations


def test_an_unknown_source_condition_is_a_clear_knowledge_error(tmp_path) -> None:
    import shutil

    import pytest

    from wardround.errors import KnowledgeError
    from wardround.knowledge.loader import DATA_DIR

    folder = tmp_path / "kb"
    shutil.copytree(DATA_DIR, folder)
    path = folder / "conditions" / "infectious_disease.yaml"
    path.write_text(path.read_text().replace("sources: [community_acquired_pneumonia,", "sources: [no_such_thing,"))
    with pytest.raises(KnowledgeError, match="no_such_thing"):
        load_knowledge(folder)
