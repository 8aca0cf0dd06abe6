"""The Pulumi stack file's schema: one set of pydantic models for the writer and the reader.

``leanserve deploy --emit`` renders a :class:`StackConfig` into ``Pulumi.<stack>.yaml``
(:mod:`toolkit.deploy.stack_config`); the Pulumi program in ``infra/`` reads the same keys back with
:func:`parse_settings` into a :class:`StackSettings` and hands its sections to its components. Keys
live in the ``leanserve`` namespace with camelCase names (``leanserve:autoscaling`` …); AWS's region
is AWS's own ``aws:region``.

    settings = parse_settings({"name": "minilm", "platform": "kubernetes", ...})   # keys without the namespace
    settings.autoscaling.min_capacity
"""

from __future__ import annotations

from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from toolkit.errors import InputError
from toolkit.platforms import names as platform_names
from toolkit.platforms import platform_for

NAMESPACE = "leanserve"
VARIANT_NAME = "AllTraffic"
HINT = "write the stack file with `leanserve deploy PLAN --emit DIR` (see docs/deploy.md)"
KARPENTER_CAPACITY_LABEL = "karpenter.sh/capacity-type"  # the well-known label Karpenter puts on its nodes (values spot, on-demand)
SPOT_TAINT = "leanserve/spot"
GPU_TAINT_KEY = "nvidia.com/gpu"  # GPU node groups are tainted nvidia.com/gpu=true:NoSchedule; GPU pods tolerate it  # NoSchedule taint on the spot NodePool's nodes: only the burst pods tolerate it


class StackConfigError(InputError):
    """The stack configuration is missing a key or has a value of the wrong shape."""


class _Cfg(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)


class ModelRef(_Cfg):
    artifact: str | None = None  # model.tar.gz, relative to the Pulumi project folder (SageMaker only)
    sha256: str
    triton_model_name: str | None = None


class ServerlessCfg(_Cfg):
    memory_size_in_mb: int
    max_concurrency: int
    provisioned_concurrency: int | None = None


class EndpointCfg(_Cfg):
    variant_name: str = VARIANT_NAME
    instance_type: str | None = None
    initial_instance_count: int | None = None
    serverless: ServerlessCfg | None = None
    # LLM endpoints: sized from the weights' bytes (toolkit/deploy/llm_stack.py states the formula); SageMaker allows 60..3600 s
    model_data_download_timeout_s: int | None = Field(default=None, ge=60, le=3600)
    container_startup_health_check_timeout_s: int | None = Field(default=None, ge=60, le=3600)


class ScheduledCfg(_Cfg):
    name: str
    schedule: str
    min_capacity: int
    max_capacity: int


class AutoscalingCfg(_Cfg):
    min_capacity: int
    max_capacity: int
    metric: str
    target_value: float
    scale_in_cooldown_s: int
    scale_out_cooldown_s: int
    scheduled: list[ScheduledCfg] = []


class AlarmsCfg(_Cfg):
    latency_percentile: Literal["p50", "p90", "p95", "p99"]
    latency_threshold_ms: float
    error_rate_threshold: float
    period_s: int = 60
    evaluation_periods: int = 3


class DeploymentCfg(_Cfg):
    traffic_routing: Literal["CANARY", "ALL_AT_ONCE", "LINEAR"]
    canary_percent: int | None = None
    wait_interval_s: int = 300
    termination_wait_s: int = 300
    maximum_execution_timeout_s: int = 3600


class SpotCfg(_Cfg):
    """Burst capacity on spot nodes above an on-demand floor (from plan.json's ``purchase.spot``).

    The floor Deployment keeps ``floor_replicas`` pods on nodes labelled ``capacity_type_label`` =
    ``on_demand_value``; the burst Deployment runs on ``spot_value`` nodes and the HPA scales it between
    ``min_spot_replicas`` and ``max_spot_replicas`` (the plan's max less the floor). With ``node_pool`` set,
    the stack also creates that Karpenter NodePool (requires Karpenter's label); without it the spot nodes
    come from elsewhere, e.g. an EKS managed node group with capacity type SPOT (label
    ``eks.amazonaws.com/capacityType``, values ``SPOT``/``ON_DEMAND``; docs/deploy.md)."""

    floor_replicas: int = Field(ge=1)
    min_spot_replicas: int = Field(ge=1)
    max_spot_replicas: int = Field(ge=1)
    instance_type: str
    capacity_type_label: str = KARPENTER_CAPACITY_LABEL
    on_demand_value: str = "on-demand"
    spot_value: str = "spot"
    taint_key: str | None = SPOT_TAINT
    node_pool: str | None = None
    node_class: str = "default"
    limits: dict[str, str] = {}
    consolidate_after: str = "5m"

    @model_validator(mode="after")
    def _consistent(self) -> SpotCfg:
        if self.min_spot_replicas > self.max_spot_replicas:
            raise ValueError(f"minSpotReplicas {self.min_spot_replicas} is above maxSpotReplicas {self.max_spot_replicas}")
        if self.node_pool and self.capacity_type_label != KARPENTER_CAPACITY_LABEL:
            raise ValueError(f"a Karpenter nodePool labels its nodes {KARPENTER_CAPACITY_LABEL}, not {self.capacity_type_label}; "
                             "drop nodePool to use other spot nodes")
        return self


