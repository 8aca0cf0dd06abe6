"""``plan.json``: the cheapest configuration that meets the SLA, its autoscaling policy, cost and baselines.

Schema version 2: every section is typed (the SLA is :class:`toolkit.sla.SLA`; a capacity carries its
unit). Version-1 files (the spec's ``sla`` section as it was, ``capacity_rps_per_instance``) are read and
upgraded on load by the before-validators below, which also accept those old shapes from callers.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import ConfigDict, Field, model_validator

from toolkit.artifacts.common import Artifact, Provenance, _Model
from toolkit.artifacts.plan_tokens import TokenEconomics
from toolkit.platforms import names as platform_names
from toolkit.sla import PERCENTILES, SLA, Rate


class PriceRef(_Model):
    """Where a price came from and how old it was when the plan was made."""

    sku: str = Field(description="What is priced, e.g. 'sagemaker-hosting ml.c7i.xlarge us-east-1'.")
    usd: float
    unit: str = Field(examples=["hour", "GB-second", "GB", "GB-month"])
    source: str = Field(description="'snapshot' or 'aws-price-list-api' plus the row's own source.")
    as_of: str = Field(description="Date of the price (ISO).")
    age_days: float
    confidence: Literal["high", "medium", "low"] = "high"


class ScheduledAction(_Model):
    name: str
    schedule: str = Field(description="cron(...) expression in UTC, as Application Auto Scaling takes it.")
    min_capacity: int = Field(ge=0)
    max_capacity: int = Field(ge=1)


class Autoscaling(_Model):
    min_capacity: int = Field(ge=0)
    max_capacity: int = Field(ge=1)
    metric: str = Field(default="SageMakerVariantInvocationsPerInstance")
    target_value: float = Field(gt=0, description="Invocations per instance per minute (target tracking).")
    safety_factor: float = Field(gt=0, le=1)
    scale_in_cooldown_s: int = Field(default=900, ge=0)
    scale_out_cooldown_s: int = Field(default=300, ge=0)
    scheduled: list[ScheduledAction] = Field(default_factory=list)


class Serverless(_Model):
    memory_mb: int = Field(ge=1024, le=6144)
    max_concurrency: int = Field(ge=1, le=200)
    provisioned_concurrency: int | None = None


class CostItem(_Model):
    """One line of the monthly bill."""

    resource: str = Field(examples=["endpoint/minilm-embeddings"])
    component: Literal["instances", "storage", "data-processed", "serverless-compute", "cluster", "load-balancer"]
    usage_quantity: float
    unit: str = Field(examples=["instance-hour", "GB-month", "GB", "GB-second"])
    unit_price_usd: float
    cost_usd: float
    price: PriceRef | None = None


class Simulation(_Model):
    """Autoscaling simulated minute by minute over the traffic."""

    minutes: int
    violation_minutes: float = Field(description="Minutes with demand above in-service capacity at the SLA rate, scaled to a 30-day month.")
    peak_instances: int
    mean_instances: float
    utilisation: float = Field(description="Mean demand / mean in-service capacity at the SLA rate.")
    cold_starts: int = 0
    hourly_instances: list[float] = Field(default_factory=list, description="Mean in-service instances for each hour of the period.")
    hourly_cost_usd: list[float] = Field(default_factory=list)
    billed_instance_hours: float | None = Field(default=None, description="Instance-hours billed per 30-day month (instances count from launch).")
    throttled_minutes: float = Field(default=0, description="Serverless: minutes with more concurrent requests than max concurrency, per 30-day month.")


class _Section(_Model):
    """A typed section of plan.json. ``RENAMED`` maps version-1 key names to fields."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)
    RENAMED: ClassVar[dict[str, str]] = {}

    @model_validator(mode="before")
    @classmethod
    def _renamed_keys(cls, data: Any) -> Any:
        if isinstance(data, dict) and any(k in data for k in cls.RENAMED):
            data = {cls.RENAMED.get(k, k): v for k, v in data.items()}
        return data


class Traffic(_Section):
    """The traffic the plan was simulated over (rates in requests/s)."""

    kind: str = Field(examples=["diurnal", "bursty", "trace"])
    minutes: int | None = Field(default=None, description="Length of the simulated traffic, minutes.")
    days: float | None = None
    peak_rps: float | None = None
    mean_rps: float | None = None
    p95_rps: float | None = None
    requests_per_month: float | None = Field(default=None, description="Requests in a 30-day month.")
    periodic: bool | None = Field(default=None, description="Whether the traffic repeats daily (scheduled scaling can anticipate it).")
    daily_autocorrelation: float | None = None
    file: str | None = Field(default=None, description="The trace file, for kind 'trace'.")


