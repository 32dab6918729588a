"""Clinical calculators: typed inputs with units, a registry, agent tools and ledger evidence.

Public API::

    calculate(calculator_id, inputs, *, assume_normal=False, unknown="error") -> CalculatorResult
    find_calculator(query, limit=5) -> list[Calculator]
    get_calculator(calculator_id) -> Calculator
    all_calculators() -> dict[str, Calculator]
    result_to_evidence(writer, result) -> Evidence
    calculator_tools(ids=None, include_meta=True) -> list[StructuredTool]   (imports LangChain lazily)

Writing a calculator: see ``wardround.tools.calculators.base``.
"""

from __future__ import annotations

from typing import Any

from wardround.evidence import register_verifier
from wardround.tools.calculators.base import Calculator, CalculatorResult, Computed, calculator
from wardround.tools.calculators.ledger import result_to_evidence, verify_calculator_evidence
from wardround.tools.calculators.registry import all_calculators, calculate, find_calculator, get_calculator

register_verifier("calculator", verify_calculator_evidence)


def calculator_tools(ids: list[str] | None = None, include_meta: bool = True) -> list[Any]:
    """LangChain StructuredTools for the calculators (see ``tools.calculator_tools``)."""
    from wardround.tools.calculators.tools import calculator_tools as _tools

    return _tools(ids, include_meta)


__all__ = ["Calculator", "CalculatorResult", "Computed", "calculator", "all_calculators", "calculate",
           "find_calculator", "get_calculator", "result_to_evidence", "verify_calculator_evidence",
           "calculator_tools"]
