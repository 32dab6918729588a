"""History concepts with ConText negation, history, family and uncertainty, from invented sentences."""

from __future__ import annotations

import pytest

from wardround.demographics import extract_demographics
from wardround.extract.history import concept_status, extract_alcohol, find_concept


@pytest.mark.parametrize(
    ("text", "concept", "present"),
    [
        ("Past medical history of hypertension and type 2 diabetes.", "hypertension", True),
        ("Past medical history of hypertension and type 2 diabetes.", "diabetes", True),
        ("She denies any history of stroke or TIA.", "stroke", False),
        ("She denies any history of stroke or TIA.", "transient_ischemic_attack", False),
        ("No evidence of congestive heart failure.", "congestive_heart_failure", False),
        ("Known pulmonary hypertension.", "hypertension", None),  # a different disease
        ("Diabetes insipidus was diagnosed.", "diabetes", None),
        ("Active metastatic breast cancer on chemotherapy.", "cancer", True),
        ("Benign tumour of the thyroid.", "cancer", None),
    ],
)
def test_concept_status(text, concept, present):
    st = concept_status(text, concept)
    assert (st.present if st else None) is present


def test_family_history_is_kept_apart():
    text = "Her father had a myocardial infarction at 50. She has no heart disease."
    own = concept_status(text, "myocardial_infarction")
    fam = concept_status(text, "family_history_cvd", family=True)
    assert own is None
    assert fam is not None and fam.present


def test_uncertain_mention_is_not_present():
    m = find_concept("CT to rule out pulmonary embolism.", "pulmonary_embolism")[0]
    assert not m.present and m.context.hypothetical


def test_historical_flag():
    m = find_concept("History of deep vein thrombosis in 2015.", "deep_vein_thrombosis")[0]
    assert m.present and m.historical


def test_negation_quote_covers_the_trigger():
    text = "He denies chest pain."
    m = find_concept(text, "chest_pain")[0]
    assert not m.present and text[m.quote_start:m.end] == "denies chest pain"


@pytest.mark.parametrize(("text", "per_week"), [("He drinks 3 beers a day.", 21), ("about 10 drinks per week", 10),
                                               ("two glasses of wine per night", 14)])
def test_alcohol(text, per_week):
    assert extract_alcohol(text).drinks_per_week == per_week


def test_word_age_and_female_only_terms():
    d = extract_demographics("A sixty-two-year-old primigravida; he is her husband.")
    assert d.age == 62 and d.sex == "female"
