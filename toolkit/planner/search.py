"""The optimizer: a small propose/record interface with an exact and a fast strategy behind it.

Both strategies feed the same :class:`Ledger`, which holds every evaluated lane (a group under one
autoscaling policy) and ranks *configurations* (a group with its cheapest region, on-demand or spot;
or a serverless variant x memory size). A configuration's cost is that of its group's cheapest
feasible lane; feasible means violation minutes within the allowance and cost within the budget.

Ranking (:data:`TIE_BREAK`): cheapest first, to the cent; among configurations whose monthly cost is equal
to the cent and whose violation minutes are equal (to 0.1 minute a month), the lower quality loss first
(the variant closest to the reference, :meth:`toolkit.families.base.Family.quality_loss`), then fewer
instances (fewer instance-hours billed), then the name. So a choice does not flip between equally
priced variants with the run-to-run noise of a measurement.

- :class:`ExactStrategy` evaluates every lane (brute force).
- :class:`FastStrategy` evaluates lanes in order of a provable lower bound on their cost
  (:mod:`toolkit.planner.bounds`) and skips every lane whose bound exceeds the N-th best feasible
  cost found so far. A skipped lane costs at least its bound, so it could not have entered the top N:
  both strategies return the same top N, tie-breaks included. A scheduled lane whose floors never rise above the
  availability minimum behaves exactly like a target-tracking lane (its *twin*): the fast strategy records the
  twin's results for it instead of simulating it again (the twin, earlier in grid order, wins their tie).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from toolkit.sla import allows

from toolkit.planner.bounds import billed_lower_bound
from toolkit.planner.grid import LaneSpace
from toolkit.planner.simulate import EventLog, Lanes, TraceIndex, measure_events, run_events

_BIG = np.iinfo(np.int64).max // 4
TIE_BREAK = ("monthly cost to the cent", "violation minutes (0.1 min a month)", "quality loss (closest to the reference first)",
             "instances (instance-hours billed)", "name")


@dataclass
class Config:
    """One ranked configuration."""

    index: int
    kind: str  # "instance" | "serverless"
    gid: int = -1
    spot: bool = False
    option_ids: list[int] = field(default_factory=list)
    serverless: object = None  # the ServerlessOption (memory size) chosen for this variant and region
    serverless_options: list = field(default_factory=list)  # every memory size of this variant and region


class Ledger:
    """Evaluated lanes, each group's best lane and each configuration's cost and feasibility."""

    def __init__(self, space: LaneSpace, serverless: list, *, allowance: float, budget: float | None, month_factor: float,
                 quality_loss=None):
        """``quality_loss``: a variant -> sort key (smaller: closer to the reference) for ties (default: no preference)."""
        self.space = space
        self.allowance = float(allowance)
        self.budget = budget
        self.month_factor = month_factor
        n = space.size
        self.billed = np.full(n, -1, dtype=np.int64)
        self.viol = np.full(n, -1.0)
        self.served = np.zeros(n)
        ng = len(space.groups)
        self.best_lane = np.full(ng, -1, dtype=np.int64)
        self.configs: list[Config] = []
        by_variant: dict[tuple[str, str], list] = {}
        for s in serverless:
            by_variant.setdefault((s.variant.name, s.region), []).append(s)
        for opts in by_variant.values():
            # one configuration per variant and region: its cheapest feasible memory size
            ok = [o for o in opts if self.meets_sla(o.sim.violation_minutes) and self.within_budget(o.monthly_usd)]
            pick = min(ok or opts, key=lambda o: (o.monthly_usd, o.estimate.memory_mb))
            self.configs.append(Config(len(self.configs), "serverless", serverless=pick, serverless_options=opts))
        self._group_cfgs: dict[int, list[int]] = {}
        for g in space.groups:
            for spot in (False, True):
                ids = [i for i, o in enumerate(g.options) if o.spot == spot]
                if ids:
                    c = Config(len(self.configs), "instance", gid=g.gid, spot=spot, option_ids=ids)
                    self.configs.append(c)
                    self._group_cfgs.setdefault(g.gid, []).append(c.index)
        nc = len(self.configs)
        self.config_viol = np.full(nc, np.inf)  # violation minutes a month of each configuration's lane
        self.config_billed = np.zeros(nc, dtype=np.int64)  # instance-minutes billed (0 for serverless)
        loss = quality_loss or (lambda v: ())
        keys = [(loss(self._variant(c)), self.config_name(c.index)) for c in self.configs]
        self.quality_rank = _dense_rank([k[0] for k in keys])
        self.name_rank = _dense_rank([k[1] for k in keys])
        self.cost = np.full(nc, np.inf)
        self.feasible = np.zeros(nc, dtype=bool)
        self.region_choice = np.full(nc, -1, dtype=np.int64)
        for c in self.configs:
            if c.kind == "serverless":
                self.cost[c.index] = c.serverless.monthly_usd
                self.config_viol[c.index] = float(self.month_violations(c.serverless.sim.violation_minutes))
                self.feasible[c.index] = self.meets_sla(c.serverless.sim.violation_minutes) and self.within_budget(self.cost[c.index])
        # per group: every option's unit and fixed price, and the smallest of each (for bounds)
        self.units = [np.asarray([o.price.unit_usd_per_instance_hour for o in g.options]) for g in space.groups]
        self.fixed = [np.asarray([o.price.fixed_usd for o in g.options]) for g in space.groups]
        self.min_unit = np.asarray([u.min() for u in self.units]) if ng else np.zeros(0)
        self.min_fixed = np.asarray([f.min() for f in self.fixed]) if ng else np.zeros(0)

    # ---- constraints ------------------------------------------------------------------------
    def month_violations(self, v) -> np.ndarray:
        return np.asarray(v, dtype=float) * self.month_factor

    def meets_sla(self, v) -> bool:
        return bool(allows(self.month_violations(v), self.allowance))

    def within_budget(self, cost: float) -> bool:
        return self.budget is None or cost <= self.budget

    def hours(self, billed_minutes) -> np.ndarray:
        return np.asarray(billed_minutes, dtype=float) / 60.0 * self.month_factor

    def lower_cost(self, lanes, lb_billed) -> np.ndarray:
        """A lower bound on the cost of every configuration of the lanes' groups."""
        gid = np.asarray(lanes) // self.space.G
        return self.hours(lb_billed) * self.min_unit[gid] + self.min_fixed[gid]

    def option_cost(self, gid: int, billed_minutes: int, option_ids) -> tuple[float, int]:
        costs = self.hours(billed_minutes) * self.units[gid][option_ids] + self.fixed[gid][option_ids]
        j = int(np.argmin(costs))
        return float(costs[j]), int(option_ids[j])

    # ---- recording ----------------------------------------------------------------------------
    def record(self, lanes, billed, viol, served) -> None:
        lanes = np.asarray(lanes, dtype=np.int64)
        self.billed[lanes] = billed
        self.viol[lanes] = viol
        self.served[lanes] = served
        G = self.space.G
        for gid in np.unique(lanes // G):
            gid = int(gid)
            sl = slice(gid * G, (gid + 1) * G)
            b, v = self.billed[sl], self.viol[sl]
            ok = (b >= 0) & allows(self.month_violations(v), self.allowance)
            if not ok.any():
                continue
            # cheapest feasible lane; ties: fewer violation minutes, then grid order
            cand = np.flatnonzero(ok)
            best = gid * G + int(cand[np.lexsort((cand, v[cand], b[cand]))[0]])
            self.best_lane[gid] = best
            for ci in self._group_cfgs.get(gid, []):
                c = self.configs[ci]
                cost, opt = self.option_cost(gid, int(self.billed[best]), c.option_ids)
                self.cost[ci], self.region_choice[ci] = cost, opt
                self.config_viol[ci], self.config_billed[ci] = float(self.month_violations(self.viol[best])), int(self.billed[best])
                self.feasible[ci] = self.within_budget(cost)

    # ---- ranking --------------------------------------------------------------------------------
    def ranking(self) -> list[int]:
        """Feasible configurations, cheapest first; ties as :data:`TIE_BREAK` says (then enumeration order)."""
        idx = np.flatnonzero(self.feasible)
        keys = self.rank_keys(idx)
        return [int(i) for i in idx[np.lexsort((idx,) + keys[::-1])]]

    def rank_keys(self, idx) -> tuple[np.ndarray, ...]:
        """The :data:`TIE_BREAK` keys of configurations ``idx``, most significant first."""
        idx = np.asarray(idx, dtype=np.int64)
        return (np.round(self.cost[idx] * 100), np.round(self.config_viol[idx] * 10), self.quality_rank[idx], self.config_billed[idx],
                self.name_rank[idx])

    def tied_on_cost(self, a: int, b: int) -> bool:
        """Whether two configurations cost the same to the cent and have the same violation minutes (a tie-break decides)."""
        ka, kb = self.rank_keys([a]), self.rank_keys([b])
        return bool(ka[0][0] == kb[0][0] and ka[1][0] == kb[1][0])

    def config_name(self, ci: int) -> str:
        c = self.configs[ci]
        if c.kind == "serverless":
            s = c.serverless
            return f"{s.variant.name} {s.platform or 'serverless'} {s.estimate.memory_mb} MB {s.region}"
        g = self.space.groups[c.gid]
        return f"{g.variant.name} {g.platform} {g.instance.name}{' spot' if c.spot else ''}"

    def _variant(self, c: Config):
        return c.serverless.variant if c.kind == "serverless" else self.space.groups[c.gid].variant

    def threshold(self, top: int) -> float:
        """The cost a lane must not exceed to reach the top ``top``: the ``top``-th cost, plus a cent (a configuration
        in the same cent may still rank above it by the tie-break)."""
        r = self.ranking()
        return float(self.cost[r[top - 1]]) + 0.01 if len(r) >= top else np.inf


def _dense_rank(keys: list) -> np.ndarray:
    """Each key's position among the distinct keys, sorted."""
    order = {k: i for i, k in enumerate(sorted(set(keys)))}
    return np.asarray([order[k] for k in keys], dtype=np.int64)


class Strategy(Protocol):
    """Propose lanes to evaluate; learn from their results. ``propose`` returns None when done."""

    name: str

    def propose(self) -> np.ndarray | None: ...

    def record(self, lanes: np.ndarray) -> None: ...


class ExactStrategy:
    """Brute force: every lane of every group, in fixed-size batches."""

    name = "exact"

    def __init__(self, space: LaneSpace, batch: int = 4096):
        self.todo = np.arange(space.size, dtype=np.int64)
        self.batch = batch
        self.pos = 0

    def propose(self) -> np.ndarray | None:
        if self.pos >= self.todo.size:
            return None
        out = self.todo[self.pos : self.pos + self.batch]
        self.pos += self.batch
        return out

    def record(self, lanes: np.ndarray) -> None:
        pass


class FastStrategy:
    """Lower-bound pruning: evaluate lanes cheapest-bound first, skip those that cannot reach the top N."""

    name = "fast"

    def __init__(self, space: LaneSpace, ledger: Ledger, index: TraceIndex, top: int, *, seed_lanes: int = 256, batch: int = 4096):
        self.space, self.ledger, self.index, self.top = space, ledger, index, top
        self.seed_lanes, self.batch = seed_lanes, batch
        ng = len(space.groups)
        cheap = space.cheapest_policy_lanes()
        a = space.arrays(cheap)
        lb = billed_lower_bound(index, a["csf"], a["min"], a["max"], space.bound_window(cheap), space.out_ratio(cheap)) if ng else np.zeros(0)
        self.group_lb = ledger.lower_cost(cheap, lb) if ng else np.zeros(0)
        self.group_order = np.argsort(self.group_lb, kind="stable")
        self.expanded = np.zeros(ng, dtype=bool)
        self.lane_lb = np.full(space.size, np.inf)
        self.evaluated = np.zeros(space.size, dtype=bool)
        self.twin = np.full(space.size, -1, dtype=np.int64)
        self.calls = 0
        self.lanes_bounded = 0

    def _expand(self, gids: np.ndarray) -> None:
        gids = gids[~self.expanded[gids]]
        if not gids.size:
            return
        G = self.space.G
        lanes = (gids[:, None] * G + np.arange(G)[None, :]).ravel()
        a = self.space.arrays(lanes)
        lb = billed_lower_bound(self.index, a["csf"], a["min"], a["max"], self.space.bound_window(lanes), self.space.out_ratio(lanes))
        lb = np.maximum(lb, self.space.floor_bound(lanes, self.index.n))  # scheduled lanes: their floors bill too
        self.lane_lb[lanes] = self.ledger.lower_cost(lanes, lb)
        self.twin[lanes] = self.space.tracking_twin(lanes)
        self.expanded[gids] = True
        self.lanes_bounded += lanes.size

    def propose(self) -> np.ndarray | None:
        self.calls += 1
        t = self.ledger.threshold(self.top)
        if self.calls == 1 or np.isinf(t):
            # fewer than N feasible configurations so far: evaluate the next few groups by bound, doubling each round
            todo = self.group_order[~self.expanded[self.group_order]]
            if not todo.size:
                cand = np.flatnonzero(~self.evaluated & np.isfinite(self.lane_lb) & (self.twin < 0))
                return self._batch(cand)
            k = max(1, -(-self.seed_lanes // self.space.G)) * (1 << min(self.calls - 1, 16))
            self._expand(todo[:k])
        else:
            self._expand(self.group_order[self.group_lb[self.group_order] <= t])
        cand = np.flatnonzero(np.isfinite(self.lane_lb) & (self.lane_lb <= t) & ~self.evaluated & (self.twin < 0))
        return self._batch(cand)

    def _batch(self, cand: np.ndarray) -> np.ndarray | None:
        if not cand.size:
            return None
        cand = cand[np.argsort(self.lane_lb[cand], kind="stable")][: self.batch]
        return np.sort(cand)

    def record(self, lanes: np.ndarray) -> None:
        self.evaluated[lanes] = True

    def aliases(self) -> tuple[np.ndarray, np.ndarray]:
        """Lanes not simulated whose twin now is: (lanes, twins)."""
        alias = np.flatnonzero((self.twin >= 0) & ~self.evaluated)
        alias = alias[self.evaluated[self.twin[alias]]]
        return alias, self.twin[alias]


class Evaluator:
    """Simulates proposed lanes and keeps their event logs for the details of the winners."""

    def __init__(self, index: TraceIndex, space: LaneSpace):
        self.index, self.space = index, space
        self.batches: list[tuple[Lanes, EventLog]] = []
        self.where: dict[int, tuple[int, int]] = {}
        self.lanes_simulated = 0

    def __call__(self, lanes: np.ndarray):
        L = self.space.lanes(lanes)
        log = run_events(self.index, L)
        viol, served = measure_events(self.index, L, log, np.arange(lanes.size))
        b = len(self.batches)
        self.batches.append((L, log))
        for row, lane in enumerate(lanes.tolist()):
            self.where[lane] = (b, row)
        self.lanes_simulated += lanes.size
        return log.billed_minutes, viol, served

    def alias(self, lanes: np.ndarray, twins: np.ndarray) -> None:
        """Lanes that behave exactly like already simulated ones share their paths."""
        for lane, twin in zip(lanes.tolist(), twins.tolist()):
            self.where[lane] = self.where[twin]


@dataclass
class SearchStats:
    strategy: str
    lanes_total: int
    lanes_simulated: int
    batches: int
    seconds: float
    lanes_bounded: int = 0

    def as_dict(self) -> dict:
        return {"strategy": self.strategy, "lanes_total": self.lanes_total, "lanes_simulated": self.lanes_simulated,
                "lanes_pruned": self.lanes_total - self.lanes_simulated, "batches": self.batches, "seconds": round(self.seconds, 3)}


def run_search(strategy: Strategy, ledger: Ledger, evaluator: Evaluator) -> SearchStats:
    """Drive a strategy until it has nothing more to propose."""
    t0 = time.perf_counter()
    batches = 0
    while True:
        lanes = strategy.propose()
        if lanes is None or not len(lanes):
            break
        billed, viol, served = evaluator(lanes)
        ledger.record(lanes, billed, viol, served)
        strategy.record(lanes)
        alias, twins = strategy.aliases() if hasattr(strategy, "aliases") else ((), ())
        if len(alias):
            ledger.record(alias, ledger.billed[twins], ledger.viol[twins], ledger.served[twins])
            evaluator.alias(alias, twins)
            strategy.record(alias)
        batches += 1
    return SearchStats(strategy.name, ledger.space.size, evaluator.lanes_simulated, batches, time.perf_counter() - t0,
                       getattr(strategy, "lanes_bounded", ledger.space.size))


def make_strategy(name: str, space: LaneSpace, ledger: Ledger, index: TraceIndex, top: int) -> Strategy:
    if name == "exact":
        return ExactStrategy(space)
    if name == "fast":
        return FastStrategy(space, ledger, index, top)
    from toolkit.errors import InputError

    raise InputError(f"unknown search strategy '{name}'", hint="use --strategy exact or --strategy fast")
