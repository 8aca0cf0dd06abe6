"""The per-step roofline: bandwidth-bound decode at small batch, compute-bound at large batch, TP."""

from __future__ import annotations

import pytest

from toolkit.errors import InputError
from toolkit.perf.llm import Efficiency, StepModel, architecture, gpu

EFF = Efficiency(compute=0.6, bandwidth=0.8, kv_bandwidth=0.5, step_overhead_ms=2.0, per_seq_overhead_ms=0.0)


def test_decode_at_batch_1_reads_the_weights_once():
    a, d = architecture("llama-3.1-8b"), gpu("H100")
    m = StepModel(a, "bf16", d, 1, EFF)
    weights_ms = 1e3 * a.weight_bytes("bf16") / (d.bandwidth * 0.8)
    kv_ms = 1e3 * 1000 * 131072 / (d.bandwidth * 0.5)
    assert m.decode_ms(1, 1000) == pytest.approx(weights_ms + kv_ms + 2.0, rel=1e-6)
    assert m.bound(1, 1000) == "bandwidth"
    assert m.itl_floor_ms() == pytest.approx(1e3 * a.weight_bytes("bf16") / d.bandwidth)


def test_decode_turns_compute_bound_at_large_batch_and_short_context():
    m = StepModel("llama-3.1-8b", "bf16", gpu("H100"), 1, EFF)
    assert m.bound(1, 16) == "bandwidth" and m.bound(4096, 16) == "compute"
    flops = 4096 * 2 * architecture("llama-3.1-8b").matmul_parameters
    assert m.decode_ms(4096, 16) >= 1e3 * flops / (989e12 * 0.6)


def test_prefill_is_compute_bound_and_fp8_compute_halves_it_where_supported():
    a = architecture("llama-3.1-8b")
    h100 = StepModel(a, "bf16", gpu("H100"), 1, EFF)
    assert h100.prefill_ms(2048) >= 1e3 * 2 * a.matmul_parameters * 2048 / (989e12 * 0.6)
    fp8 = StepModel(a, "fp8", gpu("H100"), 1, EFF)
    assert fp8.prefill_ms(2048) < 0.6 * h100.prefill_ms(2048)
    a100 = StepModel(a, "bf16", gpu("A100-80GB"), 1, EFF)
    a100_fp8 = StepModel(a, "fp8", gpu("A100-80GB"), 1, EFF)  # weight-only: same matmul rate, fewer bytes
    assert a100_fp8.prefill_ms(2048) == pytest.approx(a100.prefill_ms(2048), rel=0.02)
    assert a100_fp8.decode_ms(1, 512) < 0.7 * a100.decode_ms(1, 512)


def test_tensor_parallelism_splits_weights_and_kv_and_pays_all_reduces():
    d = gpu("H100", count=8, family="p5")
    one = StepModel("llama-3.1-70b", "bf16", d, 1, EFF)
    four = StepModel("llama-3.1-70b", "bf16", d, 4, EFF)
    assert four.weight_bytes_per_gpu == pytest.approx(one.weight_bytes_per_gpu / 4)
    assert four.kv_bytes_per_token_per_gpu == pytest.approx(one.kv_bytes_per_token_per_gpu / 4)
    assert four._t_comm_fixed == pytest.approx(2 * 80 * d.link_latency_us * 1e-6)
    pcie = StepModel("llama-3.1-70b", "bf16", gpu("H100", count=8, family="g5"), 4, EFF)
    assert pcie.prefill_ms(2048) > four.prefill_ms(2048)  # PCIe all-reduces cost more than NVLink
    assert one.decode_ms(1, 1000) / four.decode_ms(1, 1000) > 2.5
    with pytest.raises(InputError, match="needs 8 GPUs"):
        StepModel("llama-3.1-8b", "bf16", gpu("A10G"), 8, EFF)
