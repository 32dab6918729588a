"""The ward graph behind a real LangGraph Server (``langgraph dev``, in-memory runtime) on loopback.

The server is started from the repository's ``langgraph.json`` as a user would start it, and driven only through
``langgraph_sdk``: a case runs to a verified, cited diagnosis; another pauses at human review, its pending
interrupt is read back from the thread, and it resumes with ``Command(resume=...)`` through the API.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from wardround.api import result_from_state
from wardround.graphs.server import state_from_json
from wardround.report import WardResult

langgraph_sdk = pytest.importorskip("langgraph_sdk", reason="langgraph-sdk is not installed")

REPO = Path(__file__).resolve().parents[2]
CASE = json.loads((REPO / "examples" / "cases" / "chest_pain.json").read_text())
CASE.pop("expected", None)  # the gold label never goes to the agents
START_TIMEOUT = 180.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _langgraph_cli() -> list[str]:
    exe = Path(sys.executable).parent / "langgraph"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("langgraph")
    if found:
        return [found]
    pytest.skip("the `langgraph` command (langgraph-cli) is not installed beside this Python")
    return []


def _wait_ready(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"langgraph dev exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/ok", timeout=2) as resp:  # noqa: S310 - loopback URL we built
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"langgraph dev did not answer within {START_TIMEOUT:.0f} s:\n"
                f"{log.read_text(errors='replace')[-3000:]}")


def _require_server_runtime() -> None:
    """Skip without LangGraph Server's in-memory runtime; fail instead in CI once the project declares it."""
    import importlib.metadata
    import importlib.util

    if importlib.util.find_spec("langgraph_api") is not None:
        return
    reason = "LangGraph Server's in-memory runtime is not installed (pip install 'langgraph-cli[inmem]')"
    try:
        extras = importlib.metadata.metadata("wardround").get_all("Provides-Extra") or []
    except importlib.metadata.PackageNotFoundError:
        extras = []
    if os.environ.get("CI", "").lower() == "true" and "server" in extras:
        pytest.fail(f"{reason}, although wardround declares the [server] extra")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    """``langgraph dev`` serving the repository's langgraph.json on a free loopback port."""
    _require_server_runtime()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    workdir = Path(tempfile.mkdtemp(prefix="wardround-lgs-"))
    log = workdir / "server.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
           "HF_HUB_OFFLINE": "1", "LANGGRAPH_CLI_NO_ANALYTICS": "1", "LANGSMITH_TRACING": "false",
           "LANGCHAIN_TRACING_V2": "false", "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    cmd = [*_langgraph_cli(), "dev", "--config", str(REPO / "langgraph.json"), "--host", "127.0.0.1",
           "--port", str(port), "--no-browser", "--no-reload"]
    with log.open("w") as out:
        # cwd: the in-memory runtime writes its .langgraph_api/ store there, never into the repository
        proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        _wait_ready(url, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def client(server_url):
    return langgraph_sdk.get_sync_client(url=server_url)


def test_langgraph_json_names_importable_graphs():
    import importlib

    spec = json.loads((REPO / "langgraph.json").read_text())
    assert set(spec["graphs"]) == {"ward", "ward_review"}
    for target in spec["graphs"].values():
        module, attr = target.rsplit(":", 1)  # a module path, so the server may start from any folder
        graph = getattr(importlib.import_module(module), attr)
        assert graph.checkpointer is None  # the server brings its own
        assert {"intake", "triage", "specialist", "attending", "review"} <= set(graph.get_graph().nodes)


def test_server_lists_the_ward_graphs(client):
    graphs = {a["graph_id"] for a in client.assistants.search(limit=20)}
    assert {"ward", "ward_review"} <= graphs


def test_case_runs_to_a_verified_diagnosis_through_the_api(client):
    thread = client.threads.create()
    values = client.runs.wait(thread["thread_id"], "ward", input={"case": CASE})
    assert isinstance(values, dict) and "__error__" not in values, values
    result = result_from_state(state_from_json(values))  # JSON from the server, back into the models
    assert isinstance(result, WardResult)
    assert result.diagnosis.primary.name == "Acute coronary syndrome"
    assert result.verified is True and result.verify().ok
    assert {o.specialty for o in result.opinions}  # specialists ran
    state = client.threads.get_state(thread["thread_id"])
    assert state["next"] == []


def test_human_review_pauses_and_resumes_through_the_api(client):
    thread = client.threads.create()
    tid = thread["thread_id"]
    config = {"configurable": {"ward": {"human_review": True}}}
    client.runs.wait(tid, "ward", input={"case": CASE}, config=config)
    state = client.threads.get_state(tid)
    assert state["next"] == ["review"]
    interrupts = [i["value"] for t in state["tasks"] for i in t.get("interrupts", [])]
    assert interrupts and interrupts[0]["primary"] == "Acute coronary syndrome"
    assert "diagnosis" in state["values"] and "review" not in state["values"]

    answer = {"action": "override", "primary": "Pulmonary embolism", "comment": "CTPA shows a saddle embolus",
              "reviewer": "dr-b"}
    values = client.runs.wait(tid, "ward", command={"resume": answer}, config=config)
    result = result_from_state(state_from_json(values))
    assert result.diagnosis.primary.name == "Pulmonary embolism"
    review = result.diagnosis.review
    assert review.action == "override" and review.reviewer == "dr-b"
    assert "HR1" in result.ledger.entries
    assert result.verified is True and result.verify().ok
    assert client.threads.get_state(tid)["next"] == []


def test_review_graph_always_pauses_and_approves(client):
    thread = client.threads.create()
    tid = thread["thread_id"]
    client.runs.wait(tid, "ward_review", input={"case": CASE})
    assert client.threads.get_state(tid)["next"] == ["review"]
    values = client.runs.wait(tid, "ward_review", command={"resume": {"action": "approve", "reviewer": "dr-c"}})
    result = result_from_state(state_from_json(values))
    assert result.diagnosis.review.action == "approve"
    assert result.diagnosis.primary.name == "Acute coronary syndrome" and result.verified is True


def test_a_bad_case_is_a_clear_api_error_and_the_server_keeps_serving(client):
    thread = client.threads.create()
    with pytest.raises(Exception, match=r"CaseError: note: the case has no note text and no findings"):
        client.runs.wait(thread["thread_id"], "ward", input={"case": {"id": "empty", "age": 50}})
    values = client.runs.wait(client.threads.create()["thread_id"], "ward", input={"case": CASE})
    assert result_from_state(state_from_json(values)).verified is True