class GpuNodeGroupCfg(_Cfg):
    """An EKS managed node group of GPU nodes for the pods (LLM plans): GPU AMI, tainted so only GPU pods land there.

    The cluster is the user's (``cluster_name``); its subnets are read from it; the node role is created with AWS's
    managed worker-node policies."""

    cluster_name: str
    instance_type: str
    ami_type: Literal["AL2023_x86_64_NVIDIA", "AL2_x86_64_GPU", "BOTTLEROCKET_x86_64_NVIDIA"] = "AL2023_x86_64_NVIDIA"
    min_size: int = Field(ge=0)
    desired_size: int = Field(ge=0)
    max_size: int = Field(ge=1)
    disk_size_gib: int = Field(default=200, ge=20)
    taint_key: str = GPU_TAINT_KEY
    taint_value: str = "true"
    taint_effect: Literal["NO_SCHEDULE"] = "NO_SCHEDULE"

    @model_validator(mode="after")
    def _sizes(self) -> GpuNodeGroupCfg:
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ValueError(f"node group sizes must be min {self.min_size} <= desired {self.desired_size} <= max {self.max_size}")
        return self


class LLMCfg(_Cfg):
    """How a generative model is served and scaled (LLM plans): written into the stack so a reviewer sees every choice."""

    server: Literal["triton-vllm"] = "triton-vllm"
    image_source: str = Field(description="Where the image comes from (and the pinned base it is built on).")
    base_image: str
    weights_bytes: int = Field(ge=0, description="Bytes the instance downloads and loads (the larger of model.tar.gz and the estimate).")
    tensor_parallel_size: int = Field(default=1, ge=1)
    accelerators_per_instance: int = Field(ge=0)
    target_concurrency_per_instance: float = Field(gt=0)
    scaling_metric: str = Field(description="What the autoscaler reads (a CloudWatch predefined metric, or a PromQL query).")
    scaling_derived_from: str
    timeouts_formula: str | None = None
    startup_timeout_s: int = Field(default=600, ge=60, description="How long the server may take to become ready.")
    prometheus_url: str | None = Field(default=None, description="Kubernetes: the Prometheus that KEDA queries for Triton's metrics.")
    alarm_basis: str = ""


class KubernetesCfg(_Cfg):
    namespace: str
    node_instance_type: str
    gpus: int
    cpu: str
    memory: str
    replicas: int
    hpa_metric: Literal["cpu", "queue-time", "requests", "concurrency"] | None = None  # concurrency: a KEDA ScaledObject (LLMs)
    spot: SpotCfg | None = None
    gpu_node_group: GpuNodeGroupCfg | None = None


class StackSettings(_Cfg):
    """The ``leanserve:`` namespace of a stack file: what the Pulumi program in ``infra/`` builds from."""

    name: str
    platform: Literal[platform_names()]
    variant: str
    spec_sha256: str
    endpoint_name: str | None = None
    model: ModelRef
    image: str
    endpoint: EndpointCfg | None = None
    autoscaling: AutoscalingCfg | None = None
    alarms: AlarmsCfg | None = None
    deployment: DeploymentCfg | None = None
    kubernetes: KubernetesCfg | None = None
    llm: LLMCfg | None = None
    tags: dict[str, str] = {}

    def missing_sections(self) -> list[str]:
        """The stack-file keys this platform needs that are absent (e.g. ``['kubernetes']``)."""
        return [to_camel(k) for k in platform_for(self.platform).stack_sections if getattr(self, k) in (None, "")]


class StackConfig(StackSettings):
    """Everything a stack needs: the settings plus the stack's name and AWS region (written as ``aws:region``)."""

    stack: str
    region: str | None = None

    def pulumi_config(self) -> dict[str, object]:
        """``{"aws:region": ..., "leanserve:<key>": ...}`` in the stack file's order."""
        data = self.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"stack", "region"})
        out: dict[str, object] = {}
        node_group = self.kubernetes is not None and self.kubernetes.gpu_node_group is not None  # an AWS resource on Kubernetes
        if self.region and (platform_for(self.platform).sets_aws_region or node_group):
            out["aws:region"] = self.region
        out.update({f"{NAMESPACE}:{key}": value for key, value in data.items()})
        return out


def parse_settings(values: Mapping[str, Any], source: str = "stack config") -> StackSettings:
    """Settings from ``{"name": ..., "autoscaling": {...}, ...}`` (keys without the namespace; None means absent).

    Raises :class:`StackConfigError` with a one-line message naming the key."""
    from toolkit.validation import describe_validation_error

    if not isinstance(values, Mapping):
        raise StackConfigError(f"{source} must be a mapping, not {type(values).__name__}", hint=HINT)
    data = {k: v for k, v in values.items() if v is not None}
    try:
        settings = StackSettings.model_validate(data)
    except ValidationError as exc:
        missing = [e["loc"] for e in exc.errors() if e["type"] == "missing"]
        if missing and not any(e["type"] == "extra_forbidden" for e in exc.errors()):
            keys = ", ".join(f"{NAMESPACE}:" + ".".join(str(p) for p in loc) for loc in missing)
            raise StackConfigError(f"{source} is missing {keys}", hint=HINT) from None
        msg, hint = describe_validation_error(exc, StackSettings, source)
        raise StackConfigError(msg, hint=hint.replace("`leanserve spec schema`", "docs/deploy.md")) from None
    missing_keys = settings.missing_sections()
    if missing_keys:
        keys = ", ".join(f"{NAMESPACE}:{k}" for k in missing_keys)
        raise StackConfigError(f"{source}: {keys} {'is' if len(missing_keys) == 1 else 'are'} required for the {settings.platform} platform", hint=HINT)
    return settings
