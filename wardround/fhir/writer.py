"""Write a ward round's result as a FHIR R4 DiagnosticReport, validated by the ``fhir.resources`` R4B models.

Each condition of the differential is a contained Observation: its ICD-10 code, its probability (a UCUM
dimensionless quantity), its rank, and the evidence it rests on: the evidence ids of the report, with, for
evidence read from a FHIR bundle, the resource and element it cites (``derivedFrom`` for Observations and
documents, which R4 allows there; named in the note for the others). The report is ``preliminary``: a machine
differential for a clinician to review, never a final diagnosis.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from wardround.fhir.codes import ICD10, UCUM
from wardround.fhir.provenance import FhirElement, FhirRecord

_DERIVABLE = ("Observation/", "DocumentReference/", "ImagingStudy/", "Media/", "QuestionnaireResponse/",
              "MolecularSequence/")


def _fhir_id(text: str) -> str:
    """A valid FHIR id (``[A-Za-z0-9-.]{1,64}``) made from ``text``."""
    return (re.sub(r"[^A-Za-z0-9\-.]+", "-", text).strip("-.") or "case")[:64]


def evidence_source(ev: Any, record: FhirRecord | None) -> FhirElement | None:
    """The FHIR element a piece of evidence rests on (field or note evidence of a case read from FHIR)."""
    if record is None or ev is None:
        return None
    if ev.kind == "field" and ev.field:
        return record.source_of(ev.field)
    if ev.kind == "note" and ev.span:
        for key, src in record.sources.items():
            if key.startswith("note") and src.span and src.span[0] < ev.span[1] and ev.span[0] < src.span[1]:
                return src
    return None


def _item_observation(k: int, item: Any, result: Any, record: FhirRecord | None, subject: dict) -> dict:
    ledger = result.ledger
    ids = list(dict.fromkeys([*item.supporting, *item.opposing,
                              *(i for ref in item.explains for i in ref.evidence)]))
    derived: list[dict] = []
    lines = [f"rank {k} of the differential; posterior probability {item.probability:.4f}"]
    for label, group in (("for", item.supporting), ("against", item.opposing)):
        for eid in group:
            ev = ledger.get(eid)
            if ev is None:
                continue
            src = evidence_source(ev, record)
            cite = f" = {src.cite()}" if src else ""
            lines.append(f"{label} [{eid}]{cite}: {ev.statement}")
    for eid in ids:
        src = evidence_source(ledger.get(eid), record)
        if src and src.resource.startswith(_DERIVABLE) and {"reference": src.resource} not in derived:
            derived.append({"reference": src.resource})
    code: dict[str, Any] = {"text": item.name}
    if item.icd10:
        code["coding"] = [{"system": ICD10, "code": item.icd10, "display": item.name}]
    obs: dict[str, Any] = {
        "resourceType": "Observation", "id": f"dx{k}", "status": "preliminary", "code": code, "subject": subject,
        "valueQuantity": {"value": round(float(item.probability), 6), "unit": "probability", "system": UCUM,
                          "code": "1"},
        "note": [{"text": "\n".join(lines)}],
    }
    if derived:
        obs["derivedFrom"] = derived
    return obs


def to_diagnostic_report(result: Any) -> Any:
    """The ``WardResult`` as a ``fhir.resources`` R4B ``DiagnosticReport`` (validated; ``.json()`` to write it).

    Raises ``ValueError`` when the result holds no diagnosis.
    """
    from fhir.resources.R4B.diagnosticreport import DiagnosticReport

    diagnosis = result.diagnosis
    if diagnosis is None:
        raise ValueError("the ward round produced no diagnosis: there is nothing to report")
    case = result.case
    record: FhirRecord | None = getattr(case, "fhir", None)
    subject = {"reference": record.patient} if record else {"display": f"wardround case {case.id}"}
    items = [diagnosis.primary, *[d for d in diagnosis.differential if d.condition != diagnosis.primary.condition]]
    contained = [_item_observation(k, item, result, record, subject) for k, item in enumerate(items, start=1)]
    check = result.verify()
    primary = diagnosis.primary
    if diagnosis.supported:
        conclusion = (f"Leading diagnosis: {primary.name}" + (f" ({primary.icd10})" if primary.icd10 else "")
                      + f", probability {primary.probability:.0%}; coverage: {diagnosis.coverage}.")
    else:
        conclusion = (f"No diagnosis supported by the case; nearest condition considered: {primary.name} "
                      f"({primary.probability:.0%}); coverage: {diagnosis.coverage}.")
    if diagnosis.unexplained:
        conclusion += " Unexplained: " + ", ".join(f.name for f in diagnosis.unexplained) + "."
    conclusion += (f" Citations verified: {check.ok} ({check.checked} checked)."
                   " Machine-generated differential for clinical review.")
    report: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "id": _fhir_id(f"wardround-{case.id}"),
        "status": "preliminary",
        "code": {"text": "wardround cited differential diagnosis"},
        "subject": subject,
        "issued": datetime.now(UTC).isoformat(timespec="seconds"),
        "contained": contained,
        "result": [{"reference": f"#{obs['id']}", "display": obs["code"]["text"]} for obs in contained],
        "conclusion": conclusion,
    }
    if record and record.encounter:
        report["encounter"] = {"reference": record.encounter}
    if diagnosis.supported and primary.icd10:
        report["conclusionCode"] = [{"coding": [{"system": ICD10, "code": primary.icd10, "display": primary.name}],
                                     "text": primary.name}]
    return DiagnosticReport.model_validate(report)
