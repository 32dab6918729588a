"""An encounter killed (SIGKILL) mid-way resumes from its SQLite checkpoint: no turn lost, none repeated, and the
finished transcript equals an uninterrupted run of the same encounter. The encounter runs in a real child process
through the CLI (``wardround encounter --db``)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

MAX_TURNS = 12
ROW = 4


def _cmd(data: Path, db: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "wardround.cli", "encounter", str(data), "--row", str(ROW), "--max-turns",
            str(MAX_TURNS), "--threshold", "1.01", "--db", str(db), *extra]


def _committed_turns(db: Path) -> int:
    """How many turns the checkpoint holds (read in a separate process, as a user would)."""
    code = ("import sqlite3,sys;from wardround.graphs.checkpoint import sqlite_checkpointer\n"
            "with sqlite_checkpointer(sys.argv[1]) as s:\n"
            "    t=list(s.list(None))\n"
            "    print(max((len(c.checkpoint['channel_values'].get('transcript') or []) for c in t), default=0))")
    out = subprocess.run([sys.executable, "-c", code, str(db)], capture_output=True, text=True, timeout=120)
    return int(out.stdout.strip() or 0)


@pytest.mark.slow
def test_sigkill_mid_encounter_then_resume(wardround_data: Path, tmp_path: Path) -> None:
    data = wardround_data / "ddxplus" / "patients_dev.csv"
    if not data.is_file():
        pytest.skip(f"DDXPlus dev file not found at {data}")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "HF_HUB_OFFLINE": "1"}
    db = tmp_path / "enc.sqlite"
    proc = subprocess.Popen(_cmd(data, db, "--pause", "0.4"), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    seen = 0
    deadline = time.monotonic() + 180
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("T"):
            seen += 1
            if seen >= 4:  # opening + 3 questions printed: kill in the middle of the next turn
                break
    time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    committed = _committed_turns(db)
    assert 4 <= committed < MAX_TURNS + 1, committed

    resumed = subprocess.run(_cmd(data, db, "--json"), env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    after = json.loads(resumed.stdout)
    fresh = subprocess.run(_cmd(data, tmp_path / "fresh.sqlite", "--json"), env=env, capture_output=True,
                           text=True, timeout=300)
    assert fresh.returncode == 0, fresh.stderr
    clean = json.loads(fresh.stdout)

    turns = [t["turn"] for t in after["turns"]]
    assert turns == list(range(MAX_TURNS + 1))  # none lost, none repeated
    assert [t["action"] for t in after["turns"]] == [t["action"] for t in clean["turns"]]
    assert [t["answer"] for t in after["turns"]] == [t["answer"] for t in clean["turns"]]
    assert [t["evidence_id"] for t in after["turns"]] == [f"EN{n + 1}" for n in range(MAX_TURNS + 1)]
    assert after["cost_usd"] == clean["cost_usd"] == 300 * MAX_TURNS
    assert after["stop_reason"] == "turn budget" and after["verified"]
    assert after["diagnosis"]["primary"]["name"] == clean["diagnosis"]["primary"]["name"]

    # a finished encounter is returned as it is, not run again
    again = subprocess.run(_cmd(data, db, "--json"), env=env, capture_output=True, text=True, timeout=300)
    assert json.loads(again.stdout)["turns"] == after["turns"]
