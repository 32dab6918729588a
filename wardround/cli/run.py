"""``wardround run``, ``wardround review`` and ``wardround graph``."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from wardround.cli.common import console, fail, handle_errors


def run_command(
    case: Annotated[str, typer.Argument(help="Case file (.json, .yaml or .txt note).")],
    model: Annotated[str, typer.Option("--model", "-m", help="'rules' (embedded reasoner) or a chat-model spec, e.g. "
                                       "'openai:gpt-4o-mini' or 'hf:./my-model' (see docs/llm.md).")] = "rules",
    triage_model: Annotated[str | None, typer.Option("--triage-model", help="Model spec for triage only.")] = None,
    specialist_model: Annotated[str | None, typer.Option("--specialist-model", help="Model spec for the specialists.")] = None,
    attending_model: Annotated[str | None, typer.Option("--attending-model", help="Model spec for the attending.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the WardResult as JSON.")] = False,
    stream: Annotated[bool, typer.Option("--stream", help="Show each node's update, and a model's tokens, tool calls "
                                         "and new evidence, as they happen.")] = False,
    thread_id: Annotated[str | None, typer.Option("--thread-id", help="Checkpoint thread id (with --db).")] = None,
    db: Annotated[Path | None, typer.Option("--db", help="SQLite checkpoint file; a thread can resume from it.")] = None,
    review: Annotated[bool, typer.Option("--review", help="Pause at the attending for human review (needs --db).")] = False,
    max_specialists: Annotated[int, typer.Option("--max-specialists", min=1, max=12)] = 3,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print the report as Markdown.")] = False,
    knowledge: Annotated[Path | None, typer.Option("--knowledge", help="Folder of an alternative knowledge base.")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    log_text: Annotated[bool, typer.Option("--log-text", help="Let logs carry note text (off: every log line is "
                                           "scrubbed of the case's note and of PHI patterns).")] = False,
) -> None:
    """Run one case through the ward round and print the cited diagnosis."""
    with handle_errors(debug), contextlib.ExitStack() as stack:
        from wardround.api import as_case, result_from_state
        from wardround.case import Expected, load_case_file
        from wardround.config import WardConfig
        from wardround.redact import scrubbed_logs

        logs = stack.enter_context(scrubbed_logs(enabled=not log_text))
        expected: Expected | None = None
        if Path(case).suffix:  # a case file: its gold label is read beside the case, never into it
            loaded = load_case_file(Path(case))
            c, expected = loaded.case, loaded.expected
        else:
            c = as_case(case)
        if logs is not None:
            logs.add_source(c.note, c.chief_complaint, c.question)
        if review and db is None:
            fail("--review", "human review needs a checkpoint to resume from", "add --db PATH --thread-id ID")
        cfg = WardConfig(model=model, triage_model=triage_model, specialist_model=specialist_model,
                         attending_model=attending_model, max_specialists=max_specialists, human_review=review,
                         knowledge=str(knowledge) if knowledge else None)
        with _graph(db) as graph:
            configurable: dict[str, Any] = {"ward": cfg.model_dump(mode="json"),
                                            "thread_id": thread_id or c.id}
            config = {"configurable": configurable}
            inputs = {"case": c}
            if stream and not as_json:
                state = _stream(graph, inputs, config)
            else:
                state = graph.invoke(inputs, config)
            if db is not None:
                pending = graph.get_state(config)
                if pending.next:
                    _print_pending(pending, thread_id or c.id, db, as_json)
                    return
            result = result_from_state(state)
        _print_result(result, as_json, markdown, expected)
        if not result.verified:
            raise typer.Exit(1)


def review_command(
    thread_id: Annotated[str, typer.Argument(help="Thread id of the paused ward round.")],
    db: Annotated[Path, typer.Option("--db", help="SQLite checkpoint file holding the thread.")],
    approve: Annotated[bool, typer.Option("--approve", help="Approve the primary diagnosis.")] = False,
    override: Annotated[str | None, typer.Option("--override", help="Condition to make primary instead.")] = None,
    comment: Annotated[str, typer.Option("--comment", help="Reviewer's comment, recorded in the report.")] = "",
    reviewer: Annotated[str, typer.Option("--reviewer")] = "reviewer",
    as_json: Annotated[bool, typer.Option("--json")] = False,
    debug: Annotated[bool, typer.Option("--debug")] = False,
) -> None:
    """Resume a ward round paused at human review: approve it or override the primary diagnosis."""
    with handle_errors(debug):
        from langgraph.types import Command

        from wardround.api import result_from_state

        if approve == (override is not None):
            fail("--approve/--override", "give exactly one of them", "e.g. --approve or --override 'Pneumonia'")
        if not db.is_file():
            fail("--db", f"checkpoint file {str(db)!r} does not exist", "use the --db of the paused run")
        answer = {"action": "approve"} if approve else {"action": "override", "primary": override}
        answer.update(reviewer=reviewer, comment=comment)
        with _graph(db) as graph:
            config = {"configurable": {"thread_id": thread_id}}
            snapshot = graph.get_state(config)
            if not snapshot.next:
                fail("thread_id", f"thread {thread_id!r} is not waiting for review", "check the thread id")
            state = graph.invoke(Command(resume=answer), config)
            result = result_from_state(state)
        _print_result(result, as_json, False)


def graph_command() -> None:
    """Print the ward graph as a Mermaid diagram (renders offline in Markdown viewers and notebooks)."""
    from wardround.graphs.ward import build_graph

    typer.echo(build_graph(human_review=True).get_graph().draw_mermaid())


@contextlib.contextmanager
def _graph(db: Path | None):
    from wardround.graphs.ward import build_graph

    if db is None:
        yield build_graph()
        return
    from wardround.graphs.checkpoint import sqlite_checkpointer

    with sqlite_checkpointer(db) as saver:
        yield build_graph(checkpointer=saver)


def _stream(graph: Any, inputs: dict, config: dict) -> dict:
    """Stream node updates, model tokens and tool events live, and return the final state (one graph run)."""
    state: dict = {}
    live = _LiveTokens()
    for mode, chunk in graph.stream(inputs, config, stream_mode=["updates", "values", "messages", "custom"]):
        if mode == "values":
            state = chunk
        elif mode == "messages":
            message, metadata = chunk
            text = message.content if isinstance(message.content, str) else ""
            if text:
                live.token(str(metadata.get("wardround_agent") or metadata.get("langgraph_node") or "model"), text)
        elif mode == "custom":
            if isinstance(chunk, dict) and "event" in chunk:
                live.line(f"[magenta]{_short_agent(chunk.get('agent', '')):>10}[/] {_describe_event(chunk)}")
        else:
            for node, update in chunk.items():
                if node == "__interrupt__" or not isinstance(update, dict):
                    continue
                live.line(f"[bold cyan]{node:>10}[/] {_describe(node, update)}")
    live.end()
    return state


class _LiveTokens:
    """Prints model tokens as they arrive, one line per agent, and event lines in between."""

    def __init__(self) -> None:
        self.agent: str | None = None

    def token(self, agent: str, text: str) -> None:
        if agent != self.agent:
            self.end()
            console.print(f"[dim]{_short_agent(agent):>10} >[/] ", end="", highlight=False)
            self.agent = agent
        console.print(text.replace("\n", " "), end="", markup=False, highlight=False, soft_wrap=True)

    def line(self, text: str) -> None:
        self.end()
        console.print(text, highlight=False, soft_wrap=True)

    def end(self) -> None:
        if self.agent is not None:
            console.print()
            self.agent = None


def _short_agent(agent: str) -> str:
    return agent.split(":", 1)[1] if agent.startswith("specialist:") else agent


def _describe_event(event: dict) -> str:
    kind = event.get("event")
    if kind == "tool_call":
        args = json.dumps(event.get("args"), default=str)
        return f"calls [bold]{event.get('tool')}[/] {args[:160]}"
    if kind == "tool_result":
        if event.get("ok"):
            return f"{event.get('tool')} -> ok"
        return f"{event.get('tool')} -> [red]{str(event.get('content'))[:160]}[/]"
    if kind == "evidence":
        return f"new evidence [bold][{event.get('id')}][/] {event.get('statement')}"
    if kind == "retry":
        return f"[yellow]retry[/] after {event.get('error')} (waiting {event.get('wait')} s)"
    if kind == "repair":
        return f"[yellow]asked to repair[/]: {event.get('request')}"
    if kind == "fallback":
        return f"[red]fell back to the embedded reasoner[/]: {event.get('reason')}"
    return json.dumps(event, default=str)[:200]


def _describe(node: str, update: dict) -> str:
    if node == "intake":
        return f"{len(update.get('ledger') or {})} evidence items from the case"
    if node == "triage":
        t = update.get("triage")
        return f"consult {', '.join(t.specialties)}" if t else ""
    if node == "specialist":
        ops = update.get("opinions") or []
        if not ops:
            return "; ".join(update.get("issues") or []) or "no opinion"
        op = ops[0]
        p = op.primary
        return f"{op.specialty}: {p.name} {p.probability:.0%}" if p else op.specialty
    if node == "attending":
        d = update.get("diagnosis")
        return f"primary {d.primary.name}; {'verified' if d.verification.verified else 'NOT verified'}" if d else ""
    if node == "review":
        r = update.get("review")
        return f"{r.action} {r.primary or ''}" if r else "; ".join(update.get("issues") or [])
    return ""


def _expected_text(expected: Any) -> str:
    """`` - expected: ...`` from a case file's ``Expected`` block, or ``""``."""
    if expected is None:
        return ""
    if expected.diagnosis:
        return f" - expected: {expected.diagnosis}" + (" (not supported)" if expected.supported is False else "")
    if expected.supported is False:
        return " - expected: no supported diagnosis"
    return ""


