"""Benchmark the clinical calculators: per-call latency and the MedCalc-Bench oracle evaluation wall time.

Run: .venv/bin/python examples/benchmarks/bench_calculators.py [--data PATH/TO/dev.csv]
Prints: median/p95 latency of one ``calculate()`` call for several calculators, and the wall time of the full
oracle evaluation as a separate process (``wardround eval medcalc``), the way a user runs it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DATA = Path(os.environ.get("WARDROUND_DATA", REPO.parent / "shared" / "data")) / "medcalc_bench" / "dev.csv"

CASES = {
    "bmi": {"weight": "80 kg", "height": "180 cm"},
    "creatinine_clearance": {"age": [71, "years"], "sex": "Male", "weight": [59, "kg"], "height": [155, "cm"],
                             "creatinine": [1.42, "mg/dL"]},
    "ckd_epi_2021": {"age": 80, "sex": "male", "creatinine": "77 µmol/L"},
    "albumin_corrected_delta_ratio": {"Sodium": [137, "mEq/L"], "Chloride": [116, "mEq/L"],
                                      "Bicarbonate": [12.1, "mmol/L"], "Albumin": [37, "g/L"]},
    "meld_na": {"creatinine": 2.0, "Bilirubin": 0.7, "international normalized ratio": 1.59, "Sodium": 142,
                "Dialysis at least twice in the past week": False,
                "Continuous veno-venous hemodialysis for ≥24 hours in the past week": False},
    "qtc_bazett": {"Heart Rate or Pulse": [82, "beats per minute"], "QT interval": [330, "msec"]},
    "estimated_due_date": {"Last menstrual date": "12/11/2013", "cycle length": 22},
    "morphine_milligram_equivalents": {"OxyCODONE Dose": [60, "mg"], "OxyCODONE Dose Per Day": [1, "per day"],
                                       "Codeine Dose": [10, "mg"], "Codeine Dose Per Day": [2, "per day"]},
}


def bench_calls(repeats: int = 2000) -> None:
    """Median and p95 wall time of one calculate() call (aliases, unit conversion, validation, compute)."""
    from wardround.tools.calculators import calculate

    print(f"{'calculator':34s} {'median µs':>10s} {'p95 µs':>10s}")
    medians = []
    for cid, inputs in CASES.items():
        calculate(cid, inputs)  # warm the alias cache
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter_ns()
            calculate(cid, inputs)
            times.append((time.perf_counter_ns() - t0) / 1000.0)
        times.sort()
        med = statistics.median(times)
        medians.append(med)
        print(f"{cid:34s} {med:10.1f} {times[int(0.95 * len(times))]:10.1f}")
    print(f"{'median over calculators':34s} {statistics.median(medians):10.1f}   (target ≤ 200 µs)")


def bench_oracle(data: Path) -> None:
    """Wall time of the whole `wardround eval medcalc --mode oracle` process."""
    if not data.is_file():
        print(f"oracle evaluation skipped: {data} not found (set WARDROUND_DATA)")
        return
    exe = shutil.which("wardround", path=str(Path(sys.executable).parent)) or "wardround"
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        proc = subprocess.run([exe, "eval", "medcalc", "--mode", "oracle", "--data", str(data), "--out", out],
                              capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            print(proc.stderr)
            raise SystemExit(proc.returncode)
        import json

        s = json.loads((Path(out) / "summary.json").read_text())
    print(f"oracle evaluation: {s['n']} rows, accuracy {s['accuracy']:.4f} (original labels), accuracy_corrected "
          f"{s['accuracy_corrected']} on {s['n_corrected']} corrected labels")
    print(f"oracle evaluation wall time (whole process): {wall:.2f} s   (target ≤ 3 s); in-process "
          f"{s['elapsed_s']:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeats", type=int, default=2000)
    args = parser.parse_args()
    bench_calls(args.repeats)
    bench_oracle(args.data)


if __name__ == "__main__":
    main()
