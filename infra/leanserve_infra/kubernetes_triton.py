"""Triton Inference Server on Kubernetes: Deployment, Service, HPA (autoscaling/v2), PDB.

The image is the one built from `leanserve package --target cpu|gpu`'s container context: it holds
the model repository at /models and its entrypoint starts tritonserver (HTTP 8000, gRPC 8001,
metrics 8002) as an unprivileged user (uid 10001). Pods run as a non-root user with a read-only root filesystem and
no capabilities (the namespace enforces the ``restricted`` Pod Security Standard); they are ready and
alive when Triton's ``/v2/health/ready`` answers. On GPU node types each pod takes one NVIDIA GPU.

HPA metrics: ``cpu`` (Resource, utilisation %), ``requests`` (Pods metric ``triton_requests_per_second``)
and ``queue-time`` (Pods metric ``triton_queue_duration_us``); the two Pods metrics come from Triton's
/metrics through a metrics adapter (docs/deploy.md shows Prometheus Adapter rules).

Spot burst (``pods.spot`` set): two Deployments behind the one Service. ``<name>-floor`` keeps the
on-demand floor (fixed replicas, nodeSelector capacity type = on-demand); ``<name>-burst`` runs on spot
nodes (nodeSelector capacity type = spot, tolerating the spot taint) and is what the HPA scales, between
``minSpotReplicas`` and ``maxSpotReplicas``. The Service balances over both, so a pod's metric averaged
over the burst pods is the fleet's per-pod value and the HPA converges on the plan's total. With
``nodePool`` set, a Karpenter NodePool supplies the spot nodes (:mod:`leanserve_infra.karpenter`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from toolkit.deploy.stack_schema import AutoscalingCfg, KubernetesCfg, LLMCfg

HTTP_PORT, GRPC_PORT, METRICS_PORT = 8000, 8001, 8002
TRITON_UID = 10001  # the user of images built from the package context (toolkit/package/container.py CONTAINER_UID)
HPA_PODS_METRICS = {"requests": "triton_requests_per_second", "queue-time": "triton_queue_duration_us"}
CAPACITY_LABEL = "leanserve/capacity"  # pod label telling the floor's pods (on-demand) from the burst's (spot)
_LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


@dataclass
class KubernetesTritonArgs:
    image: str
    model_sha256: str
    variant: str
    pods: KubernetesCfg
    """The stack file's ``leanserve:kubernetes``: namespace, node instance type, GPUs, CPU and memory per pod,
    replicas, and the HPA metric ('cpu', 'requests' or 'queue-time'; None: no HPA, fixed replicas)."""
    autoscaling: AutoscalingCfg | None = None
    """min/max replicas, target (cpu: utilisation %; requests: requests per pod per minute, as the plan states it;
    queue-time: µs) and cooldowns; no HPA without it."""
    tags: dict[str, str] = field(default_factory=dict)
    create_namespace: bool = True
    llm: LLMCfg | None = None
    """LLM plans: the startup allowance, and (HPA metric 'concurrency') the KEDA ScaledObject's query and Prometheus."""


def tag_labels(tags: dict[str, str]) -> dict[str, str]:
    """Tags that are valid Kubernetes labels (all tags also go into an annotation)."""
    return {k: v for k, v in sorted(tags.items()) if _LABEL_KEY.match(k) and _LABEL_VALUE.match(v)}


def hpa_metric_spec(metric: str, target: float) -> dict:
    if metric == "cpu":
        return {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "average_utilization": int(round(target))}}}
    if metric == "requests":
        per_second_milli = max(1, round(target / 60.0 * 1000))  # plan: per pod per minute → HPA: per second
        return {"type": "Pods", "pods": {"metric": {"name": HPA_PODS_METRICS["requests"]}, "target": {"type": "AverageValue", "average_value": f"{per_second_milli}m"}}}
    if metric == "queue-time":
        return {"type": "Pods", "pods": {"metric": {"name": HPA_PODS_METRICS["queue-time"]}, "target": {"type": "AverageValue", "average_value": str(int(round(target)))}}}
    raise ValueError(f"unknown HPA metric '{metric}' (use cpu, requests or queue-time)")


