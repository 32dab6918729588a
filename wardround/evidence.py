"""Evidence, the append-only Ledger, and citation checking.

Every claim in a wardround report cites evidence ids such as ``[E7]`` or ``[CA2]``. An id is
``<prefix><n>``: the prefix belongs to exactly one producer (``E`` for intake, a two-letter code per
specialist, ``AT`` for the attending, ``HR`` for human review), and each producer numbers its own evidence
in order. Ids are therefore short, deterministic for a given case, and unique across specialists that run
in parallel without any coordination between them.

A citation is valid when (DESIGN.md): the id exists; a quoted note span equals the note text at the recorded
offsets; a structured field still holds the recorded value; a calculator result recomputes to the same value
from its recorded inputs; an imaging artifact's hash matches. Field and note evidence of a case read from a FHIR
Bundle also re-check against the bundle: the cited resource element must still yield the case's value.
"""

from __future__ import annotations

import hashlib
import importlib
import math
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from wardround import display
from wardround.errors import CitationError

if TYPE_CHECKING:
    from wardround.case import Case

EvidenceKind = Literal["note", "field", "tool", "imaging", "derived"]

ID_RE = re.compile(r"^[A-Z]{1,3}\d{1,4}$")
CITATION_RE = re.compile(r"\[((?:[A-Z]{1,3}\d{1,4})(?:\s*,\s*[A-Z]{1,3}\d{1,4})*)\]")


class Evidence(BaseModel):
    """One checkable piece of evidence.

    Which optional fields are set depends on ``kind``:
    ``note`` -> ``quote`` and ``span``; ``field`` -> ``field`` (a path into the case) and ``value``;
    ``tool`` -> ``tool`` (``"calculator:curb_65"``), ``inputs`` and ``value``; ``imaging`` -> ``artifact_path``,
    ``sha256`` and ``measurements``; ``derived`` -> ``derived_from`` (ids it rests on).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    kind: EvidenceKind
    producer: str
    statement: str
    finding: str | None = Field(None, description="knowledge-base finding id this evidence bears on")
    present: bool | None = Field(None, description="True: finding present; False: explicitly absent")
    value: float | int | str | bool | None = None
    unit: str | None = None
    quantity: str | None = Field(None, description="measured quantity: a vital, an analyte, age or sex")
    quote: str | None = None
    span: tuple[int, int] | None = None
    field: str | None = None
    tool: str | None = None
    inputs: dict[str, Any] | None = None
    artifact_path: str | None = None
    sha256: str | None = None
    measurements: dict[str, Any] | None = None
    derived_from: list[str] = Field(default_factory=list)
    reference: str | None = Field(None, description="primary reference (PMID/DOI) behind a tool's formula")

    def short(self) -> str:
        """One-line form used in rendered reports."""
        return f"[{self.id}] {self.statement}"


# ---------------------------------------------------------------------------------------------------------
# Verification plug-ins: tool families register a recompute check; the map tells which module to import.

Verifier = Callable[[Evidence], str | None]
_VERIFIERS: dict[str, Verifier] = {}
_VERIFIER_MODULES: dict[str, str] = {
    "calculator": "wardround.tools.calculators",
    "segmentation": "wardround.tools.segmentation",
    "bayes": "wardround.knowledge.bayes",
    "posterior": "wardround.reasoning.engine",
    "mcp": "wardround.agents.llm_agents",  # results of configured MCP servers' tools (sealed by sha256)
}


def register_verifier(family: str, verifier: Verifier) -> None:
    """Register ``verifier`` for tool evidence whose ``tool`` starts with ``family:``.

    The verifier returns ``None`` when the evidence recomputes, or a short reason when it does not.
    """
    _VERIFIERS[family] = verifier


def _verifier_for(tool: str) -> Verifier | None:
    family = tool.split(":", 1)[0]
    if family not in _VERIFIERS and family in _VERIFIER_MODULES:
        importlib.import_module(_VERIFIER_MODULES[family])
    return _VERIFIERS.get(family)


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def values_match(a: Any, b: Any, rel: float = 1e-9, abs_tol: float = 1e-9) -> bool:
    """Equality that tolerates float rounding and int/float differences."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        if math.isnan(a) or math.isnan(b):
            return False
        return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=abs_tol)
    return a == b


def resolve_field(case: Case, path: str) -> Any:
    """Value at a dotted/indexed path in the case (``"vitals.heart_rate"``, ``"labs[2].value"``)."""
    obj: Any = case
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if part.startswith("["):
            obj = obj[int(part[1:-1])]
        elif isinstance(obj, Mapping):
            obj = obj[part]
        else:
            obj = getattr(obj, part)
    return obj


