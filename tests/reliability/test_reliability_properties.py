"""Property tests: case parsing, unit conversion and calculators under arbitrary input (hypothesis).

- ``Case.from_dict`` raises nothing but ``CaseError`` for any JSON-like value, and valid cases round-trip
  through JSON unchanged;
- every accepted unit of every analyte and dimension converts there and back, and conversion preserves order;
- every calculator, on any inputs inside its accepted ranges, returns a finite value (within the published range
  of the score where there is one); on arbitrary inputs it raises nothing but ``InputError``.

Monotonicity of individual scores is covered by ``tests/unit/test_calculators_properties.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from wardround.case import Case, History, Vitals
from wardround.errors import CaseError, InputError, UnitError
from wardround.tools.calculators import all_calculators, calculate
from wardround.units import ANALYTES, DIMENSIONS, normalize_unit

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------------------------------------------------
# Case parsing

_ODD_TEXT = st.sampled_from(["", " ", "\x00", "\ud800", "\udfff", "\u202e", "e\u0301", "😀", "~nobody/x", "../../etc",
                             "NaN", "1e999", "-0", "ö" * 300, "\n\n", "[E99]"])
_TEXT = st.one_of(st.text(max_size=40), _ODD_TEXT)
_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                    st.floats(allow_nan=True, allow_infinity=True), _TEXT)
JSON_LIKE = st.recursive(_SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                          st.dictionaries(_TEXT, inner, max_size=4)),
                         max_leaves=20)

_CASE_KEYS = list(Case.model_fields) + ["temperature_f", "weight_lb", "vital"]
_VITAL_KEYS = list(Vitals.model_fields) + ["temperature_f", "weight_lb", "height_in"]
_LAB = st.fixed_dictionaries({}, optional={"name": st.one_of(st.sampled_from(["creatinine", "sodium", "troponin",
                                                                              "glucose", "xyz"]), JSON_LIKE),
                                           "value": JSON_LIKE, "unit": st.one_of(
                                               st.sampled_from(["mg/dL", "µmol/L", "mmol/L", "ng/mL", "kg", ""]),
                                               JSON_LIKE), "time": JSON_LIKE})
_STUDY = st.fixed_dictionaries({}, optional={"path": JSON_LIKE, "modality": st.one_of(
    st.sampled_from(["CT", "mr", "XR", "PET?"]), JSON_LIKE), "body_region": JSON_LIKE, "sequence": JSON_LIKE})
CASE_SHAPED = st.dictionaries(
    st.sampled_from(_CASE_KEYS),
    st.one_of(JSON_LIKE,
              st.dictionaries(st.sampled_from(_VITAL_KEYS), JSON_LIKE, max_size=5),
              st.lists(_LAB, max_size=3), st.lists(_STUDY, max_size=2),
              st.dictionaries(st.sampled_from(list(History.model_fields)), st.lists(JSON_LIKE, max_size=3),
                              max_size=3)),
    max_size=8)


@SETTINGS
@given(data=st.one_of(JSON_LIKE, CASE_SHAPED))
def test_case_from_dict_raises_only_case_error(data) -> None:
    try:
        case = Case.from_dict(data)
    except CaseError as exc:
        assert str(exc) and "\n" not in str(exc), "a case error is one line"
        return
    assert isinstance(case, Case)


@SETTINGS
@given(data=CASE_SHAPED)
def test_case_from_file_raises_only_case_error(tmp_path_factory, data) -> None:
    folder = tmp_path_factory.mktemp("c")
    path = folder / "case.json"
    path.write_text(json.dumps(data, allow_nan=True), encoding="utf-8", errors="surrogatepass")
    try:
        Case.from_file(path)
    except CaseError as exc:
        assert "\n" not in str(exc)


_FINITE = {"allow_nan": False, "allow_infinity": False}
VALID_VITALS = st.fixed_dictionaries({}, optional={
    "heart_rate": st.floats(10, 350, **_FINITE), "respiratory_rate": st.floats(2, 100, **_FINITE),
    "temperature_c": st.floats(20, 46, **_FINITE), "spo2": st.floats(20, 100, **_FINITE),
    "weight_kg": st.floats(0.3, 700, **_FINITE), "height_cm": st.floats(20, 280, **_FINITE),
    "gcs": st.integers(3, 15), "systolic_bp": st.floats(90, 250, **_FINITE), "diastolic_bp": st.floats(20, 89, **_FINITE)})


@st.composite
def valid_labs(draw):
    name = draw(st.sampled_from(sorted(ANALYTES)))
    a = ANALYTES[name]
    lo, hi = a.plausible
    value = draw(st.floats(lo, min(hi, lo + 10**6), **_FINITE))
    return {"name": name, "value": value, "unit": a.canonical}


_PRINTABLE = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=200).map(str.strip)
VALID_CASES = st.fixed_dictionaries(
    {"id": st.text(st.characters(min_codepoint=48, max_codepoint=122), min_size=1, max_size=30).map(str.strip)
     .filter(bool), "note": _PRINTABLE},
    optional={"age": st.floats(0, 125, **_FINITE), "sex": st.sampled_from(["male", "female", "other", "unknown"]),
              "chief_complaint": _PRINTABLE, "vitals": VALID_VITALS, "labs": st.lists(valid_labs(), max_size=4),
              "history": st.fixed_dictionaries({}, optional={"conditions": st.lists(_PRINTABLE.filter(bool),
                                                                                     max_size=3)}),
              "question": _PRINTABLE, "options": st.dictionaries(st.sampled_from("ABCDE"), _PRINTABLE, max_size=5),
              "expected_diagnosis": _PRINTABLE})


@SETTINGS
@given(data=VALID_CASES)
def test_valid_cases_round_trip_through_json(data) -> None:
    case = Case.from_dict(data)
    assert "expected_diagnosis" not in case.model_dump()  # a gold key is dropped, never part of the case
    text = case.model_dump_json()
    again = Case.from_dict(json.loads(text))
    assert again == case
    assert again.model_dump_json() == text


# ---------------------------------------------------------------------------------------------------------
# Units


ANALYTE_UNITS = [(name, unit) for name, a in sorted(ANALYTES.items()) for unit in sorted(a.factors) if unit]
DIMENSION_UNITS = [(name, unit) for name, d in sorted(DIMENSIONS.items()) for unit in sorted(d.factors) if unit]


@pytest.mark.parametrize(("analyte", "unit"), ANALYTE_UNITS)
@settings(max_examples=25, deadline=None)
@given(x=st.floats(1e-6, 1e6, **_FINITE), y=st.floats(1e-6, 1e6, **_FINITE))
def test_analyte_units_round_trip_and_keep_order(analyte: str, unit: str, x: float, y: float) -> None:
    a = ANALYTES[analyte]
    back = a.from_canonical(a.to_canonical(x, unit), unit)
    assert math.isclose(back, x, rel_tol=1e-9)
    assert normalize_unit(normalize_unit(unit)) == normalize_unit(unit)
    if x < y:  # order is kept (strictly when the two differ by more than rounding)
        assert a.to_canonical(x, unit) <= a.to_canonical(y, unit)
        if y - x > 1e-9 * max(1.0, abs(x), abs(y)):
            assert a.to_canonical(x, unit) < a.to_canonical(y, unit)


@pytest.mark.parametrize(("dimension", "unit"), DIMENSION_UNITS)
@settings(max_examples=25, deadline=None)
@given(x=st.floats(-1e5, 1e5, **_FINITE), y=st.floats(-1e5, 1e5, **_FINITE))
def test_dimension_units_round_trip_and_keep_order(dimension: str, unit: str, x: float, y: float) -> None:
    d = DIMENSIONS[dimension]
    back = d.from_canonical(d.to_canonical(x, unit), unit)
    assert math.isclose(back, x, rel_tol=1e-9, abs_tol=1e-9)
    if x < y:
        assert d.to_canonical(x, unit) <= d.to_canonical(y, unit)
        if y - x > 1e-9 * max(1.0, abs(x), abs(y)):
            assert d.to_canonical(x, unit) < d.to_canonical(y, unit)


@SETTINGS
@given(unit=st.one_of(st.text(max_size=12), _ODD_TEXT), analyte=st.sampled_from(sorted(ANALYTES)))
def test_any_unit_text_converts_or_raises_unit_error(unit: str, analyte: str) -> None:
    normalize_unit(unit)  # never raises
    try:
        value = ANALYTES[analyte].to_canonical(1.0, unit)
    except UnitError:
        return
    assert math.isfinite(value) and value > 0


# ---------------------------------------------------------------------------------------------------------
# Calculators

CALCULATORS = all_calculators()

#: The possible range of each score as its primary publication defines it (the item points summed at their
#: minimum and maximum); the publication is the calculator's own ``reference``.
SCORE_RANGES: dict[str, tuple[float, float]] = {
    "curb_65": (0, 5), "cha2ds2_vasc": (0, 9), "has_bled": (0, 9), "heart_score": (0, 10), "rcri": (0, 6),
    "glasgow_coma_scale": (3, 15), "ich_score": (0, 6), "child_pugh": (5, 15), "centor_mcisaac": (-1, 5),
    "feverpain": (0, 5), "sirs_criteria": (0, 4), "perc_rule": (0, 8), "wells_pe": (0, 12.5), "wells_dvt": (-2, 9),
    "sofa": (0, 24), "apache_ii": (0, 71), "glasgow_blatchford": (0, 23),
}


def _schema(calc) -> dict:
    return calc.model.model_json_schema().get("properties", {})


@st.composite
def valid_inputs(draw, calc):
    props = _schema(calc)
    out: dict = {}
    for name, f in calc.fields.items():
        if not f.required and not draw(st.booleans()):
            continue
        if f.kind in ("quantity", "count") and f.spec is not None:
            lo, hi = f.spec.lo, min(f.spec.hi, f.spec.lo + 10**7)
            value = draw(st.integers(math.ceil(lo), math.floor(hi))) if f.kind == "count" else \
                draw(st.floats(lo, hi, **_FINITE))
            out[name] = value
        elif f.kind == "finding":
            out[name] = draw(st.booleans())
        elif f.kind == "sex":
            out[name] = draw(st.sampled_from(["male", "female"]))
        elif f.kind == "date":
            out[name] = draw(st.dates(dt.date(1950, 1, 1), dt.date(2100, 12, 31))).isoformat()
        else:
            enum = props.get(name, {}).get("enum")
            assume(enum)
            out[name] = draw(st.sampled_from(enum))
    return out


@pytest.mark.parametrize("calc_id", sorted(CALCULATORS))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_calculator_values_are_finite_and_within_published_range(calc_id: str, data) -> None:
    calc = CALCULATORS[calc_id]
    inputs = data.draw(valid_inputs(calc), label="inputs")
    try:
        result = calculate(calc_id, inputs)
    except InputError:
        return  # e.g. a derived quantity out of range, or dates in the wrong order: refused, with the field
    value = result.value
    if isinstance(value, str):
        if calc.output == "date":
            dt.date.fromisoformat(value)
        return
    assert isinstance(value, int | float) and not isinstance(value, bool)
    assert math.isfinite(value), (calc_id, inputs, value)
    if calc.output == "integer":
        assert float(value).is_integer(), (calc_id, value)
    if calc_id in SCORE_RANGES:
        lo, hi = SCORE_RANGES[calc_id]
        assert lo <= value <= hi, (calc_id, inputs, value)
    if calc_id == "framingham_hard_chd":  # a 10-year probability
        assert 0 <= value <= 100, (calc_id, inputs, value)


@pytest.mark.parametrize("calc_id", sorted(CALCULATORS))
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_calculators_raise_only_input_errors_on_arbitrary_input(calc_id: str, data) -> None:
    calc = CALCULATORS[calc_id]
    keys = st.one_of(st.sampled_from(sorted(calc.fields)), _TEXT)
    inputs = data.draw(st.dictionaries(keys, _SCALAR, max_size=6), label="inputs")
    assume_normal = data.draw(st.booleans(), label="assume_normal")
    try:
        result = calculate(calc_id, inputs, assume_normal=assume_normal, unknown="ignore")
    except InputError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    if not isinstance(result.value, str):
        assert math.isfinite(result.value)
