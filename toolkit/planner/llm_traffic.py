"""Token shapes of generative requests: the spec's distributions, or a dataset of prompts read into samples.

A dataset (``traffic.dataset``) is JSONL (one object a line) or a JSON array. Rows may be:

- counts: ``{"prompt_tokens": 812, "output_tokens": 230}``;
- prompts: ``{"prompt": "...", "max_tokens": 256}`` (also ``max_new_tokens`` / ``output_tokens``); the
  output length is ``max_tokens``, an upper bound (a generation may stop earlier: conservative);
- chat messages: ``{"messages": [{"role": "user", "content": ...}, ...], "max_tokens": 256}``;
- ShareGPT conversations: ``{"conversations": [{"from": "human", "value": ...}, {"from": "gpt", "value": ...}]}``:
  the first human turn is the prompt and the reply that follows it gives the output length (as vLLM's
  benchmark reads ShareGPT). Conversations without a reply are skipped and counted.

Text is counted with the model's tokenizer when one is at hand (a local folder with ``tokenizer.json``),
else at ``chars_per_token`` characters per token (an estimate; the note says which).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import InputError

HUMAN = ("human", "user")
ASSISTANT = ("gpt", "assistant", "chatgpt", "bard", "model")
OUTPUT_KEYS = ("max_tokens", "max_new_tokens", "output_tokens", "max_completion_tokens")


@dataclass(frozen=True)
class TokenSamples:
    prompt: tuple[int, ...]
    output: tuple[int, ...]
    note: str


class _Counter:
    def __init__(self, chars_per_token: float, tokenizer_file: Path | None):
        self.cpt = chars_per_token
        self.tok = None
        if tokenizer_file is not None and tokenizer_file.is_file():
            try:
                from tokenizers import Tokenizer

                self.tok = Tokenizer.from_file(str(tokenizer_file))
            except Exception:  # noqa: BLE001 - no usable tokenizer: fall back to the character estimate
                self.tok = None
        self.how = f"counted with {tokenizer_file}" if self.tok else f"estimated at {chars_per_token:g} characters per token"

    def __call__(self, text: str) -> int:
        if self.tok is not None:
            return max(1, len(self.tok.encode(text, add_special_tokens=False).ids))
        return max(1, math.ceil(len(text) / self.cpt))


def _rows(path: Path):
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}", hint="give a JSON array or one JSON object a line") from None
        yield from ((i + 1, r) for i, r in enumerate(data))
        return
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield n, json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{n}: not valid JSON ({exc.msg})", hint="one JSON object a line (JSONL)") from None


def _int(row: dict, keys, where: str) -> int | None:
    for k in keys:
        if k in row:
            v = row[k]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 1 or v != int(v):
                raise InputError(f"{where}: {k} must be a positive whole number (got {v!r})", hint="token counts are positive integers")
            return int(v)
    return None


def _sharegpt(turns, count, where: str) -> tuple[int, int] | None:
    if not isinstance(turns, list):
        raise InputError(f"{where}: conversations must be a list of turns", hint="ShareGPT: [{from: human, value: ...}, {from: gpt, value: ...}]")
    for i, t in enumerate(turns[:-1]):
        if not isinstance(t, dict):
            continue
        who = str(t.get("from", t.get("role", ""))).lower()
        nxt = turns[i + 1] if isinstance(turns[i + 1], dict) else {}
        if who in HUMAN and str(nxt.get("from", nxt.get("role", ""))).lower() in ASSISTANT:
            return count(str(t.get("value", t.get("content", "")))), count(str(nxt.get("value", nxt.get("content", ""))))
    return None


def read_dataset(ds, base_dir: Path, tokenizer_file: Path | None = None) -> TokenSamples:
    """Prompt and output lengths of every usable row of ``ds`` (a :class:`toolkit.spec_generative.PromptDataset`)."""
    path = Path(ds.file).expanduser()
    if not path.is_absolute():
        path = base_dir / path
    if not path.is_file():
        raise InputError(f"traffic.dataset file not found: {path}", hint="give a JSONL file of prompts (or ShareGPT conversations) relative to the spec")
    count = _Counter(ds.chars_per_token, tokenizer_file)
    prompts: list[int] = []
    outputs: list[int] = []
    skipped = 0
    kinds: set[str] = set()
    for n, row in _rows(path):
        where = f"{path}:{n}"
        if not isinstance(row, dict):
            raise InputError(f"{where}: expected a JSON object, got {type(row).__name__}", hint="one object a line with prompt and max_tokens")
        if ds.format in ("auto", "sharegpt") and "conversations" in row:
            pair = _sharegpt(row["conversations"], count, where)
            kinds.add("ShareGPT")
            if pair is None:
                skipped += 1
                continue
            p, o = pair
        elif ds.format == "sharegpt":
            raise InputError(f"{where}: no 'conversations' in a ShareGPT row", hint="set traffic.dataset.format: auto for prompt rows")
        else:
            p = _int(row, ("prompt_tokens",), where)
            if p is None:
                if "messages" in row and isinstance(row["messages"], list):
                    p = count(" ".join(str(m.get("content", "")) for m in row["messages"] if isinstance(m, dict)))
                elif isinstance(row.get("prompt"), str):
                    p = count(row["prompt"])
                else:
                    raise InputError(f"{where}: no prompt (prompt, messages or prompt_tokens)",
                                     hint="rows hold {prompt, max_tokens}, {prompt_tokens, output_tokens} or ShareGPT conversations")
            o = _int(row, OUTPUT_KEYS, where)
            if o is None:
                raise InputError(f"{where}: no output length (max_tokens or output_tokens)", hint="add max_tokens to every prompt row")
            kinds.add("prompts")
        prompts.append(p)
        outputs.append(o)
        if ds.max_rows and len(prompts) >= ds.max_rows:
            break
    if not prompts:
        raise InputError(f"{path}: no usable rows" + (f" ({skipped} conversations without a reply)" if skipped else ""),
                         hint="give prompts with max_tokens, or ShareGPT conversations with a human turn and a reply")
    skip = f"; {skipped} conversations without a reply skipped" if skipped else ""
    note = f"{len(prompts)} requests from {path.name} ({', '.join(sorted(kinds))}); text {count.how}{skip}"
    return TokenSamples(tuple(prompts), tuple(outputs), note)


def token_dists(spec, base_dir: Path, tokenizer_file: Path | None = None):
    """(prompt TokenDist, output TokenDist, note) for a generative spec's traffic."""
    from toolkit.perf.llm.workload import TokenDist

    t = spec.traffic
    if t.dataset is not None:
        s = read_dataset(t.dataset, base_dir, tokenizer_file)
        return TokenDist(samples=s.prompt, name="prompt_tokens"), TokenDist(samples=s.output, name="output_tokens"), s.note
    p, o = t.prompt_tokens.dist("prompt_tokens"), t.output_tokens.dist("output_tokens")
    return p, o, f"prompts {_describe(t.prompt_tokens)}; outputs {_describe(t.output_tokens)} (spec distributions)"


def _describe(shape) -> str:
    parts = [f"{k} {getattr(shape, k):g}" for k in ("mean", "p50", "p90", "max") if getattr(shape, k) is not None]
    return ", ".join(parts) + " tokens"
