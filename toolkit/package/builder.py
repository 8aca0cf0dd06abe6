"""``leanserve package``: one variant of variants.json → a Triton model repository, a container build
context, a SageMaker ``model.tar.gz`` (``--target sagemaker``), a locustfile and a manifest with the sha256
of every file. Everything is written into a temporary folder, validated, then moved into place."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.errors import ArtifactError, InputError, ModelError
from toolkit.families import family_for
from toolkit.fileio import atomic_dir, atomic_write_text, sha256_file
from toolkit.package import configs, pbtxt
from toolkit.package.manifest import (
    CONTAINER,
    LOCUSTFILE,
    MANIFEST,
    MODEL_TAR,
    REPOSITORY,
    BatchingInfo,
    PackageManifest,
    SLAInfo,
    hash_tree,
)

TARGETS = ("cpu", "gpu", "sagemaker")


@dataclass
class PackageOptions:
    """How to package. Defaults suit a CPU endpoint with dynamic batching."""

    target: str = "cpu"
    device: str | None = None  # sagemaker only: cpu or gpu instances (default: gpu for fp16 variants)
    max_batch_size: int = 16
    batching: bool = True
    instances: int | None = None  # model instances (default: one per two cores on CPU, one per GPU)
    threads: int | None = None  # intra-op threads per CPU instance (default 2)
    cores: int | None = None  # vCPUs of the machine the package is for (default: this machine's)
    pad_to_multiple_of: int = configs.DEFAULT_PAD_TO_MULTIPLE_OF
    region: str = "us-east-1"  # region of the SageMaker image registry
    allow_rejected: bool = False


@dataclass
class PackageResult:
    out: Path
    manifest: PackageManifest
    warnings: list[str] = field(default_factory=list)


def _device(options: PackageOptions, precision: str) -> str:
    if options.target == "cpu":
        return "cpu"
    if options.target == "gpu":
        return "gpu"
    return options.device or ("gpu" if precision == "fp16" else "cpu")


def verify_variant_files(folder: Path, files: dict[str, str], label: str) -> dict[str, str]:
    for rel, expected in sorted(files.items()):
        p = folder / rel
        if not p.is_file():
            raise ArtifactError(f"{label}/{rel}: listed in variants.json but missing", hint="re-run `leanserve compress`")
        if sha256_file(p) != expected:
            raise ArtifactError(f"{label}/{rel}: sha256 differs from variants.json (the file changed after compress)",
                                hint="re-run `leanserve compress` to rebuild and re-measure the variant")
    return dict(sorted(files.items()))


def _pad_token_id(folder: Path, tokenizer_json: Path) -> int:
    from toolkit.errors import require

    tok = require("tokenizers", "serve").Tokenizer.from_file(str(tokenizer_json))
    pad = "[PAD]"
    cfg = folder / "tokenizer_config.json"
    if cfg.is_file():
        value = json.loads(cfg.read_text(encoding="utf-8")).get("pad_token")
        if isinstance(value, dict):
            value = value.get("content")
        if isinstance(value, str):
            pad = value
    found = tok.token_to_id(pad)
    if found is not None:
        return int(found)
    padding = json.loads(tokenizer_json.read_text(encoding="utf-8")).get("padding") or {}
    return int(padding.get("pad_id", 0))


def _tokenizer_json(folder: Path, work: Path) -> Path:
    """The fast-tokenizer file of the variant; converted from a slow tokenizer's files when absent."""
    if (folder / "tokenizer.json").is_file():
        return folder / "tokenizer.json"
    try:
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(str(folder), use_fast=True)
        tok.save_pretrained(str(work))
    except Exception:  # noqa: BLE001 - any failure means: no usable tokenizer
        tok = None
    if tok is None or not (work / "tokenizer.json").is_file():
        raise ModelError(f"{folder}: no tokenizer.json (and the tokenizer files there cannot be converted to one)",
                         hint="the variant folder needs the tokenizer files saved by `leanserve compress`")
    return work / "tokenizer.json"


