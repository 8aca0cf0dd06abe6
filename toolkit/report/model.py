"""The cost report as data: what every format (Markdown, CSV, HTML, JSON) renders.

Every amount is held twice, by the rule of :mod:`toolkit.report.money`: in whole cents (``*_cents``), what
Markdown, HTML and text show, and exact to 1e-6 USD (``*_usd``), what JSON and CSV give; both grains are
allocated so that lines sum exactly to their totals. Built from a plan by :func:`toolkit.report.build.build_report`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from toolkit.artifacts.plan import Traffic
from toolkit.sla import SLA

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
    cost_usd: float = Field(description="Exact to 1e-6 USD; the lines' cost_usd sum exactly to the report's monthly_cost_usd.")
    price_sku: str | None = None


class Share(_Data):
    """A subtotal (by resource or by component) and its share of the total."""

    name: str
    cost_cents: int
    cost_usd: float
    share: float


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
    monthly_cost_usd: float | None = None
    savings_cents: int | None = Field(default=None, description="Baseline minus plan: what the plan saves each month.")
    savings_usd: float | None = None
    savings_fraction: float | None = None
    violation_minutes: float | None = None
    meets_sla: bool | None = None
    note: str | None = Field(default=None, description="Why the saving is what it is, where a bare figure would mislead "
                                                       "(no saving at all, or the plan costing more).")


class PriceRow(_Data):
    """A list price. Its age is computed once, at plan time (``plan --explain`` shows the same number); staleness is
    judged on the day the report is made, since a plan can sit in a repository."""

    sku: str
    usd: float
    unit: str
    source: str
    as_of: str
    age_days: float = Field(description="Age when the plan was made, as plan.json records it and `plan --explain` shows it.")
    age_today_days: float = Field(description="Age on the day the report was made (never less than age_days).")
    confidence: str
    stale: bool = Field(description="age_today_days is above the staleness threshold (stale_after_days).")


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
    monthly_cost_usd: float | None = None
    savings_cents: int | None = None


class PurchaseRow(_Data):
    """One way of buying the month: all on demand, as planned (spot above the floor), with the recommended commitment."""

    key: Literal["on-demand", "as-planned", "committed"]
    label: str
    monthly_cost_cents: int
    monthly_cost_usd: float
    savings_cents: int = Field(description="All on demand minus this row, per month.")
    savings_usd: float
    savings_fraction: float | None = None


class DownsideRow(_Data):
    """The recommended commitment when traffic is lower than the spec says (instance cost it covers, re-simulated)."""

    traffic_change_pct: float
    on_demand_cents: int
    committed_cents: int
    unused_commitment_cents: int
    extra_cents: int = Field(description="Committed minus on demand: positive when the commitment costs more than it saves.")
    on_demand_usd: float
    committed_usd: float
    unused_commitment_usd: float


class CommitmentView(_Data):
    """What to buy (deploy never buys it): a Savings Plans commitment from a rate in the price catalog."""

    plan: str
    term: str
    payment: str
    usd_per_hour: float = Field(description="The commitment, USD per hour of the term, billed whether used or not.")
    committed_instances: float
    discount: float
    break_even_utilisation: float
    upfront_usd: float = Field(description="Paid once at purchase for the whole term.")
    term_months: float = Field(description="30-day months in the term (upfront payments are amortised over them).")
    recurring_month_usd: float = Field(description="The commitment's hourly charges in a 30-day month.")
    amortised_upfront_month_usd: float = Field(description="The upfront payment's share of one 30-day month.")
    covered_on_demand_usd: float = Field(description="On-demand usage the commitment covers in the month (billed at the plan rate instead).")
    saving_cents: int
    saving_usd: float
    rate: PriceRow
    rate_is_test_fixture: bool = Field(default=False, description="The rate's source says it is test data, not a cited price.")
    downside: list[DownsideRow] = Field(default_factory=list)


class SpotView(_Data):
    floor_instances: int
    spot_instance_hours: float
    fallback_instance_hours: float
    interruption_band: str
    interruptions_per_instance_hour: float
    replacement_delay_min: int
    interruptions: int
    violation_minutes: float
    source: str


class PurchaseView(_Data):
    """How to buy it: on demand vs committed vs with spot, the saving, break-even and downside; or why on demand is kept."""

    available: bool = Field(description="False for plans made before purchase options were planned.")
    rows: list[PurchaseRow] = Field(default_factory=list)
    commitment: CommitmentView | None = None
    spot: SpotView | None = None
    bought_monthly_cost_cents: int = Field(description="The month bought as recommended: the CSV's rows sum to this.")
    bought_monthly_cost_usd: float
    summary: str
    notes: list[str] = Field(default_factory=list)


class TokenRow(_Data):
    """A configuration's (or API's) month for the spec's tokens."""

    kind: Literal["plan", "baseline", "api"]
    label: str
    configuration: str | None = None
    monthly_cost_cents: int
    monthly_cost_usd: float
    per_million_output_cents: int
    per_million_output_usd: float
    per_million_total_cents: int
    per_million_total_usd: float
    gpu_hours: float | None = None
    instance_hours: float | None = None
    vs_plan_cents: int | None = Field(default=None, description="This row minus the plan, per month (negative: cheaper than the plan).")
    vs_plan_usd: float | None = None
    break_even_output_tokens_per_day: float | None = Field(default=None, description="APIs: the traffic above which self-hosting "
                                                                                     "is cheaper, on the report's cost curve.")
    meets_sla: bool | None = None
    price_note: str | None = None


