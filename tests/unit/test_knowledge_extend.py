"""Extending the knowledge base from a folder: findings, affinities and references in a condition file, the three
evidence kinds (likelihood ratios, sensitivity/specificity, frequency with a base rate) and published criteria."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from wardround.errors import KnowledgeError
from wardround.knowledge import load_knowledge
from wardround.reasoning.findings import FindingStatus
from wardround.reasoning.hypotheses import DEFINITION_LR, criteria_state, rank

FINDINGS_BLOCK = """\
    findings:
      hyperglycaemia: {sens: 0.9, spec: 0.8, reference: "PMID:19564476"}
      test_ketonaemia: {frequency: 0.95, reference: "PMID:19564476"}
      test_acidaemia: {frequency: 0.9, base_rate: 0.1, reference: "PMID:19564476", base_reference: "unverified: test"}
"""
CRITERIA_BLOCK = """\
    criteria:
      - name: "test definition"
        reference: "PMID:19564476"
        groups:
          - {label: "hyperglycaemia", of: [hyperglycaemia]}
          - {label: "ketosis", of: [test_ketonaemia]}
          - {label: "acidosis", of: [test_acidaemia]}
"""

EXTENSION = """
specialty: endocrinology_diabetes
references:
  "PMID:19564476":
    citation: "Kitabchi AE, Umpierrez GE, Miles JM, Fisher JN. Hyperglycemic crises in adult patients with diabetes. Diabetes Care 2009;32(7):1335-1343."
    pmid: "19564476"
findings:
  - id: test_ketonaemia
    name: Ketonaemia (beta-hydroxybutyrate >= 3 mmol/L)
    lab: {analyte: beta_hydroxybutyrate, op: ">=", value: 3.0}
    specialties: {endocrinology_diabetes: 0.9}
    base_rate: {value: 0.05, population: "adults with hyperglycaemia in the ED", reference: "unverified: test"}
  - id: test_acidaemia
    name: Acidaemia (pH < 7.30)
    lab: {analyte: ph, op: "<", value: 7.30}
affinities: {hyperglycaemia: 0.8}
conditions:
  - id: test_ketoacidosis
    name: Test ketoacidosis
    icd10: E10.1
    prior: 0.1
    prior_context: adults with hyperglycaemia in the ED
    prior_reference: "unverified: test"
""" + FINDINGS_BLOCK + CRITERIA_BLOCK + """\
    references: ["PMID:19564476"]
