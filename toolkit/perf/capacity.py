"""Per-instance capacity under an SLA: a measured profile when there is one, else a calibrated estimate.

``estimate_capacity(variant, instance, sla_percentile, sla_ms, profiles, local, seq_len=...)`` returns
either a :class:`CapacityEstimate` (latency per batch size, highest request rate at the SLA percentile,
saturation, an uncertainty band, and a ``Measured``/``Estimated`` provenance) or an
:class:`Exclusion` saying why the instance type cannot run the variant.

From batch latency to request rate (dynamic batching, one queue per model instance): a request that
arrives while a batch of ``b`` runs waits for it, then runs in the next one. Its latency at
percentile q is about ``t(b) * tail_q * (1 + q)`` (the wait is uniform over one batch time; ``tail_q``
is the measured p95/p50 spread). With a mix of request lengths (``seq_len`` a
:class:`~toolkit.perf.lengths.Lengths`) a batch costs what its longest member costs and the rule is
applied to that distribution (:mod:`toolkit.perf.mixture`). The highest rate at the SLA is the best
``b / t(b)`` over batch sizes that keep this under the SLA, times the model instances on the machine,
times :data:`MAX_UTILISATION` (beyond it queueing delay grows without bound). The band of a CPU
estimate comes from :mod:`toolkit.perf.band`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass, field

import numpy as np

from toolkit.artifacts.common import Estimated, MachineInfo, Measured
from toolkit.perf import mixture
from toolkit.perf.band import MAX_UNCERTAINTY, cpu_band
from toolkit.perf.exclusions import Exclusion, exclusion_reason
from toolkit.perf.hardware import Hardware, hardware_of_instance, hardware_of_machine
from toolkit.perf.lengths import Lengths
from toolkit.perf.measured import measured_rps_at_sla, round_spread, same_type, saturation, suspect_note
from toolkit.perf.model import GPU_COMPUTE_EFFICIENCY, cpu_scale, fit_cpu, gpu_latency_ms, log_distance

__all__ = ["BATCHES", "CapacityEstimate", "Exclusion", "MAX_UNCERTAINTY", "MAX_UTILISATION", "QUANTILE", "estimate_capacity",
           "exclusion_reason", "measured_rps_at_sla"]

BATCHES = (1, 2, 4, 8, 16, 32, 64)
MAX_UTILISATION = 0.85
QUANTILE = {"p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99}
CPU_THREADS_PER_INSTANCE = 8  # above 16 vCPUs, Triton runs one model instance per 8 vCPUs
GPU_UNCERTAINTY = 0.5  # no GPU measurement: the assumed efficiencies of model.py, unchecked here
CPU_MODEL = "additive roofline (weights/bandwidth + FLOPs/peak) calibrated on"


@dataclass(frozen=True)
class CapacityEstimate:
    """Capacity of ONE instance of ``instance_type`` for one variant under one SLA.

    ``max_rps_at_sla``: highest request rate (requests/s) at which the SLA percentile holds;
    ``saturation_rps``: highest throughput at any latency; ``latency_ms_by_batch``: mean service time
    of a batch of that many requests at the request-length mix; ``low_rps``/``high_rps``: the band
    around ``max_rps_at_sla`` (equal to it when measured). ``provenance`` is ``Measured`` or
    ``Estimated`` (whose ``band`` says how the band was derived). ``seq_len``: the longest request
    length; ``mean_tokens`` and ``lengths`` (one sentence) say which mix of lengths was used.
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
    mean_tokens: float | None = None
    lengths: str = ""

    @property
    def uncertainty(self) -> float:
        return getattr(self.provenance, "uncertainty", 0.0)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["provenance"] = self.provenance.model_dump()
        d["latency_ms_by_batch"] = {str(k): v for k, v in self.latency_ms_by_batch.items()}
        d["notes"] = list(self.notes)
        return d


# ---- the rule ------------------------------------------------------------------------------------
def _tail(sla_percentile: str, tail95: float) -> float:
    q = QUANTILE[sla_percentile]
    if q <= 0.5:
        return 1.0
    # interpolate the measured p95/p50 spread on a log scale of (1-q); p99 extrapolates
    frac = math.log(0.5 / (1 - q)) / math.log(0.5 / 0.05)
    return 1.0 + (tail95 - 1.0) * frac


def _capacity(times, instances: int, sla_percentile: str, sla_ms: float, tail95: float) -> tuple[float, float, int | None]:
    return mixture.capacity(times, instances, QUANTILE[sla_percentile], sla_ms, _tail(sla_percentile, tail95), MAX_UTILISATION)


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


