"""Read a FHIR R4 Bundle (``fhir.resources`` R4B models) into the fields of a case built around one encounter.

The encounter is the latest by default (or the one asked for). Its Observations are today's vitals and labs; the
patient's earlier Conditions, medications and allergies are history; notes of the encounter (DocumentReference
attachments, Composition sections) are the note. Conditions recorded at the encounter itself are its answer:
they never enter the case and are returned apart as the evaluation target. Later data never enters the case.
Codes wardround cannot place and resources that are not valid R4 are listed as issues, never dropped silently.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from wardround.errors import CaseError
from wardround.fhir import elements as el
from wardround.fhir.bundle import BundleIndex, read_json_file, remember
from wardround.fhir.codes import LAB_CODES, LAB_NAMES, LOINC, PANEL_CODES, SMOKING_LOINC, SNOMED, VITAL_CODES
from wardround.fhir.provenance import FhirElement, FhirRecord

#: Resource types the reader uses; every other type is counted in one issue line ("not read").
USED_TYPES = ("Patient", "Encounter", "Observation", "Condition", "MedicationRequest", "MedicationStatement",
              "AllergyIntolerance", "DocumentReference", "Composition", "Medication")
_CLINICAL = set(USED_TYPES) - {"Patient", "Medication"}
_EPOCH = datetime(1, 1, 2, tzinfo=UTC)
#: Bundle.type codes of FHIR R4 (required binding http://hl7.org/fhir/R4/valueset-bundle-type.html).
_BUNDLE_TYPES = frozenset({"document", "message", "transaction", "transaction-response", "batch", "batch-response",
                           "history", "searchset", "collection"})
_SEX = {"male": "male", "female": "female", "other": "other", "unknown": "unknown"}


@dataclass
class FhirRead:
    """What a bundle yields: the case fields, where each came from, and the encounter's own diagnoses."""

    data: dict[str, Any]
    record: FhirRecord
    expected: dict[str, Any] | None = None
    case: Any = None


@dataclass
class _Builder:
    index: BundleIndex
    at: datetime | None
    issues: list[str] = field(default_factory=list)
    sources: dict[str, FhirElement] = field(default_factory=dict)
    cited: set[str] = field(default_factory=set)

    def cite(self, path: str, src: FhirElement) -> None:
        self.sources[path] = src
        self.cited.add(src.resource)


def load_bundle(source: Any) -> tuple[dict, str | None, str | None]:
    """(bundle dict, absolute path or None, name) from a path, JSON text, a dict or a ``fhir.resources`` model."""
    if isinstance(source, Path) or (isinstance(source, str) and not source.lstrip().startswith("{")):
        p = Path(source).expanduser()
        return read_json_file(p), str(p.resolve()), p.stem
    if isinstance(source, str):
        try:
            return json.loads(source), None, None
        except json.JSONDecodeError as exc:
            raise CaseError("bundle", f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
                            "give a FHIR Bundle as JSON") from None
    if isinstance(source, dict):
        return source, None, None
    if hasattr(source, "model_dump"):  # a fhir.resources model
        return source.model_dump(mode="json", by_alias=True, exclude_none=True), None, None
    raise CaseError("bundle", f"expected a FHIR Bundle (path, JSON text, dict or fhir.resources model), not "
                    f"{type(source).__name__}", "pass the bundle's path or its parsed JSON")


def _first_error(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("function-after", "function-before"))
    msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{loc or 'resource'}: {msg}{more}"


