"""The compress pipeline: checks first, then reference, variants, evaluation, and an atomic write.

What differs between kinds of model (the model class, output post-processing, fidelity metrics and
gate, latency shapes) is asked of the spec's family (:func:`toolkit.families.family_for`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from toolkit.errors import InputError, ModelError
from toolkit.families import family_for

LIBRARIES = ("torch", "transformers", "optimum", "optimum-onnx", "onnx", "onnxruntime", "scikit-learn", "numpy", "tokenizers")


def library_versions() -> dict[str, str]:
    from toolkit.versions import package_version

    return {name: v for name in LIBRARIES if (v := package_version(name))}


def folder_files(folder: Path) -> tuple[dict[str, str], int]:
    """sha256 of every file under ``folder`` (relative POSIX paths) and their total size in bytes."""
    from toolkit.fileio import sha256_file

    files, size = {}, 0
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            files[p.relative_to(folder).as_posix()] = sha256_file(p)
            size += p.stat().st_size
    return files, size


class Pipeline:
    def __init__(self, loaded, out_dir: Path, requested, reporter, settings):
        self.loaded, self.out_dir, self.requested, self.reporter, self.settings = loaded, out_dir, requested, reporter, settings
        self.spec = loaded.spec
        self.family = family_for(self.spec.model.task)

    # -- checks that need no heavy imports ---------------------------------------------------
    def check(self):
        from toolkit.compress.source import resolve_source
        from toolkit.compress.texts import make_splits
        from toolkit.compress.variants import check_ranges, select

        spec = self.spec
        names = select(spec.compression.variants, self.requested)
        src = resolve_source(spec.model.source, self.loaded.path.parent)
        if spec.model.max_sequence_length > src.max_positions:
            raise InputError(
                f"model.max_sequence_length {spec.model.max_sequence_length} is longer than the model's {src.max_positions} positions",
                hint=f"set max_sequence_length to {src.max_positions} or less",
            )
        self.family.check_source(src)
        for v in names:
            check_ranges(v, src.num_layers, src.num_heads)
            if v.needs_teacher_training and not src.bert_like:
                raise ModelError(f"{v.name}: students and head pruning need a BERT-style encoder; '{src.model_type}' is not one",
                                 hint="build onnx-fp32/onnx-int8/onnx-fp16 for this model")
        splits = make_splits(
            spec.compression, self.loaded.path.parent,
            need_distill=any(v.needs_teacher_training for v in names),
            need_calibration=any(v.kind == "onnx-int8-static" for v in names),
            limits=self.settings.texts,
        )
        if self.out_dir.exists() and not self.out_dir.is_dir():
            raise InputError(f"--out {self.out_dir} is a file", hint="choose a folder for the output")
        return names, src, splits

    # -- the build ---------------------------------------------------------------------------
    def run(self):
        from toolkit.artifacts.common import MachineInfo, save_artifact
        from toolkit.artifacts.variants import VariantsFile
        from toolkit.compress.builders import BuildContext
        from toolkit.compress.evaluate import serving_evaluation
        from toolkit.compress.settings import default_threads
        from toolkit.compress.source import load_tokenizer, load_torch_model
        from toolkit.fileio import atomic_dir

        names, src, splits = self.check()
        spec, task, max_len = self.spec, self.spec.model.task, self.spec.model.max_sequence_length
        threads = self.settings.threads or default_threads(spec.compression.threads)
        machine = MachineInfo.local()
        self.where = f"{machine.cpu_model}, {threads} threads"

        with self.reporter.stage(f"loading {spec.model.source} ({src.model_type}, {src.num_layers} layers)"):
            teacher = load_torch_model(src, task)
            tokenizer = load_tokenizer(src.path)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        cache_dir = self.settings.cache_dir or (self.out_dir / ".leanserve-cache")

        with atomic_dir(self.out_dir / "variants") as tmp, tempfile.TemporaryDirectory(prefix=".leanserve-work-", dir=self.out_dir) as work:
            ctx = BuildContext(src=src, task=task, max_length=max_len, teacher=teacher, tokenizer=tokenizer, splits=splits,
                               settings=self.settings, reporter=self.reporter, work=Path(work), cache_dir=cache_dir,
                               seed=spec.compression.seed, threads=threads)
            self.ctx = ctx
            os.chmod(tmp, 0o755)  # readable like any output folder (mkdtemp makes it private)
            entries = [self._reference()]
            with self.reporter.stage("building variants", total=len(names)) as stage:
                for v in names:
                    stage.describe(v.name)
                    started = time.perf_counter()
                    entry = self._variant(v, tmp / v.name)
                    entry.build_seconds = round(time.perf_counter() - started, 1)
                    entries.append(entry)
                    stage.advance()
            if self.settings.measure_latency:
                self._latency(entries, tmp)
            vf = VariantsFile(
                spec_sha256=self.loaded.sha256, model_source=spec.model.source, task=task, max_sequence_length=max_len,
                machine=machine, libraries=library_versions(), variants=entries,
                evaluation={
                    "eval_source": splits.eval_source, "eval_examples": len(splits.eval_texts),
                    "labelled_data": spec.compression.labelled_data, "probe_train_examples": len(splits.probe_train[0]),
                    "probe_test_examples": len(splits.probe_test[0]), "distillation_examples": len(splits.distill_texts),
                    "calibration_examples": len(splits.calibration_texts), "seed": spec.compression.seed, "latency_threads": threads,
                    **serving_evaluation(),  # the serving configuration quality was measured under
                },
            )
            save_artifact(vf, tmp / ".variants.json")
            # Never leave an old variants.json beside the new folders: drop it just before the folder swap, so a crash
            # in between leaves the old folders with no index (compress reruns), not an index that mismatches them.
            (self.out_dir / "variants.json").unlink(missing_ok=True)
        os.replace(self.out_dir / "variants" / ".variants.json", self.out_dir / "variants.json")
        return vf

    # -- pieces ------------------------------------------------------------------------------
    def _latency(self, entries, tmp: Path) -> None:
        """Time the reference and every variant together, round-robin (fair under shared load)."""
        from toolkit.compress.export import input_names_for
        from toolkit.compress.latency import OnnxRunner, TorchRunner, measure

        ctx = self.ctx
        vocab = int(ctx.src.config.get("vocab_size", 1000))
        runners = {"reference": TorchRunner(ctx.teacher, input_names_for(ctx.teacher), vocab)}
        for e in entries[1:]:
            runners[e.name] = OnnxRunner(tmp / e.name / "model.onnx", ctx.threads, vocab)
        ls, shapes = self.settings.latency, tuple(self.family.latency_shapes(self.spec))
        with self.reporter.stage("measuring latency (round-robin)", total=ls.rounds * len(shapes)) as bar:
            points = measure(runners, ctx.threads, ls, self.where, shapes=shapes, on_round=bar.advance)
        for e in entries:
            e.latency = points[e.name]

    def _outputs(self, encoder, serving=None) -> dict:
        """Encode the held-out texts (and the probe's test split) with ``encoder``; ``serving``: as the server shapes requests."""
        sp, bs = self.ctx.splits, self.settings.eval_batch_size
        out = {}
        if sp.eval_texts:
            out["eval"] = encoder.encode(sp.eval_texts, bs, serving=serving)
        if sp.probe_test[0]:
            same = sp.probe_test[0][: len(sp.eval_texts)] == sp.eval_texts and len(sp.probe_test[0]) == len(sp.eval_texts)
            out["probe_test"] = out["eval"] if same else encoder.encode(sp.probe_test[0], bs, serving=serving)
        return out

    def _batch_mates(self, encoder, alone, quality, notes: list[str]) -> None:
        """How far a text's served output moves when it shares a request (padding, batch-mates) instead of going alone."""
        from toolkit.compress.evaluate import batch_mates_check

        quality.batch_mates_max_abs_diff, note = batch_mates_check(encoder, self.ctx.splits.eval_texts, alone)
        if note:
            notes.append(note)

    def _reference(self):
        from toolkit.artifacts.variants import Quality, Variant
        from toolkit.compress.evaluate import Probe
        from toolkit.compress.flops import gflops_per_item
        from toolkit.compress.runtime import TorchEncoder
        from toolkit.fileio import sha256_file

        ctx = self.ctx
        with self.reporter.stage("measuring the fp32 reference", total=None):
            enc = TorchEncoder(ctx.teacher, ctx.tokenizer, ctx.task, ctx.max_length, ctx.threads)
            self.ref_out = self._outputs(enc)
            self.probe = None
            quality = Quality(eval_examples=len(ctx.splits.eval_texts))
            if ctx.splits.eval_texts:
                for k, val in self.family.reference_quality().items():
                    setattr(quality, k, val)
            if ctx.splits.probe_train[0]:
                train_x = enc.encode(ctx.splits.probe_train[0], self.settings.eval_batch_size)
                self.probe = Probe.fit(train_x, ctx.splits.probe_train[1], self.ref_out["probe_test"], ctx.splits.probe_test[1], seed=ctx.seed)
                quality.probe_accuracy = round(self.probe.reference_accuracy, 5)
                quality.accuracy_drop_points = 0.0
        w = ctx.src.weights
        return Variant(
            name="reference", kind="reference", path=str(ctx.src.path), model_file=None,
            files={w.name: sha256_file(w)}, size_bytes=w.stat().st_size, precision="fp32", num_layers=ctx.src.num_layers,
            notes=["torch fp32 in the source folder (path is absolute); the baseline every variant is compared with"],
            quality=quality, gflops_per_item=gflops_per_item(ctx.src.config, ctx.max_length),
        )

    def _variant(self, v, dest: Path):
        from toolkit.artifacts.variants import Quality, Variant
        from toolkit.compress.builders import BUILDERS
        from toolkit.compress.flops import gflops_per_item
        from toolkit.compress.runtime import SERVED_ALONE, OnnxEncoder
        from toolkit.compress.source import copy_model_files

        ctx = self.ctx
        dest.mkdir(parents=True)
        built = BUILDERS[v.kind](ctx, v, dest)
        for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
            if (ctx.src.path / name).exists():
                shutil.copyfile(ctx.src.path / name, dest / name)
        if not (dest / "tokenizer.json").exists():  # slow-tokenizer-only sources: write the fast one too
            ctx.tokenizer.save_pretrained(str(dest))
            copy_model_files(dest, dest)

        quality = Quality(eval_examples=len(ctx.splits.eval_texts))
        notes = list(built.notes)
        with self.reporter.stage(f"evaluating {v.name}", total=None):
            enc = OnnxEncoder(dest, ctx.task, ctx.max_length, ctx.threads)
            out = self._outputs(enc, serving=SERVED_ALONE)
            if "eval" in out:
                for k, val in self.family.fidelity(self.ref_out["eval"], out["eval"]).items():
                    setattr(quality, k, val)
                self._batch_mates(enc, out["eval"], quality, notes)
            else:
                notes.append("fidelity not measured: the spec names no evaluation, distillation or labelled text")
            if self.probe is not None:
                acc = self.probe.accuracy(out["probe_test"], ctx.splits.probe_test[1])
                quality.probe_accuracy = round(acc, 5)
                quality.accuracy_drop_points = round(100 * (self.probe.reference_accuracy - acc), 3)
        files, size = folder_files(dest)
        reason = self.family.quality_gate(quality, self.spec.compression.quality_floor)
        return Variant(
            name=v.name, kind=v.kind, path=f"variants/{v.name}", model_file="model.onnx", files=files, size_bytes=size,
            precision=built.precision, num_layers=built.num_layers, devices=built.devices,
            status="rejected" if reason else "accepted", rejected_reason=reason, notes=notes, quality=quality,
            gflops_per_item=gflops_per_item(built.config, ctx.max_length),
        )
