"""Application Auto Scaling for a SageMaker variant: target, target-tracking policy, scheduled actions."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from toolkit.deploy.stack_schema import AutoscalingCfg

DIMENSIONS = {
    "instances": "sagemaker:variant:DesiredInstanceCount",
    "provisioned-concurrency": "sagemaker:variant:DesiredProvisionedConcurrency",
}


@dataclass
class VariantAutoscalingArgs:
    endpoint_name: pulumi.Input[str]
    variant_name: str
    scaling: AutoscalingCfg
    """The stack file's ``leanserve:autoscaling``: min/max, predefined metric and target, cooldowns, schedules."""
    dimension: str = DIMENSIONS["instances"]
    tags: dict[str, str] = field(default_factory=dict)


class VariantAutoscaling(pulumi.ComponentResource):
    target: aws.appautoscaling.Target
    policy: aws.appautoscaling.Policy
    scheduled_actions: list[aws.appautoscaling.ScheduledAction]

    def __init__(self, name: str, args: VariantAutoscalingArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("leanserve:aws:VariantAutoscaling", name, None, opts)
        a = args.scaling
        if a.min_capacity > a.max_capacity:
            raise ValueError(f"autoscaling min capacity {a.min_capacity} is above max capacity {a.max_capacity}")
        resource_id = pulumi.Output.concat("endpoint/", args.endpoint_name, "/variant/", args.variant_name)
        self.target = aws.appautoscaling.Target(
            f"{name}-target",
            service_namespace="sagemaker",
            resource_id=resource_id,
            scalable_dimension=args.dimension,
            min_capacity=a.min_capacity,
            max_capacity=a.max_capacity,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        on_target = pulumi.ResourceOptions(parent=self, depends_on=[self.target])
        self.policy = aws.appautoscaling.Policy(
            f"{name}-target-tracking",
            name=pulumi.Output.concat(args.endpoint_name, "-target-tracking"),
            policy_type="TargetTrackingScaling",
            service_namespace=self.target.service_namespace,
            resource_id=self.target.resource_id,
            scalable_dimension=self.target.scalable_dimension,
            target_tracking_scaling_policy_configuration={
                "target_value": a.target_value,
                "predefined_metric_specification": {"predefined_metric_type": a.metric},
                "scale_in_cooldown": a.scale_in_cooldown_s,
                "scale_out_cooldown": a.scale_out_cooldown_s,
            },
            opts=on_target,
        )
        self.scheduled_actions = [
            aws.appautoscaling.ScheduledAction(
                f"{name}-schedule-{s.name}",
                name=pulumi.Output.concat(args.endpoint_name, "-", s.name),
                service_namespace=self.target.service_namespace,
                resource_id=self.target.resource_id,
                scalable_dimension=self.target.scalable_dimension,
                schedule=s.schedule,
                scalable_target_action={"min_capacity": s.min_capacity, "max_capacity": s.max_capacity},
                opts=on_target,
            )
            for s in a.scheduled
        ]
        self.register_outputs({"resourceId": resource_id, "policyName": self.policy.name})
