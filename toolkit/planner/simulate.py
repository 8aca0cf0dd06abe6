"""Minute-by-minute autoscaling simulation of many candidates at once, vectorised with numpy.

The model (the same one :func:`reference_simulate` spells out as a plain loop, and tests compare):

- ``d[t]`` is the demand in requests/second during minute ``t``; ``cap`` the rate one instance serves
  at the SLA; ``csf = cap x safety factor`` the rate the target value stands for
  (target value = ``csf x 60`` invocations per instance per minute).
- ``D[t]`` is the desired capacity after the decisions taken at the end of minute ``t``; instances
  are billed from the decision that launched them, so minute ``t`` bills ``D[t-1]`` instances.
  A new instance serves from ``startup`` minutes later: in-service ``N[t] = min(D[t-1-startup..t-1])``.
- At the end of each minute, in this order:
  1. a scheduled action whose time has come sets the floor (min capacity) and raises ``D`` to it;
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
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MINUTES_PER_DAY = 1440
_NEVER = -(10**9)


def rolling_min(d: np.ndarray, w: int) -> np.ndarray:
    """min(d[max(0, t-w+1) .. t]) for every t."""
    if w <= 1:
        return d.astype(float, copy=True)
    from numpy.lib.stride_tricks import sliding_window_view

    padded = np.concatenate([np.full(w - 1, np.inf), d])
    return sliding_window_view(padded, w).min(axis=1)


def rolling_max(d: np.ndarray, w: int) -> np.ndarray:
    """max(d[max(0, t-w+1) .. t]) for every t."""
    if w <= 1:
        return d.astype(float, copy=True)
    from numpy.lib.stride_tricks import sliding_window_view

    padded = np.concatenate([np.full(w - 1, -np.inf), d])
    return sliding_window_view(padded, w).max(axis=1)


def _sparse_max_table(x: np.ndarray, levels: int, pad: int = 0) -> np.ndarray:
    """table[j, i] = max(x[i : i + 2**j]) over the array padded with -inf (n + 1 + pad columns)."""
    n = x.size
    width = n + 1 + pad
    table = np.full((levels + 1, width), -np.inf)
    table[0, :n] = x
    for j in range(1, levels + 1):
        half = 1 << (j - 1)
        prev = table[j - 1]
        if half < width:
            np.maximum(prev[: width - half], prev[half:], out=table[j, : width - half])
    return table


class TraceIndex:
    """Precomputed views of one demand trace, shared by every simulated candidate."""

    def __init__(self, demand):
        d = np.asarray(demand, dtype=float)
        if d.ndim != 1 or d.size < 2:
            raise ValueError("demand must be a 1-D array of at least two minutes")
        self.d = d
        self.n = int(d.size)
        # 2**(levels+1) > n so that the lifting can walk from minute 0 past the end
        self.levels = max(0, int(np.ceil(np.log2(self.n + 1))) - 1)
        self.pad = 1 << (self.levels + 1)
        self.width = self.n + 1 + self.pad
        self._rmin: dict[int, np.ndarray] = {}
        self._rmax: dict[int, np.ndarray] = {}
        self._level_cache: tuple[list[np.ndarray], dict] | None = None
        self._range_max: np.ndarray | None = None

    def rmin(self, w: int) -> np.ndarray:
        if w not in self._rmin:
            self._rmin[w] = rolling_min(self.d, w)
        return self._rmin[w]

    def rmax(self, w: int) -> np.ndarray:
        if w not in self._rmax:
            self._rmax[w] = rolling_max(self.d, w)
        return self._rmax[w]

    def series(self, kind: str, w: int) -> np.ndarray:
        """'out' searches rolling minima upward; 'in' searches rolling maxima downward (negated)."""
        return self.rmin(w) if kind == "out" else -self.rmax(w)

    def range_max(self) -> np.ndarray:
        """Sparse table of block maxima of the demand: table[j, i] = max(d[i : i + 2**j])."""
        if self._range_max is None:
            self._range_max = _sparse_max_table(self.d, self.levels)
        return self._range_max

    def levels_for(self, keys: list[tuple[str, int]]) -> tuple[list[np.ndarray], dict]:
        """Per lifting level, the requested series' block-maxima side by side; and each series' offset.

        Level j holds max(x[i : i + 2**j]) for each series padded with -inf. All series are built in one
        pass over the concatenation: a block read past one series' end stays inside its padding for every
        start before that end (the padding is at least 2**levels long), and answers at or past the end
        mean "none" anyway. A build is reused for any subset of its series.
        """
        want = set(keys)
        if self._level_cache and want <= set(self._level_cache[1]):
            return self._level_cache
        ck = sorted(want | set(self._level_cache[1] if self._level_cache else {}))
        w = self.width
        flat = np.empty(len(ck) * w)
        for i, key in enumerate(ck):
            flat[i * w : i * w + self.n] = self.series(*key)
            flat[i * w + self.n : (i + 1) * w] = -np.inf
        per_level = [flat]
        for j in range(1, self.levels + 1):
            half = 1 << (j - 1)
            prev = per_level[-1]
            cur = np.empty_like(prev)
            np.maximum(prev[:-half], prev[half:], out=cur[:-half])
            cur[-half:] = prev[-half:]
            per_level.append(cur)
        self._level_cache = (per_level, {key: i * w for i, key in enumerate(ck)})
        return self._level_cache


def first_above(per_level: list[np.ndarray], idx: np.ndarray, thr: np.ndarray) -> np.ndarray:
    """For each lane, the first flat index >= idx whose level-0 value exceeds thr (binary lifting).

    Returns positions in the flat layout; subtract the table offset to get the minute (>= n: none).
    """
    idx = idx.copy()
    for j in range(len(per_level) - 1, -1, -1):
        idx += np.left_shift(per_level[j].take(idx) <= thr, j, dtype=np.int64)
    return idx


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

    def __post_init__(self):
        if self.out_ratio is None:
            self.out_ratio = np.ones(self.csf.size)

    @property
    def size(self) -> int:
        return int(self.csf.size)

    @classmethod
    def build(cls, rows: list[dict]) -> "Lanes":
        """Lanes from dicts with keys csf, cap, min_cap, max_cap, dynamics (a Dynamics), optional schedule
        [(minute_of_day, floor), ...] that replaces min_cap (must start at minute 0)."""
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


def run_events(index: TraceIndex, lanes: Lanes) -> EventLog:
    """Simulate every lane over the whole trace; returns the desired-capacity change log."""
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
        tod0 = t0 % MINUTES_PER_DAY
        if scheduled:
            s_tod = stod[lane]
            later = s_tod >= tod0[:, None]
            has = later.any(axis=1)
            first = np.argmax(later, axis=1)
            s_time = np.where(has, t0 - tod0 + s_tod[np.arange(m), first], t0 - tod0 + MINUTES_PER_DAY)
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
        new_in = np.maximum(fl, np.minimum(D1 - 1, np.ceil(rmax_t / csf).astype(np.int64)))
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


def reference_simulate(demand, csf: float, cap: float, max_cap: int, dynamics, schedule=None, min_cap: int = 1) -> dict:
    """The same model as :func:`run_events`, as a plain minute-by-minute loop (slow; the specification)."""
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
        tod = t % MINUTES_PER_DAY
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
