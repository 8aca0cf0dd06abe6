"""The latency model: an additive roofline calibrated on a measured point.

Latency of one batch of ``b`` sequences of ``s`` tokens (``N = b*s`` tokens) on machine M:

    t_M(N) = a_M + N * k_M

- ``k`` (ms per token) is the compute term: FLOPs per token / achieved FLOP rate. On the calibration
  machine C it is fitted to the measured p50 latencies (least squares over the measured shapes).
  On a CPU target it scales with the fp32 peak rate R (cores x clock x FLOP/cycle), and for int8
  variants with how much faster the target's int8 path is than its fp32 path, s = R_int8/R_fp32
  (2x for AVX2, 4x for AVX-512 VNNI, 32x for AMX). Only the matrix multiplies gain from int8: they are
  ``GEMM_SHARE`` of fp32 inference time; softmax, layer norm, GELU and (de)quantisation are not:

      k_M = k_C * R_C/R_M * (GEMM_SHARE/s_M + 1-GEMM_SHARE) / (GEMM_SHARE/s_C + 1-GEMM_SHARE)

  (with GEMM_SHARE = 0.75 this predicts int8 = 2.3x fp32 on an AVX-512 VNNI CPU; ENVIRONMENT.md
  measured 122 ms vs 53 ms = 2.3x for MiniLM at 8 x 128 tokens).

- ``a`` (ms per batch) is the memory term: the weights are streamed once per batch, so it scales
  with memory bandwidth, a_M = a_C * BW_C/BW_M (it also absorbs the runtime's fixed overhead).

Both terms use the threads the model gets on each machine (see :mod:`toolkit.perf.hardware`).
On GPUs no CPU measurement transfers, so the model is the textbook roofline with assumed
efficiencies (documented below), ``t = a_gpu + max(N*F/(eta_c*P), W/(eta_m*BW))``, unless a measured
GPU profile calibrates it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from toolkit.perf.hardware import Hardware

GEMM_SHARE = 0.75  # share of CPU inference time spent in matrix multiplies (BERT-style encoders)
GPU_COMPUTE_EFFICIENCY = {"fp16": 0.30, "fp32": 0.50, "int8": 0.25}  # achieved / dense peak, small batches
GPU_BANDWIDTH_EFFICIENCY = 0.60  # achieved / peak HBM/GDDR bandwidth for weight streaming
GPU_FIXED_MS = 0.5  # per batch: copies to and from the device, kernel launches of the runtime
GPU_FIXED_MS_PER_LAYER = 0.05  # per encoder layer: about a dozen kernel launches
DEFAULT_LAYERS = 12


@dataclass(frozen=True)
class CpuCalibration:
    """A fitted CPU latency line on the calibration machine, with how it was measured."""

    hardware: Hardware
    threads: int
    fixed_ms: float  #: a_C, ms per batch
    per_token_ms: float  #: k_C, ms per token
    tail_ratio: float  #: measured p95/p50
    points: tuple[tuple[int, int, float], ...]  #: (batch, seq_len, p50_ms) used
    fit_note: str = ""

    def latency_ms(self, tokens: int) -> float:
        return self.fixed_ms + tokens * self.per_token_ms


def fit_cpu(hardware: Hardware, points: list[tuple[int, int, int, float, float]]) -> CpuCalibration:
    """Fit ``t = a + N*k`` to measured (batch, seq_len, threads, p50_ms, p95_ms) points on one machine.

    With one distinct token count only the per-token term is fitted (a = 0).
    """
    if not points:
        raise ValueError("no measured points")
    threads = max(p[2] for p in points)
    pts = [p for p in points if p[2] == threads]
    xs = [p[0] * p[1] for p in pts]
    ys = [p[3] for p in pts]
    note = ""
    if len(set(xs)) >= 2:
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        k = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
        a = my - k * mx
        if a < 0 or k <= 0:
            a, k = 0.0, sum(ys) / sum(xs)
            note = "the measured points do not fit a fixed + per-token line; per-token only"
    else:
        a, k = 0.0, sum(ys) / sum(xs)
        note = "one measured shape: per-token cost only, no fixed per-batch cost"
    ratios = sorted(p[4] / p[3] for p in pts if p[3] > 0 and p[4] >= p[3])
    tail = ratios[len(ratios) // 2] if ratios else 1.3
    return CpuCalibration(hardware, threads, a, k, tail, tuple((p[0], p[1], p[3]) for p in pts), note)


def int8_speedup(hw: Hardware) -> float:
    """How much faster a CPU's int8 GEMM path is than its fp32 path (peak ops per cycle ratio)."""
    return hw.cpu.int8_ops_per_cycle / hw.cpu.fp32_flops_per_cycle


def precision_factor(hw: Hardware, precision: str) -> float:
    """Per-token time at ``precision`` relative to fp32 on ``hw`` (1.0 for fp32)."""
    if precision != "int8":
        return 1.0
    return GEMM_SHARE / int8_speedup(hw) + (1.0 - GEMM_SHARE)


def cpu_scale(cal: CpuCalibration, target: Hardware, threads: int, precision: str) -> tuple[float, float]:
    """(fixed_ms, per_token_ms) on ``target`` with ``threads`` threads, scaled from the calibration."""
    src, n = cal.hardware, cal.threads
    k = cal.per_token_ms * src.cpu_gops(n, "fp32") / target.cpu_gops(threads, "fp32")
    k *= precision_factor(target, precision) / precision_factor(src, precision)
    a = cal.fixed_ms * src.cpu_bandwidth_gbs(n) / target.cpu_bandwidth_gbs(threads)
    return a, k


def gpu_latency_ms(target: Hardware, tokens: int, gflops_per_token: float, weight_bytes: int, precision: str, layers: int | None) -> float:
    """Roofline latency of one batch on one accelerator device (ms), with the assumed efficiencies."""
    acc = target.accelerator
    assert acc is not None
    frac = min(1.0, target.accelerator_count) if target.accelerator_count else 1.0  # g6f partitions
    peak = {"fp16": acc.fp16_tflops, "int8": acc.int8_tops, "fp32": acc.fp32_tflops}[precision] or acc.fp32_tflops or 1.0
    compute_ms = tokens * gflops_per_token / (GPU_COMPUTE_EFFICIENCY[precision] * peak * frac)  # GFLOP / TFLOP/s = ms
    memory_ms = weight_bytes / (GPU_BANDWIDTH_EFFICIENCY * acc.mem_bw_gbs * frac * 1e9) * 1e3
    fixed = GPU_FIXED_MS + GPU_FIXED_MS_PER_LAYER * (layers or DEFAULT_LAYERS)
    return fixed + max(compute_ms, memory_ms)


def log_distance(x: float, y: float) -> float:
    return abs(math.log(max(x, 1e-12) / max(y, 1e-12)))
