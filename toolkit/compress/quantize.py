"""Turn an fp32 ONNX graph into int8 (dynamic or calibrated static) or fp16, with onnxruntime's tools."""

from __future__ import annotations

from pathlib import Path

from toolkit.compress.quiet import quiet


def _quiet():
    """The quantizers log through the root logger."""
    return quiet(("",))


def quantize_dynamic_int8(src: Path, dest: Path) -> Path:
    """Dynamic int8: QInt8 weights per output channel; activations quantized at run time, one scale per token.

    Per-channel keeps fidelity (per-tensor measured much worse on MiniLM: cosine 0.966 vs 0.993). Per-token
    activation scales (:mod:`toolkit.compress.per_token`) make a text's result independent of padding and batch-mates.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from toolkit.compress.per_token import per_token_activations

    with _quiet():
        quantize_dynamic(
            str(src), str(dest), per_channel=True, weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul", "Gemm", "Attention", "Gather"],
            extra_options={"MatMulConstBOnly": True, "DefaultTensorType": 1},  # 1 = FLOAT, for fused ops shape inference cannot type
        )
    per_token_activations(dest)
    return dest


class _TextReader:
    """Feeds tokenised calibration text to onnxruntime's calibrator, one small batch at a time."""

    def __init__(self, texts: list[str], tokenizer, input_names: list[str], max_length: int, batch_size: int = 8):
        self.batches = []
        import numpy as np

        # One padded length for all batches: the percentile calibrator stacks activations across batches.
        enc = tokenizer(list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="np")
        batch_size = max(1, min(batch_size, len(texts)))
        for i in range(0, len(texts) - batch_size + 1, batch_size):  # equal batches only (same reason)
            feeds = {}
            for n in input_names:
                arr = enc[n] if n in enc else np.zeros_like(enc["input_ids"])
                feeds[n] = np.asarray(arr[i:i + batch_size], dtype=np.int64)
            self.batches.append(feeds)
        self._it = iter(self.batches)

    def get_next(self):
        return next(self._it, None)

    def rewind(self):
        self._it = iter(self.batches)


def ffn_output_matmuls(model) -> list[str]:
    """Names of the feed-forward down-projections (their GELU inputs have heavy-tailed ranges)."""
    return [n.name for n in model.graph.node
            if n.op_type == "MatMul" and "attention" not in n.name and n.name.endswith(("/output/dense/MatMul", "/ffn/lin2/MatMul"))]


def quantize_static_int8(src: Path, dest: Path, texts: list[str], tokenizer, max_length: int) -> Path:
    """Static int8 (QDQ): activation ranges calibrated (min/max) on ``texts``; QInt8 per-channel weights.

    Only weight MatMuls are quantized, and not the feed-forward down-projections: on MiniLM,
    quantizing those took mean cosine from 0.989 to 0.927 (GELU outputs have outliers that a
    static range cannot cover). Softmax, GELU and LayerNorm stay in fp32.
    """
    import onnx
    from onnxruntime.quantization import (
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    model = onnx.load(str(src), load_external_data=False)
    names = [i.name for i in model.graph.input]
    reader = _TextReader(texts, tokenizer, names, max_length)
    with _quiet():
        quantize_static(
            str(src), str(dest), reader, quant_format=QuantFormat.QDQ, per_channel=True,
            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul", "Gemm"], nodes_to_exclude=ffn_output_matmuls(model),
            calibrate_method=CalibrationMethod.MinMax, extra_options={"MatMulConstBOnly": True},
        )
    return dest


def convert_fp16(src: Path, dest: Path) -> Path:
    """fp16 weights and arithmetic, fp32 inputs and outputs (onnxruntime's float16 converter).

    Meant for GPUs; the build checks its numbers on the CPU against the fp32 reference.
    """
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = onnx.load(str(src))
    with _quiet():
        half = convert_float_to_float16(model, keep_io_types=True, disable_shape_infer=False)
    onnx.save(half, str(dest))
    return dest
