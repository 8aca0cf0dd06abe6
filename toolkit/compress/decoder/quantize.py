"""int8 and int4 variants of a decoder's fp32 ONNX graph, with onnxruntime's quantization tools.

- int8 ``dynamic``: ``quantize_dynamic``, QInt8 weights per output channel, activations quantized
  per tensor at run time. ``weight-only``: 8-bit ``MatMulNBits`` (one scale per block of 32
  weights; onnxruntime quantizes a Gather to 4 bits only, so the embedding is int4 there). Measured on SmolLM2 (16 windows x 128 tokens of tweets): dynamic +86%
  perplexity, KL 0.80; weight-only +2.5%, KL 0.03 (the activations' outliers, not the weights, hurt).
- int4: weight-only ``MatMulNBits`` (``onnxruntime.quantization.matmul_nbits_quantizer``, needs
  the ``onnx_ir`` package), symmetric, one fp32 scale per block of ``block_size`` input channels.
  ``accuracy_level`` picks the kernel's compute type (0 = fp32, 4 = int8 activations, which uses
  VNNI/AMX where the CPU has them). The lm_head keeps ``lm_head_bits`` (8 by default), the token
  embedding is stored as int4 (``GatherBlockQuantized``). With calibration windows the 4-bit
  weights are rounded by GPTQ (``toolkit.compress.decoder.gptq``), else to nearest.
Tied embeddings export as ``MatMul(x, Transpose(embed))``: a MatMul whose weight is not a constant,
which neither quantizer touches, so the lm_head (the largest MatMul of a small model, read at every
decode step) would stay fp32. :func:`untie_lm_head` folds that Transpose into a constant first.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import InputError, MissingDependencyError

INT8_MODES = ("dynamic", "weight-only")


@dataclass(frozen=True)
class Int4Settings:
    """Defaults measured on SmolLM2-135M (see the module docstring and issue 14's report)."""

    block_size: int = 32
    accuracy_level: int = 4
    lm_head_bits: int = 8  # 4 or 8
    embeddings: bool = True  # also store the token embedding as int4

    def check(self) -> None:
        if self.block_size < 16 or self.block_size & (self.block_size - 1):
            raise InputError(f"int4 block size {self.block_size} is not a power of two >= 16", hint="use 32, 64 or 128")
        if self.accuracy_level not in (0, 1, 2, 3, 4):
            raise InputError(f"int4 accuracy level {self.accuracy_level} is not one of 0-4", hint="use 4 (int8 compute) or 0 (fp32 compute)")
        if self.lm_head_bits not in (4, 8):
            raise InputError(f"lm_head bits {self.lm_head_bits} is not 4 or 8", hint="use 8 (default) or 4")


INT4_DEFAULTS = Int4Settings()


def _external(src: Path) -> bool:
    """Whether the graph keeps its weights in external data files (models over 2 GB)."""
    return any(p.suffix == ".onnx_data" or (p.name.startswith("model.onnx") and p.name != "model.onnx") for p in src.parent.iterdir())


def untie_lm_head(model) -> int:
    """Fold every ``Transpose`` of an initializer into a transposed initializer (in place); return how many.

    This gives the tied lm_head its own constant weight, so it is quantized like every other MatMul."""
    import numpy as np
    from onnx import numpy_helper

    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    folded = []
    for node in graph.node:
        if node.op_type != "Transpose" or node.input[0] not in inits:
            continue
        perm = next((list(a.ints) for a in node.attribute if a.name == "perm"), None)
        arr = np.transpose(numpy_helper.to_array(inits[node.input[0]]), perm)
        graph.initializer.append(numpy_helper.from_array(np.ascontiguousarray(arr), name=f"{node.output[0]}_folded"))
        for other in graph.node:
            for k, name in enumerate(other.input):
                if name == node.output[0]:
                    other.input[k] = f"{node.output[0]}_folded"
        folded.append(node)
    for node in folded:
        graph.node.remove(node)
    return len(folded)


def _load_untied(src: Path):
    import onnx

    model = onnx.load(str(src))
    untie_lm_head(model)
    return model


def _weight_matmuls(model) -> list[str]:
    inits = {i.name for i in model.graph.initializer}
    return [n.name for n in model.graph.node if n.op_type == "MatMul" and len(n.input) > 1 and n.input[1] in inits]


def _lm_head(model) -> list[str]:
    """The MatMul that produces ``logits`` (the lm_head), if its weight is a constant."""
    out = {o.name for o in model.graph.output}
    weights = set(_weight_matmuls(model))
    return [n.name for n in model.graph.node if n.name in weights and any(o in out for o in n.output)]


def _nbits(model, *, bits: int, block_size: int, accuracy_level: int, only: list[str] | None, ops=("MatMul",)):
    """One MatMulNBitsQuantizer pass (symmetric); ``only`` limits it to those MatMuls (None: all)."""
    from onnxruntime.quantization import matmul_nbits_quantizer as mnq
    from onnxruntime.quantization.quant_utils import QuantFormat

    exclude = [] if only is None else [n for n in _weight_matmuls(model) if n not in set(only)]
    cfg = mnq.DefaultWeightOnlyQuantConfig(
        block_size=block_size, is_symmetric=True, accuracy_level=accuracy_level, quant_format=QuantFormat.QOperator,
        op_types_to_quantize=tuple(ops), quant_axes=(("MatMul", 0), ("Gather", 1)), bits=bits,
    )
    quant = mnq.MatMulNBitsQuantizer(model, algo_config=cfg, nodes_to_exclude=exclude, accuracy_level=accuracy_level)
    quant.process()
    return quant.model.model


def _require_onnx_ir() -> None:
    import importlib.util

    if importlib.util.find_spec("onnx_ir") is None:
        raise MissingDependencyError("onnx_ir", "compress")


def _save(model, dest: Path, external: bool) -> Path:
    import onnx

    dest.parent.mkdir(parents=True, exist_ok=True)
    onnx.save_model(model, str(dest), save_as_external_data=external, location=f"{dest.name}.data" if external else None)
    return dest


def quantize_int8(src: Path, dest: Path, mode: str = "dynamic") -> Path:
    """int8 of every weight MatMul (lm_head included) and the embedding: ``dynamic`` or ``weight-only``."""
    from toolkit.compress.decoder.quiet import quiet

    if mode not in INT8_MODES:
        raise InputError(f"unknown int8 mode '{mode}'", hint=f"use one of: {', '.join(INT8_MODES)}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    if mode == "weight-only":
        _require_onnx_ir()
        with quiet():
            model = _nbits(_load_untied(src), bits=8, block_size=32, accuracy_level=4, only=None)
            model = _nbits(model, bits=4, block_size=32, accuracy_level=4, only=[], ops=("Gather",))  # Gather: 4 bits only
        return _save(model, dest, _external(src))
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with quiet():
        quantize_dynamic(
            _load_untied(src), str(dest), per_channel=True, weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul", "Gather"], use_external_data_format=_external(src),
            extra_options={"MatMulConstBOnly": True, "DefaultTensorType": 1},
        )
    return dest


def quantize_int4(src: Path, dest: Path, settings: Int4Settings = INT4_DEFAULTS, *, calibration=None, on_layer=None) -> Path:
    """Weight-only int4 (MatMulNBits) of the weight MatMuls, the lm_head at ``lm_head_bits``, the embedding int4.

    ``calibration``: (torch model, token windows [n, T]) to round the 4-bit weights by GPTQ; None: to nearest."""
    _require_onnx_ir()
    settings.check()
    from toolkit.compress.decoder.quiet import quiet

    model = _load_untied(src)
    with quiet():
        head = _lm_head(model)
        if settings.lm_head_bits == 8 and head:
            model = _nbits(model, bits=8, block_size=32, accuracy_level=settings.accuracy_level, only=head)
        model = _nbits(model, bits=4, block_size=settings.block_size, accuracy_level=settings.accuracy_level,
                       only=[n for n in _weight_matmuls(model)])
        if settings.embeddings:
            model = _nbits(model, bits=4, block_size=settings.block_size, accuracy_level=settings.accuracy_level,
                           only=[], ops=("Gather",))
    if calibration is not None:
        from toolkit.compress.decoder import gptq

        torch_model, windows = calibration
        hessians = gptq.collect_hessians(torch_model, windows)
        gptq.apply_to_onnx(model, torch_model, hessians, settings.block_size, on_layer=on_layer)
    return _save(model, dest, _external(src))
