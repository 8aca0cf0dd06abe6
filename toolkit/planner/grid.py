"""The autoscaling policies searched for every instance group: safety factor x min capacity x max capacity.

A *lane* is one group under one policy; lane id = ``gid * len(GRID) + policy index``. The target value
of a lane is AWS's formula, ``capacity at the SLA x safety factor x 60`` invocations per instance per
minute. Min capacity starts at the spec's availability minimum; max capacity is either exactly what
the peak minute needs at the SLA rate ("peak": stop adding instances there) or what target tracking
would reach at the peak ("headroom"). One more policy per group is static provisioning for the peak
(min = max = what the peak minute needs), so a plan never costs more than the static baseline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from toolkit.planner.simulate import Lanes

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
    """Lane parameters for a list of groups, computed on demand and vectorised."""

    def __init__(self, groups, peak_rps: float, min_instances: int):
        self.groups = groups
        self.peak = float(peak_rps)
        self.m0 = int(min_instances)
        self.cap = np.asarray([g.cap for g in groups], dtype=float)
        self.dyn_table = []
        idx = []
        for g in groups:
            if g.dynamics not in self.dyn_table:
                self.dyn_table.append(g.dynamics)
            idx.append(self.dyn_table.index(g.dynamics))
        self.dyn_idx = np.asarray(idx, dtype=np.int64)

    @property
    def size(self) -> int:
        return len(self.groups) * G

    def split(self, lanes) -> tuple[np.ndarray, np.ndarray]:
        lanes = np.asarray(lanes, dtype=np.int64)
        return lanes // G, lanes % G

    def arrays(self, lanes) -> dict[str, np.ndarray]:
        gid, p = self.split(lanes)
        cap = self.cap[gid]
        csf = cap * _SF[p]
        peak_need = np.maximum(1, np.ceil(self.peak / cap)).astype(np.int64)
        head_need = np.maximum(1, np.ceil(self.peak / csf)).astype(np.int64)
        m = np.where(_STATIC[p], np.maximum(self.m0, peak_need), self.m0 + np.maximum(_OFF[p], 0))
        M = np.maximum(m, np.where(_PEAK_MODE[p], peak_need, head_need))
        return {"gid": gid, "policy": p, "cap": cap, "csf": csf, "min": m, "max": M, "dyn": self.dyn_idx[gid]}

    def lanes(self, lanes) -> Lanes:
        a = self.arrays(lanes)
        return lanes_from_arrays(a["csf"], a["cap"], a["min"], a["max"], [self.dyn_table[i] for i in range(len(self.dyn_table))], a["dyn"])

    def bound_window(self, lanes) -> np.ndarray:
        gid, _ = self.split(lanes)
        windows = np.asarray([d.bound_window for d in self.dyn_table], dtype=np.int64)
        return windows[self.dyn_idx[gid]]

    def out_ratio(self, lanes) -> np.ndarray:
        gid, _ = self.split(lanes)
        return np.asarray([d.scale_out_ratio for d in self.dyn_table])[self.dyn_idx[gid]]

    def policy(self, lane: int) -> Policy:
        a = self.arrays([lane])
        sf = float(_SF[a["policy"][0]])
        return Policy(sf, int(a["min"][0]), int(a["max"][0]), float(a["csf"][0]) * 60.0)

    def cheapest_policy_lanes(self) -> np.ndarray:
        """Per group, the lane whose lower bound is smallest: highest safety factor, min offset 0, 'peak' max."""
        best = next(i for i, (sf, off, mode) in enumerate(GRID) if sf == max(SAFETY_FACTORS) and off == 0 and mode == "peak")
        return np.arange(len(self.groups), dtype=np.int64) * G + best


def lanes_from_arrays(csf, cap, min_cap, max_cap, dyn_table, dyn_idx, schedule=None) -> Lanes:
    """:class:`Lanes` from per-lane arrays; ``dyn_idx`` picks each lane's Dynamics from ``dyn_table``."""
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
    )
