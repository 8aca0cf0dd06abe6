"""PlanFile fixtures built from the real pydantic models (the planner is built in parallel).

The numbers are example values of the right shape and units, not results of a planner run.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from toolkit.artifacts.plan import (
    Autoscaling,
    Candidate,
    Commitment,
    PlanFile,
    PriceRef,
    Purchase,
    ScheduledAction,
    Serverless,
    Simulation,
    SpotUse,
    Traffic,
)
from toolkit.fileio import sha256_file
from toolkit.sla import SLA as TypedSLA
from toolkit.sla import Constraint, Rate

SPEC_SHA = "5f1c0ffee0ddba11" + "0" * 48
TAGS = {"team": "search", "cost-center": "cc-1234", "project": "semantic-search"}
SLA = TypedSLA(constraints=[Constraint(metric="latency", percentile="p95", limit=50.0)], peak=Rate(value=150.0), peak_rps=150.0,
               max_violation_minutes_per_month=60.0, min_instances=2, spread_across_zones=True, max_error_rate=0.001)
TRAFFIC = Traffic(kind="diurnal", days=30, peak_rps=150.0, mean_rps=82.5, requests_per_month=213_840_000)


def autoscaling(min_capacity=2, max_capacity=6, target_value=3900.0, scheduled=True, metric="SageMakerVariantInvocationsPerInstance") -> Autoscaling:
    return Autoscaling(
        min_capacity=min_capacity,
        max_capacity=max_capacity,
        metric=metric,
        target_value=target_value,
        safety_factor=0.65,
        scale_in_cooldown_s=900,
        scale_out_cooldown_s=120,
        scheduled=[ScheduledAction(name="weekday-peak", schedule="cron(0 13 ? * MON-FRI *)", min_capacity=3, max_capacity=max_capacity),
                   ScheduledAction(name="night", schedule="cron(0 23 * * ? *)", min_capacity=min_capacity, max_capacity=max_capacity)] if scheduled else [],
    )


def candidate(platform="sagemaker-realtime", instance_type="ml.c7i.xlarge", region="us-east-1", variant="onnx-int8", scaling: Autoscaling | None = None, serverless: Serverless | None = None, monthly=483.6) -> Candidate:
    return Candidate(
        variant=variant,
        platform=platform,
        region=region,
        instance_type=instance_type,
        serverless=serverless,
        capacity=Rate(value=100.0, per="instance") if instance_type else None,
        autoscaling=scaling,
        monthly_cost_usd=monthly,
        cost_per_million_requests_usd=round(monthly / 213.84, 4),
        simulation=Simulation(minutes=43200, violation_minutes=12.0, peak_instances=6, mean_instances=3.1, utilisation=0.62),
    )


def commitment(plan="ec2-instance", term="1yr", payment="no-upfront", usd_per_hour=1.006, upfront=0.0) -> Commitment:
    return Commitment(plan=plan, term=term, payment=payment, commitment_usd_per_hour=usd_per_hour, committed_instances=2.0, discount=0.37,
                      break_even_utilisation=0.63, monthly_usd=1121.4, saving_usd=348.4, upfront_usd=upfront,
                      rate=PriceRef(sku=f"savings-plan {plan} {term} {payment} g5.xlarge us-east-1", usd=0.503, unit="hour", source="snapshot",
                                    as_of="2026-11-01", age_days=30.0))


def spot_candidate(min_capacity=2, max_capacity=8, floor=2, instance_type="g5.xlarge", committed: Commitment | None = None, metric="requests") -> Candidate:
    """A Kubernetes candidate with spot nodes above an on-demand floor, as the planner writes it (example numbers)."""
    c = candidate(platform="kubernetes", instance_type=instance_type, variant="onnx-fp16", monthly=1102.5,
                  scaling=autoscaling(min_capacity=min_capacity, max_capacity=max_capacity, target_value=1500.0, scheduled=False, metric=metric))
    spot = SpotUse(floor_instances=floor, spot_instance_hours=812.4, fallback_instance_hours=9.1, interruption_band="<5%",
                   interruptions_per_instance_hour=0.00007, replacement_delay_min=2, interruptions=1, violation_minutes=14.0, seed=0,
                   source="Spot Instance Advisor (2026-11-01; estimate)")
    return c.model_copy(update={"spot": True, "purchase": Purchase(deployed_usd=1102.5, on_demand_usd=1469.8, committed=committed, spot=spot)})


def make_plan(chosen: Candidate | None = None, *, name="minilm-embeddings", sha256: str | None = "ab" * 32, tags=None, sla=None, feasible=True) -> PlanFile:
    chosen = chosen if chosen is not None or not feasible else candidate(scaling=autoscaling())
    return PlanFile(
        name=name,
        spec_sha256=SPEC_SHA,
        sla=sla or SLA,
        traffic=TRAFFIC,
        tags=dict(TAGS if tags is None else tags),
        feasible=feasible,
        chosen=chosen,
        assumptions=["example plan for tests and the example stacks; regenerate with `leanserve plan`"],
        model_artifact_sha256=sha256,
    )


EXAMPLE_PLANS = {
    "cpu": lambda: make_plan(candidate(scaling=autoscaling())),
    "gpu": lambda: make_plan(candidate(instance_type="ml.g5.xlarge", variant="onnx-fp16", scaling=autoscaling(min_capacity=2, max_capacity=4, target_value=21000.0), monthly=2056.3)),
    "serverless": lambda: make_plan(candidate(platform="sagemaker-serverless", instance_type=None, serverless=Serverless(memory_mb=3072, max_concurrency=20), monthly=312.4)),
    "kubernetes": lambda: make_plan(candidate(platform="kubernetes", instance_type="g5.xlarge", variant="onnx-fp16", scaling=autoscaling(min_capacity=2, max_capacity=4, target_value=21000.0, scheduled=False), monthly=1469.8)),
}


def model_tarball(path: Path, models: dict[str, str] | None = None) -> Path:
    """A small model.tar.gz shaped like a Triton model repository (config.pbtxt per model folder)."""
    models = models or {"minilm-embeddings": 'name: "minilm-embeddings"\nbackend: "onnxruntime"\nmax_batch_size: 8\n'}
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, config in models.items():
            for member, data in ((f"{name}/config.pbtxt", config.encode()), (f"{name}/1/model.onnx", b"\x08\x07fixture")):
                info = tarfile.TarInfo(member)
                info.size = len(data)
                info.mtime = 0
                tar.addfile(info, io.BytesIO(data))
    return path


def plan_for_tarball(tarball: Path, chosen: Candidate | None = None, **kw) -> PlanFile:
    return make_plan(chosen, sha256=sha256_file(tarball), **kw)


def write_manifest(folder: Path, variant: str = "onnx-int8", target: str = "sagemaker", onnx_sha256: str = "cd" * 32) -> Path:
    """A manifest.json like `leanserve package` writes, beside whatever model.tar.gz is in ``folder``."""
    from toolkit.artifacts.common import save_artifact
    from toolkit.package.manifest import BatchingInfo, FileEntry, PackageManifest

    files = {"model_repository/model/1/model.onnx": FileEntry(sha256=onnx_sha256, size_bytes=1)}
    if (folder / "model.tar.gz").is_file():
        files["model.tar.gz"] = FileEntry(sha256=sha256_file(folder / "model.tar.gz"), size_bytes=(folder / "model.tar.gz").stat().st_size)
    manifest = PackageManifest(
        spec_sha256="00" * 32, name="minilm-embeddings", variant=variant, variant_kind=variant, precision="int8", task="feature-extraction", target=target,
        device="cpu", max_sequence_length=128, pad_to_multiple_of=8, ensemble="ensemble",
        models={"tokenizer": "tokenizer", "model": "model", "pooling": "pooling", "ensemble": "ensemble"}, output_name="embedding",
        batching=BatchingInfo(enabled=True, max_batch_size=16, max_queue_delay_us=1000), instance_kind="KIND_CPU", instance_count=1,
        threads_per_instance=2, triton_version="2.51.0", image="nvcr.io/nvidia/tritonserver:24.10-py3", files=files,
    )
    return save_artifact(manifest, folder / "manifest.json")


LLM_SLA = TypedSLA(constraints=[Constraint(metric="ttft", percentile="p95", limit=1000.0), Constraint(metric="itl", percentile="p95", limit=50.0),
                                Constraint(metric="e2e", percentile="p95", limit=30000.0)],
                   peak=Rate(value=20.0), peak_rps=20.0, max_violation_minutes_per_month=60.0, min_instances=1, max_error_rate=0.001)


def llm_plan(platform="sagemaker-realtime", instance_type="ml.g6e.xlarge", variant="fp8", *, tp=1, concurrency=94.8, sha256: str | None = None,
             model="llama-3.1-8b", scaling=True, name="llama-8b-chat") -> PlanFile:
    """A generative plan of the shape `leanserve plan` writes for an LLM (example numbers, not a planner run)."""
    from toolkit.artifacts.plan_tokens import LLMScaling, TokenCosts, TokenEconomics

    c = candidate(platform=platform, instance_type=instance_type, variant=variant, monthly=2032.5,
                  scaling=autoscaling(min_capacity=1, max_capacity=3, target_value=747.7, scheduled=False))
    costs = TokenCosts(label="plan", configuration=f"{variant} on {instance_type} TP={tp} (us-east-1)", monthly_usd=2032.5,
                       usd_per_million_output_tokens=0.279, usd_per_million_total_tokens=0.093, usd_per_request=0.000072,
                       instance_hours=1044.0, gpu_hours=1044.0 * tp)
    s = LLMScaling(target_concurrency_per_instance=concurrency, target_rps_per_instance=12.46, mean_e2e_s=round(concurrency / 12.46, 3),
                   derived_from=f"Little's law: 12.46 req/s per instance x {concurrency / 12.46:.2f} s mean e2e") if scaling else None
    tokens = TokenEconomics(model=model, parameters=8.03e9, architecture_only=True, mean_prompt_tokens=512, mean_output_tokens=256,
                            requests_per_month=28.41e6, prompt_tokens_per_month=14.5e9, output_tokens_per_month=7.27e9,
                            total_tokens_per_month=21.8e9, plan=costs, scaling=s)
    plan = make_plan(c, name=name, sha256=sha256, sla=LLM_SLA, tags={"team": "assistant"})
    return plan.model_copy(update={"tokens": tokens})
