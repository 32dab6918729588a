"""Where each value of a case read from FHIR came from: the bundle, the resource, the element (pydantic only).

A ``Case`` built from a Bundle keeps a ``FhirRecord``: for every case field taken from the bundle (``vitals.
heart_rate``, ``labs[2].value``, ``history.conditions[0]``, ``age``, the note) the resource it cites (type/id),
the element read and the value found there, plus a sha256 of each cited resource. Field and note evidence of
such a case verify against the bundle itself (``wardround.fhir.verify``), as note evidence verifies against its
span. This module imports nothing heavy: ``wardround.case`` imports it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

#: How a case value is re-derived from its element when a citation is checked.
SourceKind = Literal["vital", "lab", "age", "sex", "text", "note"]


class FhirElement(BaseModel):
    """One element of one resource that a case field rests on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    resource: str = Field(description="the resource cited: 'Observation/<id>' (or its fullUrl when it has no id)")
    element: str = Field(description="the element read, e.g. 'valueQuantity' or 'component[1].valueQuantity'")
    kind: SourceKind
    value: float | str | None = Field(None, description="the value found in the element, in the bundle's units")
    unit: str | None = Field(None, description="the UCUM code of the value in the bundle, if any")
    target: str | None = Field(None, description="the vital sign or analyte the value was read as")
    span: tuple[int, int] | None = Field(None, description="for note text: where it sits in the case note")

    def cite(self) -> str:
        """``Observation/abc valueQuantity``: the citation as shown in reports."""
        return f"{self.resource} {self.element}"


class FhirRecord(BaseModel):
    """The bundle a case was read from and, per case field, the FHIR element it cites."""

    model_config = ConfigDict(extra="forbid")

    bundle_path: str | None = Field(None, description="absolute path of the bundle file (None: given in memory)")
    bundle_sha256: str = Field(description="sha256 of the bundle's canonical JSON (sorted keys, no spaces)")
    bundle_id: str | None = None
    patient: str = Field(description="the Patient resource cited, 'Patient/<id>'")
    encounter: str | None = Field(None, description="the Encounter the case is built around")
    at: str | None = Field(None, description="start of that encounter (ISO date-time): 'today' of the case")
    sources: dict[str, FhirElement] = Field(default_factory=dict, description="case field path -> element")
    resources: dict[str, str] = Field(default_factory=dict, description="cited resource -> sha256 of its JSON")
    issues: list[str] = Field(default_factory=list, description="unmapped codes, unparseable resources, ...")

    def source_of(self, path: str) -> FhirElement | None:
        """The element a case field path rests on (``labs[2].value`` and ``labs[2]`` both find the lab)."""
        hit = self.sources.get(path)
        if hit is None and path.endswith((".value", ".unit", ".name")):
            hit = self.sources.get(path.rsplit(".", 1)[0])
        return hit
