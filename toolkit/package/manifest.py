"""``manifest.json`` of a package: what was packaged, for which target, and the sha256 of every file."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field

from toolkit.artifacts.common import Artifact, _Model
from toolkit.families.field import Task
from toolkit.fileio import sha256_file

MANIFEST = "manifest.json"
REPOSITORY = "model_repository"
CONTAINER = "container"
MODEL_TAR = "model.tar.gz"
LOCUSTFILE = "locustfile.py"


class BatchingInfo(_Model):
    enabled: bool
    max_batch_size: int = Field(ge=1)
    preferred_batch_sizes: list[int] = Field(default_factory=list)
    max_queue_delay_us: int = Field(ge=0, description="The ONNX model's max_queue_delay_microseconds (20% of budget_us).")
    tokenizer_queue_delay_us: int = Field(default=0, ge=0, description="The tokenizer's max_queue_delay_microseconds (80% of budget_us).")
    budget_us: int = Field(default=0, ge=0, description="Longest a lone request may wait for batch-mates in all: min(10% of the SLA latency, 10 ms); 2 ms without an SLA.")


class SLAInfo(_Model):
    percentile: Literal["p50", "p90", "p95", "p99"]
    latency_ms: float = Field(gt=0)
    max_error_rate: float = Field(default=0.001, ge=0, le=1)


class FileEntry(_Model):
    sha256: str
    size_bytes: int = Field(ge=0)


class PackageManifest(Artifact):
    KIND: ClassVar[str] = "manifest"
    SCHEMA_VERSION: ClassVar[int] = 1

    name: str = Field(description="The spec's name (or the variant's, without a spec).")
    variant: str
    variant_kind: str
    precision: Literal["fp32", "fp16", "int8"]
    task: Task = Field(description="The model family's task (a key of toolkit.families.REGISTRY).")
    target: Literal["cpu", "gpu", "sagemaker"]
    device: Literal["cpu", "gpu"]
    max_sequence_length: int
    pad_to_multiple_of: int
    ensemble: str = Field(description="The model clients call (SAGEMAKER_TRITON_DEFAULT_MODEL_NAME).")
    models: dict[str, str] = Field(description="Role -> model name: tokenizer, model, pooling, ensemble.")
    input_name: str = "TEXT"
    output_name: str = Field(description="The ensemble's output tensor, the family's triton_output: 'embedding' or 'logits'.")
    batching: BatchingInfo
    instance_kind: Literal["KIND_CPU", "KIND_GPU"]
    instance_count: int = Field(ge=1)
    threads_per_instance: int = Field(ge=0)
    sla: SLAInfo | None = None
    triton_version: str
    image: str = Field(description="Base image of the container context.")
    source_files: dict[str, str] = Field(default_factory=dict, description="sha256 of the variant files packaged (verified against variants.json).")
    environment: dict[str, str] = Field(default_factory=dict, description="Environment the serving container needs (e.g. SAGEMAKER_TRITON_DEFAULT_MODEL_NAME).")
    files: dict[str, FileEntry] = Field(default_factory=dict, description="sha256 and size of every file in the package, manifest excluded.")


def hash_tree(root: Path) -> dict[str, FileEntry]:
    """sha256 of every regular file under ``root`` (manifest.json excluded), by POSIX relative path."""
    out: dict[str, FileEntry] = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.is_symlink():
            rel = p.relative_to(root).as_posix()
            if rel == MANIFEST:
                continue
            out[rel] = FileEntry(sha256=sha256_file(p), size_bytes=p.stat().st_size)
    return out
