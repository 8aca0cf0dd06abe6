"""A Karpenter NodePool (``karpenter.sh/v1``) for the spot burst capacity of a Kubernetes stack.

Field names follow Karpenter's v1 NodePool CRD (aws/karpenter-provider-aws,
pkg/apis/crds/karpenter.sh_nodepools.yaml, version ``v1``) and its ``examples/v1/spot.yaml``:
``spec.template.spec.requirements`` (key/operator/values; ``karpenter.sh/capacity-type`` In ``spot``,
``node.kubernetes.io/instance-type`` In the plan's type), ``spec.template.spec.nodeClassRef``
(group/kind/name, required), ``spec.template.spec.taints``, ``spec.limits`` (resource → quantity) and
``spec.disruption`` (``consolidationPolicy`` WhenEmpty | WhenEmptyOrUnderutilized, ``consolidateAfter``
required, ``budgets[].nodes``). A CustomResource's spec is passed as written, so keys are camelCase.

Without Karpenter (no ``nodePool`` in the stack file) nothing is created here: spot nodes come from an EKS
managed node group with ``capacityType`` ``SPOT`` (the CreateNodegroup / AWS CDK ``CapacityType`` enum:
``ON_DEMAND``, ``SPOT``, ``CAPACITY_BLOCK``), whose nodes EKS labels ``eks.amazonaws.com/capacityType`` =
``SPOT`` / ``ON_DEMAND`` (the label EKS workshop patches use as a nodeSelector).

NodePools are cluster-scoped (no namespace). The EC2NodeClass it names (``nodeClass``, default
``default``) must exist: it holds the node role, subnets, security groups and AMI, which belong to the
cluster, not to this stack.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from toolkit.deploy.stack_schema import KARPENTER_CAPACITY_LABEL, SpotCfg

API_VERSION = "karpenter.sh/v1"
NODE_CLASS_GROUP = "karpenter.k8s.aws"  # AWS provider's EC2NodeClass


def spot_taints(spot: SpotCfg) -> list[dict]:
    """Taints on the spot nodes (so only pods that tolerate them land there)."""
    return [{"key": spot.taint_key, "value": "true", "effect": "NoSchedule"}] if spot.taint_key else []


def node_pool_spec(spot: SpotCfg) -> dict:
    """The NodePool's ``spec``: spot only, the plan's instance type, limits for the burst's nodes, gentle disruption."""
    template_spec: dict = {
        "nodeClassRef": {"group": NODE_CLASS_GROUP, "kind": "EC2NodeClass", "name": spot.node_class},
        "requirements": [
            {"key": KARPENTER_CAPACITY_LABEL, "operator": "In", "values": [spot.spot_value]},
            {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": [spot.instance_type]},
            {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
        ],
    }
    taints = spot_taints(spot)
    if taints:
        template_spec["taints"] = taints
    spec: dict = {
        "template": {"spec": template_spec},
        # Only empty nodes are removed (after the HPA has scaled the burst in), one at a time: a serving node
        # with pods is never consolidated away. Spot interruptions are not disruption: the budget does not hold them.
        "disruption": {"consolidationPolicy": "WhenEmpty", "consolidateAfter": spot.consolidate_after, "budgets": [{"nodes": "1"}]},
    }
    if spot.limits:
        spec["limits"] = dict(spot.limits)
    return spec


def spot_node_pool(name: str, spot: SpotCfg, labels: dict[str, str], annotations: dict[str, str], opts: pulumi.ResourceOptions) -> k8s.apiextensions.CustomResource:
    return k8s.apiextensions.CustomResource(
        f"{name}-spot-nodepool",
        api_version=API_VERSION,
        kind="NodePool",
        metadata={"name": spot.node_pool, "labels": labels, "annotations": annotations},
        spec=node_pool_spec(spot),
        opts=opts,
    )
