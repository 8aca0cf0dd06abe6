"""LLM stacks under Pulumi's mocks: SageMaker real-time on a GPU instance, and Triton vLLM pods on an EKS GPU node group.

Built through the same path as `deploy --emit` (build_stack_config → the stack file's settings → infra's program)."""

from __future__ import annotations

import json

import pytest

from tests.deploy.factories import llm_plan, model_tarball
from tests.infra.checks import (
    allow_actions,
    assert_least_privilege,
    assert_private_encrypted_bucket,
    policy_documents,
)
from tests.infra.harness import run_program
from toolkit.deploy.llm_stack import (
    SM_CONCURRENCY_METRIC,
    estimated_weight_bytes,
    timeouts,
)
from toolkit.deploy.model_artifact import inspect_model_artifact
from toolkit.deploy.stack_config import build_stack_config, relative_ref

pytestmark = pytest.mark.integration

ECR_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/llama-8b-vllm:fp8-1"
VLLM_CONFIG = 'name: "llm"\nbackend: "vllm"\nmax_batch_size: 0\nmodel_transaction_policy { decoupled: true }\n'


@pytest.fixture(scope="module")
def llm_tarball(tmp_path_factory):
    return model_tarball(tmp_path_factory.mktemp("llm") / "model.tar.gz", {"llm": VLLM_CONFIG})


def _run(plan, stack, **kw):
    from leanserve_infra.config import from_mapping
    from leanserve_infra.stack import program

    cfg, _, _ = build_stack_config(plan, stack, **kw)
    settings = from_mapping({k.split(":", 1)[1]: v for k, v in cfg.pulumi_config().items() if k.startswith("leanserve:")})
    return run_program({}, stack, lambda: program(settings)), cfg


