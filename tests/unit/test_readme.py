"""The README's fresh-machine commands are the ones CI runs."""

from __future__ import annotations

import re


def test_ci_runs_the_readme_test_command(repo_root):
    readme = (repo_root / "README.md").read_text()
    commands = re.findall(r"```bash\n(python3\.11 -m venv .*?)\n```", readme)
    assert len(commands) == 2, commands
    demo, tests = commands
    assert "wardround run examples/cases/" in demo
    assert "pytest" in tests
    ci = (repo_root / ".ci" / "run").read_text()
    assert tests in ci
    for command in commands:
        assert "-c constraints.txt" in command  # exact pins: the CPU torch wheel, never a CUDA build
