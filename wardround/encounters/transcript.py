"""A readable transcript of an encounter: one line per turn with its cost so far, then the cited diagnosis."""

from __future__ import annotations

from wardround.encounters.models import EncounterResult, TurnRecord


def turn_line(rec: TurnRecord) -> str:
    """One turn as text: number, question, answer, evidence id and cumulative cost."""
    who = "opening" if rec.turn == 0 else rec.action.kind.replace("_", " ")
    lead = f"  (leading: {rec.top[0][0]} {rec.top[0][1]:.2f})" if rec.top else ""
    return (f"T{rec.turn:>2} {who:<10} {rec.question} -> {rec.answer.text} [{rec.evidence_id}]  "
            f"${rec.cost_usd:,.0f} (total ${rec.cumulative_cost_usd:,.0f}){lead}")


def render_transcript(result: EncounterResult) -> str:
    """The whole encounter as plain text."""
    lines = [turn_line(t) for t in result.turns]
    lines.append(f"stopped: {result.stop_reason} after {result.questions} questions, cost ${result.cost_usd:,.0f}")
    dx = result.diagnosis or {}
    if dx:
        primary = dx["primary"]
        cites = ", ".join(primary.get("supporting") or [])
        lines.append(f"diagnosis: {primary['name']} (posterior {primary['probability']:.3f})"
                     + (f", for it [{cites}]" if cites else ""))
        against = ", ".join(primary.get("opposing") or [])
        if against:
            lines.append(f"  against it: [{against}]")
        names = [d["name"] for d in dx.get("differential") or []]
        if names:
            lines.append("differential: " + ", ".join(names))
        lines.append("citations: " + ("all verify" if result.verified else result.verification_message))
    return "\n".join(lines)
