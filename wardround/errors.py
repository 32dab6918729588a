"""The project's small exception hierarchy: every message says what was wrong and how to fix it."""

from __future__ import annotations

from typing import Any


class WardroundError(Exception):
    """Base class of every error wardround raises on purpose."""


class InputError(WardroundError, ValueError):
    """Bad user input (a case, a calculator argument, a CLI option).

    The message names the field, the offending value and the fix, on one line.
    """

    def __init__(self, field: str, problem: str, fix: str | None = None, value: Any = None) -> None:
        self.field = field
        self.problem = problem
        self.fix = fix
        self.value = value
        shown = "" if value is None else f" (got {_short(value)})"
        message = f"{field}: {problem}{shown}"
        if fix:
            message += f"; {fix}"
        super().__init__(message)


class CaseError(InputError):
    """A clinical case failed validation or could not be loaded."""


class UnitError(InputError):
    """A unit was not recognised or not allowed for the quantity."""


class KnowledgeError(WardroundError):
    """The knowledge base files are inconsistent (unknown ids, bad likelihood ratios, missing references)."""


class CitationError(WardroundError):
    """A citation did not verify against the ledger and the case."""


class ConfigError(WardroundError, ValueError):
    """Invalid run configuration (model spec, specialty name, limits)."""


def _short(value: Any, limit: int = 60) -> str:
    # a bounded repr: a nested or huge value (a YAML alias bomb, a 5 MB string) must not be printed whole first
    import reprlib

    r = reprlib.Repr()
    r.maxstring = r.maxother = limit
    r.maxlist = r.maxtuple = r.maxdict = r.maxset = 4
    r.maxlevel = 2
    text = r.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
