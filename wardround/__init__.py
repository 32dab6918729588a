"""wardround: multi-agent clinical reasoning with a cited, machine-verified diagnosis.

The public API. Heavy modules (LangGraph, torch, MONAI) load only when first used.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from wardround._version import __version__

_LAZY = {
    "Case": "wardround.case",
    "Evidence": "wardround.evidence",
    "Ledger": "wardround.evidence",
    "Opinion": "wardround.report",
    "DifferentialItem": "wardround.report",
    "Diagnosis": "wardround.report",
    "TriageDecision": "wardround.report",
    "WardResult": "wardround.report",
    "WardConfig": "wardround.config",
    "WardroundError": "wardround.errors",
    "CaseError": "wardround.errors",
    "CitationError": "wardround.errors",
    "run": "wardround.api",
    "build_graph": "wardround.graphs.ward",
    "load_knowledge": "wardround.knowledge",
}

__all__ = [
    "Case",
    "CaseError",
    "CitationError",
    "Diagnosis",
    "DifferentialItem",
    "Evidence",
    "Ledger",
    "Opinion",
    "TriageDecision",
    "WardConfig",
    "WardResult",
    "WardroundError",
    "__version__",
    "build_graph",
    "load_knowledge",
    "run",
]

if TYPE_CHECKING:
    from wardround.api import run
    from wardround.case import Case
    from wardround.config import WardConfig
    from wardround.errors import CaseError, CitationError, WardroundError
    from wardround.evidence import Evidence, Ledger
    from wardround.graphs.ward import build_graph
    from wardround.knowledge import load_knowledge
    from wardround.report import Diagnosis, DifferentialItem, Opinion, TriageDecision, WardResult


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'wardround' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
