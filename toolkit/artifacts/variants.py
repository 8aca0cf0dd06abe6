"""``variants.json``: what ``leanserve compress`` built, and how good, big and fast each variant is."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, Union

from pydantic import Discriminator, Field, Tag

from toolkit.artifacts.common import Artifact, MachineInfo, Provenance, _Model
from toolkit.families.field import Task


class LatencyPoint(_Model):
    """Latency of one variant at one input shape, measured in-process with onnxruntime (or torch)."""

    batch: int = Field(ge=1)
    seq_len: int = Field(ge=1)
    threads: int = Field(ge=1)
    p50_ms: float = Field(ge=0)
    p95_ms: float = Field(ge=0)
    items_per_s: float = Field(ge=0, description="Sequences per second at this shape (batch / p50).")
    provenance: Provenance


class Quality(_Model):
    """Fidelity to the fp32 reference on held-out text, and task accuracy when labels exist."""

    cosine_mean: float | None = None
    cosine_p5: float | None = None
    top1_agreement: float | None = None
    kl_divergence: float | None = None
    probe_accuracy: float | None = Field(default=None, description="Accuracy (0-1) of a probe trained on reference embeddings.")
    accuracy_drop_points: float | None = Field(default=None, description="Reference probe accuracy minus this one, in percentage points.")
    eval_examples: int = 0
    batch_mates_max_abs_diff: float | None = Field(
        default=None, ge=0,
        description="Largest |difference| between a text's output sent alone and sent with batch-mates, as served "
                    "(padding and batching: see variants.json 'evaluation'); 0 means the served result does not depend on them.")


class Variant(_Model):
    name: str = Field(examples=["onnx-int8"])
    kind: Literal["reference", "onnx-fp32", "onnx-int8", "onnx-int8-static", "onnx-fp16", "distilled", "pruned-heads", "sparsity"]
    path: str = Field(description="Folder of the variant, relative to variants.json.")
    model_file: str | None = Field(default=None, description="The ONNX file, relative to the variant folder (None for the torch reference).")
    files: dict[str, str] = Field(default_factory=dict, description="sha256 of every file in the variant folder, by relative path.")
    size_bytes: int = Field(ge=0)
    precision: Literal["fp32", "fp16", "int8"]
    num_layers: int | None = None
    devices: list[Literal["cpu", "gpu"]] = Field(default_factory=lambda: ["cpu"])
    status: Literal["accepted", "rejected"] = "accepted"
    rejected_reason: str | None = None
    notes: list[str] = Field(default_factory=list, description="Honest caveats, e.g. 'sparsity only: no speed-up on this runtime'.")
    quality: Quality = Field(default_factory=Quality)
    latency: list[LatencyPoint] = Field(default_factory=list)
    gflops_per_item: float | None = Field(default=None, description="Forward-pass GFLOPs for one sequence of seq_len tokens (for the perf model).")
    build_seconds: float | None = Field(default=None, description="Wall time spent building this variant (export, quantization, training), seconds.")


DECODER_KINDS = ("llm-onnx-fp32", "llm-onnx-int8", "llm-onnx-int4", "llm-pruned-layers", "llm-w4a16", "llm-fp8")


class DecoderQuality(Quality):
    """A generative variant against the fp32 reference on held-out token windows (``compress.decoder.quality``)."""

    perplexity: float | None = Field(default=None, ge=0, description="Perplexity of the true next tokens on the held-out windows.")
    reference_perplexity: float | None = Field(default=None, ge=0)
    perplexity_increase_pct: float | None = Field(default=None, description="100 × (perplexity / reference's − 1).")
    mean_kl: float | None = Field(default=None, ge=0, description="Mean KL(reference ‖ variant) of next-token distributions, nats.")
    eval_tokens: int = Field(default=0, ge=0, description="Scored next-token positions.")
    eval_windows: int = Field(default=0, ge=0)
    eval_context: int = Field(default=0, ge=0, description="Tokens per window (no padding: every window is full).")
    text_source: str | None = Field(default=None, description="Where the held-out text came from (the spec's value).")
    exact_match: float | None = Field(default=None, ge=0, le=1, description="Share of the spec's task_check pairs answered exactly (greedy).")
    before_recovery: dict[str, float] | None = Field(default=None, description="pruned-layers: perplexity increase and KL right after pruning.")


class DecoderLatency(_Model):
    """In-process CPU latency of a decoder variant (``compress.decoder.latency``): what the LLM planner's CPU path calibrates on."""

    prompt_tokens: int = Field(ge=1, description="Prompt length of the prefill runs, tokens.")
    decode_tokens: int = Field(ge=1, description="Timed decode steps after each prefill.")
    threads: int = Field(ge=1)
    prefill_ms: dict[int, float] = Field(description="batch -> ms for the whole prompt (batch 1: TTFT without queueing).")
    decode_ms_per_token: dict[int, float] = Field(description="batch -> ms per decode step (the inter-token latency).")
    tokens_per_s: dict[int, float] = Field(default_factory=dict, description="batch -> generated tokens/s over all sequences.")
    cpu_isa: str = Field(description="The CPU features int8/int4 kernels depend on, e.g. 'AVX-512 VNNI'.", examples=["AVX2"])
    provenance: Provenance


