"""The uncertainty band of a CPU capacity estimate, derived from how far the model missed where it could be checked.

band = calibration error x transfer factor (capped at :data:`MAX_UNCERTAINTY`)

- **Calibration error**: the latency line ``t = a + N*k`` is fitted to the variant's measured points on
  the calibration machine. With at least :data:`MIN_LOO_POINTS` points (at the calibration thread
  count) each point is predicted from a fit to the others (leave-one-out) and the error is the largest
  ``|pred - meas| / meas`` (the 90th percentile from :data:`QUANTILE_FROM` points on). With fewer
  points a two-term line passes through them exactly and cannot be checked: the band says so and uses
  :data:`DEFAULT_CALIBRATION_ERROR`. Either way it is never below the fit's own residual on the points,
  nor below :data:`NOISE_FLOOR`, nor below the round-to-round spread of a bench profile that rescaled it.
  A relative error in latency is the same relative error in the rate (rate = batch / latency).
- **Transfer factor**: how much wider the error gets on a machine the model was not checked on. Each
  kind of distance multiplies it (:func:`transfer`); the factors and their reasons are documented on
  the constants below and in docs/prices.md ("Performance model").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from toolkit.perf.hardware import Hardware

MIN_LOO_POINTS = 3  # a two-term line through 2 points has no residual: nothing left to check it against
QUANTILE_FROM = 10  # from this many points on, the 90th percentile of the errors instead of the largest
DEFAULT_CALIBRATION_ERROR = 0.10  # too few points to check: the run-to-run noise assumed at the calibration point before (docs/prices.md)
NOISE_FLOOR = 0.05  # a leave-one-out error below this is luck: medians of repeated timings on one host move by about this much
MAX_UNCERTAINTY = 0.9

# Transfer factors. The model moves a measurement to another machine by ratios of peak figures; what it
# cannot see is how the achieved fraction of peak differs there. Each factor says how much wider the
# calibration error gets for one kind of distance, and why that much.
#: per doubling (or halving) of the threads: the thread-scaling rule (HT_YIELD, PARALLEL_LOSS in
#: hardware.py) is assumed, not fitted. BERT-base in ONNX Runtime on a 4-core Xeon W-2123 went from 294 ms
#: (1 thread) to 111 ms (8 threads) unfused and to 75 ms fused: the same 3 doublings scaled 2.6x or
#: 3.9x depending on the graph, a 50% spread, i.e. about half the error again per doubling.
THREADS_PER_DOUBLING = 0.5
#: another CPU generation of the same vendor: caches, memory system and clocks under vector load differ.
#: A judgement, not a measurement (none across generations exists here): it lets the achieved share of peak
#: differ by as much again as the model missed at home. Replace it with a measured figure once bench
#: profiles on two generations exist.
OTHER_GENERATION = 2.0
#: another vendor or architecture (Intel <-> AMD, x86 <-> Arm): onnxruntime's MLAS runs other kernels
#: there (a judgement, like OTHER_GENERATION).
OTHER_VENDOR = 1.5
#: per step between int8 ISA tiers (AVX2 -> AVX-512 -> VNNI -> AMX) for int8 variants (fp32: 0.15): the
#: int8 gain is a peak ratio on the GEMM share of the work; AVX2 hosts measured ~1.4x int8/fp32 GEMMs
#: where the peak ratio says 2x (ENVIRONMENT.md).
INT8_TIER_STEP = 0.5
FP32_TIER_STEP = 0.15
#: the calibration CPU's model name is not in hardware.CPU_MODELS: its generation and clock (3.0 GHz
#: default; AWS Xeon all-core clocks span 2.5-3.5 GHz, up to ±17%) were guessed from its ISA flags.
GUESSED_CPU = 1.5


@dataclass(frozen=True)
class CalibrationError:
    """How far the latency line missed on the calibration machine, and how that was found."""

    error: float
    points: int
    measured: bool  #: False when there were too few points and the default stands in
    detail: str


@dataclass(frozen=True)
class Transfer:
    factor: float
    parts: tuple[str, ...]  #: one "<what> ×<factor>" per kind of distance

    def describe(self, target: str) -> str:
        if not self.parts:
            return f"transfer to {target}: ×1 (the calibration hardware)"
        return f"transfer to {target}: ×{self.factor:.2g} ({'; '.join(self.parts)})"


def _fit_predict(points: list[tuple[int, int, float]], tokens: int) -> float:
    """p50 at ``tokens`` from a least-squares line through (batch, seq, p50) points (per-token only when it must be)."""
    xs = [b * s for b, s, _ in points]
    ys = [t for _, _, t in points]
    if len(set(xs)) >= 2:
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        k = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
        a = my - k * mx
        if a >= 0 and k > 0:
            return a + k * tokens
    return tokens * sum(ys) / sum(xs)


def calibration_error(cal, rescale_spread: float | None = None) -> CalibrationError:
    """The calibration error of a fitted ``CpuCalibration`` (see the module docstring)."""
    pts = list(cal.points)
    n = len(pts)
    residual = max((abs(cal.latency_ms(b * s) - t) / t for b, s, t in pts if t > 0), default=0.0)
    if n >= MIN_LOO_POINTS:
        errs = sorted(abs(_fit_predict(pts[:i] + pts[i + 1:], b * s) - t) / t for i, (b, s, t) in enumerate(pts) if t > 0)
        stat = errs[min(len(errs) - 1, math.ceil(0.9 * len(errs)) - 1)] if n >= QUANTILE_FROM else errs[-1]
        what = "90th percentile of the" if n >= QUANTILE_FROM else ""
        detail = f"leave-one-out error on {n} calibration points ({what + ' ' if what else ''}|pred-meas|/meas): {stat:.1%}"
        error, measured = stat, True
    else:
        detail = (f"{n} calibration point{'s' if n != 1 else ''}: too few to check the fitted line by leave-one-out "
                  f"(needs {MIN_LOO_POINTS}); default {DEFAULT_CALIBRATION_ERROR:.0%}")
        error, measured = DEFAULT_CALIBRATION_ERROR, False
    floors = [(residual, f"the fit's own residual {residual:.1%}"), (NOISE_FLOOR, f"noise floor {NOISE_FLOOR:.0%}")]
    if rescale_spread:
        floors.append((rescale_spread, f"bench round-to-round spread {rescale_spread:.1%}"))
    top, why = max(floors, key=lambda f: f[0])
    if top > error:
        detail += f"; raised to {why}"
        error = top
    return CalibrationError(error, n, measured, detail)


def transfer(src: Hardware, src_threads: int, target: Hardware, threads: int, precision: str) -> Transfer:
    """How much wider the calibration error gets from ``src`` (``src_threads``) to ``target`` (``threads``)."""
    parts: list[tuple[str, float]] = []
    if threads != src_threads:
        doublings = abs(math.log2(max(threads, 1) / max(src_threads, 1)))
        parts.append((f"{src_threads} → {threads} threads", 1.0 + THREADS_PER_DOUBLING * doublings))
    if src.cpu.cpu != target.cpu.cpu:
        parts.append((f"another CPU generation ({src.cpu.cpu} → {target.cpu.cpu})", OTHER_GENERATION))
        if src.cpu.vendor != target.cpu.vendor:
            parts.append((f"another vendor ({src.cpu.vendor} → {target.cpu.vendor})", OTHER_VENDOR))
    steps = abs(src.isa_tier - target.isa_tier)
    if steps:
        per = INT8_TIER_STEP if precision == "int8" else FP32_TIER_STEP
        parts.append((f"{steps} int8 ISA tier{'s' if steps > 1 else ''} apart", 1.0 + per * steps))
    if not src.known_cpu:
        parts.append(("calibration CPU guessed from its flags", GUESSED_CPU))
    factor = math.prod(f for _, f in parts) if parts else 1.0
    return Transfer(factor, tuple(f"{what} ×{f:.2g}" for what, f in parts))


def cpu_band(cal, target: Hardware, threads: int, precision: str, rescale_spread: float | None = None) -> tuple[float, str]:
    """(± fraction, how it was derived) for a CPU estimate on ``target`` with ``threads`` threads."""
    err = calibration_error(cal, rescale_spread)
    tr = transfer(cal.hardware, cal.threads, target, threads, precision)
    u = err.error * tr.factor
    text = f"{err.detail}; {tr.describe(f'{target.name} ({target.cpu.cpu})')}"
    if u > MAX_UNCERTAINTY:
        text += f"; capped at ±{MAX_UNCERTAINTY:.0%}"
    return round(min(MAX_UNCERTAINTY, u), 3), text
