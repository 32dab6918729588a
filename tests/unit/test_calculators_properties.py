"""Property tests: scores never fall when a risk finding is added or a risk quantity worsens (per their references).

Findings are read from each calculator's input model, so the test follows the models; only the base values of
required quantities are listed here.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wardround.tools.calculators import all_calculators, calculate

# calculator -> (base inputs for required quantities, findings that LOWER the score by design)
ADDITIVE_SCORES: dict[str, tuple[dict, set[str]]] = {
    "cha2ds2_vasc": ({"age": 60, "sex": "male"}, set()),
    "has_bled": ({"age": 60, "alcohol_drinks_per_week": 0}, set()),
    "rcri": ({"creatinine": 1.0}, set()),
    "curb_65": ({"bun": 10, "respiratory_rate": 16, "systolic_bp": 120, "diastolic_bp": 80, "age": 40}, set()),
    "charlson_comorbidity_index": ({"age": 40}, set()),
    "wells_pe": ({"heart_rate": 80}, set()),
    "wells_dvt": ({}, {"alternative_diagnosis_likely"}),  # Wells 2003: alternative diagnosis as likely = -2
    "perc_rule": ({"age": 30, "heart_rate": 80, "spo2": 98}, set()),
    "caprini_vte_2005": ({"age": 30, "sex": "female", "bmi": 22}, set()),
    "glasgow_blatchford": ({"bun": 10, "hemoglobin": 15, "sex": "male", "systolic_bp": 120, "heart_rate": 80},
                           set()),
    "centor_mcisaac": ({"age": 30, "temperature": 37}, set()),
    "feverpain": ({}, set()),
    "ich_score": ({"gcs": 15, "age": 50, "hematoma_volume": 10}, set()),
    "psi_port": ({"age": 50, "sex": "male"}, set()),
}


def _available(calc_id: str) -> bool:
    return calc_id in all_calculators()


@pytest.mark.parametrize("calc_id", sorted(ADDITIVE_SCORES))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_adding_a_risk_finding_never_lowers_the_score(calc_id: str, data: st.DataObject) -> None:
    if not _available(calc_id):
        pytest.skip(f"{calc_id} not registered")
    calc = all_calculators()[calc_id]
    base, lowering = ADDITIVE_SCORES[calc_id]
    findings = sorted(f for f, info in calc.fields.items() if info.kind == "finding" and f not in lowering)
    assert findings, calc_id
    state = {f: data.draw(st.booleans(), label=f) for f in findings}
    flip = data.draw(st.sampled_from(findings), label="flip")
    off = calculate(calc_id, {**base, **state, flip: False}, assume_normal=True).value
    on = calculate(calc_id, {**base, **state, flip: True}, assume_normal=True).value
    assert on >= off, (flip, off, on)


@given(st.integers(18, 110), st.integers(18, 110))
def test_curb_65_and_cha2ds2_vasc_do_not_fall_with_age(a1: int, a2: int) -> None:
    lo, hi = sorted((a1, a2))
    curb = {"bun": 10, "respiratory_rate": 16, "systolic_bp": 120, "diastolic_bp": 80, "confusion": False}
    assert calculate("curb_65", {**curb, "age": lo}).value <= calculate("curb_65", {**curb, "age": hi}).value
    cha = {"sex": "female"}
    assert (calculate("cha2ds2_vasc", {**cha, "age": lo}, assume_normal=True).value
            <= calculate("cha2ds2_vasc", {**cha, "age": hi}, assume_normal=True).value)


@given(st.floats(1, 150), st.floats(1, 150), st.floats(8, 60))
def test_curb_65_does_not_fall_with_urea_or_respiratory_rate(b1: float, b2: float, rr: float) -> None:
    lo, hi = sorted((b1, b2))
    base = {"respiratory_rate": rr, "systolic_bp": 120, "diastolic_bp": 80, "age": 50, "confusion": False}
    assert calculate("curb_65", {**base, "bun": lo}).value <= calculate("curb_65", {**base, "bun": hi}).value
