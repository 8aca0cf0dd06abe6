"""Capacity per instance at a token-level SLA, with memory, format and SLA-floor failures explained."""

from __future__ import annotations

import pytest

from toolkit.artifacts.common import Estimated
from toolkit.errors import InputError
from toolkit.perf.llm import (
    LLMTraffic,
    TokenDist,
    capacity_per_instance,
    cpu,
    gpu,
    itl_floor_ms,
    llm_constraints,
    load_calibration,
)
from toolkit.sla import Constraint

TRAFFIC = LLMTraffic(TokenDist.fixed(256, "prompt"), TokenDist.fixed(64, "output"), n_requests=60)
SLA = [Constraint(metric="ttft", percentile="p95", limit=1000), Constraint(metric="itl", percentile="p95", limit=40)]


@pytest.fixture(scope="module")
def h100():
    return capacity_per_instance("llama-3.1-8b", "bf16", gpu("H100"), traffic=TRAFFIC, constraints=SLA)


def test_capacity_is_an_estimate_with_the_calibration_band(h100):
    assert h100.feasible and h100.requests_per_s > 1
    assert isinstance(h100.provenance, Estimated) and h100.uncertainty == load_calibration().band
    assert h100.low_rps < h100.requests_per_s < h100.high_rps
    assert h100.output_tokens_per_s == pytest.approx(64 * h100.requests_per_s)
    assert h100.at_capacity["itl_p95_ms"] <= 40 and h100.at_capacity["ttft_p95_ms"] <= 1000
    assert h100.kv_limit_seqs > 100 and h100.headroom_gib > 0 and h100.binding
    assert any("capacity:" in line for line in h100.explain())


def test_capacity_grows_with_memory_bandwidth(h100):
    slow = capacity_per_instance("llama-3.1-8b", "bf16", gpu("H100").with_bandwidth(0.5), traffic=TRAFFIC, constraints=SLA)
    assert slow.requests_per_s < h100.requests_per_s


def test_an_instance_runs_one_replica_per_tp_group():
    one = capacity_per_instance("smollm2-135m", "bf16", gpu("A10G"), traffic=TRAFFIC, constraints=SLA[1:])
    four = capacity_per_instance("smollm2-135m", "bf16", gpu("A10G", count=4, family="g5"), traffic=TRAFFIC, constraints=SLA[1:])
    assert four.replicas == 4 and four.requests_per_s == pytest.approx(4 * one.requests_per_s)


def test_an_sla_below_the_floor_is_infeasible_with_the_nearest_miss():
    cap = capacity_per_instance("llama-3.1-8b", "bf16", gpu("A10G"), traffic=TRAFFIC,
                                constraints=[Constraint(metric="itl", percentile="p95", limit=10)])
    assert not cap.feasible and "fails even for a lone request" in cap.binding
    assert "GB/s per GPU" in cap.nearest_miss and "physical floor" in cap.nearest_miss
    floor, where = itl_floor_ms("llama-3.1-8b", "bf16", [gpu("A10G"), gpu("H100", count=8, family="p5")])
    assert "TP=8" in where and floor < 1.0


def test_formats_memory_and_missing_cpu_calibration_are_reported_not_raised():
    v100 = capacity_per_instance("llama-3.1-8b", "fp8", gpu("V100"), traffic=TRAFFIC, constraints=SLA)
    assert not v100.feasible and "compute capability" in v100.binding
    big = capacity_per_instance("llama-3.1-70b", "bf16", gpu("H100"), traffic=TRAFFIC, constraints=SLA)
    assert not big.feasible and big.binding.startswith("memory:") and "needs" in big.binding
    host = capacity_per_instance("smollm2-135m", "int4", cpu("c7i", 500, 2000, 40, 16), traffic=TRAFFIC, constraints=SLA)
    assert not host.feasible and "CPU calibration" in host.binding


def test_bad_token_distributions_and_slas_are_input_errors():
    with pytest.raises(InputError, match="p90 .* < p50"):
        TokenDist(p50=500, p90=100)
    with pytest.raises(InputError, match="exceed the context"):
        capacity_per_instance("smollm2-135m", "bf16", gpu("A10G"), traffic=LLMTraffic(TokenDist.fixed(8000), TokenDist.fixed(512)),
                              constraints=SLA)
    with pytest.raises(InputError, match="no token-level constraint"):
        llm_constraints([Constraint(metric="cost", limit=1)])


def test_the_cpu_path_runs_on_a_cpu_calibration_and_carries_its_band():
    from toolkit.perf.llm import CpuPoint, Efficiency, StepModel, fit_cpu

    host = cpu("c7i", fp32_gflops=450, int8_gops=14000, bw_gbs=15, memory_gib=8)
    truth = StepModel("smollm2-135m", "int8", host, 1, Efficiency(compute=0.3, bandwidth=0.5, kv_bandwidth=0.4,
                                                                    step_overhead_ms=1.0, per_seq_overhead_ms=0.1))
    pts = [CpuPoint(kind="prefill", tokens=p, ms=truth.prefill_ms(p)) for p in (32, 256)]
    pts += [CpuPoint(kind="decode", batch=b, context=256, ms=truth.decode_ms(b, 256) * 1.04) for b in (1, 8)]
    cal = fit_cpu(pts, "smollm2-135m", "int8", host)
    cap = capacity_per_instance("smollm2-135m", "int8", host, traffic=TRAFFIC, constraints=SLA, calibration=cal)
    assert cap.feasible and cap.replicas == 1 and cap.uncertainty == cal.band
    assert "on the host" in " ".join(cap.explain())
