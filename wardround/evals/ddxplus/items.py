"""DDXPlus patients: the structured item model, the CSV loader and the rendering of a patient as a ``Case``.

Columns are read under their official names (``AGE, SEX, PATHOLOGY, EVIDENCES, INITIAL_EVIDENCE,
DIFFERENTIAL_DIAGNOSIS``) or the lower-case dev-file names (``age, sex, diagnosis, features, feature_id,
top5_diagnoses``). List cells are Python literals (single quotes): they are parsed with ``ast.literal_eval``
(JSON as a fallback), never ``eval``. A ``.zip`` holding one CSV (the official release format) is read directly.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from wardround.case import Case
from wardround.errors import InputError
from wardround.evals.ddxplus.release import DDXPlusRelease

# canonical field -> accepted column names (official first)
COLUMNS: dict[str, tuple[str, ...]] = {
    "age": ("AGE", "age"),
    "sex": ("SEX", "sex"),
    "pathology": ("PATHOLOGY", "diagnosis"),
    "evidences": ("EVIDENCES", "features"),
    "initial_evidence": ("INITIAL_EVIDENCE", "feature_id"),
    "differential": ("DIFFERENTIAL_DIAGNOSIS", "top5_diagnoses"),
}
REQUIRED = ("evidences",)


class DDXPlusItem(BaseModel):
    """One DDXPlus patient: demographics, evidence codes, gold pathology and gold differential."""

    model_config = ConfigDict(extra="forbid")

    id: str
    age: float | None = None
    sex: str = "unknown"
    pathology: str | None = Field(None, description="gold PATHOLOGY (canonical condition_name)")
    evidences: list[str] = Field(default_factory=list, description="official E_xx / E_xx_@_V_yy codes")
    initial_evidence: str | None = None
    differential: list[tuple[str, float]] = Field(default_factory=list,
                                                  description="gold DIFFERENTIAL_DIAGNOSIS, whole list")

    @property
    def differential_names(self) -> list[str]:
        """Pathology names of the gold differential."""
        return [name for name, _ in self.differential]


def parse_literal_list(text: Any, field: str) -> list[Any]:
    """Parse a Python-literal (or JSON) list cell safely: ``ast.literal_eval``, never ``eval``."""
    if isinstance(text, list):
        return text
    if text is None or str(text).strip() == "":
        return []
    s = str(text).strip()
    try:
        value = ast.literal_eval(s)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        try:
            value = json.loads(s)
        except json.JSONDecodeError:
            raise InputError(field, "not a list literal", "write it like ['E_91', 'E_55_@_V_29']", s) from None
    if not isinstance(value, list | tuple):
        raise InputError(field, f"expected a list, got {type(value).__name__}", "write it like ['E_91']", s)
    return list(value)


def _column(header: list[str], field: str) -> str | None:
    for name in COLUMNS[field]:
        if name in header:
            return name
    lowered = {h.casefold(): h for h in header}
    for name in COLUMNS[field]:
        if name.casefold() in lowered:
            return lowered[name.casefold()]
    return None


def _open_rows(path: Path) -> Iterator[dict[str, str]]:
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if n.lower().endswith(".csv")]
            if len(names) != 1:
                raise InputError("data_path", f"{path.name} holds {len(names)} CSV files", "give a zip with one CSV")
            with zf.open(names[0]) as fh:
                yield from csv.DictReader(io.TextIOWrapper(fh, encoding="utf-8", newline=""))
        return
    with path.open(encoding="utf-8", newline="") as fh:
        yield from csv.DictReader(fh)


def item_from_row(row: dict[str, Any], release: DDXPlusRelease, id: str, columns: dict[str, str | None]) -> DDXPlusItem:
    """Validate one CSV row (already keyed by its header) into a ``DDXPlusItem``."""
    def cell(field: str) -> Any:
        col = columns.get(field)
        return row.get(col) if col else None

    where = f"row {id}"
    codes = [str(c) for c in parse_literal_list(cell("evidences"), f"{where}: {columns['evidences']}")]
    for code in codes:
        release.parse_code(code, f"{where}: {columns['evidences']}")
    age_raw = cell("age")
    age: float | None = None
    if age_raw not in (None, ""):
        try:
            age = float(age_raw)
        except ValueError:
            raise InputError(f"{where}: {columns['age']}", "age is not a number", "give years", age_raw) from None
    sex_raw = str(cell("sex") or "").strip().upper()
    sex = {"M": "male", "F": "female"}.get(sex_raw, "unknown")
    gold = cell("pathology")
    pathology = release.pathology(gold, f"{where}: {columns['pathology']}") if gold not in (None, "") else None
    initial = cell("initial_evidence")
    initial = str(initial).strip() if initial not in (None, "") else None
    if initial is not None:
        release.evidence_of(initial, f"{where}: {columns['initial_evidence']}")
    differential: list[tuple[str, float]] = []
    for entry in parse_literal_list(cell("differential"), f"{where}: {columns['differential']}"):
        if not isinstance(entry, list | tuple) or len(entry) != 2:
            raise InputError(f"{where}: {columns['differential']}", "each entry must be [name, probability]",
                             "write [['URTI', 0.6], ...]", entry)
        name, prob = entry
        try:
            p = float(prob)
        except (TypeError, ValueError):
            raise InputError(f"{where}: {columns['differential']}", "probability is not a number",
                             "write [['URTI', 0.6], ...]", entry) from None
        differential.append((release.pathology(name, f"{where}: {columns['differential']}"), p))
    return DDXPlusItem(id=id, age=age, sex=sex, pathology=pathology, evidences=codes, initial_evidence=initial,
                       differential=differential)


def load_ddxplus(data_path: str | Path, kb_dir: str | Path | None = None, limit: int | None = None,
                 release: DDXPlusRelease | None = None) -> list[DDXPlusItem]:
    """Read a DDXPlus patients CSV (or zip) into items, validating every code against the release files.

    Args:
        data_path: the patients file.
        kb_dir: folder of ``release_conditions.json`` / ``release_evidences.json``; default: the data's folder.
        limit: read only the first ``limit`` patients.
        release: an already loaded knowledge base (overrides ``kb_dir``).
    """
    path = Path(data_path)
    if not path.is_file():
        raise InputError("data_path", f"{str(path)!r} does not exist", "give the path of a DDXPlus patients CSV")
    if release is None:
        release = DDXPlusRelease.from_dir(kb_dir if kb_dir is not None else path.parent)
    items: list[DDXPlusItem] = []
    columns: dict[str, str | None] | None = None
    stem = path.name.split(".")[0]
    for index, row in enumerate(_open_rows(path)):
        if limit is not None and index >= limit:
            break
        if columns is None:
            header = list(row)
            columns = {f: _column(header, f) for f in COLUMNS}
            missing = [COLUMNS[f][0] for f in REQUIRED if columns[f] is None]
            if missing:
                raise InputError("data_path", f"column {missing[0]} not found in {path.name} (header: {header})",
                                 "use the official DDXPlus columns or the dev-file names (features, ...)")
        items.append(item_from_row(row, release, f"{stem}-{index}", columns))
    return items


def render_note(item: DDXPlusItem, release: DDXPlusRelease) -> str:
    """A readable English note: demographics, presenting complaint, then symptoms and history as Q/A lines."""
    age = f"{item.age:g}-year-old" if item.age is not None else "adult"
    who = {"male": "man", "female": "woman"}.get(item.sex, "patient")
    lines = [f"A {age} {who} consults."]
    by_evidence: dict[str, list[str]] = {}
    for code in item.evidences:
        p = release.parse_code(code)
        ev = release.evidences[p.evidence]
        if p.value is not None and ev.is_default(p.value):
            continue
        by_evidence.setdefault(p.evidence, []).append(p.value or "")
    if item.initial_evidence:
        first = release.evidence_of(item.initial_evidence)
        lines.append(f"Presenting complaint: {_sentence(release, first, by_evidence.get(first, ['']))}")
    symptoms, history = [], []
    for name, values in by_evidence.items():
        (history if release.evidences[name].is_antecedent else symptoms).append(_sentence(release, name, values))
    if symptoms:
        lines.append("Symptoms:")
        lines.extend(f"- {s}" for s in symptoms)
    if history:
        lines.append("History and exposures:")
        lines.extend(f"- {s}" for s in history)
    return "\n".join(lines)


def _sentence(release: DDXPlusRelease, name: str, values: list[str]) -> str:
    ev = release.evidences[name]
    question = ev.question_en or ev.question_fr or name
    vals = [v for v in values if v]
    if not vals:
        return f"{question} Yes."
    if ev.ordinal:
        return f"{question} {', '.join(vals)} (scale 0-{int(ev.scale_max)})."
    return f"{question} {', '.join(ev.meaning(v) for v in vals)}."


def item_to_case(item: DDXPlusItem, release: DDXPlusRelease) -> Case:
    """A wardround ``Case`` from a DDXPlus patient, so the ward graph can read DDXPlus rows.

    The gold pathology stays on the item (``item.pathology``, an ``EvalItem``'s ``gold``): the case carries none.
    """
    chief = None
    if item.initial_evidence:
        first = release.evidence_of(item.initial_evidence)
        chief = release.evidences[first].question_en or first
    age = item.age if item.age is not None and 0 <= item.age <= 125 else None
    return Case(id=item.id, age=age, sex=item.sex, chief_complaint=chief, note=render_note(item, release))
