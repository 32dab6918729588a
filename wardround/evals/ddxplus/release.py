"""The DDXPlus knowledge base: the release files ``release_evidences.json`` and ``release_conditions.json``.

DDXPlus (Fansi Tchango et al., "DDXPlus: A New Dataset For Automatic Medical Diagnosis", NeurIPS 2022 Datasets
and Benchmarks, arXiv:2205.09148; mila-iqia/ddxplus) is released under CC-BY. An *evidence* is a symptom or an
antecedent; it is binary (``B``, written ``E_xx``), categorical (``C``) or multi-choice (``M``), the latter two
written ``E_xx_@_V_yy`` (or ``E_xx_@_5`` for an ordinal 0-10 scale). A value equal to the evidence's
``default_value`` means the evidence was not synthesized, i.e. it is absent.
"""

from __future__ import annotations

import json
import re
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from wardround.errors import InputError

CONDITIONS_FILE = "release_conditions.json"
EVIDENCES_FILE = "release_evidences.json"
VALUE_SEPARATOR = "_@_"
_LATERAL = re.compile(r"\s*\((R|L)\)\s*$")


class EvidenceDef(BaseModel):
    """One evidence of ``release_evidences.json`` (a question with its type and possible values)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    name: str
    code_question: str
    question_en: str = ""
    question_fr: str = ""
    is_antecedent: bool = False
    data_type: Literal["B", "C", "M"]
    default_value: Any = None
    possible_values: list[Any] = Field(default_factory=list, alias="possible-values")
    value_meaning: dict[str, dict[str, str]] = Field(default_factory=dict)

    @cached_property
    def ordinal(self) -> bool:
        """True for a categorical evidence on a numeric scale (e.g. pain intensity 0-10)."""
        return self.data_type == "C" and bool(self.possible_values) and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in self.possible_values)

    @property
    def scale_max(self) -> float:
        """Largest value of an ordinal evidence (1 for others)."""
        return float(max(self.possible_values)) if self.ordinal else 1.0

    @cached_property
    def value_set(self) -> frozenset[str]:
        """Possible values as strings (patients' codes write every value as text)."""
        return frozenset(str(v) for v in self.possible_values)

    def is_default(self, value: str) -> bool:
        """Whether ``value`` (as written in a patient's code) is the default, i.e. the evidence is absent."""
        return str(value) == str(self.default_value)

    def meaning(self, value: str) -> str:
        """English meaning of a value (the value itself for ordinal scales or unknown codes)."""
        m = self.value_meaning.get(str(value))
        return m.get("en") or m.get("fr") or str(value) if m else str(value)

    @cached_property
    def lateral(self) -> bool:
        """True for a body-location evidence whose values come in left/right pairs (``groin(R)``, ``groin(L)``)."""
        return sum(1 for m in self.value_meaning.values() if _LATERAL.search(m.get("en", ""))) >= 2

    def site(self, value: str) -> str:
        """The value's meaning with laterality removed (``groin(R)`` -> ``groin``): pools left and right."""
        return _LATERAL.sub("", self.meaning(value))


class ConditionDef(BaseModel):
    """One pathology of ``release_conditions.json`` with its symptoms, antecedents and severity."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    condition_name: str
    name_en: str = Field("", alias="cond-name-eng")
    name_fr: str = Field("", alias="cond-name-fr")
    icd10_id: str = Field("", alias="icd10-id")
    symptoms: dict[str, Any] = Field(default_factory=dict)
    antecedents: dict[str, Any] = Field(default_factory=dict)
    severity: int | None = Field(None, description="1 = most severe, 5 = least")


class ParsedEvidence(BaseModel):
    """One patient evidence code split into its evidence name and value (``None`` for a binary evidence)."""

    model_config = ConfigDict(frozen=True)

    code: str
    evidence: str
    value: str | None = None


class DDXPlusRelease:
    """The DDXPlus knowledge base loaded from a folder holding the two release JSON files."""

    def __init__(self, evidences: dict[str, EvidenceDef], conditions: dict[str, ConditionDef],
                 source: str = "") -> None:
        self.evidences = evidences
        self.conditions = conditions
        self.source = source
        self._check()

    # -- loading ------------------------------------------------------------------------------------------

    @classmethod
    def from_dir(cls, kb_dir: str | Path) -> DDXPlusRelease:
        """Load ``release_evidences.json`` and ``release_conditions.json`` from ``kb_dir``."""
        folder = Path(kb_dir)
        raw = {}
        for fname in (EVIDENCES_FILE, CONDITIONS_FILE):
            path = folder / fname
            if not path.is_file():
                raise InputError("kb_dir", f"{fname} not found in {str(folder)!r}",
                                 "pass the folder holding the DDXPlus release files (release_conditions.json, "
                                 "release_evidences.json)")
            try:
                raw[fname] = json.loads(path.read_text(encoding="utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise InputError(fname, f"not valid UTF-8 JSON ({exc})", "use the DDXPlus release file as shipped") from None
        return cls.from_dicts(raw[EVIDENCES_FILE], raw[CONDITIONS_FILE], source=str(folder))

    @classmethod
    def from_dicts(cls, evidences: dict[str, Any], conditions: dict[str, Any], source: str = "") -> DDXPlusRelease:
        """Build the knowledge base from the two release mappings (already parsed JSON)."""
        if not isinstance(evidences, dict) or not isinstance(conditions, dict):
            raise InputError("release", "expected JSON objects keyed by evidence / condition name",
                             "use the DDXPlus release files as shipped")
        try:
            ev = {k: EvidenceDef.model_validate(v) for k, v in evidences.items()}
            co = {k: ConditionDef.model_validate(v) for k, v in conditions.items()}
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            raise InputError("release", f"{'.'.join(map(str, err['loc']))}: {err['msg']}",
                             "use the DDXPlus release files as shipped") from None
        return cls(ev, co, source)

    def _check(self) -> None:
        for name, cond in self.conditions.items():
            for code in (*cond.symptoms, *cond.antecedents):
                if code not in self.evidences:
                    raise InputError(f"{CONDITIONS_FILE}:{name}", f"evidence {code!r} is not in {EVIDENCES_FILE}",
                                     "use matching release files")

    # -- names --------------------------------------------------------------------------------------------

    @cached_property
    def pathologies(self) -> list[str]:
        """Pathology names (``condition_name``) in file order."""
        return [c.condition_name for c in self.conditions.values()]

    @cached_property
    def evidence_names(self) -> list[str]:
        """Evidence names in file order."""
        return list(self.evidences)

    @cached_property
    def _aliases(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, c in self.conditions.items():
            for alias in (c.name_fr, c.name_en, key, c.condition_name):
                if alias:
                    out[alias.strip().casefold()] = c.condition_name
        return out

    def pathology(self, name: str, field: str = "PATHOLOGY") -> str:
        """The canonical ``condition_name`` of a pathology given by any of its names (English or French)."""
        hit = self._aliases.get(str(name).strip().casefold())
        if hit is None:
            raise InputError(field, f"pathology {name!r} is not in {CONDITIONS_FILE}",
                             "use the release files that match the patients file (--kb-dir)")
        return hit

    def condition(self, pathology: str) -> ConditionDef:
        """The condition definition of a canonical pathology name."""
        for c in self.conditions.values():
            if c.condition_name == pathology:
                return c
        raise InputError("pathology", f"{pathology!r} is not in {CONDITIONS_FILE}", "check the name")

    # -- evidence codes -----------------------------------------------------------------------------------

    def parse_code(self, code: str, field: str = "EVIDENCES") -> ParsedEvidence:
        """Split ``E_xx`` / ``E_xx_@_V_yy`` into evidence and value, checking both against the release file."""
        if not isinstance(code, str) or not code.strip():
            raise InputError(field, "an evidence code must be a non-empty string", "use codes like E_91 or E_55_@_V_29",
                             code)
        code = code.strip()
        name, sep, value = code.partition(VALUE_SEPARATOR)
        ev = self.evidences.get(name)
        if ev is None:
            raise InputError(field, f"unknown evidence {name!r}", f"use evidence names from {EVIDENCES_FILE}", code)
        if not sep:
            if ev.data_type != "B":
                raise InputError(field, f"{name} is a {ev.data_type} evidence and needs a value",
                                 f"write {name}{VALUE_SEPARATOR}<value>", code)
            return ParsedEvidence(code=code, evidence=name)
        if ev.data_type == "B":
            raise InputError(field, f"{name} is binary and takes no value", f"write {name}", code)
        if str(value) not in ev.value_set:
            raise InputError(field, f"value {value!r} is not a possible value of {name}",
                             f"use one of {ev.possible_values[:8]}{'...' if len(ev.possible_values) > 8 else ''}", code)
        return ParsedEvidence(code=code, evidence=name, value=str(value))

    def evidence_of(self, code: str, field: str = "INITIAL_EVIDENCE") -> str:
        """The evidence name of a code given with or without its value (INITIAL_EVIDENCE names the evidence)."""
        name = str(code).strip().partition(VALUE_SEPARATOR)[0]
        if name not in self.evidences:
            raise InputError(field, f"unknown evidence {name!r}", f"use evidence names from {EVIDENCES_FILE}", code)
        return name

    def present(self, codes: list[str]) -> set[str]:
        """Evidence names that are present: binary codes, and C/M evidences with a non-default value."""
        out: set[str] = set()
        for code in codes:
            p = self.parse_code(code)
            if p.value is None or not self.evidences[p.evidence].is_default(p.value):
                out.add(p.evidence)
        return out

    def asked(self, evidence: str, present: set[str]) -> bool:
        """Whether an evidence would have been asked: root questions always, sub-questions when the root is present."""
        root = self.root_of(evidence)
        return root == evidence or root in present

    def root_of(self, evidence: str) -> str:
        """The root question of an evidence (itself when ``code_question`` names no evidence of the file)."""
        root = self.evidences[evidence].code_question
        return root if root in self.evidences else evidence

    def describe(self, code: str) -> str:
        """One readable English sentence for one evidence code (question and answer)."""
        p = self.parse_code(code)
        ev = self.evidences[p.evidence]
        question = ev.question_en or ev.question_fr or p.evidence
        if p.value is None:
            return f"{question} Yes."
        if ev.ordinal:
            return f"{question} {p.value} (scale 0-{int(ev.scale_max)})."
        return f"{question} {ev.meaning(p.value)}."
