"""Load and cross-check the knowledge base YAML files (specialties, findings, conditions, references).

The data live in ``wardround/knowledge/data``:

- ``specialties.yaml``: ``specialties: [{id, name, prefix, description}, ...]``
- ``findings.yaml``: ``findings: [{id, name, patterns, specialties, vital, lab, demographic, history}, ...]``
- ``conditions/<specialty>.yaml``: ``specialty: <id>`` and ``conditions: [...]`` (a condition may override
  ``specialty``)
- ``references.yaml`` (optional): ``references: {"PMID:9786377": {citation, pmid, doi, url}, ...}``; a condition
  file may register the references it cites in its own ``references:`` mapping of the same shape (an id
  registered twice must carry the same record)

Every problem is reported as a ``KnowledgeError`` naming the file, the item and the fix.
"""

from __future__ import annotations

import functools
import logging
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError

from wardround.errors import KnowledgeError
from wardround.knowledge.models import Condition, Finding, Reference, Specialty

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).parent / "data"

# British -> American spellings folded when matching condition names ("haemorrhage" == "hemorrhage").
_SPELLING_FOLDS = (("oesophag", "esophag"), ("oedem", "edem"), ("haem", "hem"), ("aem", "em"),
                   ("isation", "ization"), ("yse", "yze"))


def normalize_name(text: str) -> str:
    """Fold a condition name for lookup: lower case, punctuation to spaces, single spaces, US spelling."""
    out = re.sub(r"[^a-z0-9]+", " ", text.lower().replace("'", "")).strip()
    for british, american in _SPELLING_FOLDS:
        out = out.replace(british, american)
    return out


