"""The calculator registry: discovery of every calculator module, lookup, search and ``calculate``."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from typing import Any

from wardround.errors import InputError
from wardround.tools.calculators import base
from wardround.tools.calculators.base import REGISTRY, Calculator, CalculatorResult

_NOT_CALCULATORS = {"base", "registry", "tools", "evidence"}
_loaded = False


def load_all() -> None:
    """Import every module of this package once so that each calculator registers itself."""
    global _loaded
    if _loaded:
        return
    pkg = importlib.import_module("wardround.tools.calculators")
    for mod in pkgutil.iter_modules(pkg.__path__):
        if mod.name not in _NOT_CALCULATORS and not mod.name.startswith("_"):
            importlib.import_module(f"{pkg.__name__}.{mod.name}")
    _loaded = True


def all_calculators() -> dict[str, Calculator]:
    """Every registered calculator by id."""
    load_all()
    return dict(REGISTRY)


def get_calculator(calculator_id: str) -> Calculator:
    """The calculator with this id; an unknown id raises ``InputError`` naming the closest ids."""
    load_all()
    calc = REGISTRY.get(calculator_id)
    if calc is None:
        calc = REGISTRY.get(calculator_id.strip().lower().replace("-", "_").replace(" ", "_"))
    if calc is None:
        import difflib

        close = difflib.get_close_matches(calculator_id, list(REGISTRY), n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise InputError("calculator_id", f"unknown calculator {calculator_id!r}",
                         f"{hint}use find_calculator(query) or `wardround calc list`", value=None)
    return calc


def calculate(calculator_id: str, inputs: Mapping[str, Any], *, assume_normal: bool = False,
              unknown: str = "error") -> CalculatorResult:
    """Run one calculator on raw inputs (names may be aliases, quantities may carry units)."""
    return get_calculator(calculator_id).run(inputs, assume_normal=assume_normal, unknown=unknown)  # type: ignore[arg-type]


def find_calculator(query: str, limit: int = 5) -> list[Calculator]:
    """Calculators ranked by how well ``query`` matches their id, name, synonyms and keywords."""
    load_all()
    q = base.normalize_key(query)
    scored = [(_score(q, query, c), c.id, c) for c in REGISTRY.values()]
    scored = [s for s in scored if s[0] > 0]
    scored.sort(key=lambda s: (-s[0], s[1]))
    return [c for _, _, c in scored[:limit]]


def _score(q: str, raw: str, c: Calculator) -> float:
    import difflib

    names = [c.id, c.name, *c.synonyms]
    best = 0.0
    for n in names:
        nk = base.normalize_key(n)
        if not nk:
            continue
        if nk == q:
            return 100.0
        ratio = difflib.SequenceMatcher(None, q, nk).ratio()
        best = max(best, 60.0 * ratio, 50.0 if (q in nk or nk in q) and min(len(q), len(nk)) >= 3 else 0.0)
    words = {w for w in raw.lower().replace("-", " ").split() if len(w) > 2}
    text = " ".join([c.name, *c.synonyms, *c.keywords]).lower()
    hits = sum(1 for w in words if w in text)
    return best + 10.0 * hits
