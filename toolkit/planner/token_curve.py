"""The self-hosted month as a function of traffic: one model for the plan's break-even and the report's chart.

Traffic is ``x`` in any unit proportional to the spec's (output tokens a day in the report, a scale factor
in the planner); ``x_spec`` is the spec's own traffic in that unit. From the chosen configuration's simulated
month:

    instances(x) = max(floor, x / x_spec * n)     n: billed mean instances at the spec's traffic
    self(x)      = fixed + instances(x) * v + x * d
                                                  fixed: cluster and load balancer a month
                                                  v: instances and storage a month per instance
                                                  d: data processed per unit of traffic

so ``self(x_spec)`` is the simulated month exactly and ``self(0)`` is the availability floor. An API's month
is linear in traffic; self-hosting is cheaper on one interval, from :meth:`Curve.break_even` on. The fleet
is assumed to follow mean demand at the plan's utilisation: an estimate, not a new simulation.
"""

from __future__ import annotations

from toolkit.planner.costs import MONTH_MINUTES

FIXED = ("cluster", "load-balancer")
PER_INSTANCE = ("instances", "storage")
MONTH_HOURS = MONTH_MINUTES / 60.0  #: the 30-day month every plan bills


class Curve:
    def __init__(self, x_spec: float, fixed: float, per_instance_month: float, data_per_unit: float, floor: int, mean_instances: float):
        self.x_spec, self.fixed, self.v, self.d, self.floor, self.n = x_spec, fixed, per_instance_month, data_per_unit, floor, mean_instances
        self.kink = x_spec * floor / mean_instances if mean_instances > 0 else float("inf")  # where the fleet leaves the floor

    def instances(self, x: float) -> float:
        return max(float(self.floor), x / self.x_spec * self.n) if self.x_spec > 0 else float(self.floor)

    def cost(self, x: float) -> float:
        return self.fixed + self.instances(x) * self.v + x * self.d

    def slope_above_floor(self) -> float:
        """What one more unit of traffic adds to the month once the fleet is above its floor."""
        return (self.n / self.x_spec * self.v + self.d) if self.x_spec > 0 else 0.0

    def break_even(self, api_month_at_spec: float) -> float | None:
        """Traffic above which self-hosting is cheaper than an API costing ``api_month_at_spec`` at the spec's
        traffic; None when it never is. API minus self is concave and negative at zero traffic (fixed costs are
        not negative), so self-hosting is cheaper on one interval, from this point on."""
        if self.x_spec <= 0:
            return None
        a = api_month_at_spec / self.x_spec
        f0 = self.fixed + self.floor * self.v  # the month at the floor, before data
        if a > self.d and f0 / (a - self.d) <= self.kink:
            return f0 / (a - self.d)
        slope = a - self.d - self.n / self.x_spec * self.v  # above the kink: api - self = slope x - fixed
        return max(self.kink, self.fixed / slope) if slope > 0 else None


def curve_from_costs(items, monthly: float, billed_instance_hours: float, floor: int, x_spec: float = 1.0) -> Curve:
    """The curve of a month given as cost items (plan.json ``cost_items`` or the report's lines: anything with
    ``component`` and ``cost_usd``) totalling ``monthly``."""
    fixed = sum(i.cost_usd for i in items if i.component in FIXED)
    per_instance = sum(i.cost_usd for i in items if i.component in PER_INSTANCE)
    data = monthly - fixed - per_instance
    n = billed_instance_hours / MONTH_HOURS
    v = per_instance / n if n > 0 else 0.0
    return Curve(x_spec, fixed, v, data / x_spec if x_spec > 0 else 0.0, floor, n)
