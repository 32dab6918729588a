"""DDXPlus adapter, reasoner and scorer on small invented release files and patients (no external data)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from wardround.case import Case
from wardround.errors import InputError
from wardround.evals.ddxplus import (
    DDXPlusItem,
    DDXPlusPrediction,
    DDXPlusReasoner,
    DDXPlusRelease,
    cross_fit_score,
    item_to_case,
    load_ddxplus,
    score_ddxplus,
)
from wardround.evals.ddxplus.reasoner import ALPHA_SYMPTOM, LEAK, PSEUDO_COUNT

EVIDENCES = {
    "E_1": {"name": "E_1", "code_question": "E_1", "question_en": "Do you have a fever?", "is_antecedent": False,
            "default_value": 0, "value_meaning": {}, "possible-values": [], "data_type": "B"},
    "E_2": {"name": "E_2", "code_question": "E_2", "question_en": "Do you have a cough?", "is_antecedent": False,
            "default_value": 0, "value_meaning": {}, "possible-values": [], "data_type": "B"},
    "E_3": {"name": "E_3", "code_question": "E_3", "question_en": "Do you feel pain somewhere?",
            "is_antecedent": False, "default_value": "V_0", "data_type": "M",
            "possible-values": ["V_0", "V_1", "V_2", "V_3"],
            "value_meaning": {"V_0": {"en": "nowhere"}, "V_1": {"en": "chest(R)"}, "V_2": {"en": "chest(L)"},
                              "V_3": {"en": "throat"}}},
    "E_4": {"name": "E_4", "code_question": "E_3", "question_en": "How intense is the pain?",
            "is_antecedent": False, "default_value": 0, "value_meaning": {}, "possible-values": list(range(11)),
            "data_type": "C"},
    "E_5": {"name": "E_5", "code_question": "E_5", "question_en": "Do you smoke?", "is_antecedent": True,
            "default_value": 0, "value_meaning": {}, "possible-values": [], "data_type": "B"},
    "E_6": {"name": "E_6", "code_question": "E_6", "question_en": "Have you traveled?", "is_antecedent": True,
            "default_value": "V_10", "data_type": "C", "possible-values": ["V_10", "V_11"],
            "value_meaning": {"V_10": {"en": "N"}, "V_11": {"en": "Asia"}}},
}
CONDITIONS = {
    "Flu": {"condition_name": "Flu", "cond-name-fr": "Grippe", "cond-name-eng": "Flu", "icd10-id": "J11",
            "symptoms": {"E_1": {}, "E_2": {}}, "antecedents": {"E_6": {}}, "severity": 4},
    "Angina": {"condition_name": "Angina", "cond-name-fr": "Angine de poitrine", "cond-name-eng": "Angina",
               "icd10-id": "I20", "symptoms": {"E_3": {}, "E_4": {}}, "antecedents": {"E_5": {}}, "severity": 2},
    "Pharyngitis": {"condition_name": "Pharyngitis", "cond-name-fr": "Pharyngite", "cond-name-eng": "Pharyngitis",
                    "icd10-id": "J02", "symptoms": {"E_1": {}, "E_3": {}, "E_4": {}}, "antecedents": {},
                    "severity": 5},
}
HEADER = "AGE,DIFFERENTIAL_DIAGNOSIS,SEX,PATHOLOGY,EVIDENCES,INITIAL_EVIDENCE\n"
ROWS = [
    "30,\"[['Flu', 0.7], ['Pharyngitis', 0.3]]\",F,Flu,\"['E_1', 'E_2', 'E_6_@_V_10']\",E_1\n",
    "61,\"[['Angina', 0.9], ['Pharyngitis', 0.1]]\",M,Angina,\"['E_3_@_V_1', 'E_3_@_V_2', 'E_4_@_6', 'E_5']\",E_3\n",
    "22,\"[['Pharyngitis', 0.6], ['Flu', 0.4]]\",F,Pharyngitis,\"['E_1', 'E_3_@_V_3', 'E_4_@_3']\",E_1\n",
]


@pytest.fixture()
def kb(tmp_path: Path) -> Path:
    (tmp_path / "release_evidences.json").write_text(json.dumps(EVIDENCES))
    (tmp_path / "release_conditions.json").write_text(json.dumps(CONDITIONS))
    (tmp_path / "patients.csv").write_text(HEADER + "".join(ROWS))
    return tmp_path


@pytest.fixture()
def release(kb: Path) -> DDXPlusRelease:
    return DDXPlusRelease.from_dir(kb)


def test_parse_codes_binary_categorical_ordinal(release: DDXPlusRelease) -> None:
    assert release.parse_code("E_1").value is None
    p = release.parse_code("E_3_@_V_2")
    assert (p.evidence, p.value) == ("E_3", "V_2")
    assert release.parse_code("E_4_@_7").value == "7"
    assert release.present(["E_1", "E_3_@_V_0", "E_6_@_V_10", "E_4_@_0"]) == {"E_1"}
    assert release.present(["E_6_@_V_11", "E_4_@_2"]) == {"E_6", "E_4"}
    assert release.evidences["E_4"].ordinal and not release.evidences["E_3"].ordinal
    assert release.evidences["E_3"].lateral and release.evidences["E_3"].site("V_1") == "chest"


@pytest.mark.parametrize("code, problem", [("E_99", "unknown evidence"), ("E_3", "needs a value"),
                                           ("E_1_@_V_1", "takes no value"), ("E_3_@_V_9", "not a possible value"),
                                           ("", "non-empty")])
def test_bad_codes_fail_with_field_value_and_fix(release: DDXPlusRelease, code: str, problem: str) -> None:
    with pytest.raises(InputError, match=problem) as exc:
        release.parse_code(code)
    assert exc.value.fix


def test_load_official_columns_and_dev_names(kb: Path, tmp_path: Path) -> None:
    items = load_ddxplus(kb / "patients.csv")
    assert [it.pathology for it in items] == ["Flu", "Angina", "Pharyngitis"]
    assert items[1].sex == "male" and items[1].age == 61 and items[1].initial_evidence == "E_3"
    assert items[0].differential == [("Flu", 0.7), ("Pharyngitis", 0.3)]
    dev = tmp_path / "dev"
    dev.mkdir()
    lower = HEADER.replace("AGE", "age").replace("DIFFERENTIAL_DIAGNOSIS", "top5_diagnoses").replace(
        "SEX", "sex").replace("PATHOLOGY", "diagnosis").replace("INITIAL_EVIDENCE", "feature_id").replace(
        "EVIDENCES", "features")
    (dev / "p.csv").write_text(lower + "".join(ROWS))
    again = load_ddxplus(dev / "p.csv", kb_dir=kb, limit=2)
    assert len(again) == 2 and again[1].evidences == items[1].evidences
    # the official release ships zipped CSVs; French pathology names map to the canonical ones
    with zipfile.ZipFile(dev / "z.zip", "w") as zf:
        zf.writestr("z.csv", HEADER + ROWS[0].replace(",Flu,", ",Grippe,"))
    assert load_ddxplus(dev / "z.zip", kb_dir=kb)[0].pathology == "Flu"


def test_literal_cells_are_never_evaluated(kb: Path) -> None:
    (kb / "bad.csv").write_text(HEADER + "30,[],F,Flu,\"__import__('os').system('echo hi')\",E_1\n")
    with pytest.raises(InputError, match="not a list literal"):
        load_ddxplus(kb / "bad.csv")
    (kb / "bad2.csv").write_text(HEADER + "30,[],F,Measles,\"['E_1']\",E_1\n")
    with pytest.raises(InputError, match="Measles"):
        load_ddxplus(kb / "bad2.csv")


def test_missing_release_files_name_the_fix(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text(HEADER)
    with pytest.raises(InputError, match="release_evidences.json"):
        load_ddxplus(tmp_path / "p.csv")


def test_case_note_reads_questions_and_values(kb: Path, release: DDXPlusRelease) -> None:
    item = load_ddxplus(kb / "patients.csv")[1]
    case = item_to_case(item, release)
    assert isinstance(case, Case) and case.sex == "male" and case.age == 61
    assert item.pathology == "Angina" and case.chief_complaint == "Do you feel pain somewhere?"
    assert "Angina" not in case.model_dump_json()  # the gold pathology stays on the item, never in the case
    assert "Do you feel pain somewhere? chest(R), chest(L)." in case.note
    assert "How intense is the pain? 6 (scale 0-10)." in case.note
    assert "History and exposures:\n- Do you smoke? Yes." in case.note
    flu = item_to_case(load_ddxplus(kb / "patients.csv")[0], release)
    assert "traveled" not in flu.note  # the default value (no travel) means absent


def test_structural_likelihood_by_hand(kb: Path) -> None:
    reasoner = DDXPlusReasoner.from_release(kb)
    items = load_ddxplus(kb / "patients.csv")
    pred = reasoner.predict(items[0])  # fever + cough, no travel
    assert pred.pathology == "Flu" and pred.rule == "structural"
    # root questions E_1, E_2, E_3, E_5, E_6 are asked; E_4 (sub-question of E_3) is not since E_3 is absent
    a_s, a_a = 0.6, 0.4
    flu = a_s * a_s * (1 - a_a) * (1 - LEAK) * (1 - LEAK)
    angina = LEAK * LEAK * (1 - a_s) * (1 - a_a) * (1 - LEAK)
    pharyngitis = a_s * LEAK * (1 - a_s) * (1 - LEAK) * (1 - LEAK)
    total = flu + angina + pharyngitis
    probs = dict(pred.ranked)
    assert probs["Flu"] == pytest.approx(flu / total)
    assert probs["Pharyngitis"] == pytest.approx(pharyngitis / total)
    assert [n for n, _ in pred.ranked] == ["Flu", "Pharyngitis", "Angina"]
    # explanation: cough supports Flu most (log 0.6 - log mean(0.01, 0.01))
    top = pred.explanations["Flu"][0]
    assert top.present and top.evidence in {"E_1", "E_2"} and top.weight > 0
    cough = next(c for c in pred.explanations["Flu"] if c.evidence == "E_2")
    assert cough.weight == pytest.approx(__import__("math").log(ALPHA_SYMPTOM / LEAK), abs=1e-4)
    assert "Do you have a cough? Yes." in cough.text


def test_no_fit_differential_rule(kb: Path) -> None:
    reasoner = DDXPlusReasoner.from_release(kb)
    items = load_ddxplus(kb / "patients.csv")
    pred = reasoner.predict(items[2])  # fever + throat pain (intensity 3); initial evidence fever
    assert pred.pathology == "Pharyngitis"
    # Flu lists fever (the initial evidence) but explains 1 of the 3 present symptoms < 0.5: not kept
    assert pred.differential_names == ["Pharyngitis"]
    pred0 = reasoner.predict(items[0])  # fever + cough: Pharyngitis explains fever, 1 of 2 symptoms = 0.5: kept
    assert pred0.differential_names == ["Flu", "Pharyngitis"]


def test_score_maths_by_hand() -> None:
    items = [DDXPlusItem(id="a", pathology="Flu", differential=[("Flu", 0.6), ("Pharyngitis", 0.4)]),
             DDXPlusItem(id="b", pathology="Angina", differential=[("Angina", 1.0)])]
    preds = [
        DDXPlusPrediction(pathology="Pharyngitis", ranked=[("Pharyngitis", 0.5), ("Flu", 0.4), ("Angina", 0.1)],
                          differential=[("Pharyngitis", 1.0), ("Flu", 1.0), ("Angina", 1.0)], rule="fitted"),
        DDXPlusPrediction(pathology="Flu", ranked=[("Flu", 0.5), ("Pharyngitis", 0.3), ("Angina", 0.2)],
                          differential=[("Flu", 1.0)], rule="fitted"),
    ]
    s = score_ddxplus(items, preds)
    assert s["n"] == 2 and s["top1"] == 0.0 == s["accuracy"]
    assert s["top3"] == 1.0 and s["top5"] == 1.0
    # a: P = 2/3, R = 1, F1 = 0.8; b: P = 0, R = 0, F1 = 0
    assert s["ddx_precision"] == pytest.approx(1 / 3, abs=1e-6)
    assert s["ddx_recall"] == pytest.approx(0.5)
    assert s["ddx_f1"] == pytest.approx(0.4)
    # plain ranked lists and JSON round trips score the same way
    again = score_ddxplus(items, [DDXPlusPrediction.model_validate(json.loads(p.model_dump_json())) for p in preds])
    assert again == s
    assert score_ddxplus(items[:1], [[("Flu", 0.9)]])["ddx_f1"] == pytest.approx(2 / 3)
    with pytest.raises(InputError, match="one prediction per item"):
        score_ddxplus(items, preds[:1])


def _many_rows(n: int) -> str:
    rows = []
    for i in range(n):
        rows.append(ROWS[i % 3].replace("30,", f"{20 + i},", 1) if i % 3 == 0 else ROWS[i % 3])
    return HEADER + "".join(rows)


def test_fit_reestimates_likelihoods_and_learns_the_differential(kb: Path) -> None:
    (kb / "train.csv").write_text(_many_rows(30))
    reasoner = DDXPlusReasoner.from_release(kb).fit(kb / "train.csv")
    assert reasoner.fitted and reasoner.fit_info["n_train"] == 30
    i_flu, i_cough = reasoner.pathologies.index("Flu"), reasoner.evidences.index("E_2")
    # every one of the 10 Flu patients coughs: (10 + m * 0.6) / (10 + m)
    assert reasoner.alpha[i_flu, i_cough] == pytest.approx((10 + PSEUDO_COUNT * ALPHA_SYMPTOM) / (10 + PSEUDO_COUNT))
    items = load_ddxplus(kb / "patients.csv")
    preds = reasoner.predict_many(items)
    assert all(p.rule == "fitted" for p in preds)
    # the training differentials always pair Angina with Pharyngitis: the fitted model learns to keep it
    assert preds[1].differential_names == ["Angina", "Pharyngitis"]
    assert score_ddxplus(items, preds)["ddx_f1"] == pytest.approx(1.0)


def test_cross_fit_never_scores_a_training_row(kb: Path) -> None:
    (kb / "dev.csv").write_text(_many_rows(12))
    out = cross_fit_score(kb / "dev.csv", folds=3, seed=1)
    assert out["n"] == 12 and out["n_folds"] == 3 and len(out["folds"]) == 3
    assert sum(f["n"] for f in out["folds"]) == 12
    with pytest.raises(InputError, match="at least 2 folds"):
        cross_fit_score(kb / "dev.csv", folds=1)
