"""Solvers: turn an evaluation item into a prediction.

- ``WardSolver`` runs the ward graph (``wardround.run``) on the item's case with any model spec ("rules", a
  provider spec, or a LangChain chat model) and maps the ``WardResult`` to the dataset's answer;
- ``ChatSolver`` asks a chat model directly (one prompt, one answer) through wardround's ``ChatClient``, so
  tokens, cost and retries are counted the same way as inside the graph.

Both are picklable (the Ray backend ships them to workers): heavy objects are built on first call.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from wardround.evals.tasks import EvalItem, Prediction
from wardround.report import Usage, WardResult

#: ward result -> (prediction, extra fields for the record)
AnswerFn = Callable[[EvalItem, WardResult], tuple[Any, dict[str, Any]]]
#: item -> (system prompt, user prompt)
PromptFn = Callable[[EvalItem], tuple[str, str]]
#: (item, model text) -> (prediction, extra)
ParseFn = Callable[[EvalItem, str], tuple[Any, dict[str, Any]]]


def primary_name(item: EvalItem, result: WardResult) -> tuple[Any, dict[str, Any]]:
    """The attending's primary diagnosis name, with the ranked differential as extra."""
    d = result.diagnosis
    if d is None:
        return None, {"differential": []}
    if not d.supported:
        return None, {"differential": [], "abstained": True,
                      "reason": "no condition of the knowledge base is supported by the case"}
    return d.primary.name, {"differential": [{"condition": x.condition, "name": x.name,
                                              "probability": round(x.probability, 4)} for x in d.differential],
                            "verified": result.verified}


_SECRET_RE = re.compile(r"(api_key=)[^&\s]+", re.IGNORECASE)


def redact(text: str) -> str:
    """Hide an ``api_key=...`` option of a spec string (manifests and fingerprints never hold keys)."""
    return _SECRET_RE.sub(r"\1***", text)


def model_label(model: Any) -> str:
    """A printable label of a model spec (for manifests), with any API key hidden."""
    if model is None or isinstance(model, str):
        return redact(model) if model else "rules"
    spec = getattr(model, "spec", None)
    if isinstance(spec, str):
        return spec
    for attr in ("model_name", "model", "model_id"):
        v = getattr(model, attr, None)
        if isinstance(v, str) and v:
            return f"{type(model).__name__}:{v}"
    return type(model).__name__


class WardSolver:
    """Run the ward graph on ``item.case`` and map the result with ``answer``.

    A ``CaseError`` (e.g. a question stem without any finding the ward can use) is recorded as an abstention
    with its reason unless ``abstain_on_case_error=False``.
    """

    def __init__(self, model: Any = "rules", answer: AnswerFn = primary_name, *, abstain_on_case_error: bool = True,
                 **options: Any) -> None:
        self.model = model
        self.answer = answer
        self.abstain_on_case_error = abstain_on_case_error
        self.options = options

    def __call__(self, item: EvalItem) -> Prediction:
        from wardround.api import run
        from wardround.errors import CaseError

        if item.case is None:
            raise ValueError(f"item {item.id!r} has no case for the ward solver")
        try:
            result = run(item.case, model=self.model, **self.options)
        except CaseError as exc:
            if not self.abstain_on_case_error:
                raise
            # the ward declines a case it has nothing to reason on: an abstention, not a harness error
            return Prediction(prediction=None, extra={"abstained": True, "reason": str(exc)})
        prediction, extra = self.answer(item, result)
        if result.diagnosis is not None:
            extra.setdefault("primary", result.diagnosis.primary.name)
        if result.issues:
            extra["issues"] = result.issues[:10]
        return Prediction(prediction=prediction, usage=result.usage, cited=result.cited_ids(), extra=extra, raw=result)

    def label(self) -> str:
        """Describe the solver for the manifest."""
        return f"ward({model_label(self.model)})"


class ChatSolver:
    """Ask a chat model once per item (``prompt``), read its answer (``parse``); usage via ``ChatClient``."""

    def __init__(self, model: Any, prompt: PromptFn, parse: ParseFn) -> None:
        self.model = model
        self.prompt = prompt
        self.parse = parse
        self._client: Any = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_client"] = None
        return state

    def client(self) -> Any:
        """The cached ``ChatClient`` (built on first use)."""
        if self._client is None:
            from wardround.llm import get_client

            self._client = get_client(self.model)
            if self._client is None:
                raise ValueError("the chat solver needs a chat model; 'rules' has no text interface "
                                 "(use the ward solver for the embedded reasoner)")
        return self._client

    def __call__(self, item: EvalItem) -> Prediction:
        from langchain_core.messages import HumanMessage, SystemMessage

        from wardround.llm import Meter, message_text

        system, user = self.prompt(item)
        meter = Meter()
        t0 = time.perf_counter()
        message = self.client().invoke([SystemMessage(system), HumanMessage(user)], meter, agent="eval")
        text = message_text(message)
        prediction, extra = self.parse(item, text)
        extra["response"] = text[:2000]
        usage = meter.usage("eval").model_copy(update={"seconds": {"chat": round(time.perf_counter() - t0, 6)}})
        return Prediction(prediction=prediction, usage=usage, extra=extra, raw=text)

    def label(self) -> str:
        """Describe the solver for the manifest."""
        return f"chat({model_label(self.model)})"


def add_usage(a: Usage, b: Usage) -> Usage:
    """Sum two usages (tokens, cost, calls, per-node seconds)."""
    return a + b
