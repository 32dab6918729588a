"""Check a case value cited from FHIR against the bundle: the cited element must still yield it.

Called by ``wardround.evidence`` for field and note evidence of a case read from a bundle. A citation verifies
when the bundle is available (its file, or in memory), the cited resource is still in it with the same content
(sha256 of its canonical JSON), and the element re-read with the reader's own function gives the case's value.
"""

from __future__ import annotations

import math
from typing import Any

from wardround.fhir.bundle import bundle_for
from wardround.fhir.elements import derive, parse_time
from wardround.fhir.provenance import FhirElement, FhirRecord


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool | str):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def check_source(record: FhirRecord, src: FhirElement, case_value: Any) -> str | None:
    """``None`` when the element ``src`` of the bundle still yields ``case_value``, else the reason it does not."""
    index, why = bundle_for(record.bundle_path, record.bundle_sha256)
    if index is None:
        return why
    resource = index.get(src.resource)
    if resource is None:
        return f"{src.resource} is not in the FHIR bundle any more"
    try:
        value = derive(src, resource, index.get, parse_time(record.at))
    except (KeyError, ValueError, TypeError) as exc:
        return f"{src.cite()} can no longer be read ({exc})"
    if not _same(value, case_value):
        return f"{src.cite()} in the bundle gives {value!r}, not the case's {case_value!r}"
    if src.kind not in ("note", "age") and src.value is not None and not _same(value, src.value):
        return f"{src.cite()} gives {value!r}, not the recorded {src.value!r}"
    recorded = record.resources.get(src.resource)
    if recorded and index.resource_sha256(src.resource) != recorded:
        return f"{src.resource} has changed since the case was read (sha256 mismatch)"
    return None


def check_field(record: FhirRecord, path: str, case_value: Any) -> str | None:
    """Check a field path of the case (``labs[2].value``) against the bundle; ``None`` when not from FHIR."""
    src = record.source_of(path)
    if src is None:
        return None
    return check_source(record, src, case_value)


def check_note(record: FhirRecord, note: str, span: tuple[int, int]) -> str | None:
    """Check the note text under ``span`` against the attachments or sections it was read from."""
    for key, src in record.sources.items():
        if src.kind != "note" or src.span is None or not key.startswith("note"):
            continue
        start, end = src.span
        if start < span[1] and span[0] < end:
            reason = check_source(record, src, note[start:end])
            if reason:
                return reason
    return None


def cited_resource(record: FhirRecord | None, path: str | None) -> str | None:
    """``Observation/abc valueQuantity``: what a case field cites in the bundle, or ``None``."""
    if record is None or not path:
        return None
    src = record.source_of(path)
    return src.cite() if src else None
