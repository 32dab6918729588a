"""The bad-input corpus: load ``corpus/corpus.yaml``, build generated inputs, run one entry through the CLI.

Used by ``test_reliability_corpus.py`` (pass/fail per entry) and ``examples/benchmarks/bench_reliability.py``
(time and peak memory per entry). Every input is either a small invented file under ``corpus/files`` or built
here at run time (a 5 MB note, random bytes, truncated or huge-header NIfTI/DICOM): nothing large is committed.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus" / "corpus.yaml"
FILES = HERE / "corpus" / "files"

#: A note that sends the case to neurology, which reads head CT (so a bad scan is exercised in the ward round).
HEAD_CT_NOTE = ("68-year-old man on warfarin with sudden severe headache and vomiting an hour ago, then right-sided "
                "weakness and slurred speech. GCS 13 on arrival. Blood pressure 196/112.")
CHEST_NOTE = "Crushing chest pain radiating to the left arm for an hour, sweating. Denies cough. HR 104, BP 150/90."


@dataclass
class Entry:
    """One corpus row: where the input comes from, the command, and the expected outcome."""

    id: str
    category: str
    expect: str  # error | issue | ok
    input: str | None = None
    generate: str | None = None
    case: dict[str, Any] | None = None
    image: str | None = None
    command: list[str] = field(default_factory=lambda: ["run", "{input}", "--json"])
    field: str | None = None
    match: str | None = None
    why: str = ""


def load_entries() -> list[Entry]:
    """Every corpus row, validated."""
    rows = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    entries = [Entry(**row) for row in rows]
    ids = [e.id for e in entries]
    assert len(ids) == len(set(ids)), "corpus ids must be unique"
    for e in entries:
        assert e.expect in ("error", "issue", "ok"), e.id
        assert sum(x is not None for x in (e.input, e.generate, e.case)) == 1, e.id
    return entries


# ---------------------------------------------------------------------------------------------------------
# Generated inputs (each writes into ``work`` and returns the path the command receives)


def _json(work: Path, name: str, data: Any) -> Path:
    p = work / name
    p.write_text(json.dumps(data), encoding="utf-8")
    return p


def gen_note_5mb_txt(work: Path) -> Path:
    p = work / "note_5mb.txt"
    unit = "Crushing chest pain radiating to the left arm, sweating, HR 104. "
    p.write_text((unit * (5_000_000 // len(unit) + 1))[:5_000_000], encoding="utf-8")
    return p


def gen_note_5mb_json(work: Path) -> Path:
    unit = "Fever 38.9 C with productive cough and right basal crackles. "
    return _json(work, "note_5mb.json", {"id": "big", "note": (unit * 80_000)[:5_000_000]})


def gen_note_at_limit(work: Path) -> Path:
    """A note just under the length limit, packed with findings, negations and numbers (the slowest legal note)."""
    unit = ("Fever 38.9 C, productive cough, no chest pain, denies headache, HR 118, RR 28, SpO2 89%, "
            "creatinine 2.1 mg/dL, history of diabetes; ")
    return _json(work, "note_at_limit.json", {"id": "dense", "age": 70, "note": (unit * 1000)[:99_900]})


def _dense(work: Path, name: str, unit: str) -> Path:
    return _json(work, f"{name}.json", {"id": name, "age": 60, "note": (unit * (99_900 // len(unit) + 1))[:99_900]})


def gen_note_dense_commas(work: Path) -> Path:
    """A finding every six characters, in one comma-separated list."""
    return _dense(work, "dense_commas", "fever,")


def gen_note_no_punctuation(work: Path) -> Path:
    """One 99,900-character sentence of findings and negation triggers."""
    return _dense(work, "no_punctuation", "fever cough no pain history of ")


def gen_note_dense_vitals(work: Path) -> Path:
    return _dense(work, "dense_vitals", "T 38.5 C HR 120 BP 85/50 SpO2 88% ")


def gen_case_file_9mb(work: Path) -> Path:
    p = work / "case_9mb.json"
    p.write_text(json.dumps({"id": "huge", "note": "chest pain", "history": {"conditions": ["x" * 1000] * 9000}}))
    return p


def gen_labs_20000(work: Path) -> Path:
    labs = [{"name": "sodium", "value": 140, "unit": "mmol/L"}] * 20_000
    return _json(work, "labs_20000.json", {"id": "many", "note": CHEST_NOTE, "labs": labs})


def gen_id_10k(work: Path) -> Path:
    return _json(work, "id_10k.json", {"id": "x" * 10_000, "note": CHEST_NOTE})


def gen_json_deep(work: Path) -> Path:
    p = work / "deep.json"
    p.write_text('{"id": "deep", "note": ' + "[" * 100_000 + "]" * 100_000 + "}")
    return p


def gen_json_huge_int(work: Path) -> Path:
    p = work / "huge_int.json"
    p.write_text('{"id": "i", "note": "chest pain", "age": ' + "9" * 5000 + "}")
    return p


def gen_random_bytes_json(work: Path) -> Path:
    p = work / "random.json"
    p.write_bytes(random.Random(9).randbytes(4096))
    return p


def gen_random_bytes_yaml(work: Path) -> Path:
    p = work / "random.yaml"
    p.write_bytes(random.Random(10).randbytes(4096))
    return p


def gen_png_as_json(work: Path) -> Path:
    p = work / "picture.json"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + random.Random(11).randbytes(512))
    return p


def gen_gzip_as_json(work: Path) -> Path:
    p = work / "packed.json"
    p.write_bytes(gzip.compress(json.dumps({"id": "gz", "note": CHEST_NOTE}).encode()))
    return p


def gen_utf16_json(work: Path) -> Path:
    p = work / "utf16.json"
    p.write_bytes(json.dumps({"id": "u16", "note": CHEST_NOTE}).encode("utf-16"))
    return p


def gen_yaml_deep(work: Path) -> Path:
    p = work / "deep.yaml"
    p.write_text("id: deep\nnote: " + "[" * 50_000 + "]" * 50_000 + "\n")
    return p


# -- imaging ----------------------------------------------------------------------------------------------


def _nifti_bytes(shape: tuple[int, ...], dtype: Any = "float32", zooms: tuple[float, ...] | None = None) -> bytes:
    import nibabel as nib
    import numpy as np

    img = nib.Nifti1Image(np.zeros(shape, dtype=dtype), np.diag([0.5, 0.5, 5.0, 1.0]))
    if zooms is not None:
        img.header["pixdim"][1:4] = zooms
    return img.to_bytes()


def _good_head_ct(work: Path) -> Path:
    from wardround.tools.segmentation.synthetic import write_head_ct

    path, _ = write_head_ct(work / "good_head_ct.nii.gz", (22.0, 18.0, 14.0))
    return path


def img_truncated_nifti_gz(work: Path) -> Path:
    raw = gzip.decompress(_good_head_ct(work).read_bytes())
    p = work / "truncated.nii.gz"
    p.write_bytes(gzip.compress(raw[: len(raw) // 2]))
    return p


def img_cut_gzip_stream(work: Path) -> Path:
    p = work / "cut_stream.nii.gz"
    p.write_bytes(_good_head_ct(work).read_bytes()[:4000])
    return p


def img_truncated_nifti(work: Path) -> Path:
    raw = gzip.decompress(_good_head_ct(work).read_bytes())
    p = work / "truncated.nii"
    p.write_bytes(raw[: len(raw) // 3])
    return p


def img_header_only_nifti(work: Path) -> Path:
    p = work / "header_only.nii"
    p.write_bytes(_nifti_bytes((64, 64, 32))[:348])
    return p


def img_text_as_nifti(work: Path) -> Path:
    p = work / "notes.nii.gz"
    p.write_text("this is a discharge letter, not an image")
    return p


def img_empty_file(work: Path) -> Path:
    p = work / "empty.nii"
    p.write_bytes(b"")
    return p


def img_flat_2d(work: Path) -> Path:
    p = work / "slice_2d.nii.gz"
    p.write_bytes(gzip.compress(_nifti_bytes((64, 64))))
    return p


def img_single_slice(work: Path) -> Path:
    p = work / "single_slice.nii.gz"
    p.write_bytes(gzip.compress(_nifti_bytes((64, 64, 1))))
    return p


def img_four_d(work: Path) -> Path:
    p = work / "series_4d.nii.gz"
    p.write_bytes(gzip.compress(_nifti_bytes((16, 16, 16, 3))))
    return p


def _huge_header(shape: tuple[int, ...], dtype: str = "int16") -> bytes:
    import nibabel as nib
    import numpy as np

    h = nib.Nifti1Header()
    h.set_data_shape(shape)
    h.set_data_dtype(np.dtype(dtype))
    return h.binaryblock + b"\x00" * 4 + b"\x00" * 4096


def img_huge_header_nifti(work: Path) -> Path:
    p = work / "huge_header.nii"
    p.write_bytes(_huge_header((4096, 4096, 4096)))
    return p


def img_huge_header_nifti_gz(work: Path) -> Path:
    p = work / "huge_header.nii.gz"
    p.write_bytes(gzip.compress(_huge_header((2000, 2000, 600), "float32")))
    return p


def _dicom(path: Path, rows: int = 64, cols: int = 64, frames: int | None = None, uid: str = "1.2.3.4") -> Path:
    import numpy as np
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\x00" * 128)
    ds.Modality, ds.SeriesInstanceUID, ds.SOPInstanceUID = "CT", uid, generate_uid()
    ds.Rows, ds.Columns = rows, cols
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.PixelSpacing, ds.SliceThickness = [0.5, 0.5], 5.0
    ds.ImagePositionPatient, ds.ImageOrientationPatient = [0, 0, 0], [1, 0, 0, 0, 1, 0]
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    if frames:
        ds.NumberOfFrames = frames
    ds.PixelData = np.zeros((min(rows, 64), min(cols, 64)), np.int16).tobytes()  # the header may claim more
    ds.save_as(str(path), enforce_file_format=True)
    return path


def img_truncated_dicom(work: Path) -> Path:
    p = _dicom(work / "slice.dcm")
    cut = work / "truncated.dcm"
    cut.write_bytes(p.read_bytes()[:700])
    return cut


def img_huge_header_dicom(work: Path) -> Path:
    return _dicom(work / "huge_header.dcm", rows=65535, cols=65535, frames=5000)


def img_single_dicom_slice(work: Path) -> Path:
    return _dicom(work / "one_slice.dcm")


def img_dicom_folder_with_garbage(work: Path) -> Path:
    folder = work / "series"
    folder.mkdir(exist_ok=True)
    for i in range(3):
        _dicom(folder / f"im{i}.dcm")
    (folder / "im3.dcm").write_bytes(random.Random(12).randbytes(2048))
    return folder


def img_dicom_folder_mixed_series(work: Path) -> Path:
    folder = work / "mixed"
    folder.mkdir(exist_ok=True)
    _dicom(folder / "a.dcm", uid="1.2.3.4")
    _dicom(folder / "b.dcm", uid="1.2.3.5", rows=32, cols=32)
    return folder


def img_empty_folder(work: Path) -> Path:
    folder = work / "empty_series"
    folder.mkdir(exist_ok=True)
    return folder


def _outside(work: Path) -> Path:
    outside = work.parent / "outside"
    outside.mkdir(exist_ok=True)
    target = outside / "scan.nii.gz"
    if not target.exists():
        shutil.copy(_good_head_ct(outside), target)
    return target


def img_path_traversal(work: Path) -> str:
    _outside(work)
    return "../outside/scan.nii.gz"


def img_symlink_outside(work: Path) -> Path:
    link = work / "linked_scan.nii.gz"
    if not link.is_symlink():
        link.symlink_to(_outside(work))
    return link


def img_symlink_in_series(work: Path) -> Path:
    folder = work / "series_link"
    folder.mkdir(exist_ok=True)
    _dicom(folder / "im0.dcm")
    target = work.parent / "outside" / "im1.dcm"
    target.parent.mkdir(exist_ok=True)
    _dicom(target)
    (folder / "im1.dcm").symlink_to(target)
    return folder


def img_absolute_system_file(work: Path) -> str:
    return "/etc/passwd"


def img_missing(work: Path) -> str:
    return "scans/not_here.nii.gz"


GENERATORS: dict[str, Callable[[Path], Any]] = {
    name[4:]: fn for name, fn in globals().items() if name.startswith("gen_") and callable(fn)
}
IMAGES: dict[str, Callable[[Path], Any]] = {
    name[4:]: fn for name, fn in globals().items() if name.startswith("img_") and callable(fn)
}


# ---------------------------------------------------------------------------------------------------------
# Running one entry


@dataclass
class Outcome:
    """What one entry did: exit code, the stderr lines, the parsed JSON result (if any), a crash (if any)."""

    exit_code: int
    stdout: str
    stderr_lines: list[str]
    result: dict[str, Any] | None
    crash: BaseException | None


def materialise(entry: Entry, work: Path) -> tuple[str, str]:
    """Write the entry's input into ``work``; return (the case path the command receives, the image path or "")."""
    if entry.input is not None:
        src = FILES / entry.input
        dst = work / src.name
        shutil.copy(src, dst)
        return str(dst), ""
    if entry.generate is not None:
        return str(GENERATORS[entry.generate](work)), ""
    case = json.loads(json.dumps(entry.case))
    image = ""
    if entry.image is not None:
        made = IMAGES[entry.image](work)
        image = str(made)
        rel = os.path.relpath(made, work) if isinstance(made, Path) else made
        for study in case.get("imaging", []):
            study["path"] = study["path"].replace("{image}", rel)
    p = work / f"{entry.id}.json"
    p.write_text(json.dumps(case), encoding="utf-8")
    return str(p), image


