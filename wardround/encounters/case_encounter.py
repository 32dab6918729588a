"""Setting 3: any wardround ``Case`` as an encounter. The note is split into what the patient says (history),
what examination shows and what tests return; the gatekeeper reveals a part only when it is asked for.

The split is a heuristic of sentence cues (examination words, test and imaging words, values with units), not
a clinical rule; structured fields go where they belong (vitals to examination, labs and imaging to tests,
conditions, medications and allergies to history). ``ProtocolCaseDoctor`` follows a fixed protocol (the patient's
account, the history lists, the vital signs and examination, then a test panel) and diagnoses with the ward
(``wardround.api.run``) on the case rebuilt from the answers alone, citing the answers its diagnosis rests on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from wardround.case import Case, Lab, Vitals
from wardround.encounters.gatekeeper import case_key_of, register_case
from wardround.encounters.models import Action, Answer
from wardround.extract.context import sentence_bounds

EXAM_CUE = re.compile(r"\b(?:on examination|examination|examined|exam\b|auscultat\w*|palpat\w*|percuss\w*|tender"
                      r"|non-tender|heart sounds|murmur|lungs? (?:are|is|were)|crackles|wheez\w*|abdomen (?:is|was)"
                      r"|rash|oedema|edema|reflexes|pupils|jugular|pale|clammy|jaundiced|febrile to)", re.I)
TEST_CUE = re.compile(r"\b(?:ecg|ekg|x-?ray|radiograph|ct\b|mri\b|ultrasound|echocardiogra\w*|troponin|culture"
                      r"|biopsy|scan|level|count|serum|urinalysis|d-dimer|lactate|blood gas|film|swab|pcr"
                      r"|mg/dl|mmol/l|ng/l|µmol/l|umol/l|g/dl|u/l|iu/l|10\^9)", re.I)
VITALS = {"heart rate": "heart_rate", "pulse": "heart_rate", "blood pressure": ("systolic_bp", "diastolic_bp"),
          "respiratory rate": "respiratory_rate", "temperature": "temperature_c", "oxygen saturation": "spo2",
          "spo2": "spo2", "weight": "weight_kg", "height": "height_cm", "gcs": "gcs", "glasgow": "gcs"}
PANELS: dict[str, tuple[str, ...]] = {
    "basic metabolic panel": ("sodium", "potassium", "chloride", "bicarbonate", "co2", "urea", "bun", "creatinine",
                              "glucose", "calcium"),
    "comprehensive metabolic panel": ("sodium", "potassium", "chloride", "bicarbonate", "co2", "urea", "bun",
                                      "creatinine", "glucose", "calcium", "albumin", "protein", "bilirubin", "alt",
                                      "ast", "alkaline phosphatase", "alp"),
    "complete blood count": ("hemoglobin", "haemoglobin", "wbc", "white cell", "white blood", "platelet",
                             "hematocrit", "haematocrit", "mcv", "neutrophil", "lymphocyte"),
}
"""Analytes a panel order returns (the components of the CPT panels 80048, 80053 and 85027 as commonly defined;
not re-verified against the AMA CPT text here)."""
TEST_SYNONYMS: dict[str, str] = {"electrocardiogram": "ecg ekg electrocardiogram",
                                 "chest x-ray": "x-ray radiograph chest film",
                                 "ct": "ct computed tomography scan", "ultrasound": "ultrasound sonograph echo"}
"""Words by which a test order finds the note's test sentences (a lookup aid, not a clinical rule)."""
STOP_WORDS = frozenset({"with", "have", "does", "there", "what", "about", "your", "that", "this", "from", "history",
                        "test", "tests", "level", "examination", "exam", "signs", "of", "the", "and", "any"})


def _words(text: str) -> set[str]:
    return {w[:5] for w in re.findall(r"[a-z0-9]+", text.casefold()) if len(w) >= 3 and w not in STOP_WORDS}


def split_note(note: str) -> list[tuple[int, int, str]]:
    """(start, end, part) for each sentence of the note; part is ``history``, ``exam`` or ``test``."""
    out = []
    for start, end in sentence_bounds(note):
        text = note[start:end]
        part = "test" if TEST_CUE.search(text) else "exam" if EXAM_CUE.search(text) else "history"
        out.append((start, end, part))
    return out


