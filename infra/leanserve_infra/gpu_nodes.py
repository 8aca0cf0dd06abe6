"""GPU nodes for LLM pods on EKS, and the KEDA scaler that sizes the pods on requests in flight.

``GpuNodeGroup``: an EKS managed node group on the user's cluster (subnets read from the cluster) on a GPU AMI
(``AL2023_x86_64_NVIDIA``: NVIDIA driver and container toolkit installed), tainted ``nvidia.com/gpu=true:NoSchedule``
so only pods tolerating it (the Triton pods) land there. Its node role trusts EC2 only and carries AWS's three managed
worker-node policies (the EKS worker, CNI and ECR read-only policies) — no inline policy, no wildcard action of ours.
The NVIDIA device plugin (which advertises ``nvidia.com/gpu``) is the cluster's: install it, or the GPU Operator.

``concurrency_scaler``: a KEDA ScaledObject (``keda.sh/v1alpha1``) on the Deployment with a Prometheus trigger whose
query is the stack's ``llm.scalingMetric`` (requests in flight across the pods, from Triton's
``nv_inference_request_duration_us``), ``metricType: AverageValue`` so KEDA's HPA divides it by the replicas and holds
the plan's concurrency target per pod. Why this metric and KEDA: :mod:`toolkit.deploy.llm_stack`.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from toolkit.deploy.stack_schema import AutoscalingCfg, GpuNodeGroupCfg, LLMCfg

WORKER_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly")


def ec2_trust_policy() -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Sid": "Ec2AssumesRole", "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                    "Action": "sts:AssumeRole"}]}


class GpuNodeGroup(pulumi.ComponentResource):
    role: aws.iam.Role
    node_group: aws.eks.NodeGroup

    def __init__(self, name: str, cfg: GpuNodeGroupCfg, tags: dict[str, str], opts: pulumi.ResourceOptions | None = None):
        import json

        super().__init__("leanserve:aws:GpuNodeGroup", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        partition = aws.get_partition_output().partition
        cluster = aws.eks.get_cluster_output(name=cfg.cluster_name)
        self.role = aws.iam.Role(f"{name}-gpu-node", description=f"GPU nodes of {name} on EKS cluster {cfg.cluster_name} (leanserve)",
                                 assume_role_policy=json.dumps(ec2_trust_policy()), tags=dict(tags), opts=child)
        attachments = [
            aws.iam.RolePolicyAttachment(f"{name}-gpu-node-{policy}", role=self.role.name,
                                         policy_arn=pulumi.Output.concat("arn:", partition, ":iam::aws:policy/", policy),
                                         opts=pulumi.ResourceOptions(parent=self.role))
            for policy in WORKER_POLICIES
        ]
        self.node_group = aws.eks.NodeGroup(
            f"{name}-gpu-nodes",
            cluster_name=cfg.cluster_name,
            node_role_arn=self.role.arn,
            subnet_ids=cluster.vpc_config.subnet_ids,
            instance_types=[cfg.instance_type],
            ami_type=cfg.ami_type,
            capacity_type="ON_DEMAND",
            disk_size=cfg.disk_size_gib,
            scaling_config={"min_size": cfg.min_size, "desired_size": cfg.desired_size, "max_size": cfg.max_size},
            taints=[{"key": cfg.taint_key, "value": cfg.taint_value, "effect": cfg.taint_effect}],
            labels={"leanserve/gpu-nodes": name},
            update_config={"max_unavailable": 1},
            tags=dict(tags),
            # the cluster autoscaler (or Karpenter) owns the desired size once nodes run
            opts=pulumi.ResourceOptions(parent=self, depends_on=attachments, ignore_changes=["scalingConfig.desiredSize"]),
        )
        self.register_outputs({"nodeGroup": self.node_group.node_group_name, "nodeRoleArn": self.role.arn})


def concurrency_scaler(name: str, namespace: str, target: str, llm: LLMCfg, a: AutoscalingCfg, lo: int, hi: int, meta: dict,
                       opts: pulumi.ResourceOptions) -> k8s.apiextensions.CustomResource:
    """The KEDA ScaledObject holding ``a.target_value`` requests in flight per pod of Deployment ``target``."""
    return k8s.apiextensions.CustomResource(
        f"{name}-scaledobject",
        api_version="keda.sh/v1alpha1",
        kind="ScaledObject",
        metadata=meta,
        spec={
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
            "minReplicaCount": lo,
            "maxReplicaCount": hi,
            "pollingInterval": 15,
            "cooldownPeriod": a.scale_in_cooldown_s,
            "advanced": {"horizontalPodAutoscalerConfig": {"behavior": {
                "scaleDown": {"stabilizationWindowSeconds": min(a.scale_in_cooldown_s, 3600)},
                "scaleUp": {"stabilizationWindowSeconds": 0,
                            "policies": [{"type": "Percent", "value": 100, "periodSeconds": max(15, min(a.scale_out_cooldown_s, 1800))}]},
            }}},
            "triggers": [{
                "type": "prometheus",
                "metricType": "AverageValue",
                "metadata": {"serverAddress": llm.prometheus_url, "query": llm.scaling_metric, "threshold": f"{a.target_value:g}",
                             "ignoreNullValues": "true"},
            }],
        },
        opts=opts,
    )
