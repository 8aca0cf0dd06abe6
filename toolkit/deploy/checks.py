"""Checks of what a deployment asks AWS for that moto (and Pulumi's preview) would not catch.

moto accepts bogus metric names, Min > Max and a stale instance-type list; ``pulumi preview`` sends
nothing to SageMaker. These checks use botocore's own API model (the list AWS publishes with the SDK)
so a plan that would fail at ``pulumi up`` fails at ``leanserve deploy --emit`` instead.
"""

from __future__ import annotations

import re
from functools import lru_cache

from toolkit.errors import InputError, require
from toolkit.suggest import did_you_mean

SERVERLESS_MEMORY_MB = (1024, 2048, 3072, 4096, 5120, 6144)
# Which predefined metric belongs to which scalable dimension of a SageMaker variant.
METRICS_FOR_DIMENSION = {
    "sagemaker:variant:DesiredInstanceCount": ("SageMakerVariantInvocationsPerInstance", "SageMakerVariantConcurrentRequestsPerModelHighResolution"),
    "sagemaker:variant:DesiredProvisionedConcurrency": ("SageMakerVariantProvisionedConcurrencyUtilization",),
}
_CRON = re.compile(r"^(cron\((\S+ ){5}\S+\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\)|at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\))$")


class DeployCheckError(InputError):
    """A deployment value AWS would reject (exit 2)."""


@lru_cache(maxsize=1)
def botocore_session():
    """One botocore session for the process, so each API model is loaded from disk once."""
    return require("botocore.session", "aws").get_session()


@lru_cache(maxsize=None)
def service_model(service: str):
    return botocore_session().get_service_model(service)


@lru_cache(maxsize=1)
def sagemaker_instance_types() -> frozenset[str]:
    """Instance types SageMaker hosting accepts: botocore's ``ProductionVariantInstanceType`` enum."""
    return frozenset(service_model("sagemaker").shape_for("ProductionVariantInstanceType").enum)


@lru_cache(maxsize=1)
def autoscaling_metric_types() -> frozenset[str]:
    """Predefined metrics of Application Auto Scaling: botocore's ``MetricType`` enum."""
    return frozenset(service_model("application-autoscaling").shape_for("MetricType").enum)


def _did_you_mean(value: str, choices) -> str:
    return did_you_mean(value, sorted(choices), cutoff=0.6)


def check_instance_type(instance_type: str | None, where: str = "plan") -> None:
    if not instance_type:
        raise DeployCheckError(f"{where}: a SageMaker real-time endpoint needs an instance type and none is set", hint="re-run `leanserve plan`; the chosen candidate must name an instance type")
    known = sagemaker_instance_types()
    if instance_type not in known:
        raise DeployCheckError(
            f"{where}: '{instance_type}' is not a SageMaker hosting instance type{_did_you_mean(instance_type, known)}",
            hint="use a type from botocore's ProductionVariantInstanceType list (SageMaker names start with 'ml.')",
        )


def check_capacity(min_capacity: int, max_capacity: int, where: str = "autoscaling", *, min_allowed: int = 1) -> None:
    if min_capacity < min_allowed:
        raise DeployCheckError(
            f"{where}: min capacity {min_capacity} is below {min_allowed}",
            hint="a SageMaker instance variant keeps at least one instance; set min_capacity ≥ 1",
        )
    if max_capacity < min_capacity:
        raise DeployCheckError(f"{where}: min capacity {min_capacity} is above max capacity {max_capacity}", hint="set min_capacity ≤ max_capacity")


def check_metric(metric: str, platform: str, where: str = "autoscaling", dimension: str | None = None) -> None:
    """``metric`` must be one ``platform`` scales on: its own list, or Application Auto Scaling's predefined types."""
    from toolkit.platforms import names, platform_for

    plat = platform_for(platform) if platform in names() else None
    if plat is not None and plat.scaling_metrics is not None:
        if metric not in plat.scaling_metrics:
            shown = [m for m in plat.scaling_metrics if not m.startswith("SageMaker")]
            raise DeployCheckError(
                f"{where}: unknown {plat.display_name} scaling metric '{metric}'{_did_you_mean(metric, shown)}",
                hint=f"use one of {', '.join(shown)}",
            )
        return
    known = autoscaling_metric_types()
    if metric not in known:
        raise DeployCheckError(
            f"{where}: '{metric}' is not an Application Auto Scaling predefined metric{_did_you_mean(metric, known)}",
            hint="SageMaker instance variants scale on SageMakerVariantInvocationsPerInstance",
        )
    dimension = dimension or (plat.scalable_dimension if plat else None)
    allowed = METRICS_FOR_DIMENSION.get(dimension or "", ())
    if allowed and metric not in allowed:
        raise DeployCheckError(f"{where}: metric '{metric}' does not scale {dimension}", hint=f"use {' or '.join(allowed)}")


def check_target_value(value: float, where: str = "autoscaling") -> None:
    if not (value > 0):
        raise DeployCheckError(f"{where}: target value {value} must be above 0", hint="re-run `leanserve plan`")


def check_cooldown(seconds: int, which: str, where: str = "autoscaling") -> None:
    if not (0 <= seconds <= 3600 * 24):
        raise DeployCheckError(f"{where}: {which} cooldown {seconds} s is out of range (0 to 86400)", hint="use a cooldown in seconds between 0 and 86400")


def check_schedule(expression: str, where: str = "scheduled action") -> None:
    if not _CRON.match(expression):
        raise DeployCheckError(
            f"{where}: '{expression}' is not an Application Auto Scaling schedule",
            hint="use cron(minute hour day-of-month month day-of-week year), e.g. cron(0 8 ? * MON-FRI *), rate(1 hour) or at(2025-01-01T08:00:00)",
        )


def check_serverless(memory_mb: int, max_concurrency: int, where: str = "serverless") -> None:
    if memory_mb not in SERVERLESS_MEMORY_MB:
        close = min(SERVERLESS_MEMORY_MB, key=lambda m: abs(m - memory_mb))
        raise DeployCheckError(f"{where}: memory {memory_mb} MB is not a serverless size; did you mean {close}?", hint=f"use one of {', '.join(map(str, SERVERLESS_MEMORY_MB))} MB")
    if not (1 <= max_concurrency <= 200):
        raise DeployCheckError(f"{where}: max concurrency {max_concurrency} is out of range (1 to 200)", hint="use 1 to 200")


def check_variant_timeouts(variant: dict, where: str = "endpoint") -> None:
    """A production variant's download / startup timeouts within botocore's min..max (its validator checks only the min)."""
    members = service_model("sagemaker").shape_for("ProductionVariant").members
    for key in ("ModelDataDownloadTimeoutInSeconds", "ContainerStartupHealthCheckTimeoutInSeconds"):
        value = variant.get(key)
        if value is None:
            continue
        lo, hi = members[key].metadata.get("min", 0), members[key].metadata.get("max", float("inf"))
        if not lo <= value <= hi:
            raise DeployCheckError(f"{where}: {key} {value} is outside SageMaker's {lo}..{hi} s",
                                   hint="re-emit the stack file from plan.json (`leanserve deploy PLAN --emit DIR`)")
