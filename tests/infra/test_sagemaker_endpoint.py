"""SageMakerEndpoint under Pulumi's mocks, built from a plan via the same code path as `deploy --emit`."""

from __future__ import annotations

import json

import pytest

from tests.deploy.factories import autoscaling, candidate, plan_for_tarball
from tests.infra.checks import assert_sagemaker_stack, policy_documents
from tests.infra.harness import run_program
from toolkit.artifacts.plan import Serverless
from toolkit.deploy.stack_config import build_stack_config

pytestmark = pytest.mark.integration


def _settings(plan, stack, tarball):
    from leanserve_infra.config import from_mapping

    cfg, _, _ = build_stack_config(plan, stack, model_ref=str(tarball), triton_model_name="ensemble")
    values = {k.split(":", 1)[1]: v for k, v in cfg.pulumi_config().items() if k.startswith("leanserve:")}
    return from_mapping(values)


def _run(plan, tarball, stack="test"):
    from leanserve_infra.stack import program

    settings = _settings(plan, stack, tarball)
    return run_program({}, stack, lambda: program(settings)), settings


def test_realtime_endpoint_matches_the_plan(tarball):
    plan = plan_for_tarball(tarball, candidate(instance_type="ml.c6i.2xlarge", scaling=autoscaling(min_capacity=3, max_capacity=9, target_value=1234.5)))
    rec, _ = _run(plan, tarball)
    assert_sagemaker_stack(rec, plan, "minilm-embeddings-test")
    # the values themselves, once more, in the plan's own numbers
    target = rec.one("aws:appautoscaling/target:Target").inputs
    assert (target["minCapacity"], target["maxCapacity"]) == (3, 9)
    assert rec.one("aws:appautoscaling/policy:Policy").inputs["targetTrackingScalingPolicyConfiguration"]["targetValue"] == 1234.5


def test_p99_sla_gives_a_p99_model_latency_alarm_that_rolls_back(tarball):
    sla = {"p99_ms": 80.0, "peak_rps": 100.0, "availability": {"min_instances": 1}, "max_error_rate": 0.01}
    plan = plan_for_tarball(tarball, candidate(scaling=autoscaling(min_capacity=1, max_capacity=3, scheduled=False)), sla=sla)
    rec, _ = _run(plan, tarball)
    latency = [r.inputs for r in rec.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") if r.inputs.get("metricName") == "ModelLatency"][0]
    assert latency["extendedStatistic"] == "p99" and latency["threshold"] == 80_000.0  # microseconds
    rollback = rec.one("aws:sagemaker/endpoint:Endpoint").inputs["deploymentConfig"]["autoRollbackConfiguration"]["alarms"]
    assert latency["name"] in {a["alarmName"] for a in rollback}
    assert rec.of_type("aws:appautoscaling/scheduledAction:ScheduledAction") == []


def test_serverless_endpoint_has_no_instances_and_no_scaling_target(tarball):
    plan = plan_for_tarball(tarball, candidate(platform="sagemaker-serverless", instance_type=None, serverless=Serverless(memory_mb=6144, max_concurrency=50)))
    rec, _ = _run(plan, tarball)
    assert_sagemaker_stack(rec, plan, "minilm-embeddings-test")
    (variant,) = rec.one("aws:sagemaker/endpointConfiguration:EndpointConfiguration").inputs["productionVariants"]
    assert variant["serverlessConfig"] == {"memorySizeInMb": 6144, "maxConcurrency": 50}


def test_serverless_with_provisioned_concurrency_scales_that_dimension(tarball):
    scaling = autoscaling(min_capacity=1, max_capacity=5, target_value=0.7, scheduled=False, metric="SageMakerVariantProvisionedConcurrencyUtilization")
    plan = plan_for_tarball(tarball, candidate(platform="sagemaker-serverless", instance_type=None, serverless=Serverless(memory_mb=2048, max_concurrency=20, provisioned_concurrency=2), scaling=scaling))
    rec, _ = _run(plan, tarball)
    target = rec.one("aws:appautoscaling/target:Target").inputs
    assert target["scalableDimension"] == "sagemaker:variant:DesiredProvisionedConcurrency"
    (variant,) = rec.one("aws:sagemaker/endpointConfiguration:EndpointConfiguration").inputs["productionVariants"]
    assert variant["serverlessConfig"]["provisionedConcurrency"] == 2


def test_execution_role_is_scoped_to_this_endpoint(tarball):
    plan = plan_for_tarball(tarball, candidate(scaling=autoscaling()))
    rec, _ = _run(plan, tarball, stack="prod")
    execution = json.loads(rec.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    logs = next(s for s in execution["Statement"] if s["Sid"] == "WriteEndpointLogs")
    assert logs["Resource"][0] == "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/minilm-embeddings-prod"
    metrics = next(s for s in execution["Statement"] if s["Sid"] == "PutEndpointMetrics")
    assert metrics["Condition"] == {"StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/Endpoints"}}
    trust = json.loads(rec.one("aws:iam/role:Role").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    # every Allow statement names concrete actions
    assert all("*" not in a for d in policy_documents(rec) for s in d["Statement"] if s["Effect"] == "Allow" for a in s["Action"])


def test_a_model_file_that_differs_from_the_plan_is_refused(tarball, tmp_path):
    from leanserve_infra.stack import program

    plan = plan_for_tarball(tarball, candidate(scaling=autoscaling()))
    settings = _settings(plan, "test", tarball)
    other = tmp_path / "model.tar.gz"
    other.write_bytes(tarball.read_bytes() + b"\0")
    bad = settings.model_copy(update={"model": settings.model.model_copy(update={"artifact": str(other)})})
    with pytest.raises(ValueError, match="differs from the stack's"):
        run_program({}, "test", lambda: program(bad))
