"""``plan.json``: the cheapest configuration that meets the SLA, its autoscaling policy, cost and baselines."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from toolkit.artifacts.common import Artifact, Provenance, _Model


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


class Candidate(_Model):
    variant: str
    platform: Literal["sagemaker-realtime", "sagemaker-serverless", "kubernetes"]
    region: str
    instance_type: str | None = None
    spot: bool = False
    serverless: Serverless | None = None
    capacity_rps_per_instance: float | None = Field(default=None, description="Highest rate per instance at which the SLA percentile holds.")
    capacity_provenance: Provenance | None = None
    autoscaling: Autoscaling | None = None
    monthly_cost_usd: float
    cost_per_million_requests_usd: float
    cost_items: list[CostItem] = Field(default_factory=list)
    simulation: Simulation
    feasible: bool = True
    why_not: str | None = Field(default=None, description="For runners-up and misses: why it lost or which constraint it broke, by how much.")
    capacity_band_rps: list[float] | None = Field(default=None, description="Low and high end of the capacity estimate's uncertainty band (req/s per instance).")
    sensitivity: dict | None = Field(default=None, description="The same policy simulated with capacity at the low end of its band: violation minutes per month; and 'cost_band': the cheapest policy meeting the SLA, and its monthly cost, with capacity at each end of the band.")

    def cost_band_ends(self) -> tuple[dict, dict] | None:
        """``sensitivity.cost_band`` as (high-capacity end, low-capacity end), i.e. (cheaper, dearer); None unless both
        ends have a cost."""
        band = (self.sensitivity or {}).get("cost_band") or {}
        cheap, dear = band.get("high_capacity") or {}, band.get("low_capacity") or {}
        if cheap.get("monthly_cost_usd") is None or dear.get("monthly_cost_usd") is None:
            return None
        return cheap, dear


class Baselines(_Model):
    static_peak: Candidate | None = Field(default=None, description="Static provisioning for peak on the cheapest feasible instance type.")
    single_gpu_default: Candidate | None = Field(default=None, description="ml.g5.xlarge with AWS's default target tracking.")


class PlanFile(Artifact):
    KIND: ClassVar[str] = "plan"
    SCHEMA_VERSION: ClassVar[int] = 1

    name: str = Field(description="The spec's name.")
    sla: dict = Field(description="The SLA the plan was made for (as in the spec).")
    traffic: dict = Field(description="Traffic summary: kind, days, peak/mean rps, total requests per 30-day month.")
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
    search: dict = Field(default_factory=dict, description="Search statistics: lanes (candidate x policy) in total, simulated, pruned; seconds.")
    estimates: list[str] = Field(default_factory=list, description="Which numbers are estimates, from what model, and how uncertain.")
    scheduling: dict | None = Field(default=None, description="Scheduled scaling compared with target tracking alone (periodic traffic).")
    excluded: list[dict] = Field(default_factory=list, description="Candidates that could not run, grouped by reason (with examples).")