def run_entry(entry: Entry, work: Path) -> Outcome:
    """Materialise and run one entry through the Typer app in-process (as ``wardround ...`` would)."""
    from typer.testing import CliRunner

    from wardround.cli import app

    target, image = materialise(entry, work)
    args = [a.replace("{input}", target).replace("{image}", image).replace("{work}", str(work))
            for a in entry.command]
    res = CliRunner().invoke(app, args, catch_exceptions=True)
    crash = res.exception if res.exception is not None and not isinstance(res.exception, SystemExit) else None
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    result = None
    if res.exit_code in (0, 1) and "--json" in args:
        try:
            result = json.loads(res.stdout)
        except ValueError:
            result = None
    return Outcome(res.exit_code, res.stdout, lines, result, crash)


ERROR_LINE = re.compile(r"^error: (?P<field>[^:]+): .+")


def check(entry: Entry, out: Outcome) -> list[str]:
    """Problems with ``out`` given the entry's expectation (empty list: as expected)."""
    problems: list[str] = []
    if out.crash is not None:
        return [f"crashed: {type(out.crash).__name__}: {out.crash}"]
    if out.exit_code == 3 or any("Traceback" in ln for ln in out.stderr_lines):
        return [f"internal error: {out.stderr_lines}"]
    if entry.expect == "error":
        if out.exit_code != 2:
            problems.append(f"exit code {out.exit_code}, expected 2 (stderr {out.stderr_lines[:3]})")
        if len(out.stderr_lines) != 1:
            problems.append(f"expected one error line, got {out.stderr_lines}")
        elif entry.field is not None:
            m = ERROR_LINE.match(out.stderr_lines[0])
            if not m or m.group("field") != entry.field:
                problems.append(f"error line does not name {entry.field!r}: {out.stderr_lines[0]!r}")
        if entry.match and out.stderr_lines and not re.search(entry.match, out.stderr_lines[0]):
            problems.append(f"error line does not match {entry.match!r}: {out.stderr_lines[0]!r}")
        return problems
    if out.exit_code != 0 or out.result is None:
        return [f"expected a verified result, got exit {out.exit_code}: {out.stderr_lines[:3]}"]
    result = out.result
    if not result.get("verified") or not (result.get("diagnosis") or {}).get("primary"):
        problems.append("the result has no verified diagnosis")
    issues = result.get("issues") or []
    if entry.expect == "issue":
        if not any(re.search(entry.match or ".", i) for i in issues):
            problems.append(f"no issue matches {entry.match!r}: {issues}")
    elif entry.match and not any(re.search(entry.match, i) for i in issues):
        problems.append(f"no issue matches {entry.match!r}: {issues}")
    return problems
