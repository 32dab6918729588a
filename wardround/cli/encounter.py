"""`wardround encounter CASE`: run one sequential encounter and print its transcript as it happens.

CASE is a DDXPlus patients CSV (or zip) and ``--row`` picks the patient: the rules doctor asks one question per
turn by expected information gain; the gatekeeper answers from the row only. CASE may also be a wardround case
file: its note is split into history, examination and tests, a protocol doctor asks, examines and orders tests,
and the ward diagnoses on what was revealed. With ``--db`` every step is
checkpointed (SQLite file or ``postgresql://`` URL), and rerunning the same command resumes the encounter.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def encounter_command(
    case: Annotated[Path, typer.Argument(help="DDXPlus patients CSV/zip (release files beside it or --kb-dir), "
                                              "or a wardround case JSON/YAML")],
    row: Annotated[int, typer.Option("--row", min=0, help="patient row (0 = first patient)")] = 0,
    kb_dir: Annotated[Path | None, typer.Option("--kb-dir", help="folder of the DDXPlus release files")] = None,
    fit: Annotated[Path | None, typer.Option("--fit", help="patients CSV to fit the reasoner on (default: the "
                                                            "other rows of CASE, never the row interviewed)")] = None,
    max_turns: Annotated[int, typer.Option("--max-turns", min=0, help="questions allowed after the opening")] = 30,
    budget: Annotated[float | None, typer.Option("--budget", min=0, help="money budget in US$")] = None,
    threshold: Annotated[float, typer.Option("--threshold", min=0.0, help="diagnose when the leading posterior "
                                                                           "reaches this")] = 0.99,
    test_prices: Annotated[Path | None, typer.Option("--test-prices", help="CSV price table (test_name, cpt_code, "
                                                                            "price); approximate prices")] = None,
    visit_fee: Annotated[float, typer.Option("--visit-fee", min=0, help="US$ per question round")] = 300.0,
    model: Annotated[str, typer.Option("--model", help="doctor: 'rules' or a chat-model spec (tool calls for "
                                                        "actions), e.g. openai:gpt-4o-mini")] = "rules",
    db: Annotated[str | None, typer.Option("--db", help="checkpoint store: SQLite file or postgresql:// URL")] = None,
    thread: Annotated[str | None, typer.Option("--thread", help="checkpoint thread id (default: the case key)")] = None,
    pause: Annotated[float, typer.Option("--pause", min=0.0, help="seconds to wait in each turn (demonstrations)",
                                         hidden=True)] = 0.0,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON instead of a transcript")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="show tracebacks")] = False,
) -> None:
    """Interview one patient turn by turn (ask / examine / order test / diagnose) and print the transcript."""
    from wardround.cli.common import fail, handle_errors

    if not case.is_file():
        fail("CASE", f"file {str(case)!r} does not exist", "give a DDXPlus patients CSV")
    is_case_file = case.suffix.lower() in (".json", ".yaml", ".yml")
    with handle_errors(debug):
        import contextlib

        from wardround.encounters import (
            DDXPlusGatekeeper,
            EncounterConfig,
            PriceTable,
            RulesDDXPlusDoctor,
            load_price_table,
            render_transcript,
            run_encounter,
        )
        from wardround.encounters.transcript import turn_line
        from wardround.evals.ddxplus import DDXPlusReasoner, DDXPlusRelease, load_ddxplus
        from wardround.graphs.checkpoint import open_checkpointer

        prices = (load_price_table(test_prices, visit_fee_usd=visit_fee) if test_prices is not None
                  else PriceTable(visit_fee_usd=visit_fee))
        config = EncounterConfig(max_turns=max_turns, budget_usd=budget)
        gold = None
        if is_case_file:  # setting 3: a wardround case, its note split into history, examination and tests
            from wardround.case import Case
            from wardround.encounters.case_encounter import CaseGatekeeper, ProtocolCaseDoctor

            hidden = Case.from_file(case)
            gatekeeper = CaseGatekeeper(hidden)
            doctor = ProtocolCaseDoctor(gatekeeper)
            who = f"{hidden.id} ({f'{hidden.age:g} y, ' if hidden.age is not None else ''}{hidden.sex})"
        else:
            release = DDXPlusRelease.from_dir(kb_dir if kb_dir is not None else case.parent)
            items = load_ddxplus(case, release=release)
            if row >= len(items):
                fail("--row", f"{case.name} has {len(items)} patients (rows 0-{len(items) - 1})",
                     "pick a row in range")
            item = items[row]
            gold = item.pathology
            train = load_ddxplus(fit, release=release) if fit is not None else items[:row] + items[row + 1:]
            reasoner = DDXPlusReasoner(release).fit(train)
            doctor = RulesDDXPlusDoctor(reasoner, threshold=threshold, age=item.age, sex=item.sex)
            gatekeeper = DDXPlusGatekeeper(item, release)
            who = f"{item.id} ({item.age:g} y, {item.sex})"
        if model != "rules":
            from wardround.encounters.llm_doctor import LLMDoctor

            doctor = LLMDoctor(model, max_turns=max_turns)
        if not as_json:
            typer.echo(f"encounter {who}; doctor {doctor.name}, budget "
                       f"{max_turns} questions" + (f", ${budget:,.0f}" if budget is not None else "")
                       + (f"; test prices from {test_prices} (approximate)" if test_prices else ""))
        printer = None if as_json else (lambda rec: typer.echo(turn_line(rec)))
        ctx = open_checkpointer(db) if db else contextlib.nullcontext(None)
        with ctx as saver:
            result = run_encounter(gatekeeper, doctor, config, prices, checkpointer=saver, thread_id=thread,
                                   on_turn=printer, pause_s=pause)
        if as_json:
            typer.echo(json.dumps({"gold": gold, **result.model_dump(mode="json")}, indent=2))
            return
        typer.echo(render_transcript(result).split("\n", len(result.turns))[-1])
        if result.usage:
            typer.echo(f"model usage: {result.usage['calls']} calls, {result.usage['input_tokens']} / "
                       f"{result.usage['output_tokens']} tokens in / out, ${result.usage['cost_usd']:.4f}")
        if gold is not None:
            typer.echo(f"gold pathology (hidden from the doctor): {gold}")