class CaseGatekeeper:
    """Answers from one wardround ``Case``: only the parts asked for, never anything the case does not hold.

    Codes name what was revealed: ``note:<start>-<end>`` (a sentence), ``vitals.<field>``, ``labs[<i>]``,
    ``imaging[<i>]``, ``history.<list>``.
    """

    source = "case"

    def __init__(self, case: Case, parts: list[tuple[int, int, str]] | None = None, source: str = "case") -> None:
        self.case = case
        self.source = source
        self.case_key = case_key_of({"source": source, **case.model_dump(mode="json")})
        self.parts = parts if parts is not None else split_note(case.note)
        register_case(self)

    def question_text(self, action: Action) -> str:
        """The action as a question."""
        verb = {"ask": "Ask about", "examine": "Examine", "order_test": "Order", "diagnose": "Diagnose"}[action.kind]
        return f"{verb} {action.target}".strip() + "?"

    def opening(self) -> tuple[Action, Answer]:
        """Age, sex and the chief complaint (the first history sentence when there is none)."""
        who = f"{self.case.age:g}-year-old {self.case.sex}" if self.case.age is not None else f"{self.case.sex} patient"
        if self.case.chief_complaint:
            return (Action(kind="ask", target="presenting complaint", rationale="opening"),
                    Answer(text=f"{who}: {self.case.chief_complaint}", status="opening", codes=["chief_complaint"],
                           target="presenting complaint", present=True))
        hist = [(s, e) for s, e, p in self.parts if p == "history"][:1]
        codes = [f"note:{s}-{e}" for s, e in hist]
        text = " ".join(self.case.note[s:e].strip() for s, e in hist) or "no complaint recorded"
        return (Action(kind="ask", target="presenting complaint", rationale="opening"),
                Answer(text=f"{who}: {text}", status="opening", codes=codes, target="presenting complaint"))

    def _sentences(self, part: str, target: str, everything: bool = False) -> list[str]:
        wanted = _words(target)
        return [f"note:{s}-{e}" for s, e, p in self.parts
                if p == part and (everything or wanted & _words(self.case.note[s:e]))]

    def answer(self, action: Action) -> Answer:
        """The parts of the case that answer the action, or "not available"."""
        target = action.target.strip()
        low = target.casefold()
        codes: list[str] = []
        if action.kind == "ask":
            for name in ("conditions", "medications", "allergies"):
                if re.search(rf"\b{name[:-1]}", low) or (name == "conditions" and "medical history" in low):
                    if getattr(self.case.history, name):
                        codes.append(f"history.{name}")
            codes += self._sentences("history", target, everything=low in ("history", "everything"))
        elif action.kind == "examine":
            everything = low in ("vital signs", "vitals")
            if everything:  # vital signs written as examination lines (e.g. "Heart Rate: 140 bpm")
                codes += [f"note:{a}-{b}" for a, b, p in self.parts if p == "exam"
                          and any(re.match(rf"\W*{v}\b", self.case.note[a:b], re.I) for v in VITALS)]
            for name, fields in VITALS.items():
                if everything or name in low:
                    for f in (fields if isinstance(fields, tuple) else (fields,)):
                        if getattr(self.case.vitals, f) is not None and f"vitals.{f}" not in codes:
                            codes.append(f"vitals.{f}")
            if not everything and not any(name in low for name in VITALS):  # a vital sign asks for that value
                codes += self._sentences("exam", target, everything=low in ("physical examination", "full examination"))
        elif action.kind == "order_test":
            analytes = PANELS.get(low, ())
            for i, lab in enumerate(self.case.labs):
                name = lab.name.casefold()
                if name in low or low in name or any(a in name for a in analytes):
                    codes.append(f"labs[{i}]")
            for i, study in enumerate(self.case.imaging):
                if study.modality.casefold() in low.split():
                    codes.append(f"imaging[{i}]")
            words = " ".join([target, *analytes, *(v for k, v in TEST_SYNONYMS.items() if k in low)])
            codes += self._sentences("test", words)
        if not codes:
            return Answer(text="Not available in this case.", status="not_available", target=target)
        return Answer(text=self.render(codes), status="present", codes=codes, target=target, present=True)

    def render(self, codes: list[str]) -> str:
        """The revealed parts as text."""
        parts = []
        for code in codes:
            if code.startswith("note:"):
                s, e = (int(x) for x in code[5:].split("-"))
                parts.append(self.case.note[s:e].strip())
            elif code.startswith("vitals."):
                f = code.split(".", 1)[1]
                parts.append(f"{f.replace('_', ' ')} {getattr(self.case.vitals, f):g}")
            elif code.startswith("labs["):
                lab = self.case.labs[int(code[5:-1])]
                parts.append(f"{lab.name} {lab.value} {lab.unit}".strip())
            elif code.startswith("imaging["):
                study = self.case.imaging[int(code[8:-1])]
                parts.append(f"{study.modality} {study.body_region or ''} study available".strip())
            elif code.startswith("history."):
                name = code.split(".", 1)[1]
                parts.append(f"{name}: {', '.join(getattr(self.case.history, name))}")
        return " ".join(p if p.endswith(".") else p + "." for p in parts)

    def revealed_case(self, observed: Mapping[str, list[str]]) -> tuple[Case, dict[str, list[str]]]:
        """The case rebuilt from the answers alone, and which answer (target) each rebuilt part came from.

        Returns the case and a map from ward-evidence locators (``note:<s>-<e>`` in the rebuilt note, field paths)
        to the targets whose answers revealed them.
        """
        sentences: list[tuple[int, int, str]] = []
        vitals: dict[str, Any] = {}
        labs: list[tuple[int, str]] = []
        history: dict[str, list[str]] = {}
        chief = None
        for target, codes in observed.items():
            for code in codes:
                if code == "chief_complaint":
                    chief = self.case.chief_complaint
                elif code.startswith("note:"):
                    s, e = (int(x) for x in code[5:].split("-"))
                    sentences.append((s, e, target))
                elif code.startswith("vitals."):
                    vitals[code.split(".", 1)[1]] = (getattr(self.case.vitals, code.split(".", 1)[1]), target)
                elif code.startswith("labs["):
                    labs.append((int(code[5:-1]), target))
                elif code.startswith("history."):
                    history[code.split(".", 1)[1]] = list(getattr(self.case.history, code.split(".", 1)[1]))
        where: dict[str, list[str]] = {}
        note, pos = [], 0
        by_span: dict[tuple[int, int], list[str]] = {}
        for s, e, target in sentences:
            by_span.setdefault((s, e), []).append(target)
        for (s, e), targets in sorted(by_span.items()):
            text = self.case.note[s:e].strip()
            where[f"note:{pos}-{pos + len(text)}"] = list(dict.fromkeys(targets))
            note.append(text)
            pos += len(text) + 1
        by_lab: dict[int, list[str]] = {}
        for i, target in labs:
            by_lab.setdefault(i, []).append(target)
        lab_list = []
        for n, (i, targets) in enumerate(sorted(by_lab.items())):
            lab_list.append(Lab.model_validate(self.case.labs[i].model_dump()))
            where[f"labs[{n}]"] = list(dict.fromkeys(targets))
        for f, (_, target) in vitals.items():
            where.setdefault(f"vitals.{f}", []).append(target)
        case = Case(id=f"{self.case.id}-encounter", age=self.case.age, sex=self.case.sex, chief_complaint=chief,
                    note=" ".join(note), vitals=Vitals(**{f: v for f, (v, _) in vitals.items()}), labs=lab_list,
                    history=self.case.history.model_copy(update={k: history.get(k, []) for k in
                                                                 ("conditions", "medications", "allergies")}))
        return case, where