def _check_shell(bundle: Any) -> None:
    """Refuse what is not a FHIR Bundle, naming the resource and field."""
    if not isinstance(bundle, dict):
        raise CaseError("bundle", f"expected a JSON object, not {type(bundle).__name__}", "give a FHIR Bundle")
    rtype = bundle.get("resourceType")
    if rtype != "Bundle":
        raise CaseError("resourceType", f"this is a FHIR {rtype!r} resource, not a Bundle" if rtype else
                        "missing", "give a Bundle (type collection, document, searchset or transaction) of one "
                        "patient's resources")
    kind = bundle.get("type")
    if kind not in _BUNDLE_TYPES:
        raise CaseError("Bundle.type", f"{kind!r} is not a Bundle type" if kind is not None else "missing",
                        f"use one of: {', '.join(sorted(_BUNDLE_TYPES))} (a patient export is usually collection)")
    entries = bundle.get("entry")
    if entries is None:
        raise CaseError("Bundle.entry", "the bundle has no entries", "give a Bundle with the patient's resources")
    if not isinstance(entries, list):
        raise CaseError("Bundle.entry", f"expected a list of entries, not {type(entries).__name__}",
                        "write entry as [{\"resource\": {...}}, ...]")
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise CaseError(f"Bundle.entry[{i}]", f"expected an object, not {type(entry).__name__}",
                            "write each entry as {\"resource\": {...}}")
        res = entry.get("resource")
        if res is None:
            continue
        if not isinstance(res, dict):
            raise CaseError(f"Bundle.entry[{i}].resource", f"expected a resource object, not "
                            f"{type(res).__name__}", "give each resource as a JSON object")
        if not isinstance(res.get("resourceType"), str):
            raise CaseError(f"Bundle.entry[{i}].resource.resourceType", "missing: this entry is not a FHIR "
                            "resource", "give every resource its resourceType (Patient, Observation, ...)")
    from fhir.resources.R4B.bundle import Bundle

    shell = {**bundle, "entry": [{k: v for k, v in e.items() if k != "resource"} for e in entries]}
    try:
        Bundle.model_validate(shell)
    except ValidationError as exc:
        raise CaseError("Bundle", f"not a valid FHIR R4 Bundle: {_first_error(exc)}",
                        "fix the named field (see https://hl7.org/fhir/R4/bundle.html)") from None
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        raise CaseError("Bundle", f"not a valid FHIR R4 Bundle ({type(exc).__name__})",
                        "check the bundle's fields against https://hl7.org/fhir/R4/bundle.html") from None


def _valid_entries(index: BundleIndex, issues: list[str]) -> dict[str, list[tuple[str, dict]]]:
    """The used resources that are valid R4 (R4B models), by type; the rest listed as issues."""
    from fhir.resources.R4B import get_fhir_model_class

    by_type: dict[str, list[tuple[str, dict]]] = {t: [] for t in USED_TYPES}
    skipped: Counter[str] = Counter()
    for position, ref, res, _url in index.entries:
        rtype = res["resourceType"]
        if rtype not in by_type:
            skipped[rtype] += 1
            continue
        try:
            get_fhir_model_class(rtype).model_validate(res)
        except ValidationError as exc:
            issues.append(f"Bundle.entry[{position}] {ref}: not valid FHIR R4 ({_first_error(exc)}); not read")
            continue
        except (ValueError, TypeError, KeyError, RecursionError) as exc:  # the model itself choked on the input
            issues.append(f"Bundle.entry[{position}] {ref}: not valid FHIR R4 ({type(exc).__name__}); not read")
            continue
        by_type[rtype].append((ref, res))
    if skipped:
        issues.append("resources not read (no case field for them): "
                      + ", ".join(f"{t} {n}" for t, n in sorted(skipped.items(), key=lambda kv: (-kv[1], kv[0]))))
    return by_type


def _enc_ref(resource: dict, index: BundleIndex) -> list[str]:
    """The encounters a resource is linked to (``encounter``, ``context``, ``context.encounter``)."""
    out = []
    for key in ("encounter", "context"):
        value = resource.get(key)
        if isinstance(value, dict) and "encounter" in value:  # DocumentReference.context
            value = value["encounter"]
        for ref in value if isinstance(value, list) else [value]:
            if isinstance(ref, dict) and (k := index.key(ref.get("reference"))):
                out.append(k)
    return out