def _copy_model(src: Path, dest_dir: Path) -> Path:
    """Copy the ONNX file as model.onnx, with any external-data files next to it."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest_dir / "model.onnx")
    for extra in sorted(src.parent.iterdir()):
        if extra.is_file() and extra != src and extra.name.startswith(src.name) and extra.suffix in (".data", ".onnx_data", ".bin"):
            shutil.copyfile(extra, dest_dir / extra.name)
    return dest_dir / "model.onnx"


def _serving_warnings(v, evaluation: dict, pad_to_multiple_of: int) -> list[str]:
    """Where a served output may differ from what compress measured: the variant's check found it moves with padding and batch-mates."""
    from toolkit.compress.runtime import BATCH_INVARIANT_TOLERANCE

    diff = v.quality.batch_mates_max_abs_diff
    if diff is None or diff <= BATCH_INVARIANT_TOLERANCE:
        return []
    measured = evaluation.get("serving_pad_to_multiple_of")
    padding = f"padded to a multiple of {measured}" if measured else "alone"
    if measured and measured != pad_to_multiple_of:
        padding += f" (this package pads to a multiple of {pad_to_multiple_of})"
    warning = (f"served outputs of '{v.name}' move with padding and batch-mates (up to {diff:.2g} in compress's check): "
               f"its quality was measured on texts sent alone, {padding}")
    return [warning]


def _write_config(folder: Path, config) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.pbtxt").write_text(pbtxt.to_text(config), encoding="utf-8")


