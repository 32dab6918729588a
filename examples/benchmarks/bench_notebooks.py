"""Wall time to execute every notebook under examples/notebooks headless (target: <= 3 minutes together).

Usage: python examples/benchmarks/bench_notebooks.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

FOLDER = Path(__file__).resolve().parents[1] / "notebooks"


def main() -> None:
    total = 0.0
    for path in sorted(FOLDER.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory():
            NotebookClient(nb, timeout=600, kernel_name="python3",
                           resources={"metadata": {"path": str(path.parent)}}).execute()
        dt = time.perf_counter() - t0
        total += dt
        print(f"{path.name}: {dt:.1f} s")
    print(f"all notebooks: {total:.1f} s (target <= 180 s)")


if __name__ == "__main__":
    main()
