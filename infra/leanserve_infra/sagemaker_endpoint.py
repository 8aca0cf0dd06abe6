"""A SageMaker endpoint serving a Triton model repository, with autoscaling, alarms and safe rollouts.

Resources (all children of the component; every taggable one carries the plan's tags):
  ArtifactBucket      S3 bucket (versioned, SSE, public access blocked, TLS only) + model.tar.gz by sha256
  execution role      trust: sagemaker.amazonaws.com for this account; inline least-privilege policy
  sagemaker.Model     the region's SageMaker Triton image, SAGEMAKER_TRITON_DEFAULT_MODEL_NAME set
  EndpointConfiguration  instance type × count (LLMs: download and startup timeouts from the weights), or a ServerlessConfig
  EndpointAlarms      SLA-percentile ModelLatency and 5xx-rate alarms
  Endpoint            fixed name; blue/green deployment that rolls back when an alarm fires
  VariantAutoscaling  target (min/max), target tracking on the plan's metric (LLMs: concurrent requests per model
                      copy, SageMakerVariantConcurrentRequestsPerModelHighResolution), scheduled actions
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from leanserve_infra.alarms import EndpointAlarms, EndpointAlarmsArgs
from leanserve_infra.autoscaling import DIMENSIONS, VariantAutoscaling, VariantAutoscalingArgs
from leanserve_infra.policies import execution_role_policy, partition_for, sagemaker_trust_policy
from leanserve_infra.storage import ArtifactBucket, ArtifactBucketArgs
from toolkit.deploy.stack_schema import DeploymentCfg, StackSettings


@dataclass
class SageMakerEndpointArgs:
    settings: StackSettings
    """The stack file's settings: endpoint name, image, model sha256 and Triton name, endpoint, alarms, deployment,
    autoscaling and tags (``endpoint``, ``alarms`` and ``deployment`` are required for SageMaker)."""
    model_path: str
    """The model.tar.gz to upload (``settings.model.artifact`` resolved against the Pulumi project folder)."""
    environment: dict[str, str] = field(default_factory=dict)
    """Extra container environment (merged over the Triton defaults)."""


def _deployment_config(d: DeploymentCfg, alarm_names: list[str]) -> dict:
    routing: dict = {"type": d.traffic_routing, "wait_interval_in_seconds": d.wait_interval_s}
    if d.traffic_routing == "CANARY":
        routing["canary_size"] = {"type": "CAPACITY_PERCENT", "value": d.canary_percent or 10}
    elif d.traffic_routing == "LINEAR":
        routing["linear_step_size"] = {"type": "CAPACITY_PERCENT", "value": d.canary_percent or 10}
    return {
        "blue_green_update_policy": {
            "traffic_routing_configuration": routing,
            "termination_wait_in_seconds": d.termination_wait_s,
            "maximum_execution_timeout_in_seconds": d.maximum_execution_timeout_s,
        },
        "auto_rollback_configuration": {"alarms": [{"alarm_name": n} for n in alarm_names]},
    }


class SageMakerEndpoint(pulumi.ComponentResource):
    artifacts: ArtifactBucket
    role: aws.iam.Role
    model: aws.sagemaker.Model
    endpoint_configuration: aws.sagemaker.EndpointConfiguration
    endpoint: aws.sagemaker.Endpoint
    alarms: EndpointAlarms
    autoscaling: VariantAutoscaling | None

    def __init__(self, name: str, args: SageMakerEndpointArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("leanserve:aws:SageMakerEndpoint", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        st = args.settings
        tags = dict(st.tags)
        endpoint_name = st.endpoint_name
        e = st.endpoint
        if e is None or st.alarms is None or st.deployment is None or not endpoint_name:
            raise ValueError("a SageMaker endpoint needs endpointName, endpoint, alarms and deployment settings")
        if e.serverless is None and not (e.instance_type and e.initial_instance_count):
            raise ValueError("endpoint needs an instance type and count, or serverless settings")

        region = aws.get_region_output().region
        account = aws.get_caller_identity_output().account_id

        self.artifacts = ArtifactBucket(name, ArtifactBucketArgs(model_path=args.model_path, model_sha256=st.model.sha256, tags=tags), opts=child)

        self.role = aws.iam.Role(
            f"{name}-execution",
            description=f"SageMaker execution role of endpoint {endpoint_name} (leanserve)",
            assume_role_policy=account.apply(lambda a: json.dumps(sagemaker_trust_policy(a))),
            max_session_duration=3600,
            tags=tags,
            opts=child,
        )
        policy_document = pulumi.Output.all(self.artifacts.bucket.arn, region, account).apply(
            lambda v: json.dumps(
                execution_role_policy(
                    bucket_arn=v[0],
                    model_prefix=self.artifacts.model_prefix,
                    image_uri=st.image,
                    region=v[1],
                    account_id=v[2],
                    endpoint_name=endpoint_name,
                    partition=partition_for(v[1]),
                )
            )
        )
        role_policy = aws.iam.RolePolicy(f"{name}-execution-policy", role=self.role.id, policy=policy_document, opts=pulumi.ResourceOptions(parent=self.role))

        environment = {"SAGEMAKER_TRITON_DEFAULT_MODEL_NAME": st.model.triton_model_name or st.name, **args.environment}
        self.model = aws.sagemaker.Model(
            f"{name}-model",
            execution_role_arn=self.role.arn,
            primary_container={"image": st.image, "model_data_url": self.artifacts.model_data_url, "environment": environment, "mode": "SingleModel"},
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy, self.artifacts.model_object]),
        )

        variant: dict = {"variant_name": e.variant_name, "model_name": self.model.name}
        if e.serverless is not None:
            serverless = {"memory_size_in_mb": e.serverless.memory_size_in_mb, "max_concurrency": e.serverless.max_concurrency}
            if e.serverless.provisioned_concurrency:
                serverless["provisioned_concurrency"] = e.serverless.provisioned_concurrency
            variant["serverless_config"] = serverless
        else:
            variant.update(instance_type=e.instance_type, initial_instance_count=e.initial_instance_count, initial_variant_weight=1.0)
            if e.model_data_download_timeout_s:  # LLM endpoints: sized from the weights by `leanserve deploy`
                variant["model_data_download_timeout_in_seconds"] = e.model_data_download_timeout_s
            if e.container_startup_health_check_timeout_s:
                variant["container_startup_health_check_timeout_in_seconds"] = e.container_startup_health_check_timeout_s
        self.endpoint_configuration = aws.sagemaker.EndpointConfiguration(f"{name}-config", production_variants=[variant], tags=tags, opts=child)

        self.alarms = EndpointAlarms(
            name, EndpointAlarmsArgs(endpoint_name=endpoint_name, variant_name=e.variant_name, alarms=st.alarms, tags=tags), opts=child
        )

        self.endpoint = aws.sagemaker.Endpoint(
            f"{name}-endpoint",
            name=endpoint_name,
            endpoint_config_name=self.endpoint_configuration.name,
            deployment_config=_deployment_config(st.deployment, self.alarms.names),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.alarms]),
        )

        self.autoscaling = None
        if st.autoscaling is not None:
            dimension = DIMENSIONS["provisioned-concurrency"] if e.serverless is not None else DIMENSIONS["instances"]
            self.autoscaling = VariantAutoscaling(
                name,
                VariantAutoscalingArgs(endpoint_name=self.endpoint.name, variant_name=e.variant_name, scaling=st.autoscaling,
                                       dimension=dimension, tags=tags),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.endpoint]),
            )

        self.register_outputs(
            {
                "endpointName": self.endpoint.name,
                "endpointArn": self.endpoint.arn,
                "modelDataUrl": self.artifacts.model_data_url,
                "roleArn": self.role.arn,
                "alarmNames": self.alarms.names,
            }
        )
