"""Speed and memory of the segmentation tools, as whole processes (interpreter start, imports, I/O, method,
measurements, mask, overlay), each run in a fresh child process pinned to two CPU cores.

    .venv/bin/python examples/benchmarks/bench_segmentation.py [--data PATH] [--repeat N]

Targets: ``tissue`` on MNI152, ``flair_lesion`` on BRATS pat0001 and ``region`` on the DICOM series each <= 5 s
wall and <= 2 GB peak RSS (the DICOM region <= 1 GB).
Data (read from WARDROUND_DATA, default ../shared/data): MNI152 2009a templates (nilearn, BSD-3-Clause);
BRATS 2013 pat0001 via deepmedic (CC BY-NC-SA 3.0, non-commercial); TotalSegmentator example CT (Apache-2.0).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CHILD = """
import json, sys
from wardround.tools.segmentation import segment_study
args = json.loads(sys.argv[1])
r = segment_study(args["image"], args["method"], prompt=args.get("prompt"), bundle=args.get("bundle"),
                  out_dir=args["out"], overlay=args.get("overlay", True))
print(json.dumps({"mask": r.mask, "volume_ml": r.volume_ml, "seconds_in_call": r.seconds}))
"""


def _pin() -> None:
    if hasattr(os, "sched_setaffinity"):
        cores = sorted(os.sched_getaffinity(0))[:2]
        os.sched_setaffinity(0, cores)


def run_child_exact(spec: dict) -> dict:
    """Like ``run_child`` but reaps the child with ``os.wait4`` to read its own peak RSS."""
    env = dict(os.environ, OMP_NUM_THREADS="2", MKL_NUM_THREADS="2", WARDROUND_THREADS="2")
    with tempfile.TemporaryFile() as out_f, tempfile.TemporaryFile() as err_f:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(spec)], stdout=out_f, stderr=err_f,
                                env=env, preexec_fn=_pin, cwd=str(REPO))
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out_f.seek(0)
        err_f.seek(0)
        out, err = out_f.read().decode(), err_f.read().decode()
    if proc.returncode != 0:
        raise RuntimeError(f"{spec['method']} failed: {err[-2000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mb": usage.ru_maxrss / 1024.0,
            **result}


def dice(mask_path: str, truth) -> float:
    import nibabel as nib
    import numpy as np

    m = np.asanyarray(nib.load(mask_path).dataobj)
    return truth(m)


def make_unet_bundle(folder: Path) -> tuple[Path, Path]:
    """A tiny 3-D UNet saved as a MONAI bundle, and a 128^3 volume to run it on."""
    import nibabel as nib
    import numpy as np
    import torch
    from monai.networks.nets import UNet

    torch.manual_seed(0)
    net = UNet(spatial_dims=3, in_channels=1, out_channels=2, channels=(8, 16, 32), strides=(2, 2), num_res_units=1)
    (folder / "configs").mkdir(parents=True, exist_ok=True)
    (folder / "models").mkdir(exist_ok=True)
    config = {
        "network_def": {"_target_": "monai.networks.nets.UNet", "spatial_dims": 3, "in_channels": 1,
                        "out_channels": 2, "channels": [8, 16, 32], "strides": [2, 2], "num_res_units": 1},
        "preprocessing": {"_target_": "Compose", "transforms": [
            {"_target_": "LoadImaged", "keys": "image", "image_only": True},
            {"_target_": "EnsureChannelFirstd", "keys": "image"},
            {"_target_": "ScaleIntensityd", "keys": "image"}]},
        "inferer": {"_target_": "SlidingWindowInferer", "roi_size": [64, 64, 64], "sw_batch_size": 2,
                    "overlap": 0.25, "mode": "gaussian"},
    }
    (folder / "configs" / "inference.json").write_text(json.dumps(config))
    torch.save(net.state_dict(), folder / "models" / "model.pt")
    image = folder.parent / "cube128.nii.gz"
    data = np.random.default_rng(0).normal(size=(128, 128, 128)).astype(np.float32)
    nib.save(nib.Nifti1Image(data, np.diag([1.2, 1.2, 1.5, 1.0])), str(image))
    return folder, image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("WARDROUND_DATA", str(REPO.parent / "shared" / "data")))
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; the median is reported")
    args = parser.parse_args()
    import numpy as np

    imaging = Path(args.data) / "imaging"
    out = Path(tempfile.mkdtemp(prefix="bench_seg_"))
    cases = []
    if imaging.is_dir():
        import nibabel as nib

        mni = imaging / "nilearn_mni152"
        wm = np.asanyarray(nib.load(str(mni / "mni_icbm152_wm_tal_nlin_sym_09a_converted.nii.gz")).dataobj) >= 127.5
        gm = np.asanyarray(nib.load(str(mni / "mni_icbm152_gm_tal_nlin_sym_09a_converted.nii.gz")).dataobj) >= 127.5
        brats = imaging / "brats2013" / "pat0001"
        tumour = np.asanyarray(nib.load(str(brats / "OTMultiClass.nii.gz")).dataobj) > 0

        def d(a, b):
            return 2.0 * float((a & b).sum()) / float(a.sum() + b.sum())

        cases += [
            ("tissue / MNI152 T1 197x233x189", {"image": str(mni / "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"),
                                                "method": "tissue"},
             lambda m: f"Dice WM {d(m == 3, wm):.3f}, GM {d(m == 2, gm):.3f}", 5.0),
            ("flair_lesion / BRATS FLAIR 240x240x155", {"image": str(brats / "Flair_subtrMeanDivStd.nii.gz"),
                                                         "method": "flair_lesion"},
             lambda m: f"whole-tumour Dice {d(m > 0, tumour):.3f}", 5.0),
            ("lungs / TotalSegmentator CT 122x101x30",
             {"image": str(imaging / "totalsegmentator_example" / "example_ct_sm.nii.gz"), "method": "lungs"},
             None, None),
            ("region / DICOM series 512x512x20",
             {"image": str(imaging / "totalsegmentator_example" / "example_ct_dicom"), "method": "region",
              "prompt": [83.5, 183.6, -784.5]}, None, 5.0),
        ]
    else:
        print(f"no imaging data at {imaging}: only the sliding-window case runs")
    bundle, cube = make_unet_bundle(out / "unet_bundle")
    cases.append(("model / tiny UNet bundle, sliding window 128^3 (roi 64^3)",
                  {"image": str(cube), "method": "model", "bundle": str(bundle), "overlay": False}, None, None))

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{os.cpu_count()} CPUs, load average {load:.1f} (wall times grow with other load; CPU s do less)")
    print(f"{'case':58s} {'wall s':>7s} {'CPU s':>6s} {'peak RSS MB':>12s}  quality")
    for name, spec, quality, target in cases:
        spec = {**spec, "out": str(out / spec["method"])}
        runs = [run_child_exact(spec) for _ in range(args.repeat)]
        walls = sorted(r["wall_s"] for r in runs)
        rss = max(r["peak_rss_mb"] for r in runs)
        median = walls[len(walls) // 2]
        cpu = sorted(r["cpu_s"] for r in runs)[len(runs) // 2]
        note = dice(runs[-1]["mask"], quality) if quality else f"{runs[-1]['volume_ml']:.1f} mL"
        flag = ""
        if target is not None:
            flag = "  OK" if median <= target and rss <= 2048 else "  OVER TARGET"
        print(f"{name:58s} {median:7.2f} {cpu:6.2f} {rss:12.0f}  {note}  (runs: {', '.join(f'{w:.2f}' for w in walls)}){flag}")
    print(f"artifacts in {out}")


if __name__ == "__main__":
    main()
