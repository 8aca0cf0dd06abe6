"""CloudWatch alarms on a SageMaker variant: the SLA latency percentile and the 5xx error rate.

Both are wired into the endpoint's blue/green deployment as auto-rollback alarms, so a new model
version that is slower than the SLA or fails requests is rolled back during its baking period.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from toolkit.deploy.stack_schema import AlarmsCfg


@dataclass
class EndpointAlarmsArgs:
    endpoint_name: str
    variant_name: str
    alarms: AlarmsCfg
    """The stack file's ``leanserve:alarms``: the SLA's percentile of ModelLatency and its threshold, the largest
    tolerated fraction of invocations answered with a 5xx, period and evaluation periods."""
    tags: dict[str, str] = field(default_factory=dict)


class EndpointAlarms(pulumi.ComponentResource):
    latency: aws.cloudwatch.MetricAlarm
    errors: aws.cloudwatch.MetricAlarm
    names: list[str]

    def __init__(self, name: str, args: EndpointAlarmsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("leanserve:aws:EndpointAlarms", name, None, opts)
        a = args.alarms
        child = pulumi.ResourceOptions(parent=self)
        dims = {"EndpointName": args.endpoint_name, "VariantName": args.variant_name}
        latency_name = f"{args.endpoint_name}-model-latency-{a.latency_percentile}"
        errors_name = f"{args.endpoint_name}-5xx-rate"
        self.latency = aws.cloudwatch.MetricAlarm(
            f"{name}-latency",
            name=latency_name,
            alarm_description=f"{a.latency_percentile} ModelLatency above the SLA's {a.latency_threshold_ms:g} ms (rolls back deployments)",
            namespace="AWS/SageMaker",
            metric_name="ModelLatency",
            dimensions=dims,
            extended_statistic=a.latency_percentile,
            period=a.period_s,
            evaluation_periods=a.evaluation_periods,
            threshold=a.latency_threshold_ms * 1000.0,  # ModelLatency is reported in microseconds
            unit="Microseconds",
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            tags=dict(args.tags),
            opts=child,
        )
        self.errors = aws.cloudwatch.MetricAlarm(
            f"{name}-5xx",
            name=errors_name,
            alarm_description=f"5xx errors above {a.error_rate_threshold:g} of invocations (rolls back deployments)",
            comparison_operator="GreaterThanThreshold",
            evaluation_periods=a.evaluation_periods,
            threshold=a.error_rate_threshold,
            treat_missing_data="notBreaching",
            metric_queries=[
                {"id": "rate", "expression": "IF(invocations > 0, errors / invocations, 0)", "label": "5xx error rate", "return_data": True},
                {
                    "id": "errors",
                    "metric": {"namespace": "AWS/SageMaker", "metric_name": "Invocation5XXErrors", "dimensions": dims, "period": a.period_s, "stat": "Sum"},
                    "return_data": False,
                },
                {
                    "id": "invocations",
                    "metric": {"namespace": "AWS/SageMaker", "metric_name": "Invocations", "dimensions": dims, "period": a.period_s, "stat": "Sum"},
                    "return_data": False,
                },
            ],
            tags=dict(args.tags),
            opts=child,
        )
        self.names = [latency_name, errors_name]
        self.register_outputs({"alarmNames": self.names})
