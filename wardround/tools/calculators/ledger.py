"""Calculator results as ledger evidence, and the verifier that recomputes them from their recorded inputs."""

from __future__ import annotations

from collections.abc import Sequence

from wardround.evidence import Evidence, EvidenceWriter, values_match
from wardround.tools.calculators.base import CalculatorResult

TOOL_PREFIX = "calculator:"


def result_to_evidence(writer: EvidenceWriter, result: CalculatorResult, *, finding: str | None = None,
                       present: bool | None = None, derived_from: Sequence[str] = ()) -> Evidence:
    """Record one calculator result as ``kind="tool"`` evidence (value, unit, canonical inputs, reference).

    ``derived_from`` names the evidence the inputs were read from, so verification re-checks those too.
    """
    statement = result.text()
    if result.assumed:
        statement += f"; assumed normal: {', '.join(result.assumed)}"
    return writer.add("tool", statement, tool=f"{TOOL_PREFIX}{result.calculator_id}", inputs=dict(result.inputs),
                      value=result.value, unit=result.unit, reference=result.reference, finding=finding,
                      present=present, derived_from=list(dict.fromkeys(derived_from)))


def verify_calculator_evidence(ev: Evidence) -> str | None:
    """Recompute a calculator evidence item from its recorded inputs; ``None`` when the value matches."""
    from wardround.errors import WardroundError
    from wardround.tools.calculators.registry import calculate

    tool = ev.tool or ""
    if not tool.startswith(TOOL_PREFIX):
        return f"not calculator evidence ({tool!r})"
    calc_id = tool[len(TOOL_PREFIX):]
    try:
        result = calculate(calc_id, ev.inputs or {})
    except WardroundError as exc:
        return f"recorded inputs do not recompute: {exc}"
    if not values_match(result.value, ev.value, rel=1e-9, abs_tol=1e-9):
        return f"{calc_id} recomputes to {result.value!r}, not the recorded {ev.value!r}"
    if ev.unit is not None and ev.unit != result.unit:
        return f"{calc_id} gives unit {result.unit!r}, not the recorded {ev.unit!r}"
    return None
