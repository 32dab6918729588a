"""Citing auto-filled calculator inputs: one evidence item per note span or case field an input rests on.

Every filled input cites the exact note span or case field it came from, through note or field evidence that
``Ledger.verify`` re-checks (the quote must equal the note at its offsets; the field must hold the value). An
existing item quoting the same span or field -- intake's, or an earlier calculator's -- is cited instead of a new
one, so a ward round does not fill its ledger with copies.
"""

from __future__ import annotations

from typing import Any

from wardround.case import Case
from wardround.evidence import Evidence, EvidenceWriter, Ledger
from wardround.tools.calculators.inputs import Source


class InputCiter:
    """Creates (or reuses) the evidence each filled input cites."""

    def __init__(self, case: Case, writer: EvidenceWriter, ledger: Ledger | None) -> None:
        self.case = case
        self.writer = writer
        self.by_span: dict[tuple[int, int], str] = {}
        self.by_field: dict[str, str] = {}
        self.created: list[Evidence] = []
        for ev in (ledger or Ledger()):
            if ev.kind == "note" and ev.span is not None and ev.quote is not None:
                self.by_span.setdefault(tuple(ev.span), ev.id)  # type: ignore[arg-type]
            elif ev.kind == "field" and ev.field:
                self.by_field.setdefault(ev.field, ev.id)
        for ev in writer.items.values():
            if ev.kind == "note" and ev.span is not None:
                self.by_span.setdefault(tuple(ev.span), ev.id)  # type: ignore[arg-type]
            elif ev.kind == "field" and ev.field:
                self.by_field.setdefault(ev.field, ev.id)

    def cite(self, src: Source, fname: str, value: Any, unit: str | None) -> str:
        """The id of the evidence for ``src`` (reused when the span or field is already cited)."""
        shown = value if isinstance(value, int | float | str | bool) else str(value)
        if src.path is not None:
            hit = self.by_field.get(src.path)
            if hit:
                return hit
            ev = self.writer.field(f"{fname}: from case field {src.path}", src.path, src.value, quantity=fname)
            self.by_field[src.path] = ev.id
        else:
            key = (src.start, src.end)
            hit = self.by_span.get(key)
            if hit:
                return hit
            quote = self.case.note[src.start:src.end]
            ev = self.writer.note(f"{fname} = {shown}{' ' + unit if unit else ''}: \"{quote}\"", self.case.note,
                                  src.start, src.end, quantity=fname,
                                  value=shown if not isinstance(shown, bool) else None,
                                  present=shown if isinstance(shown, bool) else None)
            self.by_span[key] = ev.id
        self.created.append(ev)
        return ev.id