class SearchStats(_Section):
    """How the search went: lanes (candidate x policy) in total, simulated and pruned; seconds."""

    strategy: str | None = Field(default=None, examples=["fast", "exact"])
    lanes_total: int | None = None
    lanes_simulated: int | None = None
    lanes_pruned: int | None = None
    batches: int | None = None
    seconds: float | None = None
    configurations: int | None = None
    groups: int | None = None
    serverless_options: int | None = None


class ScheduleStep(_Section):
    minute_of_day_utc: int = Field(ge=0, lt=1440)
    min_capacity: int = Field(ge=0)


class ScheduleComparison(_Section):
    """Target tracking alone vs with daily (and, for weekly traffic, weekday/weekend) scheduled floors, for one configuration."""

    configuration: str
    target_tracking_usd: float | None = Field(default=None, description="None when no target-tracking policy alone met the SLA.")
    target_tracking_violation_minutes: float | None = None
    scheduled_usd: float | None = Field(default=None, description="None when no scheduled policy met the SLA.")
    scheduled_violation_minutes: float | None = None
    floor_fraction_of_hourly_p95: float | None = None
    safety_factor: float | None = None
    schedule: list[ScheduleStep] | None = None
    weekly_usd: float | None = Field(default=None, description="The cheapest weekday/weekend schedule meeting the SLA (weekly traffic).")
    weekly_violation_minutes: float | None = None
    weekly_actions: list[str] | None = Field(default=None, description="Its scheduled actions: cron expression (UTC) and min capacity.")
    adopted: bool = False  # whether the plan's policy for this configuration is a scheduled one
    adopted_weekly: bool = False  # ... and that schedule the weekday/weekend one


class Scheduling(_Section):
    """Scheduled scaling compared with target tracking alone (periodic traffic)."""

    periodic: bool
    daily_autocorrelation: float | None = None
    weekly: bool | None = Field(default=None, description="Whether weekday/weekend schedules were searched too (the note says why).")
    compared: bool
    reason: str | None = Field(default=None, description="Why nothing was compared.")
    note: str | None = None
    results: list[ScheduleComparison] = Field(default_factory=list)


class ExcludedGroup(_Section):
    """Candidates that could not run, grouped by variant, platform and kind of reason."""

    variant: str
    platform: str
    kind: str
    count: int = Field(ge=1)
    example: str
    instance_types: list[str] = Field(default_factory=list)


class BandEnd(_Section):
    """The cheapest policy meeting the SLA with capacity at one end of its uncertainty band."""

    RENAMED: ClassVar[dict[str, str]] = {"capacity_rps_per_instance": "capacity"}
    capacity: float = Field(description="Capacity per instance at this end of the band, in the candidate's capacity unit.")
    meets_sla: bool
    monthly_cost_usd: float | None = None
    min_capacity: int | None = None
    max_capacity: int | None = None
    safety_factor: float | None = None


class CostBand(_Section):
    low_capacity: BandEnd | None = None
    high_capacity: BandEnd | None = None
    note: str | None = None


class ScaleInAlternative(_Section):
    """The chosen policy with scale-ins sized by the alternative rule."""

    assumed: str
    alternative: str
    violation_minutes: float
    meets_sla: bool
    monthly_cost_usd: float | None = None


class ServerlessVariation(_Section):
    case: str = Field(examples=["cold start x2 (4.0 s)", "keep-warm 5 min (assumed 10)"])
    violation_minutes: float
    meets_sla: bool


class Sensitivity(_Section):
    """The chosen policy simulated with capacity at the low end of its band, and the cost band."""

    RENAMED: ClassVar[dict[str, str]] = {"capacity_rps_per_instance": "capacity"}
    capacity: float | None = Field(default=None, description="Low end of the capacity band, in the candidate's capacity unit.")
    violation_minutes: float | None = Field(default=None, description="Violation minutes per month at that capacity, same policy.")
    meets_sla: bool | None = None
    note: str | None = None
    cost_band: CostBand | None = Field(default=None, description="The cheapest policy meeting the SLA, and its monthly cost, with "
                                                                 "capacity at each end of the band.")
    scale_in_alternative: ScaleInAlternative | None = None
    serverless: list[ServerlessVariation] = Field(default_factory=list, description="Serverless: the cold start and keep-warm varied.")


class Downside(_Section):
    """The recommended commitment if traffic is lower than the spec says (re-simulated with the same policy)."""

    traffic_change_pct: float = Field(examples=[-30, -60])
    on_demand_usd: float = Field(description="That traffic bought entirely on demand, per month.")
    committed_usd: float = Field(description="With the commitment: committed spend (used or not) plus usage above it.")
    unused_commitment_usd: float = 0.0


