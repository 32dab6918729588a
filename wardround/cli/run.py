"""``wardround run``, ``wardround review`` and ``wardround graph``."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import sqlite3
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from wardround.cli.common import CONTROL_CHARS, console, error_line, fail, handle_errors


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
    thread_id: Annotated[str | None, typer.Option("--thread-id", help="Checkpoint thread id (with --db); default a "
                                                  "fresh id per run. A thread that already holds a ward round "
                                                  "is refused.")] = None,
    db: Annotated[str | None, typer.Option("--db", help="Checkpoint store a thread can resume from: a SQLite file "
                                           "path or a postgresql:// URL.")] = None,
    review: Annotated[bool, typer.Option("--review", help="Pause at the attending for human review (needs --db).")] = False,
    max_specialists: Annotated[int, typer.Option("--max-specialists", min=1, max=12)] = 3,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print the report as Markdown.")] = False,
    knowledge: Annotated[Path | None, typer.Option("--knowledge", help="Folder of an alternative knowledge base.")] = None,
    knowledge_extra: Annotated[list[Path] | None, typer.Option("--knowledge-extra", help="Folder that extends the "
                                                               "knowledge base (repeatable).")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    encounter: Annotated[str | None, typer.Option("--encounter", help="FHIR Bundle only: the Encounter id to "
                                                  "build the case around (default the latest).")] = None,
    log_text: Annotated[bool, typer.Option("--log-text", help="Let logs carry note text (off: every log line is "
                                           "scrubbed of the case's note and of PHI patterns).")] = False,
) -> None:
    """Run one case through the ward round and print the cited diagnosis."""
    with handle_errors(debug), contextlib.ExitStack() as stack:
        from wardround.api import check_thread_free, new_thread_id, result_from_state
        from wardround.case import Expected
        from wardround.config import WardConfig
        from wardround.redact import scrubbed_logs

        logs = stack.enter_context(scrubbed_logs(enabled=not log_text))
        expected: Expected | None = None
        c, expected = _read_case_argument(case, encounter)
        if logs is not None:
            logs.add_source(c.note, c.chief_complaint, c.question)
        if review and db is None:
            fail("--review", "human review needs a checkpoint to resume from",
                 "add --db PATH (a SQLite file) or --db postgresql://...")
        cfg = WardConfig(model=model, triage_model=triage_model, specialist_model=specialist_model,
                         attending_model=attending_model, max_specialists=max_specialists, human_review=review,
                         knowledge=str(knowledge) if knowledge else None,
                         knowledge_extra=[str(p) for p in knowledge_extra or []])
        db_problem = _db_problem(db) if db is not None else None
        if db_problem is not None and review:
            fail("--db", f"{_db_label(db)!r}: {db_problem}", _db_fix(db))
        tid = thread_id or new_thread_id()
        config = {"configurable": {"ward": cfg.model_dump(mode="json"), "thread_id": tid}}
        inputs = {"case": c}

        def invoke(graph: Any) -> dict:
            if stream and not as_json:
                return _stream(graph, inputs, config)
            return graph.invoke(inputs, config)

        use_db = db if db_problem is None else None
        state: dict | None = None
        with _graph(use_db) as graph:
            if use_db is not None:
                check_thread_free(graph, tid, where=repr(_db_label(use_db)))
            try:
                state = invoke(graph)
            except _db_errors() as exc:
                if use_db is None or review:
                    raise
                db_problem, use_db = f"{type(exc).__name__}: {exc}", None
            if use_db is not None:
                pending = graph.get_state(config)
                if pending.next:
                    _print_pending(pending, tid, use_db, as_json)
                    return
        if state is None:
            with _graph(None) as graph:  # the checkpoint failed mid-run: redo the round without it, keep the result
                state = invoke(graph)
        result = result_from_state(state)
        _print_result(result, as_json, markdown, expected)
        if db_problem is not None:
            error_line(f"--db: {_db_label(db)!r}: {db_problem}; the result above was printed but not saved to a "
                       f"checkpoint; {_db_fix(db)}")
            raise typer.Exit(2)
        if not result.verified:
            raise typer.Exit(1)


_DB_FIX = "give a writable SQLite file, e.g. --db runs/ward.sqlite (or omit --db)"
_PG_FIX = ("check that the PostgreSQL server is running and the URL's user, host, port and database are right, "
           "e.g. --db postgresql://ward@localhost:5432/wardround (password via PGPASSWORD or ~/.pgpass)")


def _is_postgres(db: str | Path | None) -> bool:
    from wardround.graphs.checkpoint import is_postgres_url

    return is_postgres_url(db)


def _db_label(db: str | Path) -> str:
    """``db`` as shown to the user: a PostgreSQL URL with its password masked, a SQLite path as given."""
    if _is_postgres(db):
        from wardround.graphs.checkpoint import redact_url

        return redact_url(str(db))
    return str(db)


def _db_fix(db: str | Path) -> str:
    return _PG_FIX if _is_postgres(db) else _DB_FIX


def _db_errors() -> tuple[type[Exception], ...]:
    """The exceptions a checkpoint store raises when it fails mid-run (SQLite's, and psycopg's if installed)."""
    try:
        import psycopg
    except ImportError:
        return (sqlite3.Error,)
    return (sqlite3.Error, psycopg.Error)


def _db_problem(db_arg: str | Path) -> str | None:
    """Why ``db_arg`` cannot hold checkpoints (unreachable server, not a SQLite file, unwritable...), or ``None``."""
    if _is_postgres(db_arg):
        from wardround.graphs.checkpoint import postgres_problem

        return postgres_problem(str(db_arg).strip())
    db = Path(db_arg)
    if db.is_dir():
        return "is a folder, not a SQLite file"
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"its folder cannot be created ({exc.strerror or exc})"
    if db.exists() and not os.access(db, os.W_OK):
        return "is not writable"
    if not os.access(db.parent, os.W_OK | os.X_OK):
        return f"its folder {str(db.parent)!r} is not writable"
    try:
        conn = sqlite3.connect(str(db))
        try:
            conn.execute("PRAGMA schema_version").fetchone()  # fails on a file that is not SQLite
            conn.execute("BEGIN IMMEDIATE")  # fails on a read-only database
            conn.rollback()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return f"cannot be used as a checkpoint file ({exc})"
    return None


_CASE_SUFFIXES = (".json", ".yaml", ".yml", ".txt")


def looks_like_path(arg: str) -> bool:
    """Whether a ``run`` argument that names no existing file was meant as a path (not as note text).

    A single word (no whitespace) is a path, as is text ending in a case-file suffix or starting like a path
    (``/``, ``./``, ``../``, ``~``). Note text such as ``"65 y.o. male, BP 120/80"`` has spaces and is kept.
    """
    s = arg.strip()
    if not s or "\n" in s:
        return False
    if not any(ch.isspace() for ch in s):
        return True
    return s.lower().endswith(_CASE_SUFFIXES) or s.startswith(("/", "./", "../", "~"))


def _read_case_argument(arg: str, encounter: str | None = None) -> tuple[Any, Any]:
    """(case, gold label or None) from the ``run`` argument: an existing case file, else note text.

    A missing file is reported as such, never read as a one-line note.
    """
    from wardround.api import as_case
    from wardround.case import load_case_file

    p = Path(arg).expanduser() if len(arg) < 4096 and "\n" not in arg and "\x00" not in arg else None
    try:
        exists = p is not None and p.exists()
    except (OSError, ValueError):
        exists = False
    if exists and p is not None:
        if p.is_dir():
            fail("case", f"{arg!r} is a folder", "give a case file (.json, .yaml or .txt)")
        if p.suffix.lower() not in _CASE_SUFFIXES:
            fail("case", f"{arg!r} is not a case file", "give a .json, .yaml or .txt case file")
        loaded = load_case_file(p, encounter=encounter)  # the gold label is read beside it, never into it
        return loaded.case, loaded.expected
    if looks_like_path(arg):
        fail("path", f"case file {arg!r} does not exist (file not found)",
             "check the path; note text given on the command line needs spaces between its words")
    if encounter is not None:
        fail("--encounter", "chooses an encounter of a FHIR Bundle file, not of note text", "drop --encounter")
    return as_case(arg), None


def review_command(
    thread_id: Annotated[str, typer.Argument(help="Thread id of the paused ward round.")],
    db: Annotated[str, typer.Option("--db", help="Checkpoint store holding the thread: the SQLite file or "
                                    "postgresql:// URL of the paused run.")],
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
        if not _is_postgres(db) and not Path(db).is_file():
            fail("--db", f"checkpoint file {db!r} does not exist", "use the --db of the paused run")
        problem = _db_problem(db)
        if problem is not None:
            fail("--db", f"{_db_label(db)!r}: {problem}", "use the --db of the paused run")
        answer = {"action": "approve"} if approve else {"action": "override", "primary": override}
        answer.update(reviewer=reviewer, comment=comment)
        with _graph(db) as graph:
            config = {"configurable": {"thread_id": thread_id}}
            snapshot = graph.get_state(config)
            if not snapshot.next:
                fail("thread_id", f"thread {thread_id!r} is not waiting for review", "check the thread id")
            from wardround.evidence import CITATION_RE

            cited = list(dict.fromkeys(i.strip() for m in CITATION_RE.findall(comment) for i in m.split(",")))
            known = set((snapshot.values or {}).get("ledger") or {})
            unknown = [i for i in cited if i not in known]
            if unknown:
                fail("--comment", f"cites evidence {', '.join(f'[{i}]' for i in unknown)} that is not in the "
                     f"ledger of thread {thread_id!r}; the review was not recorded",
                     "cite only evidence ids shown in the report, or drop the brackets")
            state = graph.invoke(Command(resume=answer), config)
            result = result_from_state(state)
        _print_result(result, as_json, False)
        if not result.verified:
            error_line("the reviewed diagnosis failed verification (see the issues above), e.g. a comment "
                       "citing evidence ids that are not in the ledger; fix: cite only ids shown in the report")
            raise typer.Exit(1)


def graph_command() -> None:
    """Print the ward graph as a Mermaid diagram (renders offline in Markdown viewers and notebooks)."""
    from wardround.graphs.ward import build_graph

    typer.echo(build_graph(human_review=True).get_graph().draw_mermaid())


@contextlib.contextmanager
def _graph(db: str | Path | None):
    from wardround.graphs.ward import build_graph

    if db is None:
        yield build_graph()
        return
    from wardround.graphs.checkpoint import open_checkpointer

    with open_checkpointer(db) as saver:
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
                live.line(f"[magenta]{plain(_short_agent(str(chunk.get('agent', '')))):>10}[/] {_describe_event(chunk)}")
        else:
            for node, update in chunk.items():
                if node == "__interrupt__" or not isinstance(update, dict):
                    continue
                live.line(f"[bold cyan]{node:>10}[/] {plain(_describe(node, update))}")
    live.end()
    return state


class _LiveTokens:
    """Prints model tokens as they arrive, one line per agent, and event lines in between."""

    def __init__(self) -> None:
        self.agent: str | None = None

    def token(self, agent: str, text: str) -> None:
        if agent != self.agent:
            self.end()
            console.print(f"[dim]{plain(_short_agent(agent)):>10} >[/] ", end="", highlight=False)
            self.agent = agent
        console.print(CONTROL_CHARS.sub("", text.replace("\n", " ")), end="", markup=False, highlight=False, soft_wrap=True)

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
        return f"calls [bold]{plain(event.get('tool'))}[/] {plain(args[:160])}"
    if kind == "tool_result":
        if event.get("ok"):
            return f"{plain(event.get('tool'))} -> ok"
        return f"{plain(event.get('tool'))} -> [red]{plain(str(event.get('content'))[:160])}[/]"
    if kind == "evidence":
        return f"new evidence [bold]\\[{plain(event.get('id'))}][/] {plain(event.get('statement'))}"
    if kind == "retry":
        return f"[yellow]retry[/] after {plain(event.get('error'))} (waiting {plain(event.get('wait'))} s)"
    if kind == "repair":
        return f"[yellow]asked to repair[/]: {plain(event.get('request'))}"
    if kind == "fallback":
        return f"[red]fell back to the embedded reasoner[/]: {plain(event.get('reason'))}"
    return plain(json.dumps(event, default=str)[:200])


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




def plain(text: Any) -> str:
    """``text`` safe to print with rich markup: ANSI escapes and control characters removed, markup escaped."""
    from rich.markup import escape

    return escape(CONTROL_CHARS.sub("", str(text)))


def _print_pending(snapshot: Any, thread_id: str, db: str | Path, as_json: bool) -> None:
    payload = [i.value for t in snapshot.tasks for i in t.interrupts]
    if as_json:
        typer.echo(json.dumps({"status": "awaiting_review", "thread_id": thread_id, "interrupt": payload}, indent=2))
        return
    info = payload[0] if payload else {}
    console.print(f"[bold yellow]Awaiting human review[/] (thread {plain(thread_id)}): primary "
                  f"[bold]{plain(info.get('primary', '?'))}[/]", highlight=False)
    for line in info.get("differential", []):
        console.print(f"  - {plain(line)}", highlight=False)
    console.print(f"Resume with: wardround review {plain(thread_id)} --db {plain(shlex.quote(_db_label(db)))} --approve  "
                  "(or --override 'Condition name' --comment '...')", highlight=False)


def _print_result(result: Any, as_json: bool, markdown: bool, expected: Any = None) -> None:
    """Print the result; ``expected`` (the case file's gold label, if any) is shown beside the case id."""
    if as_json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
        return
    if markdown:
        typer.echo(CONTROL_CHARS.sub("", result.to_markdown()))
        return
    d = result.diagnosis
    if d is None:
        console.print("[red]no diagnosis[/]")
        return
    style = "green" if result.verified else "red"
    console.print(f"[bold]Case {plain(result.case.id)}[/]{plain(_expected_text(expected))}", highlight=False)
    if result.triage:
        console.print(f"[dim]{plain(result.triage.rationale)}[/]", highlight=False, soft_wrap=True)
    console.print(CONTROL_CHARS.sub("", result.to_text()), highlight=False, markup=False, soft_wrap=True)
    console.print(f"[{style}]verified: {result.verified}[/]")
