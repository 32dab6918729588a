"""Intake: turn a case into evidence -- note mentions with spans, structured fields, and knowledge-base findings."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from wardround.case import Case
from wardround.evidence import Evidence, EvidenceWriter
from wardround.extract.context import assertion_context
from wardround.extract.findings import extract_findings
from wardround.extract.reader import note_facts
from wardround.injection import reading_text
from wardround.knowledge import Finding, KnowledgeBase

INTAKE_PREFIX = "E"

_VITAL_LABELS = {
    "heart_rate": ("Heart rate", "/min"), "systolic_bp": ("Systolic blood pressure", "mmHg"),
    "diastolic_bp": ("Diastolic blood pressure", "mmHg"), "respiratory_rate": ("Respiratory rate", "/min"),
    "temperature_c": ("Temperature", "°C"), "spo2": ("SpO2", "%"), "gcs": ("Glasgow Coma Scale", ""),
    "weight_kg": ("Weight", "kg"), "height_cm": ("Height", "cm"),
}


# Vital fields of the case -> the calculator vocabulary of quantities (units travel with the value).
_QUANTITY_NAMES = {"temperature_c": "temperature", "weight_kg": "weight", "height_cm": "height"}


@lru_cache(maxsize=4096)
def _history_terms_rx(terms: tuple[str, ...]) -> re.Pattern[str]:
    # a term starts at a word boundary ("hae" must not match inside "ischaemic"); a short term (an abbreviation,
    # <= 4 characters) must also end at one ("hae" is not "haemophilia"), a longer one may be a stem ("anticoagula")
    parts = [re.escape(t) + (r"\b" if len(t) <= 4 else "") for t in sorted(terms, key=len, reverse=True)]
    return re.compile(r"(?<![\w])(?:" + "|".join(parts) + ")")


def _history_rx(finding: Finding) -> re.Pattern[str]:
    """The pattern of a finding's history terms, matched against a lower-cased history item."""
    return _history_terms_rx(tuple(finding.history))


def _describe_rule(rule: object) -> str:
    return f"{rule.op} {rule.value:g}"  # type: ignore[attr-defined]


def _todays(note: str, fact) -> bool:
    """Whether a value read from the note is the patient's, today: not a relative's, not an earlier visit's."""
    ctx = assertion_context(note, fact.start, fact.end)
    return not (ctx.family or ctx.earlier or (ctx.hypothetical and not ctx.negated))


