"""Physical calculators: body size, blood pressure, fluids and QT correction (MedCalc-Bench category "physical")."""

from __future__ import annotations

from wardround.tools.calculators.base import (
    CalculatorInput,
    Computed,
    DiastolicBP,
    Height,
    SystolicBP,
    Weight,
    calculator,
    param,
)


class BmiInput(CalculatorInput):
    """Inputs of the body mass index."""

    weight: Weight = param("body weight")
    height: Height = param("body height")


def bmi_value(weight_kg: float, height_cm: float) -> float:
    """BMI in kg/m² from weight (kg) and height (cm)."""
    m = height_cm / 100.0
    return weight_kg / (m * m)


def bmi_band(value: float) -> str:
    """WHO adult BMI class (WHO Technical Report Series 894, 2000) [reference unverified]."""
    if value < 18.5:
        return "underweight"
    if value < 25.0:
        return "normal weight"
    if value < 30.0:
        return "overweight"
    return "obese"


@calculator(
    id="bmi", name="Body Mass Index (BMI)", category="physical", unit="kg/m²",
    synonyms=("body mass index", "quetelet index", "bmi"), keywords=("obesity", "weight", "height", "overweight"),
    reference="Keys A, Fidanza F, Karvonen MJ, et al. Indices of relative weight and obesity. "
              "J Chronic Dis 1972;25:329-43. PMID:4650929",
)
def bmi(x: BmiInput) -> Computed:
    """Body mass index = weight / height², with the WHO adult class."""
    m = x.height / 100.0
    value = x.weight / (m * m)
    return Computed(value, "kg/m²", bmi_band(value), [
        f"height {x.height:g} cm = {m:g} m",
        f"BMI = weight / height² = {x.weight:g} kg / ({m:g} m)² = {value:.2f} kg/m²",
    ])


class MapInput(CalculatorInput):
    """Inputs of the mean arterial pressure."""

    systolic_bp: SystolicBP = param("systolic blood pressure")
    diastolic_bp: DiastolicBP = param("diastolic blood pressure")


@calculator(
    id="mean_arterial_pressure", name="Mean Arterial Pressure (MAP)", category="physical", unit="mmHg",
    synonyms=("mean arterial pressure", "map", "mean blood pressure"), keywords=("blood pressure", "perfusion"),
    reference="Meaney E, Alva F, Moguel R, et al. Formula and nomogram for the sphygmomanometric calculation of "
              "the mean arterial pressure. Heart 2000;84:64. doi:10.1136/heart.84.1.64",
)
def mean_arterial_pressure(x: MapInput) -> Computed:
    """MAP = DBP + (SBP - DBP) / 3 = (2·DBP + SBP) / 3."""
    if x.diastolic_bp >= x.systolic_bp:
        from wardround.errors import InputError

        raise InputError("diastolic_bp", f"{x.diastolic_bp:g} mmHg is not below systolic_bp {x.systolic_bp:g}",
                         "check that the two pressures are not swapped")
    value = (2.0 * x.diastolic_bp + x.systolic_bp) / 3.0
    band = "low (< 65 mmHg, organ hypoperfusion risk)" if value < 65 else "normal or high"
    return Computed(value, "mmHg", band, [
        f"MAP = (2 × DBP + SBP) / 3 = (2 × {x.diastolic_bp:g} + {x.systolic_bp:g}) / 3 = {value:.1f} mmHg",
    ])
