"""Realistic plan.json files for the report tests, built from the real PlanFile models.

The planner writes plan.json; until its output is stable these builders stand in for it. They
simulate a diurnal month of traffic for the example spec (MiniLM, p95 ≤ 50 ms at 150 req/s) with
prices from the project's price snapshot, so the numbers have the shape and size the planner's have.
Every figure is derived here (nothing hand-typed as a result), so the report's arithmetic is tested.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone

from toolkit.artifacts.common import Estimated, Measured
from toolkit.artifacts.plan import (
    Autoscaling,
    Baselines,
    Candidate,
    CostItem,
    PlanFile,
    PriceRef,
    Simulation,
    Traffic,
)
from toolkit.sla import SLA as TypedSLA
from toolkit.sla import Constraint, Rate

SLA = TypedSLA(constraints=[Constraint(metric="latency", percentile="p95", limit=50.0)], peak=Rate(value=150.0), peak_rps=150.0,
               max_violation_minutes_per_month=60.0, min_instances=2, spread_across_zones=True, max_error_rate=0.001)
TAGS = {"team": "search", "cost-center": "cc-1234", "project": "semantic-search"}
HOURLY_PRICE = {"ml.c7i.xlarge": 0.214, "ml.c6i.xlarge": 0.204, "ml.c7i.2xlarge": 0.428, "ml.g5.xlarge": 1.4084}
STORAGE_GB_MONTH = 0.14
DATA_PER_GB = 0.016
S3_GB_MONTH = 0.023
REQ_IN_KB, REQ_OUT_KB = 1.2, 1.6
VOLUME_GB = 4.0
HOURS = 30 * 24


def hourly_rps(peak: float = 150.0, trough: float = 15.0, peak_hour: float = 15.0, weekend: float = 0.6) -> list[float]:
    """Mean requests/s for each hour of a 30-day diurnal month (cosine day, quieter weekends)."""
    out = []
    for h in range(HOURS):
        day, hour = divmod(h, 24)
        shape = 0.5 + 0.5 * math.cos(2 * math.pi * (hour + 0.5 - peak_hour) / 24)
        rate = trough + (peak - trough) * shape
        out.append(rate * (weekend if day % 7 in (5, 6) else 1.0))
    return out


def price_ref(sku: str, usd: float, unit: str, *, as_of: date, plan_day: date, source: str, confidence: str = "high") -> PriceRef:
    return PriceRef(sku=sku, usd=usd, unit=unit, source=source, as_of=as_of.isoformat(),
                    age_days=float((plan_day - as_of).days), confidence=confidence)


def candidate(
    *,
    instance_type: str = "ml.c7i.xlarge",
    capacity_rps: float = 62.0,
    min_capacity: int = 2,
    max_capacity: int = 6,
    safety: float = 0.8,
    static: bool = False,
    rps: list[float] | None = None,
    price_day: date,
    plan_day: date,
    variant: str = "onnx-int8",
    name: str = "minilm-embeddings",
    measured: bool = False,
    lag_hours: int = 0,
) -> Candidate:
    """A SageMaker real-time candidate, its month simulated hour by hour over ``rps``."""
    rps = rps or hourly_rps()
    hourly = HOURLY_PRICE[instance_type]
    instances, fleet, violation_hours = [], [], 0.0
    for h, r in enumerate(rps):
        need = r / (capacity_rps * safety)
        if lag_hours:  # a slow policy sizes the fleet for the demand of an hour ago
            need = rps[max(0, h - lag_hours)] / (capacity_rps * safety)
        n = max_capacity if static else min(max_capacity, max(min_capacity, math.ceil(need)))
        # Mean over the hour: scaling lags demand, so part of a rising hour runs one instance short.
        mean_n = float(n) if static else max(min_capacity, n - 0.25 * (need > n - 1 and n > min_capacity))
        instances.append(round(mean_n, 2))
        fleet.append(n)
        if r > n * capacity_rps:
            violation_hours += 1
    inst_hours = sum(instances)
    src = "snapshot: aws_sagemaker_hosting.csv (AWS SageMaker docs; fmbench pricing.yml)"
    p_inst = price_ref(f"sagemaker-hosting {instance_type} us-east-1", hourly, "hour", as_of=price_day, plan_day=plan_day, source=src)
    p_store = price_ref("sagemaker-ml-storage gp2 us-east-1", STORAGE_GB_MONTH, "GB-month", as_of=price_day, plan_day=plan_day,
                        source="snapshot: aws_sagemaker_serverless.txt (awslabs/llmeter)")
    p_data = price_ref("sagemaker-data-processed us-east-1", DATA_PER_GB, "GB", as_of=price_day, plan_day=plan_day,
                       source="snapshot: aws_sagemaker_serverless.txt (aws-samples cost_constants.py)", confidence="medium")
    p_s3 = price_ref("s3-standard-storage us-east-1", S3_GB_MONTH, "GB-month", as_of=price_day, plan_day=plan_day,
                     source="snapshot: AWS S3 pricing page", confidence="medium")
    requests = sum(r * 3600 for r in rps)
    gb_data = requests * (REQ_IN_KB + REQ_OUT_KB) / 1024 / 1024
    gb_month = inst_hours * VOLUME_GB / HOURS
    model_gb = 0.0229
    items = [
        CostItem(resource=f"endpoint/{name}", component="instances", usage_quantity=inst_hours, unit="instance-hour",
                 unit_price_usd=hourly, cost_usd=inst_hours * hourly, price=p_inst),
        CostItem(resource=f"endpoint/{name}", component="storage", usage_quantity=gb_month, unit="GB-month",
                 unit_price_usd=STORAGE_GB_MONTH, cost_usd=gb_month * STORAGE_GB_MONTH, price=p_store),
        CostItem(resource=f"endpoint/{name}", component="data-processed", usage_quantity=gb_data, unit="GB",
                 unit_price_usd=DATA_PER_GB, cost_usd=gb_data * DATA_PER_GB, price=p_data),
        CostItem(resource=f"bucket/{name}-artifacts", component="storage", usage_quantity=model_gb, unit="GB-month",
                 unit_price_usd=S3_GB_MONTH, cost_usd=model_gb * S3_GB_MONTH, price=p_s3),
    ]
    monthly = sum(i.cost_usd for i in items)
    provenance = Measured(where=f"{instance_type}, Triton") if measured else Estimated(model="roofline calibrated on local CPU profile", uncertainty=0.25)
    return Candidate(
        variant=variant,
        platform="sagemaker-realtime",
        region="us-east-1",
        instance_type=instance_type,
        capacity=Rate(value=capacity_rps, per="instance"),
        capacity_provenance=provenance,
        autoscaling=None if static else Autoscaling(
            min_capacity=min_capacity, max_capacity=max_capacity, target_value=round(capacity_rps * safety * 60, 1), safety_factor=safety,
        ),
        monthly_cost_usd=monthly,
        cost_per_million_requests_usd=monthly / requests * 1e6,
        cost_items=items,
        simulation=Simulation(
            minutes=HOURS * 60,
            violation_minutes=violation_hours * 60,
            peak_instances=max(fleet),
            mean_instances=inst_hours / len(instances),
            utilisation=sum(rps) / sum(i * capacity_rps for i in instances),
            hourly_instances=instances,
            hourly_cost_usd=[i * hourly for i in instances],
        ),
    )


def make_plan(*, price_age_days: int = 12, today: date | None = None, baselines: bool = True, **chosen_args) -> PlanFile:
    """A plan made today whose prices are ``price_age_days`` old; ``chosen_args`` go to :func:`candidate`."""
    today = today or datetime.now(timezone.utc).date()
    price_day = today - timedelta(days=price_age_days)
    rps = hourly_rps()
    chosen = candidate(price_day=price_day, plan_day=today, rps=rps, **chosen_args)
    static = candidate(price_day=price_day, plan_day=today, rps=rps, static=True, max_capacity=math.ceil(150 / (62 * 0.8)))
    gpu = candidate(price_day=price_day, plan_day=today, rps=rps, instance_type="ml.g5.xlarge", capacity_rps=120.0,
                    min_capacity=1, max_capacity=2, safety=1.0, variant="onnx-fp16", lag_hours=1)
    prices = []
    for c in (chosen, static, gpu):
        for item in c.cost_items:
            if item.price and item.price not in prices:
                prices.append(item.price)
    requests = sum(r * 3600 for r in rps)
    return PlanFile(
        spec_sha256="9f2c" + "0" * 60,
        created_at=datetime.combine(today, datetime.min.time(), tzinfo=timezone.utc).replace(hour=9).isoformat(timespec="seconds"),
        name="minilm-embeddings",
        sla=SLA,
        traffic=Traffic(kind="diurnal", days=30, peak_rps=round(max(rps), 1), mean_rps=round(sum(rps) / len(rps), 1),
                        requests_per_month=round(requests)),
        tags=TAGS,
        feasible=True,
        chosen=chosen,
        baselines=Baselines(static_peak=static, single_gpu_default=gpu) if baselines else Baselines(),
        prices=prices,
        assumptions=[
            f"Request payload {REQ_IN_KB} KB in and {REQ_OUT_KB} KB out (data processed is billed both ways).",
            f"Each instance has a {VOLUME_GB:g} GB ML storage volume (ml.c7i has no instance-store SSD).",
            "A scale-out takes 5 minutes (instance launch and model load).",
            "A month is 30 days; traffic repeats the simulated pattern.",
        ],
    )


def make_serverless_plan(*, today: date | None = None, price_age_days: int = 12) -> PlanFile:
    """A plan that chose SageMaker Serverless (no instances, no hourly series): GB-seconds and data processed."""
    from toolkit.artifacts.plan import Serverless

    plan = make_plan(today=today, price_age_days=price_age_days)
    today = today or datetime.now(timezone.utc).date()
    price_day = today - timedelta(days=price_age_days)
    rps = hourly_rps(peak=8.0, trough=0.5)
    requests = sum(r * 3600 for r in rps)
    gb_seconds = requests * 0.012 * 2.0  # 12 ms per request at 2 GB
    gb_data = requests * (REQ_IN_KB + REQ_OUT_KB) / 1024 / 1024
    p_gbs = price_ref("sagemaker-serverless-compute us-east-1", 0.00002, "GB-second", as_of=price_day, plan_day=today,
                      source="snapshot: aws_sagemaker_serverless.txt")
    p_data = price_ref("sagemaker-data-processed us-east-1", DATA_PER_GB, "GB", as_of=price_day, plan_day=today,
                       source="snapshot: aws_sagemaker_serverless.txt", confidence="medium")
    items = [
        CostItem(resource="endpoint/minilm-embeddings", component="serverless-compute", usage_quantity=gb_seconds, unit="GB-second",
                 unit_price_usd=0.00002, cost_usd=gb_seconds * 0.00002, price=p_gbs),
        CostItem(resource="endpoint/minilm-embeddings", component="data-processed", usage_quantity=gb_data, unit="GB",
                 unit_price_usd=DATA_PER_GB, cost_usd=gb_data * DATA_PER_GB, price=p_data),
    ]
    monthly = sum(i.cost_usd for i in items)
    plan.chosen = Candidate(
        variant="onnx-int8", platform="sagemaker-serverless", region="us-east-1",
        serverless=Serverless(memory_mb=2048, max_concurrency=20),
        monthly_cost_usd=monthly, cost_per_million_requests_usd=monthly / requests * 1e6, cost_items=items,
        simulation=Simulation(minutes=HOURS * 60, violation_minutes=35.0, peak_instances=0, mean_instances=0.0, utilisation=0.0, cold_starts=412),
    )
    plan.prices = [p_gbs, p_data]
    plan.traffic = Traffic(kind="diurnal", days=30, requests_per_month=round(requests))
    return plan