def _bench_lengths(prof, lengths: Lengths) -> Lengths:
    """The length mix a bench profile was measured at: its texts' when counted (already truncated by the served
    tokenizer), else the traffic's."""
    st = getattr(prof, "text_tokens", None)
    if st is None or not st.histogram:
        return lengths
    cap = max(st.histogram)
    return Lengths.from_counts(st.histogram, cap, "bench", "").padded(st.pad_to_multiple_of, max(cap, lengths.max))


def _as_lengths(seq_len, points) -> Lengths:
    if isinstance(seq_len, Lengths):
        return seq_len
    return Lengths.point(int(seq_len or max((p[1] for p in points), default=128)))


# ---- the estimate --------------------------------------------------------------------------------
def estimate_capacity(
    variant,
    instance,
    sla_percentile: str,
    sla_ms: float,
    profiles: list | None = None,
    local: MachineInfo | None = None,
    *,
    seq_len: int | Lengths | None = None,
) -> CapacityEstimate | Exclusion:
    """Capacity of one ``instance`` (InstanceInfo) for ``variant`` (Variant) at ``sla_percentile`` <= ``sla_ms``.

    ``profiles``: measured load profiles (profiles.json); one for this variant on this instance type
    wins outright; one measured on the local machine rescales the CPU estimate to served throughput.
    ``local``: the machine the variant's latency points were measured on (VariantsFile.machine);
    defaults to this machine. ``seq_len``: tokens per request, or a :class:`Lengths` mix of them
    (:func:`toolkit.perf.lengths.traffic_lengths`); default: the longest measured shape.
    """
    if sla_percentile not in QUANTILE:
        from toolkit.errors import InputError

        raise InputError(f"unknown SLA percentile '{sla_percentile}'", hint=f"choose one of: {', '.join(QUANTILE)}")
    reason = exclusion_reason(variant, instance)
    if reason:
        return Exclusion(instance.name, reason, variant.name)
    profiles = [p for p in (profiles or []) if p.variant == variant.name]
    lengths = _as_lengths(seq_len, _local_points(variant))

    # 1. a measured profile on this very instance type wins
    for prof in profiles:
        if same_type(prof.machine.instance_type, instance.name):
            rps = measured_rps_at_sla(prof, sla_percentile, sla_ms)
            if rps is None:
                continue
            where = prof.machine.describe() + ("" if prof.machine.instance_type == instance.name else f" (same hardware as {instance.name})")
            est = _estimate(variant, instance, sla_percentile, sla_ms, profiles, local, lengths, notes=[])
            lat = est.latency_ms_by_batch if isinstance(est, CapacityEstimate) else {}
            notes = ["measured by leanserve bench against " + prof.target]
            if suspect_note(prof):
                notes.append(suspect_note(prof))
            measured_at = _bench_lengths(prof, lengths)
            if measured_at is not lengths and abs(measured_at.mean - lengths.mean) > 0.1 * lengths.mean:
                notes.append(f"measured with bench texts of {measured_at.describe()}; the traffic's are {lengths.describe()}")
            return CapacityEstimate(
                instance.name, rps, saturation(prof), lat, rps, rps, Measured(where=where), variant.name, lengths.max, None,
                prof.instance_count, tuple(notes), mean_tokens=round(measured_at.mean, 2), lengths=lengths.note,
            )
    return _estimate(variant, instance, sla_percentile, sla_ms, profiles, local, lengths, [])


