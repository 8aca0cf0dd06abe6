"""Capacity per instance at a token-level SLA: the highest request rate at which every percentile holds.

``capacity_per_instance(model, fmt, hardware, tp, traffic, constraints)`` checks the format against
the device (:func:`~toolkit.perf.llm.formats.support`), the memory (:func:`~toolkit.perf.llm.memory.plan_memory`),
then bisects over the Poisson arrival rate, replaying the same seeded requests through the scheduler
simulation at each rate (common random numbers), until the TTFT / ITL / TPOT / e2e percentiles of
the SLA hold within ``rel_tol``. Each rate is simulated over an arrival window of at least
:data:`WINDOW_E2E` lone-request e2e times (more requests at higher rates, up to :data:`MAX_SAMPLE` x
``n_requests``), and its metrics are measured in steady state: after a warm-up of :data:`WARMUP_E2E`
e2e times and before the drain that follows the last arrival. Past saturation the queue grows without bound; a rate whose TTFT p95
exceeds :data:`QUEUE_GUARD_S` (or 20 x the TTFT of a lone request) counts as failing even when the SLA
has no TTFT limit.

An instance with ``G`` GPUs runs ``G // tp`` replicas; capacity per instance is replicas x the capacity
of one replica. Every figure is ``Estimated`` with the band of :mod:`~toolkit.perf.llm.calibration`
(the p90 relative error on published figures); ``low_rps``/``high_rps`` apply it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from toolkit.artifacts.common import Estimated
from toolkit.errors import InputError
from toolkit.perf.llm.architectures import Architecture, architecture
from toolkit.perf.llm.calibration import Calibration, load_calibration
from toolkit.perf.llm.formats import FormatSupport, model_format, support
from toolkit.perf.llm.hardware import Device, for_instance
from toolkit.perf.llm.memory import MemoryPlan, plan_memory, tp_degrees
from toolkit.perf.llm.scheduler import EngineConfig, SimResult, simulate
from toolkit.perf.llm.step_time import StepModel
from toolkit.perf.llm.workload import TokenDist, check_context, make_requests
from toolkit.sla import QUANTILE, SLA, Constraint

QUEUE_GUARD_S = 10.0
WINDOW_E2E = 4.0  #: a rate is simulated over at least this many lone-request e2e times of arrivals ...
WARMUP_E2E = 1.0  #: ... of which the first is warm-up: metrics count requests (and tokens) after it, up to the last arrival
MAX_SAMPLE = 8  #: at most this many times ``n_requests`` requests per simulation
METRIC_OF = {"ttft": "ttft", "itl": "itl", "tpot": "tpot", "e2e": "e2e", "latency": "e2e"}
MODEL_NAME = "token-level step model (roofline per engine step) + continuous-batching scheduler simulation"


@dataclass(frozen=True)
class LLMTraffic:
    """The traffic a capacity is measured on: token-length distributions and the simulated sample."""

    prompt: TokenDist
    output: TokenDist
    n_requests: int = 240
    seed: int = 0


@dataclass(frozen=True)
class EngineLimits:
    """vLLM engine arguments the planner may search over."""

    max_num_seqs: int = 256
    max_num_batched_tokens: int = 2048
    chunked_prefill: bool = True
    gpu_memory_utilization: float = 0.9


@dataclass(frozen=True)
class LLMCapacity:
    """Capacity of ONE instance for one (model, format, hardware, TP, engine limits) under one SLA."""

    model: str
    fmt: str
    hardware: str
    accelerator: str
    tp: int
    replicas: int
    feasible: bool
    requests_per_s: float  #: per instance (all replicas)
    output_tokens_per_s: float  #: per instance
    low_rps: float
    high_rps: float
    binding: str  #: the constraint (or limit) that stops a higher rate, or why it is infeasible
    provenance: Estimated
    memory: MemoryPlan | None = None
    support: FormatSupport | None = None
    headroom_gib: float = 0.0  #: per GPU, at the peak KV use of the capacity run
    kv_limit_seqs: int = 0  #: sequences of mean length the KV pool holds
    max_concurrency: int = 0  #: min(KV limit, max_num_seqs)
    peak_running: int = 0  #: sequences running at once in the capacity run
    at_capacity: dict[str, float] = field(default_factory=dict)  #: constraint key -> value (ms) at the capacity rate
    nearest_miss: str = ""
    notes: tuple[str, ...] = ()

    @property
    def per_replica_rps(self) -> float:
        return self.requests_per_s / self.replicas if self.replicas else 0.0

    @property
    def uncertainty(self) -> float:
        return self.provenance.uncertainty

    def explain(self) -> list[str]:
        """Lines for ``plan --explain``: format, memory, KV limit, capacity, binding constraint, uncertainty."""
        tp = f" TP={self.tp}" if self.tp > 1 else ""
        out = [f"{self.model} {self.fmt} on {self.hardware}{tp}: " + (self.support.reason if self.support else "")]
        if self.memory:
            out.append("memory: " + self.memory.describe())
        if not self.feasible:
            out.append(f"infeasible: {self.binding}" + (f"; {self.nearest_miss}" if self.nearest_miss else ""))
            return out + list(self.notes)
        out.append(f"KV cache: {self.kv_limit_seqs} sequences of mean length; max concurrency {self.max_concurrency}; "
                   f"peak {self.peak_running} running at capacity; headroom {self.headroom_gib:.1f} GiB "
                   + (self.memory.per if self.memory else "per GPU"))
        reps = f" ({self.replicas} replicas x {self.per_replica_rps:.2f})" if self.replicas > 1 else ""
        out.append(f"capacity: {self.requests_per_s:.2f} req/s per instance{reps} = {self.output_tokens_per_s:,.0f} output tokens/s; "
                   f"bound by {self.binding}")
        if self.at_capacity:
            out.append("at capacity: " + ", ".join(f"{k} {v:.0f} ms" for k, v in self.at_capacity.items()))
        out.append(f"estimated ({self.provenance.model}): {self.low_rps:.2f}-{self.high_rps:.2f} req/s (±{self.uncertainty:.0%})")
        return out + list(self.notes)


# ---- SLA ------------------------------------------------------------------------------------------
def llm_constraints(sla: SLA | list[Constraint]) -> list[Constraint]:
    """The token-level constraints of an SLA (ttft, itl, tpot, e2e/latency)."""
    items = sla.constraints if isinstance(sla, SLA) else list(sla)
    out = [c for c in items if c.metric in METRIC_OF]
    if not out:
        raise InputError("the SLA has no token-level constraint (ttft, itl, tpot or e2e)",
                         hint="give e.g. ttft_p95_ms and itl_p95_ms for a generative model")
    return out


def _value(res: SimResult, c: Constraint) -> float:
    q = QUANTILE[c.percentile] if c.percentile else 1.0
    return res.percentile(METRIC_OF[c.metric], q)


def _check(res: SimResult, constraints: list[Constraint], guard_ms: float) -> tuple[bool, str, float]:
    """(passes, worst constraint, its value/limit) for one simulated run."""
    if res.completed < len(res.output):
        return False, "requests that never fit the KV cache", math.inf
    worst, ratio = "", 0.0
    for c in constraints:
        r = _value(res, c) / c.limit
        if r > ratio:
            worst, ratio = c.describe(), r
    guard = res.percentile("ttft", 0.95) / guard_ms
    if guard > 1.0 and guard > ratio:
        worst, ratio = f"saturation (TTFT p95 over {guard_ms / 1e3:.0f} s: the queue grows without bound)", guard
    return ratio <= 1.0, worst, ratio


# ---- the entry point ------------------------------------------------------------------------------
def capacity_per_instance(model: str | Architecture, fmt, hardware, tp: int = 1, *, traffic: LLMTraffic,
                          constraints: SLA | list[Constraint], limits: EngineLimits | None = None,
                          calibration: Calibration | None = None, rel_tol: float = 0.02) -> LLMCapacity:
    """Capacity per instance of ``hardware`` (a catalog InstanceInfo or a Device) at the SLA.

    Returns an infeasible :class:`LLMCapacity` (``feasible=False``, ``binding`` says why) for a format the
    device cannot run, a model that does not fit, or an SLA that fails even for a lone request.
    Raises InputError for inconsistent inputs (lengths above the context, no token-level constraint).
    """
    arch, fmt = architecture(model), model_format(fmt)
    limits = limits or EngineLimits()
    try:
        device = hardware if isinstance(hardware, Device) else for_instance(hardware)
    except InputError as exc:  # e.g. a fractional GPU partition: excluded with the reason, not raised
        return _excluded(arch, fmt, hardware, tp, exc.message)
    cons = llm_constraints(constraints)
    check_context(traffic.prompt, traffic.output, arch.max_context, arch.name)
    cal = calibration or (load_calibration() if device.kind == "gpu" else None)
    prov = Estimated(model=f"{MODEL_NAME}; " + (cal.describe() if cal else "uncalibrated"), uncertainty=cal.band if cal else 1.0)
    base = {"model": arch.name, "fmt": fmt.name, "hardware": device.name, "accelerator": device.accelerator, "tp": tp,
            "replicas": max(1, device.count // tp), "provenance": prov}

    def infeasible(why: str, miss: str = "", **kw) -> LLMCapacity:
        return LLMCapacity(**base, feasible=False, requests_per_s=0.0, output_tokens_per_s=0.0, low_rps=0.0, high_rps=0.0,
                           binding=why, nearest_miss=miss, **kw)

    sup = support(fmt, device)
    if not sup.runs:
        return infeasible(sup.reason, support=sup)
    if cal is None:
        return infeasible("no CPU calibration: the CPU path needs measured prefill and decode points (calibration.fit_cpu)", support=sup)
    if tp not in tp_degrees(arch, device):
        return infeasible(f"TP={tp} is not possible for {arch.name} on {device.name} (heads {arch.heads}, KV heads {arch.kv_heads}, "
                          f"{device.count} GPUs)", support=sup)
    mean_seq = round(traffic.prompt.expected() + traffic.output.expected())
    mem = plan_memory(arch, fmt, device, tp, gpu_memory_utilization=limits.gpu_memory_utilization,
                      seq_tokens=traffic.prompt.upper + traffic.output.upper, max_num_seqs=limits.max_num_seqs,
                      max_num_batched_tokens=limits.max_num_batched_tokens)
    if not mem.fits:
        return infeasible(f"memory: {mem.describe()}", support=sup, memory=mem)
    kv_limit = mem.kv_tokens // max(1, mean_seq)
    step = StepModel(arch, fmt, device, tp, cal.eff())
    cfg = EngineConfig(kv_tokens=mem.kv_tokens, max_num_seqs=limits.max_num_seqs, chunked_prefill=limits.chunked_prefill,
                       max_num_batched_tokens=max(limits.max_num_batched_tokens, limits.max_num_seqs if limits.chunked_prefill else 1))
    n_min, n_max = traffic.n_requests, MAX_SAMPLE * traffic.n_requests
    reqs = make_requests(traffic.prompt, traffic.output, n_max, traffic.seed)
    alone = simulate(step, reqs.prompt[:n_min], reqs.output[:n_min], cfg, arrivals=reqs.arrivals(1e-6)[:n_min])
    e2e1 = max(1e-3, float(alone.e2e.mean()))
    capped = []

    def run(rate: float) -> SimResult:
        n = int(min(n_max, max(n_min, math.ceil(rate * WINDOW_E2E * e2e1))))
        if n == n_max and rate * WINDOW_E2E * e2e1 > n_max:
            capped.append(rate)
        arr = reqs.arrivals(rate)[:n]
        res = simulate(step, reqs.prompt[:n], reqs.output[:n], cfg, arrivals=arr)
        return res.window(min(WARMUP_E2E * e2e1, 0.3 * float(arr[-1])), float(arr[-1]))

    guard_ms = max(QUEUE_GUARD_S * 1e3, 20 * alone.percentile("ttft", 0.95))
    ok, worst, _ = _check(alone, cons, guard_ms)
    mem_kw = {"support": sup, "memory": mem, "kv_limit_seqs": kv_limit, "max_concurrency": min(kv_limit, limits.max_num_seqs)}
    if not ok:
        return infeasible(f"{worst} fails even for a lone request", _nearest_miss(step, cons, alone, traffic), **mem_kw)
    lo, lo_res = 0.0, alone
    hi = max(1e-3, min(kv_limit, limits.max_num_seqs) / e2e1)
    hi_worst = ""
    for _ in range(12):  # grow the bracket until a rate fails
        res = run(hi)
        ok, worst, _ = _check(res, cons, guard_ms)
        if not ok:
            hi_worst = worst
            break
        lo, lo_res, hi = hi, res, hi * 2
    for _ in range(20):
        if hi - lo <= rel_tol * hi:
            break
        mid = (lo + hi) / 2
        res = run(mid)
        ok, worst, _ = _check(res, cons, guard_ms)
        if ok:
            lo, lo_res = mid, res
        else:
            hi, hi_worst = mid, worst
    reps = base["replicas"]
    rps = lo * reps
    notes = []
    if lo_res.peak_running >= min(kv_limit, limits.max_num_seqs):
        cap = "the KV cache" if kv_limit < limits.max_num_seqs else "max_num_seqs"
        notes.append(f"concurrency reaches {cap} ({min(kv_limit, limits.max_num_seqs)} sequences) at capacity")
    if lo_res.preemptions:
        notes.append(f"{lo_res.preemptions} preemptions at the capacity rate (KV pool full)")
    if sup.weight_only:
        notes.append(sup.reason)
    if capped and min(capped) <= lo * 1.001:
        notes.append(f"the simulated sample was capped at {n_max} requests (shorter steady-state window than {WINDOW_E2E:g} e2e)")
    return LLMCapacity(
        **base, feasible=rps > 0, requests_per_s=rps, output_tokens_per_s=rps * traffic.output.expected(),
        low_rps=rps * max(0.0, 1 - prov.uncertainty), high_rps=rps * (1 + prov.uncertainty), binding=hi_worst or "none found",
        headroom_gib=mem.headroom_gib(lo_res.peak_kv_tokens), peak_running=lo_res.peak_running,
        at_capacity={c.key: round(_value(lo_res, c), 1) for c in cons}, notes=tuple(notes), **mem_kw,
    )


def _excluded(arch: Architecture, fmt, hardware, tp: int, why: str) -> LLMCapacity:
    prov = Estimated(model=MODEL_NAME, uncertainty=0.0)
    name = getattr(hardware, "name", str(hardware))
    return LLMCapacity(model=arch.name, fmt=fmt.name, hardware=name, accelerator=str(getattr(hardware, "accelerator", "") or ""),
                       tp=tp, replicas=0, feasible=False, requests_per_s=0.0, output_tokens_per_s=0.0, low_rps=0.0, high_rps=0.0,
                       binding=why, provenance=prov)


def _nearest_miss(step: StepModel, cons: list[Constraint], alone: SimResult, traffic: LLMTraffic) -> str:
    """How far a lone request misses, and what hardware would meet it (for --explain and exit 3)."""
    parts = []
    ctx = int(traffic.prompt.expected() + traffic.output.expected() / 2)
    for c in cons:
        v = _value(alone, c)
        if v <= c.limit:
            continue
        if c.metric in ("itl", "tpot"):
            need = step.bandwidth_needed_gbs(c.limit, 1, ctx)
            have = step.device.mem_bw_gbs
            needs = f"needs >= {need:,.0f} GB/s per GPU at batch 1" if need else "is below the fixed per-step overhead"
            parts.append(f"{c.describe()}: {v:.0f} ms for a lone request; {needs} ({step.device.accelerator} has {have:,.0f} GB/s; "
                         f"physical floor {step.itl_floor_ms():.1f} ms)")
        else:
            parts.append(f"{c.describe()}: {v:.0f} ms for a lone request")
    return "; ".join(parts)


def itl_floor_ms(model: str | Architecture, fmt, devices: list[Device]) -> tuple[float, str]:
    """The lowest ITL any of ``devices`` could reach (weights read once at full bandwidth, best TP): (ms, where)."""
    arch, fmt = architecture(model), model_format(fmt)
    best = (math.inf, "")
    for d in devices:
        if d.kind != "gpu" or not support(fmt, d).runs:
            continue
        for tp in tp_degrees(arch, d):
            floor = 1e3 * arch.weight_bytes(fmt) / tp / d.bandwidth
            if floor < best[0]:
                best = (floor, f"{d.name} TP={tp}")
    return best
