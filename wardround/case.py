"""The clinical case: pydantic models and loaders (JSON/YAML file, free text)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from wardround import display
from wardround.demographics import extract_demographics
from wardround.errors import CaseError, UnitError
from wardround.fhir.provenance import FhirRecord
from wardround.settings import env_int
from wardround.units import ANALYTES, DIMENSIONS, find_analyte, normalize_unit

Sex = Literal["male", "female", "other", "unknown"]
_SEX_WORDS = {"m": "male", "male": "male", "man": "male", "f": "female", "female": "female", "woman": "female",
              "other": "other", "unknown": "unknown", "u": "unknown", "": "unknown"}

_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)

#: Longest note read, in characters (``WARDROUND_MAX_NOTE_CHARS`` overrides): about 15,000 words, several times
#: a long discharge summary. Longer documents are record dumps, not a case note; a note at the limit packed with
#: findings takes a few seconds to read (examples/benchmarks/bench_reliability.py), well inside the 10 s bound.
MAX_NOTE_CHARS = 100_000
#: Largest case file read, in bytes: a case file is refused before it is read into memory.
MAX_CASE_FILE_BYTES = 8 * 1024 * 1024
#: Most items in one list of a case (labs, history items): keeps evidence ids short and a round bounded.
MAX_LIST_ITEMS = 1000
#: Environment variable listing extra folders imaging paths may point into (``os.pathsep``-separated).
IMAGING_ROOTS_ENV = "WARDROUND_IMAGING_ROOTS"


def max_note_chars() -> int:
    """The note length limit in characters: ``WARDROUND_MAX_NOTE_CHARS`` or ``MAX_NOTE_CHARS``."""
    return env_int("WARDROUND_MAX_NOTE_CHARS", MAX_NOTE_CHARS)


# -- numbers given as text ------------------------------------------------------------------------------------

# ASCII digits only: full-width or other Unicode digits in a structured number are refused, not read
_NUMBER_TEXT = re.compile(r"^\s*([-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?|[-+]?\.\d+)\s*(.*?)\s*$",
                          re.ASCII)
_CENSORED = re.compile(r"^\s*(<=|>=|=<|=>|<|>|≤|≥|less than|greater than|more than|under|over|above|below)\s*\d")


def split_number_text(text: str) -> tuple[float, str] | None:
    """``"310"`` -> ``(310.0, "")``, ``"1.2 mg/dL"`` -> ``(1.2, "mg/dL")``, ``"2,500 ng/L"`` -> ``(2500.0, "ng/L")``.

    ``None`` when the text does not start with a plain number (``"high"``, ``"trace"``, ``">100"``).
    """
    m = _NUMBER_TEXT.match(text)
    if not m:
        return None
    rest = m.group(2)
    if rest and (rest[0].isdigit() or rest[0] in ".,"):  # "1,2" (decimal comma) or "12 34": not one number
        return None
    return float(m.group(1).replace(",", "")), rest


def _number_text_problem(field: str, text: str, unit_hint: str) -> str:
    """The message for a value given as text that holds no plain number."""
    if _CENSORED.match(text.lower()):
        return (f"{field} {text!r} is a censored result (a bound, not a measurement); give the number as the value "
                f"in {unit_hint} and say in the note that it was reported as {text!r}")
    return (f"{field} {text!r} is not a number; give a number in {unit_hint} (the measured value; a number in text "
            "with its unit, such as \"1.2 mg/dL\", is read too), or describe a qualitative result in the note")


#: Vital-sign fields: (dimension of ``wardround.units.DIMENSIONS`` or None, canonical unit, words of the unit).
_VITAL_UNITS: dict[str, tuple[str | None, str, str]] = {
    "heart_rate": ("rate", "/min", "beats per minute"),
    "systolic_bp": ("pressure", "mmHg", "mmHg"),
    "diastolic_bp": ("pressure", "mmHg", "mmHg"),
    "respiratory_rate": ("rate", "/min", "breaths per minute"),
    "temperature_c": ("temperature", "C", "degrees Celsius"),
    "spo2": ("fraction", "%", "%"),
    "weight_kg": ("mass", "kg", "kg"),
    "height_cm": ("length", "cm", "cm"),
    "gcs": (None, "", "points (3-15)"),
    "temperature_f": ("temperature", "F", "degrees Fahrenheit"),
    "weight_lb": ("mass", "lb", "pounds"),
    "height_in": ("length", "in", "inches"),
}


def _read_quantity_text(field: str, value: Any, dimension: str | None, unit: str, words: str) -> Any:
    """A number given as text (``"96"``, ``"96 bpm"``, ``"70 kg"``) -> a float in ``unit``; other values unchanged.

    Text that holds no number (``"high"``, ``">100"``) and a unit of the wrong kind raise ``ValueError`` naming
    the field and the fix.
    """
    if not isinstance(value, str):
        return value
    parsed = split_number_text(value)
    if parsed is None:
        raise ValueError(_number_text_problem(field, value, words))
    number, given_unit = parsed
    if not given_unit:
        return number
    if dimension is None:
        raise ValueError(f"{field} {value!r}: this field takes a plain number ({words}); remove the unit")
    try:
        canonical = DIMENSIONS[dimension].to_canonical(number, given_unit, field)
    except UnitError as exc:
        raise ValueError(f"{field}: {exc.problem}; {exc.fix}") from None
    return round(DIMENSIONS[dimension].from_canonical(canonical, unit), 6)


#: How far two spellings of one vital may differ and still agree (rounding of the non-canonical unit to its last
#: digit: 0.1 °F = 0.06 °C, 1 lb = 0.45 kg, 1 in = 2.54 cm).
_AGREE = {"temperature_c": 0.1, "weight_kg": 0.5, "height_cm": 1.3}


class Vitals(BaseModel):
    """Vital signs in fixed units (named in each field) with physiologically possible ranges."""

    model_config = _STRICT

    heart_rate: float | None = Field(None, ge=10, le=350, description="beats per minute")
    systolic_bp: float | None = Field(None, ge=20, le=350, description="mmHg")
    diastolic_bp: float | None = Field(None, ge=5, le=250, description="mmHg")
    respiratory_rate: float | None = Field(None, ge=2, le=100, description="breaths per minute")
    temperature_c: float | None = Field(None, ge=20, le=46, description="degrees Celsius")
    spo2: float | None = Field(None, ge=20, le=100, description="peripheral oxygen saturation, %")
    weight_kg: float | None = Field(None, gt=0.2, le=700, description="kilograms")
    height_cm: float | None = Field(None, ge=20, le=280, description="centimetres")
    gcs: int | None = Field(None, ge=3, le=15, description="Glasgow Coma Scale total")

    @model_validator(mode="before")
    @classmethod
    def _accept_unit_variants(cls, data: Any) -> Any:
        """Accept ``temperature_f``, ``weight_lb`` and ``height_in`` and convert them to the canonical fields."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for name in ("temperature_f", "weight_lb", "height_in"):
            if name in data:
                dim, unit, words = _VITAL_UNITS[name]
                data[name] = _read_quantity_text(name, data[name], dim, unit, words)
        for alt, canon, dim, unit in (("temperature_f", "temperature_c", "temperature", "F"),
                                      ("weight_lb", "weight_kg", "mass", "lb"),
                                      ("height_in", "height_cm", "length", "in")):
            if alt in data:
                value = data.pop(alt)
                if value is None:
                    continue
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise ValueError(f"{alt} must be a number, not {type(value).__name__}; give a number "
                                     f"in {unit}")
                converted = round(DIMENSIONS[dim].to_canonical(float(value), unit), 3)
                given = data.get(canon)
                if isinstance(given, str):
                    given = _read_quantity_text(canon, given, *_VITAL_UNITS[canon])
                if given is not None:
                    # both spellings given: they must agree (within the rounding of the other unit), else which
                    # one is meant is a guess
                    if isinstance(given, bool) or not isinstance(given, int | float):
                        raise ValueError(f"{canon} must be a number, not {type(given).__name__}")
                    if abs(float(given) - converted) > _AGREE[canon]:
                        raise ValueError(
                            f"{alt} {float(value):g} ({converted:g} in {canon}) disagrees with {canon} "
                            f"{float(given):g}; give one of the two")
                    continue  # they agree: keep the canonical field as given
                data[canon] = converted
        return data

    @field_validator("heart_rate", "systolic_bp", "diastolic_bp", "respiratory_rate", "temperature_c", "spo2",
                     "weight_kg", "height_cm", "gcs", mode="before")
    @classmethod
    def _number_text(cls, v: Any, info: Any) -> Any:
        """A number given as text is read (``"96"``, ``"96 bpm"``, ``"176 lb"``); text without one is refused."""
        dim, unit, words = _VITAL_UNITS[info.field_name]
        return _read_quantity_text(info.field_name, v, dim, unit, words)

    @model_validator(mode="after")
    def _pulse_pressure(self) -> Vitals:
        if self.systolic_bp is not None and self.diastolic_bp is not None and self.diastolic_bp >= self.systolic_bp:
            raise ValueError(
                f"diastolic_bp {self.diastolic_bp:g} must be lower than systolic_bp {self.systolic_bp:g}; "
                "check that the two are not swapped")
        return self