class KnowledgeBase(BaseModel):
    """The loaded knowledge base: dictionaries keyed by id, in file order, and name lookups."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    specialties: dict[str, Specialty]
    findings: dict[str, Finding]
    conditions: dict[str, Condition]
    references: dict[str, Reference] = {}
    source: str = ""

    _names: dict[str, str] = PrivateAttr(default_factory=dict)
    _by_vital: dict[str, list[Finding]] = PrivateAttr(default_factory=dict)
    _by_lab: dict[str, list[Finding]] = PrivateAttr(default_factory=dict)
    _by_ratio: list[Finding] = PrivateAttr(default_factory=list)
    _with_history: list[Finding] = PrivateAttr(default_factory=list)

    def model_post_init(self, __context: Any) -> None:
        """Index ids, names and aliases of the conditions (``find_condition``), and the findings by the vital sign,
        analyte or history term they are read from (intake looks them up once per measurement)."""
        for cond in self.conditions.values():
            for label in (cond.id, cond.name, *cond.aliases):
                self._names.setdefault(normalize_name(label), cond.id)
        for f in self.findings.values():
            if f.vital is not None:
                self._by_vital.setdefault(f.vital.field, []).append(f)
            if f.lab is not None and f.lab.over is not None:
                self._by_ratio.append(f)
            elif f.lab is not None:
                self._by_lab.setdefault(f.lab.analyte, []).append(f)
            if f.history:
                self._with_history.append(f)

    def findings_for_vital(self, field: str) -> list[Finding]:
        """Findings defined by a threshold on the vital sign ``field`` (e.g. ``"heart_rate"``), in file order."""
        return self._by_vital.get(field, [])

    def findings_for_lab(self, analyte: str) -> list[Finding]:
        """Findings defined by a threshold on the canonical ``analyte``, in file order."""
        return self._by_lab.get(analyte, [])

    def findings_for_ratio(self) -> list[Finding]:
        """Findings defined by a threshold on the ratio of two analytes (``LabRule.over``), in file order."""
        return self._by_ratio

    def findings_with_history(self) -> list[Finding]:
        """Findings that a history item can document (``Finding.history`` terms), in file order."""
        return self._with_history

    def conditions_for(self, specialty_id: str) -> list[Condition]:
        """The conditions a specialty considers, in file order; unknown specialty ids raise ``KnowledgeError``."""
        if specialty_id not in self.specialties:
            raise KnowledgeError(f"unknown specialty {specialty_id!r}; use one of: {', '.join(self.specialties)}")
        return [c for c in self.conditions.values() if c.specialty == specialty_id]

    def find_condition(self, name: str) -> Condition | None:
        """Resolve an id, name or alias (case, whitespace, punctuation and UK/US spelling folded) to a condition."""
        if not name:
            return None
        hit = self._names.get(normalize_name(name))
        return self.conditions[hit] if hit else None

    def specialty_by_prefix(self, prefix: str) -> Specialty | None:
        """The specialty whose evidence-id prefix is ``prefix`` (e.g. ``"CA"``), or ``None``."""
        for spec in self.specialties.values():
            if spec.prefix == prefix:
                return spec
        return None

    def conditions_with_finding(self, finding_id: str) -> list[Condition]:
        """Conditions that carry a likelihood ratio for ``finding_id``."""
        return [c for c in self.conditions.values() if finding_id in c.findings]


# ---------------------------------------------------------------------------------------------------------
# Loading


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KnowledgeError(f"{path}: file is missing; restore it from the wardround package or pass the "
                             "folder that holds it") from None
    try:
        # libyaml's C loader when available: the same safe subset, several times faster at start-up
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise KnowledgeError(f"{path.name}: malformed YAML{where}; fix the YAML syntax") from None


def _section(path: Path, data: Any, key: str, kind: type) -> Any:
    if not isinstance(data, dict) or key not in data:
        raise KnowledgeError(f"{path.name}: expected a top-level '{key}:' key; put the items under '{key}:'")
    value = data[key]
    if not isinstance(value, kind):
        raise KnowledgeError(f"{path.name}: '{key}' must be a {'list' if kind is list else 'mapping'}; "
                             f"got {type(value).__name__}")
    return value


_FIXES = {
    "extra_forbidden": "remove the key or check its spelling",
    "missing": "add it",
    "greater_than": "use a positive number",
    "greater_than_equal": "use a larger number",
    "less_than": "use a smaller number",
    "less_than_equal": "use a smaller number",
    "string_pattern_mismatch": "use the documented format (snake_case ids, 1-3 capital letters for prefixes)",
    "literal_error": "use one of the allowed values",
    "float_parsing": "give a number",
    "too_short": "add at least one entry",
    "dict_type": "give a mapping",
    "list_type": "give a list",
}


def _validate(model: type[BaseModel], raw: Any, path: Path, item: str) -> Any:
    if not isinstance(raw, dict):
        raise KnowledgeError(f"{path.name}: {item}: expected a mapping of fields, got {type(raw).__name__}")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = ".".join(str(p) for p in err.get("loc", ()))
        msg = err.get("msg", "invalid value")
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        bad = err.get("input")
        shown = f" (got {bad!r})" if not isinstance(bad, dict | list) and err.get("type") != "missing" else ""
        fix = _FIXES.get(err.get("type", ""), "")
        if loc == "prior":
            fix = "use a probability strictly between 0 and 1"
        elif loc.endswith((".lr_pos", ".lr_neg")):
            fix = "use a positive likelihood ratio (1 = no information)"
        text = f"{path.name}: {item}: {loc + ': ' if loc else ''}{msg}{shown}"
        if fix and "use " not in msg and "write " not in msg and "give " not in msg:
            text += f"; {fix}"
        raise KnowledgeError(text) from None


def _guard(problems: list[str] | None, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run ``fn``; with a ``problems`` list, record its ``KnowledgeError`` and go on (``kb validate`` reports every
    problem), else let it raise (loading for a ward round stops at the first)."""
    if problems is None:
        return fn(*args, **kwargs)
    try:
        return fn(*args, **kwargs)
    except KnowledgeError as exc:
        problems.append(str(exc))
        return None


def _item_name(raw: Any, index: int, kind: str) -> str:
    ident = raw.get("id") if isinstance(raw, dict) else None
    return f"{kind} {ident!r}" if ident else f"{kind} #{index + 1}"


def _load_specialties(path: Path) -> dict[str, Specialty]:
    out: dict[str, Specialty] = {}
    prefixes: dict[str, str] = {}
    for i, raw in enumerate(_section(path, _read_yaml(path), "specialties", list)):
        item = _item_name(raw, i, "specialty")
        spec = _validate(Specialty, raw, path, item)
        if spec.id in out:
            raise KnowledgeError(f"{path.name}: {item}: duplicate id; give each specialty a unique id")
        if spec.prefix in prefixes:
            raise KnowledgeError(f"{path.name}: {item}: prefix {spec.prefix!r} is already used by "
                                 f"{prefixes[spec.prefix]!r}; choose a unique prefix")
        out[spec.id] = spec
        prefixes[spec.prefix] = spec.id
    if not out:
        raise KnowledgeError(f"{path.name}: no specialties; add at least one")
    return out


