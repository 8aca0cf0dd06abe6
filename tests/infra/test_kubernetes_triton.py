"""KubernetesTriton under Pulumi's mocks."""

from __future__ import annotations

import pytest

from tests.deploy.factories import autoscaling, candidate, make_plan
from tests.infra.checks import assert_kubernetes_stack
from tests.infra.harness import run_program
from toolkit.deploy.stack_config import build_stack_config

IMAGE = "registry.example.com/minilm-embeddings:onnx-int8"


def _run(plan, stack="k8s"):
    from leanserve_infra.config import from_mapping
    from leanserve_infra.stack import program

    cfg, _, _ = build_stack_config(plan, stack, image=IMAGE)
    settings = from_mapping({k.split(":", 1)[1]: v for k, v in cfg.pulumi_config().items()})
    return run_program({}, stack, lambda: program(settings))


@pytest.mark.integration
def test_gpu_nodes_get_one_gpu_per_pod_and_a_requests_hpa():
    plan = make_plan(candidate(platform="kubernetes", instance_type="g5.xlarge", scaling=autoscaling(min_capacity=2, max_capacity=8, target_value=1500.0, scheduled=False)))
    rec = _run(plan)
    assert_kubernetes_stack(rec, plan, IMAGE)
    pod = rec.one("kubernetes:apps/v1:Deployment").inputs["spec"]["template"]["spec"]
    res = pod["containers"][0]["resources"]
    assert res["limits"]["nvidia.com/gpu"] == "1" and res["requests"]["cpu"] == "3" and res["requests"]["memory"] == "12Gi"
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
    (metric,) = rec.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler").inputs["spec"]["metrics"]
    # the plan's 1500 requests per pod per minute = 25 per second
    assert metric == {"type": "Pods", "pods": {"metric": {"name": "triton_requests_per_second"}, "target": {"type": "AverageValue", "averageValue": "25000m"}}}
    behavior = rec.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler").inputs["spec"]["behavior"]
    assert behavior["scaleDown"]["stabilizationWindowSeconds"] == 900
    ns = rec.one("kubernetes:core/v1:Namespace").inputs
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


@pytest.mark.integration
def test_cpu_nodes_scale_on_cpu_utilisation_without_gpus():
    plan = make_plan(candidate(platform="kubernetes", instance_type="c7i.2xlarge", scaling=autoscaling(min_capacity=1, max_capacity=4, target_value=60, scheduled=False, metric="cpu")))
    rec = _run(plan)
    assert_kubernetes_stack(rec, plan, IMAGE)
    pod = rec.one("kubernetes:apps/v1:Deployment").inputs["spec"]["template"]["spec"]
    assert "nvidia.com/gpu" not in pod["containers"][0]["resources"]["limits"]
    assert "tolerations" not in pod
    (metric,) = rec.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler").inputs["spec"]["metrics"]
    assert metric["resource"] == {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60}}


def test_hpa_metric_specs():
    from leanserve_infra.kubernetes_triton import hpa_metric_spec

    assert hpa_metric_spec("queue-time", 2500)["pods"]["target"]["average_value"] == "2500"
    assert hpa_metric_spec("requests", 60)["pods"]["target"]["average_value"] == "1000m"
    with pytest.raises(ValueError, match="unknown HPA metric 'gpu'"):
        hpa_metric_spec("gpu", 1)


def test_tags_that_are_not_valid_labels_are_kept_out_of_labels():
    from leanserve_infra.kubernetes_triton import tag_labels

    assert tag_labels({"team": "search", "owner": "a b@c", "cost center": "x"}) == {"team": "search"}
