"""The calculator registry: discovery of every calculator module, lookup, search and ``calculate``."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Mapping
from typing import Any

from wardround.errors import InputError
from wardround.tools.calculators import base
from wardround.tools.calculators.base import REGISTRY, Calculator, CalculatorResult

_NOT_CALCULATORS = {"base", "registry", "tools", "ledger"}
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
    exact = _exact_index().get(q)
    if exact is not None and limit == 1:
        return [exact]
    scored = [(_score(q, query, c), c.id, c) for c in REGISTRY.values()]
    scored = [s for s in scored if s[0] > 0]
    scored.sort(key=lambda s: (-s[0], s[1]))
    return [c for _, _, c in scored[:limit]]


_EXACT: dict[str, Calculator] = {}
_EXACT_SIZE = [0]


def _exact_index() -> dict[str, Calculator]:
    """Normalized id, name and synonyms -> calculator (rebuilt when calculators are added)."""
    if _EXACT_SIZE[0] != len(REGISTRY):
        _EXACT.clear()
        for c in REGISTRY.values():
            for n in (c.id, c.name, *c.synonyms):
                _EXACT.setdefault(base.normalize_key(n), c)
        _EXACT_SIZE[0] = len(REGISTRY)
    return _EXACT


_STOP = {"the", "and", "for", "score", "calculator", "index", "rule", "criteria", "with", "what", "patient",
         "of", "risk", "equation"}


def _score(q: str, raw: str, c: Calculator) -> float:
    """Rank: exact name/synonym match, then containment, close spelling, and shared words."""
    import difflib

    best = 0.0
    for n in (c.id, c.name, *c.synonyms):
        nk = base.normalize_key(n)
        if not nk:
            continue
        if nk == q:
            return 1000.0
        if min(len(q), len(nk)) >= 4 and (q in nk or nk in q):
            best = max(best, 60.0 + 20.0 * min(len(q), len(nk)) / max(len(q), len(nk)))
        sm = difflib.SequenceMatcher(None, q, nk)
        if sm.real_quick_ratio() >= 0.7 and sm.quick_ratio() >= 0.7:  # cheap upper bounds first
            ratio = sm.ratio()
            if ratio >= 0.7:
                best = max(best, 80.0 * ratio)
    words = {w for w in re.findall(r"[a-z0-9]+", raw.lower()) if len(w) > 2 and w not in _STOP}
    if words:
        name_words = set(re.findall(r"[a-z0-9]+", " ".join([c.id.replace("_", " "), c.name, *c.synonyms]).lower()))
        kw_words = set(re.findall(r"[a-z0-9]+", " ".join(c.keywords).lower()))
        best += sum(12.0 if w in name_words else 8.0 if w in kw_words else 0.0 for w in words)
    return best