class Lab(BaseModel):
    """One laboratory result. ``unit`` is checked against the analyte's known units when the analyte is known."""

    model_config = _STRICT

    name: str = Field(min_length=1)
    value: float | str
    unit: str = ""
    time: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _number_text(cls, data: Any) -> Any:
        """A number given as text is read as a number (``"310"``, ``"1.2 mg/dL"``); for a known lab, text that
        holds no number (``"high"``, ``"trace"``, ``">100"``) is an error that says what to give instead."""
        if not isinstance(data, dict) or not isinstance(data.get("value"), str):
            return data
        data = dict(data)
        name = data.get("name")
        text = data["value"]
        analyte = find_analyte(name) if isinstance(name, str) else None
        parsed = split_number_text(text)
        if parsed is None:
            if analyte is not None:
                raise ValueError(_number_text_problem(f"{name} value", text, _units_text(analyte.name)))
            return data  # a lab wardround does not know keeps its text; Case.value_issues() flags it
        number, text_unit = parsed
        unit = data.get("unit")
        if text_unit:
            if isinstance(unit, str) and unit.strip() and normalize_unit(unit) != normalize_unit(text_unit):
                raise ValueError(f"{name} value {text!r} carries the unit {text_unit!r} but unit is {unit!r}; "
                                 "give the unit once, in unit")
            data["unit"] = text_unit
        data["value"] = number
        return data

    def _analyte(self) -> Any:
        return lab_analyte(self.name, self.unit)

    @model_validator(mode="after")
    def _known_unit(self) -> Lab:
        analyte = self._analyte()
        if analyte is not None and isinstance(self.value, float | int):
            try:
                canonical = analyte.to_canonical(float(self.value), self.unit)
            except UnitError:
                raise ValueError(f"unknown unit {self.unit!r} for the lab {self.name!r} ({analyte.name}); use one "
                                 f"of: {_units_text(analyte.name)}") from None
            try:
                analyte.check_plausible(canonical)
            except UnitError as exc:
                raise ValueError(f"{exc.problem}; {exc.fix}") from None
        return self

    @property
    def analyte(self) -> str | None:
        """Canonical analyte name (``"creatinine"``) or ``None`` for labs wardround does not know."""
        a = self._analyte()
        return a.name if a else None

    def canonical_value(self) -> float | None:
        """Value in the analyte's canonical unit, or ``None`` when unknown or non-numeric."""
        a = self._analyte()
        if a is None or not isinstance(self.value, float | int):
            return None
        return a.to_canonical(float(self.value), self.unit)

    def issue(self) -> str | None:
        """Why this lab cannot be used as given (unknown name, no unit), or ``None`` when it can."""
        a = self._analyte()
        if a is None:
            kept = "its text is kept" if isinstance(self.value, str) else "its value is kept"
            return (f"{self.name!r} is not a lab wardround knows: {kept} but not checked or interpreted; if it is "
                    "a known test, use its usual name (e.g. troponin I, creatinine, sodium)")
        if not self.unit.strip() and len([u for u in a.factors if u]) > 1:
            return (f"{self.name!r} {self.value:g} has no unit: read as {a.canonical}; give the unit (one of: "
                    f"{_units_text(a.name)})")
        return None


