"""Run a decoder variant: an onnxruntime KV-cache loop or the torch reference, behind one interface.

    dec = OnnxDecoder(folder / "model.onnx", threads=2)      # or TorchDecoder(model, threads=2)
    logits = dec.logits(ids)                  # [batch, seq, vocab] float32, one pass, no cache
    state = dec.prefill(ids)                  # the prompt's KV cache and its last-position logits
    state = dec.step(state, next_tokens)      # one decode step for every sequence of the batch

The ONNX loop calls ``InferenceSession.run`` directly: measured 42.6 tok/s for SmolLM2 int4 where
optimum's ``ORTModelForCausalLM`` wrapper gave 25-27 (ENVIRONMENT.md, "Generative models").
Sequences of a batch are the same length (no padding), which is how latency is measured and how
held-out windows are scored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.compress.runtime import torch_threads  # noqa: F401  (one helper for both runtimes; re-exported)


@dataclass
class DecodeState:
    past: Any  # backend-specific KV cache
    length: int  # tokens in the cache, per sequence
    logits: Any  # [batch, vocab] float32 numpy: the next-token logits


def make_session(model_file: str | Path, threads: int, *, spin: bool = True):
    """An onnxruntime CPU session with a fixed intra-op thread count and all graph optimisations.

    ``spin`` (onnxruntime's default, on) keeps idle workers spinning: measured 13.5 vs 19.2 ms per
    decode step for SmolLM2 int4, but the spinning threads steal the cores from whatever runs right
    after (torch decode 11x slower when interleaved): timing code pauses between runners."""
    from toolkit.compress.runtime import make_session as cpu_session

    return cpu_session(model_file, threads, spin=spin)


def greedy(decoder, ids, new_tokens: int):
    """Greedy continuation of ``ids`` [batch, seq] by ``new_tokens`` tokens (numpy int64 [batch, new_tokens])."""
    import numpy as np

    state = decoder.prefill(ids)
    out = []
    for i in range(new_tokens):
        nxt = state.logits.argmax(-1).astype(np.int64)
        out.append(nxt)
        if i + 1 < new_tokens:
            state = decoder.step(state, nxt)
    return np.stack(out, axis=1)


class OnnxDecoder:
    label = "onnxruntime CPU"

    def __init__(self, model_file: str | Path, threads: int = 2, *, spin: bool = True):
        import numpy as np

        self.session = make_session(model_file, threads, spin=spin)
        inputs = {i.name: i for i in self.session.get_inputs()}
        self.past_names = [n for n in inputs if n.startswith("past_key_values.")]
        self.present_names = [n.replace("past_key_values.", "present.") for n in self.past_names]
        first = inputs[self.past_names[0]]
        self.kv_heads, self.head_dim = int(first.shape[1]), int(first.shape[3])
        self.kv_dtype = np.float16 if "float16" in first.type else np.float32
        self.has_position_ids = "position_ids" in inputs
        self.output_names = ["logits"] + self.present_names

    def _run(self, ids, past: dict | None, past_len: int):
        import numpy as np

        ids = np.ascontiguousarray(ids, dtype=np.int64)
        b, t = ids.shape
        if past is None:
            empty = np.zeros((b, self.kv_heads, 0, self.head_dim), dtype=self.kv_dtype)
            past = {n: empty for n in self.past_names}
        feeds = {"input_ids": ids, "attention_mask": np.ones((b, past_len + t), dtype=np.int64), **past}
        if self.has_position_ids:
            feeds["position_ids"] = np.broadcast_to(np.arange(past_len, past_len + t, dtype=np.int64), (b, t)).copy()
        outs = self.session.run(self.output_names, feeds)
        return outs[0], dict(zip(self.past_names, outs[1:]))

    def logits(self, ids):
        import numpy as np

        return np.asarray(self._run(ids, None, 0)[0], dtype=np.float32)

    def prefill(self, ids) -> DecodeState:
        logits, past = self._run(ids, None, 0)
        return DecodeState(past=past, length=ids.shape[1], logits=logits[:, -1, :])

    def step(self, state: DecodeState, tokens) -> DecodeState:
        logits, past = self._run(tokens.reshape(-1, 1), state.past, state.length)
        return DecodeState(past=past, length=state.length + 1, logits=logits[:, -1, :])


class TorchDecoder:
    """A transformers causal LM in torch fp32 with its KV cache (the reference, or a student)."""

    label = "torch fp32 CPU"

    def __init__(self, model, threads: int | None = None):
        self.model, self.threads = model, threads

    def _call(self, ids, past=None, past_len: int = 0):
        import torch

        ids_t = torch.as_tensor(ids, dtype=torch.long)
        b, t = ids_t.shape
        mask = torch.ones((b, past_len + t), dtype=torch.long)
        with torch.inference_mode(), torch_threads(self.threads):
            out = self.model(input_ids=ids_t, attention_mask=mask, past_key_values=past, use_cache=True)
        return out

    def logits(self, ids):
        import torch

        ids_t = torch.as_tensor(ids, dtype=torch.long)
        with torch.inference_mode(), torch_threads(self.threads):
            out = self.model(input_ids=ids_t, use_cache=False)
        return out.logits.float().numpy()

    def prefill(self, ids) -> DecodeState:
        from transformers import DynamicCache

        out = self._call(ids, DynamicCache(), 0)
        return DecodeState(past=out.past_key_values, length=ids.shape[1], logits=out.logits[:, -1, :].float().numpy())

    def step(self, state: DecodeState, tokens) -> DecodeState:
        out = self._call(tokens.reshape(-1, 1), state.past, state.length)
        return DecodeState(past=out.past_key_values, length=state.length + 1, logits=out.logits[:, -1, :].float().numpy())
