"""README.md stays in step with the CLI and names the two commands."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_command_reference_is_current():
    out = subprocess.run([sys.executable, "scripts/gen_cli_reference.py", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_readme_gives_the_two_commands():
    text = (ROOT / "README.md").read_text()
    assert "make demo" in text and "make test" in text


def test_ci_runs_make_test():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