class Commitment(_Section):
    """A Savings Plans commitment: what to buy, and what it does to the month."""

    plan: str = Field(examples=["sagemaker", "ec2-instance"])
    term: str = Field(examples=["1yr", "3yr"])
    payment: str = Field(examples=["no-upfront", "partial-upfront", "all-upfront"])
    commitment_usd_per_hour: float = Field(description="USD per hour committed (billed every hour of the term, used or not).")
    committed_instances: float = Field(description="Instances the commitment covers each hour at the plan rate.")
    discount: float = Field(description="1 - plan rate / on-demand rate, from the cited rate.")
    break_even_utilisation: float = Field(description="The commitment pays off when used at least this share of the hours.")
    monthly_usd: float = Field(description="The month's instance cost with the commitment (amortised upfront included).")
    saving_usd: float = Field(description="Monthly saving against the same usage on demand.")
    upfront_usd: float = Field(default=0.0, description="Paid at purchase for the whole term (partial/all upfront).")
    rate: PriceRef
    downside: list[Downside] = Field(default_factory=list)


class SpotUse(_Section):
    """Kubernetes capacity above the availability floor on spot nodes, interruptions simulated."""

    floor_instances: int = Field(description="Nodes kept on demand at all times.")
    spot_instance_hours: float = Field(description="Node-hours above the floor, per 30-day month.")
    fallback_instance_hours: float = Field(description="Replacement nodes that found no spot capacity and ran on demand.")
    interruption_band: str = Field(description="The Spot Instance Advisor's frequency-of-interruption band (an estimate).")
    interruptions_per_instance_hour: float
    replacement_delay_min: int
    interruptions: int = Field(description="Interruptions drawn in the simulated period.")
    violation_minutes: float = Field(description="Violation minutes per month with interruptions, target tracking included.")
    seed: int = 0
    source: str = ""


class Purchase(_Section):
    """How the capacity is bought: on demand (or spot above the floor) as deployed, and the commitment to buy."""

    deployed_usd: float = Field(description="The month as deployed: on demand, or on demand + spot above the floor.")
    on_demand_usd: float = Field(description="The same fleet entirely on demand.")
    committed: Commitment | None = Field(default=None, description="The recommended Savings Plans commitment; deploy never buys it.")
    spot: SpotUse | None = None
    notes: list[str] = Field(default_factory=list, description="Purchase options left out, and why (e.g. no rate in the catalog).")


class Candidate(_Model):
    variant: str
    platform: Literal[platform_names()]
    region: str
    instance_type: str | None = None
    spot: bool = False
    serverless: Serverless | None = None
    capacity: Rate | None = Field(default=None, description="Highest rate per instance at which the SLA holds, with its unit "
                                                              "(e.g. 62.5 req/s per instance).")
    capacity_provenance: Provenance | None = None
    autoscaling: Autoscaling | None = None
    monthly_cost_usd: float
    cost_per_million_requests_usd: float
    cost_items: list[CostItem] = Field(default_factory=list)
    simulation: Simulation
    feasible: bool = True
    why_not: str | None = Field(default=None, description="For runners-up and misses: why it lost or which constraint it broke, by how much.")
    capacity_band: list[float] | None = Field(default=None, min_length=2, max_length=2,
                                              description="Low and high end of the capacity estimate's uncertainty band, in capacity's unit.")
    sensitivity: Sensitivity | None = None
    purchase: Purchase | None = Field(default=None, description="How to buy it: on-demand, spot above the floor, Savings Plans.")

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    @model_validator(mode="before")
    @classmethod
    def _legacy_capacity(cls, data: Any) -> Any:
        """Version 1: ``capacity_rps_per_instance`` and ``capacity_band_rps``."""
        if isinstance(data, dict) and ("capacity_rps_per_instance" in data or "capacity_band_rps" in data):
            data = dict(data)
            rps, band = data.pop("capacity_rps_per_instance", None), data.pop("capacity_band_rps", None)
            if rps is not None and data.get("capacity") is None:
                data["capacity"] = Rate(value=rps, unit="req/s", per="instance")
            if band is not None and data.get("capacity_band") is None:
                data["capacity_band"] = band
        return data

    def cost_band_ends(self) -> tuple[BandEnd, BandEnd] | None:
        """``sensitivity.cost_band`` as (high-capacity end, low-capacity end), i.e. (cheaper, dearer); None unless both
        ends have a cost."""
        band = self.sensitivity.cost_band if self.sensitivity else None
        cheap, dear = (band.high_capacity, band.low_capacity) if band else (None, None)
        if cheap is None or dear is None or cheap.monthly_cost_usd is None or dear.monthly_cost_usd is None:
            return None
        return cheap, dear


class Baselines(_Model):
    static_peak: Candidate | None = Field(default=None, description="Static provisioning for peak on the cheapest feasible instance type.")
    single_gpu_default: Candidate | None = Field(default=None, description="ml.g5.xlarge with AWS's default target tracking.")
    default_gpu_static: Candidate | None = Field(default=None, description="Generative models: static provisioning for peak on the GPU "
                                                                           "a user would pick (bf16 on the g5 size the model needs).")