HISTORY_TOPICS = ("history",)
"""What the protocol doctor asks first: "history" asks for the patient's whole account (every history sentence);
pass topic words instead (e.g. "fever", "cough") to ask about them one by one."""
TEST_PANEL = ("complete blood count", "basic metabolic panel", "c-reactive protein", "troponin i",
              "electrocardiogram", "chest x-ray 2 views", "urinalysis", "d-dimer")
"""Tests the protocol doctor orders, in order, until the budget ends (names of the Dx0 price table)."""


class ProtocolCaseDoctor:
    """A fixed protocol (the patient's account, history lists, vitals, examination, test panel), then the ward's
    diagnosis on the case rebuilt from the answers alone."""

    name = "rules-protocol+ward"

    def __init__(self, gatekeeper: CaseGatekeeper, topics: tuple[str, ...] = HISTORY_TOPICS,
                 tests: tuple[str, ...] = TEST_PANEL) -> None:
        self.gatekeeper = gatekeeper
        self.plan = ([Action(kind="ask", target=t, rationale="the patient's account") for t in topics]
                     + [Action(kind="ask", target=t, rationale="history") for t in
                        ("past medical history conditions", "medications", "allergies")]
                     + [Action(kind="examine", target="vital signs", rationale="examination"),
                        Action(kind="examine", target="physical examination", rationale="examination")]
                     + [Action(kind="order_test", target=t, rationale="test panel") for t in tests])
        self._cache: dict[str, Any] = {}

    def next_action(self, observed: Mapping[str, list[str]], answered: list[str], turn: int) -> Action:
        """The next step of the protocol, or diagnose when it is done."""
        if turn < len(self.plan):
            return self.plan[turn]
        return Action(kind="diagnose", rationale="protocol complete")

    def _ward(self, observed: Mapping[str, list[str]]) -> tuple[Any, dict[str, list[str]]]:
        case, where = self.gatekeeper.revealed_case(observed)
        key = case.model_dump_json()
        if key not in self._cache:
            from wardround.api import run

            self._cache = {key: (run(case), where)}
        return self._cache[key]

    def assess(self, observed: Mapping[str, list[str]], answered: list[str]) -> dict[str, Any]:
        """The ward's ranked differential on the rebuilt case."""
        result, _ = self._ward(observed)
        dx = result.diagnosis
        if dx is None:
            return {"ranked": [("undetermined", 0.0)], "differential": []}
        items = [dx.primary, *[d for d in dx.differential if d.condition != dx.primary.condition]]
        ranked = [(d.name, float(d.probability)) for d in items]
        return {"ranked": ranked, "differential": ranked, "ward": result, "supported": dx.supported}

    def contributions(self, observed: Mapping[str, list[str]], answered: list[str], pathology: str) -> dict[str, float]:
        """+1 for each answer that revealed evidence the ward cites for ``pathology``, -1 for evidence against."""
        result, where = self._ward(observed)
        dx = result.diagnosis
        out: dict[str, float] = {}
        if dx is None:
            return out
        for d in [dx.primary, *dx.differential]:
            if d.name != pathology:
                continue
            for sign, ids in ((1.0, d.supporting), (-1.0, d.opposing)):
                for eid in ids:
                    ev = result.ledger.get(eid)
                    if ev is None:
                        continue
                    for target in _targets_of(ev, where):
                        out[target] = out.get(target, 0.0) + sign
        return out


