"""Typed settings read from the stack configuration that `leanserve deploy --emit` writes.

Keys live in the ``leanserve`` namespace (``leanserve:autoscaling`` …) with camelCase fields; the
region is AWS's own ``aws:region``. ``from_mapping`` is pure (tests and tools can call it on a dict);
``load`` reads the running stack's ``pulumi.Config``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

NAMESPACE = "leanserve"


class ConfigError(ValueError):
    """The stack configuration is missing a key or has a value of the wrong shape."""


@dataclass(frozen=True)
class ModelSettings:
    sha256: str
    artifact: str | None = None
    triton_model_name: str | None = None


@dataclass(frozen=True)
class ServerlessSettings:
    memory_size_in_mb: int
    max_concurrency: int
    provisioned_concurrency: int | None = None


@dataclass(frozen=True)
class EndpointSettings:
    variant_name: str = "AllTraffic"
    instance_type: str | None = None
    initial_instance_count: int | None = None
    serverless: ServerlessSettings | None = None


@dataclass(frozen=True)
class ScheduledActionSettings:
    name: str
    schedule: str
    min_capacity: int
    max_capacity: int


@dataclass(frozen=True)
class AutoscalingSettings:
    min_capacity: int
    max_capacity: int
    metric: str
    target_value: float
    scale_in_cooldown_s: int
    scale_out_cooldown_s: int
    scheduled: tuple[ScheduledActionSettings, ...] = ()


@dataclass(frozen=True)
class AlarmSettings:
    latency_percentile: str
    latency_threshold_ms: float
    error_rate_threshold: float
    period_s: int = 60
    evaluation_periods: int = 3


@dataclass(frozen=True)
class DeploymentSettings:
    traffic_routing: str
    canary_percent: int | None = None
    wait_interval_s: int = 300
    termination_wait_s: int = 300
    maximum_execution_timeout_s: int = 3600


@dataclass(frozen=True)
class KubernetesSettings:
    namespace: str
    node_instance_type: str
    gpus: int
    cpu: str
    memory: str
    replicas: int
    hpa_metric: str | None = None


@dataclass(frozen=True)
class StackSettings:
    name: str
    platform: str
    variant: str
    spec_sha256: str
    model: ModelSettings
    image: str
    endpoint_name: str | None = None
    endpoint: EndpointSettings | None = None
    autoscaling: AutoscalingSettings | None = None
    alarms: AlarmSettings | None = None
    deployment: DeploymentSettings | None = None
    kubernetes: KubernetesSettings | None = None
    tags: dict[str, str] = field(default_factory=dict)


def _snake(key: str) -> str:
    out = []
    for ch in key:
        out.append("_" + ch.lower() if ch.isupper() else ch)
    return "".join(out)


def _build(cls, data: Any, where: str):
    if not isinstance(data, Mapping):
        raise ConfigError(f"{NAMESPACE}:{where} must be a mapping, not {type(data).__name__}")
    fields = cls.__dataclass_fields__
    kwargs = {}
    for key, value in data.items():
        name = _snake(key)
        if name not in fields:
            raise ConfigError(f"{NAMESPACE}:{where} has an unknown key '{key}'")
        kwargs[name] = value
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"{NAMESPACE}:{where}: {exc}") from None


def from_mapping(values: Mapping[str, Any]) -> StackSettings:
    """Settings from ``{"name": ..., "autoscaling": {...}, ...}`` (keys without the namespace)."""
    required = ("name", "platform", "variant", "specSha256", "model", "image")
    missing = [k for k in required if values.get(k) in (None, "")]
    if missing:
        raise ConfigError(f"stack config is missing {', '.join(NAMESPACE + ':' + k for k in missing)}; write it with `leanserve deploy PLAN --emit DIR`")
    endpoint = None
    if values.get("endpoint") is not None:
        raw = dict(values["endpoint"])
        serverless = raw.pop("serverless", None)
        raw["serverless"] = _build(ServerlessSettings, serverless, "endpoint.serverless") if serverless else None
        endpoint = _build(EndpointSettings, raw, "endpoint")
    autoscaling = None
    if values.get("autoscaling") is not None:
        raw = dict(values["autoscaling"])
        raw["scheduled"] = tuple(_build(ScheduledActionSettings, s, "autoscaling.scheduled") for s in raw.pop("scheduled", None) or [])
        raw["targetValue"] = float(raw.get("targetValue", 0))
        autoscaling = _build(AutoscalingSettings, raw, "autoscaling")
    settings = StackSettings(
        name=str(values["name"]),
        platform=str(values["platform"]),
        variant=str(values["variant"]),
        spec_sha256=str(values["specSha256"]),
        model=_build(ModelSettings, values["model"], "model"),
        image=str(values["image"]),
        endpoint_name=values.get("endpointName"),
        endpoint=endpoint,
        autoscaling=autoscaling,
        alarms=_build(AlarmSettings, values["alarms"], "alarms") if values.get("alarms") is not None else None,
        deployment=_build(DeploymentSettings, values["deployment"], "deployment") if values.get("deployment") is not None else None,
        kubernetes=_build(KubernetesSettings, values["kubernetes"], "kubernetes") if values.get("kubernetes") is not None else None,
        tags={str(k): str(v) for k, v in (values.get("tags") or {}).items()},
    )
    if settings.platform not in ("sagemaker-realtime", "sagemaker-serverless", "kubernetes"):
        raise ConfigError(f"{NAMESPACE}:platform '{settings.platform}' is not sagemaker-realtime, sagemaker-serverless or kubernetes")
    if settings.platform == "kubernetes" and settings.kubernetes is None:
        raise ConfigError(f"{NAMESPACE}:kubernetes is required for the kubernetes platform")
    if settings.platform != "kubernetes" and (settings.endpoint is None or settings.alarms is None or settings.deployment is None or not settings.endpoint_name):
        raise ConfigError(f"{NAMESPACE}:endpointName, endpoint, alarms and deployment are required for SageMaker")
    return settings


OBJECT_KEYS = ("model", "endpoint", "autoscaling", "alarms", "deployment", "kubernetes", "tags")
SCALAR_KEYS = ("name", "platform", "variant", "specSha256", "image", "endpointName")


def load() -> StackSettings:
    """Read the running stack's configuration (inside a Pulumi program)."""
    import pulumi

    cfg = pulumi.Config(NAMESPACE)
    values: dict[str, Any] = {k: cfg.get(k) for k in SCALAR_KEYS}
    values.update({k: cfg.get_object(k) for k in OBJECT_KEYS})
    return from_mapping(values)
