"""The public entry points: ``run`` a case through the ward graph and collect a ``WardResult``."""

from __future__ import annotations

import uuid
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


def new_thread_id() -> str:
    """A fresh checkpoint thread id (a random uuid): every run gets its own thread unless one is given."""
    return uuid.uuid4().hex


def check_thread_free(graph: Any, thread_id: str, where: str = "the checkpointer") -> None:
    """Refuse to start a new ward round on a thread that already holds one (finished or awaiting review).

    Running a second case on such a thread would merge its state into the old one (opinions and issues
    accumulate), so the report would mix two rounds. A graph without a checkpointer has no threads to check.
    """
    if getattr(graph, "checkpointer", None) in (None, False):
        return
    snapshot = graph.get_state({"configurable": {"thread_id": thread_id}})
    if not snapshot.values:
        return
    if snapshot.next:
        raise CaseError("thread_id", f"thread {thread_id!r} in {where} is paused, waiting for human review",
                        f"resume it with `wardround review {thread_id} --db ...`, or start a new ward round on "
                        "a new thread (omit --thread-id for a fresh one)")
    raise CaseError("thread_id", f"thread {thread_id!r} in {where} already holds a finished ward round",
                    "omit --thread-id (each run gets a fresh thread) or give a new --thread-id; a finished "
                    "thread is never reused, so two rounds cannot mix")


def run(case: Case | dict | str | Path, model: Any = "rules", *, graph: Any = None,
        thread_id: str | None = None, **options: Any) -> WardResult:
    """Run one case through the ward round and return the verified, cited result.

    Args:
        case: a ``Case``, a dict, a path to a JSON/YAML/text case file, or note text.
        model: ``"rules"`` (embedded reasoner, the default) or a chat-model spec.
        graph: a compiled graph to use instead of the default (e.g. one with a checkpointer).
        thread_id: checkpoint thread id (only meaningful with a checkpointer); default a fresh uuid per run. A
            thread that already holds a ward round is refused (``CaseError``), never merged into.
        **options: ``WardConfig`` fields, e.g. ``max_specialists=4``, ``specialties=[...]``.
    """
    c = as_case(case)
    cfg = WardConfig(model=model, **options)
    g = graph if graph is not None else _default_graph()
    tid = thread_id if thread_id is not None else new_thread_id()
    check_thread_free(g, tid)
    configurable: dict[str, Any] = {"ward": cfg, "thread_id": tid}
    state = g.invoke({"case": c}, {"configurable": configurable})
    return result_from_state(state)
