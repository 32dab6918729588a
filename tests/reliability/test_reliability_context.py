"""Context faults a clinician would call dangerous: a relative's findings, an earlier visit's numbers, a test that
rules out, a patient outside the population a prior describes. Each probe failed before ConText knew sections,
experiencers, temporality and test results that rule out, and before priors carried their population."""

from __future__ import annotations

import pytest

import wardround
from wardround.extract.context import assertion_context, sections


def _ctx(text: str, phrase: str):
    i = text.index(phrase)
    return assertion_context(text, i, i + len(phrase))


def _findings(result) -> set[tuple[str, bool]]:
    return {(e.finding, e.present) for e in result.ledger if e.finding}


@pytest.mark.parametrize(("text", "phrase"), [
    ("Family history: father with ST elevation MI and troponin of 900 ng/L.", "ST elevation"),
    ("Family history: father with ST elevation MI and troponin of 900 ng/L.", "troponin"),
    ("FHx - mother had a stroke with facial droop at 60.", "facial droop"),
    ("His sister had calf swelling and a pulmonary embolism.", "calf swelling"),
    ("His brother had neck stiffness and a subarachnoid haemorrhage.", "neck stiffness"),
    ("Father's chest pain was due to an MI.", "chest pain"),
    ("Significant in his mother: haemoptysis from lung cancer.", "haemoptysis"),
])
def test_a_relatives_findings_are_the_relatives(text: str, phrase: str) -> None:
    assert _ctx(text, phrase).family


@pytest.mark.parametrize(("text", "phrase"), [
    ("Brought in from home by her daughter after a day of fever and confusion.", "fever"),
    ("Lives with his son; today he has crushing chest pain.", "chest pain"),
    ("Family history of early MI in his father; he now has chest pain.", "chest pain"),
])
def test_mentioning_a_relative_does_not_make_the_patients_findings_theirs(text: str, phrase: str) -> None:
    assert not _ctx(text, phrase).family


@pytest.mark.parametrize(("text", "phrase", "earlier"), [
    ("At a clinic visit two weeks ago his heart rate was 130.", "heart rate", True),
    ("On his previous admission he had haematemesis.", "haematemesis", True),
    ("Six months ago he had a fever and cough.", "cough", True),
    ("Chest pain began two days ago.", "Chest pain", False),
    ("Cough for three weeks, worse today.", "Cough", False),
    ("Previous admissions: 2019 pneumonia with crackles.\n\nToday: fever 38.9 C.", "fever", False),
])
def test_an_earlier_encounter_is_not_today(text: str, phrase: str, earlier: bool) -> None:
    assert _ctx(text, phrase).earlier is earlier


def test_sections_run_from_their_header_to_the_next_header_or_a_blank_line() -> None:
    note = ("Presenting complaint: chest pain.\nFamily history: father with MI.\nExamination: HR 90.\n\n"
            "Earlier history (previous admissions, from the records): crackles in 2015.")
    kinds = [k for _, _, k in sections(note)]
    assert kinds == ["family", "earlier"]
    assert _ctx(note, "MI").family and not _ctx(note, "HR").family
    assert _ctx(note, "crackles").earlier and not _ctx(note, "chest pain").earlier


def test_a_fathers_myocardial_infarction_is_not_the_patients_acs() -> None:
    r = wardround.run("58-year-old man seen for a routine check. Family history: father with ST elevation MI and "
                      "troponin of 900 ng/L. He has no chest pain.")
    found = _findings(r)
    assert ("st_elevation", True) not in found and ("troponin_elevated", True) not in found
    assert not (r.diagnosis.supported and r.diagnosis.primary.condition == "acute_coronary_syndrome")


def test_a_sisters_calf_swelling_is_not_the_patients_pe() -> None:
    r = wardround.run("34-year-old woman with a mild cough. Her sister had calf swelling and a pulmonary embolism "
                      "last year.")
    assert not (r.diagnosis.supported and r.diagnosis.primary.condition == "pulmonary_embolism")


@pytest.mark.parametrize("result", ["CTPA negative for PE.", "PE excluded on CTPA.", "CTPA showed no pulmonary "
                                    "embolism.", "Pulmonary embolism was ruled out."])
def test_a_negative_ctpa_counts_against_pulmonary_embolism(result: str) -> None:
    note = ("45-year-old woman with pleuritic chest pain and sudden breathlessness after a long-haul flight. "
            "HR 112, SpO2 93% on air.")
    before = wardround.run(note)
    after = wardround.run(f"{note} {result}")
    assert ("ctpa_negative_for_pe", True) in _findings(after)

    def pe(r) -> float:
        return next((x.probability for x in r.diagnosis.differential if x.condition == "pulmonary_embolism"), 0.0)

    assert pe(after) < pe(before) / 2
    assert not (after.diagnosis.supported and after.diagnosis.primary.condition == "pulmonary_embolism")


def test_an_earlier_visits_heart_rate_is_not_todays() -> None:
    r = wardround.run("60-year-old man with a cough. At a clinic visit two weeks ago his heart rate was 130 and "
                      "his temperature 39.5 C. Today he is comfortable.")
    assert ("tachycardia", True) not in _findings(r) and ("fever", True) not in _findings(r)


@pytest.mark.parametrize("note", [
    "3-month-old boy with chest pain, diaphoresis, ST elevation and a troponin of 2000 ng/L.",
    "A 6-year-old girl with crushing chest pain radiating to the left arm, ST elevation and troponin 900 ng/L.",
])
def test_a_child_is_outside_the_adult_population_of_acs(note: str) -> None:
    d = wardround.run(note).diagnosis
    assert not (d.supported and d.primary.condition == "acute_coronary_syndrome")
    acs = next((x for x in d.differential if x.condition == "acute_coronary_syndrome"), None)
    assert acs is None or acs.probability == 0.0


def test_the_same_findings_in_an_adult_still_give_acs() -> None:
    d = wardround.run("58-year-old man with crushing chest pain radiating to the left arm, diaphoresis, ST "
                      "elevation and a troponin of 900 ng/L.").diagnosis
    assert d.supported and d.primary.condition == "acute_coronary_syndrome"
