"""Shared test helpers. `run_cli` runs the real CLI (with its error handling) through Click's CliRunner."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_SPEC = ROOT / "examples" / "minilm" / "leanserve.yaml"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _hypothesis_profiles() -> None:
    """Property tests explore new random examples on every developer run; CI (`HYPOTHESIS_PROFILE=ci`, set by
    .ci/run) replays a fixed set, so a landing is never refused by a chance find. Failures found locally become
    @example cases."""
    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
    settings.register_profile("dev", print_blob=True)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


_hypothesis_profiles()


def run_cli(*args: str, input: str | None = None):
    """Invoke `leanserve ARGS` in-process; returns Click's Result (stdout, stderr, exit_code)."""
    from toolkit.cli import cli

    runner = CliRunner()
    return runner.invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)


@pytest.fixture
def example_spec_text() -> str:
    return EXAMPLE_SPEC.read_text()