def lab_analyte(name: str, unit: str | None) -> Any:
    """The analyte of a structured lab entry: by name, or, for a drug named bare ("lithium" 1.8 mmol/L), its
    ``<drug>_level`` analyte when the unit is a concentration of it. A bare drug name is not an alias in note text,
    where "lithium 400 mg" is a dose; an entry of the labs list with a level's unit is a level."""
    found = find_analyte(name)
    if found is not None:
        return found
    level = ANALYTES.get("_".join(name.lower().split()) + "_level")
    if level is not None and unit and normalize_unit(unit) in level.factors:
        return level
    return None


def _units_text(analyte: str) -> str:
    """The accepted units of an analyte, canonical first."""
    a = ANALYTES[analyte]
    units = [a.canonical, *sorted(u for u in a.factors if u and u != a.canonical)]
    return ", ".join(u for u in units if u) or "(no unit)"


class History(BaseModel):
    """Past history as short free-text items."""

    model_config = _STRICT

    conditions: list[str] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    medications: list[str] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    allergies: list[str] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)


Modality = Literal["CT", "MR", "MRI", "XR", "US", "PET", "OTHER"]


class ImagingStudy(BaseModel):
    """A reference to an imaging volume on disk (NIfTI file, DICOM file or DICOM series folder)."""

    model_config = _STRICT

    path: str = Field(min_length=1)
    modality: Modality
    body_region: str | None = None
    sequence: str | None = Field(None, description="MRI sequence, e.g. FLAIR, T1, T1c")

    @field_validator("modality", mode="before")
    @classmethod
    def _upper(cls, v: Any) -> Any:
        return v.upper() if isinstance(v, str) else v


