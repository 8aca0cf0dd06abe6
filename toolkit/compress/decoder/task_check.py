"""The spec's task check: instruction → answer pairs (JSONL), answered greedily, scored by exact match.

Each line is ``{"instruction": "...", "answer": "..."}``. The prompt is the instruction in the
tokenizer's chat template (when it has one) with the generation prompt; the answer is the greedy
continuation up to the end-of-turn token or ``max_new_tokens``, stripped. A pair counts when the
stripped answer equals the expected one, case-insensitively, trailing full stop ignored.
Every variant answers the same prompts, so the reference's score minus a variant's is its drop.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import InputError


@dataclass
class TaskPairs:
    prompts: list  # token id lists, one per pair
    answers: list[str]
    source: str


def load_pairs(value: str, base_dir: Path, tokenizer) -> TaskPairs:
    path = Path(value).expanduser()
    path = path if path.is_absolute() else base_dir / path
    if not path.is_file():
        raise InputError(f"compression.quality_floor.task_check not found: {path}",
                         hint="give a JSONL file of {\"instruction\": ..., \"answer\": ...} lines (relative to the spec)")
    prompts, answers = [], []
    for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            instruction, answer = str(row["instruction"]), str(row["answer"])
        except (ValueError, KeyError, TypeError):
            raise InputError(f"{path}:{n}: not a JSON object with 'instruction' and 'answer'",
                             hint='write one {"instruction": "...", "answer": "..."} per line') from None
        prompts.append(_prompt_ids(tokenizer, instruction))
        answers.append(answer)
    if not prompts:
        raise InputError(f"task check file {path} has no pairs", hint='write one {"instruction": "...", "answer": "..."} per line')
    return TaskPairs(prompts, answers, str(value))


def _prompt_ids(tokenizer, instruction: str) -> list[int]:
    if getattr(tokenizer, "chat_template", None):
        ids = tokenizer.apply_chat_template([{"role": "user", "content": instruction}], add_generation_prompt=True, tokenize=True)
        return [int(i) for i in (ids["input_ids"] if isinstance(ids, dict) else ids)]
    return [int(i) for i in tokenizer(instruction, add_special_tokens=False)["input_ids"]]


def _norm(text: str) -> str:
    return text.strip().rstrip(".").strip().lower()


def exact_match(decoder, pairs: TaskPairs, tokenizer, max_new_tokens: int) -> float:
    """Share of ``pairs`` that ``decoder`` (OnnxDecoder / TorchDecoder) answers exactly, greedy, one prompt at a time."""
    import numpy as np

    stop = tokenizer.eos_token_id
    hits = 0
    for ids, answer in zip(pairs.prompts, pairs.answers):
        state = decoder.prefill(np.asarray([ids], dtype=np.int64))
        out: list[int] = []
        for _ in range(max_new_tokens):
            nxt = int(state.logits[0].argmax())
            if nxt == stop:
                break
            out.append(nxt)
            state = decoder.step(state, np.asarray([nxt], dtype=np.int64))
        hits += _norm(tokenizer.decode(out, skip_special_tokens=True)) == _norm(answer)
    return round(hits / len(pairs.answers), 5)
