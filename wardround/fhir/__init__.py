"""FHIR R4 in and out: read a Bundle into a case around one encounter, write a result as a DiagnosticReport.

``read_bundle`` and ``to_diagnostic_report`` import ``fhir.resources`` (its R4B models) when called, so this
package stays light to import; ``wardround.case`` uses its provenance models.
"""

from __future__ import annotations

from typing import Any

from wardround.fhir.bundle import register_bundle
from wardround.fhir.provenance import FhirElement, FhirRecord

__all__ = ["FhirElement", "FhirRecord", "read_bundle", "register_bundle", "to_diagnostic_report"]


def read_bundle(*args: Any, **kwargs: Any) -> Any:
    """See ``wardround.fhir.reader.read_bundle``."""
    from wardround.fhir.reader import read_bundle as _read

    return _read(*args, **kwargs)


def to_diagnostic_report(*args: Any, **kwargs: Any) -> Any:
    """See ``wardround.fhir.writer.to_diagnostic_report``."""
    from wardround.fhir.writer import to_diagnostic_report as _write

    return _write(*args, **kwargs)
