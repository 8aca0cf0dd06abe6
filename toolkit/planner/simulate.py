"""Minute-by-minute autoscaling simulation of many candidates at once, vectorised with numpy.

The model (the same one :func:`reference_simulate` spells out as a plain loop, and tests compare):

- ``d[t]`` is the demand in requests/second during minute ``t``; ``cap`` the rate one instance serves
  at the SLA; ``csf = cap x safety factor`` the rate the target value stands for
  (target value = ``csf x 60`` invocations per instance per minute).
- ``D[t]`` is the desired capacity after the decisions taken at the end of minute ``t``; instances
  are billed from the decision that launched them, so minute ``t`` bills ``D[t-1]`` instances.
  A new instance serves from ``startup`` minutes later: in-service ``N[t] = min(D[t-1-startup..t-1])``.
- At the end of each minute, in this order:
  1. a scheduled action whose time has come sets the floor (min capacity) and raises ``D`` to it (a lane's
     schedule repeats every day, or every week for weekday/weekend schedules);
  2. scale-out: if the last ``out_window`` minutes' demand all exceeded ``out_ratio x D x csf`` (the metric
     breached the target; capacity already being added counts, as AWS does during its scale-out
     cooldown), ``out_gap`` minutes passed since the last scale-out and ``D < max``, then
     ``D = min(max, max(D + 1, ceil(d[t] / csf)))``;
  3. otherwise scale-in: if the last ``in_window`` minutes' demand all stayed below
     ``min(ratio x D, D - 1) x csf``, the cooldowns passed and ``D > floor``, then
     ``D = max(floor, min(D - 1, ceil(max of that window / csf)))`` (scale in to what the busiest
     minute of the window needed: conservative, as target tracking scales in gradually).
- A minute is in SLA violation when ``d[t] > N[t] x cap``.

Decisions depend only on ``D`` and on rolling minima/maxima of the demand, which all candidates
share. So instead of stepping 43,200 minutes, each candidate jumps from one scaling event to the
next: "the first minute at or after ``a`` where the rolling minimum exceeds a threshold" is answered
for all candidates at once by binary lifting over a sparse table of block maxima.

This module holds the event engine (:class:`Lanes`, :class:`EventLog`, :func:`run_events`) and its
plain-loop specification (:func:`reference_simulate`). The demand views it searches are in
:mod:`toolkit.planner.trace_index`; what a change log implies minute by minute (billed and in-service
instances, violation minutes) is in :mod:`toolkit.planner.measure`. Both are re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from toolkit.planner.measure import LaneMetrics, dense_paths, in_service, measure, measure_events
from toolkit.planner.trace_index import TraceIndex, first_above, rolling_max, rolling_min

__all__ = [
    "MINUTES_PER_DAY", "EventLog", "LaneMetrics", "Lanes", "TraceIndex", "billed_minutes", "dense_paths", "first_above",
    "in_service", "measure", "measure_events", "reference_simulate", "rolling_max", "rolling_min", "run_events",
]

MINUTES_PER_DAY = 1440
_NEVER = -(10**9)


@dataclass
class Lanes:
    """Parameters of K simulated candidate-policies, one array entry each."""

    csf: np.ndarray  # capacity x safety factor (rps per instance the target value stands for)
    cap: np.ndarray  # rps per instance at the SLA
    max_cap: np.ndarray  # max capacity
    startup: np.ndarray  # minutes from decision to in service
    out_window: np.ndarray
    in_window: np.ndarray
    out_gap: np.ndarray
    in_after_in: np.ndarray
    in_after_out: np.ndarray
    ratio: np.ndarray  # scale-in alarm threshold as a fraction of the target
    sched_tod: np.ndarray  # (K, B) minute of day of each scheduled action; column 0 is minute 0; -1 pads
    sched_floor: np.ndarray  # (K, B) min capacity from that action on
    out_ratio: np.ndarray = None  # scale-out alarm threshold as a multiple of the target (default 1)
    sched_period: np.ndarray = None  # minutes after which each lane's schedule repeats: 1440 (daily, default) or 10080 (weekly)

    def __post_init__(self):
        if self.out_ratio is None:
            self.out_ratio = np.ones(self.csf.size)
        if self.sched_period is None:
            self.sched_period = np.full(self.csf.size, MINUTES_PER_DAY, dtype=np.int64)

    @property
    def size(self) -> int:
        return int(self.csf.size)

    @classmethod
    def build(cls, rows: list[dict]) -> "Lanes":
        """Lanes from dicts with keys csf, cap, min_cap, max_cap, dynamics (a Dynamics), optional schedule
        [(minute, floor), ...] that replaces min_cap (must start at minute 0) and optional period (minutes after
        which the schedule repeats: 1440, the default, or 10080 for a weekly one)."""
        k = len(rows)
        width = max((len(r.get("schedule") or [(0, 0)]) for r in rows), default=1)
        tod = np.full((k, width), -1, dtype=np.int64)
        floor = np.zeros((k, width), dtype=np.int64)
        for i, r in enumerate(rows):
            sched = r.get("schedule") or [(0, int(r["min_cap"]))]
            if sched[0][0] != 0:
                raise ValueError("a schedule must start at minute 0 of the day")
            for b, (m, f) in enumerate(sched):
                tod[i, b] = int(m)
                floor[i, b] = min(int(f), int(r["max_cap"]))
        dyn = [r["dynamics"] for r in rows]
        as_int = lambda xs: np.asarray(xs, dtype=np.int64)  # noqa: E731
        return cls(
            csf=np.asarray([float(r["csf"]) for r in rows]),
            cap=np.asarray([float(r["cap"]) for r in rows]),
            max_cap=as_int([r["max_cap"] for r in rows]),
            startup=as_int([x.startup_min for x in dyn]),
            out_window=as_int([x.out_window for x in dyn]),
            in_window=as_int([x.in_window for x in dyn]),
            out_gap=as_int([x.out_gap for x in dyn]),
            in_after_in=as_int([x.in_after_in for x in dyn]),
            in_after_out=as_int([x.in_after_out for x in dyn]),
            ratio=np.asarray([float(x.scale_in_ratio) for x in dyn]),
            sched_tod=tod,
            sched_floor=floor,
            out_ratio=np.asarray([float(x.scale_out_ratio) for x in dyn]),
            sched_period=as_int([r.get("period", MINUTES_PER_DAY) for r in rows]),
        )


@dataclass
class EventLog:
    """Where each lane's desired capacity changed, flattened (CSR): lane ``k``'s changes are
    ``times[offsets[k]:offsets[k+1]]`` (end of that minute) and ``values[...]`` (the new capacity)."""

    n: int
    d0: np.ndarray
    offsets: np.ndarray
    times: np.ndarray
    values: np.ndarray
    billed_minutes: np.ndarray = field(default=None)

    @property
    def counts(self) -> np.ndarray:
        return np.diff(self.offsets)

    @property
    def lane_of_event(self) -> np.ndarray:
        return np.repeat(np.arange(self.d0.size), self.counts)

    def change_list(self, k: int) -> list[tuple[int, int]]:
        a, b = int(self.offsets[k]), int(self.offsets[k + 1])
        return list(zip(self.times[a:b].tolist(), self.values[a:b].tolist()))

    def select(self, rows) -> "EventLog":
        """The log of some lanes only (in the given order)."""
        rows = np.asarray(rows, dtype=np.int64)
        counts = self.counts[rows]
        starts = self.offsets[rows]
        idx = np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(int(counts.sum()))
        log = EventLog(self.n, self.d0[rows], np.concatenate([[0], np.cumsum(counts)]), self.times[idx], self.values[idx])
        log.billed_minutes = self.billed_minutes[rows] if self.billed_minutes is not None else billed_minutes(log)
        return log


def run_events(index: TraceIndex, lanes: Lanes, scale_in_basis: str = "window-max") -> EventLog:
    """Simulate every lane over the whole trace; returns the desired-capacity change log.

    ``scale_in_basis``: a scale-in sizes the new capacity from the highest demand of the alarm's window
    (``window-max``, the model's assumption) or from the window's latest datapoint (``latest``, the alternative
    reading of how target tracking computes it; for sensitivity)."""
    if scale_in_basis not in ("window-max", "latest"):
        raise ValueError(f"unknown scale-in basis {scale_in_basis!r}")
    latest = scale_in_basis == "latest"
    n, k = index.n, lanes.size
    d = index.d
    keys = [("out", int(w)) for w in np.unique(lanes.out_window)] + [("in", int(w)) for w in np.unique(lanes.in_window)]
    per_level, offsets = index.levels_for(keys)
    level0 = per_level[0]
    off_out_all = np.asarray([offsets[("out", int(w))] for w in lanes.out_window], dtype=np.int64)
    off_in_all = np.asarray([offsets[("in", int(w))] for w in lanes.in_window], dtype=np.int64)
    scheduled = lanes.sched_tod.shape[1] > 1

    floor0 = lanes.sched_floor[:, 0].copy()
    d0 = np.maximum(np.clip(np.ceil(d[0] / lanes.csf).astype(np.int64), floor0, lanes.max_cap), 1)

    # compact per-lane state; lanes that reach the end of the trace are dropped from it
    lane = np.arange(k)
    D = d0.copy()
    fl = floor0
    t0 = np.zeros(k, dtype=np.int64)
    lo = np.full(k, _NEVER, dtype=np.int64)
    li = np.full(k, _NEVER, dtype=np.int64)
    csf, mx, ratio, oratio = lanes.csf.copy(), lanes.max_cap.copy(), lanes.ratio.copy(), lanes.out_ratio.copy()
    og, iai, iao = lanes.out_gap.copy(), lanes.in_after_in.copy(), lanes.in_after_out.copy()
    oo, oi = off_out_all.copy(), off_in_all.copy()
    stod, sfl = lanes.sched_tod, lanes.sched_floor

    ev_lane: list[np.ndarray] = []
    ev_time: list[np.ndarray] = []
    ev_value: list[np.ndarray] = []

    while lane.size:
        m = lane.size
        a_out = np.where(D < mx, np.maximum(t0, lo + og), n)
        a_in = np.where(D > fl, np.maximum(np.maximum(t0, li + iai), lo + iao), n)
        thr_in = np.minimum(ratio * D, D - 1) * csf
        hit = first_above(
            per_level,
            np.concatenate([oo + np.minimum(a_out, n), oi + np.minimum(a_in, n)]),
            np.concatenate([(oratio * D) * csf, -thr_in]),
        )
        tstar = np.minimum(np.minimum(hit[:m] - oo, hit[m:] - oi), n)
        if scheduled:
            period = lanes.sched_period[lane]
            tod0 = t0 % period
            s_tod = stod[lane]
            later = s_tod >= tod0[:, None]
            has = later.any(axis=1)
            first = np.argmax(later, axis=1)
            s_time = np.where(has, t0 - tod0 + s_tod[np.arange(m), first], t0 - tod0 + period)
            s_floor = np.where(has, sfl[lane, first], sfl[lane, 0])
            tstar = np.minimum(tstar, s_time)
            is_s = s_time == tstar
            fl = np.where(is_s, s_floor, fl)
            D1 = np.where(is_s, np.maximum(D, fl), D)
        else:
            D1 = D
        tstar_c = np.minimum(tstar, n - 1)
        rmin_t = level0[oo + tstar_c]
        rmax_t = -level0[oi + tstar_c]
        out_ok = (tstar >= lo + og) & (D1 < mx) & (rmin_t > (oratio * D1) * csf)
        in_ok = (
            ~out_ok
            & (tstar >= li + iai)
            & (tstar >= lo + iao)
            & (D1 > fl)
            & (rmax_t < np.minimum(ratio * D1, D1 - 1) * csf)
        )
        new_out = np.minimum(mx, np.maximum(D1 + 1, np.ceil(d[tstar_c] / csf).astype(np.int64)))
        basis = d[tstar_c] if latest else rmax_t
        new_in = np.maximum(fl, np.minimum(D1 - 1, np.ceil(basis / csf).astype(np.int64)))
        D2 = np.where(out_ok, new_out, np.where(in_ok, new_in, D1))
        changed = (D2 != D) & (tstar < n)
        if changed.any():
            ev_lane.append(lane[changed])
            ev_time.append(tstar[changed])
            ev_value.append(D2[changed])
        D = D2
        lo = np.where(out_ok, tstar, lo)
        li = np.where(in_ok, tstar, li)
        t0 = tstar + 1
        keep = t0 < n
        if not keep.all():
            lane, D, fl, t0, lo, li = lane[keep], D[keep], fl[keep], t0[keep], lo[keep], li[keep]
            csf, mx, ratio, oratio, og, iai, iao, oo, oi = (x[keep] for x in (csf, mx, ratio, oratio, og, iai, iao, oo, oi))

    if ev_lane:
        e_lane, e_time, e_value = np.concatenate(ev_lane), np.concatenate(ev_time), np.concatenate(ev_value)
        order = np.lexsort((e_time, e_lane))
        e_lane, e_time, e_value = e_lane[order], e_time[order], e_value[order]
    else:
        e_lane = e_time = e_value = np.zeros(0, dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(np.bincount(e_lane, minlength=k))]).astype(np.int64)
    log = EventLog(n=n, d0=d0, offsets=offsets, times=e_time, values=e_value)
    log.billed_minutes = billed_minutes(log)
    return log


def billed_minutes(log: EventLog) -> np.ndarray:
    """Instance-minutes billed: sum over minutes t of D[t-1] (D[-1] = d0)."""
    n, k = log.n, log.d0.size
    counts = log.counts
    has = counts > 0
    first = np.full(k, n - 1, dtype=np.int64)
    first[has] = log.times[log.offsets[:-1][has]]
    total = log.d0 * (first + 1)
    if log.times.size:
        # a change at tau bills its value from minute tau + 1 up to the next change of the lane
        nxt = np.append(log.times[1:], n - 1)
        nxt[log.offsets[1:][has] - 1] = n - 1
        total = total + np.bincount(log.lane_of_event, weights=log.values * (nxt - log.times), minlength=k).astype(np.int64)
    return total.astype(np.int64)


def reference_simulate(demand, csf: float, cap: float, max_cap: int, dynamics, schedule=None, min_cap: int = 1,
                       period: int = MINUTES_PER_DAY) -> dict:
    """The same model as :func:`run_events`, as a plain minute-by-minute loop (slow; the specification).

    ``schedule``: [(minute, floor), ...] repeating every ``period`` minutes (1440: daily; 10080: weekly)."""
    index = TraceIndex(demand)
    d = index.d
    n = index.n
    rmin = index.rmin(dynamics.out_window)
    rmax = index.rmax(dynamics.in_window)
    sched = schedule or [(0, min_cap)]
    sched = [(m, min(f, max_cap)) for m, f in sched]
    by_tod = dict(sched)
    floor = sched[0][1]
    D = max(1, min(max(int(np.ceil(d[0] / csf)), floor), max_cap))
    d0 = D
    last_out = last_in = _NEVER
    desired = []
    for t in range(n):
        tod = t % period
        if tod in by_tod:
            floor = by_tod[tod]
            D = max(D, floor)
        out_ok = t >= last_out + dynamics.out_gap and D < max_cap and rmin[t] > (dynamics.scale_out_ratio * D) * csf
        in_ok = (
            not out_ok
            and t >= last_in + dynamics.in_after_in
            and t >= last_out + dynamics.in_after_out
            and D > floor
            and rmax[t] < min(dynamics.scale_in_ratio * D, D - 1) * csf
        )
        if out_ok:
            D = min(max_cap, max(D + 1, int(np.ceil(d[t] / csf))))
            last_out = t
        elif in_ok:
            D = max(floor, min(D - 1, int(np.ceil(rmax[t] / csf))))
            last_in = t
        desired.append(D)
    billed = [d0] + desired[:-1]
    S = dynamics.startup_min
    served = []
    for t in range(n):
        window = [billed[j] if j >= 0 else d0 for j in range(t - S, t + 1)]
        served.append(min(window))
    violations = sum(1 for t in range(n) if d[t] > served[t] * cap)
    return {"desired": desired, "billed": billed, "in_service": served, "violations": violations, "billed_minutes": sum(billed)}