def _time(resource: dict) -> datetime | None:
    """When a resource happened, by its type's usual element."""
    for key in ("effectiveDateTime", "onsetDateTime", "authoredOn", "recordedDate", "dateAsserted", "date",
                "issued"):
        t = el.parse_time(resource.get(key))
        if t is not None:
            return t
    for key in ("effectivePeriod", "onsetPeriod", "period"):
        value = resource.get(key)
        if isinstance(value, dict):
            t = el.parse_time(value.get("start"))
            if t is not None:
                return t
    return None


def _codes(concept: Any) -> list[tuple[str, str, str]]:
    """(system, code, display) of each coding of a CodeableConcept."""
    out = []
    for coding in (concept or {}).get("coding") or [] if isinstance(concept, dict) else []:
        if isinstance(coding, dict) and coding.get("code"):
            out.append((str(coding.get("system") or ""), str(coding["code"]), str(coding.get("display") or "")))
    return out


def _system_name(system: str) -> str:
    return {LOINC: "LOINC", SNOMED: "SNOMED"}.get(system, system or "no system")


def choose_encounter(encounters: list[tuple[str, dict]], wanted: str | None,
                     index: BundleIndex) -> tuple[str, dict] | None:
    """The encounter asked for (id, ``Encounter/id`` or fullUrl), else the latest by start."""
    if wanted is not None:
        key = index.key(wanted) or index.key(f"Encounter/{wanted}")
        for ref, res in encounters:
            if ref == key:
                return ref, res
        latest = sorted(encounters, key=lambda e: _start(e[1]) or _EPOCH,
                        reverse=True)[:5]
        shown = ", ".join(f"{r.split('/')[-1]} ({(_start(e) or '')!s:.10})" for r, e in latest) or "none"
        raise CaseError("encounter", f"no Encounter {wanted!r} in the bundle",
                        f"give the id of one of its {len(encounters)} encounters (latest: {shown})")
    if not encounters:
        return None
    dated = [(ref, res) for ref, res in encounters if _start(res) is not None]
    pool = dated or encounters
    return max(pool, key=lambda e: (_start(e[1]) or _EPOCH, e[0]))


def _start(encounter: dict) -> datetime | None:
    period = encounter.get("period")
    return el.parse_time(period.get("start")) if isinstance(period, dict) else None


def _end(encounter: dict) -> datetime | None:
    period = encounter.get("period")
    return el.parse_time(period.get("end")) if isinstance(period, dict) else None


