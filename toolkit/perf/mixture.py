"""Capacity for a mix of request lengths: batch service times as distributions, and the latency rule on them.

A batch of ``b`` requests runs as ``b`` copies of its longest member, so its service time ``T_b`` takes
the values ``t(b, l)`` with the probabilities of that longest length ``l`` (:meth:`Lengths.batch_max`).
Throughput at batch ``b`` is ``b / E[T_b]``. A request waits for the batch in service (uniformly far
into it) and then runs in its own: its latency is ``U * T' + T`` with ``T'``, ``T`` independent draws of
``T_b`` and ``U`` uniform on [0, 1]; the SLA percentile ``q`` of that (times the measured tail spread)
must hold. For a single length this is the familiar ``t(b) * (1 + q)``.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from toolkit.perf.lengths import Lengths

#: (values ms, probabilities) of one batch size's service time
Times = tuple[np.ndarray, np.ndarray]


def batch_times(service: Callable[[int, np.ndarray], np.ndarray], lengths: Lengths, batches) -> dict[int, Times]:
    """Service-time distribution per batch size; ``service(b, lengths)`` gives ms for an array of lengths."""
    out: dict[int, Times] = {}
    for b in batches:
        ls, ps = lengths.batch_max(b)
        out[b] = (np.asarray(service(b, ls), dtype=float), ps)
    return out


def mean_ms(times: Times) -> float:
    t, p = times
    return float(np.dot(t, p))


def scaled(times: dict[int, Times], factor: float) -> dict[int, Times]:
    """Every service time divided by ``factor``."""
    return {b: (t / factor, p) for b, (t, p) in times.items()}


def latency_quantile(times: Times, q: float) -> float:
    """The ``q`` quantile of ``U * T' + T`` (see the module docstring)."""
    t, p = times
    if len(t) == 1:
        return float(t[0]) * (1 + q)
    ti, tj = t[:, None], t[None, :]
    w = p[:, None] * p[None, :]

    def cdf(x: float) -> float:
        return float(np.sum(w * np.clip((x - tj) / ti, 0.0, 1.0)))

    lo, hi = float(t.min()), 2.0 * float(t.max())
    for _ in range(48):
        mid = (lo + hi) / 2
        if cdf(mid) < q:
            lo = mid
        else:
            hi = mid
    return hi


def capacity(times: dict[int, Times], instances: int, q: float, sla_ms: float, tail: float, utilisation: float) -> tuple[float, float, int | None]:
    """(rate at the SLA, saturation rate, best batch) for ``instances`` model instances (requests/s)."""
    best, best_b = 0.0, None
    for b, tt in times.items():
        rate = b / mean_ms(tt) * 1000.0
        if len(tt[0]) == 1:
            ok = float(tt[0][0]) * tail * (1 + q) <= sla_ms  # the single-length rule, in its original form
        else:
            ok = latency_quantile(tt, q) * tail <= sla_ms
        if ok and rate > best:
            best, best_b = rate, b
    saturation = max(b / mean_ms(tt) * 1000.0 for b, tt in times.items()) * instances
    return best * instances * utilisation, saturation, best_b


def at_sla_ms(times: Times, q: float, tail: float) -> float:
    """One batch size's latency at the SLA percentile by the rule :func:`capacity` applies."""
    if len(times[0]) == 1:
        return float(times[0][0]) * tail * (1 + q)
    return latency_quantile(times, q) * tail