def _estimate(variant, instance, sla_percentile, sla_ms, profiles, local, lengths: Lengths, notes) -> CapacityEstimate | Exclusion:
    points = _local_points(variant)
    hw = hardware_of_instance(instance)
    local = local or _this_machine()
    local_hw = hardware_of_machine(local)
    ref_seq = max((p[1] for p in points), default=128)
    gf_token, gf_known = _gflops_per_token(variant, ref_seq)
    precision = variant.precision

    if instance.accelerator:  # GPU roofline, optionally calibrated by a measured GPU profile
        def gpu_service(target):
            return lambda b, ls: np.array([gpu_latency_ms(target, b * x, gf_token, variant.size_bytes, precision, variant.num_layers) for x in ls])

        times = mixture.batch_times(gpu_service(hw), lengths, BATCHES)
        count = max(1, int(instance.accelerator_count))
        scale, u, basis = 1.0, GPU_UNCERTAINTY, "assumed GPU efficiencies (no GPU measurement)"
        band = f"no GPU measurement to check the assumed efficiencies against: default ±{GPU_UNCERTAINTY:.0%}"
        for prof in profiles:
            m = prof.machine
            if m.accelerator and prof.machine.instance_type and not same_type(m.instance_type, instance.name):
                src_hw = hardware_of_machine(m)
                if src_hw.accelerator is None:
                    continue
                src_times = mixture.batch_times(gpu_service(src_hw), _bench_lengths(prof, lengths), BATCHES)
                _, modeled_sat, _ = _capacity(src_times, prof.instance_count, sla_percentile, sla_ms, 1.3)
                if modeled_sat > 0 and saturation(prof) > 0:
                    scale = saturation(prof) / modeled_sat
                    peak = lambda a: (a.fp16_tflops if precision == "fp16" else a.fp32_tflops) or 1.0  # noqa: E731
                    u = 0.2 + 0.15 * log_distance(peak(src_hw.accelerator), peak(hw.accelerator))
                    basis = f"calibrated on the measured profile on {m.describe()}"
                    band = (f"one measured GPU profile ({m.describe()}): ±20% + 0.15 x |ln peak ratio| to {hw.accelerator.accelerator if hw.accelerator else instance.name}"
                            f" = ±{u:.0%}")
                    break
        times = mixture.scaled(times, scale)
        if hw.accelerator and hw.accelerator.confidence == "low":
            u += 0.1
            band += "; +10%: low-confidence peak figures for this GPU"
        if not gf_known:
            u += 0.2
            band += "; +20%: FLOPs per token guessed from the model size"
        tail = 1.3
        max_rps, sat, best_b = _capacity(times, count, sla_percentile, sla_ms, tail)
        model = f"GPU roofline ({precision}, {GPU_COMPUTE_EFFICIENCY[precision]:.0%} of peak compute) {basis}"
        instances = count
        if u > MAX_UNCERTAINTY:
            band += f"; capped at ±{MAX_UNCERTAINTY:.0%}"
        u = round(min(MAX_UNCERTAINTY, u), 3)
    else:
        if not points:
            return Exclusion(instance.name, f"no latency measurement of variant '{variant.name}' to calibrate on (run leanserve compress or bench)", variant.name)
        cal = fit_cpu(local_hw, points)
        threads, instances = _cpu_layout(hw)
        a, k = cpu_scale(cal, hw, threads, precision)
        times = mixture.batch_times(lambda b, ls: a + b * ls * k, lengths, BATCHES)
        tail = cal.tail_ratio
        spread = None
        # a bench profile measured on the calibration machine rescales in-process latency to served throughput
        for prof in profiles:
            if not prof.machine.instance_type and not prof.machine.accelerator and prof.machine.cpu_model == local.cpu_model:
                threads_l, _ = _cpu_layout(local_hw)
                a_l, k_l = cpu_scale(cal, local_hw, threads_l, precision)
                at = _bench_lengths(prof, lengths)
                times_l = mixture.batch_times(lambda b, ls: a_l + b * ls * k_l, at, BATCHES)
                modeled, _, _ = _capacity(times_l, prof.instance_count, sla_percentile, sla_ms, tail)
                measured = measured_rps_at_sla(prof, sla_percentile, sla_ms)
                if modeled > 0 and measured:
                    factor = measured / modeled
                    times = mixture.scaled(times, factor)
                    where = "its texts' token lengths" if at is not lengths else "the traffic's request lengths (the bench texts were not counted)"
                    notes.append(f"scaled by {factor:.2f}: served throughput measured by bench on {local.describe()} / in-process model "
                                 f"at {where}")
                    if suspect_note(prof):
                        notes.append(suspect_note(prof))
                    spread = round_spread(prof, sla_percentile, sla_ms)
                    break
        u, band = cpu_band(cal, hw, threads, precision, spread)
        if not gf_known:
            notes.append("gflops_per_item unknown: FLOPs guessed from size (2 per parameter per token)")
        model = f"{CPU_MODEL} {local.describe()} ({cal.threads} threads)"
        if cal.fit_note:
            notes.append(cal.fit_note)
        max_rps, sat, best_b = _capacity(times, instances, sla_percentile, sla_ms, tail)
        if instances > 1:
            notes.append(f"{instances} model instances x {threads} threads")

    at_sla = mixture.at_sla_ms(times[1], QUANTILE[sla_percentile], _tail(sla_percentile, tail))
    lat = {b: mixture.mean_ms(t) for b, t in times.items()}
    if max_rps == 0:
        notes.append(f"even batch 1 misses {sla_percentile} <= {sla_ms:g} ms (batch 1 runs in {lat[1]:.1f} ms; with the wait for the "
                     f"batch in progress and the measured tail, its {sla_percentile} is {at_sla:.1f} ms)")
    lat = {b: round(t, 4) for b, t in lat.items()}
    return CapacityEstimate(
        instance.name, max_rps, sat, lat, max_rps * (1 - u), max_rps * (1 + u), Estimated(model=model, uncertainty=u, band=band),
        variant.name, lengths.max, best_b, instances, tuple(notes), round(at_sla, 3), round(lengths.mean, 2), lengths.note,
    )
