"""Clinical calculators: typed inputs with units, a registry, agent tools and ledger evidence.

Public API: ``calculate``, ``find_calculator``, ``get_calculator``, ``all_calculators``, ``result_to_evidence``,
``calculator_tools`` (see ``registry``). Writing a calculator: see ``base``.
"""

from __future__ import annotations

from wardround.tools.calculators.base import CalculatorResult, Computed, calculator
from wardround.tools.calculators.registry import (
    all_calculators,
    calculate,
    find_calculator,
    get_calculator,
)

__all__ = ["CalculatorResult", "Computed", "calculator", "all_calculators", "calculate", "find_calculator",
           "get_calculator"]