def _load_findings(path: Path, specialties: dict[str, Specialty], out: dict[str, Finding] | None = None,
                   data: Any = None, origin: dict[str, str] | None = None,
                   problems: list[str] | None = None) -> dict[str, Finding]:
    """Read a ``findings:`` list from ``path`` (findings.yaml, or a condition file's own) into ``out``."""
    out = {} if out is None else out
    origin = {} if origin is None else origin

    def one(i: int, raw: Any) -> None:
        item = _item_name(raw, i, "finding")
        finding = _validate(Finding, raw, path, item)
        if finding.id in out:
            where = origin.get(finding.id, path.name)
            raise KnowledgeError(f"{path.name}: {item}: duplicate id (already defined in {where}); reuse that "
                                 "finding or rename this one")
        for spec_id in finding.specialties:
            if spec_id not in specialties:
                raise KnowledgeError(f"{path.name}: {item}: unknown specialty {spec_id!r} in specialties; "
                                     f"use one of: {', '.join(specialties)}")
        out[finding.id] = finding
        origin[finding.id] = path.name

    items = _section(path, _read_yaml(path) if data is None else data, "findings", list)
    for i, raw in enumerate(items):
        _guard(problems, one, i, raw)
    return out


def _check_accounts_for(findings: dict[str, Finding], origin: dict[str, str]) -> None:
    for finding in findings.values():
        for other in finding.accounts_for:
            if other not in findings:
                raise KnowledgeError(f"{origin.get(finding.id, 'findings.yaml')}: {finding.id}: accounts_for names "
                                     f"unknown finding {other!r}; define it in findings.yaml or fix the id")


def _apply_affinities(path: Path, data: dict, findings: dict[str, Finding],
                      specialties: dict[str, Specialty]) -> None:
    """A condition file's ``affinities: {finding_id: weight}`` point existing findings to the file's specialty."""
    raw = data.get("affinities")
    if raw is None:
        return
    spec_id = data.get("specialty")
    if not isinstance(raw, dict) or spec_id not in specialties:
        raise KnowledgeError(f"{path.name}: 'affinities' must be a mapping of finding id to a weight in (0, 1], "
                             "in a file with a known top-level 'specialty:'")
    for fid, weight in raw.items():
        if fid not in findings:
            raise KnowledgeError(f"{path.name}: affinities: unknown finding {fid!r}; define it or fix the id")
        if not isinstance(weight, int | float) or not 0.0 < float(weight) <= 1.0:
            raise KnowledgeError(f"{path.name}: affinities: {fid}: weight {weight!r}; use a number in (0, 1]")
        f = findings[fid]
        findings[fid] = f.model_copy(update={"specialties": {**f.specialties, spec_id: float(weight)}})


def _load_references(path: Path, out: dict[str, Reference] | None = None,
                     data: dict[str, Any] | None = None) -> dict[str, Reference]:
    """Read a ``references:`` registry from ``path`` into ``out``; an id already there must match exactly."""
    out = {} if out is None else out
    if data is None:
        if not path.exists():
            return out
        data = _read_yaml(path)
    for key, raw in _section(path, data, "references", dict).items():
        if not isinstance(raw, dict):
            raise KnowledgeError(f"{path.name}: reference {key!r}: expected a mapping with 'citation'")
        ref = _validate(Reference, {"key": str(key), **raw}, path, f"reference {key!r}")
        if str(key) in out and out[str(key)] != ref:
            raise KnowledgeError(f"{path.name}: reference {key!r} is registered elsewhere with a different "
                                 "record; keep one record for it")
        out[str(key)] = ref
    return out


def _condition_files(folder: Path, specialties: dict[str, Specialty]) -> list[Path]:
    if not folder.is_dir():
        raise KnowledgeError(f"{folder}: conditions folder is missing; add conditions/<specialty>.yaml files")
    files = sorted(folder.glob("*.yaml"))
    order = {spec_id: i for i, spec_id in enumerate(specialties)}
    return sorted(files, key=lambda p: (order.get(p.stem, len(order)), p.name))


