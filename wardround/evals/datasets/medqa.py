"""MedQA (USMLE-style multiple choice) in the MedAgentsBench JSONL format: ``question``, ``options``, ``answer_idx``.

Each row becomes a ``Case`` whose note is the question stem (age and sex read from it), with ``question`` and
``options`` set; the prediction is an option letter and the gold is ``answer_idx``.

Solvers:

- ``ward`` (default, works with ``--model rules``): run the ward graph on the stem and pick the option whose
  text best matches the ranked differential. An option scores ``probability x match`` for each differential
  condition, where match is 1 when the option names that condition (name, id or knowledge-base alias) and the
  content-word overlap otherwise (counted only from 0.5 up). The best positive score wins; when no option
  matches any condition the item is **abstained** (no answer, counted wrong). This is an honest baseline: the
  embedded reasoner knows ~30 acute conditions and MedQA asks far more (mechanisms, drugs, next steps), so
  most items abstain and accuracy is low.
- ``chat``: ask a chat model for the letter directly (one call per item; tokens and cost counted).

Data: MedQA (Jin et al. 2021, doi:10.3390/app11146421), MedAgentsBench copy; licence as stated by the
distribution: MIT (MedQA) / Apache-2.0 (MedAgentsBench).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from wardround.case import Case
from wardround.errors import CaseError, InputError
from wardround.evals.datasets.matching import labels_of, similarity
from wardround.evals.solvers import ChatSolver, WardSolver, model_label
from wardround.evals.tasks import EvalItem, Prediction, Score, Task, iter_jsonl
from wardround.report import WardResult

LICENCE = "MedQA: MIT; MedAgentsBench distribution: Apache-2.0"
#: Minimum content-word overlap for a partial option match to count.
MIN_OVERLAP = 0.5


def load_medqa(path: str | Path, limit: int | None = None) -> list[EvalItem]:
    """Read a MedQA JSONL file into items (id = ``realidx`` when present, else the line number)."""
    p = Path(path)
    items: list[EvalItem] = []
    for lineno, row in iter_jsonl(p, expect="one JSON object"):
        missing = [k for k in ("question", "options", "answer_idx") if k not in row]
        if missing or not isinstance(row.get("options"), dict):
            raise InputError("data", f"{p.name} line {lineno} lacks {', '.join(missing) or 'an options object'}",
                             "use the MedAgentsBench format: question, options {letter: text}, answer_idx")
        item_id = str(row.get("realidx", row.get("id", lineno)))
        options = {str(k): str(v) for k, v in row["options"].items()}
        question = str(row["question"])
        try:
            case = Case.from_text(question, id=f"medqa-{item_id}", question=question, options=options)
        except CaseError:  # demographics the case model rejects: keep the stem, drop what was read from it
            case = Case(id=f"medqa-{item_id}", note=question, question=question, options=options)
        items.append(EvalItem(id=item_id, case=case, gold=str(row["answer_idx"]),
                              category=str(row["meta_info"]) if row.get("meta_info") else None,
                              metadata={"answer": row.get("answer")}))
        if limit is not None and len(items) >= limit:
            break
    if not items:
        raise InputError("data", f"{p} holds no questions", "check the file")
    return items


def choose_option(options: dict[str, str], result: WardResult) -> tuple[str | None, dict[str, Any]]:
    """The option best matching the ward's differential (see module docstring), or ``None`` to abstain."""
    d = result.diagnosis
    differential = list(d.differential) if d and d.supported else []  # an unsupported round answers nothing
    scores: dict[str, float] = {}
    matched: dict[str, str] = {}
    for letter, text in options.items():
        best, via = 0.0, ""
        for cand in differential:
            sim = max((similarity(text, label) for label in labels_of(cand.condition, cand.name)), default=0.0)
            if sim < 1.0 and sim < MIN_OVERLAP:
                continue
            s = cand.probability * sim
            if s > best:
                best, via = s, cand.name
        scores[letter] = round(best, 6)
        if via:
            matched[letter] = via
    positive = {k: v for k, v in scores.items() if v > 0}
    if not positive:
        return None, {"abstained": True, "option_scores": scores}
    letter = max(positive, key=lambda k: (positive[k], -list(options).index(k)))
    return letter, {"abstained": False, "option_scores": scores, "matched_condition": matched.get(letter)}


