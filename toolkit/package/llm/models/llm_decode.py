"""Token generation for the CPU LLM model: an onnxruntime KV-cache loop, sampling, incremental detokenization.

Copied next to ``model.py`` in the version folder of a CPU LLM package and imported by it; pure Python on
numpy, onnxruntime and tokenizers (no Triton), so the same code runs in-process for tests and benchmarks:

    rt = Generator.load(version_folder, threads=2)
    for delta in rt.stream("the quick brown", {"max_tokens": 16, "temperature": 0}):
        print(delta, end="")

The graph is an optimum ``text-generation-with-past`` export: ``input_ids``, ``attention_mask``,
(``position_ids``), ``past_key_values.<i>.key|value`` → ``logits``, ``present.<i>.key|value``. One graph
does prefill and decode. Sampling parameters follow vLLM's names and defaults (``max_tokens`` 16,
``temperature`` 1.0; 0 is greedy). Every generated token yields one text delta (possibly empty while a
multi-byte character is incomplete), so a client counts tokens by responses.
"""

import json
import os
from dataclasses import dataclass, field

import numpy as np

SUPPORTED = ("max_tokens", "temperature", "top_p", "top_k", "seed", "ignore_eos", "stop", "min_tokens")
#: transport keys a client may put into the request parameters next to the sampling ones
TRANSPORT = ("stream", "exclude_input_in_output", "return_finish_reason", "return_num_input_tokens",
             "return_num_output_tokens", "return_cumulative_logprob", "return_logprobs")


class RequestError(ValueError):
    """A request this model refuses (the message goes back to the client as the response's error)."""


@dataclass
class Sampling:
    max_tokens: int = 16
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    seed: int | None = None
    ignore_eos: bool = False
    stop: list = field(default_factory=list)
    min_tokens: int = 0


def parse_sampling(params) -> Sampling:
    """A ``Sampling`` from a dict or JSON text of vLLM sampling parameters; RequestError for bad ones."""
    if isinstance(params, (bytes, str)):
        try:
            params = json.loads(params or "{}")
        except ValueError as exc:
            raise RequestError(f"sampling_parameters is not JSON: {exc}") from None
    if not isinstance(params, dict):
        raise RequestError("sampling_parameters must be a JSON object")
    params = {k: v for k, v in params.items() if v is not None and k not in TRANSPORT}
    unknown = sorted(set(params) - set(SUPPORTED))
    if unknown:
        raise RequestError(f"unsupported sampling parameter(s) {', '.join(unknown)} (supported: {', '.join(SUPPORTED)})")
    try:
        s = Sampling(
            max_tokens=int(params.get("max_tokens", 16)), temperature=float(params.get("temperature", 1.0)),
            top_p=float(params.get("top_p", 1.0)), top_k=int(params.get("top_k", 0) or 0),
            seed=None if params.get("seed") is None else int(params["seed"]), ignore_eos=bool(params.get("ignore_eos", False)),
            stop=[params["stop"]] if isinstance(params.get("stop"), str) else list(params.get("stop") or []),
            min_tokens=int(params.get("min_tokens", 0)),
        )
    except (TypeError, ValueError) as exc:
        raise RequestError(f"bad sampling parameter: {exc}") from None
    if s.max_tokens < 1:
        raise RequestError(f"max_tokens must be at least 1, got {s.max_tokens}")
    if s.temperature < 0 or not 0 < s.top_p <= 1 or s.top_k < -1:
        raise RequestError("temperature must be >= 0, top_p in (0, 1] and top_k >= -1")
    return s


