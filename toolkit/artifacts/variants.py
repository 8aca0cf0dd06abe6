"""``variants.json``: what ``leanserve compress`` built, and how good, big and fast each variant is."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

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
    variants: list[Variant]

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
