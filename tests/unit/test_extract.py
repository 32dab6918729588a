"""Rules extraction from invented note sentences: demographics, vitals, labs with units, negation context."""

from __future__ import annotations

import pytest

from wardround.case import Case
from wardround.extract import assertion_context, extract_demographics, extract_labs, extract_vitals


@pytest.mark.parametrize(
    ("text", "age", "sex"),
    [
        ("A 72-year-old man presents with cough.", 72, "male"),
        ("45 yo F with headache", 45, "female"),
        ("Patient is a 60 year old woman.", 60, "female"),
        ("Age: 81. She reports dizziness.", 81, "female"),
        ("8-month-old boy with fever", 0.67, "male"),
    ],
)
def test_demographics(text, age, sex):
    d = extract_demographics(text)
    assert d.age == pytest.approx(age, abs=0.01)
    assert d.sex == sex


def _vitals(text):
    return {f.name: f.canonical_value for f in extract_vitals(text)}


def test_vitals_common_forms():
    v = _vitals("Vitals: HR 112 bpm, BP 142/88 mmHg, RR 24, T 38.4 °C, SpO2 91% on room air.")
    assert v == {"heart_rate": 112, "systolic_bp": 142, "diastolic_bp": 88, "respiratory_rate": 24,
                 "temperature_c": 38.4, "spo2": 91}


def test_vitals_prose_and_fahrenheit():
    v = _vitals("Her heart rate was 58 beats per minute and temperature 101.3 F; blood pressure of 90/60.")
    assert v["heart_rate"] == 58
    assert v["temperature_c"] == pytest.approx(38.5, abs=0.05)
    assert (v["systolic_bp"], v["diastolic_bp"]) == (90, 60)


def test_vitals_spans_are_exact():
    text = "On arrival pulse 130/min and saturating 88% on 2 L."
    for f in extract_vitals(text):
        assert str(int(f.value)) in text[f.start:f.end]


def test_bare_fraction_is_not_blood_pressure():
    assert "systolic_bp" not in _vitals("Grip strength 4/5 on the left, reflexes 2/4.")


def _labs(text):
    return {f.name: round(f.canonical_value, 3) for f in extract_labs(text)}


def test_labs_with_units_convert():
    labs = _labs("Creatinine of 176.8 µmol/L, glucose 10 mmol/L, sodium 128 mEq/L and WBC 14.2 x10^9/L.")
    assert labs["creatinine"] == pytest.approx(2.0, abs=0.01)
    assert labs["glucose"] == pytest.approx(180.2, abs=0.1)
    assert labs["sodium"] == 128
    assert labs["wbc"] == 14.2


def test_labs_without_unit_use_canonical_and_skip_implausible():
    assert _labs("Troponin I was elevated at 2.3 ng/mL.")["troponin"] == 2.3
    assert _labs("Lipase 1250 U/L")["lipase"] == 1250
    assert "sodium" not in _labs("Na 1400 mmol/L")  # impossible value is not a fact


def test_ambiguous_short_names_need_a_value_form():
    assert "potassium" not in _labs("He took k 3 times")  # "k" without a colon or unit is not potassium
    assert _labs("K: 5.9")["potassium"] == 5.9


@pytest.mark.parametrize(
    ("text", "target", "negated"),
    [
        ("Patient denies chest pain.", "chest pain", True),
        ("No fever, chills, or night sweats.", "night sweats", True),
        ("She has fever but no cough.", "fever", False),
        ("She has fever but no cough.", "cough", True),
        ("Chest pain was ruled out.", "Chest pain", True),
        ("Reports chest pain radiating to the jaw.", "chest pain", False),
        ("Without neck stiffness.", "neck stiffness", True),
        ("No history of stroke. Now with slurred speech.", "slurred speech", False),
        ("CT shows no effusion and new ground-glass opacities.", "ground-glass opacities", False),
        ("CT shows no effusion and new ground-glass opacities.", "effusion", True),
        ("No fever and no new cough.", "cough", True),
        ("No fever and chills.", "chills", True),
        ("RUQ tender, Murphy's sign negative.", "Murphy's sign", True),
        ("Negative Murphy's sign on examination.", "Murphy's sign", True),
        ("Cremasteric reflex not elicited on the left.", "Cremasteric reflex", True),
        ("Dipstick shows leucocytes 3+ and is nitrite negative.", "leucocytes 3+", False),
        ("No hearing loss, tinnitus, aural fullness, headache, neck pain, diplopia, dysarthria or limb weakness.",
         "limb weakness", True),
        ("No chest pain at rest, but over the past three weeks she has noticed increasing ankle swelling.",
         "ankle swelling", False),
        ("She denies trauma to the area during the football match last weekend, with swelling since.",
         "swelling", False),
    ],
)
def test_negation(text, target, negated):
    start = text.index(target)
    assert assertion_context(text, start, start + len(target)).negated is negated


def test_family_historical_hypothetical():
    t = "Mother had breast cancer. History of atrial fibrillation. Return if chest pain recurs."
    s = t.index("breast cancer")
    assert assertion_context(t, s, s + 13).family
    s = t.index("atrial fibrillation")
    assert assertion_context(t, s, s + 19).historical
    s = t.index("chest pain")
    assert assertion_context(t, s, s + 10).hypothetical


@pytest.mark.parametrize(("text", "target", "provoking"), [
    ("Headache, worse in the mornings and on bending/coughing, with visual obscurations.", "coughing", True),
    ("Pleuritic chest pain worse on inspiration and cough.", "cough", True),
    ("Pain on coughing and sneezing.", "coughing", True),
    ("Chest pain with cough and fever.", "cough", False),
    ("Abdominal pain with vomiting since noon.", "vomiting", False),
    ("Worse on exertion, with cough.", "cough", False),
    ("He has a dry cough.", "cough", False),
])
def test_a_complaint_named_as_a_provoking_factor_is_not_a_complaint(text, target, provoking):
    start = text.index(target)
    assert assertion_context(text, start, start + len(target)).provoking is provoking


