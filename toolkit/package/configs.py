"""The four models of a packaged repository and their Triton configs.

``tokenizer`` (Python backend: text → token ids) → ``model`` (the ONNX variant on Triton's onnxruntime
backend) → ``pooling`` (Python backend: attention-mask mean + L2 normalisation; families with
``family.pooling`` only), wired by ``ensemble`` so a client sends raw strings and gets the family's
``triton_output`` back (vectors, logits).
"""

from __future__ import annotations

from dataclasses import dataclass

from toolkit.errors import ModelError
from toolkit.package import pbtxt
from toolkit.package.onnx_io import GraphSignature, TensorSig

TOKENIZER, MODEL, POOLING, ENSEMBLE = "tokenizer", "model", "pooling", "ensemble"
TEXT_INPUT = "TEXT"
TOKEN_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
ONNX_PLATFORM = "onnxruntime_onnx"

#: A lone request may wait at most this fraction of the SLA latency, in all, for batch-mates ...
QUEUE_DELAY_SLA_FRACTION = 0.1
#: ... and never more than this, however loose the SLA.
QUEUE_DELAY_CAP_MS = 10.0
#: Without an SLA (no --spec), this budget is used.
DEFAULT_QUEUE_DELAY_MS = 2.0
#: The tokenizer pads the texts it handles at once to the longest, rounded up to this multiple (``--pad-to-multiple-of``);
#: compress measures quality with the same padding (``toolkit.compress.runtime.Serving``).
DEFAULT_PAD_TO_MULTIPLE_OF = 8
#: Share of the budget spent in the tokenizer, which groups requests and pads each group to one
#: length (Triton batches only equal shapes); the rest lets the model catch a group as it arrives.
TOKENIZER_SHARE = 0.8


@dataclass(frozen=True)
class Batching:
    """Dynamic batching of one model."""

    enabled: bool
    max_batch_size: int
    preferred_batch_sizes: tuple[int, ...]
    max_queue_delay_us: int


@dataclass(frozen=True)
class BatchingPlan:
    """Dynamic batching of the whole pipeline, derived from the SLA."""

    enabled: bool
    max_batch_size: int
    budget_us: int
    tokenizer: Batching
    model: Batching
    pooling: Batching


def batching_plan(sla_ms: float | None, max_batch_size: int, enabled: bool = True) -> BatchingPlan:
    """Budget = min(10% of the SLA latency, 10 ms): 80% waited in the tokenizer, 20% in the model, 0 in pooling."""
    if max_batch_size < 1:
        raise ModelError("max batch size must be at least 1", hint="pass --max-batch-size 1 or more")
    on = enabled and max_batch_size > 1
    budget_ms = DEFAULT_QUEUE_DELAY_MS if sla_ms is None else min(QUEUE_DELAY_SLA_FRACTION * sla_ms, QUEUE_DELAY_CAP_MS)
    budget_us = int(round(budget_ms * 1000))
    tok_us = int(round(budget_us * TOKENIZER_SHARE))
    preferred = tuple(b for b in (4, 8, 16, 32, 64, 128) if b <= max_batch_size)
    return BatchingPlan(
        enabled=on,
        max_batch_size=max_batch_size,
        budget_us=budget_us,
        tokenizer=Batching(on, max_batch_size, (), tok_us),
        model=Batching(on, max_batch_size, preferred, budget_us - tok_us),
        pooling=Batching(on, max_batch_size, (), 0),
    )


@dataclass(frozen=True)
class Placement:
    """Where the ONNX model runs: KIND_CPU with ``count`` instances × ``threads`` intra-op threads, or KIND_GPU."""

    kind: str
    count: int
    threads: int


