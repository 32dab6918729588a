"""Shared fixtures. Tests never touch the network; real external data comes from WARDROUND_DATA."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
CASES = REPO / "examples" / "cases"


def data_root() -> Path:
    """The external data folder: $WARDROUND_DATA, else ../shared/data beside the repository."""
    return Path(os.environ.get("WARDROUND_DATA", REPO.parent / "shared" / "data")).resolve()


@pytest.fixture(scope="session")
def wardround_data() -> Path:
    """Path of the external data; skips the test with a clear reason when it is absent."""
    root = data_root()
    if not root.is_dir():
        pytest.skip(f"external data not found at {root} (set WARDROUND_DATA to the folder of the dev splits)")
    return root


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root."""
    return REPO


@pytest.fixture(scope="session")
def cases_dir() -> Path:
    """examples/cases."""
    return CASES
