"""Checkpoints in a real PostgreSQL server: the Python API, ``wardround run/review --db postgresql://...``.

A throwaway server (``initdb`` + ``pg_ctl``) is started in a temporary folder on a free loopback port. PostgreSQL
refuses to run as root, so under root the server runs as the ``postgres`` system user (Debian's package creates
it) or else ``nobody``, owning the temporary folder. Where no server can be started the tests skip with the
reason; in CI (``CI=true``) that is a failure instead, so the suite never passes without having run them.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from wardround.report import WardResult

psycopg = pytest.importorskip("psycopg", reason="the [postgres] extra (psycopg) is not installed")

REPO = Path(__file__).resolve().parents[2]
CASE = str(REPO / "examples" / "cases" / "chest_pain.json")
DB_USER = "wardround"
DB_NAME = "wardround"


def _pg_binary(name: str) -> str | None:
    """``initdb``/``pg_ctl`` on PATH, else in Debian's versioned folder (the newest version installed)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return candidates[-1] if candidates else None


def _unprivileged_user() -> pwd.struct_passwd | None:
    """The account to run the server as when we are root: ``postgres`` if it exists, else ``nobody``."""
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _unavailable(reason: str) -> None:
    """Skip with ``reason``, except in CI, where a missing server is a failure."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL server could not be started in CI: {reason}")
    pytest.skip(f"no PostgreSQL server can be started here: {reason}")


class _Server:
    """A PostgreSQL cluster in a temporary folder, run by an unprivileged user when we are root."""

    def __init__(self) -> None:
        self.initdb = _pg_binary("initdb")
        self.pg_ctl = _pg_binary("pg_ctl")
        # not pytest's tmp_path: under root its parents are closed to the server's account; /tmp is open to all
        base = "/tmp" if os.geteuid() == 0 and os.path.isdir("/tmp") else None
        self.root = Path(tempfile.mkdtemp(prefix="wardround-pg-", dir=base))
        self.data = self.root / "data"
        self.port = _free_port()
        self.as_user: dict = {}
        if os.geteuid() == 0:
            user = _unprivileged_user()
            if user is None:
                raise RuntimeError("running as root and neither a 'postgres' nor a 'nobody' account exists")
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self.as_user = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, cwd=self.root,
                              env={**os.environ, "LC_ALL": "C"}, **self.as_user)

    def start(self) -> str:
        if not self.initdb or not self.pg_ctl:
            raise RuntimeError("initdb/pg_ctl not found (install Debian's 'postgresql' package)")
        out = self._run(self.initdb, "-D", str(self.data), "-U", DB_USER, "--auth=trust", "-E", "UTF8",
                        "--no-locale")
        if out.returncode != 0:
            raise RuntimeError(f"initdb failed: {out.stderr.strip()[-400:]}")
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off"
        out = self._run(self.pg_ctl, "-D", str(self.data), "-l", str(self.root / "server.log"), "-o", options,
                        "-w", "-t", "60", "start", timeout=90)
        if out.returncode != 0:
            log = (self.root / "server.log").read_text(errors="replace")[-400:] if (self.root / "server.log").exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {out.stderr.strip()[-300:]} {log}")
        admin = f"postgresql://{DB_USER}@127.0.0.1:{self.port}/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DB_NAME}")
        return f"postgresql://{DB_USER}@127.0.0.1:{self.port}/{DB_NAME}"

    def stop(self) -> None:
        if self.pg_ctl and (self.data / "postmaster.pid").exists():
            self._run(self.pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """The URL of a fresh database on a PostgreSQL server of this test module."""
    server = _Server()
    try:
        url = server.start()
    except (RuntimeError, OSError, subprocess.SubprocessError, psycopg.Error) as exc:
        server.stop()
        _unavailable(str(exc))
        return
    try:
        yield url
    finally:
        server.stop()


def wardround(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a new process (each call is a fresh interpreter, as a user's would be)."""
    return subprocess.run([sys.executable, "-m", "wardround.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "HF_HUB_OFFLINE": "1"})


def _checkpoint_rows(url: str, thread_id: str) -> int:
    with psycopg.connect(url) as conn:
        return int(conn.execute("SELECT count(*) FROM checkpoints WHERE thread_id = %s", (thread_id,)).fetchone()[0])


def test_python_api_checkpoints_to_postgres(pg_url):
    import wardround as wr
    from wardround.graphs.checkpoint import open_checkpointer, postgres_checkpointer

    with postgres_checkpointer(pg_url) as saver:
        result = wr.run(CASE, graph=wr.build_graph(checkpointer=saver), thread_id="api-1")
    assert result.verified is True
    assert result.diagnosis.primary.name == "Acute coronary syndrome"
    assert _checkpoint_rows(pg_url, "api-1") >= 5  # one per superstep at least: input, intake, triage, ...

    # a new connection sees the finished thread, and a second round on it is refused, never merged
    with open_checkpointer(pg_url) as saver:
        graph = wr.build_graph(checkpointer=saver)
        snapshot = graph.get_state({"configurable": {"thread_id": "api-1"}})
        assert not snapshot.next
        assert snapshot.values["diagnosis"].primary.name == "Acute coronary syndrome"
        with pytest.raises(wr.CaseError, match="already holds a finished ward round"):
            wr.run(CASE, graph=graph, thread_id="api-1")


def test_review_resumes_from_postgres_in_a_new_process(pg_url):
    out = wardround("run", CASE, "--db", pg_url, "--thread-id", "cli-1", "--review", "--json")
    assert out.returncode == 0, out.stderr
    pending = json.loads(out.stdout)
    assert pending["status"] == "awaiting_review" and pending["thread_id"] == "cli-1"
    assert pending["interrupt"][0]["primary"] == "Acute coronary syndrome"
    paused_rows = _checkpoint_rows(pg_url, "cli-1")
    assert paused_rows > 0

    out = wardround("review", "cli-1", "--db", pg_url, "--override", "Pulmonary embolism",
                    "--comment", "CTPA shows a saddle embolus", "--reviewer", "dr-b", "--json")
    assert out.returncode == 0, out.stderr
    assert not out.stderr.strip(), out.stderr  # the state models deserialize without LangGraph's warnings
    result = WardResult.model_validate_json(out.stdout)
    assert result.verified is True and result.verify().ok
    review = result.diagnosis.review
    assert review.action == "override" and review.reviewer == "dr-b"
    assert result.diagnosis.primary.name == "Pulmonary embolism"
    assert "HR1" in result.ledger.entries
    assert _checkpoint_rows(pg_url, "cli-1") > paused_rows

    again = wardround("review", "cli-1", "--db", pg_url, "--approve")
    assert again.returncode == 2
    assert "thread 'cli-1' is not waiting for review" in again.stderr


def test_approve_and_human_readable_resume_hint(pg_url):
    out = wardround("run", CASE, "--db", pg_url, "--thread-id", "cli-2", "--review")
    assert out.returncode == 0, out.stderr
    assert "Awaiting human review" in out.stdout
    assert f"wardround review cli-2 --db {pg_url} --approve" in " ".join(out.stdout.split())
    out = wardround("review", "cli-2", "--db", pg_url, "--approve", "--json")
    assert out.returncode == 0, out.stderr
    result = WardResult.model_validate_json(out.stdout)
    assert result.diagnosis.review.action == "approve" and result.verified is True

    reuse = wardround("run", CASE, "--db", pg_url, "--thread-id", "cli-2")
    assert reuse.returncode == 2
    assert "already holds a finished ward round" in reuse.stderr


def test_unreachable_postgres_is_one_clear_line_without_the_password():
    port = _free_port()  # nothing listens there
    url = f"postgresql://ward:s3cret-pw@127.0.0.1:{port}/wardround"
    out = wardround("run", CASE, "--db", url, "--review")
    assert out.returncode == 2
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("error: --db: ") and "PostgreSQL server is running" in lines[0]
    assert "s3cret-pw" not in out.stderr and "ward:***@" in out.stderr

    # without --review the round still runs; the result is printed and the missing checkpoint reported
    out = wardround("run", CASE, "--db", url, "--json")
    assert out.returncode == 2
    assert WardResult.model_validate_json(out.stdout).verified is True
    assert "not saved to a checkpoint" in out.stderr and "s3cret-pw" not in out.stderr

    out = wardround("review", "t", "--db", url, "--approve")
    assert out.returncode == 2 and "use the --db of the paused run" in out.stderr


def test_postgres_url_helpers():
    from wardround.graphs.checkpoint import is_postgres_url, redact_url

    assert is_postgres_url("postgresql://h/db") and is_postgres_url("postgres://u@h/db")
    assert not is_postgres_url("runs/ward.sqlite") and not is_postgres_url(Path("postgresql:/x"))
    assert redact_url("postgresql://u:pw@h:5/db") == "postgresql://u:***@h:5/db"
    assert redact_url("postgresql://h/db?password=pw&sslmode=require") == \
        "postgresql://h/db?password=***&sslmode=require"
    assert redact_url("postgresql://u@h/db") == "postgresql://u@h/db"


def test_async_graph_checkpoints_to_postgres(pg_url):
    import asyncio

    from wardround.api import result_from_state
    from wardround.case import Case
    from wardround.graphs.checkpoint import async_postgres_checkpointer
    from wardround.graphs.ward import build_graph

    async def run_round() -> tuple[dict, list[str]]:
        config = {"configurable": {"thread_id": "async-1", "ward": {"human_review": True}}}
        async with async_postgres_checkpointer(pg_url) as saver:
            graph = build_graph(checkpointer=saver)
            await graph.ainvoke({"case": Case.from_file(CASE)}, config)
            pending = await graph.aget_state(config)
            from langgraph.types import Command

            state = await graph.ainvoke(Command(resume={"action": "approve", "reviewer": "dr-a"}), config)
            return state, list(pending.next)

    state, paused_at = asyncio.run(run_round())
    assert paused_at == ["review"]
    result = result_from_state(state)
    assert result.diagnosis.review.action == "approve" and result.verified is True
    assert _checkpoint_rows(pg_url, "async-1") > 0
