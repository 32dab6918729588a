"""Limits and paths that users may override through ``WARDROUND_*`` environment variables."""

from __future__ import annotations

import os


def env_int(name: str, default: int, minimum: int = 1) -> int:
    """Integer setting from the environment variable ``name``; ``default`` when unset or not a number."""
    raw = os.environ.get(name, "").strip()
    try:
        return max(minimum, int(raw)) if raw else default
    except ValueError:
        return default
