"""The autoscaling policies searched for every instance group: safety factor x min capacity x max capacity,
and, for periodic traffic, scheduled floors (fraction of the slot profile x safety factor x max mode).

A *lane* is one group under one policy; lane id = ``gid * space.G + policy index``. The target value
of a lane is AWS's formula, ``capacity at the SLA x safety factor x 60`` invocations per instance per
minute. Min capacity starts at the spec's availability minimum; max capacity is either exactly what
the peak minute needs at the SLA rate ("peak": stop adding instances there) or what target tracking
would reach at the peak ("headroom"). One more policy per group is static provisioning for the peak
(min = max = what the peak minute needs), so a plan never costs more than the static baseline.

Scheduled policies (:data:`SCHED_GRID`, searched only when the traffic repeats daily) put a daily schedule of
minimum capacities under target tracking (:mod:`toolkit.planner.schedule`); they are lanes like any other, so
the exact and fast strategies search them alike and ``--top`` never changes which one wins. Their floors
never go below the availability minimum, so the billed-minutes bound of :mod:`toolkit.planner.bounds`
(computed with that minimum) holds for them too. When the traffic is weekly (:mod:`toolkit.planner.weekly`)
the same grid is searched a second time with weekday/weekend schedules that repeat every week.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from toolkit.planner.schedule import FRACTIONS, build_schedule
from toolkit.planner.simulate import MINUTES_PER_DAY, Lanes
from toolkit.planner.weekly import WEEK_MIN, ScheduleProfiles

# AWS's documented default first, so that it wins ties (e.g. when min = max capacity makes the target moot)
SAFETY_FACTORS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.4, 0.3)
MIN_OFFSETS = (0, 1, 2)
MAX_MODES = ("peak", "headroom")
STATIC = -1  # min offset meaning "min = max = what the peak needs"
GRID = [(sf, off, mode) for sf in SAFETY_FACTORS for off in MIN_OFFSETS for mode in MAX_MODES] + [(SAFETY_FACTORS[0], STATIC, "peak")]
G = len(GRID)
_SF = np.asarray([g[0] for g in GRID])
_OFF = np.asarray([g[1] for g in GRID], dtype=np.int64)
_PEAK_MODE = np.asarray([g[2] == "peak" for g in GRID])
_STATIC = _OFF == STATIC
G_TRACKING = G
SCHED_GRID = [(frac, sf, mode) for frac in FRACTIONS for sf in SAFETY_FACTORS for mode in MAX_MODES]


@dataclass(frozen=True)
class Policy:
    safety_factor: float
    min_capacity: int
    max_capacity: int
    target_value: float  # capacity units (requests for encoders) per instance per minute

    @property
    def csf(self) -> float:
        return self.target_value / 60.0


def max_for_peak(peak_rps: float, cap: float) -> int:
    return max(1, math.ceil(peak_rps / cap))


class LaneSpace:
    """Lane parameters for a list of groups, computed on demand and vectorised.

    ``profile`` (the daily slot profile of the demand, :func:`toolkit.planner.schedule.slot_profile`, or a
    :class:`toolkit.planner.weekly.ScheduleProfiles` that may add a weekly one) adds the scheduled policies:
    :data:`SCHED_GRID` once per profile; without it only target tracking is searched."""

    def __init__(self, groups, peak_rps: float, min_instances: int, profile=None, slot_min: int = 60):
        self.groups = groups
        self.peak = float(peak_rps)
        self.m0 = int(min_instances)
        week, self.calendar = None, None
        if isinstance(profile, ScheduleProfiles):
            profile, week, self.calendar = profile.daily, profile.week, profile.calendar
        self.profile, self.week_profile, self.slot_min = profile, week, slot_min
        # the schedule profiles searched, in lane order: (period in minutes, slot profile)
        self.sched_kinds = ([(MINUTES_PER_DAY, profile)] if profile is not None else []) + \
            ([(WEEK_MIN, week)] if profile is not None and week is not None else [])
        n_sched = len(SCHED_GRID)
        self.G = G_TRACKING + n_sched * len(self.sched_kinds)
        self.cap = np.asarray([g.cap for g in groups], dtype=float)
        self.dyn_table = []
        idx = []
        for g in groups:
            if g.dynamics not in self.dyn_table:
                self.dyn_table.append(g.dynamics)
            idx.append(self.dyn_table.index(g.dynamics))
        self.dyn_idx = np.asarray(idx, dtype=np.int64)
        k = len(self.sched_kinds)
        self._sf = np.concatenate([_SF] + [np.asarray([x[1] for x in SCHED_GRID])] * k)
        self._off = np.concatenate([_OFF] + [np.zeros(n_sched, dtype=np.int64)] * k)
        self._peak_mode = np.concatenate([_PEAK_MODE] + [np.asarray([x[2] == "peak" for x in SCHED_GRID])] * k)
        self._static = np.concatenate([_STATIC] + [np.zeros(n_sched, dtype=bool)] * k)
        self._period = np.concatenate([np.full(G_TRACKING, MINUTES_PER_DAY, dtype=np.int64)]
                                      + [np.full(n_sched, per, dtype=np.int64) for per, _ in self.sched_kinds])
        self._schedules: dict[int, list[tuple[int, int]]] = {}

    @property
    def size(self) -> int:
        return len(self.groups) * self.G

    def split(self, lanes) -> tuple[np.ndarray, np.ndarray]:
        lanes = np.asarray(lanes, dtype=np.int64)
        return lanes // self.G, lanes % self.G

    def arrays(self, lanes) -> dict[str, np.ndarray]:
        gid, p = self.split(lanes)
        cap = self.cap[gid]
        csf = cap * self._sf[p]
        peak_need = np.maximum(1, np.ceil(self.peak / cap)).astype(np.int64)
        head_need = np.maximum(1, np.ceil(self.peak / csf)).astype(np.int64)
        m = np.where(self._static[p], np.maximum(self.m0, peak_need), self.m0 + np.maximum(self._off[p], 0))
        M = np.maximum(m, np.where(self._peak_mode[p], peak_need, head_need))
        return {"gid": gid, "policy": p, "cap": cap, "csf": csf, "min": m, "max": M, "dyn": self.dyn_idx[gid]}

    def is_scheduled(self, lanes) -> np.ndarray:
        return self.split(lanes)[1] >= G_TRACKING

    def is_weekly(self, lanes) -> np.ndarray:
        return self._period[self.split(lanes)[1]] == WEEK_MIN

    def sched_entry(self, lane: int) -> tuple:
        """The :data:`SCHED_GRID` entry (fraction, safety factor, max mode) of a scheduled lane."""
        return SCHED_GRID[(int(lane) % self.G - G_TRACKING) % len(SCHED_GRID)]

    def calendar_of(self, lane: int):
        """The :class:`toolkit.planner.weekly.Calendar` of a weekly lane; None for daily schedules and target tracking."""
        return self.calendar if bool(self.is_weekly([lane])[0]) else None

    def schedule(self, lane: int) -> list[tuple[int, int]] | None:
        """The (minute, floor) actions of a scheduled lane, minute of the day (daily) or of the week from the trace's
        first day (weekly); None for target tracking alone."""
        lane = int(lane)
        gid, p = divmod(lane, self.G)
        if p < G_TRACKING:
            return None
        if lane not in self._schedules:
            frac = self.sched_entry(lane)[0]
            prof = self.sched_kinds[(p - G_TRACKING) // len(SCHED_GRID)][1]
            a = self.arrays([lane])
            g = self.groups[gid]
            self._schedules[lane] = build_schedule(prof, g.cap, frac, self.m0, int(a["max"][0]), g.dynamics.startup_min, self.slot_min)
        return self._schedules[lane]

    def floor_bound(self, lanes, n: int) -> np.ndarray:
        """A lower bound on the instance-minutes each lane bills over ``n`` minutes from its schedule's floors alone.

        Desired capacity never drops below the floor in force, and minute ``t`` bills ``D[t-1]``, so a lane bills at least
        ``m0`` (minute 0) plus the floors of minutes ``0 .. n-2``. Over each whole period the floors add up to
        ``slot_min`` x the sum of the slot floors (raising them early only rotates the schedule); the minutes of the last,
        partial period count at the availability minimum. Target-tracking lanes get ``n x m0``."""
        lanes = np.asarray(lanes, dtype=np.int64)
        out = np.full(lanes.size, n * self.m0, dtype=np.int64)
        for sel, period, floors in self._slot_floors(lanes):
            full, rest = divmod(n - 1, period)
            out[sel] = self.m0 + full * self.slot_min * floors.sum(axis=1) + rest * self.m0
        return out

    def tracking_twin(self, lanes) -> np.ndarray:
        """For each lane, the target-tracking lane it behaves exactly like (a schedule whose floors never rise above the
        availability minimum: the same safety factor and max capacity, no schedule), or -1."""
        lanes = np.asarray(lanes, dtype=np.int64)
        out = np.full(lanes.size, -1, dtype=np.int64)
        for sel, _, floors in self._slot_floors(lanes):
            flat = floors.max(axis=1) <= self.m0
            _, sf, mode = zip(*(self.sched_entry(x) for x in lanes[sel[flat]].tolist())) if flat.any() else ((), (), ())
            twin = [self.G * (int(x) // self.G) + GRID.index((s, 0, md)) for x, s, md in zip(lanes[sel[flat]].tolist(), sf, mode)]
            out[sel[flat]] = twin
        return out

    def _slot_floors(self, lanes: np.ndarray):
        """(rows of ``lanes``, period, floors per slot) for each kind of scheduled lane among ``lanes`` (the floors of
        :func:`toolkit.planner.schedule.build_schedule`, before raising them early)."""
        a = self.arrays(lanes)
        n_sched = len(SCHED_GRID)
        frac = np.asarray([x[0] for x in SCHED_GRID])
        q = a["policy"] - G_TRACKING
        for k, (period, prof) in enumerate(self.sched_kinds):
            sel = np.flatnonzero((q >= k * n_sched) & (q < (k + 1) * n_sched))
            if sel.size:
                need = np.ceil(frac[q[sel] - k * n_sched][:, None] * np.asarray(prof)[None, :] / a["cap"][sel][:, None])
                yield sel, period, np.clip(need, a["min"][sel][:, None], a["max"][sel][:, None]).astype(np.int64)

    def lanes(self, lanes) -> Lanes:
        lanes = np.asarray(lanes, dtype=np.int64)
        a = self.arrays(lanes)
        dyn = [self.dyn_table[i] for i in range(len(self.dyn_table))]
        sched = self.is_scheduled(lanes)
        if not sched.any():
            return lanes_from_arrays(a["csf"], a["cap"], a["min"], a["max"], dyn, a["dyn"])
        rows = [self.schedule(lane) if s else [(0, int(lo))] for lane, s, lo in zip(lanes.tolist(), sched.tolist(), a["min"].tolist())]
        width = max(len(r) for r in rows)
        tod = np.full((lanes.size, width), -1, dtype=np.int64)
        floor = np.zeros((lanes.size, width), dtype=np.int64)
        for i, r in enumerate(rows):
            for j, (m, f) in enumerate(r):
                tod[i, j], floor[i, j] = m, min(f, int(a["max"][i]))
        return lanes_from_arrays(a["csf"], a["cap"], a["min"], a["max"], dyn, a["dyn"], schedule=(tod, floor),
                                 period=self._period[a["policy"]])

    def bound_window(self, lanes) -> np.ndarray:
        gid, _ = self.split(lanes)
        windows = np.asarray([d.bound_window for d in self.dyn_table], dtype=np.int64)
        return windows[self.dyn_idx[gid]]

    def out_ratio(self, lanes) -> np.ndarray:
        gid, _ = self.split(lanes)
        return np.asarray([d.scale_out_ratio for d in self.dyn_table])[self.dyn_idx[gid]]

    def policy(self, lane: int) -> Policy:
        a = self.arrays([lane])
        sf = float(self._sf[a["policy"][0]])
        return Policy(sf, int(a["min"][0]), int(a["max"][0]), float(a["csf"][0]) * 60.0)

    def cheapest_policy_lanes(self) -> np.ndarray:
        """Per group, the lane whose lower bound is smallest: highest safety factor, min offset 0, 'peak' max."""
        best = next(i for i, (sf, off, mode) in enumerate(GRID) if sf == max(SAFETY_FACTORS) and off == 0 and mode == "peak")
        return np.arange(len(self.groups), dtype=np.int64) * self.G + best


def lanes_from_arrays(csf, cap, min_cap, max_cap, dyn_table, dyn_idx, schedule=None, period=None) -> Lanes:
    """:class:`Lanes` from per-lane arrays; ``dyn_idx`` picks each lane's Dynamics from ``dyn_table``; ``period``: how often
    each lane's schedule repeats (minutes; default daily)."""
    k = len(csf)
    pick = lambda attr, dtype=np.int64: np.asarray([getattr(d, attr) for d in dyn_table], dtype=dtype)[dyn_idx]  # noqa: E731
    if schedule is None:
        tod = np.zeros((k, 1), dtype=np.int64)
        floor = np.minimum(np.asarray(min_cap, dtype=np.int64), np.asarray(max_cap, dtype=np.int64))[:, None]
    else:
        tod, floor = schedule
    return Lanes(
        csf=np.asarray(csf, dtype=float),
        cap=np.asarray(cap, dtype=float),
        max_cap=np.asarray(max_cap, dtype=np.int64),
        startup=pick("startup_min"),
        out_window=pick("out_window"),
        in_window=pick("in_window"),
        out_gap=pick("out_gap"),
        in_after_in=pick("in_after_in"),
        in_after_out=pick("in_after_out"),
        ratio=pick("scale_in_ratio", float),
        sched_tod=tod,
        sched_floor=floor,
        out_ratio=pick("scale_out_ratio", float),
        sched_period=None if period is None else np.asarray(period, dtype=np.int64),
    )
