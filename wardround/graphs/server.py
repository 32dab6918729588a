"""The ward graph as LangGraph Server serves it (``langgraph dev``, ``langgraph up``); named in ``langgraph.json``.

The server brings its own checkpointer and thread store, so the graphs here are compiled without one. Inputs
are JSON: ``{"case": {...}}`` takes the fields of a ``Case`` (or ``{"case": "note text"}``), and run options
travel as ``config={"configurable": {"ward": {...WardConfig fields...}}}``, exactly as with ``graph.invoke``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wardround.graphs.state import WardState
from wardround.graphs.ward import build_graph

graph = build_graph()
"""The ward round; it pauses for human review when ``configurable.ward.human_review`` is true."""

review_graph = build_graph(human_review=True)
"""The ward round that always pauses at the attending for review (resume with ``Command(resume={...})``)."""


def state_from_json(values: Mapping[str, Any]) -> dict[str, Any]:
    """A ward state the server returned as JSON (``runs.wait``, ``threads.get_state``) validated back into models.

    Keys that are not ``WardState`` fields (``__interrupt__``, ``__error__``) are left out; pass the result to
    ``wardround.api.result_from_state`` for a re-verified ``WardResult``.
    """
    from typing import get_type_hints

    from pydantic import TypeAdapter

    hints = get_type_hints(WardState)  # per key: pydantic validates a typing.TypedDict whole only on 3.12+
    return {k: TypeAdapter(hints[k]).validate_python(v) for k, v in values.items() if k in hints}
