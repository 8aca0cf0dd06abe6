"""The CPU LLM model's generation loop (``llm_decode.py``), in-process: sampling parameters as vLLM names them,
EOS and max_tokens, stop strings, and incremental detokenization of multi-byte characters."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.package.llm.models import load_decode_module

mod = load_decode_module()


class ScriptedKV:
    """A stand-in for the ONNX session: the next token follows a script, whatever the input."""

    def __init__(self, script, vocab=600):
        self.script, self.vocab, self.calls = list(script), vocab, 0

    def run(self, ids, past, past_len):
        logits = np.zeros(self.vocab, dtype=np.float32)
        logits[self.script[min(self.calls, len(self.script) - 1)]] = 10.0
        self.calls += 1
        return logits, {}


@pytest.fixture(scope="module")
def tok():
    from toolkit.compress.decoder.testing import tiny_tokenizer

    return tiny_tokenizer()._tokenizer  # the tokenizers.Tokenizer the served model loads from tokenizer.json


def test_sampling_parameters_follow_vllm_names_and_defaults():
    s = mod.parse_sampling('{"max_tokens": 7, "temperature": 0, "ignore_eos": true, "stream": true}')
    assert (s.max_tokens, s.temperature, s.ignore_eos) == (7, 0.0, True)
    d = mod.parse_sampling({})
    assert (d.max_tokens, d.temperature, d.top_p) == (16, 1.0, 1.0)  # vLLM's SamplingParams defaults
    for bad, msg in (({"max_tokens": 0}, "max_tokens must be at least 1"), ({"best_of": 2}, "unsupported sampling parameter"),
                     ("{nope", "not JSON"), ({"temperature": -1}, "temperature must be >= 0")):
        with pytest.raises(mod.RequestError, match=msg):
            mod.parse_sampling(bad)


def test_eos_stops_unless_ignored_and_the_context_bounds_max_tokens(tok):
    eos = 2
    gen = mod.Generator(ScriptedKV([10, 11, eos, 12, 13]), tok, {eos}, max_model_len=64)
    assert list(gen.token_ids([5, 6], mod.parse_sampling({"max_tokens": 10, "temperature": 0}))) == [10, 11, eos]
    gen = mod.Generator(ScriptedKV([10, 11, eos, 12, 13]), tok, {eos}, max_model_len=64)
    assert len(list(gen.token_ids([5, 6], mod.parse_sampling({"max_tokens": 5, "temperature": 0, "ignore_eos": True})))) == 5
    gen = mod.Generator(ScriptedKV([10]), tok, {eos}, max_model_len=8)
    assert len(list(gen.token_ids([5] * 6, mod.parse_sampling({"max_tokens": 50, "temperature": 0})))) == 2  # 6 + 2 = context
    with pytest.raises(mod.RequestError, match="at or above max_model_len 8"):
        list(gen.token_ids([5] * 8, mod.parse_sampling({"max_tokens": 1})))
    with pytest.raises(mod.RequestError, match="the prompt is empty"):
        list(gen.token_ids([], mod.parse_sampling({"max_tokens": 1})))


def test_incremental_detokenization_reassembles_multibyte_text_one_delta_per_token(tok):
    text = "café über the quick brown fox — naïve"
    ids = tok.encode(text).ids
    detok = mod.Detokenizer(tok, [])
    deltas = [detok.add(i) for i in ids]
    deltas[-1] += detok.flush()
    assert len(deltas) == len(ids) and "".join(deltas) == tok.decode(ids) and "\ufffd" not in "".join(deltas)


def test_stop_strings_end_the_output_before_them(tok):
    ids = tok.encode("the quick brown fox jumps over").ids
    gen = mod.Generator(ScriptedKV(ids), tok, set(), max_model_len=256)
    out = "".join(gen.stream("x", {"max_tokens": len(ids), "temperature": 0, "stop": ["fox"]}))
    assert out == tok.decode(ids).split("fox")[0]


def test_seeded_sampling_repeats_and_top_k_1_is_greedy():
    logits = np.array([0.0, 1.0, 3.0, 2.0], dtype=np.float32)
    s = mod.parse_sampling({"temperature": 1.0, "seed": 3})
    a = [mod.choose(logits, s, np.random.default_rng(3)) for _ in range(5)]
    b = [mod.choose(logits, s, np.random.default_rng(3)) for _ in range(5)]
    assert a == b
    assert mod.choose(logits, mod.parse_sampling({"temperature": 0.7, "top_k": 1}), np.random.default_rng(0)) == 2
    assert mod.choose(logits, mod.parse_sampling({"temperature": 0.7, "top_p": 0.01}), np.random.default_rng(0)) == 2
