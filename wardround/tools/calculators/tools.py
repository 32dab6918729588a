"""LangChain tools: one ``StructuredTool`` per calculator plus ``find_calculator`` and ``calculate`` meta-tools.

LangChain is imported only here (lazily, when tools are built), never on the compute path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, ValidationError

from wardround.errors import WardroundError
from wardround.tools.calculators.base import Calculator, CalculatorResult, _input_error
from wardround.tools.calculators.registry import all_calculators, find_calculator, get_calculator

if TYPE_CHECKING:
    from langchain_core.tools import BaseTool


def result_payload(result: CalculatorResult) -> dict[str, Any]:
    """The compact dict a model sees for one result."""
    out = {"calculator_id": result.calculator_id, "value": result.value, "unit": result.unit,
           "interpretation": result.interpretation, "explanation": result.explanation,
           "reference": result.reference, "inputs_used": result.inputs}
    if result.assumed:
        out["assumed_normal"] = result.assumed
    if result.warnings:
        out["warnings"] = result.warnings
    if result.parts:
        out["parts"] = result.parts
    return out


def describe_calculator(calc: Calculator) -> dict[str, Any]:
    """Id, name, category and each input with its accepted units/range (what a model needs to call it)."""
    return {"id": calc.id, "name": calc.name, "category": calc.category, "unit": calc.unit,
            "description": calc.description,
            "inputs": {f: {"description": i.description, "required": i.required,
                           "accepts": calc.describe_field(f).split(": ", 1)[1]} for f, i in calc.fields.items()}}


def _validation_handler(calc_id: str):
    def handle(exc: ValidationError) -> str:
        return f"error: {_input_error(calc_id, exc)}"
    return handle


def calculator_tool(calc: Calculator) -> BaseTool:
    """One calculator as a ``StructuredTool`` whose args schema is the calculator's input model."""
    from langchain_core.tools import StructuredTool, ToolException

    def run(**kwargs: Any) -> dict[str, Any]:
        try:
            return result_payload(calc.run({k: v for k, v in kwargs.items() if v is not None}))
        except WardroundError as exc:
            raise ToolException(f"error: {exc}") from None

    return StructuredTool.from_function(
        func=run, name=calc.id, description=f"{calc.name}: {calc.description} Result in {calc.unit or 'no unit'}.",
        args_schema=calc.model, handle_tool_error=True, handle_validation_error=_validation_handler(calc.id))


class FindCalculatorArgs(BaseModel):
    """Arguments of the find_calculator tool."""

    query: str = Field(description="what to compute, e.g. 'creatinine clearance' or 'pneumonia severity'")


class CalculateArgs(BaseModel):
    """Arguments of the calculate tool."""

    calculator_id: str = Field(description="a calculator id returned by find_calculator")
    inputs: dict[str, Any] = Field(description="input name -> value; quantities as '1.2 mg/dL', a number in the "
                                               "canonical unit, or [value, unit]")
    assume_normal: bool = Field(False, description="treat unmentioned findings as absent/normal")


def meta_tools() -> list[BaseTool]:
    """The ``find_calculator`` and ``calculate`` tools."""
    from langchain_core.tools import StructuredTool, ToolException

    def find(query: str) -> list[dict[str, Any]]:
        return [describe_calculator(c) for c in find_calculator(query, limit=5)]

    def calc(calculator_id: str, inputs: dict[str, Any], assume_normal: bool = False) -> dict[str, Any]:
        try:
            return result_payload(get_calculator(calculator_id).run(inputs, assume_normal=assume_normal))
        except WardroundError as exc:
            raise ToolException(f"error: {exc}") from None

    return [
        StructuredTool.from_function(func=find, name="find_calculator", args_schema=FindCalculatorArgs,
                                     description="Find clinical calculators by name or purpose; returns ids and "
                                                 "their inputs with accepted units."),
        StructuredTool.from_function(func=calc, name="calculate", args_schema=CalculateArgs, handle_tool_error=True,
                                     description="Run a clinical calculator by id with inputs (units converted "
                                                 "automatically); errors name the field to fix."),
    ]


def calculator_tools(ids: list[str] | None = None, include_meta: bool = True) -> list[BaseTool]:
    """StructuredTools for the given calculator ids (default: all) plus, optionally, the two meta-tools."""
    calcs = all_calculators()
    chosen = [calcs[i] if i in calcs else get_calculator(i) for i in ids] if ids is not None else list(calcs.values())
    tools = [calculator_tool(c) for c in chosen]
    return (meta_tools() + tools) if include_meta else tools
