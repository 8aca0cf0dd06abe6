"""Fixtures for package / serve / bench tests: a tiny random BERT built into variants with the compress
library (the one way the project makes test models), and packages of it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import run_cli

SPEC_TEMPLATE = """\
name: tiny
model:
  source: {source}
  task: {task}
  max_sequence_length: 64
compression:
  variants: [onnx-fp32, onnx-int8]
sla:
  p95_ms: 50
  peak_rps: 10
traffic:
  pattern: {{kind: constant}}
"""


def _build(root: Path, task: str) -> dict:
    from toolkit.compress import build_variants
    from toolkit.compress.build import BuildSettings
    from toolkit.compress.testing import tiny_model
    from toolkit.spec import load_spec

    source = tiny_model(root / "hf", task=task)
    spec_path = root / "leanserve.yaml"
    spec_path.write_text(SPEC_TEMPLATE.format(source=source, task=task))
    spec = load_spec(spec_path)
    settings = BuildSettings.quick()
    settings.measure_latency = False
    build_variants(spec, root / "compress", settings=settings)
    return {"variants": root / "compress", "spec": spec_path, "loaded_spec": spec}


@pytest.fixture(scope="session")
def tiny(tmp_path_factory) -> dict:
    """{'variants': folder with variants.json (onnx-fp32, onnx-int8), 'spec': leanserve.yaml path}."""
    return _build(tmp_path_factory.mktemp("tiny"), "feature-extraction")


@pytest.fixture(scope="session")
def tiny_classifier(tmp_path_factory) -> dict:
    return _build(tmp_path_factory.mktemp("tiny-cls"), "text-classification")


@pytest.fixture(scope="session")
def tiny_package(tiny, tmp_path_factory) -> Path:
    """A CPU package of the tiny onnx-fp32 variant (do not modify: copy it first)."""
    out = tmp_path_factory.mktemp("pkg") / "package"
    result = run_cli("package", tiny["variants"], "--variant", "onnx-fp32", "--target", "cpu", "--out", out, "--spec", tiny["spec"],
                     "--cores", "2")
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def package_copy(tiny_package, tmp_path) -> Path:
    dest = tmp_path / "package"
    shutil.copytree(tiny_package, dest)
    return dest


def leftovers(marker: str, shm_prefix: str | None = None) -> tuple[list[int], list[str]]:
    """tritonserver / Python-stub processes whose command line holds ``marker`` (a server's temp folder),
    and /dev/shm regions with the server's prefix."""
    procs = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cmd = (d / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if ("tritonserver" in cmd or "triton_python_backend_stub" in cmd) and marker in cmd:
                procs.append(int(d.name))
    shm = sorted(p.name for p in Path("/dev/shm").glob(f"{shm_prefix}*")) if shm_prefix else []
    return procs, shm
