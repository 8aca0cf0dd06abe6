"""A provable lower bound on the instance-minutes a simulated policy bills, computed without simulating.

Claim: with ``W = max(out_window, out_gap)`` and ``y[t]`` the minimum demand over minutes
``t-W+1 .. t``, the desired capacity after the decisions of minute ``t`` satisfies

    D[t] >= max(floor, #{k < max_cap : y[t] > out_ratio x k x csf})   (= ceil(y / (out_ratio x csf)), capped)

Proof (the model of :mod:`toolkit.planner.simulate`): ``D >= floor`` always. If ``y[t] <= out_ratio x
D[t] x csf`` the bound holds. Otherwise the scale-out alarm condition holds after minute ``t``'s decisions, so no
scale-out happened at ``t`` only because ``D = max_cap`` or because a scale-out at some ``t' > t -
out_gap`` was recent; that one set ``D >= min(max_cap, ceil(d[t'] / csf))`` with ``d[t'] >= y[t]`` (and
``out_ratio >= 1``), and no
scale-in can have followed it yet (every platform has ``in_after_out >= out_gap``). A scale-out at
``t`` itself sets ``D >= min(max_cap, ceil(d[t] / csf))``.

Minute ``t`` bills ``D[t-1]``, so the billed total is at least ``d0 + sum_{t<n-1} bound(t)``. The
bound does not depend on the violations, so it is valid for feasible and infeasible policies alike.
It is within a few percent of the simulated figure on smooth traffic, which is what lets the fast
search skip most candidates (:mod:`toolkit.planner.search`).
"""

from __future__ import annotations

import numpy as np

from toolkit.planner.simulate import TraceIndex

_SLACK = 1 + 1e-9  # thresholds nudged up so float rounding can only lower the bound


def initial_capacity(d0: float, csf: np.ndarray, min_cap: np.ndarray, max_cap: np.ndarray) -> np.ndarray:
    """The simulation's starting capacity (same formula as :func:`run_events`)."""
    return np.maximum(np.clip(np.ceil(d0 / csf).astype(np.int64), min_cap, max_cap), 1)


def billed_lower_bound(index: TraceIndex, csf, min_cap, max_cap, window, out_ratio=None) -> np.ndarray:
    """Lower bound on billed instance-minutes for each lane (arrays of equal length; integer result)."""
    csf = np.asarray(csf, dtype=float)
    ratio = np.ones(csf.size) if out_ratio is None else np.asarray(out_ratio, dtype=float)
    m = np.asarray(min_cap, dtype=np.int64)
    M = np.maximum(np.asarray(max_cap, dtype=np.int64), m)
    window = np.asarray(window, dtype=np.int64)
    n = index.n
    total = initial_capacity(index.d[0], csf, m, M) + (n - 1) * m
    for w in np.unique(window):
        sel_all = np.flatnonzero(window == w)
        ys = np.sort(index.rmin(int(w))[: n - 1])
        for sel in _chunks(sel_all, M[sel_all] - m[sel_all]):
            span = M[sel] - m[sel]
            if not span.sum():
                continue
            lane = np.repeat(np.arange(sel.size), span)
            k = np.repeat(m[sel], span) + (np.arange(int(span.sum())) - np.repeat(np.cumsum(span) - span, span))
            thr = ((ratio[sel][lane] * k) * csf[sel][lane]) * _SLACK
            above = (n - 1) - np.searchsorted(ys, thr, side="right")
            total[sel] += np.bincount(lane, weights=above, minlength=sel.size).astype(np.int64)
    return total


_CHUNK = 1 << 20  # instance thresholds held at once: memory stays flat however many instances the peak needs


def _chunks(lanes: np.ndarray, span: np.ndarray):
    """``lanes`` in consecutive pieces whose spans add up to at most :data:`_CHUNK` (a lane alone may exceed it)."""
    start, acc = 0, 0
    for i, s in enumerate(span.tolist()):
        if acc and acc + s > _CHUNK:
            yield lanes[start:i]
            start, acc = i, 0
        acc += s
    if start < lanes.size:
        yield lanes[start:]


def oracle_instances(demand: np.ndarray, cap: float, min_cap: int) -> np.ndarray:
    """Instances a perfect, instant scaler would run each minute (for explanations, not pruning)."""
    return np.maximum(min_cap, np.ceil(np.asarray(demand) / cap)).astype(np.int64)
