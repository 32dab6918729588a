"""Run hygiene and errors that keep work: found faults of the CLI and API, each pinned by a test.

- every run gets its own checkpoint thread (a second case never merges into a finished one);
- artifacts go to a folder unique per run that a hostile case id cannot leave;
- two evaluations cannot write one ``--out``;
- an unusable ``--db``/``--out`` is reported after the result is printed, never as "internal error";
- markup and ANSI escapes in case ids are printed literally; bad CSV columns, seeds and paths are named;
- a review whose comment cites unknown evidence exits non-zero;
- every symlink of a DICOM folder is checked against the allowed folders, not a prefix of the listing.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wardround.cli import app

REPO = Path(__file__).resolve().parents[2]
CASES = REPO / "examples" / "cases"
CHEST_PAIN = str(CASES / "chest_pain.json")
PNEUMONIA = str(CASES / "pneumonia.json")


def cli(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def _out(res) -> str:
    return res.stdout + (res.stderr or "")


# -- 1. run hygiene: one thread per run -------------------------------------------------------------------


def test_same_case_twice_on_one_db_lists_each_specialist_once(tmp_path: Path) -> None:
    db = tmp_path / "ward.sqlite"
    for _ in range(2):
        res = cli("run", CHEST_PAIN, "--db", db)
        assert res.exit_code == 0, _out(res)
        assert "Specialists consulted: Cardiology\n" in res.stdout, res.stdout
        assert "Cardiology, Cardiology" not in res.stdout
    with sqlite3.connect(db) as conn:
        threads = {r[0] for r in conn.execute("SELECT DISTINCT thread_id FROM checkpoints")}
    assert len(threads) == 2 and not threads & {"chest_pain"}


def test_finished_thread_is_refused_naming_the_thread_and_the_fix(tmp_path: Path) -> None:
    db = tmp_path / "ward.sqlite"
    assert cli("run", CHEST_PAIN, "--db", db, "--thread-id", "ward-7").exit_code == 0
    res = cli("run", PNEUMONIA, "--db", db, "--thread-id", "ward-7")
    assert res.exit_code == 2, _out(res)
    assert "Acute coronary syndrome" not in res.stdout
    assert "'ward-7'" in res.stderr and "finished" in res.stderr and "--thread-id" in res.stderr
    assert "internal error" not in res.stderr


def test_api_run_uses_a_fresh_thread_and_refuses_a_finished_one() -> None:
    import wardround as wr
    from wardround.errors import CaseError
    from wardround.graphs.checkpoint import memory_checkpointer
    from wardround.graphs.ward import build_graph

    graph = build_graph(checkpointer=memory_checkpointer())
    first = wr.run(CHEST_PAIN, graph=graph)
    second = wr.run(PNEUMONIA, graph=graph)  # was: the chest-pain thread, reporting ACS with cardiology twice
    assert [o.specialty for o in first.opinions] == ["cardiology"]
    specialties = [o.specialty for o in second.opinions]
    assert len(specialties) == len(set(specialties)), specialties
    assert second.diagnosis.primary.name != first.diagnosis.primary.name
    wr.run(CHEST_PAIN, graph=graph, thread_id="t-1")
    with pytest.raises(CaseError, match="'t-1'.*finished"):
        wr.run(PNEUMONIA, graph=graph, thread_id="t-1")


# -- 2. artifacts: one folder per run, inside runs/ -------------------------------------------------------


@pytest.mark.parametrize("case_id", ["..", "../../etc", "a/../../b", "/abs/path", "\x1b[31m..\x00", ".", "~"])
def test_artifact_folder_cannot_leave_the_run_dir(tmp_path: Path, case_id: str) -> None:
    from wardround.agents.base import artifact_dir
    from wardround.config import WardConfig

    root = (tmp_path / "runs").resolve()
    folder = artifact_dir(WardConfig(run_dir=str(root)), case_id, "../neurology")
    assert folder.resolve().parent.parent == root, folder
    assert folder.name == "neurology"
    assert not re.search(r"[\x00-\x1f/]", folder.relative_to(root).parts[0])


def test_two_runs_of_one_imaging_case_write_separate_folders(tmp_path: Path) -> None:
    pytest.importorskip("nibabel")
    import wardround as wr
    from wardround.tools.segmentation.synthetic import write_head_ct

    path, _ = write_head_ct(tmp_path / "head_ct.nii.gz", (22.0, 18.0, 14.0))
    case = wr.Case.from_dict({
        "id": "../ich", "age": 68, "sex": "male",
        "note": "68-year-old man on warfarin with sudden severe headache, then right-sided weakness.",
        "imaging": [{"path": str(path), "modality": "CT", "body_region": "head"}],
    })
    runs = tmp_path / "runs"
    for _ in range(2):
        wr.run(case, run_dir=str(runs))
    folders = sorted(p for p in runs.iterdir() if p.is_dir())
    assert len(folders) == 2, folders  # was one folder runs/../ich: the second run overwrote the first
    assert all(p.name.startswith("ich-") for p in folders)
    assert not (tmp_path / "ich").exists()
    masks = list(runs.rglob("*.mask.nii.gz"))
    assert len(masks) == 2 and {m.parent.name for m in masks} == {"neurology"}


# -- 3. evals: exclusive lock on --out ---------------------------------------------------------------------


def _medqa(path: Path) -> Path:
    rows = [{"realidx": 1, "answer_idx": "B", "meta_info": "step2&3",
             "question": "A 60-year-old man has crushing chest pain, ST elevation and a raised troponin.",
             "options": {"A": "Pneumothorax", "B": "Acute coronary syndrome", "C": "Migraine"}}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_second_eval_on_a_locked_out_fails_clearly(tmp_path: Path) -> None:
    import fcntl

    data, out = _medqa(tmp_path / "q.jsonl"), tmp_path / "run"
    with open(tmp_path / ".run.lock", "a+") as held:  # another evaluation holds OUT
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        res = cli("eval", "medqa", "--data", data, "--out", out, "--quiet")
    assert res.exit_code == 2, _out(res)
    assert "another evaluation" in res.stderr and str(out) in res.stderr
    assert not (out / "items.jsonl").exists()
    res = cli("eval", "medqa", "--data", data, "--out", out, "--quiet")  # lock released: the run goes ahead
    assert res.exit_code == 0, _out(res)


def test_exclusive_out_refuses_a_second_holder(tmp_path: Path) -> None:
    import typer

    from wardround.cli.common import exclusive_out

    out = tmp_path / "run"
    with exclusive_out(out), pytest.raises(typer.Exit) as exc, exclusive_out(out):
        pass
    assert exc.value.exit_code == 2
    with exclusive_out(out):  # released after the first
        pass


# -- 4. errors that keep work ------------------------------------------------------------------------------


def test_non_sqlite_db_prints_the_result_then_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "notes.txt"
    db.write_text("not a database\n" * 100, encoding="utf-8")
    res = cli("run", CHEST_PAIN, "--db", db)
    assert res.exit_code == 2, _out(res)
    assert "Primary diagnosis: Acute coronary syndrome" in res.stdout
    assert "internal error" not in res.stderr
    assert str(db) in res.stderr and "--db" in res.stderr and "not saved" in res.stderr
    assert db.read_text(encoding="utf-8").startswith("not a database")


def test_db_under_a_file_prints_the_result_then_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    res = cli("run", CHEST_PAIN, "--db", blocker / "ward.sqlite", "--json")
    assert res.exit_code == 2, _out(res)
    assert json.loads(res.stdout)["diagnosis"]["primary"]["name"] == "Acute coronary syndrome"
    assert "internal error" not in res.stderr and "ward.sqlite" in res.stderr


def test_unwritable_eval_out_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    res = cli("eval", "medqa", "--data", _medqa(tmp_path / "q.jsonl"), "--out", blocker / "run", "--quiet")
    assert res.exit_code == 2, _out(res)
    assert "internal error" not in res.stderr and "--out" in res.stderr and str(blocker / "run") in res.stderr


def test_unwritable_compare_out_prints_the_comparison_first(tmp_path: Path) -> None:
    data = _medqa(tmp_path / "q.jsonl")
    for name in ("a", "b"):
        assert cli("eval", "medqa", "--data", data, "--out", tmp_path / name, "--quiet").exit_code == 0
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    res = cli("eval", "compare", tmp_path / "a", tmp_path / "b", "--json", "--out", blocker / "cmp.json")
    assert res.exit_code == 2, _out(res)
    assert json.loads(res.stdout)  # the comparison was printed
    assert "internal error" not in res.stderr and "cmp.json" in res.stderr


@pytest.mark.parametrize("case_id", ["[bold]x[/]", "a[/]", "\\", "x\\[/]", "\x1b[31mred\x1b[0m[/]"])
def test_markup_and_ansi_in_case_id_and_expected_are_printed_literally(tmp_path: Path, case_id: str) -> None:
    case = json.loads(Path(CHEST_PAIN).read_text(encoding="utf-8"))
    case["id"] = case_id
    case.pop("expected", None)
    case["expected_diagnosis"] = "[/][bold]\x1b[2J"
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case), encoding="utf-8")
    for extra in ([], ["--stream"]):
        res = cli("run", path, *extra)
        assert res.exit_code in (0, 1), _out(res)
        assert "MarkupError" not in _out(res) and "internal error" not in _out(res)
        assert "\x1b" not in res.stdout
        plain_id = re.sub(r"\x1b\[[0-9;]*m", "", case_id)
        assert f"Case {plain_id}" in res.stdout
        assert "expected: [/][bold]" in res.stdout


def test_medcalc_csv_without_a_column_names_it(tmp_path: Path) -> None:
    data = tmp_path / "dev.csv"
    data.write_text("Row Number,Calculator Name,Category,Output Type,Ground Truth Answer,Lower Limit,"
                    "Upper Limit\n1,BMI,physical,decimal,24,23,25\n", encoding="utf-8")
    res = cli("eval", "medcalc", "--data", data, "--out", tmp_path / "run", "--quiet")
    assert res.exit_code == 2, _out(res)
    assert "'Relevant Entities'" in res.stderr and "Traceback" not in _out(res)
    assert res.exception is None or isinstance(res.exception, SystemExit)


@pytest.mark.parametrize("option,value", [("--prompt", "1e308,nan,-1"), ("--prompt", "inf,0,0"),
                                          ("--prompt", "1,2"), ("--prompt-voxel", "1,2,-1"),
                                          ("--prompt-voxel", "nan,1,1")])
def test_segment_rejects_unusable_seeds(tmp_path: Path, option: str, value: str) -> None:
    pytest.importorskip("nibabel")
    from wardround.tools.segmentation.synthetic import write_head_ct

    path, _ = write_head_ct(tmp_path / "head.nii.gz", None)
    res = cli("segment", path, "--method", "region", option, value, "--out", tmp_path / "seg")
    assert res.exit_code == 2, _out(res)
    assert option in res.stderr and res.exception is None or isinstance(res.exception, SystemExit)


@pytest.mark.parametrize("arg", ["nothere/case", "cases/missing-case", "chestpain", "missing.json",
                                 "./missing folder/case.json"])
def test_missing_path_is_file_not_found_not_note_text(tmp_path: Path, arg: str, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    res = cli("run", arg)
    assert res.exit_code == 2, _out(res)
    assert "file not found" in res.stderr or "does not exist" in res.stderr
    assert "Primary diagnosis" not in res.stdout


@pytest.mark.parametrize("note", ["65 y.o. male with crushing chest pain, BP 120/80, troponin 2.1 ng/mL",
                                  "Crushing chest pain. Troponin raised."])
def test_note_text_on_the_command_line_still_works(tmp_path: Path, note: str, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    res = cli("run", note)
    assert res.exit_code in (0, 1), _out(res)
    assert "Primary diagnosis" in res.stdout


def test_review_comment_citing_unknown_evidence_exits_non_zero(tmp_path: Path) -> None:
    db = tmp_path / "ward.sqlite"
    res = cli("run", CHEST_PAIN, "--review", "--db", db, "--thread-id", "r1")
    assert res.exit_code == 0 and "Awaiting human review" in res.stdout, _out(res)
    res = cli("review", "r1", "--db", db, "--approve", "--comment", "[E99] confirms")
    assert res.exit_code != 0, _out(res)  # was: exit 0, the report showing "[E99] confirms" as if checked
    assert "[E99]" in res.stderr and "not in the ledger" in res.stderr and "internal error" not in res.stderr
    res = cli("review", "r1", "--db", db, "--approve", "--comment", "[E11] troponin confirms")  # still paused
    assert res.exit_code == 0, _out(res)
    assert "verified: True" in res.stdout


# -- 5. DICOM folders: every entry is checked ---------------------------------------------------------------


def test_symlink_after_ten_thousand_dotfiles_is_refused(tmp_path: Path, monkeypatch) -> None:
    from wardround.case import IMAGING_ROOTS_ENV, load_case_file
    from wardround.errors import CaseError

    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.dcm"
    secret.write_bytes(b"\0" * 128 + b"DICM")
    home = tmp_path / "ward"
    series = home / "series"
    series.mkdir(parents=True)
    for i in range(10_000):
        (series / f".{i:05d}").touch()
    (series / "zz.dcm").symlink_to(secret)
    case = home / "case.json"
    case.write_text(json.dumps({"id": "dicom", "note": "Headache.", "imaging": [
        {"path": "series", "modality": "CT", "body_region": "head"}]}), encoding="utf-8")
    monkeypatch.delenv(IMAGING_ROOTS_ENV, raising=False)
    monkeypatch.chdir(home)
    with pytest.raises(CaseError, match="zz.dcm.*outside"):
        load_case_file(case)
    os.unlink(series / "zz.dcm")
    (series / "zz.dcm").symlink_to(home / "case.json")  # a link inside the allowed folders is fine
    assert load_case_file(case).case.imaging
