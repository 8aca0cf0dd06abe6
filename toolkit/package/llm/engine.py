"""The vLLM engine arguments of a GPU package (``<model>/1/model.json``), from a plan or from defaults.

Triton's vLLM backend reads ``model.json`` from the model's version folder and passes it as keyword
arguments to ``vllm.engine.arg_utils.AsyncEngineArgs(**json)`` (triton-inference-server/vllm_backend,
``src/model.py``: ``_VLLM_ENGINE_ARGS_FILENAME = "model.json"``; sample
``samples/model_repository/vllm_model/1/model.json``), so the keys are vLLM's engine-argument names
(docs.vllm.ai "Engine Arguments": ``--max-model-len`` → ``max_model_len``, ``--kv-cache-dtype
{auto,fp8,fp8_e5m2,fp8_e4m3}``, ``--quantization``, ``--max-num-seqs``, ``--gpu-memory-utilization``,
``--tensor-parallel-size``, ``--max-num-batched-tokens``, ``--enable-chunked-prefill``). Only keys that
have kept their names across vLLM releases are written; anything else would fail ``AsyncEngineArgs``
at model load.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

#: vLLM's defaults (engine-argument docs), used where neither the plan nor the options say otherwise
DEFAULT_MAX_NUM_SEQS = 256
DEFAULT_GPU_MEMORY_UTILIZATION = 0.9
DEFAULT_MAX_MODEL_LEN_CAP = 4096  # without a plan: the model's context, at most this (bounds the KV cache per sequence)
KV_CACHE_DTYPES = ("auto", "fp8", "fp8_e4m3", "fp8_e5m2")
#: quantization methods vLLM names in ``--quantization`` that a leanserve GPU variant can carry
QUANTIZATIONS = ("compressed-tensors", "fp8", "awq", "gptq", "gptq_marlin", "awq_marlin", "bitsandbytes")


class EngineArgs(BaseModel):
    """What ``model.json`` holds: vLLM ``AsyncEngineArgs`` keyword arguments (names as vLLM spells them)."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(description="Path of the weights folder inside the serving container (or a Hugging Face id).")
    quantization: str | None = Field(default=None, description="vLLM quantization method of the weights; None: unquantized (or detected).")
    dtype: Literal["auto", "bfloat16", "float16", "float32", "half", "float"] = "auto"
    max_model_len: int = Field(ge=16, description="Longest prompt + output, in tokens (bounds the KV cache per sequence).")
    max_num_seqs: int = Field(default=DEFAULT_MAX_NUM_SEQS, ge=1, description="Most sequences decoded at once.")
    max_num_batched_tokens: int | None = Field(default=None, ge=1, description="Tokens per engine step (the chunked-prefill budget).")
    enable_chunked_prefill: bool | None = None
    gpu_memory_utilization: float = Field(default=DEFAULT_GPU_MEMORY_UTILIZATION, gt=0, le=1)
    tensor_parallel_size: int = Field(default=1, ge=1)
    kv_cache_dtype: Literal[KV_CACHE_DTYPES] = "auto"
    enforce_eager: bool = False

    def to_json(self) -> str:
        """model.json's text: every set key, sorted, None left out (vLLM's default then applies)."""
        data = {k: v for k, v in self.model_dump().items() if v is not None}
        return json.dumps(data, indent=2, sort_keys=True) + "\n"


def read_hf_config(folder: Path) -> dict:
    p = folder / "config.json"
    try:
        return json.loads(p.read_text(encoding="utf-8")) if p.is_file() else {}
    except (OSError, ValueError):
        return {}


def quantization_of(config: dict) -> str | None:
    """vLLM's quantization method for an HF folder's config.json: its ``quantization_config.quant_method``
    (llm-compressor writes 'compressed-tensors'), None for plain bf16/fp16/fp32 weights."""
    q = config.get("quantization_config") or config.get("compression_config") or {}
    method = q.get("quant_method") if isinstance(q, dict) else None
    if not method and q:
        return "compressed-tensors"
    return str(method) if method else None


def context_length(config: dict) -> int | None:
    for key in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"):
        if isinstance(config.get(key), int) and config[key] > 0:
            return int(config[key])
    return None


def _get(obj, *names, default=None):
    """The first attribute or key of ``obj`` named in ``names`` that is set."""
    if obj is None:
        return default
    for n in names:
        v = obj.get(n) if isinstance(obj, dict) else getattr(obj, n, None)
        if v is not None:
            return v
    return default


def engine_args(model_path: str, hf_config: dict, *, plan_candidate=None, max_model_len: int | None = None,
                max_num_seqs: int | None = None, gpu_memory_utilization: float | None = None,
                tensor_parallel_size: int | None = None, kv_cache_dtype: str | None = None) -> tuple[EngineArgs, list[str]]:
    """The engine arguments and where each came from (notes). Explicit arguments win, then the plan's chosen
    candidate (``tp`` / ``tensor_parallel_size``, ``engine`` limits: ``max_num_seqs``, ``max_num_batched_tokens``,
    ``chunked_prefill``, ``gpu_memory_utilization``, ``kv_cache_dtype``, ``max_model_len``), then defaults."""
    notes: list[str] = []
    limits = _get(plan_candidate, "engine", "engine_limits", "limits")
    ctx = context_length(hf_config)

    def pick(name: str, given, *plan_names, default):
        if given is not None:
            return given
        v = _get(limits, *plan_names) if limits is not None else None
        if v is None:
            v = _get(plan_candidate, *plan_names)
        if v is not None:
            notes.append(f"{name} = {v} from the plan")
            return v
        return default

    default_len = min(ctx, DEFAULT_MAX_MODEL_LEN_CAP) if ctx else 2048
    mml = int(pick("max_model_len", max_model_len, "max_model_len", default=default_len))
    if ctx and mml > ctx:
        notes.append(f"max_model_len {mml} is above the model's context ({ctx}): vLLM will refuse it")
    args = EngineArgs(
        model=model_path,
        quantization=quantization_of(hf_config),
        max_model_len=mml,
        max_num_seqs=int(pick("max_num_seqs", max_num_seqs, "max_num_seqs", default=DEFAULT_MAX_NUM_SEQS)),
        max_num_batched_tokens=pick("max_num_batched_tokens", None, "max_num_batched_tokens", default=None),
        enable_chunked_prefill=pick("enable_chunked_prefill", None, "chunked_prefill", "enable_chunked_prefill", default=None),
        gpu_memory_utilization=float(pick("gpu_memory_utilization", gpu_memory_utilization, "gpu_memory_utilization",
                                          default=DEFAULT_GPU_MEMORY_UTILIZATION)),
        tensor_parallel_size=int(pick("tensor_parallel_size", tensor_parallel_size, "tensor_parallel_size", "tp", default=1)),
        kv_cache_dtype=str(pick("kv_cache_dtype", kv_cache_dtype, "kv_cache_dtype", default="auto")),
    )
    if plan_candidate is None:
        notes.append("no --plan: vLLM's defaults for max_num_seqs and gpu_memory_utilization, "
                     f"max_model_len {mml} ({'the model context' if ctx and mml == ctx else 'capped'})")
    return args, notes
