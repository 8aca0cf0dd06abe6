"""GGUF files: read their metadata, dequantize them into a plain Hugging Face folder, fix the tokenizer.

transformers loads a GGUF with ``from_pretrained(folder, gguf_file=name)`` (needs the ``gguf`` and
``accelerate`` packages) and dequantizes it to fp32. The tokenizer it converts is wrong in ways
that matter (measured on SmolLM2, ENVIRONMENT.md "Generative models"): eos comes out as the BOS
token, a BOS is prepended although the GGUF says ``add_bos_token: false``, and
``tokenizer_class: LlamaTokenizerFast`` makes transformers 5.x drop every space. :func:`fix_tokenizer`
rewrites the saved files from the GGUF's own metadata (eos/pad ids, add_bos) and, for byte-level
BPE ("gpt2") vocabularies, restores the ByteLevel decoder that onnxruntime-genai also needs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import MissingDependencyError, ModelError

# GGUF architectures that are not causal decoders even though transformers reads them
NOT_DECODERS = ("t5", "umt5", "bert", "nomic-bert")
FIX_VERSION = 1  # bump when fix_tokenizer changes: cached references are rebuilt


@dataclass
class GgufInfo:
    """What the build needs from a GGUF's header, read without dequantizing anything."""

    path: Path
    architecture: str
    n_params: int
    file_type: int | None = None
    tokenizer_model: str | None = None  # "gpt2" (byte-level BPE) or "llama" (sentencepiece)
    add_bos: bool | None = None
    bos_token: str | None = None
    eos_token: str | None = None
    pad_token: str | None = None

    @property
    def fp32_bytes(self) -> int:
        return self.n_params * 4


def _require(package: str) -> None:
    import importlib.util

    if importlib.util.find_spec(package) is None:
        raise MissingDependencyError(package, "compress")


def read_gguf_info(path: Path) -> GgufInfo:
    """Parse the GGUF header (memory-mapped; ~2 s for a 49k-token vocabulary). A bad file -> ModelError."""
    _require("gguf")
    from gguf import GGUFReader

    try:
        reader = GGUFReader(str(path))
    except (ValueError, OSError, KeyError, IndexError) as exc:
        raise ModelError(f"{path} is not a readable GGUF file ({str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__})",
                         hint="give a .gguf file written by llama.cpp's converter (the file may be truncated)") from None
    fields = reader.fields

    def value(key: str):
        f = fields.get(key)
        if f is None:
            return None
        try:
            return f.contents()
        except Exception:  # noqa: BLE001 - odd field types are simply unknown here
            return None

    def token(id_key: str) -> str | None:
        idx, toks = value(id_key), fields.get("tokenizer.ggml.tokens")
        if idx is None or toks is None or not (0 <= int(idx) < len(toks.data)):
            return None
        return str(toks.contents(int(idx)))

    arch = str(value("general.architecture") or "")
    add_bos = value("tokenizer.ggml.add_bos_token")
    return GgufInfo(
        path=path, architecture=arch, n_params=sum(int(t.n_elements) for t in reader.tensors),
        file_type=value("general.file_type"), tokenizer_model=value("tokenizer.ggml.model"),
        add_bos=None if add_bos is None else bool(add_bos), bos_token=token("tokenizer.ggml.bos_token_id"),
        eos_token=token("tokenizer.ggml.eos_token_id"), pad_token=token("tokenizer.ggml.padding_token_id"),
    )


def supported_architectures() -> list[str]:
    """GGUF architectures this transformers can dequantize into a causal LM."""
    from transformers.modeling_gguf_pytorch_utils import GGUF_SUPPORTED_ARCHITECTURES

    return [a for a in GGUF_SUPPORTED_ARCHITECTURES if a not in ("general", "tokenizer") + NOT_DECODERS]


