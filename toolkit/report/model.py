"""The cost report as data: what every format (Markdown, CSV, HTML, JSON) renders.

Money is held in whole cents (``*_cents``) so that the formats agree to the cent; the JSON format
adds the same amounts in dollars. Built from a plan by :func:`toolkit.report.build.build_report`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from toolkit.artifacts.plan import Traffic
from toolkit.report.money import cents_to_usd
from toolkit.sla import SLA

STALE_PRICE_DAYS = 30
CURRENCY = "USD"


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CostLine(_Data):
    """One line of the projected bill: a resource's component over the period (one CSV row)."""

    service: str = Field(description="AWS service code the cost is billed under, e.g. AmazonSageMaker.")
    resource: str
    component: str
    usage_quantity: float
    unit: str
    unit_price_usd: float
    cost_cents: int
    price_sku: str | None = None

    @computed_field
    @property
    def cost_usd(self) -> float:
        return cents_to_usd(self.cost_cents)


class Share(_Data):
    """A subtotal (by resource or by component) and its share of the total."""

    name: str
    cost_cents: int
    share: float

    @computed_field
    @property
    def cost_usd(self) -> float:
        return cents_to_usd(self.cost_cents)


class Hourly(_Data):
    """In-service instances and cost for each hour of the simulated traffic."""

    instances: list[float] = Field(default_factory=list)
    cost_usd: list[float] = Field(default_factory=list)
    peak_instances: float | None = None
    min_instances: float | None = None
    mean_instances: float | None = None
    hour_of_day_instances: list[float] = Field(default_factory=list, description="Mean over days for hours 0-23 of the simulated days.")
    hour_of_day_cost_usd: list[float] = Field(default_factory=list)


class BaselineRow(_Data):
    """The chosen plan or a baseline, side by side (first row is the plan itself)."""

    key: str
    label: str
    description: str
    available: bool
    configuration: str | None = None
    monthly_cost_cents: int | None = None
    savings_cents: int | None = Field(default=None, description="Baseline minus plan: what the plan saves each month.")
    savings_fraction: float | None = None
    violation_minutes: float | None = None
    meets_sla: bool | None = None

    @computed_field
    @property
    def monthly_cost_usd(self) -> float | None:
        return None if self.monthly_cost_cents is None else cents_to_usd(self.monthly_cost_cents)

    @computed_field
    @property
    def savings_usd(self) -> float | None:
        return None if self.savings_cents is None else cents_to_usd(self.savings_cents)


class PriceRow(_Data):
    sku: str
    usd: float
    unit: str
    source: str
    as_of: str
    age_days: float = Field(description="Age on the day the report was made (at least the age recorded in the plan).")
    confidence: str
    stale: bool


class Figure(_Data):
    """Where a figure comes from: measured (where) or estimated (model, band)."""

    figure: str
    value: str
    provenance: Literal["measured", "estimated", "list price", "input"]
    detail: str


class SavingsPlan(_Data):
    """ML Savings Plan view: shown only when the plan's price catalog holds Savings Plan rates."""

    available: bool
    note: str
    monthly_cost_cents: int | None = None
    savings_cents: int | None = None

    @computed_field
    @property
    def monthly_cost_usd(self) -> float | None:
        return None if self.monthly_cost_cents is None else cents_to_usd(self.monthly_cost_cents)


class CostReport(_Data):
    """Everything a cost report says, format-neutral."""

    kind: Literal["cost-report"] = "cost-report"
    report_version: int = Field(default=2, description="2: sla and traffic are the plan's typed sections (toolkit.sla.SLA, Traffic).")
    generated_at: str
    plan_name: str
    plan_created_at: str
    plan_spec_sha256: str
    plan_tool_version: str
    currency: str = CURRENCY
    period_start: str = Field(description="First day of the projected 30-day month (the day the plan was made).")
    period_end: str = Field(description="Day after the last day of the projected month.")
    configuration: dict[str, str] = Field(description="The chosen configuration, as label -> value.")
    monthly_cost_cents: int = Field(description="Headline: projected on-demand cost of a 30-day month.")
    cost_range_cents: list[int] | None = Field(
        default=None, description="When capacity is estimated: the monthly cost of the cheapest SLA-meeting policy with capacity at the "
                                  "high and at the low end of its band (low, high), from the plan's cost_band.")
    cost_per_million_requests_usd: float
    lines: list[CostLine]
    by_resource: list[Share]
    by_component: list[Share]
    hourly: Hourly
    baselines: list[BaselineRow]
    sla: SLA
    traffic: Traffic
    savings_plan: SavingsPlan
    prices: list[PriceRow]
    figures: list[Figure]
    assumptions: list[str]
    tags: dict[str, str]
    warnings: list[str]

    @computed_field
    @property
    def monthly_cost_usd(self) -> float:
        return cents_to_usd(self.monthly_cost_cents)

    @property
    def period(self) -> str:
        """ISO 8601 interval of the projected month, e.g. ``2026-11-29/2026-12-29``."""
        return f"{self.period_start}/{self.period_end}"
