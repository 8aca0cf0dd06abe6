"""Memory feasibility: weights + reserve + KV within the budget, per GPU under TP; the KV limit on concurrency."""

from __future__ import annotations

import pytest

from toolkit.perf.llm import fit_message, gpu, plan_memory, smallest_fit, tp_degrees


@pytest.mark.parametrize("acc", ["A100-80GB", "H100"])
def test_70b_bf16_does_not_fit_one_80_gb_gpu_but_fits_tp4_and_tp8(acc):
    d = gpu(acc, count=8)
    assert not plan_memory("llama-3.1-70b", "bf16", d, 1).fits
    for tp in (4, 8):
        plan = plan_memory("llama-3.1-70b", "bf16", d, tp)
        assert plan.fits and plan.kv_limit_seqs >= 10
    assert smallest_fit("llama-3.1-70b", "bf16", d).tp == 2  # 2 x 80 GB holds 131 GiB of weights too


def test_kv_pool_matches_what_vllm_logged_for_qwen2_7b_on_an_a100():
    # dennislee22/vLLM-benchmarking: vLLM 0.10.1.1 logged 24.83 GiB (utilisation 0.5) and 5.01 GiB (0.25)
    d = gpu("A100-80GB")
    assert plan_memory("qwen2-7b", "bf16", d, gpu_memory_utilization=0.5).kv_pool_gib == pytest.approx(24.83, rel=0.02)
    assert plan_memory("qwen2-7b", "bf16", d, gpu_memory_utilization=0.25).kv_pool_gib == pytest.approx(5.01, rel=0.03)


def test_kv_limit_bounds_concurrency_and_fp8_weights_leave_more_kv():
    d = gpu("A10G")
    bf16 = plan_memory("llama-3.1-8b", "bf16", d, seq_tokens=768)
    fp8 = plan_memory("llama-3.1-8b", "fp8", d, seq_tokens=768)
    assert bf16.kv_limit_seqs == bf16.kv_tokens // 768 and bf16.max_concurrency == min(bf16.kv_limit_seqs, 256)
    assert fp8.kv_tokens > 2 * bf16.kv_tokens
    assert bf16.headroom_gib(0) == pytest.approx(bf16.kv_pool_gib)


def test_a_model_that_fits_nothing_says_how_much_it_needs_and_what_would_fit():
    devices = [gpu("A10G"), gpu("L4"), gpu("H100", count=8)]
    msg = fit_message("llama-3.1-70b", "bf16", devices, seq_tokens=4096)
    assert "fits no single accelerator: needs" in msg and "GiB" in msg and "H100 (TP=2)" in msg
    assert "A10G" not in msg.split("; fits")[1]


def test_tp_degrees_divide_the_heads_and_stay_within_the_gpus():
    assert tp_degrees("llama-3.1-8b", gpu("H100", count=8)) == [1, 2, 4, 8]
    assert tp_degrees("smollm2-135m", gpu("H100", count=8)) == [1]  # 9 heads: no power of two above 1 divides them
    assert tp_degrees("llama-3.1-8b", gpu("A10G", count=4)) == [1, 2, 4]
