"""SageMaker Serverless Inference: service time per memory size, concurrency, cold starts and cost.

Serverless has no instances to scale: AWS starts a container per concurrent request, up to the
endpoint's max concurrency, keeps idle containers warm for a while and bills processing time x
configured memory (GB-seconds). What the planner has to estimate, because AWS publishes none of it:

- vCPUs per memory size: assumed proportional, :data:`GB_PER_VCPU` GB per vCPU (Lambda's ratio);
- host CPUs: unknown generation, so int8 and fp32 times get a penalty against the calibration CPU;
- per-invocation overhead (front end, routing): :data:`OVERHEAD_MS`;
- cold start (container start + model load): :func:`cold_start_s`, and the keep-warm time
  :data:`KEEP_WARM_MIN`.

Per minute: concurrency needed is the 99th percentile of a Poisson number of busy containers with
mean ``rate x service time`` (Little's law); containers used in the last ``KEEP_WARM_MIN`` minutes are
warm, the rest cold-start. A minute violates the SLA when the requests that meet a cold container
exceed the percentile's tail share (5% for p95), or when concurrency needed exceeds max concurrency
(throttling).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from toolkit.artifacts.common import Estimated

MEMORY_MB = (1024, 2048, 3072, 4096, 5120, 6144)
MAX_CONCURRENCY = (1, 2, 5, 10, 20, 50, 100, 200)
GB_PER_VCPU = 1.769  # Lambda: 1,769 MB = one vCPU; SageMaker publishes no figure
OVERHEAD_MS = 15.0  # invocation overhead added to the model's latency (estimate)
KEEP_WARM_MIN = 10  # idle minutes before a container is reclaimed (estimate; AWS does not say)
HOST_PENALTY = {"int8": 1.5, "fp32": 1.2, "fp16": 1.2}  # unknown host CPU vs the calibration CPU
UNCERTAINTY = 0.6
Z99 = 2.326


def cold_start_s(size_bytes: int) -> float:
    """Container start plus model download and load (estimate: 5 s + 100 MB/s)."""
    return 5.0 + size_bytes / 100e6


def memory_fits(size_bytes: int, memory_mb: int) -> bool:
    """Weights twice (file + runtime copy) plus 0.5 GiB for the server must fit the configured memory."""
    return size_bytes * 2 / 2**30 + 0.5 <= memory_mb / 1024


@dataclass(frozen=True)
class ServerlessEstimate:
    """Latency of one request on one serverless container of ``memory_mb``."""

    variant: str
    memory_mb: int
    vcpus: float
    service_ms: float  # compute time billed per request
    latency_ms: float  # at the SLA percentile, including the invocation overhead
    provenance: Estimated
    cold_start_s: float


def estimate_serverless(variant, memory_mb: int, sla_percentile: str, seq_len: int, local) -> ServerlessEstimate | str:
    """Service time on a serverless container, or a string saying why the variant cannot run there."""
    from toolkit.perf.hardware import hardware_of_machine
    from toolkit.perf.model import fit_cpu

    if "cpu" not in variant.devices or variant.precision == "fp16":
        return f"serverless has no GPU; '{variant.name}' is a GPU variant"
    if not memory_fits(variant.size_bytes, memory_mb):
        need = variant.size_bytes * 2 / 2**30 + 0.5
        return f"needs about {need:.1f} GB of memory; {memory_mb} MB configured"
    points = [(p.batch, p.seq_len, p.threads, p.p50_ms, p.p95_ms) for p in variant.latency if p.p50_ms > 0]
    if not points:
        return f"no latency measurement of '{variant.name}' to scale from"
    cal = fit_cpu(hardware_of_machine(local), points)
    vcpus = memory_mb / 1024 / GB_PER_VCPU
    ratio = cal.threads / vcpus
    speed = ratio if ratio >= 1 else ratio**0.5  # batch-1 latency gains little from extra threads
    service = (cal.fixed_ms + seq_len * cal.per_token_ms * speed) * HOST_PENALTY.get(variant.precision, 1.2)
    q = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}[sla_percentile]
    tail = 1.0 if q <= 0.5 else 1.0 + (cal.tail_ratio - 1.0) * math.log(0.5 / (1 - q)) / math.log(10)
    latency = service * tail + OVERHEAD_MS
    prov = Estimated(
        model=(f"serverless: local batch-1 latency ({cal.threads} threads on {local.describe()}) scaled to "
               f"{vcpus:.2f} vCPU ({GB_PER_VCPU} GB per vCPU), x{HOST_PENALTY.get(variant.precision, 1.2)} for an unknown "
               f"host CPU, + {OVERHEAD_MS:g} ms invocation overhead"),
        uncertainty=UNCERTAINTY,
    )
    return ServerlessEstimate(variant.name, memory_mb, round(vcpus, 3), service, latency, prov, cold_start_s(variant.size_bytes))


def concurrency_needed(demand: np.ndarray, service_ms: float) -> np.ndarray:
    """99th percentile of busy containers per minute (Poisson around rate x service time)."""
    mean = np.asarray(demand) * service_ms / 1000.0
    return np.where(mean > 0, np.ceil(mean + Z99 * np.sqrt(mean)), 0).astype(np.int64)


@dataclass
class ServerlessSim:
    max_concurrency: int
    violation_minutes: int
    throttled_minutes: int
    cold_starts: int
    cold_minutes: int
    gb_seconds: float
    requests: float
    peak_concurrency: int
    mean_concurrency: float
    hourly_concurrency: np.ndarray


def simulate_serverless(demand: np.ndarray, est: ServerlessEstimate, sla_percentile: str, max_concurrency: int | None = None,
                        keep_warm_min: int = KEEP_WARM_MIN) -> ServerlessSim:
    """Cold starts, throttling and GB-seconds over the trace; picks max concurrency when not given.

    Max concurrency costs nothing by itself: the smallest setting that leaves 50% headroom over the
    busiest minute is chosen (a smaller limit only caps a runaway client).
    """
    d = np.asarray(demand, dtype=float)
    need = concurrency_needed(d, est.service_ms)
    peak = int(need.max()) if need.size else 0
    if max_concurrency is None:
        want = math.ceil(peak * 1.5) if peak else 1
        max_concurrency = next((m for m in MAX_CONCURRENCY if m >= want), MAX_CONCURRENCY[-1])
    served = np.minimum(need, max_concurrency)
    # containers busy in any of the previous KEEP_WARM_MIN minutes are still warm (minute 0: assume warmed up)
    warm_prev = np.full(served.size, served[0], dtype=np.int64)
    for lag in range(1, keep_warm_min + 1):
        if lag < served.size:
            np.maximum(warm_prev[lag:], served[:-lag], out=warm_prev[lag:])
    cold = np.maximum(served - warm_prev, 0)
    tail = 1.0 - {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}[sla_percentile]
    with np.errstate(divide="ignore", invalid="ignore"):
        cold_share = np.where(served > 0, cold * min(est.cold_start_s, 60.0) / (60.0 * served), 0.0)
    throttled = need > max_concurrency
    bad = throttled | (cold_share > tail)
    requests = float(d.sum() * 60.0)
    billed_ms = math.ceil(est.service_ms)  # duration is billed per millisecond, rounded up
    gb_seconds = requests * billed_ms / 1000.0 * est.memory_mb / 1024.0
    hours = d.size // 60
    hourly = served[: hours * 60].reshape(hours, 60).mean(axis=1) if hours else np.zeros(0)
    return ServerlessSim(
        max_concurrency=int(max_concurrency), violation_minutes=int(bad.sum()), throttled_minutes=int(throttled.sum()),
        cold_starts=int(cold.sum()), cold_minutes=int((cold > 0).sum()), gb_seconds=gb_seconds, requests=requests,
        peak_concurrency=peak, mean_concurrency=float(served.mean()), hourly_concurrency=hourly,
    )
