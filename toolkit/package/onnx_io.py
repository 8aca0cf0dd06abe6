"""Read the inputs and outputs (names, element types, dims) of an ONNX graph without loading its weights."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import ModelError, require

# ONNX TensorProto element type -> Triton data type (model_config.proto's DataType names).
ONNX_TO_TRITON = {
    1: "TYPE_FP32",
    2: "TYPE_UINT8",
    3: "TYPE_INT8",
    4: "TYPE_UINT16",
    5: "TYPE_INT16",
    6: "TYPE_INT32",
    7: "TYPE_INT64",
    8: "TYPE_STRING",
    9: "TYPE_BOOL",
    10: "TYPE_FP16",
    11: "TYPE_FP64",
    12: "TYPE_UINT32",
    13: "TYPE_UINT64",
    16: "TYPE_BF16",
}

# Triton data type -> numpy dtype name (used by the generated Python-backend models and checks).
TRITON_TO_NUMPY = {
    "TYPE_FP32": "float32",
    "TYPE_FP16": "float16",
    "TYPE_FP64": "float64",
    "TYPE_INT8": "int8",
    "TYPE_INT16": "int16",
    "TYPE_INT32": "int32",
    "TYPE_INT64": "int64",
    "TYPE_UINT8": "uint8",
    "TYPE_UINT16": "uint16",
    "TYPE_UINT32": "uint32",
    "TYPE_UINT64": "uint64",
    "TYPE_BOOL": "bool",
    "TYPE_STRING": "object",
}


@dataclass(frozen=True)
class TensorSig:
    """One graph input or output. ``shape`` holds -1 for a symbolic (dynamic) dimension."""

    name: str
    data_type: str
    shape: tuple[int, ...]
    dim_names: tuple[str, ...]

    @property
    def batch_dynamic(self) -> bool:
        return len(self.shape) > 0 and self.shape[0] == -1


@dataclass(frozen=True)
class GraphSignature:
    inputs: tuple[TensorSig, ...]
    outputs: tuple[TensorSig, ...]

    def input(self, name: str) -> TensorSig | None:
        return next((t for t in self.inputs if t.name == name), None)

    def output(self, name: str) -> TensorSig | None:
        return next((t for t in self.outputs if t.name == name), None)

    @property
    def batchable(self) -> bool:
        """Every input and output has a dynamic first dimension, so Triton may batch requests."""
        return all(t.batch_dynamic for t in self.inputs + self.outputs)


def _sig(value_info) -> TensorSig:
    ttype = value_info.type.tensor_type
    elem = ttype.elem_type
    if elem not in ONNX_TO_TRITON:
        raise ModelError(f"ONNX tensor '{value_info.name}' has element type {elem}, which Triton cannot serve",
                         hint="export the model with float/int tensors")
    shape, names = [], []
    for d in ttype.shape.dim:
        if d.HasField("dim_value") and d.dim_value > 0:
            shape.append(int(d.dim_value))
            names.append(str(d.dim_value))
        else:
            shape.append(-1)
            names.append(d.dim_param or "?")
    return TensorSig(value_info.name, ONNX_TO_TRITON[elem], tuple(shape), tuple(names))


def read_signature(path: str | Path) -> GraphSignature:
    """Inputs (initializers excluded) and outputs of the ONNX model at ``path``."""
    onnx = require("onnx", "serve")
    p = Path(path)
    if not p.is_file():
        raise ModelError(f"ONNX model not found: {p}", hint="check the variant folder (re-run `leanserve compress`)")
    try:
        model = onnx.load(str(p), load_external_data=False)
    except Exception as exc:  # onnx raises DecodeError and others for a corrupt file
        raise ModelError(f"{p}: not a readable ONNX model ({type(exc).__name__})", hint="re-run `leanserve compress` to rebuild it") from None
    initializers = {i.name for i in model.graph.initializer}
    inputs = tuple(_sig(v) for v in model.graph.input if v.name not in initializers)
    outputs = tuple(_sig(v) for v in model.graph.output)
    if not inputs or not outputs:
        raise ModelError(f"{p}: the graph has no inputs or no outputs", hint="re-export the model")
    return GraphSignature(inputs, outputs)
