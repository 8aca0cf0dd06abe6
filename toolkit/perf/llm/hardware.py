"""Devices for the token-level model: a GPU (per-GPU peaks, memory, interconnect) or a CPU host.

Sources: ``toolkit/data/accelerator_peaks.csv`` (dense fp16 TFLOPS, int8 TOPS, bandwidth, memory,
read through :mod:`toolkit.pricing.hardware`), ``accelerator_llm_extras.csv`` (compute capability,
bf16, dense FP8 TFLOPS, and an fp16 override where a measurement contradicts the peak table) and ``llm_interconnect.csv`` (per instance family: NVLink or PCIe, GB/s per
direction per GPU, and the all-reduce latency the model assumes). Every row cites its source.

CUDA reports about 1% less memory than the datasheet (an 80 GB A100 shows 79.2 GiB), so the usable
memory is :data:`CUDA_VISIBLE_FRACTION` of ``memory_gib``.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass, field, replace

from toolkit.errors import InputError
from toolkit.pricing.hardware import accelerator_peaks
from toolkit.pricing.rows import DATA_DIR
from toolkit.suggest import did_you_mean

CUDA_VISIBLE_FRACTION = 0.99
DEFAULT_LINK = ("pcie4", 32.0, 25.0)  # an instance family without a row: PCIe Gen4, 32 GB/s per direction, 25 us


@dataclass(frozen=True)
class Device:
    """One accelerator type as the engine sees it (per-GPU figures), or a CPU host (kind='cpu')."""

    name: str  #: instance type or accelerator name
    accelerator: str  #: accelerator key (A10G, H100, ...) or the CPU generation
    kind: str = "gpu"  #: gpu | cpu
    count: int = 1  #: GPUs on the instance (1 for a CPU host)
    memory_gib: float = 0.0  #: per GPU (datasheet), or the host's RAM
    mem_bw_gbs: float = 0.0  #: per GPU, or the host's DRAM bandwidth share
    peak_tflops: dict[str, float] = field(default_factory=dict, hash=False)  #: dense peaks: fp16, fp8, int8, fp32
    compute_capability: float | None = None
    bf16: bool = True
    link: str = "none"  #: nvlink4, pcie4, ... between the GPUs of the instance
    link_gbs: float = 0.0  #: GB/s per direction per GPU
    link_latency_us: float = 0.0  #: latency of one small all-reduce (model assumption, cited in the CSV)
    sources: str = ""

    @property
    def usable_memory_gib(self) -> float:
        return self.memory_gib * (CUDA_VISIBLE_FRACTION if self.kind == "gpu" else 1.0)

    def peak_flops(self, compute: str) -> float:
        """Dense peak FLOP/s (or OP/s) of one device for a compute dtype; fp16 when the dtype has none."""
        tf = self.peak_tflops.get(compute) or self.peak_tflops.get("fp16") or self.peak_tflops.get("fp32") or 0.0
        return tf * 1e12

    @property
    def bandwidth(self) -> float:
        """Memory bandwidth in bytes/s."""
        return self.mem_bw_gbs * 1e9

    def with_bandwidth(self, factor: float) -> Device:
        """The same device with its memory bandwidth scaled (what-if analyses and tests)."""
        return replace(self, mem_bw_gbs=self.mem_bw_gbs * factor)

    def describe(self) -> str:
        if self.kind == "cpu":
            return f"{self.name} (CPU, {self.mem_bw_gbs:.0f} GB/s)"
        link = f", {self.link} {self.link_gbs:g} GB/s" if self.count > 1 else ""
        return f"{self.name} ({self.count} x {self.accelerator}, {self.memory_gib:g} GiB, {self.mem_bw_gbs:g} GB/s{link})"


@functools.lru_cache(maxsize=1)
def _extras() -> dict[str, dict[str, str]]:
    with open(DATA_DIR / "accelerator_llm_extras.csv", newline="", encoding="utf-8") as fh:
        return {r["accelerator"]: r for r in csv.DictReader(fh)}


@functools.lru_cache(maxsize=1)
def interconnects() -> dict[str, dict[str, str]]:
    """Rows of ``llm_interconnect.csv`` by instance family."""
    with open(DATA_DIR / "llm_interconnect.csv", newline="", encoding="utf-8") as fh:
        return {r["family"]: r for r in csv.DictReader(fh)}


def gpu(accelerator: str, count: int = 1, family: str | None = None, name: str | None = None) -> Device:
    """A GPU device from the peak tables (``accelerator`` is a key of accelerator_peaks.csv)."""
    peaks = accelerator_peaks()
    if accelerator not in peaks:
        raise InputError(f"unknown accelerator '{accelerator}'{did_you_mean(accelerator, peaks)}",
                         hint=f"use one of: {', '.join(sorted(peaks))}")
    p = peaks[accelerator]
    ex = _extras().get(accelerator, {})
    link_row = interconnects().get(family or "")
    link, gbs, lat = (link_row["link"], float(link_row["gbs_per_direction"]), float(link_row["allreduce_latency_us"])) if link_row else DEFAULT_LINK
    tflops = {"fp16": p.fp16_tflops or 0.0, "int8": p.int8_tops or 0.0, "fp32": p.fp32_tflops or 0.0}
    if ex.get("fp16_tflops"):  # an LLM-specific override, justified in the CSV's notes
        tflops["fp16"] = float(ex["fp16_tflops"])
    if ex.get("fp8_tflops"):
        tflops["fp8"] = float(ex["fp8_tflops"])
    cc = float(ex["compute_capability"]) if ex.get("compute_capability") else (None if p.runtime != "cuda" else 7.0)
    sources = "; ".join(s for s in (p.sources, ex.get("sources", ""), link_row["sources"] if link_row else "") if s)
    return Device(name or accelerator, accelerator, "gpu", int(count), p.memory_gib, p.mem_bw_gbs, tflops, cc,
                  ex.get("bf16", "true").lower() == "true", link, gbs, lat, sources)


def for_instance(info) -> Device:
    """The Device of a catalog :class:`toolkit.pricing.InstanceInfo` (GPU instances and CPU-only ones)."""
    if info.accelerator_count and info.accelerator_count < 1:
        raise InputError(f"{info.name} is a fractional GPU partition ({info.accelerator_count:g} {info.accelerator}); not modelled",
                         hint="pick a whole-GPU instance type")
    if info.accelerator_key:  # GPUs, and accelerators vLLM's CUDA path cannot use (formats.support says why)
        dev = gpu(info.accelerator_key, max(1, round(info.accelerator_count or 1)), info.family, info.name)
        per_gpu = info.memory_per_accelerator_gib
        return replace(dev, memory_gib=per_gpu) if per_gpu else dev
    if info.accelerator:
        raise InputError(f"{info.name} carries {info.accelerator}, which the model does not know",
                         hint="add it to toolkit/data/accelerator_peaks.csv and accelerator_llm_extras.csv")
    return cpu_for_instance(info)


def cpu_for_instance(info, threads: int | None = None) -> Device:
    """A CPU host: fp32 / int8 peaks and DRAM bandwidth share of ``threads`` (default all vCPUs)."""
    from toolkit.perf.hardware import hardware_of_instance

    hw = hardware_of_instance(info)
    n = threads or info.vcpus
    return cpu(info.name, hw.cpu_gops(n, "fp32"), hw.cpu_gops(n, "int8"), hw.cpu_bandwidth_gbs(n), info.memory_gib,
               accelerator=hw.cpu.cpu, sources=hw.cpu.sources)


def cpu(name: str, fp32_gflops: float, int8_gops: float, bw_gbs: float, memory_gib: float, accelerator: str = "cpu",
        sources: str = "") -> Device:
    """A CPU device from its effective peaks (GFLOP/s, GOP/s) and DRAM bandwidth (GB/s)."""
    return Device(name, accelerator, "cpu", 1, memory_gib, bw_gbs, {"fp32": fp32_gflops / 1e3, "int8": int8_gops / 1e3},
                  None, False, "none", 0.0, 0.0, sources)