class CurvePoint(_Data):
    output_tokens_per_day: float
    self_hosted_usd: float
    mean_instances: float


class TokenView(_Data):
    """Generative plans: costs per 1M tokens, GPU-hours, hour-of-day instance-hours, baselines, APIs and break-even."""

    model: str
    architecture_only: bool
    mean_prompt_tokens: float
    mean_output_tokens: float
    output_tokens_per_day: float
    total_tokens_per_day: float
    output_tokens_per_month: float
    total_tokens_per_month: float
    gpus_per_instance: float
    capacity_output_tokens_per_s: float | None
    utilisation: float
    floor_instances: int
    floor_monthly_usd: float
    fixed_monthly_usd: float = Field(description="Costs that do not grow with traffic (cluster, load balancer).")
    usd_per_instance_hour: float = Field(description="Instances and their storage, per billed instance-hour.")
    usd_per_million_requests_data: float = Field(description="Data processed per 1M requests.")
    curve_method: str
    curve: list[CurvePoint]
    rows: list[TokenRow]
    hour_of_day_instance_hours: list[float] = Field(default_factory=list, description="In-service instance-hours a 30-day month "
                                                                                      "at each hour of the day, 00-23.")
    break_even_output_tokens_per_day: float | None = Field(default=None, description="Against the cheapest API; None when it is "
                                                                                     "cheaper at any traffic.")
    verdict: str
    notes: list[str] = Field(default_factory=list)


class CostReport(_Data):
    """Everything a cost report says, format-neutral."""

    kind: Literal["cost-report"] = "cost-report"
    report_version: int = Field(default=4, description="2: sla and traffic are the plan's typed sections (toolkit.sla.SLA, Traffic). "
                                                       "3: *_usd exact to 1e-6 beside *_cents; prices holds the bill's prices only "
                                                       "(other_prices the rest); price ages at plan time plus age today. "
                                                       "4: purchase (how to buy it) and tokens (generative plans).")
    generated_at: str
    plan_name: str
    plan_created_at: str
    plan_spec_sha256: str
    plan_tool_version: str
    currency: str = CURRENCY
    period_start: str = Field(description="First day of the projected 30-day month (the day the plan was made).")
    period_end: str = Field(description="Day after the last day of the projected month.")
    configuration: dict[str, str] = Field(description="The chosen configuration, as label -> value.")
    monthly_cost_cents: int = Field(description="Headline: projected on-demand cost of a 30-day month, in cents.")
    monthly_cost_usd: float = Field(description="The headline exact to 1e-6 USD; rounds to monthly_cost_cents.")
    cost_range_cents: list[int] | None = Field(
        default=None, description="When capacity is estimated: the monthly cost of the cheapest SLA-meeting policy with capacity at the "
                                  "high and at the low end of its band (low, high), from the plan's cost_band.")
    cost_range_usd: list[float] | None = None
    capacity_uncertainty: float | None = Field(default=None, description="The estimated capacity's ± band, as a fraction (None: measured).")
    cost_per_million_requests_cents: int
    cost_per_million_requests_usd: float
    scaling: str = Field(description="The scaling policy in words, e.g. '2 instances at all times, adding up to 4 more when traffic rises'.")
    lines: list[CostLine]
    by_resource: list[Share]
    by_component: list[Share]
    hourly: Hourly
    baselines: list[BaselineRow]
    sla: SLA
    traffic: Traffic
    savings_plan: SavingsPlan
    purchase: PurchaseView | None = Field(default=None, description="How to buy it (plans with a purchase section).")
    tokens: TokenView | None = Field(default=None, description="Generative plans: the month in token terms.")
    prices: list[PriceRow] = Field(description="The prices this bill uses (the chosen configuration's line items).")
    other_prices: list[PriceRow] = Field(default_factory=list, description="Prices the plan used elsewhere: baselines, runners-up, "
                                                                           "Savings Plan rates.")
    stale_after_days: int = Field(description="Staleness threshold in days (LEANSERVE_PRICE_MAX_AGE_DAYS, default 30).")
    figures: list[Figure]
    assumptions: list[str]
    tags: dict[str, str]
    warnings: list[str]
    notes: list[str] = Field(default_factory=list, description="Quieter remarks (e.g. stale prices outside the bill); no banner.")

    @property
    def period(self) -> str:
        """ISO 8601 interval of the projected month, e.g. ``2026-11-29/2026-12-29``."""
        return f"{self.period_start}/{self.period_end}"
