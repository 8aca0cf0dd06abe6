"""Efficiencies fitted from measurements, and the uncertainty band their errors give.

GPU: ``toolkit/data/llm_calibration_points.csv`` holds published vLLM figures (each row cites its
source: hardware, model, engine version, lengths, scenario, metric). Rows marked ``fit`` calibrate
the :class:`~toolkit.perf.llm.step_time.Efficiency` (least squares on log error, Nelder-Mead); rows
marked ``holdout`` only check it; ``excluded`` rows say why they cannot be used. Each point is
predicted by replaying its scenario through the scheduler simulation (``offline``: all requests at
time 0; ``closed``: a fixed number of concurrent clients; ``poisson``: a request rate).
``benchmarks/gpu_check.sh`` writes rows with the same columns, so a lent GPU adds measured points.

The band is the observed error, not a guess: :func:`band_from_errors` is the 90th percentile
(nearest rank) of the absolute relative errors on the fit and held-out points together. The fitted
result lives in ``toolkit/data/llm_gpu_calibration.json``; ``python benchmarks/perf_model_llm.py --refit``
refits it from the CSV (:func:`calibrate`, then :func:`save_calibration`).

CPU: :func:`fit_cpu` takes measured CPU points (prefill ms at P tokens, decode ms per step at batch
B and context L) and fits compute, bandwidth and overhead the same way (closed-form step model, no
simulation needed).
"""

from __future__ import annotations

import csv
import functools
import json
import math
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from toolkit.errors import InputError
from toolkit.perf.llm.hardware import Device, gpu
from toolkit.perf.llm.memory import plan_memory
from toolkit.perf.llm.scheduler import EngineConfig, simulate
from toolkit.perf.llm.step_time import Efficiency, StepModel
from toolkit.pricing.rows import DATA_DIR

POINTS_CSV = DATA_DIR / "llm_calibration_points.csv"
GPU_CALIBRATION = DATA_DIR / "llm_gpu_calibration.json"
BAND_QUANTILE = 0.9
FAMILY_OF = {"T4": "g4dn", "A10G": "g5", "L4": "g6", "L40S": "g6e", "V100": "p3", "A100": "p4d", "A100-80GB": "p4de",
             "H100": "p5", "H200": "p5en", "B200": "p6-b200"}
FITTED = ("compute", "bandwidth", "kv_bandwidth", "step_overhead_ms", "per_seq_overhead_ms")
#: weak priors (centre in logit/log space, weight): they keep the fit physical where the points cannot tell two
#: parameters apart (at batch 1, weight bandwidth and the fixed step overhead trade off one for the other)
PRIOR = (0.6, 0.85, 0.5, 2.0, 0.02)
PRIOR_WEIGHT = 0.002