def read_bundle(source: Any, *, encounter: str | None = None, name: str | None = None,
                validate: Callable[[dict], Any] | None = None, path: str | Path | None = None) -> FhirRead:
    """Read a FHIR R4 Bundle into case fields (and, with ``validate``, the validated case).

    Args:
        source: a bundle path, JSON text, dict or ``fhir.resources`` model.
        encounter: the Encounter to build the case around (id, ``Encounter/id`` or fullUrl); default the latest.
        name: the case id stem (default the file name, else the bundle id).
        validate: builds the case from its fields (``Case.model_validate``); a field it refuses is dropped with
            an issue naming the resource, never kept unchecked.
        path: the file a parsed ``source`` was read from (its citations then re-check against that file).
    """
    if path is not None and isinstance(source, dict):
        bundle, stem = source, Path(path).stem
        path = str(Path(path).expanduser().resolve())
    else:
        bundle, path, stem = load_bundle(source)
    _check_shell(bundle)
    index = BundleIndex(bundle)
    issues: list[str] = []
    by_type = _valid_entries(index, issues)
    clinical = sum(len(by_type[t]) for t in _CLINICAL)
    no_resource = sum(1 for e in bundle["entry"] if e.get("resource") is None)
    label = bundle.get("id") or stem or "bundle"
    if clinical == 0:
        counts = Counter(res["resourceType"] for _p, _r, res, _u in index.entries)
        held = ", ".join(f"{n} {t}" for t, n in counts.most_common()) or "no resources"
        if no_resource:
            held += f", {no_resource} entries without a resource"
        raise CaseError("Bundle.entry", f"bundle {label!r} ({bundle.get('type', 'no type')}) holds no clinical "
                        f"content ({held}): no Encounter, Observation, Condition, medication, allergy or note",
                        "give a Bundle of one patient's clinical resources (e.g. a patient export or a document)")
    patients = by_type["Patient"]
    if len(patients) != 1:
        raise CaseError("Bundle.entry", f"bundle {label!r} holds {len(patients)} valid Patient resources; a case "
                        "is one patient" if patients else f"bundle {label!r} holds no valid Patient resource",
                        "give a Bundle of one patient's resources")
    patient_ref, patient = patients[0]
    chosen = choose_encounter(by_type["Encounter"], encounter, index)
    enc_ref, enc = chosen if chosen is not None else (None, None)
    start = _start(enc) if enc else None
    if enc is not None and start is None:
        issues.append(f"{enc_ref} has no period.start: its date is unknown, so no data is placed before or after it")
    end = (_end(enc) if enc else None) or (start + timedelta(days=1) if start else None)
    at = start
    if enc is None:
        times = [t for t in (_time(r) for t_ in _CLINICAL for _ref, r in by_type[t_]) if t is not None]
        at = max(times) if times else None
        issues.append("the bundle has no Encounter: every Observation is read as today's finding")
    b = _Builder(index=index, at=at, issues=issues)
    data: dict[str, Any] = {}

    def when(res: dict, ref: str) -> str:
        """'current' (of the encounter), 'past', 'future' or 'undated'."""
        links = _enc_ref(res, index)
        if enc_ref is not None and enc_ref in links:
            return "current"
        t = _time(res)
        if enc is None:
            return "current" if res.get("resourceType") == "Observation" else "past"
        if t is None:
            return "undated"
        if start is None:
            return "past"
        if links:  # linked to another encounter: placed by time only
            return "past" if t < start else "future"
        if res.get("resourceType") in ("Observation", "DocumentReference", "Composition") and end and start <= t < end:
            return "current"
        return "past" if t < start else "future"

    # -- patient ---------------------------------------------------------------------------------------------
    if isinstance(patient.get("birthDate"), str):
        try:
            data["age"] = el.age_at(patient["birthDate"], at)
            b.cite("age", FhirElement(resource=patient_ref, element="birthDate", kind="age",
                                      value=patient["birthDate"]))
        except ValueError as exc:
            issues.append(f"{patient_ref} birthDate: {exc}; age not given")
    else:
        issues.append(f"{patient_ref} has no birthDate: age not given")
    gender = patient.get("gender")
    if isinstance(gender, str) and gender in _SEX:
        data["sex"] = _SEX[gender]
        b.cite("sex", FhirElement(resource=patient_ref, element="gender", kind="sex", value=gender))

    # -- conditions: the encounter's own are its answer ----------------------------------------------------
    answers: list[tuple[str, dict]] = []
    conditions: list[tuple[str, FhirElement]] = []
    later: Counter[str] = Counter()
    undated: Counter[str] = Counter()
    for ref, res in by_type["Condition"]:
        place = when(res, ref)
        if place == "current":
            answers.append((ref, res))
            continue
        if place == "future":
            later["Condition"] += 1
            continue
        verification = el.status_code(res, "verificationStatus")
        if verification in ("refuted", "entered-in-error"):
            issues.append(f"{ref} ({el.concept_text(res.get('code'))}): verificationStatus {verification}; not used")
            continue
        if verification in ("unconfirmed", "provisional", "differential"):
            issues.append(f"{ref} ({el.concept_text(res.get('code'))}): verificationStatus {verification}, not "
                          "confirmed; not used as history")
            continue
        try:
            text = el.condition_text(res, at)
        except ValueError as exc:
            issues.append(f"{ref} code: {exc}; not used")
            continue
        if place == "undated":
            undated["Condition"] += 1
        conditions.append((text, FhirElement(resource=ref, element="code", kind="text", value=text)))

    # smoking status: the latest before (or at) the encounter
    smoking: list[tuple[datetime | None, str, dict]] = []
    for ref, res in by_type["Observation"]:
        if any(c[1] == SMOKING_LOINC for c in _codes(res.get("code"))) and when(res, ref) in ("past", "current",
                                                                                            "undated"):
            smoking.append((_time(res), ref, res))
    if smoking:
        _t, ref, res = max(smoking, key=lambda s: (s[0] is not None, s[0] or _EPOCH, s[1]))
        try:
            text = el.smoking_text(res)
            if text:
                conditions.append((text, FhirElement(resource=ref, element="valueCodeableConcept", kind="text",
                                                     value=text)))
        except ValueError as exc:
            issues.append(f"{ref} (LOINC {SMOKING_LOINC} smoking status): {exc}; not used")

    # -- medications and allergies -------------------------------------------------------------------------
    medications: list[tuple[str, FhirElement]] = []
    not_current = Counter()
    for rtype, live in (("MedicationRequest", {"active", "on-hold"}),
                        ("MedicationStatement", {"active", "intended", "on-hold"})):
        for ref, res in by_type[rtype]:
            place = when(res, ref)
            if place in ("current", "future"):
                later[f"{rtype} (treatment given at this encounter)" if place == "current" else rtype] += 1
                continue
            if place == "undated":
                undated[rtype] += 1
            status = str(res.get("status") or "").lower()
            if status not in live and status != "unknown":
                not_current[status] += 1
                continue
            try:
                text = el.medication_text(res, index.get)
            except ValueError as exc:
                issues.append(f"{ref} medication: {exc}; not used")
                continue
            if status == "unknown":
                issues.append(f"{ref} ({text}): status unknown; listed as a current medication")
            medications.append((text, FhirElement(resource=ref, element="medication", kind="text", value=text)))
    if not_current:
        issues.append("medications not current (not used as history): "
                      + ", ".join(f"{n} {s or 'no status'}" for s, n in sorted(not_current.items())))
    allergies: list[tuple[str, FhirElement]] = []
    for ref, res in by_type["AllergyIntolerance"]:
        place = when(res, ref)
        if place == "future":
            later["AllergyIntolerance"] += 1
            continue
        clinical_status = el.status_code(res, "clinicalStatus")
        verification = el.status_code(res, "verificationStatus")
        if clinical_status in ("inactive", "resolved") or verification in ("refuted", "entered-in-error"):
            issues.append(f"{ref} ({el.concept_text(res.get('code'))}): "
                          f"{clinical_status if clinical_status in ('inactive', 'resolved') else verification}; "
                          "not used")
            continue
        try:
            text = el.allergy_text(res)
        except ValueError as exc:
            issues.append(f"{ref} code: {exc}; not used")
            continue
        allergies.append((text, FhirElement(resource=ref, element="code", kind="text", value=text)))

    history: dict[str, list[str]] = {}
    for group, items in (("conditions", conditions), ("medications", medications), ("allergies", allergies)):
        seen: set[str] = set()
        kept = []
        for text, src in items:
            if text.lower() in seen:
                continue
            seen.add(text.lower())
            b.cite(f"history.{group}[{len(kept)}]", src)
            kept.append(text)
        if kept:
            history[group] = kept
    if history:
        data["history"] = history

    # -- today's observations ------------------------------------------------------------------------------
    vitals: dict[str, tuple[datetime | None, float, FhirElement]] = {}
    labs: list[tuple[datetime | None, dict, FhirElement]] = []
    unmapped: Counter[tuple[str, str, str]] = Counter()
    earlier = 0
    for ref, res in by_type["Observation"]:
        codes = _codes(res.get("code"))
        if any(c[1] == SMOKING_LOINC for c in codes):
            continue
        place = when(res, ref)
        if place != "current":
            earlier += place in ("past", "undated")
            continue
        status = str(res.get("status") or "")
        if status in ("entered-in-error", "cancelled", "registered"):
            issues.append(f"{ref}: status {status}; not used")
            continue
        t = _time(res)
        loinc = [c for c in codes if c[0] == LOINC]
        vital = next((VITAL_CODES[c[1]] for c in loinc if c[1] in VITAL_CODES), None)
        analyte = next((LAB_CODES[c[1]] for c in loinc if c[1] in LAB_CODES), None)
        panel = any(c[1] in PANEL_CODES for c in loinc)
        if vital is not None:
            _read_vital(b, vitals, ref, res, "valueQuantity", vital, t)
        elif analyte is not None:
            try:
                value, unit = el.lab_value(res, "valueQuantity", analyte)
            except (KeyError, ValueError) as exc:
                issues.append(f"{ref} (LOINC {loinc[0][1]} {analyte}): {exc}; not used")
                continue
            lab = {"name": LAB_NAMES.get(analyte, analyte.replace("_", " ")), "value": value, "unit": unit}
            if t is not None:
                lab["time"] = t.isoformat()
            labs.append((t, lab, FhirElement(resource=ref, element="valueQuantity", kind="lab", value=value,
                                             unit=unit, target=analyte)))
        elif panel:
            for k, comp in enumerate(res.get("component") or []):
                ccodes = [c for c in _codes((comp or {}).get("code")) if c[0] == LOINC]
                cv = next((VITAL_CODES[c[1]] for c in ccodes if c[1] in VITAL_CODES), None)
                if cv is None:
                    for c in ccodes or [("", "?", "")]:
                        unmapped[(c[0] or LOINC, c[1], c[2])] += 1
                    continue
                _read_vital(b, vitals, ref, res, f"component[{k}].valueQuantity", cv, t)
        else:
            text = el.concept_text(res.get("code")) or ""
            for c in (loinc or codes or [("", "(no code)", text)])[:1]:
                unmapped[(c[0], c[1], c[2] or text)] += 1
    for (system, code, display), n in sorted(unmapped.items()):
        issues.append(f"unmapped Observation code {_system_name(system)} {code} {display!r} ({n} at this "
                      "encounter): no case field for it; not used")
    if earlier:
        issues.append(f"{earlier} Observations of earlier encounters are not today's findings; not used")
    if vitals:
        data["vitals"] = {}
        for vital, (_t, value, src) in vitals.items():
            data["vitals"][vital] = value
            b.cite(f"vitals.{vital}", src)
    if labs:
        labs.sort(key=lambda x: (x[0] is None, x[0] or _EPOCH))
        data["labs"] = []
        for i, (_t, lab, src) in enumerate(labs):
            data["labs"].append(lab)
            b.cite(f"labs[{i}]", src)

    # -- notes of the encounter ----------------------------------------------------------------------------
    parts: list[tuple[str, FhirElement]] = []
    other_notes = 0
    for rtype in ("Composition", "DocumentReference"):
        for ref, res in by_type[rtype]:
            if when(res, ref) != "current" and not (enc is None and when(res, ref) in ("past", "undated")):
                other_notes += 1
                continue
            if rtype == "DocumentReference" and res.get("status") == "entered-in-error":
                issues.append(f"{ref}: status entered-in-error; not used")
                continue
            items = (res.get("section") or []) if rtype == "Composition" else (res.get("content") or [])
            for k, item in enumerate(items):
                element = f"section[{k}]" if rtype == "Composition" else f"content[{k}].attachment"
                try:
                    text = (el.section_text(item) if rtype == "Composition"
                            else el.attachment_text((item or {}).get("attachment")))
                except ValueError as exc:
                    issues.append(f"{ref} {element}: {exc}; not used")
                    continue
                if text:
                    parts.append((text, FhirElement(resource=ref, element=element, kind="note")))
    if other_notes:
        issues.append(f"{other_notes} notes of other encounters are not today's note; not used")
    if parts:
        note, offset = "", 0
        for k, (text, src) in enumerate(parts):
            if note:
                note += "\n\n"
                offset = len(note)
            note += text
            b.cite(f"note[{k}]", src.model_copy(update={"span": (offset, offset + len(text))}))
        data["note"] = note

    # -- the reason for the visit, unless it is the answer ---------------------------------------------------
    answer_names = {(el.concept_text(r.get("code")) or "").lower() for _ref, r in answers}
    answer_codes = {c[1] for _ref, r in answers for c in _codes(r.get("code"))}
    later_names = {(el.concept_text(r.get("code")) or "").lower() for ref, r in by_type["Condition"]
                   if when(r, ref) == "future"}
    if enc is not None:
        for k, reason in enumerate(enc.get("reasonCode") or []):
            text = el.concept_text(reason)
            codes = {c[1] for c in _codes(reason)}
            if not text:
                continue
            if text.lower() in answer_names | later_names or codes & answer_codes:
                issues.append(f"{enc_ref} reasonCode[{k}] names a diagnosis recorded at or after this encounter; "
                              "kept out of the case")
                continue
            data["chief_complaint"] = text
            b.cite("chief_complaint", FhirElement(resource=enc_ref, element=f"reasonCode[{k}]", kind="text",
                                                  value=text))
            break
    for what, n in sorted(later.items()):
        when_text = "" if "treatment" in what else " dated after the start of this encounter"
        issues.append(f"{n} {what}{when_text}: not in the case")
    for what, n in sorted(undated.items()):
        issues.append(f"{n} {what} without a date: taken as history (whether it predates the encounter is unknown)")

    # -- the answer: conditions recorded at the encounter ----------------------------------------------------
    expected = None
    if answers:
        names = [(el.concept_text(r.get("code")) or ref, ref, _codes(r.get("code"))) for ref, r in answers]
        reasons = {(el.concept_text(x) or "").lower() for x in (enc or {}).get("reasonCode") or []}
        primary = next((n for n, _r, _c in names if n.lower() in reasons), names[0][0])
        listed = "; ".join(f"{n} ({ref}" + (f", {_system_name(c[0][0])} {c[0][1]}" if c else "") + ")"
                           for n, ref, c in names)
        expected = {"diagnosis": primary, "notes": f"Conditions recorded at {enc_ref} (kept out of the case): "
                                                   f"{listed}"}
        issues.append(f"{len(answers)} Condition(s) recorded at {enc_ref} are this encounter's diagnosis: kept out "
                      "of the case")
    if enc is not None:
        kind = (enc.get("class") or {}).get("code") if isinstance(enc.get("class"), dict) else None
        n_enc = len(by_type["Encounter"])
        issues.insert(0, f"case built around {enc_ref} ({kind or 'class ?'}, {str(start or '?')[:10]}), the "
                         f"{'chosen' if encounter else 'latest'} of {n_enc} encounter(s); earlier data is history")

    if not any(data.get(k) for k in ("vitals", "labs", "note", "history", "chief_complaint")):
        with_obs = sorted({k for ref, r in by_type["Observation"] for k in _enc_ref(r, index)}, reverse=True)[:5]
        raise CaseError("encounter", f"{enc_ref or 'the bundle'} ({str(start or '?')[:10]}) gives no note, vitals, "
                        "labs or history wardround can use", "choose another encounter with --encounter"
                        + (f" (encounters with Observations include {', '.join(with_obs)})" if with_obs else ""))
    stem_name = name or stem or (bundle.get("id") if isinstance(bundle.get("id"), str) else None) or "fhir"
    data["id"] = (f"{stem_name}@{enc_ref.split('/')[-1]}" if enc_ref and enc_ref.startswith("Encounter/")
                  else stem_name)[:200]
    remember(index)
    record = FhirRecord(bundle_path=path, bundle_sha256=index.sha256, bundle_id=bundle.get("id"),
                        patient=patient_ref, encounter=enc_ref, at=at.isoformat() if at else None,
                        sources=b.sources, issues=issues)
    read = FhirRead(data=data, record=record, expected=expected)
    if validate is not None:
        read.case = _validated(read, validate, b)
    else:
        read.record = record.model_copy(update={"resources": {r: index.resource_sha256(r) or "" for r in b.cited}})
    return read