"""


_OWN_REFERENCE = re.compile(r"references:\n  \"PMID:19564476\":\n(?:    .*\n)+?(?=findings:)")


def _extension(tmp_path: Path, text: str = EXTENSION, name: str = "endo_test.yaml") -> Path:
    if "PMID:19564476" in load_knowledge().references:  # cite the shipped record rather than register a second one
        text = _OWN_REFERENCE.sub("", text)
    (tmp_path / "conditions").mkdir(parents=True, exist_ok=True)
    (tmp_path / "conditions" / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path


def test_an_extension_folder_adds_findings_conditions_references_and_affinities(tmp_path):
    kb = load_knowledge(extra=[_extension(tmp_path)])
    base = load_knowledge()
    assert "test_ketoacidosis" in kb.conditions and "test_ketoacidosis" not in base.conditions
    assert kb.findings["test_ketonaemia"].specialties == {"endocrinology_diabetes": 0.9}
    assert kb.findings["hyperglycaemia"].specialties["endocrinology_diabetes"] == 0.8
    assert "endocrinology_diabetes" not in base.findings["hyperglycaemia"].specialties or \
        base.findings["hyperglycaemia"].specialties != kb.findings["hyperglycaemia"].specialties
    assert "PMID:19564476" in kb.references
    assert str(tmp_path.resolve()) in kb.source


def test_evidence_kinds_derive_their_likelihood_ratios(tmp_path):
    cond = load_knowledge(extra=[_extension(tmp_path)]).conditions["test_ketoacidosis"]
    ss = cond.findings["hyperglycaemia"]
    assert ss.kind == "sensitivity_specificity"
    assert ss.lr_pos == pytest.approx(0.9 / 0.2) and ss.lr_neg == pytest.approx(0.1 / 0.8)
    own = cond.findings["test_acidaemia"]  # base rate given beside the frequency; its source is an estimate
    assert own.lr_pos == pytest.approx(9.0) and own.lr_neg == pytest.approx(0.1 / 0.9, abs=1e-4)
    assert own.kind == "estimate"
    inherited = cond.findings["test_ketonaemia"]  # base rate from the finding
    assert inherited.base_rate == 0.05 and inherited.lr_pos == pytest.approx(19.0)
    assert inherited.lr_neg == pytest.approx(0.05 / 0.95, abs=1e-4)


def _status(**present: bool) -> dict[str, FindingStatus]:
    return {fid: FindingStatus(p, [f"E{i + 1}"]) for i, (fid, p) in enumerate(present.items())}


def test_met_criteria_weigh_as_a_definition_and_unreachable_ones_exclude(tmp_path):
    kb = load_knowledge(extra=[_extension(tmp_path)])
    cond = kb.conditions["test_ketoacidosis"]
    met = _status(hyperglycaemia=True, test_ketonaemia=True, test_acidaemia=True)
    assert criteria_state(cond.criteria[0], met)[0] == "met"
    a = rank(kb, met, [cond]).get(cond.id)
    assert a.criteria_met == "test definition" and DEFINITION_LR in a.lrs and a.enters
    excluded = _status(hyperglycaemia=True, test_ketonaemia=False, test_acidaemia=True)
    assert criteria_state(cond.criteria[0], excluded)[0] == "excluded"
    b = rank(kb, excluded, [cond]).get(cond.id)
    assert b.excluded_by and not b.enters and b.share == 0.0
    open_ = _status(hyperglycaemia=True, test_acidaemia=True)
    assert criteria_state(cond.criteria[0], open_)[0] == "open"


def test_frequency_without_a_base_rate_is_refused(tmp_path):
    text = EXTENSION.replace("    base_rate: {value: 0.05, population: \"adults with hyperglycaemia in the ED\", "
                             "reference: \"unverified: test\"}\n", "")
    with pytest.raises(KnowledgeError, match="frequency evidence needs a base rate"):
        load_knowledge(extra=[_extension(tmp_path, text)])


def test_a_finding_defined_twice_names_both_files(tmp_path):
    text = EXTENSION.replace("test_ketonaemia\n    name", "tachycardia\n    name", 1)
    with pytest.raises(KnowledgeError, match="duplicate id .*findings.yaml"):
        load_knowledge(extra=[_extension(tmp_path, text)])


def test_two_kinds_of_evidence_in_one_value_are_refused(tmp_path):
    text = EXTENSION.replace("{sens: 0.9, spec: 0.8,", "{sens: 0.9, spec: 0.8, lr_pos: 3,")
    with pytest.raises(KnowledgeError, match="one kind of evidence"):
        load_knowledge(extra=[_extension(tmp_path, text)])


def test_a_missing_extra_folder_is_a_clear_error(tmp_path):
    with pytest.raises(KnowledgeError, match="extra knowledge folder does not exist"):
        load_knowledge(extra=[tmp_path / "nope"])


def test_kb_commands_read_an_extension(tmp_path):
    from typer.testing import CliRunner

    from wardround.cli import app

    ext = _extension(tmp_path)
    runner = CliRunner()
    res = runner.invoke(app, ["kb", "validate", str(ext)])
    assert res.exit_code == 0, res.output
    assert "ok" in res.output and "sensitivity/specificity" in res.output
    assert "note phrases are read by more than one finding" in res.output
    res = runner.invoke(app, ["kb", "show", "test ketoacidosis", "--extra", str(ext)])
    assert res.exit_code == 0, res.output
    assert "criteria: test definition (definition)" in res.output
    assert "sens 0.9 spec 0.8, LR+ 4.5, LR- 0.125" in res.output
    assert "PMID:19564476 (Kitabchi AE" in res.output
    res = runner.invoke(app, ["kb", "show", "test ketoacidosis"])
    assert res.exit_code == 2 and "no condition 'test ketoacidosis'" in res.output
    res = runner.invoke(app, ["kb", "stats", "--extra", str(ext), "--json"])
    assert res.exit_code == 0, res.output
    figures = __import__("json").loads(res.output)
    assert figures["per_specialty"]["endocrinology_diabetes"] >= 1 and figures["criteria"] >= 1


def test_kb_validate_names_the_file_and_field_of_a_broken_extension(tmp_path):
    from typer.testing import CliRunner

    from wardround.cli import app

    ext = _extension(tmp_path, EXTENSION.replace("prior: 0.1", "prior: 1.5"))
    res = CliRunner().invoke(app, ["kb", "validate", str(ext)])
    assert res.exit_code != 0
    assert "endo_test.yaml" in res.output and "test_ketoacidosis" in res.output and "prior" in res.output


def test_kb_validate_reports_every_problem_not_only_the_first(tmp_path):
    from typer.testing import CliRunner

    from wardround.cli import app

    broken = EXTENSION.replace("prior: 0.1", "prior: 1.5").replace("op: \"<\", value: 7.30", "op: \"<\", value: x")
    res = CliRunner().invoke(app, ["kb", "validate", str(_extension(tmp_path, broken))])
    assert res.exit_code == 1
    out = " ".join(res.output.split())
    assert "finding 'test_acidaemia'" in out and "condition 'test_ketoacidosis'" in out, out


def test_a_ward_round_reports_met_criteria_and_verifies(tmp_path):
    import wardround as wr
    from wardround.case import Case

    ext = _extension(tmp_path)
    case = Case(id="ketoacidosis", age=24, sex="female", chief_complaint="vomiting",
                note="24-year-old with type 1 diabetes, two days of vomiting and abdominal pain.",
                labs=[{"name": "glucose", "value": 460, "unit": "mg/dL"},
                      {"name": "beta_hydroxybutyrate", "value": 5.2, "unit": "mmol/L"},
                      {"name": "ph", "value": 7.12, "unit": ""}])
    result = wr.run(case, knowledge_extra=[str(ext)])
    assert result.verified, result.diagnosis
    d = result.diagnosis
    assert d.supported
    ours = next(x for x in d.differential if x.condition == "test_ketoacidosis")  # beside the shipped DKA
    bayes = result.ledger[ours.supporting[0]]
    assert "meets test definition" in bayes.statement and DEFINITION_LR in bayes.inputs["lrs"]


def test_a_condition_may_rest_on_its_presenting_findings_alone_but_not_on_nothing(tmp_path):
    text = EXTENSION.replace(FINDINGS_BLOCK, "    presenting: [hyperglycaemia]\n")
    cond = load_knowledge(extra=[_extension(tmp_path, text)]).conditions["test_ketoacidosis"]
    assert cond.findings == {} and cond.presenting == ["hyperglycaemia"]
    bare = text.replace("    presenting: [hyperglycaemia]\n", "").replace(CRITERIA_BLOCK, "")
    with pytest.raises(KnowledgeError, match="needs per-finding evidence"):
        load_knowledge(extra=[_extension(tmp_path / "b", bare, "bare.yaml")])


def test_phrase_overlaps_name_every_finding_that_reads_the_phrase(tmp_path):
    from wardround.knowledge.validate import phrase_overlaps

    text = EXTENSION.replace("    lab: {analyte: ph, op: \"<\", value: 7.30}\n",
                             "    lab: {analyte: ph, op: \"<\", value: 7.30}\n    patterns: [tachycardia]\n")
    overlaps = phrase_overlaps(load_knowledge(extra=[_extension(tmp_path, text)]))
    assert overlaps["tachycardia"] == ["tachycardia", "test_acidaemia"]


def test_a_finding_read_from_the_same_words_as_an_explained_one_is_explained(tmp_path):
    kb = load_knowledge(extra=[_extension(tmp_path)])
    cond = kb.conditions["test_ketoacidosis"]
    same = {"hyperglycaemia": FindingStatus(True, ["E1"], [(10, 20)]),
            "chest_pain": FindingStatus(True, ["E2"], [(12, 18)])}
    apart = {"hyperglycaemia": FindingStatus(True, ["E1"], [(10, 20)]),
             "chest_pain": FindingStatus(True, ["E2"], [(30, 40)])}
    assert [r.finding for r in rank(kb, same, [cond]).get(cond.id).unexplained] == []
    assert [r.finding for r in rank(kb, apart, [cond]).get(cond.id).unexplained] == ["chest_pain"]


RATIO_EXTENSION = """
specialty: gastroenterology_hepatology
findings:
  - id: test_ast_alt_ratio
    name: AST/ALT ratio > 1.5
    lab: {analyte: ast, over: alt, op: ">", value: 1.5}
