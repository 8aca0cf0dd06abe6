"""Shared test models for the LLM package / serve / bench tests: a tiny random Llama decoder (2 layers, hidden 64,
vocab ~1000, an offline byte-level BPE tokenizer; the decoder library's ``tiny_decoder``), its ONNX export with KV
cache (optimum, ``text-generation-with-past``) and a CPU package of it. Built once per test session (cached),
imported by the ``test_llm_*`` modules."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import pytest


@functools.lru_cache(maxsize=1)
def _root() -> Path:
    import atexit
    import shutil

    root = Path(tempfile.mkdtemp(prefix="leanserve-test-llm-"))
    atexit.register(shutil.rmtree, root, True)  # built once per test session, removed when it ends
    return root


@functools.lru_cache(maxsize=1)
def tiny_hf() -> Path:
    """A Hugging Face folder (config.json, model.safetensors, tokenizer files): the GPU (vLLM) variant's layout."""
    from toolkit.compress.decoder.testing import tiny_decoder

    return tiny_decoder(_root() / "hf-fp32", num_layers=2)


@functools.lru_cache(maxsize=1)
def tiny_onnx() -> Path:
    """The ONNX export with KV cache and the tokenizer files: the CPU variant's layout."""
    from transformers import AutoModelForCausalLM

    from toolkit.compress.decoder.export import export_decoder

    hf = tiny_hf()
    model = AutoModelForCausalLM.from_pretrained(hf).eval()
    dest = _root() / "onnx-fp32"
    export_decoder(model, dest, tokenizer_dir=hf)
    return dest


@functools.lru_cache(maxsize=1)
def tiny_cpu_package() -> Path:
    """A CPU LLM package of the ONNX variant (one instance × 2 threads; do not modify: copy it first)."""
    from toolkit.package.llm import LLMPackageOptions, build_llm_package

    out = _root() / "pkg-cpu"
    build_llm_package(tiny_onnx(), "onnx-fp32", out, LLMPackageOptions(target="cpu", cores=2, threads=2))
    return out


@pytest.fixture
def llm_hf() -> Path:
    return tiny_hf()


@pytest.fixture
def llm_onnx() -> Path:
    return tiny_onnx()


@pytest.fixture
def llm_package() -> Path:
    return tiny_cpu_package()


def test_the_tiny_decoder_is_small_and_exports_with_kv_cache():
    import json

    from toolkit.compress.decoder.export import check_io

    cfg = json.loads((tiny_hf() / "config.json").read_text())
    assert cfg["num_hidden_layers"] == 2 and cfg["hidden_size"] == 64 and 500 <= cfg["vocab_size"] <= 1100  # the tokenizer trained offline has ~540 tokens
    assert check_io(tiny_onnx() / "model.onnx")["layers"] == 2