class CalibrationPoint(BaseModel):
    """One measured figure and the scenario that produced it (a row of llm_calibration_points.csv)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    source: str
    engine: str = "vllm"
    engine_version: str = ""
    accelerator: str
    gpus: int = 1
    tp: int = 1
    model: str
    format: str = "bf16"
    scenario: Literal["offline", "closed", "poisson"]
    prompt_len: int = Field(gt=0)
    output_len: int = Field(gt=0)
    prompt_sd: float = Field(default=0.0, ge=0, description="standard deviation of prompt lengths (normal), 0: fixed")
    output_sd: float = Field(default=0.0, ge=0, description="standard deviation of output lengths (normal), 0: fixed")
    num_requests: int = Field(gt=0)
    concurrency: int | None = None
    request_rate: float | None = None
    max_num_seqs: int = 256
    max_num_batched_tokens: int = 2048
    chunked_prefill: bool = True
    gpu_memory_utilization: float = 0.9
    kv_cache_gib: float | None = None
    metric: Literal["tpot_mean_ms", "itl_mean_ms", "ttft_mean_ms", "e2e_mean_ms", "duration_s", "output_tok_s"]
    value: float = Field(gt=0)
    split: Literal["fit", "holdout", "excluded"] = "holdout"
    notes: str = ""

    def device(self) -> Device:
        return gpu(self.accelerator, max(self.gpus, self.tp), FAMILY_OF.get(self.accelerator))


class PointError(BaseModel):
    """A point, what the model predicted for it, and the relative error (predicted / measured - 1)."""

    id: str
    split: str
    metric: str
    measured: float
    predicted: float
    rel_error: float


class Calibration(BaseModel):
    """Fitted efficiencies, the per-point errors and the band derived from them."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["gpu", "cpu"] = "gpu"
    efficiency: dict[str, float]
    band: float = Field(ge=0, description="90th percentile of |relative error| over fit and held-out points.")
    fit_error_p90: float = 0.0
    holdout_error_p90: float = 0.0
    points: list[PointError] = Field(default_factory=list)
    fitted_on: str = ""
    method: str = ""

    def eff(self) -> Efficiency:
        return replace(Efficiency(), **self.efficiency)

    def describe(self) -> str:
        n_fit = sum(p.split == "fit" for p in self.points)
        n_hold = sum(p.split == "holdout" for p in self.points)
        return (f"{self.kind} step model calibrated on {n_fit} points, checked on {n_hold} held out: "
                f"p90 |error| {self.fit_error_p90:.0%} (fit), {self.holdout_error_p90:.0%} (held out); band ±{self.band:.0%}")


# ---- points --------------------------------------------------------------------------------------
def _clean(row: dict[str, str]) -> dict:
    out = {}
    for k, v in row.items():
        v = (v or "").strip()
        if v == "":
            continue
        out[k] = (v.lower() == "true") if k == "chunked_prefill" else (None if k == "request_rate" and v == "inf" else v)
    return {k: v for k, v in out.items() if v is not None}


def load_points(path: str | Path | None = None) -> list[CalibrationPoint]:
    """The calibration points of a CSV (default: the embedded published figures)."""
    path = Path(path or POINTS_CSV)
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            return [CalibrationPoint(**_clean(r)) for r in csv.DictReader(fh)]
    except FileNotFoundError:
        raise InputError(f"calibration points not found: {path}", hint="give the CSV benchmarks/gpu_check.sh wrote") from None


def predict(point: CalibrationPoint, eff: Efficiency) -> float:
    """The model's value for ``point``'s metric, replaying its scenario."""
    dev = point.device()
    step = StepModel(point.model, point.format, dev, point.tp, eff)
    mem = plan_memory(point.model, point.format, dev, point.tp, gpu_memory_utilization=point.gpu_memory_utilization,
                      seq_tokens=point.prompt_len + point.output_len, max_num_seqs=point.max_num_seqs,
                      max_num_batched_tokens=point.max_num_batched_tokens, kv_cache_gib=point.kv_cache_gib)
    cfg = EngineConfig(kv_tokens=mem.kv_tokens, max_num_seqs=point.max_num_seqs, chunked_prefill=point.chunked_prefill,
                       max_num_batched_tokens=max(point.max_num_batched_tokens, point.max_num_seqs))
    n = point.num_requests
    rng = np.random.default_rng(0)
    prompts = np.maximum(1, np.rint(rng.normal(point.prompt_len, point.prompt_sd, n))) if point.prompt_sd else [point.prompt_len] * n
    outputs = np.maximum(1, np.rint(rng.normal(point.output_len, point.output_sd, n))) if point.output_sd else [point.output_len] * n
    if point.scenario == "closed":
        res = simulate(step, prompts, outputs, cfg, concurrency=point.concurrency or 1)
    elif point.scenario == "poisson" and point.request_rate:
        gaps = rng.exponential(1.0 / point.request_rate, size=n)
        gaps[0] = 0.0
        res = simulate(step, prompts, outputs, cfg, arrivals=np.cumsum(gaps))
    else:
        res = simulate(step, prompts, outputs, cfg)
    metric = point.metric
    if metric == "duration_s":
        return res.duration
    if metric == "output_tok_s":
        return res.output_tokens_per_s
    return res.mean(metric.split("_")[0])


