"""The evaluation task interface: dataset items x solver x scorer (after inspect_ai's dataset/solver/scorer).

- an ``EvalItem`` carries an id, the ``Case`` built from one dataset row (or the raw row in ``payload`` for
  tasks that do not go through a case), the gold answer and a category;
- a *solver* turns an item into a ``Prediction`` (answer, usage, cited evidence ids); it is any callable,
  sync or async, and must be picklable for the Ray backend (build heavy objects lazily, on first call);
- a *scorer* turns (item, prediction) into a ``Score`` (correct or not, plus dataset-specific fields);
- ``Task.aggregate`` (optional) computes dataset-level figures from all records (DDXPlus top-k, MedCalc
  corrected labels) and is merged into the summary.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from wardround.case import Case
from wardround.evals.records import ItemRecord
from wardround.report import Usage


class TransientError(Exception):
    """An error a retry can fix (raise it from a solver to ask the runner to retry the item)."""


class EvalItem(BaseModel):
    """One dataset item ready to solve."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    id: str
    case: Case | None = None
    gold: Any = None
    category: str | None = None
    payload: Any = Field(None, description="raw dataset row for solvers that do not need a Case")
    metadata: dict[str, Any] = Field(default_factory=dict)


class Prediction(BaseModel):
    """What a solver produced for one item."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    prediction: Any = None
    usage: Usage = Field(default_factory=Usage)
    cited: list[str] = Field(default_factory=list)
    extra: dict[str, Any] = Field(default_factory=dict, description="JSON-able dataset-specific output")
    raw: Any = Field(None, exclude=True, description="the solver's native output, for the scorer (not recorded)")


class Score(BaseModel):
    """The scorer's verdict on one prediction."""

    correct: bool | None
    extra: dict[str, Any] = Field(default_factory=dict)


Solver = Callable[[EvalItem], "Prediction | Awaitable[Prediction]"]
Scorer = Callable[[EvalItem, Prediction], Score]
Aggregate = Callable[[Sequence[EvalItem], Sequence[ItemRecord]], dict[str, Any]]


@dataclass
class Task:
    """A dataset, a solver and a scorer, with what identifies the run (config, data files, licence)."""

    name: str
    items: list[EvalItem]
    solver: Solver
    scorer: Scorer
    aggregate: Aggregate | None = None
    config: dict[str, Any] = field(default_factory=dict)
    data_files: list[Path] = field(default_factory=list)
    licence: str = ""
    models: dict[str, str] = field(default_factory=dict)
    #: the solver computes in this process (rules, calculators, the embedded reasoners) rather than waiting on a
    #: model server: threads only contend for the interpreter lock, so the default concurrency is 1
    cpu_bound: bool = False

    def fingerprint(self) -> str:
        """Hash of the task config and data-file hashes: a run folder only resumes the same evaluation."""
        payload = {"name": self.name, "config": self.config,
                   "data": {str(Path(p).name): sha256_file(p) for p in self.data_files}}
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


_HASHES: dict[tuple[str, float, int], str] = {}


def sha256_file(path: str | Path) -> str:
    """sha256 of a file, memoised by path, mtime and size (manifests hash the same files again and again)."""
    from wardround.evidence import sha256_file as _sha256

    p = Path(path)
    st = p.stat()
    key = (str(p.resolve()), st.st_mtime, st.st_size)
    if key not in _HASHES:
        _HASHES[key] = _sha256(p)
    return _HASHES[key]


def iter_jsonl(path: str | Path, *, expect: str) -> Iterator[tuple[int, Any]]:
    """(line number, parsed object) for each non-blank line of a JSONL file.

    Raises ``InputError`` naming the file and line when one is not JSON; ``expect`` says what a line should hold.
    """
    from wardround.errors import InputError

    p = Path(path)
    with open(p, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield lineno, json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError("data", f"{p.name} line {lineno} is not JSON ({exc.msg})",
                                 f"give {expect} a line") from None


def exact_match_scorer(item: EvalItem, pred: Prediction) -> Score:
    """Correct when the prediction equals the gold answer (strings compared case- and space-insensitively)."""
    if pred.prediction is None:
        return Score(correct=False, extra={"abstained": True})
    a, b = pred.prediction, item.gold
    if isinstance(a, str) and isinstance(b, str):
        return Score(correct=" ".join(a.split()).lower() == " ".join(b.split()).lower())
    return Score(correct=a == b)
