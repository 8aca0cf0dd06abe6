"""Model formats (bf16, fp16, fp8, w4a16, int8, CPU int4/fp32) and which devices can run them, how.

The FP8 rule (vLLM's, https://docs.vllm.ai/en/stable/features/quantization/fp8/): FP8 *compute*
(W8A8) needs compute capability >= 8.9 (L4, L40S, H100, H200, Blackwell); on 7.5 <= cc < 8.9
(T4, A10G, A100) an FP8 checkpoint runs weight-only (W8A16, FP8 Marlin kernels): it halves the weight
memory and bytes read per step, but matmuls run at the fp16 rate. Below 7.5 (V100) it does not run.

:func:`support` is the one place that answers "can this device run this format, and at which peak".
"""

from __future__ import annotations

from dataclasses import dataclass

from toolkit.errors import InputError
from toolkit.suggest import did_you_mean

GROUP_SIZE = 128  #: w4a16 (GPTQ/AWQ, compressed-tensors) group size: one fp16 scale per 128 weights
CPU_BLOCK = 32  #: onnxruntime MatMulNBits block size: one fp32 scale per 32 int4 weights


@dataclass(frozen=True)
class ModelFormat:
    """How a variant stores its linear-layer weights and which peak its matmuls run at."""

    name: str
    weight_bytes_per_param: float  #: bytes per linear-layer weight, scales included
    compute: str  #: peak used when the device runs the format natively: fp16 | fp8 | int8 | fp32
    devices: tuple[str, ...]  #: gpu and/or cpu
    native_min_cc: float | None = None  #: compute capability for native compute (GPU)
    runs_min_cc: float | None = None  #: compute capability to run at all (weight-only below native)
    kv_bytes: float = 2.0  #: KV-cache bytes per element (the engine's default kv_cache_dtype)
    description: str = ""


FORMATS: dict[str, ModelFormat] = {f.name: f for f in (
    ModelFormat("bf16", 2.0, "fp16", ("gpu",), 8.0, 7.0, description="bfloat16 weights and activations (runs as fp16 below cc 8.0)"),
    ModelFormat("fp16", 2.0, "fp16", ("gpu",), 7.0, 7.0, description="float16 weights and activations"),
    ModelFormat("fp8", 1.0, "fp8", ("gpu",), 8.9, 7.5, description="FP8 E4M3 weights; W8A8 on cc >= 8.9, weight-only W8A16 below"),
    ModelFormat("w4a16", 0.5 + 2.0 / GROUP_SIZE, "fp16", ("gpu",), 7.5, 7.5,
                description=f"4-bit weights, one fp16 scale per {GROUP_SIZE} (GPTQ/AWQ Marlin), fp16 activations"),
    ModelFormat("int8", 1.0, "int8", ("gpu", "cpu"), 7.5, 7.5, description="int8 weights (W8A8 on GPU; onnxruntime dynamic int8 on CPU)"),
    ModelFormat("int4", 0.5 + 4.0 / CPU_BLOCK, "fp32", ("cpu",),
                description=f"int4 weight-only for CPU (onnxruntime MatMulNBits, block {CPU_BLOCK}), fp32 activations"),
    ModelFormat("fp32", 4.0, "fp32", ("cpu",), description="float32 ONNX reference for CPU"),
)}
ALIASES = {"bfloat16": "bf16", "float16": "fp16", "half": "fp16", "w8a8": "int8", "int4-cpu": "int4", "awq": "w4a16",
           "gptq": "w4a16", "float32": "fp32", "fp8-dynamic": "fp8"}


def model_format(name: str | ModelFormat) -> ModelFormat:
    """A format by name (aliases: bfloat16, float16, w8a8, int4-cpu, awq, gptq, ...)."""
    if isinstance(name, ModelFormat):
        return name
    key = ALIASES.get(str(name).strip().lower(), str(name).strip().lower())
    if key in FORMATS:
        return FORMATS[key]
    raise InputError(f"unknown model format '{name}'{did_you_mean(key, list(FORMATS) + list(ALIASES))}",
                     hint=f"use one of: {', '.join(FORMATS)}")


@dataclass(frozen=True)
class FormatSupport:
    """Whether a device runs a format, at which peak, and why (for explanations)."""

    runs: bool
    compute: str  #: the peak the matmuls run at on this device (fp16, fp8, int8, fp32)
    weight_only: bool  #: True when the format saves memory and bytes only (no faster matmuls)
    reason: str

    def __bool__(self) -> bool:
        return self.runs


def support(fmt: str | ModelFormat, device) -> FormatSupport:
    """Can ``device`` (a :class:`toolkit.perf.llm.hardware.Device`) run ``fmt``, and how."""
    fmt = model_format(fmt)
    acc = device.accelerator
    if device.kind == "cpu":
        if "cpu" not in fmt.devices:
            return FormatSupport(False, fmt.compute, False, f"{fmt.name} is a GPU format; CPUs run fp32, int8 or int4 variants")
        compute = "int8" if fmt.compute == "int8" else "fp32"
        return FormatSupport(True, compute, fmt.name == "int4", f"{fmt.name} on CPU ({device.name})")
    if "gpu" not in fmt.devices:
        return FormatSupport(False, fmt.compute, False, f"{fmt.name} is a CPU format (onnxruntime); {acc} needs a GPU format")
    cc = device.compute_capability
    if cc is None:
        if acc.lower().startswith("inferentia"):
            return FormatSupport(False, fmt.compute, False, f"{device.name} has AWS {acc}, which runs only Neuron-compiled models; "
                                                            "vLLM's CUDA engine cannot use it (a Neuron path is not modelled)")
        return FormatSupport(False, fmt.compute, False, f"{acc} has no CUDA compute capability: vLLM cannot run it")
    if fmt.runs_min_cc is not None and cc < fmt.runs_min_cc:
        return FormatSupport(False, fmt.compute, False,
                             f"{fmt.name} needs compute capability >= {fmt.runs_min_cc:g}; {acc} has {cc:g}")
    if fmt.name == "bf16" and not device.bf16:
        return FormatSupport(True, "fp16", False, f"{acc} (cc {cc:g}) has no bf16 tensor cores: runs as fp16 at the fp16 rate")
    if fmt.native_min_cc is not None and cc < fmt.native_min_cc:
        if fmt.name == "fp8":
            return FormatSupport(True, "fp16", True, f"FP8 compute needs cc >= 8.9; {acc} (cc {cc:g}) runs FP8 weight-only "
                                                     "(W8A16, FP8 Marlin): half the weight memory, fp16 matmul rate")
        return FormatSupport(True, "fp16", True, f"{fmt.name} on {acc} (cc {cc:g}) runs weight-only at the fp16 rate")
    if fmt.compute == "fp8" and not device.peak_tflops.get("fp8"):
        return FormatSupport(True, "fp16", True, f"no FP8 peak known for {acc}: modelled at the fp16 rate")
    weight_only = fmt.name == "w4a16"
    why = f"{fmt.name} on {acc} (cc {cc:g})" + (": 4-bit weights, fp16 matmuls" if weight_only else f": native {fmt.compute} matmuls")
    return FormatSupport(True, fmt.compute, weight_only, why)


def formats_for(device) -> list[tuple[ModelFormat, FormatSupport]]:
    """Every format the device can run, with how (the planner's variant x instance-type filter)."""
    return [(f, s) for f in FORMATS.values() if (s := support(f, device)).runs]
