"""Encounters on the real DDXPlus release files and dev patients: the gatekeeper reveals only what was asked
(over every evidence type), every answer is verifiable evidence with its turn, budgets stop the doctor, costs
add up per turn, and the metrics follow the DDXPlus paper's definitions on a hand-worked example."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from wardround.encounters import (
    Action,
    DDXPlusGatekeeper,
    EncounterConfig,
    PriceTable,
    RulesDDXPlusDoctor,
    build_encounter_graph,
    load_price_table,
    render_transcript,
    run_encounter,
)
from wardround.encounters.metrics import InteractiveOutcome, score_interactive, score_outcome
from wardround.errors import InputError
from wardround.evals.ddxplus import DDXPlusReasoner, DDXPlusRelease, load_ddxplus
from wardround.evidence import Evidence, Ledger


@pytest.fixture(scope="module")
def ddx(wardround_data: Path):
    folder = wardround_data / "ddxplus"
    if not (folder / "patients_dev.csv").is_file():
        pytest.skip(f"DDXPlus dev file not found under {folder}")
    release = DDXPlusRelease.from_dir(folder)
    items = load_ddxplus(folder / "patients_dev.csv", release=release)
    reasoner = DDXPlusReasoner(release).fit(items[100:])
    return release, items, reasoner


def _kind(release: DDXPlusRelease, name: str) -> str:
    ev = release.evidences[name]
    return "ordinal" if ev.ordinal else ev.data_type


def test_gatekeeper_reveals_only_the_asked_evidence_for_every_evidence_type(ddx) -> None:
    release, items, _ = ddx
    kinds_seen_present: set[str] = set()
    for item in items[:60]:
        gk = DDXPlusGatekeeper(item, release)
        row = {release.parse_code(c).evidence: [] for c in item.evidences}
        for c in item.evidences:
            row[release.parse_code(c).evidence].append(c)
        for name in release.evidence_names:  # every question of the release file, every type
            ans = gk.answer(Action(kind="ask", target=name))
            assert all(release.parse_code(c).evidence == name for c in ans.codes), (item.id, name, ans)
            assert set(ans.codes) <= set(row.get(name, [])), (item.id, name)  # never invented
            present = name in release.present(item.evidences)
            assert ans.present is present and ans.status == ("present" if present else "absent")
            if present:
                kinds_seen_present.add(_kind(release, name))
                values = [release.parse_code(c).value for c in row[name]]
                shown = [v for v in values if v is None or not release.evidences[name].is_default(v)]
                assert len(ans.codes) == len(shown)  # a multi-choice answer lists all its values
            # the answer text names nothing but the asked evidence's own values
            others = {release.evidences[release.parse_code(c).evidence].meaning(release.parse_code(c).value or "")
                      for c in item.evidences if release.parse_code(c).evidence != name
                      and release.parse_code(c).value is not None}
            own = {release.evidences[name].meaning(str(v)) for v in release.evidences[name].possible_values}
            for word in others - own:
                if len(word) > 3 and word not in ("NA", "N"):
                    assert word not in ans.text, (item.id, name, word, ans.text)
    assert {"B", "C", "M", "ordinal"} <= kinds_seen_present


def test_encounter_state_holds_only_answers_to_questions_asked(ddx) -> None:
    release, items, reasoner = ddx
    item = items[3]
    result = run_encounter(DDXPlusGatekeeper(item, release), RulesDDXPlusDoctor(reasoner, threshold=None),
                           EncounterConfig(max_turns=8))
    asked = [t.action.target for t in result.turns]
    assert len(asked) == 9 and len(set(asked)) == 9 and asked[0] == item.initial_evidence
    revealed = [c for t in result.turns for c in t.answer.codes]
    assert all(release.parse_code(c).evidence in asked for c in revealed)
    assert set(revealed) <= set(item.evidences)


def test_unknown_questions_exams_and_tests_are_not_available(ddx) -> None:
    release, items, _ = ddx
    gk = DDXPlusGatekeeper(items[0], release)
    for action in (Action(kind="ask", target="E_99999"), Action(kind="examine", target="chest auscultation"),
                   Action(kind="order_test", target="complete blood count")):
        ans = gk.answer(action)
        assert ans.status == "not_available" and ans.codes == [] and "not available" in ans.text


def test_every_answer_is_evidence_with_its_turn_and_the_diagnosis_verifies(ddx) -> None:
    release, items, reasoner = ddx
    item = items[5]
    result = run_encounter(DDXPlusGatekeeper(item, release), RulesDDXPlusDoctor(reasoner, age=item.age, sex=item.sex),
                           EncounterConfig(max_turns=30))
    ledger = Ledger(entries={k: Evidence.model_validate(v) for k, v in result.ledger.items()})
    assert [t.evidence_id for t in result.turns] == [f"EN{n + 1}" for n in range(len(result.turns))]
    for t in result.turns:
        ev = ledger[t.evidence_id]
        assert ev.inputs["turn"] == t.turn and ev.finding == t.action.target
    assert ledger.verify().ok
    dx = result.diagnosis
    cited = set(dx["primary"]["supporting"]) | set(dx["primary"]["opposing"])
    assert cited and cited <= set(ledger.entries) and result.verified
    assert dx["verification"]["verified"] and dx["verification"]["checked"] >= len(cited)
    # a tampered answer no longer verifies against the hidden case
    first = ledger[result.turns[1].evidence_id]
    forged = first.model_copy(update={"value": "absent" if first.value != "absent" else release.evidence_names[0]})
    bad = Ledger(entries={**ledger.entries, forged.id: forged}).verify(ids=[forged.id])
    assert not bad.ok and "hidden case answers" in bad.failures[0].reason
    assert "diagnosis:" in render_transcript(result)


def test_turn_and_money_budgets_stop_the_doctor(ddx) -> None:
    release, items, reasoner = ddx
    item = items[7]
    never = RulesDDXPlusDoctor(reasoner, threshold=None)
    short = run_encounter(DDXPlusGatekeeper(item, release), never, EncounterConfig(max_turns=3))
    assert short.questions == 3 and short.stop_reason == "turn budget"
    poor = run_encounter(DDXPlusGatekeeper(item, release), never, EncounterConfig(max_turns=30, budget_usd=700),
                         PriceTable(visit_fee_usd=300))
    assert poor.questions == 2 and poor.stop_reason == "money budget" and poor.cost_usd == 600
    assert [t.cumulative_cost_usd for t in poor.turns] == [0, 300, 600]


def test_price_table_from_the_given_path(wardround_data: Path, tmp_path: Path) -> None:
    path = wardround_data / "test_prices" / "cpt_lookup.csv"
    if not path.is_file():
        pytest.skip(f"price table not found at {path}")
    with path.open(encoding="utf-8", newline="") as fh:
        first = next(csv.DictReader(fh))
    table = load_price_table(path, visit_fee_usd=250)
    assert table.price(Action(kind="order_test", target=first["test_name"].upper()))[0] == float(first["price"])
    assert table.price(Action(kind="ask", target="E_91")) == (250, None)
    cost, warning = table.price(Action(kind="order_test", target="no such test"))
    assert cost == 0 and "not in the price table" in warning
    assert "approximate" in table.note
    bad = tmp_path / "bad.csv"
    bad.write_text("name,cost\nx,1\n")
    with pytest.raises(InputError, match="test_name"):
        load_price_table(bad)
    bad.write_text("test_name,price\nx,cheap\n")
    with pytest.raises(InputError, match="line 2: price"):
        load_price_table(bad)


def test_information_gain_is_nonnegative_and_drives_the_first_question(ddx) -> None:
    release, items, reasoner = ddx
    item = items[11]
    doctor = RulesDDXPlusDoctor(reasoner, threshold=None)
    gk = DDXPlusGatekeeper(item, release)
    action, answer = gk.opening()
    observed, answered = {action.target: answer.codes}, [action.target]
    post = doctor.posterior(observed, answered)
    assert post.sum() == pytest.approx(1.0)
    gains = doctor.gains(post, answered, {action.target})
    finite = gains[np.isfinite(gains)]
    assert (finite >= -1e-12).all() and not np.isfinite(gains[reasoner.evidences.index(action.target)])
    nxt = doctor.next_action(observed, answered, 0)
    assert nxt.kind == "ask" and nxt.score == pytest.approx(float(finite.max()), abs=1e-6)
    # sub-questions open only after their root question is answered present
    for j, name in enumerate(reasoner.evidences):
        root = release.root_of(name)
        if root != name and root != action.target:
            assert not np.isfinite(gains[j])


def test_graph_is_a_langgraph_with_the_four_nodes(ddx) -> None:
    release, items, reasoner = ddx
    graph = build_encounter_graph(DDXPlusGatekeeper(items[0], release), RulesDDXPlusDoctor(reasoner))
    assert {"opening", "doctor", "gatekeeper", "diagnose"} <= set(graph.get_graph().nodes)


def test_metrics_follow_the_paper_definitions_on_a_worked_example() -> None:
    # gold differential A .5, B .3, C .15, D .04, E .009 (E is below tres = 0.01 and does not count)
    gold = [("A", 0.5), ("B", 0.3), ("C", 0.15), ("D", 0.04), ("E", 0.009)]
    o = InteractiveOutcome(id="x", pathology="B", gold_differential=gold, questions=7,
                           ranked=[("B", 0.6), ("A", 0.3), ("F", 0.1)],
                           differential=[("A", 0.9), ("B", 0.8), ("F", 0.5), ("E", 0.2), ("G", 0.005)])
    m = score_outcome(o)
    assert m["IL"] == 7 and m["IL_steps"] == 8
    assert m["GTPA"] == m["GTPA@1"] == m["GTPA@3"] == 1.0
    # predicted set {A, B, F, E} (G below tres), gold set {A, B, C, D}: tp 2 -> P 2/4, R 2/4
    assert m["DDP"] == pytest.approx(0.5) and m["DDR"] == pytest.approx(0.5) and m["DDF1"] == pytest.approx(0.5)
    # @1: {A} vs {A}; @3: {A, B, F} vs {A, B, C} -> 2/3
    assert m["DDF1@1"] == 1.0 and m["DDF1@3"] == pytest.approx(2 / 3)
    # the project's full-set F1 counts every gold entry whatever its probability and every kept pathology
    assert m["ddx_f1_fullset"] == pytest.approx(2 * (3 / 5) * (3 / 5) / (6 / 5))
    wrong = o.model_copy(update={"ranked": [("A", 0.995), ("B", 0.005)]})
    w = score_outcome(wrong)
    assert w["GTPA"] == 0 and w["GTPA@3"] == 0  # in the top 3 but not above tres
    agg = score_interactive([o, wrong])
    assert agg["GTPA@1"] == 0.5 and agg["n"] == 2
