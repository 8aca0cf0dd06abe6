"""KubernetesTriton with spot burst capacity (plan.json's ``purchase.spot``) under Pulumi's mocks."""

from __future__ import annotations

import pytest

from tests.deploy.factories import autoscaling, candidate, make_plan, spot_candidate
from tests.infra.checks import assert_kubernetes_spot_stack
from tests.infra.test_kubernetes_triton import IMAGE, _run
from toolkit.deploy.stack_config import build_stack_config

NODEPOOL = "kubernetes:karpenter.sh/v1:NodePool"


@pytest.mark.integration
def test_spot_plan_keeps_the_floor_on_demand_and_bursts_onto_a_spot_node_pool():
    plan = make_plan(spot_candidate(min_capacity=2, max_capacity=8, floor=2))
    rec = _run(plan)
    got = assert_kubernetes_spot_stack(rec, plan, IMAGE)
    assert got["floor"]["spec"]["replicas"] == 2
    assert (got["hpa"]["spec"]["minReplicas"], got["hpa"]["spec"]["maxReplicas"]) == (1, 6)
    pool = got["node_pool"]
    assert "namespace" not in pool["metadata"]  # NodePools are cluster-scoped
    # 6 burst nodes of g5.xlarge: 4 vCPUs and 1 GPU each
    assert pool["spec"]["limits"] == {"cpu": "24", "nvidia.com/gpu": "6"}
    assert pool["spec"]["disruption"]["budgets"] == [{"nodes": "1"}]
    # GPU pods keep tolerating the GPU taint on both capacity types; the floor has no spot toleration
    for dep in (got["floor"], got["burst"]):
        assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in dep["spec"]["template"]["spec"]["tolerations"]
    assert len(got["floor"]["spec"]["template"]["spec"]["tolerations"]) == 1


@pytest.mark.integration
def test_spot_burst_starts_at_the_plans_min_above_the_floor():
    plan = make_plan(spot_candidate(min_capacity=3, max_capacity=7, floor=2, instance_type="c7i.2xlarge", metric="cpu"))
    rec = _run(plan)
    got = assert_kubernetes_spot_stack(rec, plan, IMAGE)
    assert (got["hpa"]["spec"]["minReplicas"], got["hpa"]["spec"]["maxReplicas"]) == (1, 5)
    assert got["node_pool"]["spec"]["limits"] == {"cpu": "40"}
    assert "nvidia.com/gpu" not in got["burst"]["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]


@pytest.mark.integration
def test_non_spot_plan_has_no_node_pool_and_one_deployment():
    plan = make_plan(candidate(platform="kubernetes", instance_type="g5.xlarge", scaling=autoscaling(min_capacity=2, max_capacity=8, target_value=1500.0, scheduled=False)))
    rec = _run(plan)
    assert rec.of_type(NODEPOOL) == []
    (dep,) = rec.of_type("kubernetes:apps/v1:Deployment")
    assert dep.name.endswith("-deployment") and dep.inputs["metadata"]["name"] == plan.name
    pod = dep.inputs["spec"]["template"]["spec"]
    assert "karpenter.sh/capacity-type" not in pod["nodeSelector"]
    assert all(t["key"] != "leanserve/spot" for t in pod.get("tolerations", []))


@pytest.mark.integration
def test_spot_nodes_from_an_eks_managed_node_group_need_no_node_pool():
    from leanserve_infra.config import from_mapping
    from leanserve_infra.stack import program

    from tests.infra.harness import run_program

    plan = make_plan(spot_candidate())
    cfg, _, _ = build_stack_config(plan, "k8s", image=IMAGE)
    values = {k.split(":", 1)[1]: v for k, v in cfg.pulumi_config().items()}
    spot = values["kubernetes"]["spot"]
    spot.pop("nodePool")
    spot.update(capacityTypeLabel="eks.amazonaws.com/capacityType", spotValue="SPOT", onDemandValue="ON_DEMAND", taintKey=None)
    settings = from_mapping(values)
    rec = run_program({}, "k8s", lambda: program(settings))
    assert rec.of_type(NODEPOOL) == []
    deps = {r.inputs["metadata"]["name"]: r.inputs["spec"]["template"]["spec"] for r in rec.of_type("kubernetes:apps/v1:Deployment")}
    assert deps[f"{plan.name}-floor"]["nodeSelector"]["eks.amazonaws.com/capacityType"] == "ON_DEMAND"
    assert deps[f"{plan.name}-burst"]["nodeSelector"]["eks.amazonaws.com/capacityType"] == "SPOT"
    assert "karpenter.sh/nodepool" not in deps[f"{plan.name}-burst"]["nodeSelector"]


def test_a_node_pool_needs_karpenters_label():
    from leanserve_infra.config import ConfigError, from_mapping

    cfg, _, _ = build_stack_config(make_plan(spot_candidate()), "k8s", image=IMAGE)
    values = {k.split(":", 1)[1]: v for k, v in cfg.pulumi_config().items()}
    values["kubernetes"]["spot"]["capacityTypeLabel"] = "eks.amazonaws.com/capacityType"
    with pytest.raises(ConfigError, match="karpenter.sh/capacity-type"):
        from_mapping(values)
