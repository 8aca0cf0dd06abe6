"""``config.pbtxt`` of an LLM repository: the vLLM backend's (GPU) and the decoupled Python-backend model's (CPU).

Both declare the vLLM backend's request and response tensors (triton-inference-server/vllm_backend,
``samples/model_repository/vllm_model/config.pbtxt`` and the inputs its ``auto_complete_config`` adds), so
one client works against either: ``text_input`` TYPE_STRING [1]; optional ``stream`` TYPE_BOOL [1],
``sampling_parameters`` TYPE_STRING [1] (a JSON object: ``max_tokens``, ``temperature``, ``ignore_eos``, ...),
``exclude_input_in_output`` TYPE_BOOL [1]; output ``text_output`` TYPE_STRING [-1]. Batching is the engine's:
``max_batch_size: 0`` and the decoupled transaction policy (one request, many responses).
"""

from __future__ import annotations

from dataclasses import dataclass

from toolkit.package import pbtxt

MODEL = "llm"  # the one model of an LLM repository (clients call /v2/models/llm/generate_stream)
TEXT_INPUT, TEXT_OUTPUT = "text_input", "text_output"
#: (name, data type, dims, optional): the vLLM backend's inputs this contract uses
INPUTS: tuple[tuple[str, str, tuple[int, ...], bool], ...] = (
    (TEXT_INPUT, "TYPE_STRING", (1,), False),
    ("stream", "TYPE_BOOL", (1,), True),
    ("sampling_parameters", "TYPE_STRING", (1,), True),
    ("exclude_input_in_output", "TYPE_BOOL", (1,), True),
)
OUTPUTS: tuple[tuple[str, str, tuple[int, ...]], ...] = ((TEXT_OUTPUT, "TYPE_STRING", (-1,)),)
#: the Python-backend model's files in its version folder
MODEL_PY, DECODE_PY = "model.py", "llm_decode.py"
VLLM_ENGINE_FILE = "model.json"
WEIGHTS_DIR = "weights"  # GPU: the HF folder vLLM loads, inside the version folder


@dataclass(frozen=True)
class CpuRuntime:
    """How the CPU model runs: model instances (one request each at a time) × onnxruntime intra-op threads."""

    instances: int
    threads: int
    max_model_len: int
    spin: bool = False  # onnxruntime's idle-thread spinning (off: the server's threads keep their cores)


def _io(config) -> None:
    for name, dtype, dims, optional in INPUTS:
        t = config.input.add()
        t.name = name
        t.data_type = pbtxt.data_type(dtype)
        t.dims.extend(list(dims))
        if optional:
            t.optional = True
    for name, dtype, dims in OUTPUTS:
        t = config.output.add()
        t.name = name
        t.data_type = pbtxt.data_type(dtype)
        t.dims.extend(list(dims))


def _base(backend: str):
    config = pbtxt.new_config()
    config.name = MODEL
    config.backend = backend
    config.max_batch_size = 0  # the engine batches (vLLM: continuous batching); Triton must not
    config.model_transaction_policy.decoupled = True
    _io(config)
    return config


def vllm_config():
    """The vLLM backend's model: one KIND_MODEL instance (the engine places itself on the GPUs, TP included)."""
    config = _base("vllm")
    group = config.instance_group.add()
    group.count = 1
    group.kind = pbtxt.pb2().ModelInstanceGroup.Kind.Value("KIND_MODEL")
    return config


def cpu_config(runtime: CpuRuntime, onnx_file: str = "model.onnx"):
    """The CPU model: ``runtime.instances`` KIND_CPU instances of the Python backend, each decoding one request at a time."""
    config = _base("python")
    group = config.instance_group.add()
    group.count = runtime.instances
    group.kind = pbtxt.pb2().ModelInstanceGroup.Kind.Value("KIND_CPU")
    pbtxt.set_parameter(config, "onnx_file", onnx_file)
    pbtxt.set_parameter(config, "intra_op_thread_count", runtime.threads)
    pbtxt.set_parameter(config, "max_model_len", runtime.max_model_len)
    pbtxt.set_parameter(config, "allow_spinning", int(runtime.spin))
    return config


def tensor_contract(config) -> tuple[dict[str, tuple[str, list[int], bool]], dict[str, tuple[str, list[int]]]]:
    """(inputs, outputs) of a parsed config as {name: (data type, dims[, optional])}."""
    ins = {t.name: (pbtxt.data_type_name(t.data_type), [int(d) for d in t.dims], bool(t.optional)) for t in config.input}
    outs = {t.name: (pbtxt.data_type_name(t.data_type), [int(d) for d in t.dims]) for t in config.output}
    return ins, outs
