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
from wardround.settings import env_int
from wardround.units import DIMENSIONS, find_analyte

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
        for alt, canon, dim, unit in (("temperature_f", "temperature_c", "temperature", "F"),
                                      ("weight_lb", "weight_kg", "mass", "lb"),
                                      ("height_in", "height_cm", "length", "in")):
            if alt in data:
                value = data.pop(alt)
                if value is None:
                    continue
                if isinstance(value, bool) or not isinstance(value, int | float | str):
                    raise ValueError(f"{alt} must be a number, not {type(value).__name__}; give a number "
                                     f"in {unit}")
                try:
                    number = float(value)
                except ValueError:
                    raise ValueError(f"{alt} must be a number, not {value!r}; give a number in {unit}") from None
                data[canon] = round(DIMENSIONS[dim].to_canonical(number, unit), 3)
        return data

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

    @model_validator(mode="after")
    def _known_unit(self) -> Lab:
        analyte = find_analyte(self.name)
        if analyte is not None and isinstance(self.value, float | int):
            try:
                canonical = analyte.to_canonical(float(self.value), self.unit)
            except UnitError as exc:
                raise ValueError(f"{exc.problem}; {exc.fix}") from None
            try:
                analyte.check_plausible(canonical)
            except UnitError as exc:
                raise ValueError(f"{exc.problem}; {exc.fix}") from None
        return self

    @property
    def analyte(self) -> str | None:
        """Canonical analyte name (``"creatinine"``) or ``None`` for labs wardround does not know."""
        a = find_analyte(self.name)
        return a.name if a else None

    def canonical_value(self) -> float | None:
        """Value in the analyte's canonical unit, or ``None`` when unknown or non-numeric."""
        a = find_analyte(self.name)
        if a is None or not isinstance(self.value, float | int):
            return None
        return a.to_canonical(float(self.value), self.unit)


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
        note, data = _read_case_file(p)
        if note is not None:
            return cls.from_text(note, id=p.stem)
        return cls.from_dict(data, base_dir=p.parent, check_paths=check_paths)

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
                    for member in sorted(real.iterdir())[:10_000]:
                        if member.is_symlink():
                            _check_inside(field, f"{study.path}/{member.name}", member.resolve(), roots)
            studies.append(study.model_copy(update={"path": str(real)}))
        return self.model_copy(update={"imaging": studies})

    # -- helpers ------------------------------------------------------------------------------------------

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


def load_case_file(path: str | Path, *, check_paths: bool = True) -> CaseFile:
    """Load a case file into its ``Case`` and, separately, its gold label (``None`` when it has none).

    The gold label never enters the case: an agent given ``CaseFile.case`` cannot see the target. A ``.txt``
    note has no gold label.
    """
    p = Path(path)
    note, data = _read_case_file(p)
    if note is not None:
        return CaseFile(case=Case.from_text(note, id=p.stem))
    case = Case.from_dict(data, base_dir=p.parent, check_paths=check_paths)
    return CaseFile(case=case, expected=read_expected(data))


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
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise CaseError("file", f"malformed YAML in {p.name}{where}", "fix the YAML syntax") from None
        except RecursionError:
            raise CaseError("file", f"{p.name} nests lists or mappings too deeply to be a case",
                            "fix the YAML structure") from None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CaseError("file", f"malformed JSON in {p.name} at line {exc.lineno}, column {exc.colno}: "
                            f"{exc.msg}", "fix the JSON syntax") from None
        except RecursionError:
            raise CaseError("file", f"{p.name} nests arrays or objects too deeply to be a case",
                            "fix the JSON structure") from None
        except ValueError as exc:  # e.g. an integer literal longer than Python converts
            raise CaseError("file", f"unreadable JSON in {p.name}: {' '.join(str(exc).split())[:120]}",
                            "fix the JSON value") from None
    if isinstance(data, dict) and "id" not in data:
        data = {"id": p.stem, **data}
    return None, data


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