def test_sagemaker_gpu_endpoint_sizes_timeouts_from_the_weights_and_scales_on_concurrency(llm_tarball, tmp_path):
    model = inspect_model_artifact(llm_tarball)
    plan = llm_plan(sha256=model.sha256)
    rec, cfg = _run(plan, "sm", model=model, model_ref=str(llm_tarball), image=ECR_IMAGE)
    weights = estimated_weight_bytes(plan, "fp8")
    assert weights > 8e9 and cfg.llm.weights_bytes == weights  # the 8B estimate, not the small fixture archive
    download, startup = timeouts(weights)

    (variant,) = rec.one("aws:sagemaker/endpointConfiguration:EndpointConfiguration").inputs["productionVariants"]
    assert (variant["instanceType"], variant["initialInstanceCount"]) == ("ml.g6e.xlarge", 1)
    assert (variant["modelDataDownloadTimeoutInSeconds"], variant["containerStartupHealthCheckTimeoutInSeconds"]) == (download, startup)
    assert cfg.llm.accelerators_per_instance == 1 and cfg.llm.tensor_parallel_size == 1

    container = rec.one("aws:sagemaker/model:Model").inputs["primaryContainer"]
    assert container["image"] == ECR_IMAGE and container["environment"]["SAGEMAKER_TRITON_DEFAULT_MODEL_NAME"] == "llm"
    tt = rec.one("aws:appautoscaling/policy:Policy").inputs["targetTrackingScalingPolicyConfiguration"]
    assert tt["predefinedMetricSpecification"]["predefinedMetricType"] == SM_CONCURRENCY_METRIC
    assert tt["targetValue"] == plan.tokens.scaling.target_concurrency_per_instance
    assert tt["scaleInCooldown"] == plan.chosen.autoscaling.scale_in_cooldown_s
    target = rec.one("aws:appautoscaling/target:Target").inputs
    assert (target["minCapacity"], target["maxCapacity"]) == (1, 3)

    alarms = {a.inputs["name"]: a.inputs for a in rec.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    latency = alarms["llama-8b-chat-sm-model-latency-p95"]
    assert latency["metricName"] == "ModelLatency" and latency["threshold"] == 30000.0 * 1000  # the SLA's e2e limit, in µs
    rollback = rec.one("aws:sagemaker/endpoint:Endpoint").inputs["deploymentConfig"]["autoRollbackConfiguration"]["alarms"]
    assert {a["alarmName"] for a in rollback} == set(alarms)

    bucket = assert_private_encrypted_bucket(rec)
    assert_least_privilege(rec, bucket, model.sha256, ECR_IMAGE)


def test_sagemaker_llm_timeouts_stay_within_sagemakers_limits():
    assert timeouts(0) == (60, 270)
    assert timeouts(10**13) == (3600, 3600)
    d1, s1 = timeouts(4 * 10**9)
    d2, s2 = timeouts(16 * 10**9)
    assert d1 < d2 and s1 < s2  # more weights, longer allowances


def test_kubernetes_gpu_node_group_tainted_pods_tolerate_and_keda_scales_on_requests_in_flight():
    plan = llm_plan(platform="kubernetes", instance_type="g6e.12xlarge", tp=2, sha256="ef" * 32, concurrency=60.0)
    rec, cfg = _run(plan, "k8s", image="registry.example.com/llama-8b-vllm:fp8-1", cluster="prod-gpu")

    ng = rec.one("aws:eks/nodeGroup:NodeGroup").inputs
    assert ng["clusterName"] == "prod-gpu" and ng["instanceTypes"] == ["g6e.12xlarge"] and ng["amiType"] == "AL2023_x86_64_NVIDIA"
    assert ng["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
    assert ng["subnetIds"] == ["subnet-0a1", "subnet-0b2"]
    # 4 GPUs per node, TP=2: two pods per node; 1..3 pods -> 1..2 nodes
    assert ng["scalingConfig"] == {"minSize": 1, "desiredSize": 1, "maxSize": 2}
    assert ng["tags"]["team"] == "assistant"

    role = rec.one("aws:iam/role:Role").inputs
    assert json.loads(role["assumeRolePolicy"])["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    arns = sorted(a.inputs["policyArn"] for a in rec.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"))
    assert arns == sorted(f"arn:aws:iam::aws:policy/{p}" for p in ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"))
    for doc in policy_documents(rec):
        assert [a for a in allow_actions(doc) if "*" in a] == []

    pod = rec.one("kubernetes:apps/v1:Deployment").inputs["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    assert c["resources"]["limits"]["nvidia.com/gpu"] == "2" and c["resources"]["requests"]["nvidia.com/gpu"] == "2"  # TP=2
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
    assert c["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert c["startupProbe"]["failureThreshold"] * c["startupProbe"]["periodSeconds"] >= cfg.llm.startup_timeout_s
    assert c["securityContext"]["runAsNonRoot"] is True and c["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert {"name": "HOME", "value": "/tmp"} in c["env"]

    assert rec.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler") == []  # KEDA makes (and owns) the HPA
    so = rec.one("kubernetes:keda.sh/v1alpha1:ScaledObject").inputs["spec"]
    assert so["scaleTargetRef"]["name"] == "llama-8b-chat" and (so["minReplicaCount"], so["maxReplicaCount"]) == (1, 3)
    (trigger,) = so["triggers"]
    assert trigger["type"] == "prometheus" and trigger["metricType"] == "AverageValue"
    assert "nv_inference_request_duration_us" in trigger["metadata"]["query"]
    # the plan's 60 concurrent requests per instance, over the two pods an instance holds
    assert trigger["metadata"]["threshold"] == "30"


def test_an_encoder_kubernetes_stack_gets_no_node_group_or_keda():
    from tests.deploy.factories import EXAMPLE_PLANS

    rec, cfg = _run(EXAMPLE_PLANS["kubernetes"](), "k8s", image="registry.example.com/m:1")
    assert cfg.llm is None and rec.of_type("aws:eks/nodeGroup:NodeGroup") == []
    assert rec.of_type("kubernetes:keda.sh/v1alpha1:ScaledObject") == [] and rec.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")


def test_the_emitted_stack_file_names_the_image_source_formula_and_scaling_basis(llm_tarball, tmp_path):
    from toolkit.deploy.stack_config import render

    model = inspect_model_artifact(llm_tarball)
    cfg, _, _ = build_stack_config(llm_plan(sha256=model.sha256), "sm", model=model, model_ref=relative_ref(llm_tarball, tmp_path), image=ECR_IMAGE)
    text = render(cfg)
    assert "# Timeouts: download = clamp(60 + 1.5 x bytes / 100 MB/s)" in text
    assert "tritonserver:24.10-vllm-python-py3" in text and "pushed to your ECR" in text
    assert f"metric: {SM_CONCURRENCY_METRIC}" in text

    k8s, _, _ = build_stack_config(llm_plan(platform="kubernetes", instance_type="g6e.xlarge", sha256="ef" * 32), "k8s", image="r.example.com/m:1")
    text = render(k8s)
    assert "KEDA ScaledObject" in text and "does not export vLLM's queue or KV-cache gauges" in text