def errors(points: list[CalibrationPoint], eff: Efficiency) -> list[PointError]:
    out = []
    for p in points:
        pred = predict(p, eff)
        out.append(PointError(id=p.id, split=p.split, metric=p.metric, measured=p.value, predicted=round(pred, 4),
                              rel_error=round(pred / p.value - 1.0, 4)))
    return out


def band_from_errors(rel_errors, q: float = BAND_QUANTILE) -> float:
    """The ``q`` quantile (nearest rank) of the absolute relative errors: the uncertainty band."""
    a = np.sort(np.abs(np.asarray(list(rel_errors), dtype=float)))
    if len(a) == 0:
        raise InputError("no calibration errors to derive a band from", hint="calibrate on at least one measured point")
    return float(a[min(len(a) - 1, max(0, math.ceil(q * len(a)) - 1))])


# ---- fitting -------------------------------------------------------------------------------------
def _unpack(x: np.ndarray, base: Efficiency) -> Efficiency:
    sig = 1.0 / (1.0 + np.exp(-x[:3]))
    return replace(base, compute=float(sig[0]), bandwidth=float(sig[1]), kv_bandwidth=float(sig[2]),
                   step_overhead_ms=float(np.exp(x[3])), per_seq_overhead_ms=float(np.exp(x[4])))


def _pack(e: Efficiency) -> np.ndarray:
    logit = lambda p: math.log(p / (1 - p))
    return np.array([logit(e.compute), logit(e.bandwidth), logit(e.kv_bandwidth), math.log(e.step_overhead_ms),
                     math.log(max(e.per_seq_overhead_ms, 1e-4))])


def fit_efficiency(loss, start: Efficiency, max_evals: int = 400, prior_weight: float = PRIOR_WEIGHT) -> Efficiency:
    """Minimise ``loss(Efficiency)`` + weak priors over the fitted fields (Nelder-Mead in logit/log space)."""
    from scipy.optimize import minimize

    centre = _pack(replace(start, **dict(zip(FITTED, PRIOR))))

    def objective(x):
        return loss(_unpack(x, start)) + prior_weight * float(np.sum((x - centre) ** 2))

    res = minimize(objective, _pack(start), method="Nelder-Mead", options={"maxfev": max_evals, "xatol": 1e-3, "fatol": 1e-6})
    return _unpack(res.x, start)


def calibrate(points: list[CalibrationPoint], start: Efficiency | None = None, kind: str = "gpu", max_evals: int = 400) -> Calibration:
    """Fit on the ``fit`` points, score every non-excluded point, derive the band from the errors."""
    start = start or Efficiency()
    fit_pts = [p for p in points if p.split == "fit"]
    if not fit_pts:
        raise InputError("no calibration point is marked 'fit'", hint="mark some rows split=fit")

    def loss(e: Efficiency) -> float:
        return float(np.mean([math.log(predict(p, e) / p.value) ** 2 for p in fit_pts]))

    eff = fit_efficiency(loss, start, max_evals)
    errs = errors([p for p in points if p.split != "excluded"], eff)
    return _calibration(kind, eff, errs, f"Nelder-Mead on log error over {len(fit_pts)} points; scheduler replay per point")


def _calibration(kind: str, eff: Efficiency, errs: list[PointError], method: str) -> Calibration:
    fit_e = [e.rel_error for e in errs if e.split == "fit"]
    hold_e = [e.rel_error for e in errs if e.split == "holdout"]
    return Calibration(kind=kind, efficiency={k: round(getattr(eff, k), 5) for k in FITTED}, points=errs,
                       band=round(band_from_errors(fit_e + hold_e), 4),
                       fit_error_p90=round(band_from_errors(fit_e), 4) if fit_e else 0.0,
                       holdout_error_p90=round(band_from_errors(hold_e), 4) if hold_e else 0.0,
                       fitted_on=date.today().isoformat(), method=method)


