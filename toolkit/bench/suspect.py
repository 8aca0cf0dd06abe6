"""Checks that a load point measured the server, not a starved load generator or a contended host.

A point is marked ``suspect`` (with the reasons) when, in the median of its rounds:

- **the generator fell behind its schedule** (open loop): requests left it at under
  :data:`MIN_OFFERED_SHARE` of the schedule's rate, or its dispatch lag p99 exceeded
  :data:`MAX_DISPATCH_LAG_SHARE` of the SLA — the latency counted from the schedule then holds the
  generator's delay;
- **the generator's CPU was saturated**: it used :data:`MAX_GENERATOR_CORES` of a core or more (its
  Python threads share one interpreter lock, so about one core is all it can use), or, for a target on
  this host, :data:`MAX_GENERATOR_HOST_SHARE` of the host's CPUs or more (taken from the server it measures);
- **the hypervisor stole CPU time**: steal was :data:`MAX_STEAL_SHARE` of the host's CPU time or more;
- **throughput fell as concurrency rose** (closed loop): below :data:`MIN_RATE_SHARE` of the best rate at
  a lower concurrency — more load does not serve less on an uncontended server;
- **latency far above the in-process measurement**: at the lowest load, p50 above
  :data:`LATENCY_FACTOR` x the variant's in-process latency (variants.json, same CPU) +
  :data:`LATENCY_ALLOWANCE_MS` (HTTP, tokenizer and Python-backend hops cost a few ms locally:
  ENVIRONMENT.md measured p99 3-5 ms through Triton's Python backend).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

MIN_OFFERED_SHARE = 0.9
MAX_DISPATCH_LAG_SHARE = 0.1
MIN_DISPATCH_LAG_MS = 2.0
MAX_GENERATOR_CORES = 0.85
MAX_GENERATOR_HOST_SHARE = 0.35
MAX_STEAL_SHARE = 0.05
MIN_RATE_SHARE = 0.85
LATENCY_FACTOR = 3.0
LATENCY_ALLOWANCE_MS = 20.0


@dataclass
class RoundContext:
    """What one round saw besides its latencies: the generator's and the host's CPU."""

    client_cores: float | None = None  #: generator CPU seconds per second (1.0 = one core)
    steal_share: float | None = None  #: share of the host's CPU time stolen by the hypervisor
    offered_rps: float | None = None
    scheduled_rps: float | None = None
    dispatch_lag_p99_ms: float | None = None


def host_cpu() -> tuple[float, float] | None:
    """(total, steal) CPU jiffies of this host from /proc/stat, or None where there is none."""
    try:
        first = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    if not first or first[0] != "cpu":
        return None
    values = [float(v) for v in first[1:]]
    steal = values[7] if len(values) > 7 else 0.0
    return sum(values[:8]), steal


def steal_share(before, after) -> float | None:
    if before is None or after is None or after[0] <= before[0]:
        return None
    return (after[1] - before[1]) / (after[0] - before[0])


def _median(values) -> float | None:
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def point_reasons(contexts: list[RoundContext], sla_ms: float, local_target: bool, host_cores: int) -> list[str]:
    """Reasons from the generator's and the host's CPU across a point's rounds (medians)."""
    out = []
    offered, scheduled = _median(c.offered_rps for c in contexts), _median(c.scheduled_rps for c in contexts)
    if offered is not None and scheduled and offered < MIN_OFFERED_SHARE * scheduled:
        out.append(f"the generator sent {offered:.1f} req/s where its schedule said {scheduled:.1f} (it fell behind)")
    lag = _median(c.dispatch_lag_p99_ms for c in contexts)
    limit = max(MIN_DISPATCH_LAG_MS, MAX_DISPATCH_LAG_SHARE * sla_ms)
    if lag is not None and lag > limit:
        out.append(f"the generator put requests out {lag:.1f} ms late (p99; more than {limit:g} ms), which the latencies include")
    cores = _median(c.client_cores for c in contexts)
    if cores is not None and cores >= MAX_GENERATOR_CORES:
        out.append(f"the generator used {cores:.2f} CPU cores (its threads share one Python interpreter lock): it may have capped the load")
    elif cores is not None and local_target and host_cores and cores / host_cores >= MAX_GENERATOR_HOST_SHARE:
        out.append(f"the generator used {cores:.2f} of this host's {host_cores} cores, taken from the server it measures")
    steal = _median(c.steal_share for c in contexts)
    if steal is not None and steal >= MAX_STEAL_SHARE:
        out.append(f"the hypervisor stole {steal:.0%} of this host's CPU time (a contended host)")
    return out


