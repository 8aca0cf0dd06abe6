"""Where an LLM variant's files are: a variant of variants.json, or a variant folder given directly.

A CPU variant is an ONNX decoder with KV cache (``model.onnx`` + external data, optimum's
``text-generation-with-past`` export) with its tokenizer files; a GPU variant is a Hugging Face folder
vLLM loads (``config.json`` + ``*.safetensors``; llm-compressor's compressed-tensors formats included).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.errors import InputError, ModelError
from toolkit.fileio import sha256_file

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "config.json",
                   "generation_config.json", "chat_template.jinja", "tokenizer.model")


@dataclass
class LLMVariant:
    name: str
    folder: Path
    format: str  # "onnx" (CPU) or "hf" (GPU, vLLM)
    precision: str
    kind: str = ""
    status: str = "accepted"
    rejected_reason: str | None = None
    files: dict[str, str] = field(default_factory=dict)  # rel path -> sha256 (verified)
    spec_sha256: str | None = None
    task: str = "text-generation"

    @property
    def onnx_file(self) -> Path:
        return self.folder / "model.onnx"


def folder_format(folder: Path) -> str | None:
    if (folder / "model.onnx").is_file():
        return "onnx"
    if (folder / "config.json").is_file() and any(folder.glob("*.safetensors")):
        return "hf"
    return None


def _precision_of(folder: Path, fmt: str) -> str:
    if fmt == "hf":
        from toolkit.package.llm.engine import quantization_of, read_hf_config

        cfg = read_hf_config(folder)
        q = quantization_of(cfg)
        return q or str(cfg.get("torch_dtype") or cfg.get("dtype") or "bf16").replace("bfloat16", "bf16").replace("float16", "fp16")
    return onnx_precision(folder / "model.onnx")


def onnx_precision(model_file: Path) -> str:
    """int4 (MatMulNBits), int8 (dynamic/static integer matmuls), fp16 or fp32, from the graph's operators."""
    try:
        import onnx

        graph = onnx.load(str(model_file), load_external_data=False).graph
    except Exception:  # noqa: BLE001 - unreadable here: check reports it
        return "unknown"
    ops = {n.op_type for n in graph.node}
    if "MatMulNBits" in ops:
        return "int4"
    if ops & {"MatMulInteger", "DynamicQuantizeLinear", "QLinearMatMul", "DynamicQuantizeMatMul"}:
        return "int8"
    if any(t.data_type == 10 for t in graph.initializer):  # FLOAT16
        return "fp16"
    return "fp32"


def _verify(folder: Path, files: dict[str, str], label: str) -> dict[str, str]:
    """The variant's files exist and match variants.json's sha256 (the encoder package's check)."""
    from toolkit.package.builder import verify_variant_files

    return verify_variant_files(folder, files, label)


def resolve_variant(where: str | Path, variant: str | None) -> LLMVariant:
    """The variant ``variant`` of the variants.json at (or in) ``where``, or the variant folder ``where`` itself."""
    p = Path(where)
    if p.is_dir() and not (p / "variants.json").is_file():
        fmt = folder_format(p)
        if fmt is None:
            raise ModelError(f"{p}: neither variants.json nor an LLM variant (model.onnx, or config.json + *.safetensors)",
                             hint="give the compress output folder (with variants.json) or a variant folder")
        files = {q.relative_to(p).as_posix(): sha256_file(q) for q in sorted(p.rglob("*")) if q.is_file()}
        return LLMVariant(variant or p.name, p, fmt, _precision_of(p, fmt), files=files)
    from toolkit.artifacts.common import load_artifact
    from toolkit.artifacts.variants import VariantsFile

    vfile = p / "variants.json" if p.is_dir() else p
    variants = load_artifact(VariantsFile, vfile)
    if not variant:
        raise InputError("which variant? pass --variant NAME (as in variants.json)", hint="or --plan plan.json for the plan's chosen one")
    v = variants.get(variant)
    folder = vfile.parent / v.path
    label = f"{vfile.parent.name}/{v.path}".rstrip("/")
    fmt = folder_format(folder)
    if getattr(v, "kind", "") == "reference" and fmt != "hf":
        raise InputError(f"variant '{variant}' is the torch reference and has no servable files",
                         hint="package an ONNX variant (CPU) or a GPU-format variant (vLLM)")
    if fmt is None:
        raise ModelError(f"{label}: no model.onnx and no config.json + *.safetensors", hint="re-run `leanserve compress`")
    files = _verify(folder, dict(v.files), label) if v.files else {
        q.relative_to(folder).as_posix(): sha256_file(q) for q in sorted(folder.rglob("*")) if q.is_file()}
    return LLMVariant(variant, folder, fmt, str(getattr(v, "precision", _precision_of(folder, fmt))), kind=str(getattr(v, "kind", "")),
                      status=str(getattr(v, "status", "accepted")), rejected_reason=getattr(v, "rejected_reason", None), files=files,
                      spec_sha256=variants.spec_sha256, task=str(variants.task))


def is_generative_variants(where: str | Path) -> bool:
    """Whether ``where`` names LLM variants: a variants.json whose family is generative, or an LLM variant folder."""
    p = Path(where)
    vfile = p / "variants.json" if p.is_dir() else p
    if p.is_dir() and not vfile.is_file():
        return is_decoder_folder(p)
    try:
        task = json.loads(vfile.read_text(encoding="utf-8")).get("task")
    except (OSError, ValueError, AttributeError):
        return False
    return is_generative_task(task)


def is_decoder_folder(folder: Path) -> bool:
    """A variant folder of a causal LM: an ONNX graph with a KV cache, or an HF folder of a ``*ForCausalLM``."""
    fmt = folder_format(folder)
    if fmt == "onnx":
        try:
            import onnx

            graph = onnx.load(str(folder / "model.onnx"), load_external_data=False).graph
        except Exception:  # noqa: BLE001 - unreadable: not ours to claim
            return False
        return any(i.name.startswith("past_key_values.") for i in graph.input)
    if fmt == "hf":
        from toolkit.package.llm.engine import read_hf_config

        return any(str(a).endswith("ForCausalLM") for a in read_hf_config(folder).get("architectures") or [])
    return False


def is_generative_task(task) -> bool:
    """Whether the family registered for ``task`` generates text (``family.generative`` or ``token_traffic``, or a
    family whose Triton output is ``text_output``); False for unknown tasks."""
    if not isinstance(task, str):
        return False
    try:
        from toolkit.families import family_for

        fam = family_for(task)
    except Exception:  # noqa: BLE001 - an unknown task is not generative here; the caller reports it
        return False
    return (bool(getattr(fam, "generative", False)) or bool(getattr(fam, "token_traffic", False))
            or getattr(fam, "triton_output", None) == "text_output")