class CitationCheck(BaseModel):
    """The outcome of checking one evidence id."""

    id: str
    ok: bool
    reason: str = ""


class VerificationReport(BaseModel):
    """The outcome of checking a set of citations."""

    ok: bool
    checked: int
    failures: list[CitationCheck] = Field(default_factory=list)

    def message(self) -> str:
        """Human-readable summary naming each failed citation."""
        if self.ok:
            return f"all {self.checked} citations verify"
        return "; ".join(f"[{f.id}] {f.reason}" for f in self.failures)

    def raise_for_failures(self) -> None:
        """Raise ``CitationError`` naming every failed citation."""
        if not self.ok:
            raise CitationError(f"{len(self.failures)} citation(s) failed verification: {self.message()}")


def check_evidence(ev: Evidence, case: Case | None, ledger: Mapping[str, Evidence],
                   _seen: frozenset[str] = frozenset()) -> str | None:
    """Check one piece of evidence; return ``None`` when it verifies or the reason it does not."""
    if not ID_RE.match(ev.id):
        return f"malformed evidence id {ev.id!r}"
    if ev.kind == "derived" and not ev.derived_from:
        return "derived evidence that rests on nothing"
    return _check_sources(ev, case, ledger, _seen)


def _check_kind(ev: Evidence, case: Case | None) -> str | None:
    """The kind-specific check of one item (sources are checked separately)."""
    if ev.kind == "derived":
        return None
    if ev.kind == "note":
        if case is None:
            return "no case to check the note quote against"
        if ev.span is None or ev.quote is None:
            return "note evidence without quote and span"
        start, end = ev.span
        if not (0 <= start <= end <= len(case.note)):
            return f"span {start}-{end} lies outside the note ({len(case.note)} characters)"
        actual = case.note[start:end]
        if actual != ev.quote:
            return f"quote {ev.quote!r} does not match the note at {start}-{end} ({actual!r})"
        if case.fhir is not None:  # a note read from FHIR attachments re-checks against the bundle
            from wardround.fhir.verify import check_note

            return check_note(case.fhir, case.note, (start, end))
        return None
    if ev.kind == "field":
        if case is None:
            return "no case to check the field against"
        if not ev.field:
            return "field evidence without a field path"
        try:
            actual = resolve_field(case, ev.field)
        except (KeyError, IndexError, AttributeError, ValueError):
            return f"case field {ev.field!r} does not exist"
        if isinstance(actual, list) and isinstance(ev.value, str):
            return None if ev.value in actual else f"{ev.value!r} is not in case field {ev.field!r}"
        if not values_match(actual, ev.value):
            return f"case field {ev.field!r} holds {actual!r}, not the recorded {ev.value!r}"
        if case.fhir is not None:  # a field read from FHIR re-checks against the element it cites
            from wardround.fhir.verify import check_field

            return check_field(case.fhir, ev.field, actual)
        return None
    if ev.kind == "tool":
        if not ev.tool:
            return "tool evidence without a tool name"
        verifier = _verifier_for(ev.tool)
        if verifier is None:
            return f"no verifier is registered for tool {ev.tool!r}"
        return verifier(ev)
    if ev.kind == "imaging":
        if not ev.artifact_path or not ev.sha256:
            return "imaging evidence without artifact path and sha256"
        p = Path(ev.artifact_path)
        if not p.is_file():
            return f"artifact {ev.artifact_path!r} is missing"
        if sha256_file(p) != ev.sha256:
            return f"artifact {p.name} has changed (sha256 mismatch)"
        if ev.tool:
            verifier = _verifier_for(ev.tool)
            if verifier is not None:
                return verifier(ev)
        return None
    return f"unknown evidence kind {ev.kind!r}"


def _check_sources(ev: Evidence, case: Case | None, ledger: Mapping[str, Evidence],
                   _seen: frozenset[str]) -> str | None:
    """Check the item itself, then every item it rests on (``derived_from``), guarding against cycles."""
    reason = _check_kind(ev, case)
    if reason:
        return reason
    for src in ev.derived_from:
        if src in _seen or src == ev.id:
            return f"circular derivation through {src}"
        base = ledger.get(src)
        if base is None:
            return f"rests on {src}, which does not exist in the ledger"
        reason = check_evidence(base, case, ledger, _seen | {ev.id})
        if reason:
            return f"rests on {src}, which fails: {reason}"
    return None