def legacy_sla(old: dict) -> dict:
    """The ``sla`` of a version-1 plan (the spec's section: one ``pXX_ms``, ``peak_rps``, ``availability``, ...) in the
    shape of :class:`toolkit.sla.SLA`: one latency constraint, the peak in requests/s. Unknown keys are kept (and refused)."""
    known = {f"{p}_ms" for p in PERCENTILES} | {"peak_rps", "max_violation_minutes_per_month", "availability", "max_error_rate"}
    out: dict[str, Any] = {k: v for k, v in old.items() if k not in known}
    limits = [(p, old[f"{p}_ms"]) for p in PERCENTILES if old.get(f"{p}_ms") is not None]
    if len(limits) == 1:  # otherwise 'constraints' stays missing and validation says so
        out["constraints"] = [{"metric": "latency", "percentile": limits[0][0], "limit": limits[0][1], "unit": "ms"}]
    if old.get("peak_rps") is not None:
        out |= {"peak": {"value": old["peak_rps"], "unit": "req/s"}, "peak_rps": old["peak_rps"]}
    out["max_violation_minutes_per_month"] = old.get("max_violation_minutes_per_month", 60.0)
    availability = old.get("availability") or {}
    out["min_instances"] = availability.get("min_instances", 1)
    out["spread_across_zones"] = availability.get("spread_across_zones", False)
    out["max_error_rate"] = old.get("max_error_rate", 0.001)
    return out


class BandChoice(_Section):
    at: str = Field(examples=["optimistic end", "middle", "confidence 0.9", "pessimistic end"])
    confidence: float
    configuration: str | None = None
    monthly_cost_usd: float | None = None


class ConfidenceChoice(_Section):
    """The plan made at a stated confidence over the capacity band, and the choice at the band's ends."""

    level: float = Field(ge=0, le=1)
    choices: list[BandChoice] = Field(default_factory=list)
    stable: bool = Field(description="Whether the same configuration wins across the band.")
    note: str | None = None


class PlanFile(Artifact):
    KIND: ClassVar[str] = "plan"
    SCHEMA_VERSION: ClassVar[int] = 2
    OLDER_VERSIONS: ClassVar[tuple[int, ...]] = (1,)

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    name: str = Field(description="The spec's name.")
    sla: SLA = Field(description="The SLA the plan was made for, as the typed constraints the planner checked.")
    traffic: Traffic = Field(description="Traffic summary: kind, days, peak/mean rps, total requests per 30-day month.")
    tags: dict[str, str] = Field(default_factory=dict)
    feasible: bool
    chosen: Candidate | None
    runners_up: list[Candidate] = Field(default_factory=list)
    nearest_misses: list[Candidate] = Field(default_factory=list)
    baselines: Baselines = Field(default_factory=Baselines)
    prices: list[PriceRef] = Field(default_factory=list)
    assumptions: list[str] = Field(default_factory=list)
    model_artifact_sha256: str | None = Field(default=None, description="sha256 of the packaged model.tar.gz, when known.")
    strategy: str | None = Field(default=None, description="Search strategy used: 'exact' (brute force) or 'fast' (lower-bound pruning).")
    search: SearchStats = Field(default_factory=SearchStats, description="Search statistics: lanes (candidate x policy) in total, simulated, pruned; seconds.")
    estimates: list[str] = Field(default_factory=list, description="Which numbers are estimates, from what model, and how uncertain.")
    scheduling: Scheduling | None = Field(default=None, description="Scheduled scaling compared with target tracking alone (periodic traffic).")
    excluded: list[ExcludedGroup] = Field(default_factory=list, description="Candidates that could not run, grouped by reason (with examples).")
    confidence: ConfidenceChoice | None = Field(default=None, description="With --confidence: the capacity point planned at, and the choice across the band.")
    tokens: TokenEconomics | None = Field(default=None, description="Generative models: costs per 1M tokens, GPU-hours and the API comparison.")

    @model_validator(mode="before")
    @classmethod
    def _legacy(cls, data: Any) -> Any:
        """Version-1 files, and callers that still pass the spec's ``sla`` section as a dict. The header is relabelled
        here (``upgrade``); the sections are converted by :func:`legacy_sla`, ``Candidate`` (capacities) and the
        sections' ``RENAMED`` keys."""
        if not isinstance(data, dict):
            return data
        if data.get("schema_version") in cls.OLDER_VERSIONS:
            data = cls.upgrade(data)
        sla = data.get("sla")
        if isinstance(sla, dict) and "constraints" not in sla:
            data = {**data, "sla": legacy_sla(sla)}
        return data
