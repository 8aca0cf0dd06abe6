"""What a token-level bench sends: prompts of the asked token lengths, and ``max_tokens`` per request.

Two sources:
- lengths: prompt and output lengths drawn from a :class:`toolkit.perf.llm.workload.TokenDist` (a fixed
  count, or mean/p50/p90/max as in the spec's traffic); each prompt is a window of a fixed English corpus
  cut to the drawn length with the served tokenizer (re-encoded until it has that many tokens);
- a dataset: a JSONL file of ``{"prompt": ..., "max_tokens"|"output_tokens": n}`` or ``{"messages": [...]}``
  objects, or a ShareGPT JSON/JSONL (``{"conversations": [{"from": "human", "value": ...},
  {"from": "gpt", "value": ...}]}``): the first user turn is the prompt, the reply's length (in tokens)
  is ``max_tokens`` unless an output distribution is given.
Without a tokenizer, lengths are counted in words (said so in the profile).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from toolkit.errors import InputError

USER_ROLES = ("human", "user")
REPLY_ROLES = ("gpt", "assistant", "chatgpt", "bard", "model")


@dataclass(frozen=True)
class LLMRequest:
    prompt: str
    prompt_tokens: int
    max_tokens: int


@dataclass
class Workload:
    requests: list[LLMRequest]
    source: str
    tokenizer: str | None  # what counted the tokens (None: words)

    def shapes(self, ignore_eos: bool) -> dict:
        from toolkit.bench.llm.metrics import distribution

        prompt = distribution([r.prompt_tokens for r in self.requests], scale=1.0)
        output = distribution([r.max_tokens for r in self.requests], scale=1.0)
        return {"source": self.source, "prompt_tokens": prompt, "output_tokens": output, "ignore_eos": ignore_eos,
                "tokenizer": self.tokenizer}


class Counter:
    """Counts and cuts text in tokens (a ``tokenizers`` tokenizer) or, without one, in words."""

    def __init__(self, tokenizer=None, label: str | None = None):
        self.tok, self.label = tokenizer, label

    def count(self, text: str) -> int:
        return len(self.tok.encode(text, add_special_tokens=False).ids) if self.tok else len(text.split())

    def cut(self, corpus_ids: list, start: int, n: int) -> tuple[str, int]:
        if self.tok is None:
            words = corpus_ids[start:start + n]
            return " ".join(words), len(words)
        size = n
        for _ in range(4):  # decode → re-encode can merge or split tokens at the edges: adjust the window
            text = self.tok.decode(corpus_ids[start:start + size])
            got = self.count(text)
            if got == n:
                break
            size = max(1, size + (n - got))
        return text, got

    def corpus(self, texts: list[str], need: int) -> list:
        joined = " ".join(texts)
        if self.tok is None:
            words = joined.split()
            return (words * (need // max(1, len(words)) + 2))[: need + len(words)]
        ids = self.tok.encode(joined, add_special_tokens=False).ids
        return ids * (need // max(1, len(ids)) + 2)


def load_tokenizer(path: str | Path | None) -> Counter:
    """A Counter over ``path`` (tokenizer.json, or a folder holding one); words when None or not found."""
    if path is None:
        return Counter()
    p = Path(path)
    p = p / "tokenizer.json" if p.is_dir() else p
    if not p.is_file():
        return Counter()
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(p))
    tok.no_padding()
    tok.no_truncation()
    return Counter(tok, str(path))


def from_lengths(prompt_dist, output_dist, counter: Counter, n: int = 256, seed: int = 0, texts: list[str] | None = None) -> Workload:
    from toolkit.bench.texts import SENTENCES

    rng = np.random.default_rng(seed)
    plens = prompt_dist.draw(n, rng)
    olens = output_dist.draw(n, rng)
    corpus = counter.corpus(texts or SENTENCES, int(plens.max()) + 1)
    span = max(1, len(corpus) - int(plens.max()) - 1)
    reqs = []
    for p, o in zip(plens, olens):
        text, got = counter.cut(corpus, int(rng.integers(0, span)), int(p))
        reqs.append(LLMRequest(text, got, int(o)))
    fixed = len(set(plens.tolist())) == 1 and len(set(olens.tolist())) == 1
    src = (f"fixed: {int(plens[0])} prompt / {int(olens[0])} output tokens" if fixed else
           f"drawn: prompt {_describe(prompt_dist)}, output {_describe(output_dist)}")
    return Workload(reqs, src, counter.label)


def _describe(d) -> str:
    parts = [f"{k} {getattr(d, k):g}" for k in ("mean", "p50", "p90", "max") if getattr(d, k, None) is not None]
    return ", ".join(parts) or f"{len(d.samples)} samples"


def _turns(obj: dict) -> tuple[str | None, str | None]:
    """(prompt, reply) of one dataset record."""
    if isinstance(obj.get("prompt"), str):
        return obj["prompt"], obj.get("completion") if isinstance(obj.get("completion"), str) else None
    turns = obj.get("conversations") or obj.get("messages") or []
    prompt = reply = None
    for t in turns if isinstance(turns, list) else []:
        if not isinstance(t, dict):
            continue
        role = str(t.get("from") or t.get("role") or "").lower()
        value = t.get("value") if "value" in t else t.get("content")
        if not isinstance(value, str):
            continue
        if prompt is None and role in USER_ROLES:
            prompt = value
        elif prompt is not None and reply is None and role in REPLY_ROLES:
            reply = value
            break
    return prompt, reply


def from_dataset(path: str | Path, counter: Counter, *, output_dist=None, n: int = 256, seed: int = 0,
                 max_prompt_tokens: int | None = None) -> Workload:
    """Requests from a JSONL / ShareGPT dataset (up to ``n``, shuffled with ``seed``)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"--dataset {p}: no such file", hint="give a JSONL file (prompt / messages per line) or a ShareGPT JSON file")
    text = p.read_text(encoding="utf-8", errors="replace")
    try:
        data = json.loads(text)
        items = data if isinstance(data, list) else [data]
    except ValueError:
        items = []
        for i, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    items.append(json.loads(line))
                except ValueError:
                    raise InputError(f"--dataset {p}:{i}: not JSON", hint="one JSON object per line (JSONL), or one JSON array") from None
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(items))
    reqs = []
    olens = output_dist.draw(n, rng) if output_dist is not None else None
    for idx in order:
        obj = items[int(idx)]
        if not isinstance(obj, dict):
            continue
        prompt, reply = _turns(obj)
        if not prompt:
            continue
        ptoks = counter.count(prompt)
        if max_prompt_tokens and ptoks > max_prompt_tokens:
            continue
        asked = obj.get("max_tokens") or obj.get("output_tokens") or obj.get("output_len")
        if olens is not None:
            out = int(olens[len(reqs)])
        elif isinstance(asked, int) and asked > 0:
            out = asked
        elif reply:
            out = max(1, counter.count(reply))
        else:
            continue
        reqs.append(LLMRequest(prompt, ptoks, out))
        if len(reqs) >= n:
            break
    if not reqs:
        raise InputError(f"--dataset {p}: no usable records (a prompt and an output length each)",
                         hint="records need 'prompt' (+ 'max_tokens'), 'messages', or ShareGPT 'conversations' with a reply")
    return Workload(reqs, f"dataset {p.name}: {len(reqs)} records", counter.label)
