"""The variants of an architecture-only plan: one per GPU format, built in memory, every figure estimated.

A spec with ``model.architecture`` (or a generative spec planned without ``--variants``) has no
variants.json: compress needs weights. :func:`architecture_variants` stands in for it with a
:class:`FormatVariant` for each format the accelerators can run (bf16, fp8, w4a16), sized from the
architecture (weights in that format) and marked estimated. Nothing here is measured, and nothing is
written to disk.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from toolkit.artifacts.variants import Variant, VariantsFile
from toolkit.planner.llm_capacity import ARCHITECTURE_FORMATS

NOTE = "architecture only: no weights, so nothing was built or measured; size, speed and quality are estimates"


class FormatVariant(Variant):
    """A variant that exists only as a shape and a format (architecture-only plans)."""

    kind: Literal["llm-format"] = "llm-format"
    precision: str = Field(description="The format: bf16, fp8, w4a16.")
    format: str = Field(description="The model format the performance model runs (toolkit.perf.llm.formats).")
    kv_bytes_per_token: float = Field(ge=0, description="KV-cache bytes one token occupies (all layers).")
    runtime: str = "vllm-cuda"


def architecture_variants(loaded, ctx=None) -> VariantsFile:
    """The in-memory VariantsFile of an architecture-only plan for ``loaded`` (a LoadedSpec)."""
    from toolkit.artifacts.common import MachineInfo
    from toolkit.perf.llm.formats import model_format
    from toolkit.planner.llm_context import context_for

    spec = loaded.spec
    ctx = ctx or context_for(spec, loaded.path.parent)
    arch = ctx.arch
    variants = []
    for name in ARCHITECTURE_FORMATS:
        fmt = model_format(name)
        variants.append(FormatVariant(
            name=name, path="", size_bytes=int(arch.weight_bytes(fmt)), precision=name, format=name, num_layers=arch.layers,
            devices=["gpu"], kv_bytes_per_token=arch.kv_bytes_per_token(fmt.kv_bytes),
            notes=[NOTE, fmt.description],
        ))
    return VariantsFile(
        spec_sha256=loaded.sha256, model_source=spec.model.architecture or spec.model.source or arch.name, task=spec.model.task,
        max_sequence_length=int(arch.max_context), machine=MachineInfo.local(), variants=variants,
        evaluation={"source": "architecture only", "architecture": ctx.arch_note},
    )


def is_architecture_only(variants) -> bool:
    return bool(variants.variants) and all(isinstance(v, FormatVariant) for v in variants.variants)
