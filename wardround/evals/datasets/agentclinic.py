"""AgentClinic OSCE cases: ``{"OSCE_Examination": {...}}`` a line -> ``Case`` -> free-text diagnosis.

The case note is written from ``Patient_Actor`` (demographics, history, symptoms, past/social history, review of
systems), ``Physical_Examination_Findings`` and ``Test_Results`` (nested keys flattened into ``Key: value``
lines). ``Correct_Diagnosis`` is the gold and never enters the case. This is the static (single-turn) form of
AgentClinic: the whole OSCE record is given at once instead of being elicited in a dialogue.

Scoring: the predicted name (the attending's primary diagnosis with the ward solver) is correct when it
matches ``Correct_Diagnosis`` by normalised name, knowledge-base alias, or equal content words
(``wardround.evals.datasets.matching.names_match``). An LLM judge (``judge=MODEL``) is optional and off by
default; when on, it is asked only about answers the name match rejects, and its verdict is recorded.

Data: AgentClinic (Schmidgall et al. 2024, arXiv:2405.07960), MedQA-derived OSCE cases, licence MIT.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from wardround.case import Case
from wardround.errors import CaseError, InputError
from wardround.evals.datasets.matching import names_match
from wardround.evals.solvers import ChatSolver, WardSolver, model_label, primary_name
from wardround.evals.tasks import EvalItem, Prediction, Score, Task, iter_jsonl

LICENCE = "AgentClinic: MIT (Copyright (c) 2024 Samuel Schmidgall)"

_SECTIONS = (("Patient_Actor", "Patient"), ("Physical_Examination_Findings", "Physical examination"),
             ("Test_Results", "Test results"))


def _label(key: str) -> str:
    return key.replace("_", " ").strip()


def _flatten(value: Any, indent: int = 0) -> list[str]:
    pad = "  " * indent
    if isinstance(value, dict):
        lines: list[str] = []
        for k, v in value.items():
            if isinstance(v, dict):
                lines.append(f"{pad}{_label(k)}:")
                lines.extend(_flatten(v, indent + 1))
            elif isinstance(v, list):
                lines.append(f"{pad}{_label(k)}: " + "; ".join(str(x) for x in v))
            else:
                lines.append(f"{pad}{_label(k)}: {v}")
        return lines
    if isinstance(value, list):
        return [f"{pad}" + "; ".join(str(x) for x in value)]
    return [f"{pad}{value}"]


def osce_note(osce: dict[str, Any]) -> str:
    """The case note of an OSCE record (everything but the objective and the correct diagnosis)."""
    parts: list[str] = []
    for key, title in _SECTIONS:
        section = osce.get(key)
        if section:
            parts.append(f"{title}:")
            parts.extend(_flatten(section, 1))
    return "\n".join(parts)


def load_agentclinic(path: str | Path, limit: int | None = None) -> list[EvalItem]:
    """Read AgentClinic OSCE JSONL into items (id ``osce-<line>``; gold ``Correct_Diagnosis``)."""
    p = Path(path)
    items: list[EvalItem] = []
    for lineno, row in iter_jsonl(p, expect="one OSCE object"):
        osce = row.get("OSCE_Examination") if isinstance(row, dict) else None
        if not isinstance(osce, dict) or not osce.get("Correct_Diagnosis"):
            raise InputError("data", f"{p.name} line {lineno} has no OSCE_Examination.Correct_Diagnosis",
                             "use AgentClinic's OSCE format")
        item_id = f"osce-{lineno}"
        note = osce_note(osce)
        try:
            case = Case.from_text(note, id=item_id)
        except CaseError:
            case = Case(id=item_id, note=note)
        items.append(EvalItem(id=item_id, case=case, gold=str(osce["Correct_Diagnosis"]),
                              metadata={"objective": osce.get("Objective_for_Doctor")}))
        if limit is not None and len(items) >= limit:
            break
    if not items:
        raise InputError("data", f"{p} holds no OSCE cases", "check the file")
    return items


SYSTEM_PROMPT = ("You are a physician. Read the case and give the single most likely diagnosis on the last line "
                 "as 'Diagnosis: <name>'.")


def dx_prompt(item: EvalItem) -> tuple[str, str]:
    """System and user prompts for a diagnosis item."""
    assert item.case is not None
    return SYSTEM_PROMPT, item.case.note


_DX_RE = re.compile(r"diagnosis\s*(?:is|:)\s*(.+)", re.IGNORECASE)


def parse_diagnosis(item: EvalItem, text: str) -> tuple[str | None, dict[str, Any]]:
    """The diagnosis named after 'Diagnosis:' (last occurrence), else the last non-empty line."""
    hits = _DX_RE.findall(text)
    if hits:
        name = hits[-1]
    else:
        lines = [x for x in text.strip().splitlines() if x.strip()]
        name = lines[-1] if lines else ""
    name = name.strip().strip("*.\"' ")
    return (name or None), {}


class DiagnosisScorer:
    """Name/alias match against the gold diagnosis; optionally an LLM judge for the rest (off by default)."""

    def __init__(self, judge: Any = None) -> None:
        self.judge = judge
        self._client: Any = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_client"] = None
        return state

    def __call__(self, item: EvalItem, pred: Prediction) -> Score:
        name = pred.prediction if isinstance(pred.prediction, str) else None
        ok, how = names_match(name, item.gold)
        extra: dict[str, Any] = {"match": how}
        if not ok and name and self.judge is not None:
            ok, verdict, usage = self._ask_judge(name, str(item.gold))
            extra.update({"match": "judge" if ok else "no-match", "judge": verdict, "judge_usage": usage})
        return Score(correct=ok, extra=extra)

    def _ask_judge(self, predicted: str, gold: str) -> tuple[bool, str, dict[str, Any]]:
        from langchain_core.messages import HumanMessage, SystemMessage

        from wardround.agents.llm_agents import message_text
        from wardround.llm import Meter, get_client

        if self._client is None:
            self._client = get_client(self.judge)
        meter = Meter()
        msg = self._client.invoke([
            SystemMessage("You compare two diagnoses. Answer 'yes' if they name the same disease (synonyms, "
                          "abbreviations or a more specific form of it count), otherwise 'no'. One word."),
            HumanMessage(f"Reference diagnosis: {gold}\nCandidate diagnosis: {predicted}")], meter, agent="judge")
        verdict = message_text(msg).strip()
        usage = {"input_tokens": meter.input_tokens, "output_tokens": meter.output_tokens,
                 "cost_usd": round(meter.cost_usd, 8)}
        return verdict.lower().startswith("yes"), verdict[:200], usage


def aggregate(items: Any, records: Any) -> dict[str, Any]:
    """How the correct answers matched, abstentions, and accuracy on the answered items (the ward answers only
    when its knowledge base covers the case: a supported primary diagnosis)."""
    how: dict[str, int] = {}
    for r in records:
        if r.correct:
            key = str(r.extra.get("match"))
            how[key] = how.get(key, 0) + 1
    answered = [r for r in records if r.prediction is not None]
    return {"matched_by": how, "abstained": len(records) - len(answered), "answered": len(answered),
            "accuracy_answered": round(sum(bool(r.correct) for r in answered) / len(answered), 4) if answered
            else None}


def agentclinic_task(data: str | Path, *, model: Any = "rules", solver: str = "ward", judge: Any = None,
                     limit: int | None = None) -> Task:
    """The AgentClinic task: ``ward`` (primary diagnosis of the ward round) or ``chat`` (ask the model)."""
    items = load_agentclinic(data, limit)
    if solver == "ward":
        solve: Any = WardSolver(model, answer=primary_name)
    elif solver == "chat":
        if isinstance(model, str) and model.strip().lower() in ("", "rules"):
            raise InputError("model", "the chat solver needs a chat model, not the embedded reasoner",
                             "give --model provider:name (e.g. openai:gpt-4o-mini), or use --solver ward")
        solve = ChatSolver(model, dx_prompt, parse_diagnosis)
    else:
        raise InputError("solver", f"{solver!r} is not an AgentClinic solver", "use 'ward' or 'chat'")
    return Task(name="agentclinic", items=items, solver=solve, scorer=DiagnosisScorer(judge), aggregate=aggregate,
                config={"dataset": "agentclinic", "solver": solver, "model": model_label(model),
                        "judge": model_label(judge) if judge is not None else None},
                data_files=[Path(data)], licence=LICENCE,
                models={"all": model_label(model), **({"judge": model_label(judge)} if judge is not None else {})},
                cpu_bound=model_label(model) == "rules" and judge is None)
