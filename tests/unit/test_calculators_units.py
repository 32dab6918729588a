"""Unit conversions and quantity parsing of the calculator inputs, against known values and as properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wardround.errors import InputError, UnitError
from wardround.tools.calculators.base import parse_quantity
from wardround.units import ANALYTES, DIMENSIONS, normalize_unit, to_canonical


@pytest.mark.parametrize(("analyte", "value", "unit", "expected", "tol"), [
    ("creatinine", 88.4, "µmol/L", 1.0, 0.001),      # 1 mg/dL = 88.4 µmol/L
    ("creatinine", 88.4, "umol/l", 1.0, 0.001),
    ("glucose", 5.55, "mmol/L", 100.0, 0.1),          # 100 mg/dL = 5.55 mmol/L
    ("bun", 7.14, "mmol/L", 20.0, 0.05),              # BUN 20 mg/dL = 7.14 mmol/L urea
    ("calcium", 2.5, "mmol/L", 10.02, 0.01),          # 2.5 mmol/L = 10.0 mg/dL
    ("total_cholesterol", 5.17, "mmol/L", 200.0, 0.2),
    ("triglycerides", 1.7, "mmol/L", 150.6, 0.2),
    ("albumin", 40.0, "g/L", 4.0, 1e-9),
    ("sodium", 140.0, "mEq/L", 140.0, 1e-9),
    ("bicarbonate", 24.0, "mmol/L", 24.0, 1e-9),
    ("total_bilirubin", 17.1, "µmol/L", 1.0, 0.001),  # 1 mg/dL = 17.1 µmol/L
    ("platelets", 250000, "/µL", 250.0, 1e-9),
    ("platelets", 2.5e11, "/L", 250.0, 1e-9),
])
def test_analyte_known_values(analyte: str, value: float, unit: str, expected: float, tol: float) -> None:
    assert to_canonical(analyte, value, unit) == pytest.approx(expected, abs=tol)


@pytest.mark.parametrize(("dim", "value", "unit", "expected"), [
    ("mass", 176.37, "lb", 80.0), ("length", 70.866, "in", 180.0), ("length", 6, "ft", 182.88),
    ("temperature", 98.6, "°F", 37.0), ("temperature", 310.15, "K", 37.0), ("age", 18, "months", 1.5),
    ("rate", 80, "beats per minute", 80.0), ("pressure", 16, "kPa", 120.01),
])
def test_dimension_known_values(dim: str, value: float, unit: str, expected: float) -> None:
    assert DIMENSIONS[dim].to_canonical(value, unit) == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize(("spelling", "canonical"), [
    ("mm hg", "mmHg"), ("beats per minute", "/min"), ("breaths per minute", "/min"), ("msec", "ms"),
    ("degrees fahrenheit", "F"), ("degrees celsius", "C"), ("per day", "/day"), ("kg/m^2", "kg/m²"),
])
def test_unit_spellings(spelling: str, canonical: str) -> None:
    assert normalize_unit(spelling) == canonical


@pytest.mark.parametrize(("raw", "expected"), [
    (1.2, (1.2, None)), ("1.2 mg/dL", (1.2, "mg/dL")), ("80kg", (80.0, "kg")), ({"value": 3, "unit": "g/L"},
                                                                                  (3.0, "g/L")),
    ([7.1, "mmol/L"], (7.1, "mmol/L")), ("5 ft 10 in", (177.8, "cm")), ("6'0\"", (182.88, "cm")), (("5", "mg"), (5.0, "mg")), ("-3.5e1 C", (-35.0, "C")),
])
def test_parse_quantity_forms(raw: object, expected: tuple[float, str | None]) -> None:
    value, unit = parse_quantity(raw, "x")
    assert value == pytest.approx(expected[0]) and unit == expected[1]


@pytest.mark.parametrize("raw", [True, "abc", {"unit": "mg"}, [1, 2, 3], None])
def test_parse_quantity_rejects(raw: object) -> None:
    with pytest.raises(InputError) as exc:
        parse_quantity(raw, "creatinine")
    assert str(exc.value).startswith("creatinine:")


def test_unknown_unit_names_field_and_units() -> None:
    with pytest.raises(UnitError) as exc:
        to_canonical("creatinine", 1.0, "furlongs", field_name="creatinine")
    assert "creatinine" in str(exc.value) and "µmol/L" in str(exc.value)


_positive = st.floats(min_value=1e-3, max_value=1e4, allow_nan=False, allow_infinity=False)


@given(st.sampled_from(sorted(ANALYTES)), _positive, st.data())
def test_analyte_round_trip(name: str, value: float, data: st.DataObject) -> None:
    a = ANALYTES[name]
    # an empty unit means "the canonical unit" on input, so it is only a real unit where canonical is unitless
    unit = data.draw(st.sampled_from(sorted(u for u in a.factors if u or not a.canonical)))
    back = a.from_canonical(a.to_canonical(value, unit), unit)
    assert math.isclose(back, value, rel_tol=1e-9)


@given(st.sampled_from(sorted(DIMENSIONS)), st.floats(min_value=-1e3, max_value=1e4, allow_nan=False), st.data())
def test_dimension_round_trip(name: str, value: float, data: st.DataObject) -> None:
    d = DIMENSIONS[name]
    unit = data.draw(st.sampled_from(sorted(u for u in d.factors if u)))
    back = d.from_canonical(d.to_canonical(value, unit), unit)
    assert math.isclose(back, value, rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.parametrize(("raw", "expected"), [
    ([130000, "µL"], 130.0), ([9440, "L"], 9.44), ([2.1e11, "L"], 210.0), ([910, "m^3"], 0.91), ("7.5", 7.5),
    ("7.5 x10^9/L", 7.5), ([7500, "cells/mm3"], 7.5),
])
def test_cell_counts_with_bare_or_odd_volume_units(raw: object, expected: float) -> None:
    from wardround.tools.calculators.base import lab

    spec = next(m for m in lab("wbc").__metadata__ if hasattr(m, "validate"))
    assert spec.validate(raw, "wbc") == pytest.approx(expected)
