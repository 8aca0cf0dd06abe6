"""One builder per decoder variant kind; each fills its folder with what ``leanserve package`` serves.

CPU variants: ``model.onnx`` (KV cache, optimum's layout) + config.json + tokenizer files, scored by
running that very file with onnxruntime. GPU formats: a compressed-tensors folder made by
llm-compressor in its own venv, scored there on the CPU (decompressed); when that venv is missing
the variant is not built (:class:`NotBuilt`) and variants.json says why.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path


class NotBuilt(Exception):
    """The variant cannot be built on this machine; the message says why and how to get it."""


@dataclass
class DecoderContext:
    src: object  # DecoderSource
    model: object  # the fp32 torch reference
    tokenizer: object
    windows: object  # EvalWindows (held out)
    calib: object  # numpy int64 [n, T]
    train: object  # numpy int64 [n, T]
    texts: list  # calibration texts (llm-compressor tokenizes its own)
    settings: object  # DecoderSettings
    reporter: object
    work: Path
    cache_dir: Path
    threads: int
    seed: int
    evaluator: object = None  # the pipeline's QualityEvaluator (reference log-probs computed once)
    _fp32: Path | None = None

    def fp32_onnx(self) -> Path:
        """The reference exported to ONNX with KV cache once, in the scratch folder."""
        if self._fp32 is None:
            from toolkit.compress.decoder.export import export_decoder

            with self.reporter.stage("exporting the reference to ONNX (KV cache)", total=None):
                self._fp32 = export_decoder(self.model, self.work / "reference-fp32")
        return self._fp32


@dataclass
class BuiltDecoder:
    num_layers: int
    notes: list[str] = field(default_factory=list)
    quality: object | None = None  # a QualityResult when the builder scored it itself (GPU formats)
    dropped: list[int] = field(default_factory=list)
    before_recovery: dict | None = None


def _tokenizer_files(ctx: DecoderContext, dest: Path) -> None:
    from toolkit.compress.decoder.source import copy_tokenizer_files

    copy_tokenizer_files(ctx.src.path, dest)


def _int4(ctx: DecoderContext, fp32: Path, dest: Path, model) -> str:
    from toolkit.compress.decoder.quantize import INT4_DEFAULTS, quantize_int4

    s = INT4_DEFAULTS
    calibration = (model, ctx.calib) if ctx.settings.gptq else None
    quantize_int4(fp32, dest / "model.onnx", s, calibration=calibration)
    how = f"GPTQ-rounded on {len(ctx.calib)} calibration windows" if calibration else "rounded to nearest"
    return (f"int4 weight-only (onnxruntime MatMulNBits, block {s.block_size}, accuracy level {s.accuracy_level}), {how}; "
            f"lm_head int{s.lm_head_bits}, token embedding int4")


def build_fp32(ctx: DecoderContext, v, dest: Path) -> BuiltDecoder:
    from toolkit.compress.decoder.export import onnx_files

    fp32 = ctx.fp32_onnx()
    for f in onnx_files(fp32.parent):
        shutil.copyfile(f, dest / f.name)
    _tokenizer_files(ctx, dest)
    return BuiltDecoder(ctx.src.num_layers, ["optimum-onnx export, text-generation-with-past (one graph for prefill and decode)"])


def build_int8(ctx: DecoderContext, v, dest: Path) -> BuiltDecoder:
    from toolkit.compress.decoder.quantize import quantize_int8
    from toolkit.compress.per_token import per_token_activations

    quantize_int8(ctx.fp32_onnx(), dest / "model.onnx", "dynamic")
    n = per_token_activations(dest / "model.onnx")
    _tokenizer_files(ctx, dest)
    return BuiltDecoder(ctx.src.num_layers, [
        f"dynamic int8: QInt8 per-channel weights (lm_head and embedding included); {n} activations quantized per token at run "
        "time, so a sequence's logits do not depend on its batch-mates (what is measured here is what is served)"])


def build_int4(ctx: DecoderContext, v, dest: Path) -> BuiltDecoder:
    note = _int4(ctx, ctx.fp32_onnx(), dest, ctx.model)
    _tokenizer_files(ctx, dest)
    return BuiltDecoder(ctx.src.num_layers, [note])


def build_pruned(ctx: DecoderContext, v, dest: Path) -> BuiltDecoder:
    from toolkit.compress.decoder.export import export_decoder
    from toolkit.compress.decoder.prune import prune_layers
    from toolkit.compress.decoder.recover import RecoverySettings, recover
    from toolkit.compress.decoder.runtime import TorchDecoder

    s = ctx.settings
    scored = ctx.calib[: s.importance_windows]
    with ctx.reporter.stage(f"{v.name}: layer importance", total=None):
        student, drop, _ = prune_layers(ctx.model, scored, v.param)
        before = ctx.evaluator.score(TorchDecoder(student, ctx.threads))
    rs = RecoverySettings(steps=s.recovery_steps, batch_size=s.recovery_batch, lr=s.recovery_lr, seed=ctx.seed,
                          warmup_steps=min(10, max(1, s.recovery_steps // 5)), checkpoint_every=max(1, min(50, s.recovery_steps // 2)),
                          threads=ctx.threads)
    with ctx.reporter.stage(f"{v.name}: recovery distillation", total=rs.steps) as bar:
        done = [0]

        def on_step(step, total, loss):
            bar.advance(step - done[0])
            done[0] = step
            bar.describe(f"(KL {loss:.3f})")

        res = recover(student, ctx.model, ctx.train, rs, checkpoint_dir=ctx.cache_dir / "recovery", on_step=on_step,
                      key_extra=f"drop={drop}")
    with ctx.reporter.stage(f"{v.name}: export and int4", total=None):
        fp32 = export_decoder(student, ctx.work / f"{v.name}-fp32")
        note = _int4(ctx, fp32, dest, student)
    _tokenizer_files(ctx, dest)
    student.config.to_json_file(str(dest / "config.json"))  # the pruned shape (fewer layers), not the reference's
    resumed = f", resumed from step {res.resumed_from}" if res.resumed_from else ""
    notes = [f"dropped {len(drop)} of {ctx.src.num_layers} layers {drop} (lowest 1 - cos(input, output) on {len(scored)} "
             f"calibration windows of {scored.shape[1]} tokens); before recovery perplexity {before.perplexity_increase_pct:+.1f}%, KL {before.mean_kl:.3f}",
             f"recovered by {res.steps} steps of KL distillation from the reference (batch {rs.batch_size} x {ctx.train.shape[1]} tokens, lr {rs.lr:g}, seed "
             f"{rs.seed}{resumed}); final loss {res.final_loss:.3f}" if res.final_loss is not None else
             f"recovered by {res.steps} steps of KL distillation (checkpoint reused)", note]
    return BuiltDecoder(int(student.config.num_hidden_layers), notes,
                        dropped=drop, before_recovery={"perplexity_increase_pct": before.perplexity_increase_pct, "mean_kl": before.mean_kl})


def gpu_venv_ready():
    """The llm-compressor venv if it is built, else None (compress never installs it on its own)."""
    from toolkit.compress.decoder.gpu_formats import READY, venv_dir, venv_python

    folder = venv_dir()
    return folder if (folder / READY).exists() and venv_python(folder).exists() else None


def build_gpu(ctx: DecoderContext, v, dest: Path) -> BuiltDecoder:
    from toolkit.compress.decoder.gpu_formats import (
        LLMCOMPRESSOR,
        make_gpu_format,
        score_gpu_format,
    )

    venv = gpu_venv_ready()
    if venv is None:
        raise NotBuilt(f"not built: {v.name} needs llm-compressor's own venv ({LLMCOMPRESSOR}), which is not installed here; "
                       "build it once with `python -c 'from toolkit.compress.decoder.gpu_formats import ensure_venv; ensure_venv()'` "
                       "(about 71 s, needs PyPI), then rerun compress")
    log = ctx.reporter.log
    with ctx.reporter.stage(f"{v.name}: llm-compressor (own venv)", total=None):
        tmp = ctx.work / v.name
        make_gpu_format(v.base, ctx.src.path, tmp, texts=ctx.texts, samples=ctx.settings.gpu_samples, threads=ctx.threads, venv=venv, log=log)
        quality = score_gpu_format(tmp, ctx.src.path, ctx.windows, threads=ctx.threads, venv=venv, log=log)
    for f in tmp.iterdir():
        shutil.move(str(f), dest / f.name)
    return BuiltDecoder(ctx.src.num_layers, [
        f"{v.base} compressed-tensors checkpoint by {LLMCOMPRESSOR} for vLLM (CUDA); quality scored here on the CPU, decompressed; "
        "speed is never measured here: the performance model estimates it"], quality=quality)


BUILDERS = {"onnx-fp32": build_fp32, "onnx-int8": build_int8, "onnx-int4": build_int4, "pruned-layers": build_pruned,
            "w4a16": build_gpu, "fp8": build_gpu}