def _read_vital(b: _Builder, vitals: dict, ref: str, res: dict, element: str, vital: str,
                t: datetime | None) -> None:
    try:
        value = el.vital_value(res, element, vital)
    except (KeyError, ValueError) as exc:
        b.issues.append(f"{ref} {element} ({vital}): {exc}; not used")
        return
    src = FhirElement(resource=ref, element=element, kind="vital", value=value, target=vital)
    old = vitals.get(vital)
    if old is not None:
        b.issues.append(f"vitals.{vital}: several values at this encounter; the latest is used ({old[2].resource} "
                        f"and {ref})")
        if (old[0] or _EPOCH) > (t or _EPOCH):
            return
    vitals[vital] = (t, value, src)


def _validated(read: FhirRead, validate: Callable[[dict], Any], b: _Builder) -> Any:
    """Validate the case; a field the case refuses is dropped with an issue naming its resource."""
    data, record = read.data, read.record
    for _ in range(200):
        try:
            case = validate({**data, "fhir": None})
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            loc = [p for p in err.get("loc", ()) if p not in ("function-after", "function-before")]
            msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
            if not _drop(data, record, loc, msg):
                raise CaseError(".".join(str(p) for p in loc) or "case", f"the bundle gives a value the case "
                                f"refuses: {msg}", "fix the resource it comes from") from None
            continue
        cited = {s.resource for s in record.sources.values()}
        resources = {r: b.index.resource_sha256(r) or "" for r in cited}
        final = record.model_copy(update={"resources": resources})
        read.record = final
        return case.model_copy(update={"fhir": final})
    raise CaseError("case", "too many values of the bundle were refused", "check the bundle's resources")


