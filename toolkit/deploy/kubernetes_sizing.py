"""Pod sizing for a Kubernetes plan: one Triton pod per GPU (or per node on CPU instances).

The plan names an EC2 instance type for the node group. From its size we derive vCPUs (large = 2,
xlarge = 4, Nxlarge = 4N) and from its family the memory per vCPU; each pod requests 75% of its share of
the node, leaving the rest to the kubelet, system daemons and DaemonSets. This is a sizing rule, not a
measurement: the emitted stack config shows the numbers so a reviewer can see and override them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from toolkit.errors import InputError

# NVIDIA GPU families and the sizes that carry more than one GPU (all other sizes carry one).
NVIDIA_GPU_FAMILIES = ("g4dn", "g5", "g6", "g6e", "gr6", "p3", "p3dn", "p4d", "p4de", "p5", "p5e", "p5en")
_MULTI_GPU = {
    ("g4dn", "12xlarge"): 4, ("g4dn", "metal"): 8,
    ("g5", "12xlarge"): 4, ("g5", "24xlarge"): 4, ("g5", "48xlarge"): 8,
    ("g6", "12xlarge"): 4, ("g6", "24xlarge"): 4, ("g6", "48xlarge"): 8,
    ("g6e", "12xlarge"): 4, ("g6e", "24xlarge"): 4, ("g6e", "48xlarge"): 8,
    ("p3", "8xlarge"): 4, ("p3", "16xlarge"): 8, ("p3dn", "24xlarge"): 8,
    ("p4d", "24xlarge"): 8, ("p4de", "24xlarge"): 8, ("p5", "48xlarge"): 8, ("p5e", "48xlarge"): 8, ("p5en", "48xlarge"): 8,
}
# GiB of memory per vCPU by family (AWS instance pages); default 4 (general purpose).
_GIB_PER_VCPU = {"c": 2, "m": 4, "r": 8, "x": 16, "t": 4, "g6e": 8, "p3": 7.6, "p4d": 8, "p4de": 8, "p5": 8}
_SHAPE = re.compile(r"^(?P<family>[a-z]+[0-9]+[a-z-]*)\.(?P<size>medium|large|xlarge|[0-9]+xlarge|metal)$")


@dataclass(frozen=True)
class PodSize:
    node_instance_type: str
    gpus: int
    cpu: str
    memory: str


def _vcpus(size: str) -> int:
    if size == "medium":
        return 1
    if size == "large":
        return 2
    if size == "xlarge":
        return 4
    if size.endswith("xlarge"):
        return 4 * int(size[: -len("xlarge")])
    raise InputError(f"cannot size pods for a '.{size}' node", hint="plan a sized instance type (e.g. g5.xlarge) for Kubernetes")


def pod_size(instance_type: str) -> PodSize:
    """Requests for one Triton pod on a node of ``instance_type`` (EC2 name; a leading 'ml.' is dropped)."""
    name = instance_type.removeprefix("ml.")
    m = _SHAPE.match(name)
    if not m:
        raise InputError(f"'{instance_type}' is not an EC2 instance type name", hint="Kubernetes plans name EC2 types such as g5.xlarge or c7i.2xlarge")
    family, size = m["family"], m["size"]
    vcpus = _vcpus(size)
    is_gpu = family in NVIDIA_GPU_FAMILIES
    gpus_on_node = _MULTI_GPU.get((family, size), 1) if is_gpu else 0
    pods = max(1, gpus_on_node)
    gib_per_vcpu = _GIB_PER_VCPU.get(family, _GIB_PER_VCPU.get(family[0], 4))
    cpu = max(1, math.floor(vcpus * 0.75 / pods))
    memory = max(1, math.floor(vcpus * gib_per_vcpu * 0.75 / pods))
    return PodSize(node_instance_type=name, gpus=1 if is_gpu else 0, cpu=str(cpu), memory=f"{memory}Gi")


def node_resources(instance_type: str) -> tuple[int, int]:
    """(vCPUs, NVIDIA GPUs) of one node of ``instance_type``, by the same naming rule as :func:`pod_size`."""
    name = instance_type.removeprefix("ml.")
    m = _SHAPE.match(name)
    if not m:
        raise InputError(f"'{instance_type}' is not an EC2 instance type name", hint="Kubernetes plans name EC2 types such as g5.xlarge or c7i.2xlarge")
    family, size = m["family"], m["size"]
    gpus = _MULTI_GPU.get((family, size), 1) if family in NVIDIA_GPU_FAMILIES else 0
    return _vcpus(size), gpus