def _targets_of(ev: Any, where: Mapping[str, list[str]]) -> list[str]:
    """Which answers revealed the part of the rebuilt case that a ward evidence rests on."""
    if ev.kind == "note" and ev.span:
        s, e = ev.span
        hits = []
        for loc, targets in where.items():
            if loc.startswith("note:"):
                a, b = (int(x) for x in loc[5:].split("-"))
                if a <= s and e <= b + 1:
                    hits.extend(targets)
        return hits
    if ev.kind == "field" and ev.field:
        path = ev.field.split(".value")[0]
        return list(where.get(path, []))
    return []


OSCE_PARTS = {"Patient_Actor": "history", "Physical_Examination_Findings": "exam", "Test_Results": "test"}


def _osce_lines(value: Any, path: tuple[str, ...] = ()) -> list[str]:
    """``Parent, Key: value`` lines of a nested OSCE section (the parent keys name what a line is about)."""
    if isinstance(value, Mapping):
        out: list[str] = []
        for k, v in value.items():
            out.extend(_osce_lines(v, (*path, str(k).replace("_", " ").strip())))
        return out
    text = "; ".join(str(x) for x in value) if isinstance(value, list) else str(value)
    text = " ".join(text.split())
    if not text:
        return []
    return [f"{', '.join(path)}: {text}" if path else text]


