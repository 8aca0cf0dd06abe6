"""`leanserve package` asks the model family for the repository layout: a family registered by a test is packaged
with its own output tensor and post-processing step, and nothing in toolkit/package names it."""

from __future__ import annotations

import pytest

from toolkit.families import family_for, register, unregister
from toolkit.families.embedding import EmbeddingFamily


class ToyVectors(EmbeddingFamily):
    """An embedding-shaped family whose ensemble returns 'vector'."""

    task = "toy-vectors"
    title = "toy vectors for tests"
    triton_output = "vector"


@pytest.fixture
def toy_family():
    register(ToyVectors.task, ToyVectors())
    try:
        yield family_for(ToyVectors.task)
    finally:
        unregister(ToyVectors.task)


def test_a_registered_family_is_packaged_with_its_own_output(toy_family, tmp_path):
    from tests.serve.conftest import _build
    from toolkit.package import PackageOptions, build_package, pbtxt
    from toolkit.package.check import check_repository

    built = _build(tmp_path / "build", ToyVectors.task)
    result = build_package(built["variants"], "onnx-fp32", tmp_path / "package", PackageOptions(target="cpu", cores=2),
                           spec=built["loaded_spec"])
    m = result.manifest
    assert m.task == "toy-vectors" and m.output_name == "vector"
    assert m.models == {"tokenizer": "tokenizer", "model": "model", "pooling": "pooling", "ensemble": "ensemble"}
    repo = tmp_path / "package" / "model_repository"
    ens = pbtxt.read(repo / "ensemble/config.pbtxt")
    assert [o.name for o in ens.output] == ["vector"] and list(ens.output[0].dims) == [32]
    assert [s.model_name for s in ens.ensemble_scheduling.step] == ["tokenizer", "model", "pooling"]
    assert [o.name for o in pbtxt.read(repo / "pooling/config.pbtxt").output] == ["vector"]
    assert "OUTPUT = 'vector'" in (tmp_path / "package" / "locustfile.py").read_text()
    assert check_repository(tmp_path / "package", "cpu").ok
