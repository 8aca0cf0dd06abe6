"""Instance types that cannot run a variant, and why (Inferentia, non-CUDA GPUs, fp16 on CPUs, memory)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Exclusion:
    """An instance type that cannot run the variant, and why."""

    instance_type: str
    reason: str
    variant: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


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