class Case(BaseModel):
    """A clinical case: free-text note plus structured vitals, labs, history and imaging.

    Unknown keys are rejected so that a typo never passes silently. A case carries no gold label: what an
    evaluation expects lives beside it (``Expected``, read by ``load_case_file``), never where an agent sees it.
    """

    model_config = _STRICT

    id: str = Field("case", min_length=1, max_length=200)
    age: float | None = Field(None, ge=0, le=125, description="years")
    sex: Sex = "unknown"
    chief_complaint: str | None = None
    note: str = ""
    vitals: Vitals = Field(default_factory=Vitals)
    labs: list[Lab] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    history: History = Field(default_factory=History)
    imaging: list[ImagingStudy] = Field(default_factory=list, max_length=64)
    question: str | None = None
    options: dict[str, str] | None = None
    #: For a case read from a FHIR Bundle: the bundle and, per field, the element it cites (``wardround.fhir``).
    fhir: FhirRecord | None = None

    @field_validator("age", mode="before")
    @classmethod
    def _age_text(cls, v: Any) -> Any:
        return _read_quantity_text("age", v, "age", "years", "years")

    @field_validator("note")
    @classmethod
    def _note_length(cls, v: str) -> str:
        limit = max_note_chars()
        if len(v) > limit:
            raise ValueError(f"the note is {len(v):,} characters long, over the limit of {limit:,}; give the "
                             "note of this admission only (or raise WARDROUND_MAX_NOTE_CHARS)")
        return v

    @field_validator("sex", mode="before")
    @classmethod
    def _sex(cls, v: Any) -> Any:
        if v is None:
            return "unknown"
        if isinstance(v, str):
            key = v.strip().lower()
            if key in _SEX_WORDS:
                return _SEX_WORDS[key]
        return v

    # -- loaders ------------------------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Any, *, base_dir: str | Path | None = None, check_paths: bool = True) -> Case:
        """Validate a mapping into a ``Case``; errors become one-line ``CaseError``s naming the field.

        The gold-label keys of a case file (``GOLD_KEYS``: ``expected``, legacy ``expected_diagnosis``) are
        dropped here, at the boundary where an agent-visible case is built, so ``Case.from_dict(json.load(f))``
        of a case file works and the target never reaches an agent; read them with ``load_case_file``. Any
        other unknown key is an error.
        """
        if not isinstance(data, dict):
            raise CaseError("case", f"expected a JSON object at the top level, not {type(data).__name__}",
                            "wrap the case fields in {...}")
        if "resourceType" in data:  # a FHIR resource: read as a Bundle (a clear error for any other resource)
            return load_fhir(data).case
        data = {k: v for k, v in data.items() if k not in GOLD_KEYS}
        try:
            case = cls.model_validate(data)
        except ValidationError as exc:
            raise case_error_from_validation(exc) from None
        if check_paths:
            case = case.resolve_imaging(base_dir)
        return case

    @classmethod
    def from_file(cls, path: str | Path, *, check_paths: bool = True) -> Case:
        """Load a case from a ``.json``, ``.yaml``/``.yml`` or ``.txt`` (free-text note) file.

        A gold-label block in the file is ignored (``load_case_file`` returns it beside the case).
        """
        p = Path(path)
        if _looks_like_fhir(p):
            return load_fhir(p).case
        note, data = _read_case_file(p)
        if note is not None:
            return cls.from_text(note, id=p.stem)
        if isinstance(data, dict) and "resourceType" in data:
            return load_fhir(data, path=p).case
        return cls.from_dict(data, base_dir=p.parent, check_paths=check_paths)

    @classmethod
    def from_fhir(cls, bundle: Any, *, encounter: str | None = None) -> Case:
        """Build a case from a FHIR R4 Bundle (path, JSON text, dict or ``fhir.resources`` model).

        The case is built around one encounter (the latest, or ``encounter``: its id); see ``wardround.fhir``.
        Conditions recorded at that encounter are its answer and never enter the case (``load_fhir`` returns
        them as the gold label).
        """
        return load_fhir(bundle, encounter=encounter).case

    @classmethod
    def from_text(cls, text: str, *, id: str = "case", **fields: Any) -> Case:
        """Build a case from a free-text note; age and sex are read from the text when it states them."""
        if not isinstance(text, str):
            raise CaseError("note", "expected text", "pass the note as a string")
        if len(text) > max_note_chars():  # refuse before reading it for demographics
            raise CaseError("note", f"the note is {len(text):,} characters long, over the limit of "
                            f"{max_note_chars():,}", "give the note of this admission only (or raise "
                            "WARDROUND_MAX_NOTE_CHARS)")
        data: dict[str, Any] = {"id": id, "note": text, **fields}
        if "age" not in fields or "sex" not in fields:
            demo = extract_demographics(text)
            if "age" not in fields and demo.age is not None:
                data["age"] = demo.age
            if "sex" not in fields and demo.sex is not None:
                data["sex"] = demo.sex
        return cls.from_dict(data, check_paths=False)

    def resolve_imaging(self, base_dir: str | Path | None = None, *, enforce_roots: bool | None = None) -> Case:
        """Resolve imaging paths against ``base_dir`` and fail clearly when one does not exist or is not allowed.

        Symlinks are resolved first. When the case comes from a file (``base_dir`` given; or ``enforce_roots``),
        every path must then lie inside an allowed folder (``imaging_roots``): the case file's folder, the
        current folder, or a folder listed in ``WARDROUND_IMAGING_ROOTS``; so must every symlink inside a DICOM
        series folder. A path a Python caller passes without ``base_dir`` is the caller's own and is not
        restricted.
        """
        if not self.imaging:
            return self
        enforce = base_dir is not None if enforce_roots is None else enforce_roots
        roots = imaging_roots(base_dir) if enforce else []
        studies = []
        for i, study in enumerate(self.imaging):
            field = f"imaging[{i}].path"
            p = Path(study.path).expanduser()
            if not p.is_absolute() and base_dir is not None:
                candidate = (Path(base_dir) / p).resolve()
                p = candidate if candidate.exists() else p.resolve()
            if not p.exists():
                raise CaseError(field, f"file or folder {study.path!r} does not exist",
                                "give a path relative to the case file or an absolute path", )
            real = p.resolve()
            if enforce:
                _check_inside(field, study.path, real, roots)
                if real.is_dir():
                    # every entry, not a prefix of the listing: any one of them may be read as a slice
                    with os.scandir(real) as entries:
                        for member in entries:
                            if member.is_symlink():
                                _check_inside(field, f"{study.path}/{member.name}",
                                              Path(member.path).resolve(), roots)
            studies.append(study.model_copy(update={"path": str(real)}))
        return self.model_copy(update={"imaging": studies})

    # -- helpers ------------------------------------------------------------------------------------------

    def value_issues(self) -> list[str]:
        """Structured values kept but not usable as given (a lab wardround does not know, a lab without a unit).

        Each is one line naming the field; the ward round reports them with its other issues, so a value is never
        dropped in silence.
        """
        issues = [f"labs[{i}]: {text}" for i, lab in enumerate(self.labs) if (text := lab.issue())]
        if self.fhir is not None:  # what a FHIR bundle held that the case could not use is reported too
            issues.extend(f"FHIR: {text}" for text in self.fhir.issues)
        return issues

    def lab(self, analyte: str) -> Lab | None:
        """The last lab whose name resolves to ``analyte`` (canonical name), or ``None``."""
        hit = None
        for lab in self.labs:
            if lab.analyte == analyte:
                hit = lab
        return hit

    def _repr_html_(self) -> str:  # pragma: no cover - exercised in notebooks
        return display.to_html(self)  # wardround.render.render_case_html


