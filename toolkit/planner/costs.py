"""The monthly bill of a configuration: instance-hours x price, storage, data processed, fixed fees.

Prices come from the catalog (:mod:`toolkit.pricing`) with their source and age. A few items have
no row in the catalog; they are priced from constants below, each labelled ``estimate`` in the plan:

- request and response sizes (for SageMaker's data-processing charge): each model family's
  ``request_kb`` and ``response_kb`` (:mod:`toolkit.families`; a JSON embedding of 384 floats is about 4 KB);
- the ML storage volume SageMaker attaches to instances without local NVMe storage
  (:data:`SAGEMAKER_VOLUME_GB`);
- for Kubernetes: the EKS control plane (:data:`EKS_USD_PER_HOUR`, a dedicated cluster is assumed),
  one Network Load Balancer (:data:`NLB_USD_PER_HOUR`, LCU charges left out) and a gp3 root volume per
  node (:data:`NODE_VOLUME_GB` at :data:`GP3_USD_PER_GB_MONTH`). These are us-east-1 list prices.

A month is 30 days (43,200 minutes); simulated periods of another length are scaled to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MONTH_MINUTES = 30 * 1440
HOURS_PER_GB_MONTH = 730.0  # AWS bills GB-months over 730 hours
SAGEMAKER_VOLUME_GB = 30.0
NVME_FAMILIES = {"g4dn", "g4ad", "g5", "g6", "g6e", "g6f", "p3dn", "p4d", "p4de", "p5", "p5en", "p6-b200", "c5d", "m5d", "r5d"}
EKS_USD_PER_HOUR = 0.10
NLB_USD_PER_HOUR = 0.0225
NODE_VOLUME_GB = 20.0
GP3_USD_PER_GB_MONTH = 0.08
ESTIMATE_AS_OF = "2026-11-01"


@dataclass(frozen=True)
class Line:
    """One bill line before it becomes a plan.json CostItem: usage per month x unit price."""

    resource: str
    component: str
    unit: str
    usage_per_month: float
    unit_price: float
    sku: str
    quote: object | None = None  # PriceQuote, or None for the estimate constants above
    per_instance_hour: bool = False  # usage scales with instance-hours

    @property
    def cost(self) -> float:
        return self.usage_per_month * self.unit_price


@dataclass
class PriceModel:
    """How one priced configuration's monthly cost depends on its instance-hours: ``hours x unit + fixed``."""

    hourly_quote: object  # PriceQuote of the instance (or serverless compute rate)
    unit_usd_per_instance_hour: float = 0.0
    fixed_usd: float = 0.0
    per_hour_lines: list[tuple[str, str, str, float, float, str, object]] = field(default_factory=list)
    fixed_lines: list[Line] = field(default_factory=list)

    def monthly(self, instance_hours: float) -> float:
        return instance_hours * self.unit_usd_per_instance_hour + self.fixed_usd

    def lines(self, instance_hours: float) -> list[Line]:
        out = []
        for resource, component, unit, per_hour_usage, price, sku, quote in self.per_hour_lines:
            out.append(Line(resource, component, unit, instance_hours * per_hour_usage, price, sku, quote, True))
        return out + list(self.fixed_lines)


@dataclass
class SpotPriceModel(PriceModel):
    """Spot above an on-demand floor: ``floor_instance_hours`` at the on-demand rate, the rest at the spot rate.

    Still linear in instance-hours (the floor is in service all month), so the search's cost bounds hold:
    ``monthly = hours x spot + floor_hours x (on-demand - spot) + other fixed lines``."""

    on_demand_quote: object = None  # PriceQuote of the same node on demand
    floor_instance_hours: float = 0.0
    floor_resource: str = ""
    floor_sku: str = ""

    def lines(self, instance_hours: float) -> list[Line]:
        out = super().lines(instance_hours)
        floor = min(self.floor_instance_hours, instance_hours)
        for i, line in enumerate(out):
            if line.component == "instances" and line.per_instance_hour:  # the spot line: hours above the floor
                out[i] = Line(line.resource, line.component, line.unit, instance_hours - floor, line.unit_price, line.sku, line.quote, True)
        od = self.on_demand_quote
        return [Line(self.floor_resource, "instances", "instance-hour", floor, od.usd, self.floor_sku, od, True)] + out


def has_local_nvme(family: str) -> bool:
    return family in NVME_FAMILIES