def cpu_placement(cores: int, instances: int | None = None, threads: int | None = None) -> Placement:
    """Instances suited to the cores: two intra-op threads per instance, one instance per two cores."""
    cores = max(1, cores)
    threads = threads or (2 if cores >= 2 else 1)
    count = instances or max(1, cores // threads)
    return Placement("KIND_CPU", count, threads)


def gpu_placement(instances: int | None = None) -> Placement:
    return Placement("KIND_GPU", instances or 1, 0)


def _tensor(container, name: str, dtype: str, dims) -> None:
    t = container.add()
    t.name = name
    t.data_type = pbtxt.data_type(dtype)
    t.dims.extend(list(dims))


def _common(config, name: str, batching: Batching) -> None:
    config.name = name
    config.max_batch_size = batching.max_batch_size
    config.version_policy.latest.num_versions = 1


def _dynamic_batching(config, batching: Batching) -> None:
    if batching.enabled:
        config.dynamic_batching.preferred_batch_size.extend(batching.preferred_batch_sizes)
        config.dynamic_batching.max_queue_delay_microseconds = batching.max_queue_delay_us
        if not batching.max_queue_delay_us and not batching.preferred_batch_sizes:
            config.dynamic_batching.SetInParent()  # an empty block still turns the dynamic batcher on


def _instances(config, kind: str, count: int) -> None:
    group = config.instance_group.add()
    group.count = count
    group.kind = pbtxt.pb2().ModelInstanceGroup.Kind.Value(kind)


def require_batchable(sig: GraphSignature, source: str) -> None:
    fixed = [t.name for t in sig.inputs + sig.outputs if not t.batch_dynamic]
    if fixed:
        raise ModelError(
            f"{source}: tensor '{fixed[0]}' has a fixed first dimension, so Triton cannot batch requests",
            hint="export the model with a dynamic batch axis (optimum-onnx does this by default)",
        )


def _family(family_or_task):
    if isinstance(family_or_task, str):
        from toolkit.families import family_for

        return family_for(family_or_task)
    return family_or_task


def pooled_output(sig: GraphSignature, family) -> TensorSig:
    """The graph output the ensemble returns (or pools): the family's ``output_name``, else the first of its ``output_rank``.

    ``family`` is a ``toolkit.families.Family`` or a task name."""
    family = _family(family)
    wanted, rank = family.output_name, family.output_rank
    out = sig.output(wanted) or next((o for o in sig.outputs if len(o.shape) == rank), None)
    if out is None:
        names = ", ".join(o.name for o in sig.outputs)
        raise ModelError(f"the ONNX graph has no '{wanted}' output (outputs: {names})",
                         hint=f"export the model for the '{family.task}' task")
    return out


def token_inputs(sig: GraphSignature) -> list[TensorSig]:
    unknown = [t.name for t in sig.inputs if t.name not in TOKEN_INPUTS]
    if unknown:
        raise ModelError(f"the ONNX graph takes input '{unknown[0]}', which the tokenizer cannot produce",
                         hint=f"the tokenizer model produces {', '.join(TOKEN_INPUTS)}")
    return list(sig.inputs)


def model_config(sig: GraphSignature, batching: Batching, placement: Placement, precision: str):
    """Config of the ONNX model for Triton's native onnxruntime backend (what production runs)."""
    c = pbtxt.new_config()
    _common(c, MODEL, batching)
    c.platform = ONNX_PLATFORM
    c.backend = "onnxruntime"
    for t in sig.inputs:
        _tensor(c.input, t.name, t.data_type, t.shape[1:])
    for t in sig.outputs:
        _tensor(c.output, t.name, t.data_type, t.shape[1:])
    _dynamic_batching(c, batching)
    _instances(c, placement.kind, placement.count)
    if placement.kind == "KIND_CPU":
        pbtxt.set_parameter(c, "intra_op_thread_count", placement.threads)
        pbtxt.set_parameter(c, "inter_op_thread_count", 1)
    elif precision != "int8":
        # TensorRT through onnxruntime, at the variant's own precision (fp32 stays fp32: the fidelity
        # compress measured). Dynamic-int8 graphs are left to the CUDA execution provider.
        acc = c.optimization.execution_accelerators.gpu_execution_accelerator.add()
        acc.name = "tensorrt"
        acc.parameters["precision_mode"] = "FP16" if precision == "fp16" else "FP32"
        acc.parameters["max_workspace_size_bytes"] = str(1 << 30)
        acc.parameters["trt_engine_cache_enable"] = "1"
        acc.parameters["trt_engine_cache_path"] = "/tmp/trt_cache"
    return c


def tokenizer_config(outputs: list[TensorSig], batching: Batching, max_sequence_length: int, pad_to_multiple_of: int,
                     pad_token_id: int):
    """Config of the tokenizer model (Python backend): TEXT (TYPE_STRING) in, token tensors out."""
    c = pbtxt.new_config()
    _common(c, TOKENIZER, batching)
    c.backend = "python"
    _tensor(c.input, TEXT_INPUT, "TYPE_STRING", [1])
    for t in outputs:
        _tensor(c.output, t.name, t.data_type, [-1])
    _dynamic_batching(c, batching)
    _instances(c, "KIND_CPU", 1)
    pbtxt.set_parameter(c, "max_sequence_length", max_sequence_length)
    pbtxt.set_parameter(c, "pad_to_multiple_of", pad_to_multiple_of)
    pbtxt.set_parameter(c, "pad_token_id", pad_token_id)
    return c


def pooling_config(hidden: TensorSig, mask: TensorSig, batching: Batching, output_name: str = "embedding"):
    """Config of the pooling model (Python backend): attention-mask mean of the token vectors, L2-normalised."""
    c = pbtxt.new_config()
    _common(c, POOLING, batching)
    c.backend = "python"
    _tensor(c.input, hidden.name, hidden.data_type, hidden.shape[1:])
    _tensor(c.input, mask.name, mask.data_type, [-1])
    _tensor(c.output, output_name, "TYPE_FP32", [hidden.shape[-1]])
    _dynamic_batching(c, batching)
    _instances(c, "KIND_CPU", 1)
    return c


def ensemble_config(family, tokenizer_outputs: list[TensorSig], model_inputs: list[TensorSig], result: TensorSig,
                    batching: Batching, mask_name: str = "attention_mask"):
    """The ensemble a client calls: TEXT in, the family's ``triton_output`` out (``embedding`` after a pooling step, or ``logits``).

    ``family`` is a ``toolkit.families.Family`` or a task name."""
    family = _family(family)
    out_name = family.triton_output
    c = pbtxt.new_config()
    _common(c, ENSEMBLE, batching)
    c.platform = "ensemble"
    _tensor(c.input, TEXT_INPUT, "TYPE_STRING", [1])
    steps = c.ensemble_scheduling.step
    tok = steps.add()
    tok.model_name, tok.model_version = TOKENIZER, -1
    tok.input_map[TEXT_INPUT] = TEXT_INPUT
    for t in tokenizer_outputs:
        tok.output_map[t.name] = t.name
    mod = steps.add()
    mod.model_name, mod.model_version = MODEL, -1
    for t in model_inputs:
        mod.input_map[t.name] = t.name
    if family.pooling:
        mod.output_map[result.name] = result.name
        pool = steps.add()
        pool.model_name, pool.model_version = POOLING, -1
        pool.input_map[result.name] = result.name
        pool.input_map[mask_name] = mask_name
        pool.output_map[out_name] = out_name
        _tensor(c.output, out_name, "TYPE_FP32", [result.shape[-1]])
    else:
        mod.output_map[result.name] = out_name
        _tensor(c.output, out_name, result.data_type, result.shape[1:])
    return c
