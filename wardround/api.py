"""The public entry points: ``run`` a case through the ward graph and collect a ``WardResult``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from wardround.case import Case
from wardround.config import WardConfig
from wardround.errors import CaseError
from wardround.evidence import Ledger
from wardround.report import WardResult


@lru_cache(maxsize=1)
def _default_graph() -> Any:
    """The ward graph without human review, built once per process.

    Built with the knowledge base, it and everything imported so far live for the process: they are moved out of
    the cyclic garbage collector's generations (``gc.freeze``), so that a full collection during a later ward
    round does not rescan them (otherwise a pause of about 10 ms every few runs).
    """
    import gc

    from wardround.graphs.ward import build_graph
    from wardround.knowledge import load_knowledge

    graph = build_graph(human_review=False)
    load_knowledge()
    gc.collect()
    gc.freeze()
    return graph


def as_case(case: Case | dict | str | Path) -> Case:
    """Accept a ``Case``, a dict, a path to a case file, or free note text."""
    if isinstance(case, Case):
        return case
    if isinstance(case, dict):
        return Case.from_dict(case)
    if isinstance(case, Path) or (isinstance(case, str) and len(case) < 4096 and "\n" not in case
                                  and case.lower().endswith((".json", ".yaml", ".yml", ".txt"))):
        return Case.from_file(case)
    if isinstance(case, str):
        return Case.from_text(case)
    raise CaseError("case", f"expected a Case, dict, file path or note text, not {type(case).__name__}",
                    "pass wardround.Case.from_file(path) or the note text")


def result_from_state(state: dict[str, Any]) -> WardResult:
    """Build the ``WardResult`` from a final graph state and re-verify every citation it contains."""
    result = WardResult(
        case=state["case"],
        triage=state.get("triage"),
        opinions=sorted(state.get("opinions") or [], key=lambda o: o.specialty),
        diagnosis=state.get("diagnosis"),
        ledger=Ledger(entries=dict(state.get("ledger") or {})),
        issues=list(state.get("issues") or []),
        usage=state.get("usage") or WardResult.model_fields["usage"].default_factory(),  # type: ignore[misc]
    )
    result.verified = bool(result.diagnosis and result.diagnosis.verification.verified and result.verify().ok)
    return result


def run(case: Case | dict | str | Path, model: Any = "rules", *, graph: Any = None,
        thread_id: str | None = None, **options: Any) -> WardResult:
    """Run one case through the ward round and return the verified, cited result.

    Args:
        case: a ``Case``, a dict, a path to a JSON/YAML/text case file, or note text.
        model: ``"rules"`` (embedded reasoner, the default) or a chat-model spec.
        graph: a compiled graph to use instead of the default (e.g. one with a checkpointer).
        thread_id: checkpoint thread id (only meaningful with a checkpointer).
        **options: ``WardConfig`` fields, e.g. ``max_specialists=4``, ``specialties=[...]``.
    """
    c = as_case(case)
    cfg = WardConfig(model=model, **options)
    g = graph if graph is not None else _default_graph()
    configurable: dict[str, Any] = {"ward": cfg}
    if thread_id is not None:
        configurable["thread_id"] = thread_id
    state = g.invoke({"case": c}, {"configurable": configurable})
    return result_from_state(state)
