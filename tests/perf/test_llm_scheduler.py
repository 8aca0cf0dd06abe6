"""The continuous-batching scheduler simulation: metric definitions, admission, KV limits, rates, speed."""

from __future__ import annotations

import time

import numpy as np
import pytest

from toolkit.perf.llm import (
    Efficiency,
    EngineConfig,
    StepModel,
    TokenDist,
    gpu,
    make_requests,
    plan_memory,
    simulate,
)
from toolkit.perf.llm.scheduler import weighted_quantile

EFF = Efficiency(compute=0.6, bandwidth=0.85, kv_bandwidth=0.5, step_overhead_ms=2.5, per_seq_overhead_ms=0.02)


@pytest.fixture(scope="module")
def a10g():
    return StepModel("llama-3.1-8b", "bf16", gpu("A10G"), 1, EFF)


def test_a_lone_request_has_prefill_ttft_and_decode_step_itl(a10g):
    res = simulate(a10g, [512], [65], EngineConfig(kv_tokens=30000))
    assert res.ttft[0] * 1e3 == pytest.approx(a10g.prefill_ms(512), rel=1e-6)
    # after the prefill, the k-th decode step (k = 0..63) reads a context of 512 + k cached tokens
    steps = [a10g.decode_ms(1, 512 + k) for k in range(64)]
    assert res.mean("itl") == pytest.approx(np.mean(steps), rel=1e-6)
    assert res.mean("tpot") == pytest.approx(np.mean(steps), rel=1e-6)
    assert res.e2e[0] == pytest.approx(res.ttft[0] + sum(steps) / 1e3, rel=1e-6)


def test_ttft_grows_with_the_request_rate(a10g):
    reqs = make_requests(TokenDist(mean=512, p50=450, p90=900, max=2048), TokenDist(mean=128, p50=110, p90=250, max=512), 200, 0)
    cfg = EngineConfig(kv_tokens=plan_memory("llama-3.1-8b", "bf16", gpu("A10G"), seq_tokens=2560).kv_tokens)
    p95 = [simulate(a10g, reqs.prompt, reqs.output, cfg, arrivals=reqs.arrivals(r)).percentile("ttft", 0.95) for r in (0.5, 2, 4, 8)]
    assert p95 == sorted(p95) and p95[-1] > 5 * p95[0]


def test_kv_pool_and_max_num_seqs_cap_concurrency_and_full_pools_preempt(a10g):
    n = 40
    big = simulate(a10g, [1000] * n, [200] * n, EngineConfig(kv_tokens=1_000_000, max_num_seqs=16))
    assert big.peak_running == 16 and big.preemptions == 0
    small = simulate(a10g, [1000] * n, [200] * n, EngineConfig(kv_tokens=12_000))
    assert small.peak_running <= 12 and small.preemptions > 0 and small.completed == n
    assert small.duration > big.duration * 0.5


def test_closed_loop_keeps_the_concurrency(a10g):
    res = simulate(a10g, [256] * 30, [64] * 30, EngineConfig(kv_tokens=50_000), concurrency=4)
    assert res.peak_running <= 4 and res.completed == 30


def test_prefill_first_stalls_decodes_and_chunked_prefill_shares_the_step(a10g):
    prompts, outputs = [2000] * 12, [50] * 12
    arr = np.arange(12) * 0.3
    first = simulate(a10g, prompts, outputs, EngineConfig(kv_tokens=100_000, chunked_prefill=False, max_num_batched_tokens=4096), arr)
    chunked = simulate(a10g, prompts, outputs, EngineConfig(kv_tokens=100_000, max_num_batched_tokens=512), arr)
    assert first.percentile("itl", 0.99) > chunked.percentile("itl", 0.99)


def test_a_prompt_larger_than_the_kv_pool_never_completes(a10g):
    res = simulate(a10g, [500, 50_000, 500], [10, 10, 10], EngineConfig(kv_tokens=20_000))
    assert res.completed == 2 and not np.isfinite(res.ttft[1])


def test_itl_percentiles_are_token_weighted():
    assert weighted_quantile(np.array([1.0, 10.0]), 0.5, np.array([9.0, 1.0])) == 1.0
    assert weighted_quantile(np.array([1.0, 10.0]), 0.95, np.array([9.0, 1.0])) == 10.0


def test_a_few_hundred_requests_simulate_fast(a10g):
    reqs = make_requests(TokenDist(mean=512, p50=400, p90=1000, max=2048), TokenDist(mean=256, p50=200, p90=500, max=1024), 300, 1)
    cfg = EngineConfig(kv_tokens=36_000)
    simulate(a10g, reqs.prompt, reqs.output, cfg, arrivals=reqs.arrivals(1.0))
    t0 = time.perf_counter()
    for rate in (0.5, 1.0, 2.0):
        simulate(a10g, reqs.prompt, reqs.output, cfg, arrivals=reqs.arrivals(rate))
    assert (time.perf_counter() - t0) / 3 < 0.15  # target 50 ms; slack for a loaded CI machine


def test_a_sequence_that_outgrows_the_whole_pool_is_dropped_not_looped(a10g):
    res = simulate(a10g, [900, 100], [500, 10], EngineConfig(kv_tokens=1024))
    assert not np.isfinite(res.e2e[0]) and np.isfinite(res.ttft[0]) and res.completed == 1
