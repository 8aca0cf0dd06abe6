"""Decoder shapes: named public architectures (``toolkit/data/llm_architectures.csv``) and a user's config.json.

Every row of the CSV cites the model's published ``config.json``; :func:`from_config_json` reads the
same fields from a Hugging Face config. Derived quantities (units in the names):

- ``parameters``: embedding (vocab x hidden), untied LM head, per layer q/k/v/o projections (plus
  q/k/v biases where the model has them), the gated MLP (3 x hidden x intermediate), two RMSNorms,
  and the final norm. Llama-3.1-8B: 8,030,261,248.
- ``matmul_parameters``: the parameters a token multiplies through (the input embedding is a
  lookup, not a matmul, unless it is tied to the LM head). FLOPs per token = 2 x this.
- ``weight_bytes(fmt)``: quantized linear layers at the format's bytes per parameter (group scales
  included); embeddings, LM head and norms stay 16-bit, as llm-compressor recipes leave them.
- ``kv_bytes_per_token(dtype_bytes)`` = 2 (K and V) x layers x kv_heads x head_dim x bytes.
"""

from __future__ import annotations

import csv
import functools
import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from toolkit.errors import InputError
from toolkit.pricing.rows import DATA_DIR
from toolkit.suggest import did_you_mean

CSV_NAME = "llm_architectures.csv"
MOE_KEYS = ("num_local_experts", "num_experts", "n_routed_experts", "moe_intermediate_size")