# -- gold labels ----------------------------------------------------------------------------------------------

#: Top-level keys of a case file that hold its gold label: the ``expected`` block, and the legacy
#: ``expected_diagnosis`` string (read as ``expected.diagnosis``). ``Case.from_dict`` drops them.
GOLD_KEYS = ("expected", "expected_diagnosis")

Coverage = Literal["explained", "partly_explained", "outside"]


class Expected(BaseModel):
    """What a case file says the ward round should conclude: its gold label, kept apart from the ``Case``."""

    model_config = _STRICT

    diagnosis: str | None = Field(None, description="the condition the primary should be (a knowledge-base name)")
    supported: bool | None = Field(None, description="whether the ward should present a supported diagnosis")
    coverage: Coverage | None = Field(None, description="the coverage verdict the report should reach")
    unexplained: list[str] = Field(default_factory=list, max_length=MAX_LIST_ITEMS,
                                   description="findings (names or ids) the report must name as unexplained")
    notes: str = ""


class CaseFile(BaseModel):
    """A loaded case file: the agent-visible ``Case`` and, beside it, the file's gold label (if any)."""

    model_config = ConfigDict(extra="forbid")

    case: Case
    expected: Expected | None = None


def read_expected(data: Any) -> Expected | None:
    """The gold label of a case-file mapping (``expected`` block or legacy ``expected_diagnosis``), or ``None``.

    Both keys may be given when they agree on the diagnosis; errors are one-line ``CaseError``s.
    """
    if not isinstance(data, dict) or all(data.get(k) is None for k in GOLD_KEYS):
        return None
    block = data.get("expected")
    if block is None:
        block = {}
    elif not isinstance(block, dict):
        raise CaseError("expected", f"expected an object, not {type(block).__name__}",
                        'write e.g. "expected": {"diagnosis": "Pulmonary embolism", "supported": true}')
    legacy = data.get("expected_diagnosis")
    if legacy is not None:
        if not isinstance(legacy, str):
            raise CaseError("expected_diagnosis", f"expected text, not {type(legacy).__name__}",
                            "give the condition name, or move it to expected.diagnosis")
        given = block.get("diagnosis")
        if given is not None and (not isinstance(given, str) or given.strip() != legacy.strip()):
            raise CaseError("expected_diagnosis", "disagrees with expected.diagnosis",
                            "keep one of them (expected.diagnosis)")
        block = {**block, "diagnosis": legacy}
    try:
        return Expected.model_validate(block)
    except ValidationError as exc:
        err = case_error_from_validation(exc)
        fix = err.fix
        if exc.errors()[0].get("type") == "extra_forbidden":
            fix = f"remove it or check its spelling against {', '.join(Expected.model_fields)}"
        raise CaseError(f"expected.{err.field}", err.problem, fix, err.value) from None


