"""Token lengths of the texts a bench sends, counted with the tokenizer the server uses.

A package folder carries its tokenizer (``model_repository/tokenizer/1/tokenizer.json``) and its
truncation and padding settings (manifest.json). For a URL or an endpoint the spec's model source
supplies the tokenizer when it has a ``tokenizer.json``; otherwise the lengths are not recorded and
the planner falls back to the spec's figures or its maximum.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path


def count_tokens(texts: list[str], tokenizer_json: Path, max_len: int) -> list[int]:
    """Tokens of each text (special tokens included, truncated to ``max_len``), as the served tokenizer counts them."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_json))
    tok.no_padding()
    tok.enable_truncation(max_length=max_len)
    return [len(e.ids) for e in tok.encode_batch(list(texts))]


def token_stats(texts: list[str], tokenizer_json: Path, max_len: int, pad_to_multiple_of: int, label: str):
    """A ``TokenStats`` of ``texts``."""
    import numpy as np

    from toolkit.artifacts.profiles import TokenStats

    lengths = count_tokens(texts, tokenizer_json, max_len)
    arr = np.asarray(lengths, dtype=float)
    return TokenStats(
        texts=len(lengths), mean=round(float(arr.mean()), 3), p50=float(np.percentile(arr, 50)), p90=float(np.percentile(arr, 90)),
        max=int(arr.max()), histogram=dict(sorted(Counter(lengths).items())), pad_to_multiple_of=max(1, int(pad_to_multiple_of)),
        tokenizer=label,
    )


def bench_token_stats(target: str, manifest, spec, texts: list[str]):
    """``TokenStats`` of ``texts`` for a bench of ``target``, or None when no tokenizer is at hand (never raises)."""
    from toolkit.package.manifest import REPOSITORY
    from toolkit.perf.lengths import SERVED_PAD_MULTIPLE

    if not texts:
        return None
    try:
        if manifest is not None and Path(target).is_dir():
            folder = Path(target) / REPOSITORY / manifest.models.get("tokenizer", "tokenizer") / "1"
            path = folder / "tokenizer.json"
            if path.is_file():
                return token_stats(texts, path, manifest.max_sequence_length, manifest.pad_to_multiple_of,
                                   f"package's tokenizer ({REPOSITORY}/{folder.parent.name})")
        if spec is not None:
            from toolkit.compress.source import resolve_source

            src = resolve_source(spec.spec.model.source, spec.path.parent)
            path = src.path / "tokenizer.json"
            if path.is_file():
                return token_stats(texts, path, spec.spec.model.max_sequence_length, SERVED_PAD_MULTIPLE,
                                   f"spec's model source tokenizer ({spec.spec.model.source})")
    except Exception:  # noqa: BLE001 - lengths are a refinement: a missing or odd tokenizer leaves them out
        return None
    return None
