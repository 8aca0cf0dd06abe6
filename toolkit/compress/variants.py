"""Variant names (``onnx-int8``, ``distilled-L3``, ``pruned-heads25`` ...) and their range checks."""

from __future__ import annotations

import re
from dataclasses import dataclass

from toolkit.errors import InputError
from toolkit.suggest import did_you_mean

_PATTERN = re.compile(r"^(onnx-fp32|onnx-int8|onnx-int8-static|onnx-fp16|distilled-L(\d+)|pruned-heads(\d+)|sparsity(\d+))$")
EXAMPLES = ["onnx-fp32", "onnx-int8", "onnx-int8-static", "onnx-fp16", "distilled-L3", "pruned-heads25", "sparsity50"]


@dataclass(frozen=True)
class VariantName:
    name: str
    kind: str  # onnx-fp32 | onnx-int8 | onnx-int8-static | onnx-fp16 | distilled | pruned-heads | sparsity
    param: int | None = None

    @property
    def needs_teacher_training(self) -> bool:
        return self.kind in ("distilled", "pruned-heads")


def parse_variant(name: str) -> VariantName:
    m = _PATTERN.match(name.strip())
    if not m:
        tip = did_you_mean(name, EXAMPLES, cutoff=0.6)
        raise InputError(f"unknown variant '{name}'{tip}", hint=f"variant kinds: {', '.join(EXAMPLES)} (L<k> = student layers, <p> = percent)")
    if m.group(2):
        return VariantName(name, "distilled", int(m.group(2)))
    if m.group(3):
        return VariantName(name, "pruned-heads", int(m.group(3)))
    if m.group(4):
        return VariantName(name, "sparsity", int(m.group(4)))
    return VariantName(name, name)


def check_ranges(v: VariantName, num_layers: int, num_heads: int) -> None:
    """Raise InputError when a variant's parameter cannot apply to this teacher."""
    if v.kind == "distilled" and not (1 <= (v.param or 0) < num_layers):
        raise InputError(
            f"{v.name}: a student needs 1 to {num_layers - 1} layers (the teacher has {num_layers})",
            hint=f"choose distilled-L1 ... distilled-L{num_layers - 1}" if num_layers > 1 else "this teacher has one layer; it cannot be distilled to fewer",
        )
    if v.kind == "pruned-heads":
        total = num_layers * num_heads
        removable = total - num_layers  # every layer keeps at least one head
        n = round(total * (v.param or 0) / 100)
        if not (1 <= (v.param or 0) <= 90) or n > removable:
            raise InputError(f"{v.name}: can prune 1 to {min(90, int(100 * removable / total))} percent of the {total} heads", hint="choose e.g. pruned-heads25")
        if n < 1:
            raise InputError(f"{v.name}: {v.param}% of {total} heads rounds to none", hint=f"choose at least pruned-heads{int(100 / total) + 1}")
    if v.kind == "sparsity" and not (1 <= (v.param or 0) <= 95):
        raise InputError(f"{v.name}: sparsity must be 1 to 95 percent", hint="choose e.g. sparsity50")


def select(spec_variants: list[str], requested: list[str] | None, *, parse=None, example: str = "onnx-int8") -> list:
    """The variants to build: ``requested`` (from --variants) or the spec's list, parsed (``parse``, default
    :func:`parse_variant`) and de-duplicated."""
    parse = parse or parse_variant
    names = requested if requested else spec_variants
    out: list = []
    for n in names:
        v = parse(n)
        if v not in out:
            out.append(v)
    if not out:
        raise InputError("no variants to build", hint=f"name at least one, e.g. --variants {example}")
    return out