def save_calibration(cal: Calibration, path: str | Path = GPU_CALIBRATION) -> Path:
    path = Path(path)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(cal.model_dump(), indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


@functools.lru_cache(maxsize=4)
def load_calibration(path: str | Path = GPU_CALIBRATION) -> Calibration:
    """The fitted GPU calibration shipped with Leanserve (or another file of the same schema)."""
    try:
        return Calibration.model_validate_json(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"LLM calibration not found: {path}", hint="run: python benchmarks/perf_model_llm.py --refit") from None


# ---- CPU -----------------------------------------------------------------------------------------
class CpuPoint(BaseModel):
    """A CPU measurement: a prefill of ``tokens`` (batch 1), or a decode step of ``batch`` at ``context``."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["prefill", "decode"]
    ms: float = Field(gt=0, description="prefill: ms for the whole prompt; decode: ms per step (= per token per sequence)")
    tokens: int = Field(default=1, gt=0, description="prefill: prompt tokens")
    batch: int = Field(default=1, gt=0, description="decode: sequences in the step")
    context: int = Field(default=128, gt=0, description="decode: context length of each sequence")
    split: Literal["fit", "holdout"] = "fit"
    id: str = ""

    def predict(self, step: StepModel) -> float:
        if self.kind == "prefill":
            return step.prefill_ms(self.tokens)
        return step.decode_ms(self.batch, self.context)


def _cpu_start(points: list[CpuPoint], arch, fmt, device: Device) -> Efficiency:
    """A start near the answer, in closed form: the compute efficiency the prefill implies and the bandwidth one the
    smallest decode step implies, each from the model at full efficiency. Without it the fit can stall where a prefill
    is bound by reading the weights at the start's efficiencies, so that the compute efficiency has no slope (a CPU's
    int8 peak is an AMX figure onnxruntime's kernels reach only a few percent of)."""
    ideal = StepModel(arch, fmt, device, 1, Efficiency(compute=0.999, bandwidth=0.999, kv_bandwidth=0.5, step_overhead_ms=1e-3,
                                                       per_seq_overhead_ms=1e-4))
    clamp = lambda x: min(0.95, max(0.002, x))
    pre = [ideal.prefill_ms(p.tokens) / p.ms for p in points if p.kind == "prefill"]
    dec = [ideal.decode_ms(p.batch, p.context) / p.ms for p in points if p.kind == "decode" and p.batch == min(
        q.batch for q in points if q.kind == "decode")]
    return Efficiency(compute=clamp(min(pre)) if pre else 0.3, bandwidth=clamp(min(dec)) if dec else 0.5, kv_bandwidth=0.5,
                      step_overhead_ms=1.0, per_seq_overhead_ms=0.05)


def fit_cpu(points: list[CpuPoint], arch, fmt, device: Device, start: Efficiency | None = None) -> Calibration:
    """Fit the CPU step model on measured CPU points (this machine's profiles); band from the errors."""
    if device.kind != "cpu":
        raise InputError(f"fit_cpu needs a CPU device, got {device.name}", hint="use toolkit.perf.llm.hardware.cpu(...)")
    fit_pts = [p for p in points if p.split == "fit"]
    if len(fit_pts) < 2:
        raise InputError("CPU calibration needs at least two measured points", hint="measure a prefill and a decode step")
    start = start or _cpu_start(fit_pts, arch, fmt, device)

    def loss(e: Efficiency) -> float:
        step = StepModel(arch, fmt, device, 1, e)
        return float(np.mean([math.log(p.predict(step) / p.ms) ** 2 for p in fit_pts]))

    eff = fit_efficiency(loss, start, max_evals=2000)
    step = StepModel(arch, fmt, device, 1, eff)
    errs = [PointError(id=p.id or f"{p.kind}-{i}", split=p.split, metric=f"{p.kind}_ms", measured=p.ms,
                       predicted=round(p.predict(step), 4), rel_error=round(p.predict(step) / p.ms - 1, 4))
            for i, p in enumerate(points)]
    return _calibration("cpu", eff, errs, f"Nelder-Mead on log error over {len(fit_pts)} CPU points (closed form)")