class OnnxKV:
    """An onnxruntime session over the decoder graph and its KV cache (batch 1)."""

    def __init__(self, model_file: str, threads: int = 1, spin: bool = False):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        # idle intra-op threads that spin keep the cores from Triton's own threads, which then send the streamed
        # tokens in bursts: off by default (a decode step costs a little more, tokens leave as they are made)
        opts.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
        opts.intra_op_num_threads = max(1, int(threads))
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(model_file, sess_options=opts, providers=["CPUExecutionProvider"])
        inputs = {i.name: i for i in self.session.get_inputs()}
        self.past_names = [n for n in inputs if n.startswith("past_key_values.")]
        if not self.past_names or "input_ids" not in inputs:
            raise RuntimeError(f"{model_file} is not a decoder graph with KV cache (export with text-generation-with-past)")
        first = inputs[self.past_names[0]]
        self.kv_heads, self.head_dim = int(first.shape[1]), int(first.shape[3])
        self.kv_dtype = np.float16 if "float16" in first.type else np.float32
        self.has_position_ids = "position_ids" in inputs
        self.has_cache_branch = "use_cache_branch" in inputs
        self.outputs = ["logits"] + [n.replace("past_key_values.", "present.") for n in self.past_names]

    def run(self, ids: np.ndarray, past: dict | None, past_len: int):
        """Logits of the last position and the new cache for ``ids`` [1, t] after ``past_len`` cached tokens."""
        t = ids.shape[1]
        if past is None:
            empty = np.zeros((1, self.kv_heads, 0, self.head_dim), dtype=self.kv_dtype)
            past = {n: empty for n in self.past_names}
        feeds = {"input_ids": ids.astype(np.int64), "attention_mask": np.ones((1, past_len + t), dtype=np.int64), **past}
        if self.has_position_ids:
            feeds["position_ids"] = np.arange(past_len, past_len + t, dtype=np.int64).reshape(1, t)
        if self.has_cache_branch:
            feeds["use_cache_branch"] = np.array([past_len > 0])
        outs = self.session.run(self.outputs, feeds)
        return np.asarray(outs[0][0, -1], dtype=np.float32), dict(zip(self.past_names, outs[1:]))


def choose(logits: np.ndarray, s: Sampling, rng) -> int:
    """The next token: argmax at temperature 0, else a draw after temperature, top-k and top-p."""
    if s.temperature == 0:
        return int(np.argmax(logits))
    x = logits.astype(np.float64) / s.temperature
    if s.top_k and s.top_k > 0 and s.top_k < x.size:
        cut = np.partition(x, -s.top_k)[-s.top_k]
        x = np.where(x >= cut, x, -np.inf)
    p = np.exp(x - x.max())
    p /= p.sum()
    if s.top_p < 1.0:
        order = np.argsort(-p)
        keep = np.cumsum(p[order]) - p[order] < s.top_p
        mask = np.zeros_like(p, dtype=bool)
        mask[order[keep]] = True
        p = np.where(mask, p, 0.0)
        p /= p.sum()
    return int(rng.choice(p.size, p=p))


class Detokenizer:
    """Incremental decoding of generated ids into text deltas (the prefix/read-offset method of TGI and vLLM):
    a delta is released once the text no longer ends in an incomplete character."""

    def __init__(self, tokenizer, prompt_ids: list[int]):
        self.tok = tokenizer
        self.ids = list(prompt_ids)
        self.prefix = max(len(self.ids) - 5, 0)
        self.read = len(self.ids)

    def _decode(self, ids) -> str:
        return self.tok.decode(ids, skip_special_tokens=True)

    def add(self, token: int) -> str:
        self.ids.append(int(token))
        before = self._decode(self.ids[self.prefix:self.read])
        after = self._decode(self.ids[self.prefix:])
        if len(after) > len(before) and not after.endswith("\ufffd"):
            self.prefix, self.read = self.read, len(self.ids)
            return after[len(before):]
        return ""

    def flush(self) -> str:
        """What is still held back at the end (an incomplete character is released as is)."""
        before = self._decode(self.ids[self.prefix:self.read])
        after = self._decode(self.ids[self.prefix:])
        self.prefix = self.read = len(self.ids)
        return after[len(before):] if len(after) > len(before) else ""


