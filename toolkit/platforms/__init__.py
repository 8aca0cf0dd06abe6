"""Platforms: where an endpoint runs. One module per platform (after SkyPilot's ``sky/clouds/``).

    from toolkit.platforms import platform_for, names
    p = platform_for("kubernetes")
    p.dynamics(), p.scaling_metric, p.instance_types(catalog, "us-east-1"), p.price_model(...)

Every platform list in the project (the spec's allowed values, ``prices show --platform``, plan.json)
comes from :data:`REGISTRY`. A new platform is one module plus its price rows.
"""

from __future__ import annotations

import importlib

from toolkit.platforms.base import Platform

# name -> "module:Class", in the order the spec lists them by default; imported on first use
REGISTRY: dict[str, str] = {
    "sagemaker-realtime": "toolkit.platforms.sagemaker_realtime:SageMakerRealtime",
    "sagemaker-serverless": "toolkit.platforms.sagemaker_serverless:SageMakerServerless",
    "kubernetes": "toolkit.platforms.kubernetes:Kubernetes",
}
_LOADED: dict[str, Platform] = {}


def names() -> tuple[str, ...]:
    """Platform names, in registration order."""
    return tuple(REGISTRY)


def platform_for(name: str) -> Platform:
    """The platform registered as ``name``; an InputError with a suggestion for an unknown one."""
    if name in _LOADED:
        return _LOADED[name]
    if name not in REGISTRY:
        from toolkit.errors import InputError
        from toolkit.suggest import did_you_mean

        raise InputError(f"unknown platform '{name}'{did_you_mean(name, names())}", hint=f"platforms: {', '.join(names())}")
    module, cls = REGISTRY[name].split(":")
    plat = getattr(importlib.import_module(module), cls)()
    _LOADED[name] = plat
    return plat


def instance_platforms() -> list[Platform]:
    """Platforms that run a fleet of instances (and so are autoscaled and simulated minute by minute)."""
    return [platform_for(n) for n in names() if platform_for(n).instance_based]


__all__ = ["Platform", "REGISTRY", "instance_platforms", "names", "platform_for"]