def _print_pending(snapshot: Any, thread_id: str, db: Path, as_json: bool) -> None:
    payload = [i.value for t in snapshot.tasks for i in t.interrupts]
    if as_json:
        typer.echo(json.dumps({"status": "awaiting_review", "thread_id": thread_id, "interrupt": payload}, indent=2))
        return
    info = payload[0] if payload else {}
    console.print(f"[bold yellow]Awaiting human review[/] (thread {thread_id}): primary "
                  f"[bold]{info.get('primary', '?')}[/]")
    for line in info.get("differential", []):
        console.print(f"  - {line}")
    console.print(f"Resume with: wardround review {thread_id} --db {db} --approve  "
                  "(or --override 'Condition name' --comment '...')")


def _print_result(result: Any, as_json: bool, markdown: bool, expected: Any = None) -> None:
    """Print the result; ``expected`` (the case file's gold label, if any) is shown beside the case id."""
    if as_json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
        return
    if markdown:
        typer.echo(result.to_markdown())
        return
    d = result.diagnosis
    if d is None:
        console.print("[red]no diagnosis[/]")
        return
    style = "green" if result.verified else "red"
    from rich.markup import escape

    console.print(f"[bold]Case {escape(result.case.id)}[/]{escape(_expected_text(expected))}", highlight=False)
    if result.triage:
        console.print(f"[dim]{result.triage.rationale}[/]", highlight=False, soft_wrap=True)
    console.print(result.to_text(), highlight=False, markup=False, soft_wrap=True)
    console.print(f"[{style}]verified: {result.verified}[/]")
