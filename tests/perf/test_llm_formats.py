"""Which devices run which model formats, and at which peak (the FP8 rule)."""

from __future__ import annotations

import pytest

from toolkit.perf.llm import cpu, formats_for, gpu, support


@pytest.mark.parametrize("acc", ["L4", "L40S", "H100", "H200"])
def test_fp8_computes_natively_on_compute_capability_8_9_and_newer(acc):
    s = support("fp8", gpu(acc))
    assert s.runs and s.compute == "fp8" and not s.weight_only
    assert gpu(acc).compute_capability >= 8.9


@pytest.mark.parametrize("acc", ["T4", "A10G", "A100", "A100-80GB"])
def test_fp8_on_older_gpus_saves_memory_only(acc):
    s = support("fp8", gpu(acc))
    assert s.runs and s.weight_only and s.compute == "fp16"
    assert "weight-only" in s.reason


def test_fp8_does_not_run_on_volta_and_bf16_runs_as_fp16_on_turing():
    assert not support("fp8", gpu("V100")).runs
    t4 = support("bf16", gpu("T4"))
    assert t4.runs and t4.compute == "fp16" and "fp16" in t4.reason


def test_cpu_formats_and_gpu_formats_do_not_mix():
    host = cpu("c7i", fp32_gflops=500, int8_gops=2000, bw_gbs=40, memory_gib=16)
    assert support("int4", host).runs and support("int8", host).compute == "int8"
    assert not support("fp8", host).runs and not support("bf16", host).runs
    assert not support("int4", gpu("H100")).runs
    names = {f.name for f, _ in formats_for(gpu("A10G"))}
    assert {"bf16", "fp16", "fp8", "w4a16", "int8"} == names