def load_case_file(path: str | Path, *, check_paths: bool = True, encounter: str | None = None) -> CaseFile:
    """Load a case file into its ``Case`` and, separately, its gold label (``None`` when it has none).

    The gold label never enters the case: an agent given ``CaseFile.case`` cannot see the target. A ``.txt``
    note has no gold label. A FHIR Bundle (JSON with ``resourceType``) is read by ``load_fhir`` around the
    latest encounter, or ``encounter``.
    """
    p = Path(path)
    if _looks_like_fhir(p):  # a large FHIR export: read by the FHIR reader, which has its own size limit
        return load_fhir(p, encounter=encounter)
    note, data = _read_case_file(p)
    if isinstance(data, dict) and "resourceType" in data:
        return load_fhir(data, encounter=encounter, path=p)
    if encounter is not None:
        raise CaseError("encounter", f"{p.name} is not a FHIR Bundle; an encounter is chosen only in a bundle",
                        "drop --encounter, or give a FHIR Bundle")
    if note is not None:
        return CaseFile(case=Case.from_text(note, id=p.stem))
    case = Case.from_dict(data, base_dir=p.parent, check_paths=check_paths)
    return CaseFile(case=case, expected=read_expected(data))


def _looks_like_fhir(p: Path) -> bool:
    """Whether a ``.json`` file over the case-file size limit is a FHIR resource (``"resourceType"`` in its first
    4 KB): a patient's export may be larger than a case file, and the FHIR reader has its own limit."""
    if p.suffix.lower() != ".json" or not p.is_file() or p.stat().st_size <= MAX_CASE_FILE_BYTES:
        return False
    try:
        with open(p, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return b'"resourceType"' in head


def load_fhir(bundle: Any, *, encounter: str | None = None, path: str | Path | None = None) -> CaseFile:
    """Read a FHIR R4 Bundle into a ``CaseFile``: the case around one encounter and, apart, its gold label.

    The gold label is the Conditions recorded at that encounter (they never enter the case). ``path`` is the
    file the parsed ``bundle`` came from: citations then re-check against that file. See ``wardround.fhir``.
    """
    from wardround.fhir.reader import read_bundle

    read = read_bundle(bundle, encounter=encounter, validate=Case.model_validate, path=path)
    expected = Expected.model_validate(read.expected) if read.expected else None
    return CaseFile(case=read.case, expected=expected)


def _read_case_file(p: Path) -> tuple[str | None, Any]:
    """Read a case file: ``(note, None)`` for a ``.txt`` note, else ``(None, parsed JSON/YAML)`` (``id`` defaulted)."""
    if not p.is_file():
        raise CaseError("path", f"case file {str(p)!r} does not exist", "check the path")
    size = p.stat().st_size
    if size > MAX_CASE_FILE_BYTES:
        raise CaseError("path", f"{p.name} is {size / 2**20:.1f} MB, over the {MAX_CASE_FILE_BYTES // 2**20} MB "
                        "limit of a case file", "give one case per file, with the note of this admission only")
    try:
        text = p.read_text(encoding="utf-8-sig")  # a leading byte-order mark (Windows editors) is dropped
    except UnicodeDecodeError:
        raise CaseError("path", f"{p.name} is not UTF-8 text", "save the case as UTF-8 JSON or YAML") from None
    suffix = p.suffix.lower()
    if suffix == ".txt":
        return text, None
    if suffix in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.load(text, Loader=_unique_key_loader())  # noqa: S506 - a SafeLoader subclass
        except CaseError:
            raise
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise CaseError("file", f"malformed YAML in {p.name}{where}", "fix the YAML syntax") from None
        except RecursionError:
            raise CaseError("file", f"{p.name} nests lists or mappings too deeply to be a case",
                            "fix the YAML structure") from None
    else:
        try:
            data = json.loads(text, object_pairs_hook=_reject_duplicate_keys)
        except CaseError:
            raise
        except json.JSONDecodeError as exc:
            raise CaseError("file", f"malformed JSON in {p.name} at line {exc.lineno}, column {exc.colno}: "
                            f"{exc.msg}", "fix the JSON syntax") from None
        except RecursionError:
            raise CaseError("file", f"{p.name} nests arrays or objects too deeply to be a case",
                            "fix the JSON structure") from None
        except ValueError as exc:  # e.g. an integer literal longer than Python converts
            raise CaseError("file", f"unreadable JSON in {p.name}: {' '.join(str(exc).split())[:120]}",
                            "fix the JSON value") from None
    if isinstance(data, dict) and "id" not in data and "resourceType" not in data:  # a FHIR id is the bundle's
        data = {"id": p.stem, **data}
    return None, data


_UNIQUE_KEY_LOADER: Any = None


def _unique_key_loader() -> Any:
    """A ``yaml.SafeLoader`` that refuses a key given twice in one mapping (PyYAML keeps the last silently)."""
    global _UNIQUE_KEY_LOADER
    if _UNIQUE_KEY_LOADER is None:
        import yaml

        class UniqueKeyLoader(yaml.SafeLoader):
            def construct_mapping(self, node: Any, deep: bool = False) -> Any:
                seen: set[Any] = set()
                for key_node, _ in node.value:
                    if key_node.tag == "tag:yaml.org,2002:merge":
                        continue
                    key = self.construct_object(key_node, deep=deep)
                    try:
                        duplicate = key in seen
                    except TypeError:  # an unhashable key: the base loader reports it
                        continue
                    if duplicate:
                        shown = str(key) if str(key).isprintable() and len(str(key)) <= 60 else repr(str(key)[:60])
                        raise CaseError(shown, f"this key is given twice in the same mapping (line "
                                        f"{key_node.start_mark.line + 1}); YAML would silently keep the last",
                                        "keep one of them")
                    seen.add(key)
                return super().construct_mapping(node, deep=deep)

        _UNIQUE_KEY_LOADER = UniqueKeyLoader
    return _UNIQUE_KEY_LOADER


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``json.loads`` object hook: a key given twice in one object is an error (JSON keeps the last silently)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            shown = key if key.isprintable() and len(key) <= 60 else repr(key[:60])
            raise CaseError(shown, "this key is given twice in the same object; JSON would silently keep the last",
                            "keep one of them")
        out[key] = value
    return out


def imaging_roots(base_dir: str | Path | None = None) -> list[Path]:
    """Folders imaging paths of a case file may resolve into: its folder, the current folder, $WARDROUND_IMAGING_ROOTS."""
    roots = [Path(base_dir).resolve()] if base_dir is not None else []
    roots.append(Path.cwd().resolve())
    for part in os.environ.get(IMAGING_ROOTS_ENV, "").split(os.pathsep):
        if part.strip():
            roots.append(Path(part.strip()).expanduser().resolve())
    return list(dict.fromkeys(roots))


def _check_inside(field: str, given: str, real: Path, roots: list[Path]) -> None:
    if not any(real == r or real.is_relative_to(r) for r in roots):
        raise CaseError(field, f"{given!r} resolves to {str(real)!r}, outside the folders imaging may come from "
                        "(the case file's folder, the current folder and $" + IMAGING_ROOTS_ENV + ")",
                        f"move the study under the case file's folder or add its folder to {IMAGING_ROOTS_ENV}")


_FIX_HINTS = {
    "extra_forbidden": "remove it or check its spelling against the Case fields",
    "missing": "add it",
    "greater_than_equal": "use a possible value",
    "less_than_equal": "use a possible value",
    "greater_than": "use a possible value",
    "float_parsing": "give a number",
    "int_parsing": "give a whole number",
    "literal_error": "use one of the allowed values",
    "string_type": "give text",
    "list_type": "give a list",
    "dict_type": "give an object",
    "model_type": "give an object",
    "string_unicode": "remove the lone surrogate escape (\\ud800-\\udfff) or save the text as UTF-8",
    "too_long": "give fewer items",
    "string_too_long": "shorten it",
    "finite_number": "give a finite number",
}

#: Free-text fields whose content is never echoed in an error message (it may identify a patient).
_TEXT_FIELDS = ("note", "chief_complaint", "question")


def case_error_from_validation(exc: ValidationError) -> CaseError:
    """Turn the first pydantic error into a one-line ``CaseError`` (field, bad value, fix)."""
    err = exc.errors(include_url=False)[0]
    loc = _loc(err.get("loc", ()))
    kind = err.get("type", "")
    msg = err.get("msg", "invalid value")
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    value = err.get("input")
    if kind == "extra_forbidden":
        msg = "unknown field"
    fix = _FIX_HINTS.get(kind)
    if kind == "literal_error":
        fix = None  # pydantic's message already lists the allowed values
    n = exc.error_count()
    more = f" (+{n - 1} more error{'s' if n > 2 else ''})" if n > 1 else ""
    shown = value if kind not in ("missing",) and not isinstance(value, dict) else None
    if loc.split(".")[0].split("[")[0] in _TEXT_FIELDS or loc.startswith("history."):
        shown = None  # free text may identify the patient: say what is wrong, never repeat it
    elif isinstance(shown, list | tuple) and len(shown) > 3:
        shown = f"a list of {len(shown)} items"
    return CaseError(loc or "case", msg + more, fix, shown)


def _loc(parts: tuple[Any, ...]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = str(part)
            if not text or not text.isprintable() or len(text) > 60:  # an odd key is shown quoted, on one line
                text = repr(text[:60] + ("..." if len(text) > 60 else ""))
            out += ("." if out else "") + text
    out = re.sub(r"\.(function-after|function-before)\[[^\]]*\]", "", out)
    return re.sub(r"\.(float|int|str|bool)$", "", out)  # the member of a union type that failed
