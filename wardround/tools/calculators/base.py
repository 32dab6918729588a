"""Building blocks of wardround's clinical calculators: typed inputs with units, the decorator, the result.

How to write a calculator
=========================

A calculator is one plain function decorated with :func:`calculator`. It takes ONE argument, a pydantic
input model (subclass of :class:`CalculatorInput`), and returns a :class:`Computed`. Put it in a module of
``wardround.tools.calculators`` (``lab.py``, ``physical.py``, ``scores_cardiology.py``, ...): the registry
imports every module of the package with ``pkgutil``, so a new module registers itself with no other edit.

1. The input model. Every field is declared with a ready-made *field type* and :func:`param`::

       class MapInput(CalculatorInput):
           systolic_bp: SystolicBP = param("systolic blood pressure")
           diastolic_bp: DiastolicBP = param("diastolic blood pressure")

   * Field NAMES are the project's clinical vocabulary and must be the same everywhere: ``age``, ``sex``,
     ``weight``, ``height``, ``heart_rate``, ``systolic_bp``, ``diastolic_bp``, ``respiratory_rate``,
     ``temperature``, ``spo2``, ``fio2``, ``pao2``, ``gcs``, and for labs the analyte names of
     ``wardround.units.ANALYTES`` (``creatinine``, ``bun``, ``sodium``, ``potassium``, ``chloride``,
     ``bicarbonate``, ``glucose``, ``albumin``, ``calcium``, ``total_bilirubin``, ``inr``, ``hemoglobin``,
     ``hematocrit``, ``wbc``, ``platelets``, ``ph``, ...). Booleans are named after the finding
     (``congestive_heart_failure``, ``hemoptysis``, ``active_cancer``).
   * Field TYPES carry the unit. Quantities (:data:`Age`, :data:`Weight`, :data:`Height`, :data:`HeartRate`,
     :data:`SystolicBP`, :data:`Temperature`, ``Creatinine``/``BUN``/... made by :func:`lab`, or your own from
     :func:`measure` / :func:`number`) validate to a ``float`` in the CANONICAL unit (kg, cm, years, °C,
     mmHg, /min, ms, and each analyte's canonical unit in ``units.py``). They accept a bare number (already
     canonical), ``"1.2 mg/dL"``, ``{"value": 1.2, "unit": "mg/dL"}`` and ``[1.2, "mg/dL"]`` (MedCalc-Bench
     style), convert with the tables of ``wardround.units`` (extend those tables, never write a second one),
     and reject impossible values with an :class:`~wardround.errors.InputError` that names the field, the
     accepted range and the accepted units.
   * :data:`Finding` is a boolean that also accepts ``"yes"/"no"/"present"/"absent"/1/0``. :data:`Sex`
     validates to ``"male"``/``"female"``. :func:`choice` makes a categorical input from canonical options and
     their synonyms (e.g. ascites ``none/slight/moderate``). :data:`DateInput` is a ``datetime.date``
     (ISO ``2024-05-23`` or US ``05/23/2024``; years 1900-2200). :func:`count` is a bounded integer.
   * :func:`param` gives the description (shown to language models), natural-language ``aliases`` (the
     phrasings other sources use, e.g. MedCalc-Bench's ``"Heart Rate or Pulse"``; standard fields already get
     the aliases in :data:`STANDARD_ALIASES` and lab fields get their analyte's aliases from ``units.py``, so
     list only extra ones), the ``normal`` value used under ``assume_normal=True``, and an optional
     ``default`` for inputs that are truly optional (e.g. cycle length 28 days).

2. Missing inputs and ``assume_normal``. A field without a default is required: when it is missing,
   ``calculate()`` raises ONE error naming every missing field. With ``assume_normal=True`` (MedCalc-Bench's
   convention: an unmentioned finding is absent / normal) a missing field takes its ``normal`` value instead,
   and the result lists it in ``assumed`` and in the explanation. :data:`Finding` fields default to
   ``normal=False`` automatically; give quantities a ``normal=`` only where the score's reference defines a
   normal value (e.g. APACHE II assigns 0 points to an unmeasured variable).

3. The compute function returns ``Computed(value, unit, interpretation, steps)``: ``value`` is a float/int
   (a date calculator returns an ISO date string), ``interpretation`` the band the reference defines, and
   ``steps`` a short step-by-step explanation with the numbers substituted. Raise ``InputError`` (naming the
   field) for combinations the formula cannot take. Keep it lean: no pint, no LangChain, no I/O -- one call
   must stay far below 200 µs.

4. The decorator records id (stable snake_case), name, category (the MedCalc-Bench ``Category`` of the
   calculator: lab, physical, risk, severity, diagnosis, date, dosage), synonyms and keywords (searched by
   ``find_calculator``), the output unit, the output kind (``decimal``/``integer``/``date``/``weeks_days``)
   and the PRIMARY reference (author, journal, year and a PMID or DOI that you verified; otherwise the
   guideline name and ``[reference unverified]``). Cite item-level sources next to the code of each item too.

Complete worked example (the real BMI calculator lives in ``physical.py``)::

    from wardround.tools.calculators.base import (
        CalculatorInput, Computed, Height, Weight, calculator, param)

    class BmiInput(CalculatorInput):
        weight: Weight = param("body weight")
        height: Height = param("body height")

    @calculator(
        id="bmi", name="Body Mass Index (BMI)", category="physical", unit="kg/m²",
        synonyms=("body mass index", "quetelet index"), keywords=("obesity", "weight", "height"),
        reference="Keys A et al. Indices of relative weight and obesity. J Chronic Dis 1972;25:329-43. "
                  "PMID:4650929",
    )
    def bmi(x: BmiInput) -> Computed:
        '''BMI = weight / height^2, the WHO adult obesity classification.'''
        m = x.height / 100.0
        value = x.weight / (m * m)
        band = "underweight" if value < 18.5 else "normal" if value < 25 else "overweight" if value < 30 \\
            else "obese"
        return Computed(value, "kg/m²", band, [
            f"height {x.height:g} cm = {m:g} m",
            f"BMI = weight / height² = {x.weight:g} / {m:g}² = {value:.2f} kg/m²",
        ])

Calling it: ``calculate("bmi", {"weight": "176 lb", "Height": [180, "cm"]})`` (in ``registry``) returns a
:class:`CalculatorResult` whose ``inputs`` are the canonical values actually used, so the value recomputes from
them; ``result_to_evidence`` turns it into ledger evidence.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args, get_type_hints

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, WithJsonSchema
from pydantic_core import PydanticUndefined

from wardround.errors import InputError, UnitError
from wardround.units import ANALYTES, DIMENSIONS, normalize_unit

__all__ = [
    "CATEGORIES", "STANDARD_ALIASES", "REGISTRY", "Calculator", "CalculatorInput", "CalculatorResult",
    "Computed", "QuantitySpec", "calculator", "param", "lab", "measure", "number", "count", "choice",
    "parse_quantity", "Finding", "Sex", "DateInput", "Age", "Weight", "Height", "HeartRate", "SystolicBP",
    "DiastolicBP", "RespiratoryRate", "Temperature", "SpO2", "FiO2", "QTInterval", "BodyMassIndex", "GCSTotal",
    "normalize_key",
]

Category = Literal["lab", "physical", "risk", "severity", "diagnosis", "date", "dosage"]
CATEGORIES: tuple[str, ...] = ("lab", "physical", "risk", "severity", "diagnosis", "date", "dosage")
OutputKind = Literal["decimal", "integer", "date", "weeks_days"]

_MISSING: Any = PydanticUndefined


# ---------------------------------------------------------------------------------------------------------
# Quantities


_FEET_INCHES_RE = re.compile(
    r"^\s*(\d+(?:\.\d+)?)\s*(?:ft|feet|foot|')\s*(\d+(?:\.\d+)?)\s*(?:in|inch|inches|\"|'')?\s*$", re.I)
_NUM_RE = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")


def parse_quantity(raw: Any, field_name: str) -> tuple[float, str | None]:
    """Split a raw quantity into ``(value, unit or None)``.

    Accepts a number, ``"1.2 mg/dL"``, ``{"value": 1.2, "unit": "mg/dL"}`` and ``[1.2, "mg/dL"]``.
    """
    if isinstance(raw, bool):
        raise InputError(field_name, "expected a number with a unit, not a boolean", value=raw)
    if isinstance(raw, int | float):
        return float(raw), None
    if isinstance(raw, Mapping):
        if "value" not in raw:
            raise InputError(field_name, "a quantity given as a mapping needs a 'value' key", value=raw,
                             fix='write {"value": 1.2, "unit": "mg/dL"}')
        value, unit = raw["value"], raw.get("unit")
    elif isinstance(raw, list | tuple):
        if len(raw) == 1:
            value, unit = raw[0], None
        elif len(raw) == 2:
            value, unit = raw
        else:
            raise InputError(field_name, "a quantity given as a list must be [value, unit]", value=raw)
    elif isinstance(raw, str):
        fi = _FEET_INCHES_RE.match(raw)
        if fi:  # 5 ft 7 in, 5'7"
            return float(fi.group(1)) * 30.48 + float(fi.group(2)) * 2.54, "cm"
        m = _NUM_RE.match(raw)
        if not m:
            raise InputError(field_name, "could not read a number", value=raw, fix='write e.g. "1.2 mg/dL"')
        return float(m.group(1)), (m.group(2) or None)
    else:
        raise InputError(field_name, f"expected a number with a unit, not {type(raw).__name__}", value=raw)
    if isinstance(value, str):
        v, inner_unit = parse_quantity(value, field_name)
        return v, unit if unit not in (None, "") else inner_unit
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(field_name, "the value of a quantity must be a number", value=raw)
    if unit is not None and not isinstance(unit, str):
        raise InputError(field_name, "the unit of a quantity must be a string", value=raw)
    return float(value), unit


@dataclass(frozen=True, slots=True)
class QuantitySpec:
    """Unit and range metadata of one quantity field type (found in the field's ``Annotated`` metadata)."""

    kind: str  # "analyte" | "dimension" | "number"
    name: str  # analyte or dimension name (or a label for plain numbers)
    canonical: str
    units: tuple[str, ...]
    lo: float
    hi: float

    def describe_units(self) -> str:
        """Human text of the accepted units, canonical first."""
        others = [u for u in self.units if u and u != self.canonical]
        shown = self.canonical or "no unit"
        return shown + (f" (also {', '.join(others)})" if others else "")

    def to_canonical(self, value: float, unit: str | None, field_name: str) -> float:
        """Convert ``value`` in ``unit`` (``None`` = canonical) to the canonical unit; unknown units raise."""
        if unit is None or unit == "":
            return value
        if self.kind == "analyte":
            return ANALYTES[self.name].to_canonical(value, unit, field_name)
        if self.kind == "dimension":
            return DIMENSIONS[self.name].to_canonical(value, unit, field_name)
        u = normalize_unit(unit)
        if u in self.units or u == self.canonical:
            return value
        raise UnitError(field_name, f"unknown unit {unit!r}", f"give it in {self.describe_units()}")

    def validate(self, raw: Any, field_name: str) -> float:
        """Parse, convert and range-check one raw input; return the canonical float."""
        value, unit = parse_quantity(raw, field_name)
        if not math.isfinite(value):
            raise InputError(field_name, "must be a finite number", value=raw)
        if self.kind == "analyte" and unit is not None:
            unit = _count_unit(self.name, unit, value)
        out = self.to_canonical(value, unit, field_name)
        if not self.lo <= out <= self.hi:
            cu = f" {self.canonical}" if self.canonical else ""
            raise InputError(field_name, f"{out:g}{cu} is outside the accepted range {self.lo:g}-{self.hi:g}{cu}",
                             f"check the value and its unit (accepted units: {self.describe_units()})", value=raw)
        return out


_COUNT_ANALYTES = {"wbc", "platelets", "csf_wbc"}
_PER_VOLUME = {"µl": "/µL", "ul": "/µL", "mm3": "/µL", "mm^3": "/µL", "mm³": "/µL", "m^3": "/µL", "cmm": "/µL",
               "count/µl": "/µL"}


def _count_unit(analyte: str, unit: str, value: float) -> str:
    """Read a bare volume written after a cell count ('µL', 'mm^3') as 'per' that volume.

    A bare 'L' is read by magnitude: a count of a million or more is per litre; a count from 100 up is per µL
    (per litre it would be a million times below any possible blood count, while cells/µL is how counts in the
    thousands are written).
    """
    if analyte in _COUNT_ANALYTES:
        key = unit.strip().lower().replace("μ", "µ").replace("cells", "").replace("/", "").strip()
        if key in _PER_VOLUME:
            return _PER_VOLUME[key]
        if key == "l" and analyte != "csf_wbc":
            return "/L" if value >= 1e6 else "/µL" if value >= 100 else unit
    return unit


def _quantity_type(spec: QuantitySpec) -> Any:
    def _validate(raw: Any, info: Any) -> float:
        return spec.validate(raw, info.field_name or spec.name)

    schema = {"anyOf": [{"type": "number"}, {"type": "string"}]}
    return Annotated[float, BeforeValidator(_validate), WithJsonSchema(schema), spec]


def lab(analyte: str, lo: float | None = None, hi: float | None = None) -> Any:
    """Field type for a laboratory analyte of ``wardround.units.ANALYTES`` (canonical unit, its alternatives)."""
    a = ANALYTES[analyte]
    plo, phi = a.plausible
    units = tuple(u for u in a.factors if u != a.canonical)
    return _quantity_type(QuantitySpec("analyte", analyte, a.canonical, (a.canonical, *units),
                                       plo if lo is None else lo, phi if hi is None else hi))


def measure(dimension: str, lo: float, hi: float) -> Any:
    """Field type for a physical quantity of ``wardround.units.DIMENSIONS`` with its accepted range."""
    d = DIMENSIONS[dimension]
    units = tuple(u for u in d.factors if u != d.canonical)
    return _quantity_type(QuantitySpec("dimension", dimension, d.canonical, (d.canonical, *units), lo, hi))


def number(lo: float, hi: float, unit: str = "", label: str = "number", also: Sequence[str] = ()) -> Any:
    """Field type for a unit-less (or single-unit) number such as pH, INR, a GCS total or a drink count."""
    return _quantity_type(QuantitySpec("number", label, unit, (unit, *(normalize_unit(a) for a in also)), lo, hi))


def count(lo: int, hi: int, label: str = "count") -> Any:
    """Field type for a bounded integer count (drinks per week, number of risk factors)."""
    spec = QuantitySpec("number", label, "", ("",), float(lo), float(hi))

    def _validate(raw: Any, info: Any) -> int:
        v = spec.validate(raw, info.field_name or label)
        if v != int(v):
            raise InputError(info.field_name or label, "must be a whole number", value=raw)
        return int(v)

    return Annotated[int, BeforeValidator(_validate),
                     WithJsonSchema({"type": "integer", "minimum": lo, "maximum": hi}), spec]


# ---------------------------------------------------------------------------------------------------------
# Booleans, sex, categories, dates

_TRUE = {"true", "yes", "y", "present", "positive", "1", "t", "+", "pos"}
_FALSE = {"false", "no", "n", "absent", "negative", "0", "f", "-", "neg", "none"}


def _parse_bool(raw: Any, info: Any) -> bool:
    name = info.field_name or "finding"
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
        return raw.strip().lower() in _TRUE
    raise InputError(name, "expected true or false", value=raw, fix="use true/false (also yes/no, present/absent)")


Finding = Annotated[bool, BeforeValidator(_parse_bool), WithJsonSchema({"type": "boolean"})]
"""A finding that is present (True) or absent (False); ``normal=False`` is implied under assume_normal."""

_SEX = {"m": "male", "male": "male", "man": "male", "boy": "male", "f": "female", "female": "female",
        "woman": "female", "girl": "female"}


def _parse_sex(raw: Any, info: Any) -> str:
    key = str(raw).strip().lower() if isinstance(raw, str) else None
    if key in _SEX:
        return _SEX[key]
    raise InputError(info.field_name or "sex", "expected male or female", value=raw,
                     fix="use 'male' or 'female' (also M/F)")


Sex = Annotated[Literal["male", "female"], BeforeValidator(_parse_sex),
                WithJsonSchema({"type": "string", "enum": ["male", "female"]})]
"""Biological sex as the reference equations use it: ``"male"`` or ``"female"``."""


def _norm_text(text: str) -> str:
    return re.sub(r"[^a-z0-9<>≥≤+]+", " ", text.lower()).strip()


def choice(options: Mapping[str, Iterable[str]]) -> Any:
    """Categorical field type: ``{"canonical option": ["synonym", ...], ...}``; validates to the canonical option."""
    index: dict[str, str] = {}
    for canon, syns in options.items():
        index[_norm_text(canon)] = canon
        for s in syns:
            index[_norm_text(s)] = canon
    keys = list(options)

    def _validate(raw: Any, info: Any) -> str:
        if isinstance(raw, str):
            hit = index.get(_norm_text(raw))
            if hit is not None:
                return hit
        raise InputError(info.field_name or "choice", "not one of the accepted options", value=raw,
                         fix=f"use one of: {', '.join(keys)}")

    return Annotated[str, BeforeValidator(_validate), WithJsonSchema({"type": "string", "enum": keys})]


_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%Y/%m/%d", "%d %B %Y", "%B %d, %Y", "%d %b %Y", "%b %d, %Y")


def _parse_date(raw: Any, info: Any) -> _dt.date:
    name = info.field_name or "date"
    if isinstance(raw, _dt.datetime):
        d = raw.date()
    elif isinstance(raw, _dt.date):
        d = raw
    elif isinstance(raw, str):
        text = raw.strip()
        for fmt in _DATE_FORMATS:
            try:
                d = _dt.datetime.strptime(text, fmt).date()
                break
            except ValueError:
                continue
        else:
            raise InputError(name, "could not read a date", value=raw,
                             fix="write YYYY-MM-DD (ISO) or MM/DD/YYYY")
    else:
        raise InputError(name, "expected a date", value=raw, fix="write YYYY-MM-DD (ISO) or MM/DD/YYYY")
    if not 1900 <= d.year <= 2200:
        raise InputError(name, f"year {d.year} is outside the accepted range 1900-2200", value=raw,
                         fix="check the date")
    return d


DateInput = Annotated[_dt.date, BeforeValidator(_parse_date),
                      WithJsonSchema({"type": "string", "format": "date",
                                      "description": "YYYY-MM-DD (MM/DD/YYYY also accepted)"})]
"""A calendar date between 1900 and 2200 (ISO or US month/day/year)."""


# ---------------------------------------------------------------------------------------------------------
# Ready-made field types for the standard clinical quantities (use these names and types everywhere)

Age = measure("age", 0.0, 130.0)
Weight = measure("mass", 0.3, 650.0)
Height = measure("length", 20.0, 280.0)
HeartRate = measure("rate", 10.0, 350.0)
RespiratoryRate = measure("rate", 0.0, 120.0)
SystolicBP = measure("pressure", 20.0, 350.0)
DiastolicBP = measure("pressure", 5.0, 250.0)
Temperature = measure("temperature", 20.0, 46.0)
SpO2 = measure("fraction", 20.0, 100.0)
FiO2 = measure("fraction", 21.0, 100.0)
QTInterval = measure("duration_ms", 150.0, 900.0)
BodyMassIndex = measure("bmi", 5.0, 150.0)
GCSTotal = number(3, 15, label="Glasgow Coma Scale total")

STANDARD_ALIASES: dict[str, tuple[str, ...]] = {
    "age": ("age", "patient age", "age in years"),
    "sex": ("sex", "gender", "biological sex"),
    "weight": ("weight", "body weight", "actual body weight", "weight kg"),
    "height": ("height", "body height", "stature"),
    "heart_rate": ("heart rate", "heart rate or pulse", "pulse", "pulse rate", "hr"),
    "systolic_bp": ("systolic blood pressure", "systolic bp", "sbp", "systolic"),
    "diastolic_bp": ("diastolic blood pressure", "diastolic bp", "dbp", "diastolic"),
    "respiratory_rate": ("respiratory rate", "respiration rate", "rr", "breathing rate"),
    "temperature": ("temperature", "body temperature", "temp"),
    "spo2": ("o₂ saturation percentage", "o2 saturation percentage", "oxygen saturation", "spo2", "sao2",
             "pulse oximetry"),
    "fio2": ("fio₂", "fio2", "fraction of inspired oxygen"),
    "gcs": ("glasgow coma score", "glasgow coma scale", "gcs"),
    # calculator-form labels of two lab inputs; every lab field also gets its analyte's names and aliases from the
    # one analyte alias table (``units.ANALYTES``), so lab names are not repeated here
    "bun": ("blood urea nitrogen (bun)",),
    "pao2": ("partial pressure of oxygen (pao₂) for apache ii",),
    "qt_interval": ("qt interval", "qt", "measured qt"),
    "bmi": ("body mass index (bmi)", "body mass index", "bmi"),
}
"""Natural-language aliases every calculator gets for these standard field names (matched case-insensitively)."""


def normalize_key(text: str) -> str:
    """Canonical form of an input name for alias matching: lower case, letters and digits only."""
    return re.sub(r"[^a-z0-9₂<>≥≤]+", "", text.lower().replace("_", ""))


# ---------------------------------------------------------------------------------------------------------
# Fields and models


def param(description: str, *, aliases: Sequence[str] = (), normal: Any = _MISSING, default: Any = _MISSING,
          unit_hint: str | None = None) -> Any:
    """Declare one calculator input.

    Args:
        description: what the input is (shown to models and in ``wardround calc show``).
        aliases: extra natural-language names that map to this field (``"Heart Rate or Pulse"``).
        normal: the value taken under ``assume_normal=True`` when the input is missing (Finding: False).
        default: a true default for optional inputs (used whether or not ``assume_normal`` is set).
        unit_hint: optional extra text about units for the description.
    """
    extra: dict[str, Any] = {}
    if aliases:
        extra["x-aliases"] = list(aliases)
    if normal is not _MISSING:
        extra["x-normal"] = normal
    desc = description if unit_hint is None else f"{description} ({unit_hint})"
    return Field(default, description=desc, json_schema_extra=extra or None)


def find_spec(finfo: Any) -> QuantitySpec | None:
    """The ``QuantitySpec`` of a pydantic field, also inside ``Optional[...]``."""
    for m in finfo.metadata:
        if isinstance(m, QuantitySpec):
            return m
    for arg in get_args(finfo.annotation):
        for m in getattr(arg, "__metadata__", ()):
            if isinstance(m, QuantitySpec):
                return m
    return None


_ACCEPTS = "accepted units: "


class CalculatorInput(BaseModel):
    """Base class of calculator input models: unknown keys are rejected, instances are frozen.

    Each quantity field's description gets its accepted units and range appended, so that any JSON schema
    built from the model (pydantic's, LangChain's tool schema) tells a language model what to send.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        changed = False
        for finfo in cls.model_fields.values():
            spec = find_spec(finfo)
            if spec is not None and _ACCEPTS not in (finfo.description or ""):
                finfo.description = (f"{finfo.description or spec.name} (a number in {spec.canonical or 'no unit'} "
                                     f"or text with a unit; {_ACCEPTS}{spec.describe_units()}; range "
                                     f"{spec.lo:g}-{spec.hi:g})")
                changed = True
        if changed:
            cls.model_rebuild(force=True)


class Computed:
    """What a compute function returns: value, unit, interpretation band and the explanation steps."""

    __slots__ = ("value", "unit", "interpretation", "steps", "warnings", "parts")

    def __init__(self, value: float | int | str, unit: str, interpretation: str = "",
                 steps: Sequence[str] = (), warnings: Sequence[str] = (),
                 parts: Mapping[str, Any] | None = None) -> None:
        if isinstance(value, float) and not math.isfinite(value):
            raise InputError("result", f"the formula produced {value}", "check the inputs")
        self.value = value
        self.unit = unit
        self.interpretation = interpretation
        self.steps = list(steps)
        self.warnings = list(warnings)
        self.parts = dict(parts) if parts else None


class CalculatorResult(BaseModel):
    """The outcome of one calculator call; ``inputs`` are the canonical values used (they recompute ``value``)."""

    calculator_id: str
    name: str
    category: str
    value: float | int | str
    unit: str
    interpretation: str = ""
    explanation: list[str] = Field(default_factory=list)
    reference: str
    inputs: dict[str, Any]
    assumed: list[str] = Field(default_factory=list, description="inputs filled by assume_normal")
    ignored: list[str] = Field(default_factory=list, description="input keys that matched no field")
    warnings: list[str] = Field(default_factory=list)
    parts: dict[str, Any] | None = Field(None, description="structured parts of a compound value (weeks, days)")

    def text(self) -> str:
        """One line: name = value unit (interpretation)."""
        v = f"{self.value:.4g}" if isinstance(self.value, float) else str(self.value)
        band = f" ({self.interpretation})" if self.interpretation else ""
        return f"{self.name} = {v} {self.unit}{band}".replace("  ", " ")


@dataclass(frozen=True)
class FieldInfo:
    """What the registry knows about one input field."""

    name: str
    description: str
    required: bool
    default: Any
    normal: Any
    has_normal: bool
    aliases: tuple[str, ...]
    spec: QuantitySpec | None
    kind: str  # quantity | finding | sex | choice | date | count


_FUZZY_CUTOFF = 0.86


class Calculator:
    """A registered calculator: metadata, the input model, the compute function and the alias index."""

    def __init__(self, *, id: str, name: str, category: str, unit: str, reference: str,
                 func: Callable[[Any], Computed], model: type[CalculatorInput], synonyms: Sequence[str],
                 keywords: Sequence[str], output: str, description: str) -> None:
        self.id = id
        self.name = name
        self.category = category
        self.unit = unit
        self.reference = reference
        self.func = func
        self.model = model
        self.synonyms = tuple(synonyms)
        self.keywords = tuple(keywords)
        self.output = output
        self.description = description
        self.fields: dict[str, FieldInfo] = {}
        self._alias: dict[str, str] = {}
        self._alias_cache: dict[str, str | None] = {}
        for fname, finfo in model.model_fields.items():
            extra = finfo.json_schema_extra if isinstance(finfo.json_schema_extra, dict) else {}
            spec = find_spec(finfo)
            ann = str(finfo.annotation)
            kind = ("count" if spec is not None and "int" in ann else
                    "quantity" if spec is not None else
                    "finding" if finfo.annotation is bool else
                    "sex" if "male" in ann else
                    "date" if finfo.annotation is _dt.date else "choice")
            has_normal = "x-normal" in extra or kind == "finding"
            normal = extra.get("x-normal", False if kind == "finding" else None)
            aliases = tuple(extra.get("x-aliases", ())) + STANDARD_ALIASES.get(fname, ())
            if spec is not None and spec.kind == "analyte":
                a = ANALYTES[spec.name]
                aliases += (a.name.replace("_", " "), *a.aliases)
            required = finfo.is_required()
            desc = (finfo.description or "").split(" (a number in ", 1)[0]
            self.fields[fname] = FieldInfo(fname, desc, required,
                                           None if required else finfo.default, normal, has_normal,
                                           aliases, spec, kind)
            for key in (fname, *aliases):
                self._alias.setdefault(normalize_key(key), fname)
        for fname in self.fields:  # a field's own name always wins over another field's alias
            self._alias[normalize_key(fname)] = fname

    # -- input mapping -------------------------------------------------------------------------------------

    def resolve_key(self, key: str) -> str | None:
        """The field an input name refers to (exact alias, then a close spelling), or ``None``."""
        hit = self._alias_cache.get(key, "")
        if hit != "":
            return hit
        norm = normalize_key(key)
        hit = self._alias.get(norm)
        if hit is None and norm:
            close = difflib.get_close_matches(norm, list(self._alias), n=1, cutoff=_FUZZY_CUTOFF)
            hit = self._alias[close[0]] if close else None
        if len(self._alias_cache) < 4096:
            self._alias_cache[key] = hit
        return hit

    def map_inputs(self, inputs: Mapping[str, Any], *, assume_normal: bool = False,
                   unknown: Literal["error", "ignore"] = "error") -> tuple[dict[str, Any], list[str], list[str]]:
        """Map raw input names to fields; fill or report missing ones. Returns (data, assumed, ignored)."""
        data: dict[str, Any] = {}
        ignored: list[str] = []
        for key, value in inputs.items():
            fname = self.resolve_key(key) if isinstance(key, str) else None
            if fname is None:
                ignored.append(str(key))
                continue
            if value is None:
                continue
            if fname in data and key != fname:
                continue  # the first mention wins; a field's own name given later overrides below
            data[fname] = value
        if ignored and unknown == "error":
            raise InputError(", ".join(ignored), f"not an input of {self.id}",
                             f"accepted inputs: {', '.join(self.fields)}")
        assumed: list[str] = []
        missing: list[str] = []
        for fname, f in self.fields.items():
            if fname in data or not f.required:
                continue
            if assume_normal and f.has_normal:
                data[fname] = f.normal
                assumed.append(fname)
            else:
                missing.append(fname)
        if missing:
            it = "them" if len(missing) > 1 else "it"
            hint = f"give {it}" if not assume_normal else f"no normal value can be assumed; give {it}"
            raise InputError(", ".join(missing), f"missing required input{'s' if len(missing) > 1 else ''} "
                             f"for {self.id}", f"{hint} ({'; '.join(self.describe_field(m) for m in missing)})")
        return data, assumed, ignored

    def describe_field(self, fname: str) -> str:
        """Short text of a field: name, kind and accepted units/range."""
        f = self.fields[fname]
        if f.spec is not None:
            return f"{fname}: {f.spec.describe_units()}, {f.spec.lo:g}-{f.spec.hi:g}"
        return f"{fname}: {f.kind}"

    # -- running ---------------------------------------------------------------------------------------------

    def validate(self, data: Mapping[str, Any]) -> CalculatorInput:
        """Validate mapped inputs with the pydantic model, turning pydantic errors into one ``InputError``."""
        try:
            return self.model.model_validate(data)
        except ValidationError as exc:
            raise _input_error(self.id, exc) from None

    def run(self, inputs: Mapping[str, Any] | CalculatorInput, *, assume_normal: bool = False,
            unknown: Literal["error", "ignore"] = "error") -> CalculatorResult:
        """Validate ``inputs`` (names may be aliases), compute, and return the full result."""
        if isinstance(inputs, CalculatorInput):
            model, assumed, ignored = inputs, [], []
        else:
            data, assumed, ignored = self.map_inputs(inputs, assume_normal=assume_normal, unknown=unknown)
            model = self.validate(data)
        from wardround.tools.calculators.plausibility import check_inputs, check_output

        cautions = check_inputs(self.id, model.__dict__)  # implausible combinations; ranges a formula is reliable for
        out = self.func(model)
        check_output(self.id, out.unit, out.value)  # impossible results (negative weight or LDL)
        recorded = {k: _jsonable(v) for k, v in model.__dict__.items()}
        steps = out.steps
        if assumed:
            steps = [f"assumed normal/absent (not given): {', '.join(f'{a}={recorded[a]}' for a in assumed)}",
                     *steps]
        return CalculatorResult.model_construct(
            calculator_id=self.id, name=self.name, category=self.category, value=out.value, unit=out.unit,
            interpretation=out.interpretation, explanation=steps, reference=self.reference, inputs=recorded,
            assumed=assumed, ignored=ignored, warnings=[*cautions, *out.warnings], parts=out.parts)

    def __repr__(self) -> str:
        return f"Calculator({self.id!r}, {self.category})"


def _jsonable(v: Any) -> Any:
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, BaseModel):
        return v.model_dump(mode="json")
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    return v


def _input_error(calc_id: str, exc: ValidationError) -> InputError:
    """One InputError naming every failing field, with our own message where a validator raised one."""
    fields: list[str] = []
    parts: list[str] = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(x) for x in err.get("loc", ())) or calc_id
        inner = (err.get("ctx") or {}).get("error")
        if isinstance(inner, InputError):
            fields.append(inner.field)
            parts.append(str(inner) if inner.field == loc else f"{loc}: {inner}")
            continue
        fields.append(loc)
        msg = err.get("msg", "invalid")
        if err.get("type") == "extra_forbidden":
            msg = "not an input of this calculator"
        parts.append(f"{loc}: {msg}")
    if len(parts) == 1:
        first = parts[0]
        field, _, rest = first.partition(": ")
        err = InputError(field, rest)
        err.args = (first,)
        return err
    err = InputError(", ".join(fields), "; ".join(parts))
    err.args = ("; ".join(parts),)
    return err


# ---------------------------------------------------------------------------------------------------------
# Registration

REGISTRY: dict[str, Calculator] = {}
"""Every calculator registered so far, by id (``registry.all_calculators()`` imports every module first)."""

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def calculator(*, id: str, name: str, category: Category, unit: str, reference: str,
               synonyms: Sequence[str] = (), keywords: Sequence[str] = (), output: OutputKind = "decimal",
               description: str | None = None) -> Callable[[Callable[[Any], Computed]], Callable[[Any], Computed]]:
    """Register a compute function as a calculator (see the module docstring for the full recipe).

    Args:
        id: stable snake_case id (``"creatinine_clearance"``).
        name: display name (the MedCalc-Bench calculator name where one exists).
        category: lab, physical, risk, severity, diagnosis, date or dosage.
        unit: unit of the result ("mL/min", "points", "" for ratios).
        reference: primary reference with PMID or DOI.
        synonyms: other names of the calculator, searched by ``find_calculator``.
        keywords: clinical keywords for search.
        output: decimal, integer, date (ISO string value) or weeks_days.
        description: one-line description (defaults to the function's docstring first line).
    """
    if not _ID_RE.match(id):
        raise ValueError(f"calculator id must be snake_case, not {id!r}")
    if category not in CATEGORIES:
        raise ValueError(f"calculator {id}: category must be one of {CATEGORIES}, not {category!r}")

    def register(func: Callable[[Any], Computed]) -> Callable[[Any], Computed]:
        hints = get_type_hints(func)
        params = [v for k, v in hints.items() if k != "return"]
        if len(params) != 1 or not (isinstance(params[0], type) and issubclass(params[0], CalculatorInput)):
            raise TypeError(f"calculator {id}: the function must take one CalculatorInput subclass argument")
        if id in REGISTRY and REGISTRY[id].func.__qualname__ != func.__qualname__:
            raise ValueError(f"calculator id {id!r} is registered twice")
        doc = (func.__doc__ or "").strip().splitlines()
        REGISTRY[id] = Calculator(id=id, name=name, category=category, unit=unit, reference=reference,
                                  func=func, model=params[0], synonyms=synonyms, keywords=keywords,
                                  output=output, description=description or (doc[0] if doc else name))
        func.calculator_id = id  # type: ignore[attr-defined]
        return func

    return register
