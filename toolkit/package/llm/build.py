"""``leanserve package`` for an LLM variant: a streaming Triton repository, its container context, model.tar.gz
(sagemaker) and ``manifest.json``, written into a temporary folder, validated, then moved into place.

    from toolkit.package.llm import LLMPackageOptions, build_llm_package
    result = build_llm_package("out/compress", "onnx-int4", "out/package", LLMPackageOptions(target="cpu"))
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.errors import InputError
from toolkit.fileio import atomic_dir
from toolkit.package import pbtxt
from toolkit.package.llm import layout
from toolkit.package.llm.source import TOKENIZER_FILES, LLMVariant, resolve_variant
from toolkit.package.manifest import CONTAINER, MANIFEST, MODEL_TAR, REPOSITORY, hash_tree

TARGETS = ("cpu", "gpu", "sagemaker")


@dataclass
class LLMPackageOptions:
    """How to package an LLM variant. Engine arguments not given come from ``plan`` (a PlanFile), else defaults."""

    target: str = "cpu"
    device: str | None = None  # sagemaker: cpu (ONNX variant) or gpu (vLLM); default from the variant's format
    instances: int | None = None  # CPU: model instances (default one per two cores)
    threads: int | None = None  # CPU: onnxruntime threads per instance (default 2)
    cores: int | None = None  # CPU: vCPUs of the machine the package is for (default this machine's)
    max_model_len: int | None = None
    max_num_seqs: int | None = None
    gpu_memory_utilization: float | None = None
    tensor_parallel_size: int | None = None
    kv_cache_dtype: str | None = None
    weights_uri: str | None = None  # gpu: s3://bucket/prefix fetched at container start instead of baking the weights in
    region: str = "us-east-1"
    allow_rejected: bool = False
    plan: object | None = None  # a PlanFile: its chosen candidate's engine limits and TP degree


@dataclass
class LLMPackageResult:
    out: Path
    manifest: object  # LLMManifest
    warnings: list[str] = field(default_factory=list)


def _device(options: LLMPackageOptions, v: LLMVariant) -> str:
    want = {"onnx": "cpu", "hf": "gpu"}[v.format]
    device = {"cpu": "cpu", "gpu": "gpu"}.get(options.target) or options.device or want
    if device != want:
        what = "an ONNX decoder (onnxruntime, CPU)" if v.format == "onnx" else "a Hugging Face folder for vLLM (GPU)"
        fix = "--target cpu (or sagemaker --device cpu)" if v.format == "onnx" else "--target gpu (or sagemaker --device gpu)"
        raise InputError(f"variant '{v.name}' is {what}: it cannot be packaged for {device}", hint=f"use {fix}, or pick another variant")
    return device


def _copy_files(src: Path, dest: Path, names) -> list[str]:
    dest.mkdir(parents=True, exist_ok=True)
    copied = []
    for p in sorted(src.iterdir()):
        if p.is_file() and (names is None or p.name in names or p.name.startswith("model.onnx") or p.suffix == ".onnx_data"):
            try:
                os.link(p, dest / p.name)
            except OSError:
                shutil.copyfile(p, dest / p.name)
            copied.append(p.name)
    return copied


def _cpu_model(v: LLMVariant, mdir: Path, options: LLMPackageOptions, hf_config: dict) -> tuple[object, list[str]]:
    from toolkit.package.configs import cpu_placement
    from toolkit.package.llm.engine import DEFAULT_MAX_MODEL_LEN_CAP, context_length
    from toolkit.package.llm.models import LLM_DECODE_SOURCE, LLM_MODEL_SOURCE

    notes = []
    if not (v.folder / "tokenizer.json").is_file():
        raise InputError(f"{v.folder}: no tokenizer.json next to model.onnx", hint="the variant folder needs the tokenizer files compress saves")
    vdir = mdir / "1"
    _copy_files(v.folder, vdir, set(TOKENIZER_FILES))
    shutil.copyfile(LLM_MODEL_SOURCE, vdir / layout.MODEL_PY)
    shutil.copyfile(LLM_DECODE_SOURCE, vdir / layout.DECODE_PY)
    placement = cpu_placement(options.cores or os.cpu_count() or 1, options.instances, options.threads)
    ctx = context_length(hf_config)
    mml = options.max_model_len or (min(ctx, DEFAULT_MAX_MODEL_LEN_CAP) if ctx else 2048)
    if ctx and mml > ctx:
        raise InputError(f"--max-model-len {mml} is above the model's context ({ctx} tokens)", hint=f"use at most {ctx}")
    rt = layout.CpuRuntime(instances=placement.count, threads=placement.threads, max_model_len=mml)
    notes.append(f"{rt.instances} model instance(s) × {rt.threads} onnxruntime threads; each decodes one request at a time")
    return rt, notes


def build_llm_package(where: str | Path, variant: str | None, out: str | Path, options: LLMPackageOptions | None = None,
                      spec=None) -> LLMPackageResult:
    """Package LLM ``variant`` (of the variants.json in ``where``, or the variant folder ``where``) into ``out``."""
    from toolkit.artifacts.common import save_artifact
    from toolkit.package.container import TRITON_VERSION
    from toolkit.package.llm.check import check_llm_repository
    from toolkit.package.llm.container import container_weights_path, write_llm_context
    from toolkit.package.llm.engine import engine_args, read_hf_config
    from toolkit.package.llm.manifest import CpuRuntimeInfo, LLMManifest, WeightsInfo
    from toolkit.package.check import ensure_valid
    from toolkit.package.sagemaker import write_model_tar

    options = options or LLMPackageOptions()
    if options.target not in TARGETS:
        raise InputError(f"unknown target '{options.target}'", hint=f"choose one of: {', '.join(TARGETS)}")
    candidate = getattr(options.plan, "chosen", None) if options.plan is not None else None
    v = resolve_variant(where, variant or (candidate.variant if candidate is not None else None))
    warnings: list[str] = []
    if v.status == "rejected":
        if not options.allow_rejected:
            raise InputError(f"variant '{v.name}' was rejected by compress: {v.rejected_reason or 'below the quality floor'}",
                             hint="package an accepted variant, or pass --allow-rejected to package it anyway")
        warnings.append(f"packaging rejected variant '{v.name}': {v.rejected_reason}")
    device = _device(options, v)
    if options.weights_uri and (device != "gpu" or options.target == "sagemaker"):
        raise InputError("--weights-uri is for --target gpu (SageMaker and CPU packages carry their weights)",
                         hint="drop --weights-uri, or package for --target gpu")
    if options.weights_uri and not options.weights_uri.startswith("s3://"):
        raise InputError(f"--weights-uri '{options.weights_uri}' is not s3://bucket/prefix", hint="e.g. s3://my-bucket/models/smollm2-w4a16")
    name = spec.spec.name if spec is not None else "leanserve"
    if spec is not None and v.spec_sha256 and spec.sha256 != v.spec_sha256:
        warnings.append("the spec differs from the one variants.json was built from (its sha256 does not match)")
    hf_config = read_hf_config(v.folder)
    out = Path(out)
    model = layout.MODEL
    with atomic_dir(out) as tmp:
        repo = tmp / REPOSITORY
        mdir = repo / model
        mdir.mkdir(parents=True)
        engine, cpu, notes = None, None, []
        if device == "gpu":
            s3 = options.weights_uri is not None
            path = container_weights_path(options.target, model, layout.WEIGHTS_DIR, s3)
            engine, notes = engine_args(path, hf_config, plan_candidate=candidate, max_model_len=options.max_model_len,
                                        max_num_seqs=options.max_num_seqs, gpu_memory_utilization=options.gpu_memory_utilization,
                                        tensor_parallel_size=options.tensor_parallel_size, kv_cache_dtype=options.kv_cache_dtype)
            (mdir / "1").mkdir()
            if not s3:
                _copy_files(v.folder, mdir / "1" / layout.WEIGHTS_DIR, None)
            (mdir / "1" / layout.VLLM_ENGINE_FILE).write_text(engine.to_json(), encoding="utf-8")
            config = layout.vllm_config()
            weights = WeightsInfo(source="s3" if s3 else "baked", uri=options.weights_uri, path=path,
                                  bytes=0 if s3 else sum(p.stat().st_size for p in (mdir / "1" / layout.WEIGHTS_DIR).rglob("*") if p.is_file()))
        else:
            rt, notes = _cpu_model(v, mdir, options, hf_config)
            config = layout.cpu_config(rt)
            cpu = CpuRuntimeInfo(instances=rt.instances, threads=rt.threads, max_model_len=rt.max_model_len)
            weights = WeightsInfo(source="baked", path=f"{REPOSITORY}/{model}/1",
                                  bytes=sum(p.stat().st_size for p in (mdir / "1").iterdir() if p.name.startswith("model.onnx")
                                            or p.suffix == ".onnx_data"))
        (mdir / "config.pbtxt").write_text(pbtxt.to_text(config), encoding="utf-8")
        image = write_llm_context(tmp / CONTAINER, repo, target=options.target, device=device, name=name, variant=v.name,
                                  precision=v.precision, model=model, region=options.region, weights_uri=options.weights_uri)
        environment = {}
        if options.target == "sagemaker":
            write_model_tar(repo, tmp / MODEL_TAR)
            environment["SAGEMAKER_TRITON_DEFAULT_MODEL_NAME"] = model
        if options.weights_uri:
            environment["LEANSERVE_WEIGHTS_URI"] = options.weights_uri
        manifest = LLMManifest(
            spec_sha256=spec.sha256 if spec is not None else (v.spec_sha256 or "none"),
            name=name, variant=v.name, variant_kind=v.kind, precision=v.precision, task=v.task, target=options.target,
            device=device, backend="vllm" if device == "gpu" else "python", model=model, engine=engine, cpu=cpu, weights=weights,
            tokenizer=f"{REPOSITORY}/{model}/1/tokenizer.json" if device == "cpu" else None, triton_version=TRITON_VERSION,
            image=image, source_files=v.files, environment=environment, notes=notes, files=hash_tree(tmp),
        )
        save_artifact(manifest, tmp / MANIFEST)
        ensure_valid(check_llm_repository(tmp, options.target))
    return LLMPackageResult(out, manifest, warnings + notes)