def check_loadable(info: GgufInfo) -> None:
    """A GGUF of an architecture transformers cannot load (or not a decoder) -> ModelError."""
    import transformers

    archs = supported_architectures()
    if info.architecture in NOT_DECODERS:
        raise ModelError(f"{info.path.name} holds a '{info.architecture}' model, not a causal language model",
                         hint="text-generation needs a decoder GGUF (llama, qwen2, mistral, phi3, ...)")
    if info.architecture not in archs:
        from toolkit.suggest import did_you_mean

        raise ModelError(
            f"{info.path.name} holds a '{info.architecture or 'unknown'}' model, which transformers {transformers.__version__} "
            f"cannot load from GGUF{did_you_mean(info.architecture, archs)}",
            hint=f"convert it to a Hugging Face folder with its original tools, or use a GGUF of: {', '.join(archs)}",
        )


def convert_gguf(info: GgufInfo, dest: Path) -> Path:
    """Dequantize ``info.path`` to fp32 and save a plain HF folder (config, safetensors, fixed tokenizer) in ``dest``."""
    _require("gguf")
    _require("accelerate")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()  # the per-tensor dequantization bar; the caller reports progress
    folder, name = str(info.path.parent), info.path.name
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    except (ValueError, KeyError, RuntimeError, NotImplementedError, OSError) as exc:
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"transformers cannot dequantize {name}: {first}",
                         hint="this GGUF's quantization type or architecture is not supported here; try a Q4_0/Q4_1/Q8_0/F16 GGUF") from None
    model.save_pretrained(str(dest))
    tokenizer.save_pretrained(str(dest))
    del model
    fix_tokenizer(dest, info)
    return dest


def fix_tokenizer(folder: Path, info: GgufInfo) -> None:
    """Rewrite the tokenizer files transformers converted from the GGUF (see the module docstring)."""
    cfg_path, tok_path, map_path = folder / "tokenizer_config.json", folder / "tokenizer.json", folder / "special_tokens_map.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    eos = info.eos_token or cfg.get("eos_token")
    pad = info.pad_token or eos
    cfg["tokenizer_class"] = "PreTrainedTokenizerFast"
    cfg.update(eos_token=eos, pad_token=pad)
    if info.bos_token:
        cfg["bos_token"] = info.bos_token
    for k in ("bos_token_id", "eos_token_id", "pad_token_id", "unk_token_id", "legacy"):
        cfg.pop(k, None)  # ids are looked up from the token strings
    if info.add_bos is not None:
        cfg["add_bos_token"] = info.add_bos
    byte_level = info.tokenizer_model == "gpt2"
    if byte_level:
        cfg["add_prefix_space"] = False
    cfg_path.write_text(json.dumps(cfg, indent=2, ensure_ascii=False), encoding="utf-8")

    specials = json.loads(map_path.read_text(encoding="utf-8")) if map_path.exists() else {}
    specials.update({k: v for k, v in (("eos_token", eos), ("pad_token", pad), ("bos_token", info.bos_token)) if v})
    map_path.write_text(json.dumps(specials, indent=2, ensure_ascii=False), encoding="utf-8")

    tok = json.loads(tok_path.read_text(encoding="utf-8"))
    if info.add_bos is False:
        tok["post_processor"] = None  # the converted TemplateProcessing prepends a BOS
    if byte_level:
        tok["decoder"] = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
        if isinstance(tok.get("model"), dict):
            tok["model"]["byte_fallback"] = False
    tok_path.write_text(json.dumps(tok, ensure_ascii=False), encoding="utf-8")

    gen = folder / "generation_config.json"
    if gen.exists():  # eos/pad ids in the generation config follow the tokenizer's
        from transformers import AutoTokenizer

        t = AutoTokenizer.from_pretrained(str(folder))
        g = json.loads(gen.read_text(encoding="utf-8"))
        g.update(eos_token_id=t.eos_token_id, pad_token_id=t.pad_token_id)
        gen.write_text(json.dumps(g, indent=2), encoding="utf-8")