class KubernetesTriton(pulumi.ComponentResource):
    namespace: str
    deployment: k8s.apps.v1.Deployment
    """The Deployment the HPA scales: the only one, or with spot the burst Deployment."""
    floor: k8s.apps.v1.Deployment | None
    node_pool: k8s.apiextensions.CustomResource | None
    service: k8s.core.v1.Service
    hpa: k8s.autoscaling.v2.HorizontalPodAutoscaler | None
    scaled_object: k8s.apiextensions.CustomResource | None
    """LLM plans: the KEDA ScaledObject (it creates and owns the HPA) scaling on requests in flight per pod."""
    pdb: k8s.policy.v1.PodDisruptionBudget

    def __init__(self, name: str, args: KubernetesTritonArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("leanserve:kubernetes:KubernetesTriton", name, None, opts)
        k, a = args.pods, args.autoscaling
        hpa_metric = k.hpa_metric if a is not None else None
        child = pulumi.ResourceOptions(parent=self)
        selector = {"app.kubernetes.io/name": "triton", "app.kubernetes.io/instance": name}
        labels = {**tag_labels(args.tags), **selector, "app.kubernetes.io/managed-by": "leanserve"}
        annotations = {"leanserve/tags": json.dumps(dict(sorted(args.tags.items()))), "leanserve/variant": args.variant, "leanserve/model-sha256": args.model_sha256}

        self.namespace = k.namespace
        if args.create_namespace:
            ns = k8s.core.v1.Namespace(
                f"{name}-namespace",
                metadata={
                    "name": k.namespace,
                    "labels": {**labels, "pod-security.kubernetes.io/enforce": "restricted"},
                    "annotations": annotations,
                },
                opts=child,
            )
            child = pulumi.ResourceOptions(parent=self, depends_on=[ns])

        def meta(resource_name: str = name, extra: dict | None = None) -> dict:
            return {"name": resource_name, "namespace": self.namespace, "labels": {**labels, **(extra or {})}, "annotations": annotations}

        sa = k8s.core.v1.ServiceAccount(f"{name}-sa", metadata=meta(), automount_service_account_token=False, opts=child)
        container = _container(args.image, k, args.llm)

        def deployment(logical: str, resource_name: str, replicas: int, pod_labels: dict, node_selector: dict, tolerations: list, scaled: bool,
                       after: list | None = None):
            match = {**selector, **pod_labels}
            pod_spec = _pod_spec(name, container, match, {"node.kubernetes.io/instance-type": k.node_instance_type, "kubernetes.io/os": "linux", **node_selector},
                                 ([{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}] if k.gpus else []) + tolerations)
            return k8s.apps.v1.Deployment(
                logical,
                metadata=meta(resource_name, pod_labels),
                spec={
                    "replicas": replicas,
                    "selector": {"match_labels": match},
                    "strategy": {"type": "RollingUpdate", "rolling_update": {"max_unavailable": 0, "max_surge": 1}},
                    "template": {
                        "metadata": {
                            "labels": {**labels, **pod_labels},
                            "annotations": {**annotations, "prometheus.io/scrape": "true", "prometheus.io/port": str(METRICS_PORT)},
                        },
                        "spec": pod_spec,
                    },
                },
                # The HPA owns the replica count once it exists.
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[sa, *(after or [])], ignore_changes=["spec.replicas"] if scaled else None)),
            )

        spot = k.spot
        self.floor = self.node_pool = None
        if spot is None:
            target, hpa_range = name, (a.min_capacity, a.max_capacity) if a else None
            self.deployment = deployment(f"{name}-deployment", name, k.replicas, {}, {}, [], bool(hpa_metric))
        else:
            from leanserve_infra.karpenter import spot_node_pool, spot_taints

            after = []
            spot_selector = {spot.capacity_type_label: spot.spot_value}
            if spot.node_pool:
                self.node_pool = spot_node_pool(name, spot, labels, annotations, child)
                spot_selector["karpenter.sh/nodepool"] = spot.node_pool  # Karpenter labels its nodes with their NodePool
                after = [self.node_pool]
            self.floor = deployment(f"{name}-floor-deployment", f"{name}-floor", spot.floor_replicas, {CAPACITY_LABEL: "on-demand"},
                                    {spot.capacity_type_label: spot.on_demand_value}, [], False)
            tolerations = [{"key": t["key"], "operator": "Equal", "value": t["value"], "effect": t["effect"]} for t in spot_taints(spot)]
            self.deployment = deployment(f"{name}-burst-deployment", f"{name}-burst", spot.min_spot_replicas, {CAPACITY_LABEL: "spot"},
                                         spot_selector, tolerations, bool(hpa_metric), after)
            target, hpa_range = f"{name}-burst", (spot.min_spot_replicas, spot.max_spot_replicas)
        self.service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=meta(),
            spec={
                "type": "ClusterIP",
                "selector": selector,  # floor and burst pods alike
                "ports": [
                    {"name": "http", "port": HTTP_PORT, "target_port": "http"},
                    {"name": "grpc", "port": GRPC_PORT, "target_port": "grpc"},
                    {"name": "metrics", "port": METRICS_PORT, "target_port": "metrics"},
                ],
            },
            opts=child,
        )
        # One budget over the whole service: with spot, the disruption controller sums both Deployments' scale for maxUnavailable.
        self.pdb = k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb", metadata=meta(), spec={"max_unavailable": 1, "selector": {"match_labels": selector}}, opts=child
        )
        self.hpa = self.scaled_object = None
        if hpa_metric == "concurrency":
            from leanserve_infra.gpu_nodes import concurrency_scaler

            lo, hi = hpa_range
            if args.llm is None or lo > hi:
                raise ValueError("the concurrency scaler needs the stack's llm section and min replicas <= max replicas")
            self.scaled_object = concurrency_scaler(name, self.namespace, target, args.llm, a, lo, hi, meta(),
                                                    pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[self.deployment])))
        elif hpa_metric:
            lo, hi = hpa_range
            if lo > hi:
                raise ValueError(f"HPA min replicas {lo} is above max replicas {hi}")
            self.hpa = k8s.autoscaling.v2.HorizontalPodAutoscaler(
                f"{name}-hpa",
                metadata=meta(),
                spec={
                    "scale_target_ref": {"api_version": "apps/v1", "kind": "Deployment", "name": target},
                    "min_replicas": lo,
                    "max_replicas": hi,
                    "metrics": [hpa_metric_spec(hpa_metric, a.target_value)],
                    "behavior": {
                        "scale_down": {"stabilization_window_seconds": min(a.scale_in_cooldown_s, 3600)},
                        "scale_up": {
                            "stabilization_window_seconds": 0,
                            "policies": [{"type": "Percent", "value": 100, "period_seconds": max(1, min(a.scale_out_cooldown_s, 1800))}],
                        },
                    },
                },
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[self.deployment])),
            )
        self.register_outputs({"namespace": self.namespace, "service": name})


