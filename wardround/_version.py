"""The installed wardround version.

A leaf of its own so that modules inside the package (the CLI, the evaluation manifest) can name the version
without importing the package root, which is the public API on top of everything (DESIGN.md, "Imports point
one way"). ``wardround.__version__`` re-exports it.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("wardround")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

__all__ = ["__version__"]
