"""Step time of a continuous-batching engine (vLLM-like) on one device or a tensor-parallel group.

One engine step processes ``n`` new tokens (decodes contribute one each, prefill chunks their
length) for ``s`` sequences. Per GPU of a TP group of degree ``tp`` (weights and KV are split):

    t_mem  = weight_bytes / tp / (bw x eff.bandwidth) + kv_read x kv_bytes_per_token / tp / (bw x eff.kv_bandwidth)
    t_comp = (n x 2 x matmul_params / tp + 4 x layers x heads x head_dim / tp x attn_pairs) / (peak x eff.compute)
    t_comm = 2 x layers x [latency + 2 (tp-1)/tp x n x hidden x 2 B / (link x eff.link)]   (tp > 1 only)
    step   = max(t_mem, t_comp) + t_comm + eff.step_overhead + eff.per_seq_overhead x s

``kv_read`` is the number of cached tokens the step's attention reads (the contexts of the decoding
sequences plus the cached prefix of prefill chunks); ``attn_pairs`` is the number of (query, key)
pairs. Special cases: a prefill of P tokens alone is max(2 p P / (peak e_c), W / (bw e_bw)) plus
attention and overhead; a decode step of B sequences at context L is
max((W + B L kv) / bw_eff, 2 p B / (peak e_c)) + overhead: bandwidth-bound at small B, compute-bound
at large B. Tensor parallelism runs two all-reduces per layer (after attention and after the MLP,
Megatron-style) over the instance's interconnect (NVLink or PCIe: ``llm_interconnect.csv``).
``peak`` is the dense rate of the dtype the device runs the format's matmuls at
(:func:`toolkit.perf.llm.formats.support`): FP8 on cc >= 8.9, fp16 otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from toolkit.errors import InputError
from toolkit.perf.llm.architectures import Architecture, architecture
from toolkit.perf.llm.formats import ModelFormat, model_format, support
from toolkit.perf.llm.hardware import Device

ACTIVATION_BYTES = 2.0  # bf16/fp16 activations exchanged by the all-reduces


@dataclass(frozen=True)
class Efficiency:
    """Achieved fractions of the peaks, and fixed costs; fitted by :mod:`toolkit.perf.llm.calibration`."""

    compute: float = 0.6  #: of the dense matmul peak
    bandwidth: float = 0.8  #: of memory bandwidth, reading weights
    kv_bandwidth: float = 0.5  #: of memory bandwidth, reading the KV cache (paged attention)
    step_overhead_ms: float = 2.0  #: per engine step: scheduling, sampling, kernel launches
    per_seq_overhead_ms: float = 0.01  #: per sequence in a step (block tables, sampling, detokenizing)
    link: float = 0.7  #: of the interconnect bandwidth in all-reduces

    def scaled(self, factor: float) -> Efficiency:
        """Every rate efficiency times ``factor`` (capped at 1); used to draw the uncertainty band."""
        return replace(self, compute=min(1.0, self.compute * factor), bandwidth=min(1.0, self.bandwidth * factor),
                       kv_bandwidth=min(1.0, self.kv_bandwidth * factor))


class StepModel:
    """Step times of one engine replica: ``arch`` in ``fmt`` on ``tp`` GPUs of ``device`` (or a CPU device)."""

    def __init__(self, arch: Architecture | str, fmt: ModelFormat | str, device: Device, tp: int = 1,
                 eff: Efficiency | None = None, kv_dtype_bytes: float | None = None):
        self.arch = architecture(arch)
        self.fmt = model_format(fmt)
        self.device = device
        self.tp = int(tp)
        self.eff = eff or Efficiency()
        self.support = support(self.fmt, device)
        if not self.support.runs:
            raise InputError(f"{device.name} cannot run {self.fmt.name}: {self.support.reason}",
                             hint="pick another format or instance type")
        if self.tp < 1 or (device.kind == "gpu" and self.tp > device.count):
            raise InputError(f"tensor-parallel degree {tp} needs {tp} GPUs; {device.name} has {device.count}",
                             hint="use a TP degree no larger than the instance's GPU count")
        a, e, tp = self.arch, self.eff, self.tp
        self.kv_bytes = self.fmt.kv_bytes if kv_dtype_bytes is None else kv_dtype_bytes
        self.weight_bytes_per_gpu = a.weight_bytes(self.fmt) / tp
        kv_heads_per_gpu = math.ceil(a.kv_heads / tp)  # fewer KV heads than GPUs: heads are replicated
        self.kv_bytes_per_token_per_gpu = 2.0 * a.layers * kv_heads_per_gpu * a.head_dim * self.kv_bytes
        bw = device.bandwidth
        peak = device.peak_flops(self.support.compute)
        if bw <= 0 or peak <= 0:
            raise InputError(f"no bandwidth or peak known for {device.name}", hint="add the device to accelerator_peaks.csv")
        self._t_weights = self.weight_bytes_per_gpu / (bw * e.bandwidth)
        self._t_kv_token = self.kv_bytes_per_token_per_gpu / (bw * e.kv_bandwidth)
        self._t_flop = 1.0 / (peak * e.compute)
        self._flops_token = a.flops_per_token() / tp
        self._flops_pair = 4.0 * a.layers * a.q_dim / tp
        if tp > 1:
            link = device.link_gbs * 1e9 * e.link
            self._t_comm_fixed = 2 * a.layers * device.link_latency_us * 1e-6
            self._t_comm_token = 2 * a.layers * 2 * (tp - 1) / tp * a.hidden * ACTIVATION_BYTES / link
        else:
            self._t_comm_fixed = self._t_comm_token = 0.0
        self._t_step = e.step_overhead_ms / 1e3
        self._t_seq = e.per_seq_overhead_ms / 1e3

    # ---- the step --------------------------------------------------------------------------------
    def step_s(self, tokens: float, kv_read: float, attn_pairs: float, seqs: float) -> float:
        """Seconds for one step (scalars): ``tokens`` new tokens, ``kv_read`` cached tokens read, ``seqs`` sequences."""
        t_mem = self._t_weights + kv_read * self._t_kv_token
        t_comp = (tokens * self._flops_token + attn_pairs * self._flops_pair) * self._t_flop
        return max(t_comp, t_mem) + self._t_comm_fixed + tokens * self._t_comm_token + self._t_step + seqs * self._t_seq

    def steps_s(self, tokens, kv_read, attn_pairs, seqs) -> np.ndarray:
        """The same, element-wise over numpy arrays (the simulator's decode spans)."""
        t_mem = self._t_weights + np.asarray(kv_read, dtype=float) * self._t_kv_token
        t_comp = (np.asarray(tokens, dtype=float) * self._flops_token + np.asarray(attn_pairs, dtype=float) * self._flops_pair) * self._t_flop
        return np.maximum(t_mem, t_comp) + self._t_comm_fixed + np.asarray(tokens) * self._t_comm_token + self._t_step + np.asarray(seqs) * self._t_seq

    def decode_span_s(self, batch: int, context_total: float, steps: int) -> np.ndarray:
        """Durations of ``steps`` consecutive decode steps of ``batch`` sequences whose contexts sum to ``context_total``."""
        ctx = context_total + batch * np.arange(steps, dtype=float)
        t_mem = self._t_weights + ctx * self._t_kv_token
        t_comp = (batch * self._flops_token + ctx * self._flops_pair) * self._t_flop
        fixed = self._t_comm_fixed + batch * self._t_comm_token + self._t_step + batch * self._t_seq
        return np.maximum(t_mem, t_comp) + fixed

    # ---- the special cases the issue names -------------------------------------------------------
    def prefill_ms(self, prompt: int, batch: int = 1) -> float:
        """One prefill step of ``batch`` prompts of ``prompt`` tokens (no cached prefix), in ms."""
        return 1e3 * self.step_s(batch * prompt, 0.0, batch * prompt * prompt / 2.0, batch)

    def decode_ms(self, batch: int, context: int) -> float:
        """One decode step of ``batch`` sequences at context ``context`` each, in ms."""
        return 1e3 * self.step_s(batch, batch * context, batch * context, batch)

    def bound(self, batch: int, context: int) -> str:
        """'bandwidth' or 'compute': which term limits a decode step of ``batch`` at ``context``."""
        t_mem = self._t_weights + batch * context * self._t_kv_token
        t_comp = (batch * self._flops_token + batch * context * self._flops_pair) * self._t_flop
        return "bandwidth" if t_mem >= t_comp else "compute"

    def itl_floor_ms(self) -> float:
        """Physical floor of the inter-token latency: reading the weights once at full bandwidth (batch 1)."""
        return 1e3 * self.weight_bytes_per_gpu / self.device.bandwidth

    def bandwidth_needed_gbs(self, itl_ms: float, batch: int, context: int) -> float | None:
        """Memory bandwidth (GB/s per GPU, at this model's efficiencies) for a decode step of ``itl_ms``; None if unreachable."""
        fixed = self._t_comm_fixed + batch * self._t_comm_token + self._t_step + batch * self._t_seq
        budget = itl_ms / 1e3 - fixed
        if budget <= 0:
            return None
        need = (self.weight_bytes_per_gpu / self.eff.bandwidth + batch * context * self.kv_bytes_per_token_per_gpu / self.eff.kv_bandwidth) / budget
        return need / 1e9

    def describe(self) -> str:
        tp = f" TP={self.tp}" if self.tp > 1 else ""
        return (f"{self.arch.name} {self.fmt.name} on {self.device.accelerator}{tp}: weights {self.weight_bytes_per_gpu / 2**30:.1f} GiB/GPU, "
                f"KV {self.kv_bytes_per_token_per_gpu / 1024:.0f} KiB/token/GPU, matmuls at {self.support.compute}")