def osce_gatekeeper(osce: Mapping[str, Any], case_id: str = "osce") -> CaseGatekeeper:
    """A gatekeeper over one AgentClinic OSCE record: its sections give the parts (no heuristic split).

    History is ``Patient_Actor``, examination ``Physical_Examination_Findings``, tests ``Test_Results``; each
    flattened ``Parent, Key: value`` line is one answerable unit. ``Correct_Diagnosis`` and the doctor's objective never
    enter the case. The opening is the demographics and the primary symptom.
    """
    lines: list[str] = []
    parts: list[tuple[int, int, str]] = []
    pos = 0
    for key, part in OSCE_PARTS.items():
        section = osce.get(key)
        if not section:
            continue
        for text in _osce_lines(section):
            lines.append(text)
            parts.append((pos, pos + len(text), part))
            pos += len(text) + 1
    actor = osce.get("Patient_Actor") or {}
    symptoms = actor.get("Symptoms") if isinstance(actor, Mapping) else None
    primary = symptoms.get("Primary_Symptom") if isinstance(symptoms, Mapping) else None
    demo = str(actor.get("Demographics") or "") if isinstance(actor, Mapping) else ""
    note = "\n".join(lines)
    try:
        parsed = Case.from_text(demo or "adult", id=case_id)
        age, sex = parsed.age, parsed.sex
    except Exception:  # demographics that do not parse leave age and sex unknown
        age, sex = None, "unknown"
    chief = f"{primary}" if primary else None
    case = Case(id=case_id, age=age, sex=sex, chief_complaint=chief, note=note)
    return CaseGatekeeper(case, parts=parts, source="osce")


def agentclinic_interactive(path: str | Path, *, limit: int | None = None, max_turns: int = 20,
                            prices: Any = None) -> dict[str, Any]:
    """AgentClinic OSCE records as encounters with the rules gatekeeper and the protocol doctor.

    Scored like the non-interactive AgentClinic eval (``wardround.evals.datasets.agentclinic``): the primary is
    correct when it matches ``Correct_Diagnosis`` by name, alias or content words; an unsupported primary (the
    knowledge base does not cover the case) is an abstention.
    """
    import json

    from wardround.encounters.graph import run_encounter
    from wardround.encounters.models import EncounterConfig
    from wardround.evals.datasets.matching import names_match

    records = []
    with Path(path).open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    for n, row in enumerate(rows[:limit] if limit else rows, start=1):
        osce = row.get("OSCE_Examination") or {}
        gk = osce_gatekeeper(osce, f"osce-{n}")
        result = run_encounter(gk, ProtocolCaseDoctor(gk), EncounterConfig(max_turns=max_turns), prices)
        dx = result.diagnosis or {}
        name = dx.get("primary", {}).get("name") if dx.get("supported", True) else None
        ok, how = names_match(name, str(osce.get("Correct_Diagnosis")))
        records.append({"id": f"osce-{n}", "gold": osce.get("Correct_Diagnosis"), "prediction": name,
                        "correct": bool(ok), "match": how, "questions": result.questions,
                        "cost_usd": result.cost_usd, "verified": result.verified})
    answered = [r for r in records if r["prediction"] is not None]
    return {"n": len(records), "accuracy": round(sum(r["correct"] for r in records) / max(1, len(records)), 4),
            "answered": len(answered), "abstained": len(records) - len(answered),
            "accuracy_answered": round(sum(r["correct"] for r in answered) / len(answered), 4) if answered else None,
            "IL": round(sum(r["questions"] for r in records) / max(1, len(records)), 2),
            "cost_usd": round(sum(r["cost_usd"] for r in records) / max(1, len(records)), 2),
            "verified": all(r["verified"] for r in records), "records": records}
