"""The stack program: stack configuration → one component → stack outputs. No logic beyond wiring."""

from __future__ import annotations

from pathlib import Path

import pulumi

from leanserve_infra.config import StackSettings, load

PROJECT_DIR = Path(__file__).resolve().parents[1]


def _sagemaker(s: StackSettings) -> None:
    from leanserve_infra.sagemaker_endpoint import SageMakerEndpoint, SageMakerEndpointArgs

    if not s.model.artifact:
        raise ValueError("leanserve:model.artifact is required for SageMaker (the model.tar.gz to upload)")
    artifact = Path(s.model.artifact)
    if not artifact.is_absolute():
        artifact = PROJECT_DIR / artifact
    ep = SageMakerEndpoint(
        s.name,
        SageMakerEndpointArgs(
            endpoint_name=s.endpoint_name,
            image=s.image,
            model_path=str(artifact),
            model_sha256=s.model.sha256,
            triton_model_name=s.model.triton_model_name or s.name,
            endpoint=s.endpoint,
            alarms=s.alarms,
            deployment=s.deployment,
            autoscaling=s.autoscaling,
            tags=s.tags,
        ),
    )
    pulumi.export("endpointName", ep.endpoint.name)
    pulumi.export("endpointArn", ep.endpoint.arn)
    pulumi.export("modelDataUrl", ep.artifacts.model_data_url)
    pulumi.export("artifactBucket", ep.artifacts.bucket.bucket)
    pulumi.export("executionRoleArn", ep.role.arn)
    pulumi.export("alarmNames", ep.alarms.names)
    pulumi.export("variant", s.variant)


def _kubernetes(s: StackSettings) -> None:
    from leanserve_infra.kubernetes_triton import KubernetesTriton, KubernetesTritonArgs

    k, a = s.kubernetes, s.autoscaling
    triton = KubernetesTriton(
        s.name,
        KubernetesTritonArgs(
            image=s.image,
            namespace=k.namespace,
            replicas=k.replicas,
            node_instance_type=k.node_instance_type,
            gpus=k.gpus,
            cpu=k.cpu,
            memory=k.memory,
            model_sha256=s.model.sha256,
            variant=s.variant,
            min_replicas=a.min_capacity if a else None,
            max_replicas=a.max_capacity if a else None,
            hpa_metric=k.hpa_metric if a else None,
            hpa_target=a.target_value if a else None,
            scale_in_cooldown_s=a.scale_in_cooldown_s if a else 300,
            scale_out_cooldown_s=a.scale_out_cooldown_s if a else 60,
            tags=s.tags,
        ),
    )
    pulumi.export("namespace", triton.namespace)
    pulumi.export("service", s.name)
    pulumi.export("variant", s.variant)


def program(settings: StackSettings | None = None) -> None:
    """Build the stack described by ``settings`` (default: the running stack's configuration)."""
    s = settings or load()
    if s.platform == "kubernetes":
        _kubernetes(s)
    else:
        _sagemaker(s)
