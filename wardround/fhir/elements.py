"""Reading one element of a FHIR resource into a case value; used to build a case and to re-check it later.

The reader and the citation check call the same functions, so a citation verifies exactly when the cited
element still yields the value the case holds.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
from datetime import UTC, date, datetime
from typing import Any

from wardround.errors import UnitError
from wardround.fhir.codes import NON_SMOKING, SMOKING_HISTORY, UCUM_UNITS, VITAL_DIMENSIONS
from wardround.fhir.provenance import FhirElement
from wardround.units import ANALYTES, DIMENSIONS, normalize_unit

_PATH_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?")


def at_path(resource: Any, element: str) -> Any:
    """The value at ``element`` (``component[1].valueQuantity``) of a resource dict; ``KeyError`` if absent."""
    obj = resource
    for part in element.split("."):
        m = _PATH_PART.fullmatch(part)
        if m is None or not isinstance(obj, dict) or m.group(1) not in obj:
            raise KeyError(element)
        obj = obj[m.group(1)]
        if m.group(2) is not None:
            if not isinstance(obj, list) or int(m.group(2)) >= len(obj):
                raise KeyError(element)
            obj = obj[int(m.group(2))]
    return obj


def parse_time(text: Any) -> datetime | None:
    """A FHIR date/dateTime/instant (``2019``, ``2019-07``, ``2019-07-23``, with or without time) as UTC."""
    if not isinstance(text, str) or not text:
        return None
    t = text.strip().replace("Z", "+00:00")
    if re.fullmatch(r"\d{4}", t):
        t += "-01-01"
    elif re.fullmatch(r"\d{4}-\d{2}", t):
        t += "-01"
    try:
        dt = datetime.fromisoformat(t)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def age_at(birth_date: str, at: datetime | None) -> float:
    """Whole years from a FHIR birthDate to ``at`` (today when ``None``)."""
    born = parse_time(birth_date)
    if born is None:
        raise ValueError(f"birthDate {birth_date!r} is not a FHIR date")
    when = (at or datetime.now(UTC)).date()
    b: date = born.date()
    years = when.year - b.year - ((when.month, when.day) < (b.month, b.day))
    return float(years)


def ucum_to_unit(code: str | None, unit: str | None) -> str | None:
    """The ``wardround.units`` spelling of a UCUM code (or of the human unit text), or ``None`` if unknown."""
    for candidate in (code, unit):
        if candidate is None:
            continue
        if candidate in UCUM_UNITS:
            return UCUM_UNITS[candidate]
    if code is None and unit is not None:
        return normalize_unit(unit)
    return None


def quantity(resource: dict, element: str) -> tuple[float, str | None, str | None]:
    """(value, UCUM code, unit text) of a Quantity element; ``ValueError`` for a bound (``<5``) or no value."""
    q = at_path(resource, element)
    if not isinstance(q, dict) or "value" not in q:
        raise ValueError(f"{element} holds no value")
    if q.get("comparator"):
        raise ValueError(f"{element} is a bound ({q['comparator']}{q['value']}), not a measurement")
    value = q["value"]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{element}.value {value!r} is not a number")
    return float(value), q.get("code"), q.get("unit")


def vital_value(resource: dict, element: str, vital: str) -> float:
    """A vital sign in the case's unit (``temperature_c`` in °C, ...), converted through ``wardround.units``."""
    value, code, text = quantity(resource, element)
    dim, canonical = VITAL_DIMENSIONS[vital]
    if dim is None:
        return value
    unit = ucum_to_unit(code, text)
    if unit is None:
        raise ValueError(f"{element} unit {code or text!r} is not a UCUM unit wardround reads for {vital}")
    try:
        converted = DIMENSIONS[dim].to_canonical(value, unit if unit else canonical, vital)
    except UnitError as exc:
        raise ValueError(f"{element}: {exc.problem}") from None
    return round(DIMENSIONS[dim].from_canonical(converted, canonical), 2)


def lab_value(resource: dict, element: str, analyte: str) -> tuple[float, str]:
    """(value, unit) of a laboratory result as the case keeps it (the bundle's number, its unit translated)."""
    value, code, text = quantity(resource, element)
    unit = ucum_to_unit(code, text)
    a = ANALYTES[analyte]
    if unit is None:
        raise ValueError(f"{element} unit {code or text!r} is not a UCUM unit wardround reads for {analyte}")
    try:
        a.check_plausible(a.to_canonical(value, unit))
    except UnitError as exc:
        raise ValueError(f"{element}: {exc.problem}") from None
    return value, unit


def concept_text(concept: Any) -> str | None:
    """The text of a CodeableConcept: its ``text``, else the first coding's display, else its code."""
    if not isinstance(concept, dict):
        return None
    if isinstance(concept.get("text"), str) and concept["text"].strip():
        return " ".join(concept["text"].split())
    for coding in concept.get("coding") or []:
        if isinstance(coding, dict) and isinstance(coding.get("display"), str) and coding["display"].strip():
            return " ".join(coding["display"].split())
    for coding in concept.get("coding") or []:
        if isinstance(coding, dict) and coding.get("code"):
            return f"{coding.get('system', '')}|{coding['code']}"
    return None


def status_code(resource: dict, element: str) -> str | None:
    """The code of a status CodeableConcept (``clinicalStatus``, ``verificationStatus``), lower case."""
    concept = resource.get(element)
    if not isinstance(concept, dict):
        return None
    for coding in concept.get("coding") or []:
        if isinstance(coding, dict) and coding.get("code"):
            return str(coding["code"]).lower()
    return None


