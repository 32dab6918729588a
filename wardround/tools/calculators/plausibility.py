"""Plausibility of calculator inputs and results: the one place every calculator's call is checked.

``Calculator.run`` calls :func:`check_inputs` after the inputs are validated and converted to canonical units
(kg, cm, mmHg, /min) and :func:`check_output` on the result. The field types of ``base.py`` bound each input on
its own (wide enough for a neonate and for every unit); the checks here catch what those bounds cannot: an adult
height typed in inches as centimetres, a weight and height that make an impossible body, swapped blood
pressures, a heart rate outside the range a formula was built for, and an impossible result (a negative weight
or concentration).

The bounds are wardround's plausibility limits, not clinical reference ranges: values outside them are almost
always a unit or typing error [plausibility bounds: wardround's own, reference unverified]. Each error names the
input and says how to fix it.

This module registers no calculator.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wardround.errors import InputError

#: Adult height (cm): below 100 cm an adult height is almost always inches or feet typed as cm.
ADULT_HEIGHT_CM = (100.0, 250.0)
#: Body weight (kg) at any age the calculators take: from an extremely preterm neonate (~0.4 kg at 23 weeks) up.
WEIGHT_KG = (0.2, 500.0)
#: Body mass index (kg/m²) from a given weight and height, or given directly.
BMI_KG_M2 = (8.0, 120.0)
#: Heart rate (/min) any calculator takes.
HEART_RATE = (20.0, 300.0)
#: Age from which the adult height range applies (years).
ADULT_AGE = 18.0

#: Calculators whose formula is defined for adults only: the adult height range applies even without an age.
ADULT_ONLY = frozenset({"creatinine_clearance", "ideal_body_weight", "adjusted_body_weight"})

#: Narrower input ranges where a formula is less reliable than over the whole shared range: (calculator, field) ->
#: (low, high, why). Outside them the result is still computed but carries a warning, because the bound is not a
#: hard limit of the formula. The QT corrections diverge from each other and from the measured QT at slow and fast
#: rates; 40-150/min is wardround's caution bound for them [reference unverified].
VALIDITY: dict[tuple[str, str], tuple[float, float, str]] = {
    **{(qtc, "heart_rate"): (40.0, 150.0, "the QT correction formulas are not valid at slower or faster rates "
                                          "[bound unverified]")
       for qtc in ("qtc_bazett", "qtc_fridericia", "qtc_framingham", "qtc_hodges", "qtc_rautaharju")},
}

#: Result units that cannot be negative (a body weight, a concentration, a clearance, a rate, a duration).
NONNEGATIVE_UNITS = frozenset({"kg", "mg/dL", "mL/min", "mL/min/1.73 m²", "m²", "mL/h", "kg/m²", "ms", "mg", "µg",
                               "mL", "L", "mOsm/kg", "µg/h", "µg/kg/min", "MME/day", "/day", "days"})
#: Calculators whose result is signed although its unit is not: a negative free water deficit is a water excess.
SIGNED = frozenset({"free_water_deficit"})

#: Plausible result ranges of single calculators: calculator -> (low, high, unit, what to check).
OUTPUT_RANGE: dict[str, tuple[float, float, str, str]] = {
    **{qtc: (200.0, 900.0, "ms", "check the QT interval (ms) and the heart rate [bound unverified]")
       for qtc in ("qtc_bazett", "qtc_fridericia", "qtc_framingham", "qtc_hodges", "qtc_rautaharju")},
}


def _num(values: Mapping[str, Any], name: str) -> float | None:
    v = values.get(name)
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return float(v)


def check_inputs(calculator_id: str, values: Mapping[str, Any]) -> list[str]:
    """Raise ``InputError`` naming the input when canonical ``values`` are implausible together; return warnings
    for inputs outside the range this formula is reliable for."""
    age = _num(values, "age")
    height = _num(values, "height")
    weight = _num(values, "weight")
    adult = (age is not None and age >= ADULT_AGE) or calculator_id in ADULT_ONLY
    if height is not None and adult:
        lo, hi = ADULT_HEIGHT_CM
        if not lo <= height <= hi:
            hint = (f"if it was measured in inches write height={height:g}in (= {height * 2.54:.0f} cm)"
                    if height < lo and height * 2.54 <= hi else "check the value and its unit")
            raise InputError("height", f"{height:g} cm is not a plausible adult height ({lo:g}-{hi:g} cm)", hint)
    if weight is not None:
        lo, hi = WEIGHT_KG
        if not lo <= weight <= hi:
            raise InputError("weight", f"{weight:g} kg is not a plausible body weight ({lo:g}-{hi:g} kg)",
                             "check the value and its unit (kg or lb)")
    bmi_given = _num(values, "bmi")
    if bmi_given is not None and not BMI_KG_M2[0] <= bmi_given <= BMI_KG_M2[1]:
        raise InputError("bmi", f"{bmi_given:g} kg/m² is not a plausible BMI ({BMI_KG_M2[0]:g}-{BMI_KG_M2[1]:g})",
                         "check the value")
    if weight is not None and height is not None and height > 0:
        bmi = weight / (height / 100.0) ** 2
        lo, hi = BMI_KG_M2
        if not lo <= bmi <= hi:
            raise InputError("height, weight", f"weight {weight:g} kg and height {height:g} cm give a BMI of "
                             f"{bmi:.1f} kg/m², outside the possible {lo:g}-{hi:g}",
                             "check both values and their units (a height in inches typed as cm, lb as kg)")
    sbp, dbp = _num(values, "systolic_bp"), _num(values, "diastolic_bp")
    if sbp is not None and dbp is not None and dbp >= sbp:
        raise InputError("diastolic_bp", f"{dbp:g} mmHg is not below systolic_bp {sbp:g} mmHg",
                         "check that the two pressures are not swapped")
    hr = _num(values, "heart_rate")
    if hr is not None and not HEART_RATE[0] <= hr <= HEART_RATE[1]:
        raise InputError("heart_rate", f"{hr:g}/min is not a plausible heart rate ({HEART_RATE[0]:g}-"
                         f"{HEART_RATE[1]:g}/min)", "check the value")
    warnings: list[str] = []
    for (calc, field), (lo, hi, why) in VALIDITY.items():
        if calc != calculator_id:
            continue
        v = _num(values, field)
        if v is not None and not lo <= v <= hi:
            warnings.append(f"{field} {v:g} is outside {lo:g}-{hi:g}, the range {calculator_id} is reliable for: "
                            f"{why}; interpret the result with caution")
    return warnings


def check_output(calculator_id: str, unit: str, value: Any) -> None:
    """Raise ``InputError`` when a result is impossible (a negative weight, an LDL below zero, a QTc of 90 ms)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return
    if unit in NONNEGATIVE_UNITS and value < 0 and calculator_id not in SIGNED:
        raise InputError("result", f"{calculator_id} gave {value:.4g} {unit}, which cannot be negative",
                         "check the inputs and their units")
    rng = OUTPUT_RANGE.get(calculator_id)
    if rng is not None and not rng[0] <= value <= rng[1]:
        lo, hi, u, fix = rng
        raise InputError("result", f"{calculator_id} gave {value:.4g} {u}, outside the plausible {lo:g}-{hi:g} {u}",
                         fix)