def build_package(variants_dir: str | Path, variant: str, out: str | Path, options: PackageOptions | None = None,
                  spec=None) -> PackageResult:
    """Package ``variant`` from ``variants_dir`` into ``out``. ``spec`` is an optional LoadedSpec (SLA, name)."""
    from toolkit.artifacts.common import load_artifact
    from toolkit.artifacts.variants import VariantsFile
    from toolkit.bench.locust import render_locustfile
    from toolkit.bench.texts import SENTENCES
    from toolkit.package.check import check_repository, ensure_valid
    from toolkit.package.container import TRITON_VERSION, write_context
    from toolkit.package.models import POOLING_SOURCE, TOKENIZER_SOURCE
    from toolkit.package.onnx_io import read_signature
    from toolkit.package.sagemaker import write_model_tar

    options = options or PackageOptions()
    if options.target not in TARGETS:
        raise InputError(f"unknown target '{options.target}'", hint=f"choose one of: {', '.join(TARGETS)}")
    if options.pad_to_multiple_of < 1:
        raise InputError("--pad-to-multiple-of must be at least 1", hint="use 1 to pad to the longest text only")
    vdir = Path(variants_dir)
    vfile_path = vdir / "variants.json" if vdir.is_dir() else vdir
    vdir = vfile_path.parent
    variants = load_artifact(VariantsFile, vfile_path)
    v = variants.get(variant)
    warnings: list[str] = []
    if v.kind == "reference" or not v.model_file:
        raise InputError(f"variant '{variant}' is the torch reference and has no ONNX model",
                         hint=f"package an ONNX variant: {', '.join(x.name for x in variants.accepted()) or '(none accepted)'}")
    if v.status == "rejected":
        if not options.allow_rejected:
            raise InputError(f"variant '{variant}' was rejected by compress: {v.rejected_reason or 'below the quality floor'}",
                             hint="package an accepted variant, or pass --allow-rejected to package it anyway")
        warnings.append(f"packaging rejected variant '{variant}': {v.rejected_reason}")
    folder = vdir / v.path
    label = f"{vdir.name}/{v.path}".rstrip("/")
    model_src = folder / v.model_file
    if v.files:
        source_files = verify_variant_files(folder, v.files, label)
    else:
        warnings.append("variants.json lists no file hashes for this variant; hashing the files as found")
        source_files = {p.relative_to(folder).as_posix(): sha256_file(p) for p in sorted(folder.rglob("*")) if p.is_file()}
    warnings += _serving_warnings(v, variants.evaluation, options.pad_to_multiple_of)
    device = _device(options, v.precision)
    if device not in v.devices:
        warnings.append(f"variant '{variant}' is meant for {'/'.join(v.devices)}, packaged here for {device}")

    sig = read_signature(model_src)
    configs.require_batchable(sig, f"{label}/{v.model_file}")
    model_inputs = configs.token_inputs(sig)
    family = family_for(variants.task)
    result = configs.pooled_output(sig, family)
    tokenizer_outputs = list(model_inputs)
    if family.pooling and not any(t.name == "attention_mask" for t in tokenizer_outputs):
        from toolkit.package.onnx_io import TensorSig

        tokenizer_outputs.append(TensorSig("attention_mask", "TYPE_INT64", (-1, -1), ("batch", "seq")))

    sla = spec.spec.sla if spec is not None else None
    plan = configs.batching_plan(sla.latency_ms if sla else None, options.max_batch_size, options.batching)
    batching = plan.model
    if sla is None and plan.enabled:
        warnings.append(f"no --spec: dynamic batching may delay a request by at most {plan.budget_us} µs (default, not derived from an SLA)")
    if device == "cpu":
        placement = configs.cpu_placement(options.cores or os.cpu_count() or 1, options.instances, options.threads)
    else:
        placement = configs.gpu_placement(options.instances)
        if v.precision == "int8":
            warnings.append("dynamic int8 runs mostly on CPU kernels under onnxruntime-GPU; onnx-fp16 is the GPU variant")
    name = spec.spec.name if spec is not None else "leanserve"
    if spec is not None and spec.sha256 != variants.spec_sha256:
        warnings.append("the spec differs from the one variants.json was built from (its sha256 does not match)")

    out = Path(out)
    with atomic_dir(out) as tmp:
        repo = tmp / REPOSITORY
        # the ONNX model, on Triton's native onnxruntime backend
        _write_config(repo / configs.MODEL, configs.model_config(sig, batching, placement, v.precision))
        _copy_model(model_src, repo / configs.MODEL / "1")
        # tokenizer (Python backend)
        tok_dir = repo / configs.TOKENIZER
        (tok_dir / "1").mkdir(parents=True)
        tok_json = _tokenizer_json(folder, tmp / ".tokenizer-work")
        pad_id = _pad_token_id(folder, tok_json)
        shutil.copyfile(tok_json, tok_dir / "1" / "tokenizer.json")
        shutil.rmtree(tmp / ".tokenizer-work", ignore_errors=True)
        shutil.copyfile(TOKENIZER_SOURCE, tok_dir / "1" / "model.py")
        _write_config(tok_dir, configs.tokenizer_config(tokenizer_outputs, plan.tokenizer, variants.max_sequence_length,
                                                        options.pad_to_multiple_of, pad_id))
        models = {"tokenizer": configs.TOKENIZER, "model": configs.MODEL, "ensemble": configs.ENSEMBLE}
        output_name = family.triton_output
        if family.pooling:
            mask = next(t for t in tokenizer_outputs if t.name == "attention_mask")
            _write_config(repo / configs.POOLING, configs.pooling_config(result, mask, plan.pooling, output_name))
            (repo / configs.POOLING / "1").mkdir(parents=True)
            shutil.copyfile(POOLING_SOURCE, repo / configs.POOLING / "1" / "model.py")
            models["pooling"] = configs.POOLING
        models["ensemble"] = models.pop("ensemble")  # listed in pipeline order
        ens = configs.ensemble_config(family, tokenizer_outputs, model_inputs, result, batching)
        _write_config(repo / configs.ENSEMBLE, ens)
        (repo / configs.ENSEMBLE / "1").mkdir(parents=True)

        _, image = write_context(tmp / CONTAINER, repo, target=options.target, device=device, name=name, variant=variant,
                                 ensemble=configs.ENSEMBLE, region=options.region)
        environment = {}
        if options.target == "sagemaker":
            write_model_tar(repo, tmp / MODEL_TAR)
            environment["SAGEMAKER_TRITON_DEFAULT_MODEL_NAME"] = configs.ENSEMBLE
        atomic_write_text(tmp / LOCUSTFILE, render_locustfile(configs.ENSEMBLE, configs.TEXT_INPUT, output_name, SENTENCES))

        manifest = PackageManifest(
            spec_sha256=spec.sha256 if spec is not None else variants.spec_sha256,
            name=name,
            variant=variant,
            variant_kind=v.kind,
            precision=v.precision,
            task=variants.task,
            target=options.target,
            device=device,
            max_sequence_length=variants.max_sequence_length,
            pad_to_multiple_of=options.pad_to_multiple_of,
            ensemble=configs.ENSEMBLE,
            models=models,
            output_name=output_name,
            batching=BatchingInfo(enabled=plan.enabled, max_batch_size=plan.max_batch_size,
                                  preferred_batch_sizes=list(batching.preferred_batch_sizes) if plan.enabled else [],
                                  max_queue_delay_us=batching.max_queue_delay_us,
                                  tokenizer_queue_delay_us=plan.tokenizer.max_queue_delay_us, budget_us=plan.budget_us),
            instance_kind=placement.kind,
            instance_count=placement.count,
            threads_per_instance=placement.threads,
            sla=SLAInfo(percentile=sla.percentile, latency_ms=sla.latency_ms, max_error_rate=sla.max_error_rate) if sla else None,
            triton_version=TRITON_VERSION,
            image=image,
            source_files=source_files,
            environment=environment,
            files=hash_tree(tmp),
        )
        from toolkit.artifacts.common import save_artifact

        save_artifact(manifest, tmp / MANIFEST)
        ensure_valid(check_repository(tmp, options.target))
    return PackageResult(out, manifest, warnings)
