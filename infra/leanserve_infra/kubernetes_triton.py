"""Triton Inference Server on Kubernetes: Deployment, Service, HPA (autoscaling/v2), PDB.

The image is the one built from `leanserve package --target cpu|gpu`'s container context: it holds
the model repository at /models and its entrypoint starts tritonserver (HTTP 8000, gRPC 8001,
metrics 8002) as an unprivileged user (uid 10001). Pods run as a non-root user with a read-only root filesystem and
no capabilities (the namespace enforces the ``restricted`` Pod Security Standard); they are ready and
alive when Triton's ``/v2/health/ready`` answers. On GPU node types each pod takes one NVIDIA GPU.

HPA metrics: ``cpu`` (Resource, utilisation %), ``requests`` (Pods metric ``triton_requests_per_second``)
and ``queue-time`` (Pods metric ``triton_queue_duration_us``); the two Pods metrics come from Triton's
/metrics through a metrics adapter (docs/deploy.md shows Prometheus Adapter rules).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from toolkit.deploy.stack_schema import AutoscalingCfg, KubernetesCfg

HTTP_PORT, GRPC_PORT, METRICS_PORT = 8000, 8001, 8002
TRITON_UID = 10001  # the user of images built from the package context (toolkit/package/container.py CONTAINER_UID)
HPA_PODS_METRICS = {"requests": "triton_requests_per_second", "queue-time": "triton_queue_duration_us"}
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
    service: k8s.core.v1.Service
    hpa: k8s.autoscaling.v2.HorizontalPodAutoscaler | None
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

        def meta() -> dict:
            return {"name": name, "namespace": self.namespace, "labels": labels, "annotations": annotations}

        sa = k8s.core.v1.ServiceAccount(f"{name}-sa", metadata=meta(), automount_service_account_token=False, opts=child)

        probe = {"http_get": {"path": "/v2/health/ready", "port": "http"}, "period_seconds": 10, "timeout_seconds": 3}
        resources: dict = {"requests": {"cpu": k.cpu, "memory": k.memory}, "limits": {"memory": k.memory}}
        if k.gpus:
            resources["requests"]["nvidia.com/gpu"] = str(k.gpus)
            resources["limits"]["nvidia.com/gpu"] = str(k.gpus)
        container = {
            "name": "triton",
            "image": args.image,
            "ports": [
                {"name": "http", "container_port": HTTP_PORT},
                {"name": "grpc", "container_port": GRPC_PORT},
                {"name": "metrics", "container_port": METRICS_PORT},
            ],
            "resources": resources,
            # Model loading can take minutes: the startup probe holds liveness off until the first ready.
            "startup_probe": {**probe, "failure_threshold": 60},
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
        }
        pod_spec: dict = {
            "service_account_name": name,
            "automount_service_account_token": False,
            "security_context": {
                "run_as_non_root": True,
                "run_as_user": TRITON_UID,
                "run_as_group": TRITON_UID,
                "fs_group": TRITON_UID,
                "seccomp_profile": {"type": "RuntimeDefault"},
            },
            "node_selector": {"node.kubernetes.io/instance-type": k.node_instance_type, "kubernetes.io/os": "linux"},
            "topology_spread_constraints": [
                {"max_skew": 1, "topology_key": "topology.kubernetes.io/zone", "when_unsatisfiable": "ScheduleAnyway", "label_selector": {"match_labels": selector}}
            ],
            "containers": [container],
            "volumes": [
                {"name": "tmp", "empty_dir": {}},
                {"name": "dshm", "empty_dir": {"medium": "Memory", "size_limit": "1Gi"}},
            ],
            "termination_grace_period_seconds": 30,
        }
        if k.gpus:
            pod_spec["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]

        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=meta(),
            spec={
                "replicas": k.replicas,
                "selector": {"match_labels": selector},
                "strategy": {"type": "RollingUpdate", "rolling_update": {"max_unavailable": 0, "max_surge": 1}},
                "template": {
                    "metadata": {
                        "labels": labels,
                        "annotations": {**annotations, "prometheus.io/scrape": "true", "prometheus.io/port": str(METRICS_PORT)},
                    },
                    "spec": pod_spec,
                },
            },
            # The HPA owns the replica count once it exists.
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[sa], ignore_changes=["spec.replicas"] if hpa_metric else None)),
        )
        self.service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=meta(),
            spec={
                "type": "ClusterIP",
                "selector": selector,
                "ports": [
                    {"name": "http", "port": HTTP_PORT, "target_port": "http"},
                    {"name": "grpc", "port": GRPC_PORT, "target_port": "grpc"},
                    {"name": "metrics", "port": METRICS_PORT, "target_port": "metrics"},
                ],
            },
            opts=child,
        )
        self.pdb = k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb", metadata=meta(), spec={"max_unavailable": 1, "selector": {"match_labels": selector}}, opts=child
        )
        self.hpa = None
        if hpa_metric:
            if a.min_capacity > a.max_capacity:
                raise ValueError(f"HPA min replicas {a.min_capacity} is above max replicas {a.max_capacity}")
            self.hpa = k8s.autoscaling.v2.HorizontalPodAutoscaler(
                f"{name}-hpa",
                metadata=meta(),
                spec={
                    "scale_target_ref": {"api_version": "apps/v1", "kind": "Deployment", "name": name},
                    "min_replicas": a.min_capacity,
                    "max_replicas": a.max_capacity,
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
