"""Entry rule of the rules specialists: a condition is a candidate only inside its presenting population and
with a finding that supports it with LR >= ENTRY_LR."""

from __future__ import annotations

from pathlib import Path

import wardround
from wardround.agents.intake import FindingStatus
from wardround.agents.rules import ENTRY_LR, ENTRY_PROBABILITY, bayes_update
from wardround.case import Case
from wardround.knowledge import load_knowledge

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "cases"


def _present(*ids: str) -> dict[str, FindingStatus]:
    return {fid: FindingStatus(present=True, ids=[f"E{i}"]) for i, fid in enumerate(ids, 1)}


def test_every_presenting_finding_is_known_and_most_conditions_name_their_population() -> None:
    kb = load_knowledge()
    gated = [c for c in kb.conditions.values() if c.presenting]
    assert len(gated) >= 25
    for c in gated:
        assert all(f in kb.findings for f in c.presenting), c.id


def test_strong_finding_outside_the_presenting_population_does_not_enter() -> None:
    ugib = load_knowledge().conditions["upper_gi_bleed"]
    strong = next(f for f, lr in ugib.findings.items() if (lr.lr_pos or 0) >= ENTRY_LR and f not in ugib.presenting)
    outside = bayes_update(ugib, _present(strong))
    assert not outside.in_population and not outside.enters
    inside = bayes_update(ugib, _present(strong, "melaena"))
    assert inside.in_population and inside.enters
    assert inside.probability > outside.probability  # the update itself is unchanged by the gate


def test_entry_needs_the_findings_together_to_favour_the_condition_by_entry_lr() -> None:
    sepsis = load_knowledge().conditions["sepsis"]
    lone = bayes_update(sepsis, _present("fever"))  # LR 1.5
    assert lone.in_population and lone.supporting and not lone.enters
    assert not bayes_update(sepsis, _present("fever", "tachycardia")).enters  # 1.5 x 1.3 = 1.95
    assert bayes_update(sepsis, _present("fever", "tachycardia", "leukocytosis")).enters  # x 1.3 = 2.5
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
    assert "not as a diagnosis" in d.rationale[0].text and len(d.next_steps) == 1
    assert result.verify().ok
    answer, extra = primary_name(None, result)  # type: ignore[arg-type]
    assert answer is None and extra["abstained"] is True
    supported = wardround.run(Case.from_file(EXAMPLES / "chest_pain.json"))
    assert supported.diagnosis.supported and primary_name(None, supported)[0] == "Acute coronary syndrome"  # type: ignore[arg-type]


def test_a_condition_more_likely_than_not_in_its_population_enters_on_its_prior() -> None:
    stone = load_knowledge().conditions["nephrolithiasis"]
    assert stone.prior >= ENTRY_PROBABILITY and "flank_pain" in stone.presenting
    assert "flank_pain" not in stone.findings  # the presenting finding is already counted by the prior
    assert bayes_update(stone, _present("flank_pain")).enters
    assert not bayes_update(stone, _present("vomiting", "male_sex")).enters  # no flank pain: another population
