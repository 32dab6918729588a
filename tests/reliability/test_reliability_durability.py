"""Kill -9 in the middle of a ward round checkpointed to SQLite, resume in a new process: nothing lost or doubled.

A child process runs the ward graph (chat-model roles behind the loopback server) with ``sqlite_checkpointer``.
The pulmonology specialist's first model call is slow; the child is killed with SIGKILL once the cardiology
specialist's opinion is in the checkpoint and pulmonology is still waiting. A second child resumes the same
thread with ``graph.invoke(None, config)``. The finished round has one opinion per specialist (cardiology's is
not redone: its model answered once in all), unique evidence ids, and a verified diagnosis.

Kill -9 during an evaluation run is covered by ``tests/integration/test_eval_resume_kill.py``.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURE_KB = str(REPO / "tests" / "fixtures" / "kb")
THREAD = "durable-1"
CASE = {
    "id": "durable", "age": 70, "sex": "male",
    "note": "70 yo man with crushing chest pain for an hour. Denies cough or fever.",
    "vitals": {"heart_rate": 110, "temperature_c": 37.0, "systolic_bp": 150, "diastolic_bp": 90},
    "labs": [{"name": "troponin", "value": 1.2, "unit": "ng/mL"}],
}


def child(mode: str, db: str, base_url: str) -> None:
    """Run (``start``) or resume (``resume``) the thread; print the result as JSON."""
    from wardround.api import result_from_state
    from wardround.case import Case
    from wardround.config import WardConfig
    from wardround.graphs.checkpoint import sqlite_checkpointer
    from wardround.graphs.ward import build_graph
    from wardround.llm import ModelSpec

    spec = ModelSpec(spec="openai:loopback-model", base_url=base_url, api_key="test-key", backoff=0.01,
                     timeout=120)
    config = {"configurable": {"thread_id": THREAD, "ward": WardConfig(model=spec, knowledge=FIXTURE_KB)}}
    with sqlite_checkpointer(db) as saver:
        graph = build_graph(checkpointer=saver)
        state = graph.invoke({"case": Case.from_dict(CASE)} if mode == "start" else None, config)
        sys.stdout.write(result_from_state(state).model_dump_json() + "\n")


def _opinion_writes(db: Path) -> int:
    if not db.is_file():
        return 0
    try:
        with sqlite3.connect(str(db), timeout=1) as conn:
            return conn.execute("SELECT count(*) FROM writes WHERE thread_id=? AND channel='opinions'",
                                (THREAD,)).fetchone()[0]
    except sqlite3.Error:
        return 0


def test_sigkill_mid_round_then_resume_from_sqlite(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO / "tests" / "integration"))
    from loopback import LoopbackServer, Reply, ScriptedWard, role_of

    class SlowPulmonology(ScriptedWard):
        """Pulmonology's first call hangs long enough to be killed; every later call answers at once."""

        def __init__(self) -> None:
            super().__init__()
            self.first = threading.Event()

        def __call__(self, request: dict) -> Reply:
            if role_of(request) == "specialist:pulmonology" and not self.first.is_set():
                self.first.set()
                return Reply(content="too late", delay=60.0)
            return super().__call__(request)

    db = tmp_path / "ward.sqlite"
    script = SlowPulmonology()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with LoopbackServer(script) as server:
        cmd = [sys.executable, __file__, "start", str(db), server.base_url]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            if _opinion_writes(db) >= 1 and script.first.is_set():
                break
            time.sleep(0.05)
        assert proc.poll() is None, f"the round ended before it could be killed: {proc.stderr.read()!r}"
        assert _opinion_writes(db) == 1, "cardiology's opinion is checkpointed, pulmonology's is not"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        answers_before = [what for role, what in script.log if role == "specialist:cardiology"]

        resumed = subprocess.run([sys.executable, __file__, "resume", str(db), server.base_url], env=env,
                                 capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    import wardround as wr

    result = wr.WardResult.model_validate_json(resumed.stdout.strip().splitlines()[-1])
    # nothing lost: every consulted specialist has its opinion, the attending decided, citations verify
    assert sorted(op.specialty for op in result.opinions) == sorted(result.triage.specialties)
    assert result.diagnosis is not None and result.verified and result.verify().ok
    # nothing doubled: one opinion per specialty, cardiology not asked again, evidence ids unique
    assert len({op.specialty for op in result.opinions}) == len(result.opinions)
    answers_after = [what for role, what in script.log if role == "specialist:cardiology"]
    assert answers_after == answers_before and answers_before.count("answer") == 1
    ids = [i for op in result.opinions for i in op.evidence_ids]
    assert len(ids) == len(set(ids))
    assert all(i in result.ledger.entries for i in ids)
    intake_ids = sorted(int(i[1:]) for i in result.ledger.entries if i.startswith("E") and i[1:].isdigit())
    assert intake_ids == list(range(1, len(intake_ids) + 1)), "intake evidence was recorded once, in order"
    # the checkpoint holds the same finished state
    with sqlite3.connect(str(db)) as conn:
        rows = conn.execute("SELECT count(*) FROM checkpoints WHERE thread_id=?", (THREAD,)).fetchone()[0]
    assert rows > 0


if __name__ == "__main__":
    child(sys.argv[1], sys.argv[2], sys.argv[3])
    sys.stdout.flush()
    os._exit(0)
