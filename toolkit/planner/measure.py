"""What a simulated lane's change log implies minute by minute: billed and in-service instances, violations.

:func:`dense_paths` and :func:`in_service` expand an :class:`~toolkit.planner.simulate.EventLog` into
per-minute arrays; :func:`measure` reduces them to :class:`LaneMetrics` (optionally hourly series), and
:func:`measure_events` gets violation minutes and served capacity straight from the log, without
expanding it (range maxima of the demand rule out most pieces of constant capacity).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from toolkit.planner.simulate import EventLog, Lanes
    from toolkit.planner.trace_index import TraceIndex


def dense_paths(log: EventLog, rows) -> np.ndarray:
    """Billed instances B[t] = D[t-1] for every minute, for the chosen lanes: (len(rows), n) int32."""
    n = log.n
    sub = log.select(rows)
    k = sub.d0.size
    lane = sub.lane_of_event
    prev = np.empty(sub.values.size, dtype=np.int64)
    if sub.values.size:
        prev[1:] = sub.values[:-1]
        firsts = sub.offsets[:-1][sub.counts > 0]
        prev[firsts] = sub.d0[sub.counts > 0]
    delta = np.zeros((k, n), dtype=np.int32)
    ok = sub.times + 1 < n
    delta[lane[ok], sub.times[ok] + 1] = (sub.values[ok] - prev[ok]).astype(np.int32)
    delta[:, 0] += sub.d0.astype(np.int32)
    return np.cumsum(delta, axis=1, dtype=np.int32)


def in_service(billed: np.ndarray, startup: np.ndarray) -> np.ndarray:
    """N[t] = min(B[t-startup .. t]) with B[j] = B[0] for j < 0 (per-row startup)."""
    out = billed.copy()
    for s in np.unique(startup):
        s = int(s)
        if s <= 0:
            continue
        sel = np.flatnonzero(startup == s)
        b = billed[sel]
        pad = np.concatenate([np.repeat(b[:, :1], s, axis=1), b], axis=1)
        acc = b.copy()
        for j in range(1, s + 1):
            np.minimum(acc, pad[:, s - j : s - j + b.shape[1]], out=acc)
        out[sel] = acc
    return out


@dataclass
class LaneMetrics:
    billed_minutes: np.ndarray
    violation_minutes: np.ndarray
    peak_instances: np.ndarray
    mean_instances: np.ndarray
    served_capacity_rps_minutes: np.ndarray
    hourly_in_service: np.ndarray | None = None
    hourly_billed: np.ndarray | None = None


def measure(index: TraceIndex, lanes: Lanes, log: EventLog, rows, hourly: bool = False, chunk: int = 96) -> LaneMetrics:
    """Violation minutes, peak/mean instances and (optionally) hourly series for the chosen lanes."""
    rows = np.asarray(rows, dtype=np.int64)
    n = index.n
    viol = np.zeros(rows.size)
    peak = np.zeros(rows.size, dtype=np.int64)
    mean = np.zeros(rows.size)
    served = np.zeros(rows.size)
    hours = n // 60
    h_in = np.zeros((rows.size, hours)) if hourly else None
    h_b = np.zeros((rows.size, hours)) if hourly else None
    for lo in range(0, rows.size, chunk):
        sel = rows[lo : lo + chunk]
        b = dense_paths(log, sel)
        nsv = in_service(b, lanes.startup[sel])
        capn = nsv * lanes.cap[sel][:, None]
        viol[lo : lo + chunk] = (index.d[None, :] > capn).sum(axis=1)
        peak[lo : lo + chunk] = b.max(axis=1)
        mean[lo : lo + chunk] = b.mean(axis=1)
        served[lo : lo + chunk] = capn.sum(axis=1)
        if hourly and hours:
            h_in[lo : lo + chunk] = nsv[:, : hours * 60].reshape(sel.size, hours, 60).mean(axis=2)
            h_b[lo : lo + chunk] = b[:, : hours * 60].reshape(sel.size, hours, 60).mean(axis=2)
    return LaneMetrics(log.billed_minutes[rows], viol, peak, mean, served, h_in, h_b)


def _flat_segments(log: EventLog, rows: np.ndarray):
    """Billed-instance segments of the chosen lanes, flattened: (lane position, start minute, value).

    Segment 0 of a lane starts at minute 0 with ``d0``; a change decided at the end of minute ``tau``
    starts a segment at ``tau + 1``. Ordered by lane, then start.
    """
    sub = log.select(rows)
    k = rows.size
    lane = np.concatenate([np.arange(k), sub.lane_of_event])
    start = np.concatenate([np.zeros(k, dtype=np.int64), sub.times + 1])
    value = np.concatenate([sub.d0, sub.values])
    order = np.lexsort((start, lane))
    return lane[order], start[order], value[order]


def measure_events(index: TraceIndex, lanes: Lanes, log: EventLog, rows) -> tuple[np.ndarray, np.ndarray]:
    """Violation minutes and served capacity (rps-minutes) of the chosen lanes, from the change log.

    In-service capacity is piecewise constant: it can change only where billed capacity changes
    (a drop takes effect at once) or ``startup`` minutes later (a rise). On each piece a range-max
    of the demand rules out violations in O(1); only pieces whose peak exceeds capacity are scanned.
    """
    rows = np.asarray(rows, dtype=np.int64)
    n = index.n
    k = rows.size
    if k == 0:
        return np.zeros(0), np.zeros(0)
    startup = lanes.startup[rows]
    cap = lanes.cap[rows]
    span = n + int(startup.max()) + 2
    s_lane, s_start, s_val = _flat_segments(log, rows)
    s_key = s_lane * span + s_start
    # breakpoints of in-service capacity: every segment start, and startup minutes after it
    b_lane = np.concatenate([s_lane, s_lane])
    b_min = np.minimum(np.concatenate([s_start, s_start + startup[s_lane]]), n)
    b_key = np.unique(b_lane * span + b_min)
    b_lane, b_min = b_key // span, b_key % span
    nxt = np.concatenate([b_min[1:], [n]])
    same = np.concatenate([b_lane[1:] == b_lane[:-1], [False]])
    length = np.where(same, nxt, n) - b_min
    # in-service = min over segments that overlap the window [p - startup, p]
    j_hi = np.searchsorted(s_key, b_key, side="right") - 1
    j_lo = np.searchsorted(s_key, b_lane * span + np.maximum(b_min - startup[b_lane], 0), side="right") - 1
    nval = s_val[j_lo]
    width = int((j_hi - j_lo).max())
    for r in range(1, width + 1):
        j = np.minimum(j_lo + r, s_val.size - 1)
        nval = np.where(j_lo + r <= j_hi, np.minimum(nval, s_val[j]), nval)
    capn = nval * cap[b_lane]
    served = np.bincount(b_lane, weights=capn * length, minlength=k)
    live = length > 0
    a = np.where(live, b_min, 0)
    ln = np.where(live, length, 1)
    lvl = np.floor(np.log2(ln)).astype(np.int64)
    table = index.range_max()
    peak = np.maximum(table[lvl, a], table[lvl, a + ln - (1 << lvl)])
    flagged = np.flatnonzero(live & (peak > capn))
    viol = np.zeros(k)
    if flagged.size:
        starts, lens, thr = a[flagged], ln[flagged], capn[flagged]
        total = int(lens.sum())
        offs = np.repeat(np.cumsum(lens) - lens, lens)
        minute = np.repeat(starts, lens) + (np.arange(total) - offs)
        hits = index.d[minute] > np.repeat(thr, lens)
        viol = np.bincount(np.repeat(b_lane[flagged], lens)[hits], minlength=k).astype(float)
    return viol, served
