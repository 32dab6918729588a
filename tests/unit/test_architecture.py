"""Architecture contracts: imports point one way and never in a circle (DESIGN.md, "Imports point one way").

The layers are import-linter contracts in pyproject.toml (``[tool.importlinter]``); ``lint-imports`` runs them
from the command line and the first test here runs them too. The second test adds a module-level check that
import-linter does not make: no module of wardround reaches itself through imports, whether the modules are
siblings or a package and its own submodule. Function-level and TYPE_CHECKING imports count in both.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "wardround"


def test_import_linter_contracts_are_kept():
    """Every contract of pyproject.toml holds (layers, nothing imports the root, acyclic siblings)."""
    code = "from importlinter.cli import lint_imports_command; lint_imports_command()"
    out = subprocess.run([sys.executable, "-c", code, str(ROOT / "pyproject.toml"), "--no-cache", "--no-logo"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, f"import-linter contracts broken:\n{out.stdout}\n{out.stderr}"
    assert " kept, 0 broken." in out.stdout, out.stdout


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(PACKAGE, cache_dir=None)


def test_no_import_cycles_between_modules(graph: grimp.ImportGraph):
    """No module imports a module that imports it back, directly or through others."""
    cycles = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            if imported != importer and graph.chain_exists(importer=imported, imported=importer):
                back = graph.find_shortest_chain(importer=imported, imported=importer) or ()
                cycles.append(" -> ".join((importer, *back)))
    assert not cycles, "import cycles:\n" + "\n".join(cycles)

