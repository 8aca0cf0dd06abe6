"""How the plan's capacity is bought, as the stack file states it: spot burst above an on-demand floor
(Kubernetes), and the Savings Plan that ``deploy`` tells the buyer about and never buys.

    spot = spot_cfg(plan, candidate, autoscaling, "g5.xlarge", namespace, notes)   # SpotCfg or None
    note = commitment_note(candidate)                                              # str or None
"""

from __future__ import annotations

import re

from toolkit.deploy.kubernetes_sizing import node_resources
from toolkit.deploy.stack_schema import AutoscalingCfg, SpotCfg

PLAN_NAMES = {"sagemaker": "SageMaker Savings Plan", "ec2-instance": "EC2 Instance Savings Plan", "compute": "Compute Savings Plan"}


def _dns_label(text: str, limit: int = 63) -> str:
    clean = re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", text.lower())).strip("-")
    return clean[:limit].rstrip("-") or "leanserve"


def spot_cfg(plan, candidate, a: AutoscalingCfg | None, node_instance_type: str, namespace: str, notes: list[str]) -> SpotCfg | None:
    """The stack's spot section for a spot candidate: the floor from ``purchase.spot.floor_instances`` (on demand),
    the burst from 1 (or the plan's min above the floor) to the plan's max less the floor. None when not spot,
    or when the fleet never leaves the floor (notes say why)."""
    if not candidate.spot:
        return None
    use = candidate.purchase.spot if candidate.purchase else None
    floor = use.floor_instances if use is not None else plan.sla.min_instances
    if use is None:
        notes.append(f"plan.json has no purchase.spot record (an older plan): the on-demand floor is sla.min_instances = {floor}")
    if a is None or a.max_capacity <= floor:
        top = a.max_capacity if a else floor
        notes.append(f"the spot plan never scales above its on-demand floor ({top} ≤ {floor} nodes): all nodes stay on demand, no spot burst")
        return None
    max_spot = a.max_capacity - floor
    min_spot = max(1, a.min_capacity - floor)
    if a.min_capacity - floor < 1:
        notes.append(f"the spot burst keeps at least 1 pod (an HPA cannot scale to 0 without Kubernetes' alpha HPAScaleToZero gate): "
                     f"while the plan sits at its minimum of {a.min_capacity}, one {node_instance_type} spot node more runs (up to 720 spot node-hours a month)")
    vcpus, gpus = node_resources(node_instance_type)
    limits = {"cpu": str(max_spot * vcpus)}
    if gpus:
        limits["nvidia.com/gpu"] = str(max_spot * gpus)
    return SpotCfg(floor_replicas=floor, min_spot_replicas=min_spot, max_spot_replicas=max_spot, instance_type=node_instance_type,
                   node_pool=_dns_label(f"{namespace}-spot"), limits=limits)


def commitment_note(candidate) -> str | None:
    """What to buy, when the plan recommends a Savings Plans commitment; deploy never buys one."""
    cm = candidate.purchase.committed if candidate.purchase else None
    if cm is None:
        return None
    upfront = f", ${cm.upfront_usd:,.2f} upfront" if cm.upfront_usd else ""
    return (f"Savings Plan to buy: {PLAN_NAMES.get(cm.plan, cm.plan + ' Savings Plan')}, {cm.term}, {cm.payment}, ${cm.commitment_usd_per_hour:,.4f}/hour committed{upfront} "
            f"(saves ${cm.saving_usd:,.2f}/month; pays off when used in at least {cm.break_even_utilisation:.0%} of the hours). "
            "deploy does not buy it: a Savings Plan is a purchase, not infrastructure (AWS Billing console → Savings Plans → Purchase)")
