"""Fixtures for compress tests: a tiny random BERT, specs that point at it, and quick build settings."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory) -> Path:
    from toolkit.compress.testing import tiny_model

    return tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="session")
def tiny_classifier_dir(tmp_path_factory) -> Path:
    from toolkit.compress.testing import tiny_model

    return tiny_model(tmp_path_factory.mktemp("tinycls") / "model", task="text-classification")


def write_spec(folder: Path, source: str, variants: list[str], *, task: str = "feature-extraction", extra: str = "") -> Path:
    """A leanserve.yaml in ``folder`` for ``source``; texts default to the builtin tweets."""
    folder.mkdir(parents=True, exist_ok=True)
    body = textwrap.dedent(f"""\
        name: test-model
        model: {{source: "{source}", task: {task}, max_sequence_length: 64}}
        compression:
          variants: [{", ".join(variants)}]
          calibration_text: builtin:tweets
          distillation_text: builtin:tweets
          labelled_data: builtin:tweets
        """)
    body += textwrap.indent(textwrap.dedent(extra), "  ") if extra else ""
    body += "sla: {p95_ms: 50, peak_rps: 10}\ntraffic: {pattern: {kind: constant}}\n"
    path = folder / "leanserve.yaml"
    path.write_text(body)
    return path


def quick_settings(latency: bool = False):
    from toolkit.compress.build import BuildSettings

    s = BuildSettings.quick()
    s.measure_latency = latency
    s.threads = 1
    return s
