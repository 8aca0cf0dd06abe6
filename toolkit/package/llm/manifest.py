"""``manifest.json`` of an LLM package (kind ``llm-manifest``): what was packaged, how it runs, every file's sha256."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field

from toolkit.artifacts.common import Artifact, _Model
from toolkit.package.llm.engine import EngineArgs
from toolkit.package.manifest import MANIFEST, REPOSITORY, FileEntry

KIND = "llm-manifest"


class CpuRuntimeInfo(_Model):
    instances: int = Field(ge=1, description="KIND_CPU model instances; each decodes one request at a time.")
    threads: int = Field(ge=1, description="onnxruntime intra-op threads per instance.")
    max_model_len: int = Field(ge=1, description="Longest prompt + output in tokens; longer requests are refused.")
    runtime: str = Field(default="onnxruntime KV-cache loop", description="What decodes: the ONNX graph with its KV cache.")


class WeightsInfo(_Model):
    source: Literal["baked", "s3"] = Field(description="baked: the weights are inside the repository (and the image / model.tar.gz); "
                                                       "s3: the container fetches them from ``uri`` at start.")
    uri: str | None = Field(default=None, description="s3://bucket/prefix the weights are fetched from (source s3).")
    path: str = Field(description="Where the engine reads them, inside the serving container (model.json's 'model'), or the "
                                  "repository-relative folder on CPU.")
    bytes: int = Field(default=0, ge=0, description="Size of the weight files packaged (0 when fetched at start).")


class LLMManifest(Artifact):
    KIND: ClassVar[str] = KIND
    SCHEMA_VERSION: ClassVar[int] = 1

    name: str = Field(description="The spec's name (or 'leanserve' without a spec).")
    variant: str
    variant_kind: str = ""
    precision: str = Field(description="Weight format: fp32, int8, int4 (CPU ONNX); bf16, fp8, w4a16, w8a8 (GPU).")
    task: str = Field(default="text-generation", description="The model family's task.")
    target: Literal["cpu", "gpu", "sagemaker"]
    device: Literal["cpu", "gpu"]
    backend: Literal["python", "vllm"] = Field(description="Triton backend of the model: vllm (GPU) or python (CPU, onnxruntime).")
    model: str = Field(description="The Triton model clients call (its generate / generate_stream endpoints).")
    input_name: str = "text_input"
    output_name: str = "text_output"
    engine: EngineArgs | None = Field(default=None, description="vLLM engine arguments (model.json), GPU packages.")
    cpu: CpuRuntimeInfo | None = Field(default=None, description="How the CPU model runs, CPU packages.")
    weights: WeightsInfo
    tokenizer: str | None = Field(default=None, description="Repository-relative tokenizer.json the model detokenizes with.")
    triton_version: str
    image: str = Field(description="Base image of the container context.")
    source_files: dict[str, str] = Field(default_factory=dict, description="sha256 of the variant files packaged.")
    environment: dict[str, str] = Field(default_factory=dict, description="Environment the serving container needs.")
    notes: list[str] = Field(default_factory=list, description="Where engine arguments came from, and caveats.")
    files: dict[str, FileEntry] = Field(default_factory=dict, description="sha256 and size of every file, manifest excluded.")

    @property
    def ensemble(self) -> str:
        """The model clients call (what encoder packages name their ensemble), for code that serves both."""
        return self.model

    @property
    def models(self) -> dict[str, str]:
        return {"model": self.model}


def manifest_kind(root: Path) -> str | None:
    """The ``kind`` of ``root``/manifest.json (None when there is none or it is unreadable)."""
    p = Path(root) / MANIFEST
    try:
        data = json.loads(p.read_text(encoding="utf-8")) if p.is_file() else None
    except (OSError, ValueError):
        return None
    return data.get("kind") if isinstance(data, dict) else None


def is_llm_package(root) -> bool:
    """Whether ``root`` is an LLM package (its manifest says so) or a bare repository holding an LLM model
    (a vLLM-backend model, or a decoupled model taking ``text_input``)."""
    p = Path(root)
    if not p.is_dir():
        return False
    kind = manifest_kind(p)
    if kind is not None:
        return kind == KIND
    repo = p / REPOSITORY if (p / REPOSITORY).is_dir() else p
    for cfg in sorted(repo.glob("*/config.pbtxt")):
        try:
            text = cfg.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if '"vllm"' in text or ("decoupled: true" in text and '"text_input"' in text):
            return True
    return False
