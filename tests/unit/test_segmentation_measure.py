"""Measurements, evidence and its verifier, agent tools and the CLI, on synthetic volumes."""

from __future__ import annotations

import json
import math

import nibabel as nib
import numpy as np
import pytest
from typer.testing import CliRunner

from wardround.evidence import EvidenceWriter, Ledger
from wardround.tools.segmentation import measure_labels, measure_mask, segment_study, segmentation_tools
from wardround.tools.segmentation.synthetic import ellipsoid


def test_sphere_volume_diameter_centroid():
    spacing = (0.5, 0.5, 2.0)
    shape = (120, 120, 40)
    ball = ellipsoid(shape, (30.0, 30.0, 40.0), (20.0, 20.0, 20.0), spacing)
    affine = np.diag([*spacing, 1.0])
    affine[:3, 3] = [-10.0, 5.0, 100.0]
    image = np.where(ball, 60.0, 0.0)
    (m,) = measure_labels(ball.astype(np.uint8), affine, {1: "sphere"}, image=image)
    assert m.volume_ml == pytest.approx(4 / 3 * math.pi * 20**3 / 1000, rel=0.03)
    assert m.max_diameter_mm == pytest.approx(40.0, abs=2.5)
    assert m.axial_long_axis_mm == pytest.approx(40.0, abs=1.5)
    assert m.axial_short_axis_mm == pytest.approx(40.0, abs=1.5)
    assert m.centroid_mm == pytest.approx([20.0, 35.0, 140.0], abs=0.3)
    assert m.mean_intensity == pytest.approx(60.0)
    assert m.components == 1


def test_ellipse_axes_and_components():
    shape = (100, 100, 20)
    ell = ellipsoid(shape, (50.0, 50.0, 10.0), (30.0, 12.0, 6.0))
    rotated = np.zeros_like(ell)
    rotated[ell] = True
    other = ellipsoid(shape, (10.0, 90.0, 10.0), (3.0, 3.0, 3.0))
    labels = (rotated | other).astype(np.uint8)
    (m,) = measure_labels(labels, np.eye(4))
    assert m.components == 2
    assert m.largest_component_ml == pytest.approx(rotated.sum() / 1000)
    (only,) = measure_labels(rotated.astype(np.uint8), np.eye(4))
    assert only.axial_long_axis_mm == pytest.approx(60.0, abs=1.5)
    assert only.axial_short_axis_mm == pytest.approx(24.0, abs=1.5)
    assert only.axial_slice == 10
    assert only.max_diameter_mm == pytest.approx(60.0, abs=1.5)


def _ct_with_blob(tmp_path):
    hu = np.full((60, 60, 30), -1000.0)
    body = ellipsoid(hu.shape, (30.0, 30.0, 15.0), (27.0, 27.0, 100.0))
    hu[body] = 40.0
    organ = ellipsoid(hu.shape, (30.0, 30.0, 15.0), (10.0, 8.0, 6.0))
    hu[organ] = 120.0
    hu += np.random.default_rng(1).normal(0, 5, hu.shape)
    path = tmp_path / "ct.nii.gz"
    nib.save(nib.Nifti1Image(hu.astype(np.float32), np.diag([1.0, 1.0, 1.0, 1.0])), str(path))
    return path, organ


def test_evidence_records_and_verifies(tmp_path):
    path, organ = _ct_with_blob(tmp_path)
    writer = EvidenceWriter("RA", "radiology")
    result = segment_study(path, "region", prompt=(30, 30, 15), out_dir=tmp_path / "run", writer=writer)
    ev = writer.items[result.evidence_id]
    assert ev.kind == "imaging" and ev.tool == "segmentation:region" and ev.unit == "mL"
    assert ev.value == pytest.approx(organ.sum() / 1000, rel=0.15)
    assert ev.artifact_path == result.mask and ev.sha256 == result.sha256
    ledger = Ledger()
    ledger.extend(writer.items.values())
    assert ledger.verify().ok
    # a recorded volume that the mask does not support fails verification
    forged = ev.model_copy(update={"measurements": {**ev.measurements, "labels": [
        {**ev.measurements["labels"][0], "volume_ml": ev.measurements["labels"][0]["volume_ml"] * 2}]}})
    bad = Ledger()
    bad.add(forged)
    report = bad.verify()
    assert not report.ok and "measures" in report.failures[0].reason
    # an edited mask fails on its hash
    img = nib.load(result.mask)
    data = np.asanyarray(img.dataobj).copy()
    data[0, 0, 0] = 1
    nib.save(nib.Nifti1Image(data, img.affine), result.mask)
    assert "sha256" in ledger.verify().failures[0].reason


def test_measure_mask_reads_back_the_same_numbers(tmp_path):
    path, _ = _ct_with_blob(tmp_path)
    result = segment_study(path, "region", prompt=(30, 30, 15), out_dir=tmp_path / "run")
    again = measure_mask(result.mask, 1, image=path, name="region")
    assert again.model_dump() == result.label(1).model_dump()
    assert result.overlay and (tmp_path / "run").joinpath(result.overlay.split("/")[-1]).is_file()


def test_agent_tools_are_structured_tools(tmp_path):
    path, _ = _ct_with_blob(tmp_path)
    segment, measure = segmentation_tools()
    assert segment.name == "segment" and measure.name == "measure"
    assert "method" in segment.args and "label" in measure.args
    out = segment.invoke({"study": str(path), "method": "region", "prompt": [30, 30, 15],
                          "out_dir": str(tmp_path / "t")})
    assert out["labels"][0]["volume_ml"] > 0
    measured = measure.invoke({"mask": out["mask"], "label": 1})
    assert measured["volume_ml"] == pytest.approx(out["volume_ml"])


def test_cli_json_and_errors(tmp_path):
    from wardround.cli import app

    path, _ = _ct_with_blob(tmp_path)
    runner = CliRunner()
    res = runner.invoke(app, ["segment", str(path), "--method", "region", "--prompt-voxel", "30,30,15",
                              "--out", str(tmp_path / "cli"), "--json"])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    assert payload["mask"].endswith(".mask.nii.gz")
    assert {"label", "name", "volume_ml", "max_diameter_mm", "centroid_mm"} <= set(payload["labels"][0])
    bad = runner.invoke(app, ["segment", str(tmp_path / "missing.nii.gz"), "--method", "body", "--out",
                              str(tmp_path)])
    assert bad.exit_code == 2
    assert "no such file" in bad.output and "Traceback" not in bad.output
    bad_prompt = runner.invoke(app, ["segment", str(path), "--method", "region", "--prompt", "1,2",
                                     "--out", str(tmp_path)])
    assert bad_prompt.exit_code == 2 and "three numbers" in bad_prompt.output