class Ledger(BaseModel):
    """Append-only evidence store keyed by id (insertion ordered)."""

    entries: dict[str, Evidence] = Field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, evidence_id: object) -> bool:
        return evidence_id in self.entries

    def __iter__(self):  # type: ignore[override]
        return iter(self.entries.values())

    def __getitem__(self, evidence_id: str) -> Evidence:
        return self.entries[evidence_id]

    def get(self, evidence_id: str) -> Evidence | None:
        """The evidence with this id, or ``None``."""
        return self.entries.get(evidence_id)

    def add(self, evidence: Evidence) -> Evidence:
        """Append one item; re-adding identical evidence is a no-op, changing an existing id is an error."""
        old = self.entries.get(evidence.id)
        if old is not None and old != evidence:
            raise CitationError(f"evidence {evidence.id} already exists with different content; ledger is append-only")
        self.entries[evidence.id] = evidence
        return evidence

    def extend(self, items: Iterable[Evidence]) -> None:
        """Append several items (see ``add``)."""
        for ev in items:
            self.add(ev)

    def verify(self, case: Case | None = None, ids: Iterable[str] | None = None) -> VerificationReport:
        """Check the given ids (default: every entry) against the case and the tools."""
        wanted = list(dict.fromkeys(ids)) if ids is not None else list(self.entries)
        failures = []
        for eid in wanted:
            ev = self.entries.get(eid)
            if ev is None:
                failures.append(CitationCheck(id=eid, ok=False, reason="does not exist in the ledger"))
                continue
            try:
                reason = check_evidence(ev, case, self.entries)
            except Exception as exc:  # a verifier must never take the report down with it
                reason = f"verification raised {type(exc).__name__}: {exc}"
            if reason:
                failures.append(CitationCheck(id=eid, ok=False, reason=reason))
        return VerificationReport(ok=not failures, checked=len(wanted), failures=failures)

    def _repr_html_(self) -> str:  # pragma: no cover - notebooks
        return display.to_html(self)  # wardround.render.render_ledger_html


def merge_ledger(left: Mapping[str, Evidence] | None, right: Mapping[str, Evidence] | None) -> dict[str, Evidence]:
    """LangGraph reducer: merge evidence by id; the same id with different content is an error."""
    merged = dict(left or {})
    for eid, ev in (right or {}).items():
        if isinstance(ev, dict):
            ev = Evidence.model_validate(ev)
        old = merged.get(eid)
        if old is not None:
            if isinstance(old, dict):
                old = Evidence.model_validate(old)
            if old != ev:
                raise CitationError(f"two producers wrote evidence {eid} with different content")
        merged[eid] = ev
    return merged


class EvidenceWriter:
    """Allocates ids ``<prefix>1, <prefix>2, ...`` for one producer and builds evidence items.

    Args:
        prefix: the producer's id prefix (``"E"`` for intake, ``"CA"`` for cardiology, ...).
        producer: the producer's name recorded on each item.
        existing: ids already in the ledger (numbering continues after the highest with this prefix).
    """

    def __init__(self, prefix: str, producer: str, existing: Iterable[str] = ()) -> None:
        if not re.fullmatch(r"[A-Z]{1,3}", prefix):
            raise ValueError(f"evidence prefix must be 1-3 capital letters, not {prefix!r}")
        self.prefix = prefix
        self.producer = producer
        pattern = re.compile(rf"^{prefix}(\d+)$")
        self._n = max((int(m.group(1)) for i in existing if (m := pattern.match(i))), default=0)
        self.items: dict[str, Evidence] = {}

    def _next(self) -> str:
        self._n += 1
        return f"{self.prefix}{self._n}"

    def add(self, kind: EvidenceKind, statement: str, **fields: Any) -> Evidence:
        """Create and keep one evidence item of ``kind`` with the next id."""
        ev = Evidence(id=self._next(), kind=kind, producer=self.producer, statement=statement, **fields)
        self.items[ev.id] = ev
        return ev

    def note(self, statement: str, note: str, start: int, end: int, **fields: Any) -> Evidence:
        """Note evidence quoting ``note[start:end]``."""
        return self.add("note", statement, quote=note[start:end], span=(start, end), **fields)

    def field(self, statement: str, path: str, value: Any, **fields: Any) -> Evidence:
        """Evidence resting on a structured case field."""
        return self.add("field", statement, field=path, value=value, **fields)


def cited_ids(text: str) -> list[str]:
    """Evidence ids cited inline in ``text`` (``"... [E3, CA1] ..."`` -> ``["E3", "CA1"]``)."""
    out: list[str] = []
    for m in CITATION_RE.finditer(text):
        out.extend(x.strip() for x in m.group(1).split(","))
    return out
