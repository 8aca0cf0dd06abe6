"""Per-instance capacity under an SLA: a measured profile when there is one, else a calibrated estimate.

``estimate_capacity(variant, instance, sla_percentile, sla_ms, profiles, local)`` returns either a
:class:`CapacityEstimate` (latency per batch size, highest request rate at the SLA percentile,
saturation, an uncertainty band, and a ``Measured``/``Estimated`` provenance) or an
:class:`Exclusion` saying why the instance type cannot run the variant.

From batch latency to request rate (dynamic batching, one queue per model instance): a request that
arrives while a batch of ``b`` runs waits for it, then runs in the next one. Its latency at
percentile q is about ``t(b) * tail_q * (1 + q)`` (the wait is uniform over one batch time; ``tail_q``
is the measured p95/p50 spread). The highest rate at the SLA is the best ``b / t(b)`` over batch sizes
that keep this under the SLA, times the model instances on the machine, times
:data:`MAX_UTILISATION` (beyond it queueing delay grows without bound).
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass, field

from toolkit.artifacts.common import Estimated, MachineInfo, Measured
from toolkit.perf.hardware import Hardware, hardware_of_instance, hardware_of_machine
from toolkit.perf.model import (
    GPU_COMPUTE_EFFICIENCY,
    CpuCalibration,
    cpu_scale,
    fit_cpu,
    gpu_latency_ms,
    log_distance,
)

BATCHES = (1, 2, 4, 8, 16, 32, 64)
MAX_UTILISATION = 0.85
QUANTILE = {"p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99}
CPU_THREADS_PER_INSTANCE = 8  # above 16 vCPUs, Triton runs one model instance per 8 vCPUs
BASE_UNCERTAINTY = 0.10  # the model's error at the calibration point (run-to-run noise of a measurement)
MAX_UNCERTAINTY = 0.9
CPU_MODEL = "additive roofline (weights/bandwidth + FLOPs/peak) calibrated on"


@dataclass(frozen=True)
class Exclusion:
    """An instance type that cannot run the variant, and why."""

    instance_type: str
    reason: str
    variant: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class CapacityEstimate:
    """Capacity of ONE instance of ``instance_type`` for one variant under one SLA.

    ``max_rps_at_sla``: highest request rate (requests/s) at which the SLA percentile holds;
    ``saturation_rps``: highest throughput at any latency; ``latency_ms_by_batch``: service time of a
    batch of that many sequences of ``seq_len`` tokens; ``low_rps``/``high_rps``: the band around
    ``max_rps_at_sla`` (equal to it when measured). ``provenance`` is ``Measured`` or ``Estimated``.
    """

    instance_type: str
    max_rps_at_sla: float
    saturation_rps: float
    latency_ms_by_batch: dict[int, float]
    low_rps: float
    high_rps: float
    provenance: Measured | Estimated
    variant: str = ""
    seq_len: int = 0
    best_batch: int | None = None
    model_instances: int = 1
    notes: tuple[str, ...] = field(default_factory=tuple)
    batch1_at_sla_ms: float | None = None  # a lone request's latency at the SLA percentile, by the rule _capacity applies

    @property
    def uncertainty(self) -> float:
        return getattr(self.provenance, "uncertainty", 0.0)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["provenance"] = self.provenance.model_dump()
        d["latency_ms_by_batch"] = {str(k): v for k, v in self.latency_ms_by_batch.items()}
        d["notes"] = list(self.notes)
        return d


# ---- exclusions ----------------------------------------------------------------------------------
def exclusion_reason(variant, instance) -> str | None:
    """Why ``instance`` cannot (sensibly) run ``variant``, or None."""
    acc = instance.accelerator
    size_gib = variant.size_bytes / 2**30
    if acc and acc.startswith("inferentia"):
        return (f"{instance.name} has AWS {acc.capitalize()} chips, which run only Neuron-compiled models "
                "(torch-neuronx); leanserve builds ONNX variants")
    if instance.accelerator_key and _acc_runtime(instance) == "none":
        return f"{instance.name} has a GPU ({acc}) without CUDA: Triton's GPU backends and onnxruntime-CUDA cannot use it"
    gpu = bool(acc)
    if gpu and instance.accelerator_count and instance.accelerator_count < 1:
        return f"{instance.name} is a fractional GPU partition ({instance.accelerator_count:g} {acc}); not modelled"
    if not gpu and variant.precision == "fp16":
        return f"fp16 variant '{variant.name}' is for GPUs: onnxruntime's CPU provider has no fast fp16 kernels"
    if gpu and variant.kind == "onnx-int8":
        return (f"int8 dynamic-quantized ONNX ('{variant.name}') is CPU-only: onnxruntime has no CUDA kernels for "
                "DynamicQuantizeLinear/MatMulInteger, so they would fall back to the host CPU and leave the GPU idle")
    if gpu and "gpu" not in variant.devices:
        return f"variant '{variant.name}' runs on CPU only (devices: {', '.join(variant.devices)}); a GPU instance would leave its GPU idle"
    if gpu:
        need = size_gib * 1.2 + 0.5  # weights + runtime workspace and activations
        per_dev = instance.memory_per_accelerator_gib
        if per_dev and need > per_dev:
            return f"model needs about {need:.1f} GiB of accelerator memory; {instance.name} has {per_dev:.1f} GiB per {acc}"
    need_host = size_gib * 3 + 1.0  # weights loaded by the runtime, a copy while loading, server and OS
    if instance.memory_gib and need_host > instance.memory_gib:
        return f"model needs about {need_host:.1f} GiB of RAM; {instance.name} has {instance.memory_gib:g} GiB"
    return None


def _acc_runtime(instance) -> str:
    from toolkit.pricing.hardware import accelerator_peaks

    peak = accelerator_peaks().get(instance.accelerator_key or "")
    return peak.runtime if peak else "cuda"


# ---- measured profiles ---------------------------------------------------------------------------
def _same_type(a: str | None, b: str) -> bool:
    if not a:
        return False
    strip = lambda n: n[3:] if n.startswith("ml.") else n  # noqa: E731
    return strip(a) == strip(b)


def measured_rps_at_sla(profile, sla_percentile: str, sla_ms: float) -> float | None:
    """Highest measured throughput of ``profile`` at which ``sla_percentile`` <= ``sla_ms``."""
    if profile.sla_percentile == sla_percentile and math.isclose(profile.sla_ms, sla_ms) and profile.max_rps_at_sla is not None:
        return profile.max_rps_at_sla
    key = f"{sla_percentile}_ms"
    good = [p.throughput_rps for p in profile.points if getattr(p, key) is not None and getattr(p, key) <= sla_ms and p.errors == 0]
    return max(good) if good else (0.0 if profile.points else None)


def _saturation(profile) -> float:
    if profile.saturation_rps is not None:
        return profile.saturation_rps
    return max((p.throughput_rps for p in profile.points), default=0.0)


# ---- the estimate --------------------------------------------------------------------------------
def _tail(sla_percentile: str, tail95: float) -> float:
    q = QUANTILE[sla_percentile]
    if q <= 0.5:
        return 1.0
    # interpolate the measured p95/p50 spread on a log scale of (1-q); p99 extrapolates
    frac = math.log(0.5 / (1 - q)) / math.log(0.5 / 0.05)
    return 1.0 + (tail95 - 1.0) * frac


def _capacity(latency: dict[int, float], instances: int, sla_percentile: str, sla_ms: float, tail95: float) -> tuple[float, float, int | None]:
    q = QUANTILE[sla_percentile]
    tail = _tail(sla_percentile, tail95)
    best, best_b = 0.0, None
    for b, t in latency.items():
        if t * tail * (1 + q) <= sla_ms:
            rate = b / t * 1000.0
            if rate > best:
                best, best_b = rate, b
    saturation = max(b / t * 1000.0 for b, t in latency.items()) * instances
    return best * instances * MAX_UTILISATION, saturation, best_b


def _cpu_layout(hw: Hardware) -> tuple[int, int]:
    """(threads per model instance, model instances) on a CPU machine."""
    if hw.logical_cpus <= 2 * CPU_THREADS_PER_INSTANCE:
        return hw.logical_cpus, 1
    return CPU_THREADS_PER_INSTANCE, hw.logical_cpus // CPU_THREADS_PER_INSTANCE


@functools.lru_cache(maxsize=1)
def _this_machine() -> MachineInfo:
    return MachineInfo.local()


def _local_points(variant) -> list[tuple[int, int, int, float, float]]:
    return [(p.batch, p.seq_len, p.threads, p.p50_ms, p.p95_ms) for p in variant.latency if p.p50_ms > 0]


def _gflops_per_token(variant, ref_seq: int) -> tuple[float, bool]:
    """(GFLOPs per token, known). ``gflops_per_item`` is for one sequence of ``ref_seq`` tokens."""
    if variant.gflops_per_item:
        return variant.gflops_per_item / ref_seq, True
    per_param = {"fp32": 4, "fp16": 2, "int8": 1}[variant.precision]
    params = variant.size_bytes / per_param
    return 2 * params / 1e9, False  # 2 FLOPs per parameter per token (an over-estimate: embeddings are lookups)


def _cpu_uncertainty(cal: CpuCalibration, hw: Hardware, threads: int, precision: str) -> float:
    src = cal.hardware
    prec = "int8" if precision == "int8" else "fp32"
    u = BASE_UNCERTAINTY
    u += 0.15 * log_distance(src.cpu_gops(cal.threads, prec), hw.cpu_gops(threads, prec))  # compute distance
    u += 0.10 * log_distance(float(cal.threads), float(threads))  # thread scaling
    u += 0.10 * abs(src.isa_tier - hw.isa_tier) * (1.0 if precision == "int8" else 0.3)  # different int8 paths
    u += 0.05 if src.cpu.vendor != hw.cpu.vendor else 0.0
    u += 0.10 if not src.known_cpu else 0.0  # clock and generation guessed from flags
    u += 0.05 if cal.fit_note else 0.0
    return min(MAX_UNCERTAINTY, u)


def estimate_capacity(
    variant,
    instance,
    sla_percentile: str,
    sla_ms: float,
    profiles: list | None = None,
    local: MachineInfo | None = None,
    *,
    seq_len: int | None = None,
) -> CapacityEstimate | Exclusion:
    """Capacity of one ``instance`` (InstanceInfo) for ``variant`` (Variant) at ``sla_percentile`` <= ``sla_ms``.

    ``profiles``: measured load profiles (profiles.json); one for this variant on this instance type
    wins outright; one measured on the local machine rescales the CPU estimate to served throughput.
    ``local``: the machine the variant's latency points were measured on (VariantsFile.machine);
    defaults to this machine. ``seq_len``: tokens per request (default: the longest measured shape).
    """
    if sla_percentile not in QUANTILE:
        from toolkit.errors import InputError

        raise InputError(f"unknown SLA percentile '{sla_percentile}'", hint=f"choose one of: {', '.join(QUANTILE)}")
    reason = exclusion_reason(variant, instance)
    if reason:
        return Exclusion(instance.name, reason, variant.name)
    profiles = [p for p in (profiles or []) if p.variant == variant.name]
    points = _local_points(variant)
    seq = seq_len or max((p[1] for p in points), default=128)
    notes: list[str] = []

    # 1. a measured profile on this very instance type wins
    for prof in profiles:
        if _same_type(prof.machine.instance_type, instance.name):
            rps = measured_rps_at_sla(prof, sla_percentile, sla_ms)
            if rps is None:
                continue
            where = prof.machine.describe() + ("" if prof.machine.instance_type == instance.name else f" (same hardware as {instance.name})")
            lat = {}
            est = _estimate(variant, instance, sla_percentile, sla_ms, profiles, local, seq, notes=[])
            if isinstance(est, CapacityEstimate):
                lat = est.latency_ms_by_batch
            return CapacityEstimate(
                instance.name, rps, _saturation(prof), lat, rps, rps, Measured(where=where), variant.name, seq, None,
                prof.instance_count, ("measured by leanserve bench against " + prof.target,),
            )
    return _estimate(variant, instance, sla_percentile, sla_ms, profiles, local, seq, notes)


def _estimate(variant, instance, sla_percentile, sla_ms, profiles, local, seq, notes) -> CapacityEstimate | Exclusion:
    points = _local_points(variant)
    hw = hardware_of_instance(instance)
    local = local or _this_machine()
    local_hw = hardware_of_machine(local)
    ref_seq = max((p[1] for p in points), default=128)
    gf_token, gf_known = _gflops_per_token(variant, ref_seq)
    precision = variant.precision

    if instance.accelerator:  # GPU roofline, optionally calibrated by a measured GPU profile
        if precision == "int8" and variant.kind != "onnx-int8-static":
            precision = "int8"
        lat = {b: gpu_latency_ms(hw, b * seq, gf_token, variant.size_bytes, precision, variant.num_layers) for b in BATCHES}
        count = max(1, int(instance.accelerator_count))
        scale, u, basis = 1.0, 0.5, "assumed GPU efficiencies (no GPU measurement)"
        for prof in profiles:
            m = prof.machine
            if m.accelerator and prof.machine.instance_type and not _same_type(m.instance_type, instance.name):
                src_hw = hardware_of_machine(m)
                if src_hw.accelerator is None:
                    continue
                src_lat = {b: gpu_latency_ms(src_hw, b * seq, gf_token, variant.size_bytes, precision, variant.num_layers) for b in BATCHES}
                _, modeled_sat, _ = _capacity(src_lat, prof.instance_count, sla_percentile, sla_ms, 1.3)
                if modeled_sat > 0 and _saturation(prof) > 0:
                    scale = _saturation(prof) / modeled_sat
                    peak = lambda a: (a.fp16_tflops if precision == "fp16" else a.fp32_tflops) or 1.0  # noqa: E731
                    u = 0.2 + 0.15 * log_distance(peak(src_hw.accelerator), peak(hw.accelerator))
                    basis = f"calibrated on the measured profile on {m.describe()}"
                    break
        lat = {b: t / scale for b, t in lat.items()}
        if hw.accelerator and hw.accelerator.confidence == "low":
            u += 0.1
        if not gf_known:
            u += 0.2
        tail = 1.3
        max_rps, sat, best_b = _capacity(lat, count, sla_percentile, sla_ms, tail)
        model = f"GPU roofline ({precision}, {GPU_COMPUTE_EFFICIENCY[precision]:.0%} of peak compute) {basis}"
        instances = count
    else:
        if not points:
            return Exclusion(instance.name, f"no latency measurement of variant '{variant.name}' to calibrate on (run leanserve compress or bench)", variant.name)
        cal = fit_cpu(local_hw, points)
        threads, instances = _cpu_layout(hw)
        a, k = cpu_scale(cal, hw, threads, precision)
        lat = {b: a + b * seq * k for b in BATCHES}
        u = _cpu_uncertainty(cal, hw, threads, precision)
        tail = cal.tail_ratio
        # a bench profile measured on the calibration machine rescales in-process latency to served throughput
        for prof in profiles:
            if not prof.machine.instance_type and not prof.machine.accelerator and prof.machine.cpu_model == local.cpu_model:
                threads_l, inst_l = _cpu_layout(local_hw)
                a_l, k_l = cpu_scale(cal, local_hw, threads_l, precision)
                lat_l = {b: a_l + b * seq * k_l for b in BATCHES}
                modeled, _, _ = _capacity(lat_l, prof.instance_count, sla_percentile, sla_ms, tail)
                measured = measured_rps_at_sla(prof, sla_percentile, sla_ms)
                if modeled > 0 and measured:
                    factor = measured / modeled
                    lat = {b: t / factor for b, t in lat.items()}
                    notes.append(f"scaled by {factor:.2f}: served throughput measured by bench on {local.describe()} / in-process model")
                    break
        if not gf_known:
            notes.append("gflops_per_item unknown: FLOPs guessed from size (2 per parameter per token)")
        model = f"{CPU_MODEL} {local.describe()} ({cal.threads} threads)"
        if cal.fit_note:
            notes.append(cal.fit_note)
        max_rps, sat, best_b = _capacity(lat, instances, sla_percentile, sla_ms, tail)
        if instances > 1:
            notes.append(f"{instances} model instances x {threads} threads")

    u = round(min(MAX_UNCERTAINTY, u), 3)
    at_sla = lat[1] * _tail(sla_percentile, tail) * (1 + QUANTILE[sla_percentile])
    if max_rps == 0:
        notes.append(f"even batch 1 misses {sla_percentile} <= {sla_ms:g} ms (batch 1 runs in {lat[1]:.1f} ms; with the wait for the "
                     f"batch in progress and the measured tail, its {sla_percentile} is {at_sla:.1f} ms)")
    lat = {b: round(t, 4) for b, t in lat.items()}
    return CapacityEstimate(
        instance.name, max_rps, sat, lat, max_rps * (1 - u), max_rps * (1 + u), Estimated(model=model, uncertainty=u),
        variant.name, seq, best_b, instances, tuple(notes), round(at_sla, 3),
    )
