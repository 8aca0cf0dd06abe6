"""Capacity of one instance type for a generative variant: its format, the best tensor-parallel degree, and why.

:func:`instance_estimate` answers the planner's question ``family.capacity(variant, instance, ...)`` for
LLMs with an :class:`LLMEstimate` (a :class:`toolkit.perf.CapacityEstimate` whose rates are requests/s
per instance, so the planner reads it like any other) or an :class:`toolkit.perf.Exclusion`:

- the format must run on the accelerator (:func:`toolkit.perf.llm.support`: the FP8 rule, Inferentia);
- the weights, reserve and one longest sequence must fit at some TP degree, else the exclusion says
  which accelerators would fit;
- an instance with ``G`` GPUs runs ``G // tp`` replicas; TP degrees that fit are simulated from the highest
  capacity ceiling (:func:`tp_ceiling`, a bound computed without simulating) down, and a degree whose
  ceiling is at most the best simulated rate is skipped: it cannot win.

One replica's capacity (a scheduler-simulation search, 0.15-0.5 s) depends on the accelerator, its
memory, the interconnect and TP, not on how many GPUs the instance has, so it is computed on a
TP-sized device and cached per process (and on disk, :mod:`toolkit.planner.llm_cache`): ``g5.xlarge`` ..
``g5.16xlarge`` (one A10G each) share one search.
The CPU path needs measured prefill/decode points of the variant (``variant.decoder_latency``, written by
compress); without them CPU instances are excluded with that reason.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, replace

from toolkit.errors import InputError
from toolkit.perf.capacity import CapacityEstimate
from toolkit.perf.exclusions import Exclusion

ARCHITECTURE_FORMATS = ("bf16", "fp8", "w4a16")  #: the GPU formats an architecture-only plan considers
_REPLICAS: dict[tuple, object] = {}
_CPU_FITS: dict[tuple, object] = {}
_CEILINGS: dict[tuple, float] = {}
_MAX_CACHE = 4096


@dataclass(frozen=True)
class LLMEstimate(CapacityEstimate):
    """A CapacityEstimate for an LLM instance: rates in requests/s per instance, plus the token-level details."""

    llm: object = None  #: toolkit.perf.llm.LLMCapacity at the chosen TP, scaled to the whole instance
    tp: int = 1
    fmt: str = ""
    output_tokens_per_s: float = 0.0
    tried: tuple[str, ...] = ()  #: one line per TP degree tried
    miss_ratio: float = 0.0  #: the SLA fails even for a lone request: worst value / limit (> 1)

    @property
    def miss(self) -> tuple[float, str] | None:
        """(score, why) for the nearest misses when the SLA fails even for a lone request; None otherwise."""
        if self.max_rps_at_sla > 0 or self.llm is None:
            return None
        ratio, key, value = _lone_miss(self.llm)
        fix = f"relax sla.{key} to >= {math.ceil(value)}, or allow a faster instance type or format" if key else "allow a faster instance type"
        return ratio - 1.0, f"{self.fmt} TP={self.tp}: {self.notes[0] if self.notes else self.llm.binding}: {fix}"

    def explain(self) -> list[str]:
        lines = list(dict.fromkeys(self.llm.explain())) if self.llm is not None else []  # a note may repeat the support line
        if len(self.tried) > 1:
            lines.append("TP degrees tried: " + "; ".join(self.tried))
        return lines


def variant_format(variant) -> str:
    """The model format a variant stores its weights in (its ``format`` field, else read from its name and kind)."""
    fmt = getattr(variant, "format", None)
    if fmt:
        return str(fmt)
    name = variant.name.lower()
    for key, fmt in (("fp8", "fp8"), ("w4a16", "w4a16"), ("awq", "w4a16"), ("gptq", "w4a16"), ("bf16", "bf16"),
                     ("int4", "int4"), ("int8", "int8"), ("fp16", "fp16")):
        if key in name:
            return fmt
    return "fp32" if "cpu" in getattr(variant, "devices", ["cpu"]) else "bf16"


def _device_key(device, tp: int) -> tuple:
    if device.kind == "cpu":
        return ("cpu", device.accelerator, round(device.peak_tflops.get("fp32", 0), 4), round(device.peak_tflops.get("int8", 0), 4),
                round(device.mem_bw_gbs, 3), round(device.memory_gib, 1))
    link = (device.link, device.link_gbs, device.link_latency_us) if tp > 1 else ()
    return ("gpu", device.accelerator, round(device.memory_gib, 2), device.mem_bw_gbs, tp, link)


def replica(arch, fmt: str, device, tp: int, ctx, calibration=None):
    """One replica's LLMCapacity at TP=``tp`` (on a ``tp``-GPU device of the same kind), cached per process."""
    from toolkit.perf.llm.capacity import capacity_per_instance
    from toolkit.planner.llm_cache import load, store

    key = (arch, fmt, _device_key(device, tp), ctx.traffic, ctx.constraints, calibration.model_dump_json() if calibration else None)
    hit = _REPLICAS.get(key)
    if hit is None:
        hit = load(key)
    if hit is None:
        one = device if device.kind == "cpu" else replace(device, count=tp, name=f"{device.accelerator} x{tp}")
        hit = capacity_per_instance(arch, fmt, one, tp, traffic=ctx.traffic, constraints=list(ctx.constraints), calibration=calibration)
        store(key, hit)
    if len(_REPLICAS) > _MAX_CACHE:
        _REPLICAS.clear()
    _REPLICAS[key] = hit
    return hit


