"""Shared helpers of the clinical scores: a point tally that writes the explanation, and flag-or-choice inputs.

This module registers no calculator; the ``scores_*`` modules import it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema

from wardround.errors import InputError
from wardround.tools.calculators.base import choice

__all__ = ["Tally", "flag_choice", "fmt", "band"]


def fmt(value: float | int) -> str:
    """Short number text: integers without a decimal point, others with up to 4 significant digits."""
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return f"{value:.4g}"


class Tally:
    """Adds item points and records one explanation line per item ("item: finding -> +N points").

    Example::

        t = Tally("CURB-65")
        t.add("confusion", x.confusion, 1)
        t.add("age >= 65", f"{x.age:g} years", 1 if x.age >= 65 else 0)
        t.total  # the score
        t.steps  # the explanation, ending with the sum
    """

    def __init__(self, name: str, start: float = 0) -> None:
        self.name = name
        self.total: float = start
        self.items: list[tuple[str, float]] = []
        self.steps: list[str] = []

    def add(self, item: str, finding: Any, points: float, rule: str = "") -> float:
        """Add ``points`` for ``item``; ``finding`` is shown as given (booleans as present/absent)."""
        shown = ("present" if finding else "absent") if isinstance(finding, bool) else str(finding)
        sign = "+" if points >= 0 else "-"
        why = f" ({rule})" if rule else ""
        self.steps.append(f"{item}: {shown}{why} -> {sign}{fmt(abs(points))} point{'s' if abs(points) != 1 else ''}")
        self.items.append((item, points))
        self.total += points
        return points

    def note(self, text: str) -> None:
        """Add an explanation line that carries no points (a derived value, an assumption)."""
        self.steps.append(text)

    def finish(self, unit: str = "points") -> list[str]:
        """The explanation with a final line summing every item."""
        terms = " + ".join(fmt(p) for _, p in self.items) or "0"
        return [*self.steps, f"{self.name} = {terms} = {fmt(self.total)} {unit}".replace("+ -", "- ")]

    @property
    def value(self) -> int | float:
        """The total as an int when it is whole (scores), else a float (half points of Wells' PE)."""
        return int(self.total) if float(self.total).is_integer() else self.total


def flag_choice(options: Mapping[str, Iterable[str]], *, if_true: str, if_false: str) -> Any:
    """Categorical input that also accepts a boolean: True -> ``if_true``, False -> ``if_false``.

    Sources report some graded items as yes/no (MedCalc-Bench gives Charlson's solid tumour as ``True``);
    a bare "present" then means the mildest positive grade, "absent" the zero grade.
    """
    inner = choice(options)
    validator = next(m for m in inner.__metadata__ if isinstance(m, BeforeValidator)).func
    keys = list(options)
    if if_true not in options or if_false not in options:
        raise ValueError("if_true and if_false must be options")

    def _validate(raw: Any, info: Any) -> str:
        if isinstance(raw, bool):
            return if_true if raw else if_false
        if isinstance(raw, str) and raw.strip().lower() in {"true", "yes", "present", "positive"}:
            return if_true
        if isinstance(raw, str) and raw.strip().lower() in {"false", "no", "absent", "negative"}:
            return if_false
        try:
            return validator(raw, info)
        except InputError:
            raise InputError(info.field_name or "choice", "not one of the accepted options", value=raw,
                             fix=f"use one of: {', '.join(keys)} (or true/false)") from None

    return Annotated[str, BeforeValidator(_validate), WithJsonSchema({"type": "string", "enum": keys})]


def band(value: float, bands: Iterable[tuple[float, str]], last: str) -> str:
    """The label of the first band whose upper bound (inclusive) is >= value, else ``last``."""
    for upper, label in bands:
        if value <= upper:
            return label
    return last
