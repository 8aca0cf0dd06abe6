"""Decoder variant names (``onnx-int4``, ``pruned-layers25``, ``w4a16`` ...), their kinds and range checks."""

from __future__ import annotations

import re
from dataclasses import dataclass

from toolkit.errors import InputError
from toolkit.suggest import did_you_mean

EXAMPLES = ["onnx-fp32", "onnx-int8", "onnx-int4", "pruned-layers25", "w4a16", "fp8"]
_PATTERN = re.compile(r"^(onnx-fp32|onnx-int8|onnx-int4|w4a16|fp8|pruned-layers(\d+))$")
#: variant name (or 'pruned-layers') -> (variants.json kind, precision, perf-model format, devices, runtime)
KINDS = {
    "onnx-fp32": ("llm-onnx-fp32", "fp32", "fp32", ["cpu"], "onnxruntime-cpu"),
    "onnx-int8": ("llm-onnx-int8", "int8", "int8", ["cpu"], "onnxruntime-cpu"),
    "onnx-int4": ("llm-onnx-int4", "int4", "int4", ["cpu"], "onnxruntime-cpu"),
    "pruned-layers": ("llm-pruned-layers", "int4", "int4", ["cpu"], "onnxruntime-cpu"),
    "w4a16": ("llm-w4a16", "w4a16", "w4a16", ["gpu"], "vllm-cuda"),
    "fp8": ("llm-fp8", "fp8", "fp8", ["gpu"], "vllm-cuda"),
}


@dataclass(frozen=True)
class DecoderVariantName:
    name: str
    base: str  # a key of KINDS
    param: int | None = None  # pruned-layers: percent of layers dropped

    @property
    def kind(self) -> str:
        return KINDS[self.base][0]

    @property
    def precision(self) -> str:
        return KINDS[self.base][1]

    @property
    def format(self) -> str:
        return KINDS[self.base][2]

    @property
    def devices(self) -> list[str]:
        return list(KINDS[self.base][3])

    @property
    def runtime(self) -> str:
        return KINDS[self.base][4]

    @property
    def gpu_format(self) -> bool:
        return self.runtime == "vllm-cuda"

    @property
    def needs_onnx(self) -> bool:
        return self.base in ("onnx-fp32", "onnx-int8", "onnx-int4")


def parse_decoder_variant(name: str) -> DecoderVariantName:
    m = _PATTERN.match(name.strip())
    if not m:
        tip = did_you_mean(name, EXAMPLES, cutoff=0.6)
        raise InputError(f"unknown text-generation variant '{name}'{tip}",
                         hint=f"text-generation variants: {', '.join(EXAMPLES)} (pruned-layers<p>: p% of the decoder layers dropped)")
    if m.group(2):
        return DecoderVariantName(name.strip(), "pruned-layers", int(m.group(2)))
    return DecoderVariantName(name.strip(), name.strip())


def check_range(v: DecoderVariantName, num_layers: int) -> None:
    """A pruned-layers<p> that drops none or all of the reference's layers -> InputError."""
    if v.base != "pruned-layers":
        return
    p = v.param or 0
    n = max(1, round(num_layers * p / 100.0))
    if not 0 < p < 100 or n >= num_layers:
        top = int(100 * (num_layers - 1.5) / num_layers) if num_layers > 1 else 0
        raise InputError(f"{v.name}: would drop {n} of the model's {num_layers} layers; p must leave at least one",
                         hint=f"choose pruned-layers1 ... pruned-layers{top}" if top >= 1 else "this model has one layer; it cannot be pruned")


def select_decoder(spec_variants: list[str], requested: list[str] | None) -> list[DecoderVariantName]:
    from toolkit.compress.variants import select

    return select(spec_variants, requested, parse=parse_decoder_variant, example="onnx-int4")