def _load_conditions(files: list[tuple[Path, Any]], specialties: dict[str, Specialty],
                     findings: dict[str, Finding], references: dict[str, Reference],
                     problems: list[str] | None = None) -> dict[str, Condition]:
    out: dict[str, Condition] = {}
    names: dict[str, str] = {}

    def one(path: Path, i: int, raw: Any, default_spec: str | None) -> None:
        item = _item_name(raw, i, "condition")
        if isinstance(raw, dict) and "specialty" not in raw and default_spec is not None:
            raw = {**raw, "specialty": default_spec}
        cond = _validate(Condition, raw, path, item)
        _check_condition(cond, path, item, specialties, findings, references)
        cond = _with_base_rates(cond, findings)
        if cond.id in out:
            raise KnowledgeError(f"{path.name}: {item}: duplicate id (already defined for specialty "
                                 f"{out[cond.id].specialty!r}); rename one")
        for label in (cond.id, cond.name, *cond.aliases):
            other = names.get(normalize_name(label))
            if other is not None and other != cond.id:
                raise KnowledgeError(f"{path.name}: {item}: name or alias {label!r} is already used by "
                                     f"condition {other!r}; remove or reword it")
        for label in (cond.id, cond.name, *cond.aliases):
            names[normalize_name(label)] = cond.id
        out[cond.id] = cond

    def one_file(path: Path, data: Any) -> None:
        items = _section(path, data, "conditions", list)
        default_spec = data.get("specialty")
        if default_spec is not None and default_spec not in specialties:
            raise KnowledgeError(f"{path.name}: unknown specialty {default_spec!r}; use one of: "
                                 f"{', '.join(specialties)}")
        for i, raw in enumerate(items):
            _guard(problems, one, path, i, raw, default_spec)

    for path, data in files:
        _guard(problems, one_file, path, data)

    def sources(cond: Condition) -> None:
        for source in cond.sources:
            if source not in out or source == cond.id:
                raise KnowledgeError(f"conditions: {cond.id}: unknown source condition {source!r} in sources; "
                                     f"use the id of another condition of the knowledge base")

    for cond in list(out.values()):
        _guard(problems, sources, cond)
    return out


def _with_base_rates(cond: Condition, findings: dict[str, Finding]) -> Condition:
    """Complete frequency evidence that gives no base rate with the base rate documented on its finding."""
    missing = {fid: lr for fid, lr in cond.findings.items() if lr.frequency is not None and lr.base_rate is None}
    if not missing:
        return cond
    done = {fid: lr.with_base_rate(findings[fid].base_rate) for fid, lr in missing.items()}  # type: ignore[arg-type]
    return cond.model_copy(update={"findings": {**cond.findings, **done}})


def _check_condition(cond: Condition, path: Path, item: str, specialties: dict[str, Specialty],
                     findings: dict[str, Finding], references: dict[str, Reference]) -> None:
    if cond.specialty not in specialties:
        raise KnowledgeError(f"{path.name}: {item}: unknown specialty {cond.specialty!r}; use one of: "
                             f"{', '.join(specialties)}")
    criteria_items = [fid for c in cond.criteria for fid in c.items]
    for finding_id in [*cond.findings, *cond.presenting, *cond.explains, *criteria_items]:
        if finding_id not in findings:
            raise KnowledgeError(f"{path.name}: {item}: unknown finding {finding_id!r}; define it in "
                                 "findings.yaml or fix the id")
    for fid, lr in cond.findings.items():
        if lr.frequency is not None and lr.base_rate is None and findings[fid].base_rate is None:
            raise KnowledgeError(f"{path.name}: {item}: findings.{fid}: frequency evidence needs a base rate; give "
                                 f"base_rate and base_reference, or a base_rate on finding {fid!r}")
    if references:
        cited = [cond.prior_reference, *cond.references, *(lr.reference for lr in cond.findings.values()),
                 *(lr.base_reference for lr in cond.findings.values() if lr.base_reference),
                 *(c.reference for c in cond.criteria)]
        for ref in cited:
            if not ref.startswith("unverified:") and ref not in references:
                raise KnowledgeError(f"{path.name}: {item}: reference {ref!r} is not registered; add its "
                                     "citation to references.yaml or to this file's references: mapping")


def _folder(path: str | Path, what: str) -> Path:
    folder = Path(path).expanduser().resolve()
    if not folder.is_dir():
        raise KnowledgeError(f"{folder}: {what} does not exist; pass a folder holding specialties.yaml, "
                             "findings.yaml and conditions/ (an extension folder needs only conditions/)")
    return folder