def _container(image: str, k: KubernetesCfg, llm: LLMCfg | None = None) -> dict:
    """The Triton container: non-root, read-only root filesystem, no capabilities, ready on /v2/health/ready."""
    probe = {"http_get": {"path": "/v2/health/ready", "port": "http"}, "period_seconds": 10, "timeout_seconds": 3}
    startup_failures = max(60, -(-llm.startup_timeout_s // 10)) if llm else 60  # LLMs: weights + engine start
    resources: dict = {"requests": {"cpu": k.cpu, "memory": k.memory}, "limits": {"memory": k.memory}}
    if k.gpus:
        resources["requests"]["nvidia.com/gpu"] = str(k.gpus)
        resources["limits"]["nvidia.com/gpu"] = str(k.gpus)
    return {
        "name": "triton",
        "image": image,
        "ports": [
            {"name": "http", "container_port": HTTP_PORT},
            {"name": "grpc", "container_port": GRPC_PORT},
            {"name": "metrics", "container_port": METRICS_PORT},
        ],
        "resources": resources,
        # Model loading can take minutes: the startup probe holds liveness off until the first ready.
        "startup_probe": {**probe, "failure_threshold": startup_failures},
        "readiness_probe": {**probe, "failure_threshold": 3},
        "liveness_probe": {**probe, "failure_threshold": 6},
        "security_context": {
            "run_as_non_root": True,
            "run_as_user": TRITON_UID,
            "run_as_group": TRITON_UID,
            "allow_privilege_escalation": False,
            "read_only_root_filesystem": True,
            "capabilities": {"drop": ["ALL"]},
            "seccomp_profile": {"type": "RuntimeDefault"},
        },
        "volume_mounts": [{"name": "tmp", "mount_path": "/tmp"}, {"name": "dshm", "mount_path": "/dev/shm"}],
        # vLLM and torch write caches under $HOME: on a read-only root filesystem that must be the writable /tmp
        **({"env": [{"name": "HOME", "value": "/tmp"}, {"name": "XDG_CACHE_HOME", "value": "/tmp/.cache"}]} if llm else {}),
    }


def _pod_spec(service_account: str, container: dict, match: dict, node_selector: dict, tolerations: list) -> dict:
    spec: dict = {
        "service_account_name": service_account,
        "automount_service_account_token": False,
        "security_context": {
            "run_as_non_root": True,
            "run_as_user": TRITON_UID,
            "run_as_group": TRITON_UID,
            "fs_group": TRITON_UID,
            "seccomp_profile": {"type": "RuntimeDefault"},
        },
        "node_selector": node_selector,
        "topology_spread_constraints": [
            {"max_skew": 1, "topology_key": "topology.kubernetes.io/zone", "when_unsatisfiable": "ScheduleAnyway", "label_selector": {"match_labels": match}}
        ],
        "containers": [container],
        "volumes": [
            {"name": "tmp", "empty_dir": {}},
            {"name": "dshm", "empty_dir": {"medium": "Memory", "size_limit": "1Gi"}},
        ],
        "termination_grace_period_seconds": 30,
    }
    if tolerations:
        spec["tolerations"] = tolerations
    return spec