def condition_abated(resource: dict, at: datetime | None) -> str | None:
    """``"resolved"`` etc. when the condition was no longer active at ``at``, else ``None``."""
    end = parse_time(resource.get("abatementDateTime")) or parse_time(
        (resource.get("abatementPeriod") or {}).get("end") if isinstance(resource.get("abatementPeriod"), dict)
        else None)
    if end is not None:
        return "resolved" if at is None or end <= at else None
    clinical = status_code(resource, "clinicalStatus")
    if clinical in ("resolved", "inactive", "remission"):
        return "in remission" if clinical == "remission" else clinical
    return None


def condition_text(resource: dict, at: datetime | None) -> str:
    """A past-history item of a Condition: its name, with its status when not active at the encounter."""
    name = concept_text(resource.get("code"))
    if not name:
        raise ValueError("code holds no text, display or code")
    state = condition_abated(resource, at)
    return f"{name} ({state})" if state else name


def medication_text(resource: dict, lookup: Any) -> str:
    """The medication of a MedicationRequest/MedicationStatement (a referenced Medication is resolved)."""
    name = concept_text(resource.get("medicationCodeableConcept"))
    if name:
        return name
    ref = (resource.get("medicationReference") or {}).get("reference")
    med = lookup(ref) if ref else None
    if isinstance(med, dict):
        name = concept_text(med.get("code"))
        if name:
            return name
    display = (resource.get("medicationReference") or {}).get("display")
    if isinstance(display, str) and display.strip():
        return " ".join(display.split())
    raise ValueError("medication[x] names no medication")


def allergy_text(resource: dict) -> str:
    """An allergy item: the substance, ``(unconfirmed)`` when so verified, with its reactions."""
    name = concept_text(resource.get("code"))
    if not name:
        raise ValueError("code holds no text, display or code")
    reactions = []
    for reaction in resource.get("reaction") or []:
        for manifestation in (reaction or {}).get("manifestation") or []:
            text = concept_text(manifestation)
            if text and text not in reactions:
                reactions.append(text)
    out = name + (f" ({', '.join(reactions)})" if reactions else "")
    if status_code(resource, "verificationStatus") == "unconfirmed":
        out += " (unconfirmed)"
    return out


def smoking_text(resource: dict) -> str | None:
    """The history item of a smoking-status Observation, or ``None`` for a never/unknown smoker."""
    concept = resource.get("valueCodeableConcept") or {}
    for coding in concept.get("coding") or []:
        code = str((coding or {}).get("code"))
        if code in SMOKING_HISTORY:
            return SMOKING_HISTORY[code]
        if code in NON_SMOKING:
            return None
    raise ValueError("valueCodeableConcept is not a smoking status wardround knows")


_TAG = re.compile(r"<[^>]+>")
_BLOCK = re.compile(r"</?(?:p|div|br|li|tr|h[1-6]|table|ul|ol)\b[^>]*>", re.IGNORECASE)


def xhtml_text(markup: str) -> str:
    """Plain text of a FHIR narrative (XHTML): tags removed, block elements as line breaks, entities decoded."""
    text = _BLOCK.sub("\n", markup)
    text = html.unescape(_TAG.sub("", text))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def attachment_text(attachment: Any) -> str:
    """The text of an inline Attachment (``data`` in base64; plain text or HTML); ``ValueError`` otherwise."""
    if not isinstance(attachment, dict):
        raise ValueError("attachment is not an object")
    kind = str(attachment.get("contentType") or "text/plain").split(";")[0].strip().lower()
    if "data" not in attachment:
        where = f" (url {attachment['url']!r})" if attachment.get("url") else ""
        raise ValueError(f"attachment has no inline data{where}; wardround does not fetch documents")
    if not kind.startswith("text/") and kind not in ("application/xhtml+xml",):
        raise ValueError(f"attachment is {kind}, not text")
    try:
        text = base64.b64decode(attachment["data"], validate=True).decode("utf-8")
    except (binascii.Error, ValueError, TypeError):
        raise ValueError("attachment data is not base64 UTF-8 text") from None
    if kind in ("text/html", "application/xhtml+xml"):
        text = xhtml_text(text)
    return text.strip()


def section_text(section: Any) -> str:
    """The text of a Composition section: its title, then its narrative."""
    if not isinstance(section, dict):
        raise ValueError("section is not an object")
    div = (section.get("text") or {}).get("div") if isinstance(section.get("text"), dict) else None
    body = xhtml_text(div) if isinstance(div, str) else ""
    if not body:
        raise ValueError("section has no narrative text")
    title = section.get("title")
    return f"{title}: {body}" if isinstance(title, str) and title.strip() else body


def derive(src: FhirElement, resource: dict, lookup: Any, at: datetime | None) -> Any:
    """The case value the element ``src`` of ``resource`` yields (the same function built the case)."""
    if src.kind == "vital":
        return vital_value(resource, src.element, src.target or "")
    if src.kind == "lab":
        return lab_value(resource, src.element, src.target or "")[0]
    if src.kind == "age":
        return age_at(at_path(resource, src.element), at)
    if src.kind == "sex":
        return str(at_path(resource, src.element))
    if src.kind == "note":
        if src.element.startswith("section"):
            return section_text(at_path(resource, src.element))
        return attachment_text(at_path(resource, src.element))
    # text: history items and the chief complaint
    rtype = resource.get("resourceType")
    if rtype == "Condition":
        return condition_text(resource, at)
    if rtype in ("MedicationRequest", "MedicationStatement"):
        return medication_text(resource, lookup)
    if rtype == "AllergyIntolerance":
        return allergy_text(resource)
    if rtype == "Observation":
        return smoking_text(resource)
    text = concept_text(at_path(resource, src.element))
    if text is None:
        raise ValueError(f"{src.element} holds no text")
    return text
