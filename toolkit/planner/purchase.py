"""How capacity is bought: the Savings Plans commitment that minimises a month's cost, and spot capacity with
simulated interruptions. Pure functions over numpy arrays and floats; nothing here knows the planner.

Commitment. A Savings Plan bills ``c`` USD every hour of the term, used or not; in return usage is billed at
the plan rate ``r`` instead of the on-demand rate ``p`` until ``c`` is used up, and on demand above it. In
on-demand-equivalent spend ``s_t = n_t * p`` (``n_t`` instances in service in hour t), a commitment ``c``
covers ``x = c * p / r = c / (1 - d)`` of spend per hour (``d = 1 - r / p``, the discount), so a month of T
hours costs

    C(x) = T * (1 - d) * x + sum_t max(0, s_t - x).

C is convex and piecewise linear; its slope is ``T (1 - d) - #{t : s_t > x}``. It is minimal where the
share of hours whose spend exceeds x falls to ``1 - d``: at the smallest x with ``F(x) >= d``, F the
empirical distribution of hourly spend - the d-quantile of the hourly on-demand-equivalent spend (numpy's
``inverted_cdf`` quantile). A committed dollar pays off when it is used in at least ``1 - d`` of the hours:
that is the break-even utilisation. With one instance type, spend quantiles are instance-count quantiles.

Spot. Capacity above an on-demand floor runs on spot. Each spot instance in service is interrupted with a
constant hazard per instance-hour (from the Spot Instance Advisor's band, a labelled estimate); a replacement
serves after a delay in minutes, on spot or - with a given probability, when spot capacity is short - on
demand. Until it serves, that capacity is lost: the minute-level shortfall is returned so violation minutes
can be counted against the SLA allowance like any other. Scale-in removes pending replacements first, then
on-demand fallbacks, then spot instances. The simulation is seeded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from toolkit.errors import InputError

MINUTES_PER_HOUR = 60


def _path(values, name: str) -> np.ndarray:
    a = np.asarray(values, dtype=float)
    if a.ndim != 1 or a.size == 0:
        raise InputError(f"{name} must be a non-empty 1-D series", hint="pass one value per hour (or per minute for spot)")
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise InputError(f"{name} must be finite and non-negative", hint="check the simulated path for gaps or negative counts")
    return a


def _rates(on_demand_rate: float, committed_rate: float) -> float:
    if not on_demand_rate > 0 or not committed_rate > 0:
        raise InputError(f"rates must be positive (on-demand {on_demand_rate}, committed {committed_rate})",
                         hint="use USD per instance-hour from the price catalog")
    return 1.0 - committed_rate / on_demand_rate


# ---- commitment -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CommitmentCost:
    """The cost of one usage path under a commitment of ``commitment_usd_per_hour`` (USD over the path's hours)."""

    commitment_usd_per_hour: float
    hours: int
    on_demand_cost: float  #: the same path bought entirely on demand
    committed_cost: float  #: commitment x hours: billed whether used or not
    overflow_cost: float  #: usage above the commitment, at on-demand rates
    unused_commitment: float  #: committed USD not matched by usage
    utilisation: float  #: share of the committed dollars that usage consumed (1.0 with no commitment)

    @property
    def cost(self) -> float:
        return self.committed_cost + self.overflow_cost

    @property
    def saving(self) -> float:
        """USD saved against all on demand (negative: the commitment costs more than it saves on this path)."""
        return self.on_demand_cost - self.cost

    @property
    def saving_fraction(self) -> float:
        return self.saving / self.on_demand_cost if self.on_demand_cost else 0.0


def commitment_cost(on_demand_spend, commitment_usd_per_hour: float, discount: float) -> CommitmentCost:
    """Price a path of hourly on-demand-equivalent spend (USD per hour) under a commitment (USD per hour)."""
    s = _path(on_demand_spend, "hourly on-demand spend")
    if not 0.0 <= discount < 1.0:
        raise InputError(f"the plan discount must be in [0, 1), got {discount}", hint="discount = 1 - plan rate / on-demand rate")
    c = max(0.0, float(commitment_usd_per_hour))
    covered = c / (1.0 - discount)  # on-demand-equivalent spend the commitment covers each hour
    used = np.minimum(s, covered)
    overflow = float(np.sum(s - used))
    committed = c * s.size
    unused = float(np.sum(covered - used)) * (1.0 - discount)
    return CommitmentCost(c, int(s.size), float(np.sum(s)), committed, overflow, unused,
                          1.0 - unused / committed if committed else 1.0)


def optimal_commitment(on_demand_spend, discount: float) -> float:
    """The commitment (USD per hour) minimising the cost of this spend path: (1 - d) x the d-quantile of spend."""
    s = _path(on_demand_spend, "hourly on-demand spend")
    if not 0.0 <= discount < 1.0:
        raise InputError(f"the plan discount must be in [0, 1), got {discount}", hint="discount = 1 - plan rate / on-demand rate")
    if discount == 0.0:
        return 0.0
    return float(np.quantile(s, discount, method="inverted_cdf")) * (1.0 - discount)


@dataclass(frozen=True)
class CommitmentChoice:
    """The chosen commitment for one instance type's hourly path, and what it does to the month's bill."""

    commitment_usd_per_hour: float  #: what to buy: USD per hour at the plan rate
    committed_instances: float  #: instances the commitment covers each hour (commitment / plan rate)
    on_demand_rate: float
    committed_rate: float
    discount: float  #: 1 - plan rate / on-demand rate
    quantile: float  #: the usage quantile chosen (= discount)
    break_even_utilisation: float  #: a commitment pays off when used at least this share of the hours (= 1 - discount)
    month: CommitmentCost  #: the path it was chosen on

    @property
    def monthly_saving(self) -> float:
        return self.month.saving

    def reprice(self, instances) -> CommitmentCost:
        """The same commitment on another hourly instance-count path (e.g. re-simulated at 30% or 60% less traffic)."""
        return commitment_cost(_path(instances, "hourly instances") * self.on_demand_rate, self.commitment_usd_per_hour, self.discount)


def choose_commitment(instances, on_demand_rate: float, committed_rate: float) -> CommitmentChoice:
    """The cost-minimising commitment for an hourly path of instances in service, at these USD per instance-hour rates.

    No commitment (0) when the plan rate is not below on demand.
    """
    n = _path(instances, "hourly instances")
    d = _rates(on_demand_rate, committed_rate)
    if d <= 0.0:
        c = 0.0
        d = 0.0
    else:
        c = optimal_commitment(n * on_demand_rate, d)
    return CommitmentChoice(c, c / committed_rate, float(on_demand_rate), float(committed_rate), d, d, 1.0 - d,
                            commitment_cost(n * on_demand_rate, c, d))


# ---- spot ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SpotSimulation:
    """Minute by minute: what spot capacity above the floor delivered, what it lost, and what it cost."""

    demand: np.ndarray  #: instances wanted per minute (the input path)
    floor: np.ndarray  #: on-demand floor per minute
    spot_in_service: np.ndarray
    fallback_in_service: np.ndarray  #: on-demand replacements of interrupted spot instances
    capacity_lost: np.ndarray  #: instances short per minute (interrupted, replacement not yet serving)
    interruptions: int
    fallback_launches: int
    spot_cost: float  #: USD
    on_demand_cost: float  #: USD: the floor plus fallbacks

    @property
    def in_service(self) -> np.ndarray:
        return self.demand - self.capacity_lost

    @property
    def minutes_short(self) -> int:
        """Minutes with any capacity lost (whether they violate the SLA depends on the headroom left)."""
        return int(np.count_nonzero(self.capacity_lost))

    @property
    def cost(self) -> float:
        return self.spot_cost + self.on_demand_cost

    def violation_minutes(self, needed) -> int:
        """Minutes where the instances still in service fall below ``needed`` (per minute, or one number)."""
        return int(np.count_nonzero(self.in_service < np.broadcast_to(np.asarray(needed, dtype=float), self.demand.shape)))


def per_minute(hourly) -> np.ndarray:
    """An hourly path repeated for each minute of its hours."""
    return np.repeat(_path(hourly, "hourly path"), MINUTES_PER_HOUR)


def simulate_spot(demand, floor, *, interruptions_per_instance_hour: float, replacement_delay_min: int,
                  spot_rate: float, on_demand_rate: float, fallback_probability: float = 0.0, seed: int = 0) -> SpotSimulation:
    """Simulate spot capacity above an on-demand ``floor`` for a per-minute path of instances wanted.

    ``demand`` and ``floor`` are instances per minute (``floor`` may be one number); counts are rounded up.
    ``interruptions_per_instance_hour`` is the hazard (see ``toolkit.pricing.commitments.InterruptionBand``);
    ``replacement_delay_min`` the minutes an interrupted instance's capacity is missing; a replacement is on
    demand with ``fallback_probability``. Rates are USD per instance-hour; billing is per instance-minute.
    """
    want = np.ceil(_path(demand, "instances per minute")).astype(np.int64)
    base = np.broadcast_to(np.ceil(np.asarray(floor, dtype=float)), want.shape).astype(np.int64)
    if np.any(base < 0):
        raise InputError("the on-demand floor must be non-negative", hint="pass the availability floor in instances")
    if interruptions_per_instance_hour < 0 or replacement_delay_min < 0 or not 0.0 <= fallback_probability <= 1.0:
        raise InputError("interruption rate and delay must be non-negative, the fallback probability in [0, 1]",
                         hint="take the rate from the interruption band, the delay in minutes")
    if spot_rate < 0 or on_demand_rate < 0:
        raise InputError("rates must be non-negative", hint="use USD per instance-hour from the price catalog")
    floor_now = np.minimum(base, want)
    above = want - floor_now
    rng = np.random.default_rng(seed)
    q = float(-np.expm1(-interruptions_per_instance_hour / MINUTES_PER_HOUR))  # per instance-minute
    delay = int(replacement_delay_min)
    T = want.size
    # Plain Python lists and a running count of replacements in flight: a replacement is only ever queued at
    # t + delay, so everything queued beyond t is within (t, t + delay] and the window sum is that count.
    pending = [0] * (T + delay + 1)  # replacements by the minute they start serving
    above_l = above.tolist()
    spot = fallback = inflight = 0
    spot_s, fb_s, lost = [0] * T, [0] * T, [0] * T
    interrupted = launches = 0
    binomial = rng.binomial
    for t in range(T):
        ready = pending[t]
        if ready:
            pending[t] = 0
            inflight -= ready
            to_od = int(binomial(ready, fallback_probability)) if fallback_probability else 0
            fallback += to_od
            launches += to_od
            spot += ready - to_od
        excess = spot + fallback + inflight - above_l[t]
        if excess > 0:  # scale in: cancel replacements (latest first), then fallbacks, then spot
            if inflight:
                for k in range(t + delay, t, -1):
                    take = min(excess, pending[k])
                    if take:
                        pending[k] -= take
                        inflight -= take
                        excess -= take
                        if not excess:
                            break
            take = min(excess, fallback)
            fallback -= take
            spot -= excess - take
        elif excess < 0:  # scale out on spot: the path's instances are in service
            spot -= excess
        hit = int(binomial(spot, q)) if spot and q else 0
        if hit:
            interrupted += hit
            spot -= hit
            if delay:
                pending[t + delay] += hit
                inflight += hit
            else:  # replaced within the minute
                to_od = int(binomial(hit, fallback_probability)) if fallback_probability else 0
                fallback += to_od
                launches += to_od
                spot += hit - to_od
        spot_s[t], fb_s[t], lost[t] = spot, fallback, inflight
    spot_s, fb_s, lost = (np.asarray(x, dtype=np.int64) for x in (spot_s, fb_s, lost))
    minutes = float(MINUTES_PER_HOUR)
    return SpotSimulation(
        demand=want.astype(float), floor=floor_now.astype(float), spot_in_service=spot_s.astype(float),
        fallback_in_service=fb_s.astype(float), capacity_lost=lost.astype(float), interruptions=interrupted,
        fallback_launches=launches, spot_cost=float(spot_s.sum()) * spot_rate / minutes,
        on_demand_cost=float(floor_now.sum() + fb_s.sum()) * on_demand_rate / minutes,
    )