def _eos_ids(folder: str, tokenizer) -> set:
    ids = set()
    for name in ("generation_config.json", "config.json"):
        p = os.path.join(folder, name)
        if os.path.isfile(p):
            with open(p, encoding="utf-8") as fh:
                v = json.load(fh).get("eos_token_id")
            if v is not None:
                ids.update(v if isinstance(v, list) else [v])
                break
    p = os.path.join(folder, "tokenizer_config.json")
    if not ids and os.path.isfile(p):
        with open(p, encoding="utf-8") as fh:
            eos = json.load(fh).get("eos_token")
        eos = eos.get("content") if isinstance(eos, dict) else eos
        if isinstance(eos, str) and tokenizer.token_to_id(eos) is not None:
            ids.add(tokenizer.token_to_id(eos))
    return {int(i) for i in ids}


class Generator:
    """Prompt text → text deltas, one per generated token."""

    def __init__(self, kv: OnnxKV, tokenizer, eos_ids: set, max_model_len: int):
        self.kv, self.tok, self.eos_ids, self.max_model_len = kv, tokenizer, set(eos_ids), int(max_model_len)

    @classmethod
    def load(cls, folder: str, threads: int = 1, onnx_file: str = "model.onnx", max_model_len: int = 0,
             spin: bool = False) -> "Generator":
        from tokenizers import Tokenizer

        folder = str(folder)
        tok = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
        tok.no_padding()
        tok.no_truncation()
        if not max_model_len:
            with open(os.path.join(folder, "config.json"), encoding="utf-8") as fh:
                max_model_len = int(json.load(fh).get("max_position_embeddings", 2048))
        return cls(OnnxKV(os.path.join(folder, onnx_file), threads, spin), tok, _eos_ids(folder, tok), max_model_len)

    def encode(self, prompt: str) -> list[int]:
        return list(self.tok.encode(prompt).ids)

    def token_ids(self, prompt_ids: list[int], s: Sampling, cancelled=None):
        """Generated token ids, one at a time (stops at EOS unless ``ignore_eos``, at max_tokens, at the context)."""
        n = len(prompt_ids)
        if n == 0:
            raise RequestError("the prompt is empty (it has no tokens)")
        if n >= self.max_model_len:
            raise RequestError(f"the prompt has {n} tokens, at or above max_model_len {self.max_model_len}")
        budget = min(s.max_tokens, self.max_model_len - n)
        rng = np.random.default_rng(s.seed)
        logits, past = self.kv.run(np.asarray([prompt_ids], dtype=np.int64), None, 0)
        length = n
        for i in range(budget):
            if cancelled is not None and cancelled():
                return
            if i < s.min_tokens and self.eos_ids:
                logits = logits.copy()
                logits[list(self.eos_ids)] = -np.inf
            token = choose(logits, s, rng)
            yield token
            if (token in self.eos_ids and not s.ignore_eos) or i + 1 == budget:
                return
            logits, past = self.kv.run(np.asarray([[token]], dtype=np.int64), past, length)
            length += 1

    def stream(self, prompt: str, params=None, cancelled=None):
        """Text deltas for ``prompt``: one per token; the last one carries any held-back text. ``stop`` strings end
        the output before them."""
        s = params if isinstance(params, Sampling) else parse_sampling(params or {})
        ids = self.encode(prompt)
        detok = Detokenizer(self.tok, ids)
        text = ""
        tokens = self.token_ids(ids, s, cancelled)
        pending = next(tokens, None)
        while pending is not None:
            delta = detok.add(pending)
            pending = next(tokens, None)
            if pending is None:
                delta += detok.flush()
            if s.stop:
                hit = min((i for i in ((text + delta).find(x) for x in s.stop) if i >= 0), default=-1)
                if hit >= 0:
                    yield (text + delta)[len(text):hit]
                    return
            text += delta
            yield delta