def curve_reasons(points) -> dict[int, str]:
    """Closed-loop points whose throughput fell below MIN_RATE_SHARE of the best at a lower concurrency (by index)."""
    out: dict[int, str] = {}
    closed = sorted((p.concurrency, i, p.throughput_rps) for i, p in enumerate(points) if p.mode == "closed" and p.concurrency)
    best, best_c = 0.0, None
    for c, i, rate in closed:
        if best_c is not None and c > best_c and rate < MIN_RATE_SHARE * best:
            out[i] = (f"throughput fell to {rate:.1f} req/s from {best:.1f} at concurrency {best_c} "
                      "(more load should not serve less: contention, or a starved generator)")
        if rate > best:
            best, best_c = rate, c
    return out


def in_process_ms(variant, machine, tokens: int) -> float | None:
    """In-process p50 of one request of ``tokens`` tokens: ``variant``'s latency line (variants.json) on ``machine``."""
    from toolkit.perf.hardware import hardware_of_machine
    from toolkit.perf.model import fit_cpu

    points = [(p.batch, p.seq_len, p.threads, p.p50_ms, p.p95_ms) for p in variant.latency if p.p50_ms > 0]
    if not points:
        return None
    return fit_cpu(hardware_of_machine(machine), points).latency_ms(tokens)


def latency_reason(points, in_process: float | None) -> dict[int, str]:
    """The lowest-load point (closed loop first), when its p50 is far above the in-process latency (by index)."""
    if in_process is None or not points:
        return {}
    closed = [(i, p) for i, p in enumerate(points) if p.mode == "closed"]
    i, low = (min(closed, key=lambda ip: ip[1].concurrency or 0) if closed
              else min(enumerate(points), key=lambda ip: ip[1].target_rps or 0.0))
    limit = LATENCY_FACTOR * in_process + LATENCY_ALLOWANCE_MS
    if low.p50_ms is not None and low.p50_ms > limit:
        return {i: (f"p50 {low.p50_ms:.1f} ms at the lowest load, above {LATENCY_FACTOR:g} x the in-process {in_process:.1f} ms "
                    f"(variants.json) + {LATENCY_ALLOWANCE_MS:g} ms for HTTP and the ensemble: the host or the client is contended")}
    return {}


def mark(points, reasons: dict[int, list[str]]) -> list:
    """The points with ``suspect`` set where there are reasons."""
    out = []
    for i, p in enumerate(points):
        why = reasons.get(i) or []
        out.append(p.model_copy(update={"suspect": "; ".join(why)}) if why else p)
    return out


def review(points, contexts: list[list[RoundContext]], sla_ms: float, local_target: bool, host_cores: int,
           in_process: float | None = None) -> tuple[list, list[str]]:
    """Every check on a bench's merged points: (the points with ``suspect`` set, notes for the profile)."""
    reasons: dict[int, list[str]] = {}
    for i, ctx in enumerate(contexts):
        reasons.setdefault(i, []).extend(point_reasons(ctx, sla_ms, local_target, host_cores))
    for extra in (curve_reasons(points), latency_reason(points, in_process)):
        for i, why in extra.items():
            reasons.setdefault(i, []).append(why)
    marked = mark(points, reasons)
    notes = []
    for p in marked:
        level = f"concurrency {p.concurrency}" if p.mode == "closed" else f"{p.target_rps:g} req/s"
        if p.suspect:
            notes.append(f"{level}: suspect, {p.suspect}")
        for o in (p.rounds.outliers if p.rounds else []):
            notes.append(f"{level}: outlier {o} (the median leaves it out)")
    return marked, notes
