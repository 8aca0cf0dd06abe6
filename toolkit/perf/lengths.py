"""How long requests are, in tokens: the distribution capacity is computed for, and where it comes from.

In order of preference (:func:`traffic_lengths`):

1. the spec's ``traffic.tokens`` (mean / p50 / p90 / max): a log-normal fitted to the figures given,
   discretised to whole tokens, the tail beyond ``max`` piled onto ``max`` (longer text is truncated);
2. the token lengths of the texts ``leanserve bench`` sent (profiles.json ``text_tokens``, counted with
   the served tokenizer);
3. the spec's ``model.max_sequence_length`` for every request (conservative for shorter text).

The server pads a batch to its longest member, rounded up to a multiple of :data:`SERVED_PAD_MULTIPLE`
(``leanserve package``'s default), so a batch of ``b`` requests costs what ``b`` copies of its longest one
cost: :meth:`Lengths.batch_max` is the distribution of that longest length, ``P(max <= l) = F(l)^b``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

Z90 = 1.2815515655446004  # standard normal 90th percentile
#: log-spread used when the spec gives only a mean or only one percentile: builtin:tweets (p50 33, p90 48
#: tokens with MiniLM's tokenizer) have ln(48/33)/1.28 = 0.29
DEFAULT_SIGMA = 0.3
SERVED_PAD_MULTIPLE = 8  # toolkit.package.builder.PackageOptions.pad_to_multiple_of (a test keeps them equal)
BINS = 24  # a batch's longest-length distribution is kept to this many equal-probability bins


@dataclass(frozen=True)
class Lengths:
    """A distribution of request lengths in tokens (``values`` ascending, ``probs`` summing to 1)."""

    values: tuple[int, ...]
    probs: tuple[float, ...]
    source: str  #: "spec", "bench" or "maximum"
    note: str  #: one sentence saying where it comes from (for the plan's assumptions)

    @classmethod
    def point(cls, n: int, source: str = "maximum", note: str = "") -> "Lengths":
        return cls((int(n),), (1.0,), source, note or f"every request {n} tokens")

    @classmethod
    def from_counts(cls, counts: dict[int, int], cap: int, source: str, note: str) -> "Lengths":
        """From a histogram of lengths; lengths above ``cap`` are truncated to it."""
        merged: dict[int, float] = {}
        for length, n in counts.items():
            if n > 0:
                key = max(1, min(int(length), cap))
                merged[key] = merged.get(key, 0.0) + float(n)
        if not merged:
            return cls.point(cap, source, note)
        total = sum(merged.values())
        keys = sorted(merged)
        return cls(tuple(keys), tuple(merged[k] / total for k in keys), source, note)

    @classmethod
    def from_summary(cls, cap: int, mean: float | None = None, p50: float | None = None, p90: float | None = None,
                     source: str = "spec", note: str = "") -> "Lengths":
        """A log-normal through the figures given (see :func:`lognormal_params`), on 1..cap tokens."""
        mu, sigma = lognormal_params(mean, p50, p90)
        return _discretised(cap, round(mu, 9), round(sigma, 9), source, note)

    @property
    def is_point(self) -> bool:
        return len(self.values) == 1

    @property
    def max(self) -> int:
        return self.values[-1]

    @property
    def mean(self) -> float:
        return float(np.dot(self.values, self.probs))

    def quantile(self, q: float) -> int:
        cdf = np.cumsum(self.probs)
        return int(self.values[min(len(self.values) - 1, int(np.searchsorted(cdf, q - 1e-12)))])

    def padded(self, multiple: int, cap: int) -> "Lengths":
        """The lengths the model sees: each rounded up to ``multiple``, at most ``cap`` (never below itself)."""
        if multiple <= 1:
            return self
        counts: dict[int, float] = {}
        for v, p in zip(self.values, self.probs):
            key = max(min(-(-v // multiple) * multiple, cap), v)
            counts[key] = counts.get(key, 0.0) + p
        keys = sorted(counts)
        return Lengths(tuple(keys), tuple(counts[k] for k in keys), self.source, self.note)

    def batch_max(self, b: int) -> tuple[np.ndarray, np.ndarray]:
        """(lengths, probabilities) of the longest of ``b`` independent requests, in at most :data:`BINS` bins."""
        return _batch_max(self, int(b))

    def describe(self) -> str:
        if self.is_point:
            return f"{self.max} tokens"
        return f"mean {self.mean:.1f}, p50 {self.quantile(0.5)}, p90 {self.quantile(0.9)}, max {self.max} tokens"


def lognormal_params(mean: float | None, p50: float | None, p90: float | None) -> tuple[float, float]:
    """(mu, sigma) of a log-normal with the given mean / median / 90th percentile (any one or two of them;
    with all three, the median and p90 fix the shape and the mean is not used). Missing spread: DEFAULT_SIGMA."""
    if p50 is not None and p90 is not None:
        return math.log(p50), max(1e-6, math.log(max(p90, p50) / p50) / Z90)
    if p50 is not None:
        sigma = math.sqrt(2 * math.log(mean / p50)) if mean is not None and mean > p50 else DEFAULT_SIGMA
        return math.log(p50), sigma
    if p90 is not None and mean is not None:
        c = math.log(p90) - math.log(mean)  # sigma^2/2 - Z90*sigma + c = 0, the smaller root
        disc = Z90 * Z90 - 2 * c
        if c > 0 and disc >= 0:
            sigma = Z90 - math.sqrt(disc)
            return math.log(mean) - sigma * sigma / 2, sigma
    if p90 is not None:
        return math.log(p90) - Z90 * DEFAULT_SIGMA, DEFAULT_SIGMA
    if mean is not None:
        return math.log(mean) - DEFAULT_SIGMA**2 / 2, DEFAULT_SIGMA
    raise ValueError("a length distribution needs a mean, p50 or p90")


@functools.lru_cache(maxsize=64)
def _discretised(cap: int, mu: float, sigma: float, source: str, note: str) -> Lengths:
    cap = max(1, int(cap))
    edges = np.log(np.arange(1, cap, dtype=float) + 0.5)  # between l and l+1
    erf = np.frompyfunc(math.erf, 1, 1)
    cdf = 0.5 * (1.0 + erf((edges - mu) / (sigma * math.sqrt(2.0))).astype(float))
    probs = np.diff(np.concatenate(([0.0], cdf, [1.0])))  # 1 token ... cap tokens (the tail piled onto cap)
    keep = probs > 1e-12
    values = np.arange(1, cap + 1)[keep]
    p = probs[keep] / probs[keep].sum()
    return Lengths(tuple(int(v) for v in values), tuple(float(x) for x in p), source, note)


@functools.lru_cache(maxsize=512)
def _batch_max(lengths: Lengths, b: int) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(lengths.values, dtype=float)
    cdf = np.minimum(1.0, np.cumsum(lengths.probs))
    cdf[-1] = 1.0
    probs = np.diff(np.concatenate(([0.0], cdf**b)))
    keep = probs > 1e-15
    values, probs, cdf_b = values[keep], probs[keep], (cdf**b)[keep]
    if len(values) <= BINS:
        return values, probs
    # equal-probability bins, each at its probability-weighted mean length (keeps the mean exact)
    mid = cdf_b - probs / 2
    idx = np.minimum(BINS - 1, (mid * BINS).astype(int))
    w = np.bincount(idx, weights=probs, minlength=BINS)
    v = np.bincount(idx, weights=probs * values, minlength=BINS)
    ok = w > 0
    return v[ok] / w[ok], w[ok]


def traffic_lengths(spec, profiles=None) -> Lengths:
    """The request-length distribution for ``spec`` (a ``toolkit.spec.Spec``), from the first source that
    has one: the spec's ``traffic.tokens``, the bench texts in ``profiles``, the spec's maximum."""
    cap = int(spec.model.max_sequence_length)
    tok = getattr(spec.traffic, "tokens", None)
    if tok is not None:
        top = min(int(tok.max or cap), cap)
        given = ", ".join(f"{k} {v:g}" for k, v in (("mean", tok.mean), ("p50", tok.p50), ("p90", tok.p90), ("max", tok.max)) if v is not None)
        dist = Lengths.from_summary(top, tok.mean, tok.p50, tok.p90, "spec", "")
        note = (f"the spec's traffic.tokens ({given}; a log-normal fit: {dist.describe()}), "
                f"each batch padded to its longest request rounded up to a multiple of {SERVED_PAD_MULTIPLE}")
        return Lengths(dist.values, dist.probs, "spec", note).padded(SERVED_PAD_MULTIPLE, cap)
    measured = [p for p in (profiles or []) if getattr(p, "text_tokens", None) is not None]
    if measured:
        prof = max(measured, key=lambda p: p.text_tokens.texts)
        st = prof.text_tokens
        dist = Lengths.from_counts(st.histogram, cap, "bench", "")
        note = (f"the token lengths of the {st.texts} texts `leanserve bench` sent ({prof.variant} on {prof.machine.describe()}; "
                f"{dist.describe()}, counted with the {st.tokenizer}), each batch padded to its longest request rounded up "
                f"to a multiple of {st.pad_to_multiple_of}; no traffic.tokens in the spec")
        return Lengths(dist.values, dist.probs, "bench", note).padded(st.pad_to_multiple_of, cap)
    return Lengths.point(cap, "maximum", f"{cap} tokens for every request (the spec's model.max_sequence_length: conservative for "
                                         "shorter text); give traffic.tokens in the spec, or bench with representative --texts, to use the real mix")
