"""The concurrency target a generative endpoint scales on, by Little's law (plan.json ``tokens.scaling``).

LLM servers are bound by the sequences they hold at once (KV cache, ``max_num_seqs``), not by requests per minute,
so deploy scales them on concurrent requests. The plan's target tracking holds a request rate per instance
(``autoscaling.target_value`` invocations per instance per minute); the concurrency that rate implies is

    concurrency per instance = target rate per instance x mean end-to-end latency at that rate   (Little's law)

The mean end-to-end latency comes from the same scheduler simulation the capacity search runs (step model,
continuous batching, the spec's token lengths), replayed at the target rate per replica and measured in steady
state. Where that is not possible (a CPU variant without a GPU step model), the fallback is the capacity run's
figures: mean TTFT + mean output tokens x mean ITL, read from its p95 values (an upper bound on the mean).
"""

from __future__ import annotations

import math
from dataclasses import replace

from toolkit.artifacts.plan_tokens import LLMScaling


def _simulated_mean_e2e_s(arch, cap, info, ctx, rate_per_replica: float) -> float | None:
    """Mean e2e (s) of one replica at ``rate_per_replica`` req/s in steady state; None when it cannot be simulated."""
    from toolkit.perf.llm.calibration import load_calibration
    from toolkit.perf.llm.capacity import (
        MAX_SAMPLE,
        WARMUP_E2E,
        WINDOW_E2E,
        EngineLimits,
    )
    from toolkit.perf.llm.formats import model_format
    from toolkit.perf.llm.hardware import for_instance
    from toolkit.perf.llm.scheduler import EngineConfig, simulate
    from toolkit.perf.llm.step_time import StepModel
    from toolkit.perf.llm.workload import make_requests

    device = for_instance(info)
    if device.kind != "gpu" or cap.memory is None or rate_per_replica <= 0:
        return None
    tp = max(1, cap.tp)
    one = replace(device, count=tp, name=f"{device.accelerator} x{tp}")
    limits = EngineLimits()
    step = StepModel(arch, model_format(cap.fmt), one, tp, load_calibration().eff())
    cfg = EngineConfig(kv_tokens=cap.memory.kv_tokens, max_num_seqs=limits.max_num_seqs, chunked_prefill=limits.chunked_prefill,
                       max_num_batched_tokens=max(limits.max_num_batched_tokens, limits.max_num_seqs if limits.chunked_prefill else 1))
    traffic = ctx.traffic
    n_min = traffic.n_requests
    reqs = make_requests(traffic.prompt, traffic.output, MAX_SAMPLE * n_min, traffic.seed)
    alone = simulate(step, reqs.prompt[:n_min], reqs.output[:n_min], cfg, arrivals=reqs.arrivals(1e-6)[:n_min])
    e2e1 = max(1e-3, float(alone.e2e.mean()))
    n = int(min(MAX_SAMPLE * n_min, max(n_min, math.ceil(rate_per_replica * WINDOW_E2E * e2e1))))
    arr = reqs.arrivals(rate_per_replica)[:n]
    res = simulate(step, reqs.prompt[:n], reqs.output[:n], cfg, arrivals=arr)
    res = res.window(min(WARMUP_E2E * e2e1, 0.3 * float(arr[-1])), float(arr[-1]))
    mean_ms = res.mean("e2e")
    return mean_ms / 1e3 if math.isfinite(mean_ms) and mean_ms > 0 else None


def _fallback_mean_e2e_s(cap, ctx) -> float | None:
    """Mean TTFT + mean output tokens x ITL from the capacity run's p95 figures (an upper bound), or its e2e p95."""
    at = {k.split("_")[0]: v for k, v in (cap.at_capacity or {}).items()}
    if "ttft" in at and ("itl" in at or "tpot" in at):
        return (at["ttft"] + ctx.mean_output * at.get("itl", at.get("tpot", 0.0))) / 1e3
    return at["e2e"] / 1e3 if at.get("e2e") else None


def concurrency_target(group, cand, ctx) -> LLMScaling | None:
    """``tokens.scaling`` for the chosen candidate (None without target tracking or a token-level capacity)."""
    est = getattr(group, "capacity", None)
    cap = getattr(est, "llm", None)
    a = cand.autoscaling
    if a is None or cap is None or not cap.feasible or a.target_value <= 0:
        return None
    rate = a.target_value / 60.0  # invocations per instance per minute -> req/s per instance
    replicas = max(1, cap.replicas)
    how = "the scheduler simulation at that rate (steady state)"
    try:
        mean_s = _simulated_mean_e2e_s(ctx.arch_for(group.variant), cap, group.instance, ctx, rate / replicas)
    except Exception:  # noqa: BLE001 - the estimate is a deploy hint; the fallback below says it is cruder
        mean_s = None
    if mean_s is None:
        mean_s, how = _fallback_mean_e2e_s(cap, ctx), "mean TTFT + mean output tokens x ITL at capacity (p95 figures: an upper bound)"
    if not mean_s:
        return None
    target = rate * mean_s
    return LLMScaling(
        target_concurrency_per_instance=round(target, 2), target_rps_per_instance=round(rate, 4), mean_e2e_s=round(mean_s, 3),
        derived_from=(f"Little's law: {rate:.3f} req/s per instance (the target tracking's {a.target_value:g} per minute, "
                      f"safety factor {a.safety_factor:g} included) x {mean_s:.2f} s mean end-to-end latency at that rate, from {how} "
                      f"({ctx.mean_prompt:.0f} prompt / {ctx.mean_output:.0f} output tokens mean, {cap.fmt} TP={cap.tp}"
                      f"{f', {replicas} replicas' if replicas > 1 else ''}) = {target:.1f} concurrent requests per instance"),
    )
