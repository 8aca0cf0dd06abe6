"""One builder per variant kind. Each writes ``model.onnx`` and ``config.json`` into its folder.

Builders share a :class:`BuildContext` (the teacher, its tokenizer, the text splits, a scratch
folder) so the teacher is exported to fp32 ONNX only once.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Built:
    precision: str
    num_layers: int
    config: dict  # config.json of the exported model (for FLOPs)
    devices: list[str] = field(default_factory=lambda: ["cpu"])
    notes: list[str] = field(default_factory=list)


@dataclass
class BuildContext:
    src: object  # ModelSource
    task: str
    max_length: int
    teacher: object  # transformers model, fp32
    tokenizer: object
    splits: object  # TextSplits
    settings: object  # BuildSettings
    reporter: object
    work: Path
    cache_dir: Path
    seed: int
    threads: int
    _fp32: Path | None = None
    data_cache: dict = field(default_factory=dict)  # tokenised texts + teacher targets, shared by students

    @property
    def family(self):
        """The model family of ``task`` (a ``toolkit.families.Family``)."""
        from toolkit.families import family_for

        return family_for(self.task)

    def teacher_onnx(self) -> Path:
        """The teacher exported to fp32 ONNX once, in the scratch folder."""
        if self._fp32 is None:
            from toolkit.compress.export import export_onnx

            self._fp32 = export_onnx(self.teacher, self.task, self.work / "teacher-fp32")
        return self._fp32


def _write_config(dest: Path, config: dict) -> None:
    (dest / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _teacher_config(ctx: BuildContext) -> dict:
    return dict(ctx.src.config)


def build_fp32(ctx: BuildContext, v, dest: Path) -> Built:
    shutil.copyfile(ctx.teacher_onnx(), dest / "model.onnx")
    _write_config(dest, _teacher_config(ctx))
    return Built("fp32", ctx.src.num_layers, _teacher_config(ctx))


def build_int8(ctx: BuildContext, v, dest: Path) -> Built:
    from toolkit.compress.quantize import quantize_dynamic_int8

    quantize_dynamic_int8(ctx.teacher_onnx(), dest / "model.onnx")
    _write_config(dest, _teacher_config(ctx))
    return Built("int8", ctx.src.num_layers, _teacher_config(ctx), notes=["dynamic int8: QInt8 per-channel weights (embeddings included), activations quantized at run time"])


def build_int8_static(ctx: BuildContext, v, dest: Path) -> Built:
    from toolkit.compress.quantize import quantize_static_int8

    texts = ctx.splits.calibration_texts
    quantize_static_int8(ctx.teacher_onnx(), dest / "model.onnx", texts, ctx.tokenizer, ctx.max_length)
    _write_config(dest, _teacher_config(ctx))
    return Built("int8", ctx.src.num_layers, _teacher_config(ctx), notes=[f"static int8 (QDQ), activation ranges calibrated on {len(texts)} examples"])


def build_fp16(ctx: BuildContext, v, dest: Path) -> Built:
    from toolkit.compress.quantize import convert_fp16

    convert_fp16(ctx.teacher_onnx(), dest / "model.onnx")
    _write_config(dest, _teacher_config(ctx))
    return Built("fp16", ctx.src.num_layers, _teacher_config(ctx), devices=["gpu"],
                 notes=["fp16 for GPU targets (fp32 inputs/outputs); fidelity checked on the CPU; CPU latency is not indicative of GPU speed"])


def _export_and_quantize(ctx: BuildContext, model, name: str, dest: Path) -> dict:
    from toolkit.compress.export import export_onnx
    from toolkit.compress.quantize import quantize_dynamic_int8

    scratch = ctx.work / name
    fp32 = export_onnx(model, ctx.task, scratch)
    quantize_dynamic_int8(fp32, dest / "model.onnx")
    config = model.config.to_dict()
    config.pop("torch_dtype", None)
    config.pop("dtype", None)
    _write_config(dest, json.loads(json.dumps(config, default=str)))
    return config


def build_distilled(ctx: BuildContext, v, dest: Path) -> Built:
    from toolkit.compress.distill import distill_student

    student, notes = distill_student(ctx, v.name, v.param)
    config = _export_and_quantize(ctx, student, v.name, dest)
    return Built("int8", v.param, config, notes=notes + ["exported and quantized to dynamic int8"])


def build_pruned(ctx: BuildContext, v, dest: Path) -> Built:
    from toolkit.compress.prune import prune_heads_and_recover

    model, notes = prune_heads_and_recover(ctx, v.name, v.param)
    config = _export_and_quantize(ctx, model, v.name, dest)
    return Built("int8", ctx.src.num_layers, config, notes=notes + ["exported and quantized to dynamic int8"])


def build_sparsity(ctx: BuildContext, v, dest: Path) -> Built:
    from toolkit.compress.export import export_onnx
    from toolkit.compress.prune import magnitude_sparsity

    model = magnitude_sparsity(ctx.teacher, v.param)
    export_onnx(model, ctx.task, dest)
    _write_config(dest, _teacher_config(ctx))
    return Built("fp32", ctx.src.num_layers, _teacher_config(ctx),
                 notes=[f"sparsity only: {v.param}% of encoder weights zeroed by magnitude, stored densely; no speed-up on this runtime"])


BUILDERS = {
    "onnx-fp32": build_fp32,
    "onnx-int8": build_int8,
    "onnx-int8-static": build_int8_static,
    "onnx-fp16": build_fp16,
    "distilled": build_distilled,
    "pruned-heads": build_pruned,
    "sparsity": build_sparsity,
}
