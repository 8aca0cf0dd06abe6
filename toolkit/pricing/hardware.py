"""Peak figures of CPUs and accelerators, and which instance family carries which (toolkit/data).

Three hand-maintained tables, each row with its sources:
- ``instance_families.csv``: family -> host CPU generation, its sustained clock (GHz), accelerator kind;
- ``cpu_peaks.csv``: per physical core, fp32 FLOP/cycle and best int8 op/cycle of the vector/matrix
  ISA (AVX2, AVX-512, VNNI, AMX, NEON dot product), threads per core, and a fair share of the socket's
  memory bandwidth per core (GB/s);
- ``accelerator_peaks.csv``: per device, dense fp32/fp16 TFLOPS, int8 TOPS, memory bandwidth (GB/s),
  memory (GiB), and the runtime it needs (cuda, neuron, none).
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass

from toolkit.pricing.rows import DATA_DIR


@dataclass(frozen=True)
class FamilyRow:
    """An instance family: its host CPU generation (key into cpu_peaks), clock in GHz, accelerator key."""

    family: str
    cpu: str
    clock_ghz: float
    accelerator_peaks: str  #: key into accelerator_peaks.csv, empty for CPU-only families
    sources: str
    notes: str


@dataclass(frozen=True)
class CpuPeak:
    """Peak figures of one CPU core generation.

    ``fp32_flops_per_cycle`` and ``int8_ops_per_cycle`` are per physical core (an FMA counts as 2);
    ``mem_bw_gbs_per_core`` is the socket's DRAM bandwidth divided by its cores (GB/s).
    """

    cpu: str
    vendor: str
    isa: tuple[str, ...]
    fp32_flops_per_cycle: float
    int8_ops_per_cycle: float
    threads_per_core: int
    mem_bw_gbs_per_core: float
    sources: str
    confidence: str
    notes: str


@dataclass(frozen=True)
class AcceleratorPeak:
    """Peak figures of one accelerator device: dense TFLOPS/TOPS, memory bandwidth GB/s, memory GiB."""

    accelerator: str
    vendor: str
    runtime: str  #: cuda | neuron | none
    fp32_tflops: float | None
    fp16_tflops: float | None
    int8_tops: float | None
    mem_bw_gbs: float
    memory_gib: float
    sources: str
    confidence: str
    notes: str


def _num(text: str) -> float | None:
    text = text.strip()
    return float(text) if text else None


def _read(name: str) -> list[dict[str, str]]:
    with open(DATA_DIR / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@functools.lru_cache(maxsize=1)
def families() -> dict[str, FamilyRow]:
    return {
        r["family"]: FamilyRow(r["family"], r["cpu"], float(r["clock_ghz"]), r["accelerator_peaks"], r["sources"], r["notes"])
        for r in _read("instance_families.csv")
    }


@functools.lru_cache(maxsize=1)
def cpu_peaks() -> dict[str, CpuPeak]:
    return {
        r["cpu"]: CpuPeak(
            r["cpu"], r["vendor"], tuple(x for x in r["isa"].split(";") if x), float(r["fp32_flops_per_cycle"]),
            float(r["int8_ops_per_cycle"]), int(r["threads_per_core"]), float(r["mem_bw_gbs_per_core"]),
            r["sources"], r["confidence"], r["notes"],
        )
        for r in _read("cpu_peaks.csv")
    }


@functools.lru_cache(maxsize=1)
def accelerator_peaks() -> dict[str, AcceleratorPeak]:
    return {
        r["accelerator"]: AcceleratorPeak(
            r["accelerator"], r["vendor"], r["runtime"], _num(r["fp32_tflops"]), _num(r["fp16_tflops"]), _num(r["int8_tops"]),
            float(r["mem_bw_gbs"]), float(r["memory_gib"]), r["sources"], r["confidence"], r["notes"],
        )
        for r in _read("accelerator_peaks.csv")
    }