conditions: []
"""


def test_a_lab_rule_on_the_ratio_of_two_analytes_is_derived_evidence_on_both(tmp_path):
    from wardround.agents.intake import intake
    from wardround.case import Case
    from wardround.evidence import Ledger

    ext = tmp_path / "ext"
    (ext / "conditions").mkdir(parents=True)
    (ext / "conditions" / "ratio.yaml").write_text(RATIO_EXTENSION)
    kb = load_knowledge(extra=[ext])
    assert "test_ast_alt_ratio" in [f.id for f in kb.findings_for_ratio()]
    assert "test_ast_alt_ratio" not in {f.id for f in kb.findings_for_lab("ast")}  # not a threshold on AST alone
    case = Case.from_dict({"id": "r", "age": 50, "sex": "male", "note": "Jaundiced. AST 186 U/L.",
                           "labs": [{"name": "ALT", "value": 72, "unit": "U/L"}]})
    items = intake(case, kb)
    ratio = next(e for e in items if e.finding == "test_ast_alt_ratio")
    assert ratio.kind == "derived" and ratio.present and ratio.value == pytest.approx(186 / 72, abs=1e-3)
    assert len(ratio.derived_from) == 2
    ledger = Ledger()
    ledger.extend(items)
    assert ledger.verify(case).ok


RIVALS = """
specialty: rheumatology
findings:
  - id: test_rash
    name: Test rash
    patterns: [test rash]
  - id: test_fever_spikes
    name: Test fever spikes
    patterns: [test fever spikes]
  - id: test_joint_pain
    name: Test joint pain
    patterns: [test joint pain]
