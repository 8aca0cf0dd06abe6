"""Effective peak figures of a machine for the performance model.

A machine is either a catalog instance type (:class:`toolkit.pricing.InstanceInfo`) or the local CPU
that a measurement ran on (:class:`toolkit.artifacts.common.MachineInfo`). Both become a
:class:`Hardware`: the host CPU's generation, clock, threads, and per-core peak rates from
``toolkit/data/cpu_peaks.csv``; for GPUs, the device's peaks from ``accelerator_peaks.csv``.

Threads and cores: a measurement with ``n`` threads on a machine with ``L`` logical CPUs and ``t``
threads per core uses ``min(n, L/t)`` physical cores plus hyper-threads, which add
:data:`HT_YIELD` (15%) of a core each for dense GEMMs. vCPUs on x86 instances are hyper-threads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from toolkit.pricing.hardware import AcceleratorPeak, CpuPeak, accelerator_peaks, cpu_peaks

HT_YIELD = 0.15  # extra throughput of a second hyper-thread on a core running dense GEMMs
PARALLEL_LOSS = 0.05  # each extra core loses 5% efficiency on the small GEMMs of one request batch

# Known CPU models -> (generation, sustained all-core clock GHz). Sources: AWS instance-type pages.
CPU_MODELS: list[tuple[str, str, float]] = [
    (r"8488C|8481C|Sapphire", "sapphire-rapids", 3.2),
    (r"8375C|8370C|8380|Ice ?Lake", "ice-lake", 3.5),
    (r"8275CL|8259CL|8252C|Cascade", "cascade-lake", 3.0),
    (r"8124M|8175M|8176M|Skylake", "skylake-sp", 3.1),
    (r"E5-26\d\d v4|Broadwell", "broadwell", 2.7),
    (r"EPYC 7R32|EPYC 7[0-9]{2}2\b", "zen2", 3.3),
    (r"EPYC 7R13|EPYC 7[0-9]{2}3\b", "zen3", 3.6),
    (r"EPYC 9[0-9A-Z]{3}", "zen4", 3.5),
    (r"Graviton2|Neoverse-N1", "graviton2", 2.5),
]
DEFAULT_CLOCK_GHZ = 3.0


@dataclass(frozen=True)
class Hardware:
    """What the model needs to know about a machine. Rates are per effective core unless stated."""

    name: str
    cpu: CpuPeak
    clock_ghz: float
    logical_cpus: int
    accelerator: AcceleratorPeak | None = None
    accelerator_count: float = 0.0
    known_cpu: bool = True  #: False when the CPU generation was guessed from ISA flags

    def effective_cores(self, threads: int) -> float:
        """Physical cores' worth of GEMM throughput that ``threads`` threads get on this machine."""
        threads = max(1, min(threads, self.logical_cpus))
        physical = max(1.0, self.logical_cpus / self.cpu.threads_per_core)
        cores = min(float(threads), physical)
        return cores + HT_YIELD * max(0.0, threads - cores)

    def cpu_gops(self, threads: int, precision: str) -> float:
        """Effective peak giga-ops/s of ``threads`` threads: cores x parallel efficiency x clock x ops/cycle."""
        cores = self.effective_cores(threads)
        per_cycle = self.cpu.int8_ops_per_cycle if precision == "int8" else self.cpu.fp32_flops_per_cycle
        return cores / (1.0 + PARALLEL_LOSS * (cores - 1.0)) * self.clock_ghz * per_cycle

    def cpu_bandwidth_gbs(self, threads: int) -> float:
        """DRAM bandwidth share of ``threads`` threads (GB/s): effective cores x fair share per core."""
        return self.effective_cores(threads) * self.cpu.mem_bw_gbs_per_core

    @property
    def isa_tier(self) -> int:
        """0 AVX2/NEON, 1 AVX-512, 2 AVX-512 VNNI, 3 AMX: how far apart two CPUs' int8 paths are."""
        isa = set(self.cpu.isa)
        return 3 if "amx" in isa else 2 if "vnni" in isa else 1 if "avx512" in isa else 0


def cpu_from_machine(machine) -> tuple[str, float, bool]:
    """(generation, clock GHz, known) of a MachineInfo, from its model name, else from its ISA flags."""
    model = machine.cpu_model or ""
    for pattern, gen, clock in CPU_MODELS:
        if re.search(pattern, model, flags=re.I):
            return gen, clock, True
    flags = set(machine.cpu_flags)
    amd = "AMD" in model.upper()
    if "amx_tile" in flags or "amx_int8" in flags:
        return "sapphire-rapids", DEFAULT_CLOCK_GHZ, False
    if "avx512_vnni" in flags:
        return ("zen4" if amd else "ice-lake"), DEFAULT_CLOCK_GHZ, False
    if "avx512f" in flags:
        return "skylake-sp", DEFAULT_CLOCK_GHZ, False
    if "asimd" in flags or "sve" in flags:
        return "graviton2", 2.5, False
    return ("zen3" if amd else "broadwell"), DEFAULT_CLOCK_GHZ, False


def hardware_of_instance(info) -> Hardware:
    """Hardware of a catalog InstanceInfo."""
    cpu = cpu_peaks()[info.cpu or "broadwell"]
    acc = accelerator_peaks().get(info.accelerator_key) if info.accelerator_key else None
    return Hardware(info.name, cpu, info.clock_ghz or DEFAULT_CLOCK_GHZ, info.vcpus, acc, info.accelerator_count)


def hardware_of_machine(machine) -> Hardware:
    """Hardware of a measured machine (MachineInfo); a GPU named in it is matched to accelerator_peaks."""
    gen, clock, known = cpu_from_machine(machine)
    acc = None
    if machine.accelerator:
        table = accelerator_peaks()
        for key in sorted(table, key=len, reverse=True):
            if key.lower() in machine.accelerator.lower():
                acc = table[key]
                break
    return Hardware(machine.describe(), cpu_peaks()[gen], clock, machine.logical_cores, acc, 1.0 if acc else 0.0, known)


def instance_of_machine(machine):
    """A catalog-style InstanceInfo describing a measured machine (e.g. the local CPU), for estimates on it."""
    from toolkit.pricing.hardware import cpu_peaks as _peaks
    from toolkit.pricing.catalog import InstanceInfo

    gen, clock, _ = cpu_from_machine(machine)
    return InstanceInfo(
        name=machine.instance_type or f"local ({machine.describe()})", platform="local", family="local",
        vcpus=machine.logical_cores, memory_gib=machine.memory_gib or 0.0, accelerator=None, accelerator_count=0.0,
        accelerator_memory_gib=0.0, cpu_isa=list(_peaks()[gen].isa), cpu=gen, clock_ghz=clock,
    )