def _drop(data: dict, record: FhirRecord, loc: list[Any], msg: str) -> bool:
    """Remove the refused field at ``loc`` (and its citation), recording why; False when it cannot be."""
    if not loc:
        return False
    head = loc[0]
    if head == "vitals":
        names = [str(loc[1])] if len(loc) > 1 and loc[1] in (data.get("vitals") or {}) else \
            [k for k in ("systolic_bp", "diastolic_bp") if k in (data.get("vitals") or {})]
        if not names:
            return False
        for n in names:
            src = record.sources.pop(f"vitals.{n}", None)
            data["vitals"].pop(n, None)
            record.issues.append(f"{src.cite() if src else 'vitals.' + n}: refused by the case ({msg}); not used")
        return True
    if head in ("labs",) and len(loc) > 1 and isinstance(loc[1], int):
        return _drop_item(data.setdefault("labs", []), record, "labs", loc[1], msg)
    if head == "history" and len(loc) > 2 and isinstance(loc[2], int):
        return _drop_item(data["history"][loc[1]], record, f"history.{loc[1]}", loc[2], msg)
    if head in ("age", "sex", "chief_complaint", "note"):
        data.pop(head, None)
        for key in [k for k in record.sources if k == head or k.startswith(head + "[")]:
            src = record.sources.pop(key)
            record.issues.append(f"{src.cite()}: refused by the case ({msg}); not used")
        return True
    return False


def _drop_item(items: list, record: FhirRecord, prefix: str, i: int, msg: str) -> bool:
    if i >= len(items):
        return False
    items.pop(i)
    moved: dict[str, FhirElement] = {}
    for key in list(record.sources):
        if not key.startswith(prefix + "["):
            continue
        n = int(key[len(prefix) + 1:key.index("]", len(prefix))])
        src = record.sources.pop(key)
        if n == i:
            record.issues.append(f"{src.cite()}: refused by the case ({msg}); not used")
        else:
            moved[f"{prefix}[{n - 1 if n > i else n}]"] = src
    record.sources.update(moved)
    return True
