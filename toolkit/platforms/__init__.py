"""Platforms: where an endpoint runs. One module per platform (after SkyPilot's ``sky/clouds/``).

    from toolkit.platforms import platform_for, names
    p = platform_for("kubernetes")
    p.dynamics(), p.scaling_metric, p.instance_types(catalog, "us-east-1"), p.price_model(...)

Every platform list in the project (the spec's allowed values, ``prices show --platform``, plan.json)
comes from :data:`REGISTRY`. A new platform is one module plus its price rows.
"""

from __future__ import annotations

from toolkit.platforms.base import Platform
from toolkit.registry import Registry

# name -> "module:Class", in the order the spec lists them by default; imported on first use
PLATFORMS: Registry[Platform] = Registry("platform", {
    "sagemaker-realtime": "toolkit.platforms.sagemaker_realtime:SageMakerRealtime",
    "sagemaker-serverless": "toolkit.platforms.sagemaker_serverless:SageMakerServerless",
    "kubernetes": "toolkit.platforms.kubernetes:Kubernetes",
})
REGISTRY = PLATFORMS.entries


def names() -> tuple[str, ...]:
    """Platform names, in registration order."""
    return PLATFORMS.names()


def platform_for(name: str) -> Platform:
    """The platform registered as ``name``; an InputError with a suggestion for an unknown one."""
    return PLATFORMS.get(name)


def instance_platforms() -> list[Platform]:
    """Platforms that run a fleet of instances (and so are autoscaled and simulated minute by minute)."""
    return [platform_for(n) for n in names() if platform_for(n).instance_based]


__all__ = ["PLATFORMS", "Platform", "REGISTRY", "instance_platforms", "names", "platform_for"]