def ward_answer(item: EvalItem, result: WardResult) -> tuple[Any, dict[str, Any]]:
    """Map the ward's differential onto the item's options."""
    assert item.case is not None and item.case.options is not None
    letter, extra = choose_option(item.case.options, result)
    if result.diagnosis is not None:
        extra["differential"] = [x.name for x in result.diagnosis.differential]
    return letter, extra


SYSTEM_PROMPT = ("You are a physician answering a multiple-choice exam question. Think briefly, then give the "
                 "single best option on the last line as 'Answer: <letter>'.")


def mcq_prompt(item: EvalItem) -> tuple[str, str]:
    """System and user prompts for a multiple-choice item."""
    assert item.case is not None and item.case.options is not None
    opts = "\n".join(f"{k}. {v}" for k, v in item.case.options.items())
    return SYSTEM_PROMPT, f"{item.case.question}\n\n{opts}"


_ANSWER_RE = re.compile(r"answer\s*(?:is|:)?\s*[:\-]?\s*\(?\**([A-Z])\b\)?", re.IGNORECASE)


def parse_letter(item: EvalItem, text: str) -> tuple[str | None, dict[str, Any]]:
    """The option letter a model answered ('Answer: C', '(C)', 'C.' or an option's full text); None if none."""
    assert item.case is not None and item.case.options is not None
    letters = set(item.case.options)
    hits = [m.group(1).upper() for m in _ANSWER_RE.finditer(text) if m.group(1).upper() in letters]
    if hits:
        return hits[-1], {"abstained": False}
    stripped = text.strip()
    m = re.match(r"^\(?([A-Z])(?:[\).:\s]|$)", stripped)
    if m and m.group(1) in letters:
        return m.group(1), {"abstained": False}
    low = " ".join(stripped.lower().split())
    named = [k for k, v in item.case.options.items() if " ".join(v.lower().split()) in low]
    if len(named) == 1:
        return named[0], {"abstained": False}
    return None, {"abstained": True}


def letter_scorer(item: EvalItem, pred: Prediction) -> Score:
    """Correct when the chosen letter is ``answer_idx``; an abstention is wrong."""
    if pred.prediction is None:
        return Score(correct=False, extra={"abstained": True})
    return Score(correct=str(pred.prediction).strip().upper() == str(item.gold).strip().upper())


def aggregate(items: Any, records: Any) -> dict[str, Any]:
    """Abstention count and accuracy on the answered items."""
    answered = [r for r in records if r.prediction is not None]
    return {"abstained": len(records) - len(answered), "answered": len(answered),
            "accuracy_answered": round(sum(bool(r.correct) for r in answered) / len(answered), 4) if answered
            else None}


def medqa_task(data: str | Path, *, model: Any = "rules", solver: str = "ward", limit: int | None = None) -> Task:
    """The MedQA task: ``solver`` is ``ward`` (graph + option matching) or ``chat`` (ask the model directly)."""
    items = load_medqa(data, limit)
    if solver == "ward":
        solve: Any = WardSolver(model, answer=ward_answer)
    elif solver == "chat":
        if isinstance(model, str) and model.strip().lower() in ("", "rules"):
            raise InputError("model", "the chat solver needs a chat model, not the embedded reasoner",
                             "give --model provider:name (e.g. openai:gpt-4o-mini), or use --solver ward")
        solve = ChatSolver(model, mcq_prompt, parse_letter)
    else:
        raise InputError("solver", f"{solver!r} is not a MedQA solver", "use 'ward' or 'chat'")
    return Task(name="medqa", items=items, solver=solve, scorer=letter_scorer, aggregate=aggregate,
                config={"dataset": "medqa", "solver": solver, "model": model_label(model),
                        "min_overlap": MIN_OVERLAP},
                data_files=[Path(data)], licence=LICENCE, models={"all": model_label(model)}, cpu_bound=model_label(model) == "rules")