def intake(case: Case, kb: KnowledgeBase, existing: Iterable[str] = ()) -> list[Evidence]:
    """Record the case's facts as intake evidence (ids ``E1, E2, ...``), deterministic for a given case."""
    w = EvidenceWriter(INTAKE_PREFIX, "intake", existing)
    note = case.note
    # facts are read from the note with instruction/citation look-alikes blanked out (offsets unchanged);
    # quotes are still taken from the note itself. The reader is the one shared with every later agent and
    # calculator of this case, so the note is read once.
    facts = note_facts(reading_text(note))

    # Demographics: structured fields first, else the note.
    demo = facts.demographics if (case.age is None or case.sex == "unknown") and note else None
    age_ev: tuple[float, dict] | None = None
    if case.age is not None:
        age_ev = (case.age, {"field": "age"})
    elif demo and demo.age is not None and demo.age_span:
        age_ev = (demo.age, {"span": demo.age_span})
    sex = case.sex if case.sex != "unknown" else (demo.sex if demo else None)
    demographic_findings = [f for f in kb.findings.values() if f.demographic is not None]
    if age_ev is not None:
        age, src = age_ev
        rules = [f for f in demographic_findings if f.demographic.field == "age"]
        emitted = False
        for f in rules:
            holds = bool(f.demographic.matches(age=age))
            stmt = f"Age {age:g} years ({'meets' if holds else 'does not meet'} {f.name}: age {_describe_rule(f.demographic)})"
            _emit(w, case, src, stmt, age, "years", finding=f.id, present=holds, quantity="age")
            emitted = True
        if not emitted:
            _emit(w, case, src, f"Age {age:g} years", age, "years", quantity="age")
    if sex and sex != "unknown":
        src = {"field": "sex"} if case.sex != "unknown" else {"span": demo.sex_span}  # type: ignore[union-attr]
        sex_rules = [f for f in demographic_findings if f.demographic.field == "sex"]
        for f in sex_rules:
            holds = bool(f.demographic.matches(sex=sex))
            _emit(w, case, src, f"Sex {sex} ({f.name}: {'yes' if holds else 'no'})", sex, None,
                  finding=f.id, present=holds, quantity="sex")
        if not sex_rules:
            _emit(w, case, src, f"Sex {sex}", sex, None, quantity="sex")

    # Vitals: structured fields, then vitals only mentioned in the note.
    seen_vitals: set[str] = set()
    for name, value in case.vitals.model_dump().items():
        if value is None:
            continue
        seen_vitals.add(name)
        _vital_evidence(w, case, kb, name, float(value), {"field": f"vitals.{name}"})
    for fact in facts.vitals:
        if fact.name in seen_vitals or not _todays(note, fact):
            continue
        seen_vitals.add(fact.name)
        _vital_evidence(w, case, kb, fact.name, fact.canonical_value, {"span": (fact.start, fact.end)},
                        shown=(fact.value, fact.unit))

    # Labs: structured list, then labs only mentioned in the note.
    seen_labs: set[str] = set()
    measured: dict[str, tuple[float, list[str]]] = {}  # analyte -> (canonical value, its evidence ids)
    for i, lab in enumerate(case.labs):
        canonical = lab.canonical_value()
        if canonical is None:
            _emit(w, case, {"field": f"labs[{i}].value"}, f"{lab.name} {lab.value} {lab.unit}".strip(), lab.value,
                  lab.unit or None)
            continue
        seen_labs.add(lab.analyte or lab.name)
        items = _lab_evidence(w, case, kb, lab.analyte or lab.name, canonical, {"field": f"labs[{i}].value"},
                              shown=(lab.value, lab.unit), recorded=lab.value)
        measured.setdefault(lab.analyte or lab.name, (canonical, [ev.id for ev in items]))
    for fact in facts.labs:
        if fact.name in seen_labs or not _todays(note, fact):
            continue
        seen_labs.add(fact.name)
        items = _lab_evidence(w, case, kb, fact.name, fact.canonical_value, {"span": (fact.start, fact.end)},
                              shown=(fact.value, fact.unit))
        measured.setdefault(fact.name, (fact.canonical_value, [ev.id for ev in items]))
    # Ratios of two measured analytes (AST/ALT): derived evidence resting on both measurements.
    for f in kb.findings_for_ratio():
        rule = f.lab
        num, den = measured.get(rule.analyte), measured.get(rule.over)  # type: ignore[union-attr, arg-type]
        if num is None or den is None or den[0] == 0:
            continue
        ratio = num[0] / den[0]
        holds = rule.matches(ratio)  # type: ignore[union-attr]
        w.add("derived", f"{rule.analyte.upper()}/{rule.over.upper()} ratio {ratio:.2f} ({f.name}: "  # type: ignore[union-attr]
              f"{'yes' if holds else 'no'}, threshold {_describe_rule(rule)})", derived_from=num[1][:1] + den[1][:1],
              finding=f.id, present=holds, value=round(ratio, 4))

    # History items matched to findings.
    for group in ("conditions", "medications"):
        for i, item in enumerate(getattr(case.history, group)):
            low = item.lower()
            hits = [f for f in kb.findings_with_history() if _history_rx(f).search(low)]
            for f in hits:
                w.field(f"History: {item} ({f.name})", f"history.{group}[{i}]", item, finding=f.id, present=True)

    # Findings mentioned in the note, first present and first absent mention of each.
    if note:
        kept: set[tuple[str, bool]] = set()
        for m in facts.findings(kb):
            key = (m.finding, m.present)
            if key in kept:
                continue
            kept.add(key)
            f = kb.findings[m.finding]
            quote = note[m.quote_start:m.end]
            stmt = (f"{f.name} documented" if m.present else f"{f.name} explicitly absent") + f": \"{quote}\""
            w.note(stmt, note, m.quote_start, m.end, finding=f.id, present=m.present)
    # The chief complaint is the patient's own reason for coming: findings it names that the note does not.
    if case.chief_complaint:
        kept_cc = {(ev.finding, ev.present) for ev in w.items.values() if ev.finding}
        for m in extract_findings(reading_text(case.chief_complaint), kb):
            key = (m.finding, m.present)
            if key in kept_cc:
                continue
            kept_cc.add(key)
            f = kb.findings[m.finding]
            quote = case.chief_complaint[m.quote_start:m.end]
            stmt = (f"{f.name} documented" if m.present else f"{f.name} explicitly absent") + \
                f" in the chief complaint: \"{quote}\""
            w.field(stmt, "chief_complaint", case.chief_complaint, finding=f.id, present=m.present)
    return list(w.items.values())


def _emit(w: EvidenceWriter, case: Case, src: dict, statement: str, value: object, unit: str | None,
          **extra: object) -> Evidence:
    if "field" in src:
        return w.field(statement, src["field"], value, unit=unit, **extra)
    start, end = src["span"]
    return w.note(statement, case.note, start, end, value=value, unit=unit, **extra)


def _vital_evidence(w: EvidenceWriter, case: Case, kb: KnowledgeBase, name: str, value: float, src: dict,
                    shown: tuple[float, str] | None = None) -> None:
    label, unit = _VITAL_LABELS.get(name, (name, ""))
    rules = kb.findings_for_vital(name)
    recorded_value = value if "field" in src else (shown[0] if shown else value)
    recorded_unit = unit if "field" in src else (shown[1] if shown else unit)
    text = f"{label} {value:g}{(' ' + unit) if unit else ''}"
    checks = [(f, f.vital.matches(value), f.vital) for f in rules]
    _measured(w, case, src, text, recorded_value, recorded_unit or None, _QUANTITY_NAMES.get(name, name), checks)


def _lab_evidence(w: EvidenceWriter, case: Case, kb: KnowledgeBase, analyte: str, canonical: float, src: dict,
                  shown: tuple[object, str], recorded: object | None = None) -> list[Evidence]:
    value, unit = shown
    text = f"{analyte.replace('_', ' ').capitalize()} {value} {unit}".strip()
    recorded_value = recorded if recorded is not None else value
    checks = [(f, f.lab.matches(canonical), f.lab) for f in kb.findings_for_lab(analyte)]
    return _measured(w, case, src, text, recorded_value, unit or None, analyte, checks)


def _measured(w: EvidenceWriter, case: Case, src: dict, text: str, value: object, unit: str | None, quantity: str,
              checks: list[tuple[Finding, bool, object]]) -> list[Evidence]:
    """One evidence item per finding rule the measurement is checked against (or one plain item when none)."""
    if not checks:
        return [_emit(w, case, src, text, value, unit, quantity=quantity)]
    return [_emit(w, case, src, f"{text} ({f.name}: {'yes' if holds else 'no'}, threshold {_describe_rule(rule)})",
                  value, unit, finding=f.id, present=holds, quantity=quantity) for f, holds, rule in checks]
