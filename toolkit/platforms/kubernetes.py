"""Kubernetes (EKS): one Triton pod per EC2 node, HPA on requests per pod, cluster autoscaler adding nodes."""

from __future__ import annotations

from toolkit.platforms.base import Platform
from toolkit.platforms.pricing_util import estimate_quote

RESERVED_VCPU = 0.25  # kubelet, kube-proxy, CNI and log agents on every node (estimate)


class Kubernetes(Platform):
    name = "kubernetes"
    label = "k8s"
    display_name = "Kubernetes"
    title = "Kubernetes on EKS (EC2 nodes, HPA + cluster autoscaler)"
    dataset = "ec2"
    scaling_metric = "requests"  # per pod per minute; deploy turns it into an HPA target per second
    supports_spot = True
    naming_hint = "Kubernetes takes EC2 names without 'ml.'"
    infra_program = "kubernetes"
    stack_sections = ("kubernetes",)
    sets_aws_region = False
    model_in_image = True
    scaling_metrics = ("cpu", "queue-time", "requests", "concurrency", "SageMakerVariantInvocationsPerInstance")  # the last maps to requests

    def instance_price(self, catalog, instance_type: str, region: str, spot: bool = False):
        return catalog.ec2_price(instance_type, region, spot=spot)

    def dynamics(self):
        from toolkit.planner.dynamics import kubernetes_dynamics

        return kubernetes_dynamics()

    def scaling_assumption(self) -> str:
        from toolkit.planner import costs as C

        k8s = self.dynamics()
        return (f"Kubernetes: HPA on requests per pod (one Triton pod per node) with a 10% tolerance band, {k8s.in_window}-minute scale-down "
                f"stabilisation; new node + pod serves {k8s.startup_min} min after the decision ({k8s.startup_source}); "
                f"{C.EKS_USD_PER_HOUR:g} $/h for a dedicated EKS control plane and one NLB ({C.NLB_USD_PER_HOUR:g} $/h) are included.")

    def capacity_factor(self, info) -> tuple[float, str]:
        if info.accelerator:
            return 1.0, ""
        f = max(0.5, 1.0 - RESERVED_VCPU / max(info.vcpus, 1))
        return f, f"x{f:.2f}: {RESERVED_VCPU:g} vCPU per node kept for Kubernetes daemons"

    def price_model(self, info, region, spot, catalog, requests_per_month, family, name, notes, floor_instances: int = 0):
        """On demand, or spot above an on-demand floor of ``floor_instances`` nodes (the availability minimum)."""
        from toolkit.planner import costs as C

        quote = catalog.ec2_price(info.name, region, spot=spot)
        if spot:
            od = catalog.ec2_price(info.name, region)
            floor_hours = floor_instances * C.MONTH_MINUTES / 60.0
            pm = C.SpotPriceModel(hourly_quote=quote, unit_usd_per_instance_hour=quote.usd, on_demand_quote=od, floor_instance_hours=floor_hours,
                                  floor_resource=f"nodegroup/{name}", floor_sku=f"ec2 {info.name} {region} on-demand floor")
            pm.fixed_usd += floor_hours * (od.usd - quote.usd)
        else:
            pm = C.PriceModel(hourly_quote=quote, unit_usd_per_instance_hour=quote.usd)
        pm.per_hour_lines.append((f"nodegroup/{name}", "instances", "instance-hour", 1.0, quote.usd, f"ec2 {info.name} {region}" + (" spot" if spot else ""), quote))
        gp3 = estimate_quote(C.GP3_USD_PER_GB_MONTH, "GB-month", "gp3 list price, us-east-1")
        per_hour = C.NODE_VOLUME_GB / C.HOURS_PER_GB_MONTH
        pm.unit_usd_per_instance_hour += per_hour * gp3.usd
        pm.per_hour_lines.append((f"nodegroup/{name}", "storage", "GB-month", per_hour, gp3.usd, f"ebs gp3 {region}", gp3))
        hours = C.MONTH_MINUTES / 60.0
        eks = estimate_quote(C.EKS_USD_PER_HOUR, "hour", "EKS standard support, per cluster")
        nlb = estimate_quote(C.NLB_USD_PER_HOUR, "hour", "Network Load Balancer hourly charge, LCUs not included")
        for line in (
            C.Line(f"cluster/{name}", "cluster", "hour", hours, eks.usd, f"eks cluster {region}", eks),
            C.Line(f"loadbalancer/{name}", "load-balancer", "hour", hours, nlb.usd, f"elb nlb {region}", nlb),
        ):
            pm.fixed_lines.append(line)
            pm.fixed_usd += line.cost
        return pm

    def stack_config(self, inp):
        from toolkit.deploy.kubernetes_sizing import pod_size
        from toolkit.deploy.purchase import spot_cfg
        from toolkit.deploy.stack_schema import KubernetesCfg, ModelRef, StackConfig
        from toolkit.errors import InputError

        c, a = inp.candidate, inp.autoscaling
        if not inp.image:
            raise InputError(
                "a Kubernetes plan needs the Triton image that holds its model repository",
                hint="build the container context written by `leanserve package`, push it, and pass --image REGISTRY/NAME:TAG",
            )
        if not c.instance_type:
            raise InputError("plan.json: the Kubernetes candidate names no node instance type", hint="re-run `leanserve plan`")
        size = pod_size(c.instance_type)
        replicas = a.min_capacity if a else inp.plan.sla.min_instances
        if a and a.scheduled:
            inp.notes.append(f"{len(a.scheduled)} scheduled action(s) are not applied on Kubernetes (the HPA has no schedules)")
        hpa = {"SageMakerVariantInvocationsPerInstance": "requests"}.get(a.metric, a.metric) if a else None
        spot = spot_cfg(inp.plan, c, a, size.node_instance_type, inp.plan.name, inp.notes)  # floor on demand, burst on spot
        cfg = StackConfig(
            **inp.common, region=c.region, model=ModelRef(sha256=inp.sha256), image=inp.image, autoscaling=a,
            kubernetes=KubernetesCfg(namespace=inp.plan.name, node_instance_type=size.node_instance_type, gpus=size.gpus, cpu=size.cpu,
                                     memory=size.memory, replicas=max(1, replicas), hpa_metric=hpa, spot=spot),
        )
        from toolkit.deploy.llm_stack import is_llm_plan, kubernetes_llm

        return (kubernetes_llm(cfg, inp, inp.cluster) if is_llm_plan(inp.plan) else cfg), None  # LLMs: GPU node group, KEDA

    def describe_stack(self, cfg) -> str:
        k = cfg.kubernetes
        if k is None:
            return super().describe_stack(cfg)
        s = k.spot
        burst = f", {s.floor_replicas} on demand + up to {s.max_spot_replicas} spot" if s else ""
        return f"Kubernetes ({k.node_instance_type} nodes{burst})"