@functools.lru_cache(maxsize=8)
def _load_cached(folder: Path, extra: tuple[Path, ...] = ()) -> KnowledgeBase:
    return _load(folder, extra, None)


def _load(folder: Path, extra: tuple[Path, ...], problems: list[str] | None) -> KnowledgeBase:
    """Load a knowledge base; with a ``problems`` list, record every problem and keep what loads."""
    specialties = _load_specialties(folder / "specialties.yaml")

    def add_specialties(ext: Path) -> None:
        for spec in _load_specialties(ext / "specialties.yaml").values():
            clash = next((s for s in specialties.values() if s.id == spec.id or s.prefix == spec.prefix), None)
            if clash is not None:
                raise KnowledgeError(f"{ext / 'specialties.yaml'}: specialty {spec.id!r}: id or prefix "
                                     f"{spec.prefix!r} is already used by {clash.id!r}; choose unique ones")
            specialties[spec.id] = spec

    for ext in extra:  # an extension may add specialties of its own
        if (ext / "specialties.yaml").exists():
            _guard(problems, add_specialties, ext)
    origin: dict[str, str] = {}
    findings = _load_findings(folder / "findings.yaml", specialties, origin=origin, problems=problems)
    references = _load_references(folder / "references.yaml")
    files: list[tuple[Path, Any]] = []

    def read(path: Path) -> None:
        files.append((path, _read_yaml(path)))

    for path in _condition_files(folder / "conditions", specialties):
        _guard(problems, read, path)
    for ext in extra:
        if (ext / "findings.yaml").exists():
            _guard(problems, _load_findings, ext / "findings.yaml", specialties, findings, None, origin, problems)
        _guard(problems, _load_references, ext / "references.yaml", references)
        if (ext / "conditions").is_dir():
            for path in _condition_files(ext / "conditions", specialties):
                _guard(problems, read, path)
    for path, data in files:
        if not isinstance(data, dict):
            continue
        if "references" in data:
            _guard(problems, _load_references, path, references, data)
        if "findings" in data:  # a condition file may define the findings its conditions need
            _guard(problems, _load_findings, path, specialties, findings, data, origin, problems)
    for path, data in files:
        if isinstance(data, dict):
            _guard(problems, _apply_affinities, path, data, findings, specialties)
    _guard(problems, _check_accounts_for, findings, origin)
    conditions = _load_conditions(files, specialties, findings, references, problems)
    if not conditions and problems is None:
        raise KnowledgeError(f"{folder}: no conditions found; add conditions/<specialty>.yaml files")
    log.debug("knowledge base %s: %d specialties, %d findings, %d conditions", folder, len(specialties),
              len(findings), len(conditions))
    source = " + ".join(str(p) for p in (folder, *extra))
    return KnowledgeBase(specialties=specialties, findings=findings, conditions=conditions,
                         references=references, source=source)


def load_knowledge_checked(path: str | Path | None = None,
                           extra: tuple[str | Path, ...] | list[str | Path] = ()) -> tuple[KnowledgeBase, list[str]]:
    """Load like ``load_knowledge`` but record every problem (file, item, field and fix) instead of stopping at
    the first; returns what loaded and the problems (``wardround kb validate``). Not cached."""
    folder = _folder(path, "knowledge folder") if path is not None else DATA_DIR
    problems: list[str] = []
    kb = _load(folder, tuple(_folder(p, "extra knowledge folder") for p in extra), problems)
    return kb, problems


def load_knowledge(path: str | Path | None = None, extra: tuple[str | Path, ...] | list[str | Path] = ()) -> KnowledgeBase:
    """Load (once, then cached) the knowledge base in ``path``, by default the one shipped with wardround.

    ``extra`` folders extend it without forking: each may hold ``conditions/*.yaml`` (with their own
    ``findings:``, ``references:`` and ``affinities:``), and optionally ``specialties.yaml``, ``findings.yaml`` and
    ``references.yaml``; ids must not collide with the base. Raises ``KnowledgeError`` naming the file, the item
    and the fix when a file is inconsistent.
    """
    folder = _folder(path, "knowledge folder") if path is not None else DATA_DIR
    return _load_cached(folder, tuple(_folder(p, "extra knowledge folder") for p in extra))


load_knowledge.cache_clear = _load_cached.cache_clear  # type: ignore[attr-defined]
