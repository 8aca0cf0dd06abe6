"""The stack program: stack configuration → one component → stack outputs. No logic beyond wiring."""

from __future__ import annotations

from pathlib import Path

import pulumi

from leanserve_infra.config import ConfigError, load
from toolkit.deploy.stack_schema import HINT, NAMESPACE, StackSettings

PROJECT_DIR = Path(__file__).resolve().parents[1]


def _sagemaker(s: StackSettings) -> None:
    from leanserve_infra.sagemaker_endpoint import SageMakerEndpoint, SageMakerEndpointArgs

    if not s.model.artifact:
        raise ConfigError(f"{NAMESPACE}:model.artifact is required for SageMaker (the model.tar.gz to upload)", hint=HINT)
    artifact = Path(s.model.artifact)
    if not artifact.is_absolute():
        artifact = PROJECT_DIR / artifact
    ep = SageMakerEndpoint(s.name, SageMakerEndpointArgs(settings=s, model_path=str(artifact)))
    pulumi.export("endpointName", ep.endpoint.name)
    pulumi.export("endpointArn", ep.endpoint.arn)
    pulumi.export("modelDataUrl", ep.artifacts.model_data_url)
    pulumi.export("artifactBucket", ep.artifacts.bucket.bucket)
    pulumi.export("executionRoleArn", ep.role.arn)
    pulumi.export("alarmNames", ep.alarms.names)
    pulumi.export("variant", s.variant)


def _kubernetes(s: StackSettings) -> None:
    from leanserve_infra.kubernetes_triton import KubernetesTriton, KubernetesTritonArgs

    node_group = None
    if s.kubernetes.gpu_node_group is not None:  # LLM plans: a tainted GPU node group on the user's EKS cluster
        from leanserve_infra.gpu_nodes import GpuNodeGroup

        node_group = GpuNodeGroup(s.name, s.kubernetes.gpu_node_group, dict(s.tags))
        pulumi.export("nodeGroup", node_group.node_group.node_group_name)
    triton = KubernetesTriton(
        s.name,
        KubernetesTritonArgs(image=s.image, model_sha256=s.model.sha256, variant=s.variant, pods=s.kubernetes, autoscaling=s.autoscaling, tags=s.tags,
                             llm=s.llm),
        opts=pulumi.ResourceOptions(depends_on=[node_group]) if node_group else None,
    )
    pulumi.export("namespace", triton.namespace)
    pulumi.export("service", s.name)
    pulumi.export("variant", s.variant)


def program(settings: StackSettings | None = None) -> None:
    """Build the stack described by ``settings`` (default: the running stack's configuration)."""
    from toolkit.platforms import platform_for

    s = settings or load()
    PROGRAMS[platform_for(s.platform).infra_program](s)


#: the component program each platform's ``infra_program`` names
PROGRAMS = {"sagemaker": _sagemaker, "kubernetes": _kubernetes}