class DecoderVariant(Variant):
    """A generative (text-generation) variant: an ONNX decoder with KV cache (CPU) or a compressed-tensors folder (vLLM)."""

    kind: Literal["reference", "llm-onnx-fp32", "llm-onnx-int8", "llm-onnx-int4", "llm-pruned-layers", "llm-w4a16", "llm-fp8"]
    precision: Literal["fp32", "int8", "int4", "w4a16", "fp8"]
    format: str = Field(description="The model format the performance model runs (toolkit.perf.llm.formats): fp32, int8, int4, w4a16, fp8.")
    runtime: Literal["torch-cpu", "onnxruntime-cpu", "vllm-cuda"] = "onnxruntime-cpu"
    weight_bytes: int = Field(default=0, ge=0, description="Bytes of the weight files (model.onnx + external data, or *.safetensors).")
    kv_bytes_per_token: int = Field(default=0, ge=0, description="KV-cache bytes one token of one sequence takes (all layers, as stored).")
    dropped_layers: list[int] = Field(default_factory=list, description="pruned-layers: the reference's layer indices removed.")
    quality: DecoderQuality = Field(default_factory=DecoderQuality)
    decoder_latency: DecoderLatency | None = Field(
        default=None, description="Measured here for CPU variants; None for GPU formats (their speed is estimated, never measured here).")


def _variant_tag(v) -> str:
    """Decoder kinds (and a reference with a ``format``: the causal LM's) validate as DecoderVariant, the rest as Variant."""
    if isinstance(v, dict):
        kind, fmt = v.get("kind"), v.get("format")
    else:
        kind, fmt = getattr(v, "kind", None), getattr(v, "format", None)
    return "decoder" if kind in DECODER_KINDS or (kind == "reference" and fmt) else "encoder"


AnyVariant = Annotated[Union[Annotated[Variant, Tag("encoder")], Annotated[DecoderVariant, Tag("decoder")]], Discriminator(_variant_tag)]


class VariantsFile(Artifact):
    KIND: ClassVar[str] = "variants"
    SCHEMA_VERSION: ClassVar[int] = 1

    model_source: str
    task: Task = Field(description="The model family's task (a key of toolkit.families.REGISTRY).")
    max_sequence_length: int
    machine: MachineInfo
    libraries: dict[str, str] = Field(default_factory=dict, description="Versions of torch, transformers, onnxruntime, optimum ...")
    reference: str = Field(default="reference", description="Name of the fp32 reference the others are compared with.")
    evaluation: dict[str, str | int | None] = Field(
        default_factory=dict,
        description="Where the evaluation numbers come from: held-out text source and sizes, probe split sizes, seed.",
    )
    variants: list[AnyVariant] = Field(description="The reference first, then each variant (encoder or decoder kinds).")

    def get(self, name: str) -> Variant:
        from toolkit.errors import InputError
        from toolkit.suggest import did_you_mean

        for v in self.variants:
            if v.name == name:
                return v
        names = [v.name for v in self.variants]
        tip = did_you_mean(name, names, cutoff=0.6)
        raise InputError(f"no variant named '{name}' in variants.json{tip}", hint=f"choose one of: {', '.join(names)}")

    def accepted(self) -> list[Variant]:
        return [v for v in self.variants if v.status == "accepted" and v.kind != "reference"]
