"""onnxruntime-genai on an optimum export: the ``genai_config.json`` that lets its runtime load our graphs.

onnxruntime-genai's model builder imports transformers 5 and cannot run in the project's venv, but
its runtime (``og.Model``, ``og.Generator``; 0.18 needs onnxruntime >= 1.31) loads the graph optimum
exports once it is told the tensor names and that present and past are separate buffers (optimum's
graph concatenates). Checked on SmolLM2 int4: the same greedy tokens as ``OnnxDecoder``. Optional:
install ``onnxruntime-genai`` to use :class:`GenaiDecoder`.
"""

from __future__ import annotations

import json
from pathlib import Path


def genai_config(src, *, filename: str = "model.onnx", threads: int = 2, context: int | None = None) -> dict:
    """The config for a variant of ``src`` (a DecoderSource) exported by ``toolkit.compress.decoder.export``."""
    cfg = src.config
    return {
        "model": {
            "bos_token_id": cfg.get("bos_token_id"), "eos_token_id": cfg.get("eos_token_id"),
            "pad_token_id": cfg.get("pad_token_id", cfg.get("eos_token_id")),
            "context_length": int(context or src.max_positions), "vocab_size": src.vocab_size, "type": src.model_type,
            "decoder": {
                "session_options": {"log_id": "onnxruntime-genai", "provider_options": [], "intra_op_num_threads": threads},
                "filename": filename, "head_size": src.head_dim, "hidden_size": src.hidden_size,
                "num_attention_heads": src.num_heads, "num_hidden_layers": src.num_layers, "num_key_value_heads": src.num_kv_heads,
                "inputs": {"input_ids": "input_ids", "attention_mask": "attention_mask", "position_ids": "position_ids",
                           "past_key_names": "past_key_values.%d.key", "past_value_names": "past_key_values.%d.value"},
                "outputs": {"logits": "logits", "present_key_names": "present.%d.key", "present_value_names": "present.%d.value"},
            },
        },
        "search": {"do_sample": False, "max_length": int(context or src.max_positions), "min_length": 0, "num_beams": 1,
                   "num_return_sequences": 1, "past_present_share_buffer": False, "temperature": 1.0, "top_k": 1, "top_p": 1.0,
                   "repetition_penalty": 1.0, "length_penalty": 1.0, "early_stopping": True, "no_repeat_ngram_size": 0,
                   "diversity_penalty": 0.0},
    }


def write_genai_config(folder: Path, src, **kwargs) -> Path:
    path = Path(folder) / "genai_config.json"
    path.write_text(json.dumps(genai_config(src, **kwargs), indent=2), encoding="utf-8")
    return path


class GenaiDecoder:
    """Greedy decoding by onnxruntime-genai, for timing beside ``OnnxDecoder`` (batch 1)."""

    label = "onnxruntime-genai CPU"

    def __init__(self, folder: Path):
        import onnxruntime_genai as og

        self.og, self.model = og, og.Model(str(folder))

    def generate(self, prompt_ids, new_tokens: int) -> list[int]:
        params = self.og.GeneratorParams(self.model)
        params.set_search_options(max_length=len(prompt_ids) + new_tokens, do_sample=False)
        gen = self.og.Generator(self.model, params)
        gen.append_tokens([int(t) for t in prompt_ids])
        out = []
        while not gen.is_done():
            gen.generate_next_token()
            out.append(int(gen.get_next_tokens()[0]))
        return out