class Architecture(BaseModel):
    """The shape of a dense decoder-only transformer (one row of llm_architectures.csv)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Short name, e.g. 'llama-3.1-8b'.")
    hf_id: str = Field(default="", description="Hub id of the checkpoint the row describes.")
    model_type: str = Field(default="llama", description="config.json model_type.")
    layers: int = Field(gt=0)
    hidden: int = Field(gt=0)
    heads: int = Field(gt=0)
    kv_heads: int = Field(gt=0)
    head_dim: int = Field(gt=0)
    intermediate: int = Field(gt=0)
    vocab: int = Field(gt=0)
    tied_embeddings: bool = False
    qkv_bias: bool = False
    max_context: int = Field(gt=0, description="max_position_embeddings (tokens).")
    params_published: float | None = Field(default=None, description="Parameter count the publisher states.")
    sources: str = ""
    notes: str = ""

    # ---- derived --------------------------------------------------------------------------------
    @property
    def q_dim(self) -> int:
        return self.heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        return self.kv_heads * self.head_dim

    @property
    def linear_parameters_per_layer(self) -> int:
        """Weights of the q, k, v, o projections and the gated MLP of one layer."""
        attn = self.hidden * self.q_dim + 2 * self.hidden * self.kv_dim + self.q_dim * self.hidden
        return attn + 3 * self.hidden * self.intermediate

    @property
    def linear_parameters(self) -> int:
        return self.layers * self.linear_parameters_per_layer

    @property
    def embedding_parameters(self) -> int:
        """Input embedding plus the LM head when it is not tied to it."""
        return self.vocab * self.hidden * (1 if self.tied_embeddings else 2)

    @property
    def small_parameters(self) -> int:
        """Norm weights and q/k/v biases (kept 16-bit in every format)."""
        bias = (self.q_dim + 2 * self.kv_dim) if self.qkv_bias else 0
        return self.layers * (2 * self.hidden + bias) + self.hidden

    @property
    def parameters(self) -> int:
        return self.linear_parameters + self.embedding_parameters + self.small_parameters

    @property
    def matmul_parameters(self) -> int:
        """Parameters each token is multiplied through: all linear layers plus the LM head."""
        return self.linear_parameters + self.vocab * self.hidden

    def flops_per_token(self) -> float:
        """Dense matmul FLOPs per token (2 per multiply-accumulate), attention scores excluded."""
        return 2.0 * self.matmul_parameters

    def attention_flops(self, new_tokens: float, context_tokens: float) -> float:
        """Score and value FLOPs of ``new_tokens`` attending to ``context_tokens`` each (QK^T and AV)."""
        return 4.0 * self.layers * self.q_dim * new_tokens * context_tokens

    def kv_bytes_per_token(self, dtype_bytes: float = 2.0) -> float:
        """KV-cache bytes one token occupies: 2 x layers x kv_heads x head_dim x bytes."""
        return 2.0 * self.layers * self.kv_heads * self.head_dim * dtype_bytes

    def weight_bytes(self, fmt) -> float:
        """Bytes of all weights in ``fmt`` (a :class:`toolkit.perf.llm.formats.ModelFormat` or its name)."""
        from toolkit.perf.llm.formats import model_format

        fmt = model_format(fmt) if isinstance(fmt, str) else fmt
        return self.linear_parameters * fmt.weight_bytes_per_param + (self.embedding_parameters + self.small_parameters) * 2.0

    def describe(self) -> str:
        return (f"{self.name}: {self.parameters / 1e9:.2f}B parameters, {self.layers} layers, hidden {self.hidden}, "
                f"{self.heads} heads / {self.kv_heads} KV heads x {self.head_dim}, context {self.max_context}")


# ---- the named shapes -----------------------------------------------------------------------------
def _bool(text: str) -> bool:
    return text.strip().lower() in ("1", "true", "yes")


@functools.lru_cache(maxsize=1)
def architectures() -> dict[str, Architecture]:
    """Every named shape of ``toolkit/data/llm_architectures.csv`` by name."""
    out: dict[str, Architecture] = {}
    with open(DATA_DIR / CSV_NAME, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            out[r["name"]] = Architecture(
                name=r["name"], hf_id=r["hf_id"], model_type=r["model_type"], layers=int(r["layers"]), hidden=int(r["hidden"]),
                heads=int(r["heads"]), kv_heads=int(r["kv_heads"]), head_dim=int(r["head_dim"]), intermediate=int(r["intermediate"]),
                vocab=int(r["vocab"]), tied_embeddings=_bool(r["tied_embeddings"]), qkv_bias=_bool(r["qkv_bias"]),
                max_context=int(r["max_context"]), params_published=float(r["params_published"]) if r["params_published"] else None,
                sources=r["sources"], notes=r["notes"],
            )
    return out


def architecture(name: str | Architecture) -> Architecture:
    """A named public shape (InputError with a did-you-mean for an unknown name); an Architecture passes through."""
    if isinstance(name, Architecture):
        return name
    shapes = architectures()
    key = str(name).strip().lower()
    if key in shapes:
        return shapes[key]
    raise InputError(f"unknown model architecture '{name}'{did_you_mean(key, shapes)}",
                     hint=f"use one of: {', '.join(sorted(shapes))}; or give the model's config.json")


# ---- a user's config.json -------------------------------------------------------------------------
def from_config(cfg: dict, name: str = "custom") -> Architecture:
    """An Architecture from a parsed Hugging Face config (a multimodal wrapper's ``text_config`` is used)."""
    if isinstance(cfg.get("text_config"), dict) and "num_hidden_layers" not in cfg:
        cfg = {**cfg["text_config"], "tie_word_embeddings": cfg.get("tie_word_embeddings", cfg["text_config"].get("tie_word_embeddings"))}
    moe = [k for k in MOE_KEYS if cfg.get(k)]
    if moe:
        raise InputError(f"config '{name}' describes a mixture-of-experts model ({moe[0]}); only dense decoders are modelled",
                         hint="plan a dense model, or give the shape of its active parameters")
    need = ("num_hidden_layers", "hidden_size", "num_attention_heads", "intermediate_size", "vocab_size")
    missing = [k for k in need if not cfg.get(k)]
    if missing:
        raise InputError(f"config '{name}' lacks {', '.join(missing)}",
                         hint="give the model's Hugging Face config.json (num_hidden_layers, hidden_size, num_attention_heads, ...)")
    heads = int(cfg["num_attention_heads"])
    hidden = int(cfg["hidden_size"])
    head_dim = int(cfg.get("head_dim") or hidden // heads)
    model_type = str(cfg.get("model_type", "llama"))
    return Architecture(
        name=name, hf_id=str(cfg.get("_name_or_path", "")), model_type=model_type, layers=int(cfg["num_hidden_layers"]),
        hidden=hidden, heads=heads, kv_heads=int(cfg.get("num_key_value_heads") or heads), head_dim=head_dim,
        intermediate=int(cfg["intermediate_size"]), vocab=int(cfg["vocab_size"]),
        tied_embeddings=bool(cfg.get("tie_word_embeddings", False)),
        qkv_bias=bool(cfg.get("attention_bias", model_type.startswith("qwen2"))),
        max_context=int(cfg.get("max_position_embeddings") or 4096), sources="user config.json",
    )


def from_config_json(path: str | Path) -> Architecture:
    """An Architecture from a Hugging Face ``config.json`` file (or a folder that holds one)."""
    path = Path(path)
    if path.is_dir():
        path = path / "config.json"
    try:
        cfg = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"config file not found: {path}", hint="give the path of the model's config.json") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"config file {path} is not JSON: {exc}", hint="give the model's Hugging Face config.json") from None
    if not isinstance(cfg, dict):
        raise InputError(f"config file {path} is not a JSON object", hint="give the model's Hugging Face config.json")
    return from_config(cfg, name=path.parent.name or "custom")