conditions:
  - id: test_narrow
    name: Test narrow explanation
    icd10: L50.0
    prior: 0.3
    prior_context: test population
    prior_reference: "unverified: test"
    presenting: [test_rash]
    findings:
      test_rash: {lr_pos: 6.0, lr_neg: 0.5, reference: "unverified: test"}
    explains: [test_fever_spikes]
    references: ["unverified: test"]
  - id: test_wide
    name: Test wide explanation
    icd10: T80.6
    prior: 0.05
    prior_context: test population
    prior_reference: "unverified: test"
    presenting: [test_rash]
    explains: [test_rash, test_fever_spikes, test_joint_pain]
    references: ["unverified: test"]
"""


def test_a_leader_is_not_supported_when_a_rival_explains_all_it_explains_and_more(tmp_path):
    from wardround.reasoning.hypotheses import coverage_verdict

    ext = tmp_path / "ext"
    (ext / "conditions").mkdir(parents=True)
    (ext / "conditions" / "rivals.yaml").write_text(RIVALS)
    kb = load_knowledge(extra=[ext])
    pool = [kb.conditions["test_narrow"], kb.conditions["test_wide"]]
    status = {f: FindingStatus(True, [f"E{i}"]) for i, f in enumerate(["test_rash", "test_fever_spikes",
                                                                     "test_joint_pain"])}
    verdict = coverage_verdict(rank(kb, status, pool), kb)
    assert verdict.primary.condition.id == "test_narrow"  # its rash carries a likelihood ratio
    assert not verdict.supported and verdict.rival.condition.id == "test_wide"
    assert "Test joint pain" in verdict.reason and "undecided" in verdict.reason
    # without the finding only the rival explains, the leader explains the case and is supported
    del status["test_joint_pain"]
    verdict = coverage_verdict(rank(kb, status, pool), kb)
    assert verdict.supported and verdict.rival is None
