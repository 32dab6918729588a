"""Calculator auto-fill as the agents use it: fill a calculator's inputs from a case, cite them, compute.

The work lives beside the calculators it serves (``wardround.tools.calculators``): the note's facts come from
the one reader per note (``wardround.extract.reader``), inputs are mapped by ``resolvers.py`` over
``inputs.CaseFacts``, cited by ``citations.py`` and filled by ``autofill.py``; the calculator a question asks for
is chosen by ``choose.py``. This module is the agent-side entry point the rules specialist and the evaluations
import.
"""

from __future__ import annotations

from wardround.tools.calculators.autofill import (
    AUTOFILL_PREFIX,
    AutofillResult,
    Policy,
    autofill,
    run_autofilled,
)
from wardround.tools.calculators.choose import choose_calculator

__all__ = ["AUTOFILL_PREFIX", "AutofillResult", "Policy", "autofill", "choose_calculator", "run_autofilled"]