def test_past_history_symptoms_are_not_todays_findings():
    from wardround.extract import extract_findings
    from wardround.knowledge import load_knowledge

    kb = load_knowledge()
    t = "Sudden painless loss of vision. PMH AF (apixaban stopped 3 wk ago due to PR bleeding), HTN."
    assert "blood_clots_in_stool" not in {m.finding for m in extract_findings(t, kb)}
    s = t.index("PR bleeding")
    assert assertion_context(t, s, s + 11).past_history
    t = "Three-day history of fever and cough."  # "history of" dates today's illness
    s = t.index("fever")
    assert not assertion_context(t, s, s + 5).past_history
    assert {"fever", "cough"} <= {m.finding for m in extract_findings(t, kb) if m.present}


@pytest.mark.parametrize(("text", "age"), [
    ("Demographics: Newborn, born at 33 weeks of gestation.", 0.0),
    ("A 3-day-old boy with poor feeding.", 0.008),
    ("A 6-week-old girl with vomiting after every feed.", 0.115),
    ("A 30-year-old woman who brought her newborn in for review.", 30.0),
])
def test_infant_ages_are_read_so_that_adult_priors_do_not_apply(text, age):
    assert extract_demographics(text).age == age


def test_chief_complaint_findings_enter_as_verified_field_evidence():
    from wardround.agents.intake import intake
    from wardround.evidence import Ledger
    from wardround.knowledge import load_knowledge

    kb = load_knowledge()
    case = Case(id="cc", age=30, sex="female", chief_complaint="Palpitations",
                note="Came in by ambulance. Observations stable. No chest pain.")
    items = intake(case, kb)
    cc = [e for e in items if e.field == "chief_complaint"]
    assert [(e.finding, e.present) for e in cc] == [("palpitations", True)]
    ledger = Ledger()
    ledger.extend(items)
    assert ledger.verify(case).ok
    # a finding the note already records is not counted twice
    case = Case(id="cc2", age=30, sex="female", chief_complaint="Chest pain", note="Central chest pain for 2 h.")
    assert not [e for e in intake(case, kb) if e.field == "chief_complaint"]


def test_history_terms_match_whole_words_not_inside_other_words():
    from wardround.agents.intake import intake
    from wardround.knowledge import load_knowledge

    kb = load_knowledge()
    case = Case.from_dict({"id": "h", "age": 80, "sex": "male", "note": "Seen in clinic.",
                           "history": {"conditions": ["Ischaemic heart disease", "Dementia"], "medications": []}})
    found = {e.finding for e in intake(case, kb) if e.field and e.field.startswith("history.")}
    assert "history_hereditary_angioedema" not in found  # "hae" is not inside "ischaemic"
    assert "prior_tia" not in found  # "tia" is not inside "dementia"
    case = Case.from_dict({"id": "h2", "age": 30, "sex": "female", "note": "Seen in clinic.",
                           "history": {"conditions": ["HAE type 1", "Previous TIA"], "medications": []}})
    found = {e.finding for e in intake(case, kb) if e.field and e.field.startswith("history.")}
    assert {"history_hereditary_angioedema", "prior_tia"} <= found


def test_a_bare_drug_name_in_the_labs_list_is_its_level():
    from wardround.case import Lab

    assert Lab(name="lithium", value=2.7, unit="mmol/L").analyte == "lithium_level"
    assert Lab(name="Digoxin", value=3.1, unit="nmol/L").canonical_value() == pytest.approx(2.42, abs=0.01)
    assert Lab(name="lithium", value=400, unit="mg").analyte is None  # a dose, not a level


@pytest.mark.parametrize(("text", "target", "negated", "earlier", "hedged"), [
    # an aside in parentheses dates or negates its own words only
    ("Creatinine 3.4 mg/dL (normal 6 months ago), c-ANCA positive.", "c-ANCA positive", False, False, False),
    ("Haemoptysis (not on anticoagulants), fever.", "fever", False, False, False),
    # "not" negates its own phrase; lists take "no" or "denies"
    ("Three weeks of not sleeping, talking to himself, convinced he is watched.", "talking to himself",
     False, False, False),
    ("Not sleeping or eating.", "eating", True, False, False),
    ("No fever, chills or rigors.", "rigors", True, False, False),
    # a trailing "negative" after the next comma belongs to another test once the mention has its own value
    ("Tap: ascitic neutrophils 640 cells/mm3, gram stain negative.", "ascitic neutrophils", False, False, False),
    ("CSF gram stain, culture and PCR negative.", "gram stain", True, False, False),
    # a hedge right after the mention: not asserted
    ("Sensory level unclear.", "Sensory level", False, False, True),
    ("Clonus equivocal at the ankles.", "Clonus", False, False, True),
])
def test_context_scopes_of_asides_lists_values_and_hedges(text, target, negated, earlier, hedged):
    start = text.index(target)
    ctx = assertion_context(text, start, start + len(target))
    assert (ctx.negated, ctx.earlier, ctx.hypothetical) == (negated, earlier, hedged)


def test_absent_patterns_record_a_finding_as_explicitly_absent():
    from wardround.extract import extract_findings
    from wardround.knowledge import load_knowledge

    kb = load_knowledge()
    got = {(m.finding, m.present) for m in extract_findings("Social history: non-smoker, teetotal.", kb)}
    assert ("smoker", False) in got and ("alcohol_misuse", False) in got
    assert ("smoker", True) in {(m.finding, m.present) for m in extract_findings("Ex-smoker, 20 pack-years.", kb)}