def _scaled(rep, info, device, tp: int):
    """A replica's LLMCapacity as the whole instance: ``G // tp`` replicas, the instance's name."""
    n = max(1, device.count // tp) if device.kind == "gpu" else 1
    return replace(rep, hardware=info.name, replicas=n, requests_per_s=rep.requests_per_s * n,
                   output_tokens_per_s=rep.output_tokens_per_s * n, low_rps=rep.low_rps * n, high_rps=rep.high_rps * n)


@functools.lru_cache(maxsize=64)
def _reference_gpus() -> tuple:
    """One 8-GPU device of every CUDA accelerator the peak tables know (for 'which accelerator would fit')."""
    from toolkit.perf.llm.calibration import FAMILY_OF
    from toolkit.perf.llm.hardware import gpu
    from toolkit.pricing.hardware import accelerator_peaks

    out = []
    for acc, p in sorted(accelerator_peaks().items(), key=lambda kv: (kv[1].memory_gib or 0, kv[0])):
        if p.runtime == "cuda" and p.memory_gib:
            out.append(gpu(acc, 8, FAMILY_OF.get(acc), name=f"{acc} x8"))
    return tuple(out)


def _memory_fits(arch, fmt, device, tps, ctx) -> list[int]:
    from toolkit.perf.llm.capacity import EngineLimits
    from toolkit.perf.llm.memory import plan_memory

    lim = EngineLimits()
    seq = ctx.traffic.prompt.upper + ctx.traffic.output.upper
    return [tp for tp in tps if plan_memory(arch, fmt, device, tp, gpu_memory_utilization=lim.gpu_memory_utilization, seq_tokens=seq,
                                            max_num_seqs=lim.max_num_seqs, max_num_batched_tokens=lim.max_num_batched_tokens).fits]


def fit_reason(arch, fmt: str, device, ctx) -> str:
    """Why nothing fits on ``device``, and which accelerators would (at which TP)."""
    from toolkit.perf.llm.capacity import EngineLimits
    from toolkit.perf.llm.memory import fit_message, plan_memory

    lim = EngineLimits()
    seq = ctx.traffic.prompt.upper + ctx.traffic.output.upper
    kw = {"gpu_memory_utilization": lim.gpu_memory_utilization, "seq_tokens": seq, "max_num_seqs": lim.max_num_seqs,
          "max_num_batched_tokens": lim.max_num_batched_tokens}
    top = max(tp for tp in [1, 2, 4, 8] if tp <= max(1, device.count))
    here = plan_memory(arch, fmt, device, top, **kw).describe()
    others = fit_message(arch, fmt, list(_reference_gpus()), **kw)
    tail = others.split("; fits ", 1)[1] if "; fits " in others else "no single 8-GPU instance"
    return f"memory: {here}; would fit: {tail}"


def served_points(profiles, variant, machine) -> list:
    """The token bench's served figures of ``variant`` on ``machine`` (``profiles``: profiles.json's ``token_profiles``) as held-out CPU
    points: ITL p50 at concurrency c as a decode step of batch c at a mid-stream context, TTFT p50 at concurrency 1 as
    the prefill of the mean prompt. The fit never sees them; their errors widen the band."""
    from toolkit.perf.llm.calibration import CpuPoint

    out = []
    for tp in profiles or []:
        m = tp.machine
        if tp.variant != variant.name or m.cpu_model != machine.cpu_model or m.logical_cores != machine.logical_cores:
            continue
        prompt = float(tp.shapes.prompt_tokens.mean or 0)
        output = float(tp.shapes.output_tokens.mean or 0)
        for pt in tp.points:
            c = pt.concurrency
            if pt.mode != "closed" or not c or pt.errors or prompt <= 0:
                continue
            if pt.itl_ms.p50:
                out.append(CpuPoint(kind="decode", ms=float(pt.itl_ms.p50), batch=int(c), context=max(1, int(prompt + output / 2)),
                                    split="holdout", id=f"served-itl-c{c}"))
            if c == 1 and pt.ttft_ms.p50:
                out.append(CpuPoint(kind="prefill", ms=float(pt.ttft_ms.p50), tokens=max(1, int(prompt)), split="holdout", id="served-ttft-c1"))
    return out


def cpu_calibration(variant, arch, fmt: str, machine, target, served: list | None = None):
    """(Calibration, band note) fitted on the variant's measured CPU prefill/decode points, or (None, why). ``served``:
    held-out points from the token bench (:func:`served_points`), scored but not fitted."""
    lat = getattr(variant, "decoder_latency", None)
    if lat is None:
        return None, (f"no measured CPU prefill/decode figures for '{variant.name}' to calibrate the CPU path "
                      "(compress measures them for a model with weights)")
    from toolkit.perf.band import transfer
    from toolkit.perf.hardware import hardware_of_instance, hardware_of_machine
    from toolkit.perf.llm.calibration import CpuPoint, fit_cpu
    from toolkit.perf.llm.hardware import cpu

    get = (lambda k: lat.get(k)) if isinstance(lat, dict) else (lambda k: getattr(lat, k, None))
    prompt, threads = int(get("prompt_tokens") or 128), int(get("threads") or machine.logical_cores)
    pts = [CpuPoint(kind="prefill", ms=float(ms), tokens=prompt * int(b), id=f"prefill-b{b}")
           for b, ms in (get("prefill_ms") or {}).items() if int(b) == 1 and float(ms) > 0]
    pts += [CpuPoint(kind="decode", ms=float(ms), batch=int(b), context=prompt, id=f"decode-b{b}")
            for b, ms in (get("decode_ms_per_token") or {}).items() if float(ms) > 0]
    if len(pts) < 2:
        return None, f"'{variant.name}' has fewer than two measured CPU points (prefill and decode) to calibrate on"
    pts += list(served or [])
    src = hardware_of_machine(machine)
    key = (arch, fmt, machine.model_dump_json(), tuple(p.model_dump_json() for p in pts), threads)
    cal = _CPU_FITS.get(key)
    if cal is None:
        here = cpu("measured", src.cpu_gops(threads, "fp32"), src.cpu_gops(threads, "int8"), src.cpu_bandwidth_gbs(threads),
                   machine.memory_gib or 16.0, accelerator=src.cpu.cpu)
        cal = _CPU_FITS[key] = fit_cpu(pts, arch, fmt, here)
    tr = transfer(src, threads, hardware_of_instance(target), target.vcpus, "int8" if fmt == "int8" else "fp32")
    band = min(0.9, cal.band * tr.factor)
    return cal.model_copy(update={"band": band}), f"{cal.describe()}; {tr.describe(target.name)}"


def instance_estimate(variant, info, ctx, machine=None, profiles=None) -> LLMEstimate | Exclusion:
    """Capacity per instance of ``info`` for ``variant`` at the context's SLA, at the best TP degree."""
    from toolkit.perf.llm.formats import support
    from toolkit.perf.llm.hardware import for_instance
    from toolkit.perf.llm.memory import tp_degrees

    arch, fmt = ctx.arch_for(variant), variant_format(variant)
    try:
        device = for_instance(info)
    except InputError as exc:
        return Exclusion(info.name, exc.message, variant.name)
    if device.kind not in getattr(variant, "devices", [device.kind]):
        return Exclusion(info.name, f"variant '{variant.name}' is built for {', '.join(variant.devices)} "
                                    f"({'an ONNX file for onnxruntime' if device.kind == 'gpu' else 'a vLLM checkpoint'}), not a {device.kind.upper()}",
                         variant.name)
    sup = support(fmt, device)
    if not sup.runs:
        return Exclusion(info.name, sup.reason, variant.name)
    cal, band_note = None, ""
    if device.kind == "cpu":
        if machine is None:
            return Exclusion(info.name, "the CPU path needs measured CPU figures of the variant", variant.name)
        cal, band_note = cpu_calibration(variant, arch, fmt, machine, info, served_points(profiles, variant, machine))
        if cal is None:
            return Exclusion(info.name, band_note, variant.name)
    fits = _memory_fits(arch, fmt, device, tp_degrees(arch, device), ctx)
    if not fits:
        return Exclusion(info.name, fit_reason(arch, fmt, device, ctx), variant.name)
    ceiling = {tp: tp_ceiling(arch, fmt, device, tp, ctx) if device.kind == "gpu" else math.inf for tp in fits}
    best, tried = None, []
    for tp in sorted(fits, key=lambda t: (-ceiling[t], t)):  # the most promising TP first
        if best is not None and best[1].feasible and ceiling[tp] <= best[1].requests_per_s:
            tried.append(f"TP={tp}: not simulated (ceiling {ceiling[tp]:.2f} req/s <= {best[1].requests_per_s:.2f})")
            continue
        rep = replica(arch, fmt, device, tp, ctx, cal)
        inst = _scaled(rep, info, device, tp)
        tried.append(f"TP={tp}: {inst.requests_per_s:.2f} req/s" + ("" if rep.feasible else f" ({rep.binding})"))
        if best is None or inst.requests_per_s > best[1].requests_per_s or (not best[1].feasible and inst.feasible):
            best = (tp, inst)
    tp, cap = best
    return _estimate(variant, info, cap, tp, tuple(tried), band_note, ctx)


def _estimate(variant, info, cap, tp: int, tried, band_note: str, ctx) -> LLMEstimate:
    from toolkit.artifacts.common import Estimated

    prov = cap.provenance
    band = band_note or ("p90 relative error of the step model on published vLLM figures (fit and held-out points), "
                         "toolkit/data/llm_gpu_calibration.json")
    prov = Estimated(model=prov.model, uncertainty=prov.uncertainty, band=band)
    notes = tuple(cap.notes)
    ratio = 0.0
    if not cap.feasible:
        notes = (f"{cap.binding}" + (f"; {cap.nearest_miss}" if cap.nearest_miss else ""),) + notes
        ratio = _lone_miss(cap)[0]
    return LLMEstimate(
        instance_type=info.name, max_rps_at_sla=cap.requests_per_s, saturation_rps=cap.requests_per_s, latency_ms_by_batch={},
        low_rps=cap.low_rps, high_rps=cap.high_rps, provenance=prov, variant=variant.name,
        seq_len=int(ctx.traffic.prompt.upper + ctx.traffic.output.upper), best_batch=cap.max_concurrency or None,
        model_instances=cap.replicas, notes=notes, mean_tokens=ctx.mean_prompt + ctx.mean_output,
        lengths=ctx.traffic_note, llm=cap, tp=tp, fmt=cap.fmt, output_tokens_per_s=cap.output_tokens_per_s, tried=tried, miss_ratio=ratio,
    )


MISS = re.compile(r"(\w+) (p\d\d) <= ([\d.]+) ms: ([\d,.]+) ms for a lone request")


def _lone_miss(cap) -> tuple[float, str, float]:
    """(worst value / limit, its spec key, its value in ms) for a lone request, read from the perf model's nearest-miss
    figures (``<metric> <pct> <= <limit> ms: <value> ms for a lone request``); (2.0, '', 0) when it has none."""
    worst = (0.0, "", 0.0)
    for m in MISS.finditer(cap.nearest_miss or ""):
        value = float(m.group(4).replace(",", ""))
        r = value / float(m.group(3))
        if r > worst[0]:
            worst = (r, f"{m.group(1)}_{m.group(2)}_ms", value)
    return worst if worst[0] > 0 else (2.0, "", 0.0)


def capacity_ceiling(variant, info, ctx) -> float | None:
    """An upper bound on requests/s per instance, without simulating (None: no bound known, e.g. CPUs).

    A step of B running sequences takes at least ``a + b B`` (the step model with its compute term
    dropped: ``a`` = weights read + fixed overheads, ``b`` = one sequence's KV read at the token-weighted
    mean context c of the traffic + per-sequence costs) and makes at most B output tokens, so output
    tokens/s <= B / (a + b B), increasing in B. The mean B over steps is bounded three ways: by
    max_num_seqs; by the KV pool (every step's running contexts sum to at most the pool, so the mean B
    <= pool / c); and by the ITL percentile q (a step longer than the limit puts all its tokens above it,
    and a step of B takes at least ``a + B x per-sequence`` even with no KV: at most 1 - q of the tokens
    may come from such steps, hence the / q). Requests/s = tokens/s / the mean output, x replicas, best TP.
    The planner's simulation, which runs this step model, can only do worse."""
    from toolkit.perf.llm.formats import support
    from toolkit.perf.llm.hardware import for_instance
    from toolkit.perf.llm.memory import tp_degrees

    arch, fmt = ctx.arch_for(variant), variant_format(variant)
    try:
        device = for_instance(info)
    except InputError:
        return None
    if device.kind != "gpu" or not support(fmt, device).runs:
        return None
    tps = _memory_fits(arch, fmt, device, tp_degrees(arch, device), ctx)
    return max((tp_ceiling(arch, fmt, device, tp, ctx) for tp in tps), default=0.0) or None


def tp_ceiling(arch, fmt: str, device, tp: int, ctx) -> float:
    """:func:`capacity_ceiling` of one TP degree (requests/s per instance: all its replicas), cached per process."""
    key = (arch, fmt, _device_key(device, tp), device.count if device.kind == "gpu" else 1, ctx.traffic, ctx.constraints)
    if key not in _CEILINGS:
        _CEILINGS[key] = _tp_ceiling(arch, fmt, device, tp, ctx)
    return _CEILINGS[key]


def _tp_ceiling(arch, fmt: str, device, tp: int, ctx) -> float:
    from toolkit.perf.llm.calibration import load_calibration
    from toolkit.perf.llm.capacity import EngineLimits
    from toolkit.perf.llm.memory import plan_memory
    from toolkit.perf.llm.step_time import StepModel
    from toolkit.sla import QUANTILE

    c = next((c for c in ctx.constraints if c.metric in ("itl", "tpot")), None)
    itl, share = (c.limit / 1e3, QUANTILE.get(c.percentile or "", 1.0)) if c else (math.inf, 1.0)
    cbar, mean_out = _mean_context(ctx.traffic)
    lim = EngineLimits()
    step = StepModel(arch, fmt, device, tp, load_calibration().eff())
    mem = plan_memory(arch, fmt, device, tp, gpu_memory_utilization=lim.gpu_memory_utilization, seq_tokens=1,
                      max_num_seqs=lim.max_num_seqs, max_num_batched_tokens=lim.max_num_batched_tokens)
    a = step.step_s(0, 0.0, 0.0, 0)
    b = step.step_s(1, cbar, 0.0, 1) - a
    b_itl = max((n for n in range(1, lim.max_num_seqs + 1) if step.step_s(n, 0.0, 0.0, n) <= itl), default=0)
    bbar = min(lim.max_num_seqs, b_itl, mem.kv_tokens / cbar)
    return bbar / (a + b * bbar) / share / mean_out * max(1, device.count // tp) if bbar > 0 else 0.0


@functools.lru_cache(maxsize=32)
def _mean_context(traffic) -> tuple[float, float]:
    """(token-weighted mean context while generating, mean output) of the traffic's seeded sample."""
    from toolkit.perf.llm.workload import make_requests

    r = make_requests(traffic.prompt, traffic.output, 4 * traffic.n_requests, traffic.seed)
    p, o = r.prompt.astype(float), r.output.astype(float)
    return float((p * o + o * (o - 1) / 2).sum() / o.sum()), float(max(1.0, o.mean()))
