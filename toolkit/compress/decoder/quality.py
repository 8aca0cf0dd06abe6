"""Quality of a decoder variant against the reference, on held-out text.

The held-out texts are tokenized, joined with the eos token into one stream and cut into windows of
``context`` tokens (no padding: every window is full, so batching cannot change the numbers).
Within a window each position predicts the next token, so a window scores ``context - 1`` tokens.

- perplexity: exp of the mean negative log-likelihood of the true next tokens; its increase over
  the reference's in percent.
- mean KL: mean over scored positions of KL(reference || variant) of the next-token distributions (nats).
- agreement: how often the variant's argmax equals the reference's (information only: a small
  model's argmax flips easily).

The reference's log-probabilities are computed once per :class:`QualityEvaluator` and kept in
float16 when they fit ``cache_mb``; otherwise the reference runs again beside every variant.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from toolkit.errors import InputError

MIN_WINDOWS = 2


@dataclass
class EvalWindows:
    ids: object  # numpy int64 [windows, context]
    context: int
    source: str  # where the text came from (the spec's value), for the record
    texts: int  # texts used

    @property
    def scored_tokens(self) -> int:
        return int(self.ids.shape[0] * (self.context - 1))


@dataclass
class QualityResult:
    perplexity: float
    reference_perplexity: float
    perplexity_increase_pct: float
    mean_kl: float
    agreement: float
    tokens: int
    windows: int
    context: int
    text_source: str

    def to_dict(self) -> dict:
        return asdict(self)


def token_windows(tokenizer, texts: list[str], context: int, *, max_windows: int = 32, source: str = "",
                  min_windows: int = MIN_WINDOWS) -> EvalWindows:
    """Cut the joined ``texts`` into up to ``max_windows`` windows of ``context`` tokens.

    Too little text for ``min_windows`` windows -> InputError (say how much is needed)."""
    import numpy as np

    if context < 2:
        raise InputError(f"evaluation context must be at least 2 tokens (got {context})", hint="use a context of 128 or more")
    sep = tokenizer.eos_token_id
    stream: list[int] = []
    used = 0
    need = context * max_windows
    for text in texts:
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        if not ids:
            continue
        stream.extend(ids)
        if sep is not None:
            stream.append(int(sep))
        used += 1
        if len(stream) >= need:
            break
    n = min(max_windows, len(stream) // context)
    if n < min_windows:
        raise InputError(
            f"evaluation text{f' ({source})' if source else ''} has {len(stream)} tokens; windows of {context} tokens need "
            f"at least {min_windows * context}",
            hint="give more held-out text (a few hundred lines), or lower the evaluation context",
        )
    ids = np.asarray(stream[: n * context], dtype=np.int64).reshape(n, context)
    return EvalWindows(ids=ids, context=context, source=source, texts=used)


def _log_softmax(x):
    import numpy as np

    x = np.asarray(x, dtype=np.float32)
    m = x.max(-1, keepdims=True)
    z = x - m
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


class QualityEvaluator:
    """Scores variants against ``reference`` (anything with ``.logits(ids) -> [B, T, V]``) on ``windows``."""

    def __init__(self, reference, windows: EvalWindows, *, batch_size: int = 4, cache_mb: int = 512):
        self.reference, self.windows, self.batch_size, self.cache_mb = reference, windows, batch_size, cache_mb
        self._cache: list | None = []  # float16 log-probs per batch; None once known not to fit
        self._ref_nll: float | None = None

    def _batches(self):
        ids = self.windows.ids
        for i in range(0, ids.shape[0], self.batch_size):
            yield i // self.batch_size, ids[i:i + self.batch_size]

    def _ref_logp(self, k: int, batch):
        """The reference's log-probs of batch ``k`` (float16-rounded when cached) and its exact argmax."""
        if self._cache is not None and k < len(self._cache):
            logp16, top = self._cache[k]
            return logp16.astype("float32"), top
        logp = _log_softmax(self.reference.logits(batch))[:, :-1, :]
        top = logp.argmax(-1)
        if self._cache is not None and len(self._cache) == k:
            n, t = self.windows.ids.shape
            if n * (t - 1) * logp.shape[-1] * 2 <= self.cache_mb * 2**20:
                self._cache.append((logp.astype("float16"), top))
            else:
                self._cache = None
        return logp, top

    def reference_perplexity(self) -> float:
        if self._ref_nll is None:
            import numpy as np

            total, count = 0.0, 0
            for k, batch in self._batches():
                logp, _ = self._ref_logp(k, batch)
                tgt = batch[:, 1:]
                total += float(-np.take_along_axis(logp, tgt[..., None], -1).sum())
                count += tgt.size
            self._ref_nll = total / count
        import math

        return math.exp(self._ref_nll)

    def score(self, variant) -> QualityResult:
        """Perplexity, its increase over the reference, mean KL and agreement of ``variant``."""
        import math

        import numpy as np

        ref_ppl = self.reference_perplexity()
        nll, kl, agree, count = 0.0, 0.0, 0, 0
        for k, batch in self._batches():
            ref, ref_top = self._ref_logp(k, batch)
            var = _log_softmax(variant.logits(batch))[:, :-1, :]
            tgt = batch[:, 1:]
            nll += float(-np.take_along_axis(var, tgt[..., None], -1).sum())
            kl += float((np.exp(ref) * (ref - var)).sum())
            agree += int((ref_top == var.argmax(-1)).sum())
            count += tgt.size
        ppl = math.exp(nll / count)
        w = self.windows
        return QualityResult(
            perplexity=round(ppl, 4), reference_perplexity=round(ref_ppl, 4),
            perplexity_increase_pct=round(100.0 * (ppl / ref_ppl - 1.0), 3), mean_kl=round(max(0.0, kl / count), 6),
            agreement=round(agree / count, 4), tokens=count, windows=int(w.ids.shape[0]), context=w.context, text_source=w.source,
        )
