"""How models show themselves (``_repr_html_``, ``to_text``, ``to_markdown``) without importing their renderers.

The renderers (``wardround.render``) sit above the models they render (case, evidence, report), so a model
cannot import them (DESIGN.md, "Imports point one way"). A model calls ``to_html(self)`` here instead; each
function is a ``functools.singledispatch`` generic on which the renderers register one implementation per
model class. When a format is asked for before any renderer has registered, the default renderers
(``wardround.render``) are loaded by name, the plug-in pattern of the evidence verifiers
(``wardround.evidence``): this module itself imports nothing of wardround.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import singledispatch
from importlib import import_module
from typing import Any

#: The module whose import registers the default renderers.
DEFAULT_RENDERERS = "wardround.render"


def _generic(fmt: str) -> Callable[..., str]:
    def fallback(obj: Any, *args: Any, **kwargs: Any) -> str:
        import_module(DEFAULT_RENDERERS)  # registers the default renderers (once: later imports are no-ops)
        impl = generic.dispatch(type(obj))
        if impl is fallback:
            raise TypeError(f"no {fmt} renderer is registered for {type(obj).__name__}; register one with "
                            f"wardround.display.to_{fmt.lower()}.register({type(obj).__name__}, function)")
        return impl(obj, *args, **kwargs)

    generic = singledispatch(fallback)
    return generic


#: ``to_html(obj)``: an HTML block for a case, ledger, opinion, diagnosis or ward result.
to_html = _generic("HTML")
#: ``to_text(obj, ...)``: a plain-text report of a diagnosis or ward result.
to_text = _generic("text")
#: ``to_markdown(obj, ...)``: a Markdown report of a diagnosis or ward result.
to_markdown = _generic("Markdown")

__all__ = ["DEFAULT_RENDERERS", "to_html", "to_markdown", "to_text"]
