"""Token-length distributions and the request sets the scheduler simulation replays.

A :class:`TokenDist` is given by samples, or by summary statistics: a fixed length (``mean`` or
``p50`` only), or a log-normal with median ``p50`` and sigma = ln(p90/p50) / 1.2816, its draws
rescaled so their mean is ``mean`` when one is given, and clipped to ``[min, max]``. Draws are seeded: the same seed gives the
same requests, so a capacity search compares rates on identical traffic (common random numbers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from toolkit.errors import InputError

Z90 = 1.2815515655446004  # standard-normal 90th percentile


@dataclass(frozen=True)
class TokenDist:
    """A distribution of token counts (prompt or output lengths)."""

    mean: float | None = None
    p50: float | None = None
    p90: float | None = None
    max: int | None = None
    min: int = 1
    samples: tuple[int, ...] = field(default=(), hash=False)
    name: str = "tokens"

    def __post_init__(self):
        if self.samples:
            if min(self.samples) < 1:
                raise InputError(f"{self.name} samples must be positive token counts", hint="remove zero or negative lengths")
            return
        if self.mean is None and self.p50 is None:
            raise InputError(f"{self.name} distribution needs a mean, a p50 or samples", hint="e.g. prompt_tokens: {mean: 512}")
        for label, v in (("mean", self.mean), ("p50", self.p50), ("p90", self.p90), ("max", self.max)):
            if v is not None and v < 1:
                raise InputError(f"{self.name} {label} must be >= 1 token (got {v:g})", hint="token counts are positive")
        if self.p50 is not None and self.p90 is not None and self.p90 < self.p50:
            raise InputError(f"inconsistent {self.name} distribution: p90 ({self.p90:g}) < p50 ({self.p50:g})",
                             hint="p90 must be at least p50")
        if self.max is not None:
            for label, v in (("mean", self.mean), ("p50", self.p50), ("p90", self.p90)):
                if v is not None and v > self.max:
                    raise InputError(f"inconsistent {self.name} distribution: {label} ({v:g}) > max ({self.max})",
                                     hint="max must be at least every other statistic")

    @classmethod
    def fixed(cls, n: int, name: str = "tokens") -> TokenDist:
        return cls(mean=float(n), name=name)

    @property
    def upper(self) -> int:
        """The largest length the distribution can draw (for context checks)."""
        if self.samples:
            return int(max(self.samples))
        if self.max is not None:
            return int(self.max)
        if self._sigma() == 0.0:
            return round(self._scale() if self.mean is None else self.mean)
        return math.ceil(self._scale() * math.exp(4 * self._sigma()))

    def _sigma(self) -> float:
        if self.p50 and self.p90 and self.p90 > self.p50:
            return math.log(self.p90 / self.p50) / Z90
        return 0.0

    def _scale(self) -> float:
        """The log-normal median: p50 when given, else the mean (a fixed length)."""
        return float(self.p50 if self.p50 is not None else self.mean)

    def draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` lengths (int64)."""
        if self.samples:
            out = rng.choice(np.asarray(self.samples, dtype=np.int64), size=n, replace=True)
        elif self._sigma() == 0.0:
            out = np.full(n, round(self.mean if self.mean is not None else self.p50), dtype=np.int64)
        else:
            s = self._sigma()
            out = np.rint(self._scale() * np.exp(s * rng.standard_normal(n)))
            if self.mean is not None and out.mean() > 0:
                out = np.rint(out * (self.mean / out.mean()))
        return np.clip(out, self.min, max(self.min, self.upper)).astype(np.int64)

    def expected(self) -> float:
        if self.samples:
            return float(np.mean(self.samples))
        if self.mean is not None:
            return float(self.mean)
        s = self._sigma()
        return float(self._scale() * math.exp(s * s / 2))


@dataclass(frozen=True)
class Requests:
    """Concrete requests: prompt and output lengths, and unit-rate arrival offsets (scaled by 1/rate)."""

    prompt: np.ndarray
    output: np.ndarray
    unit_arrivals: np.ndarray  #: cumulative Exp(1) gaps: arrival times at rate 1 req/s

    def __len__(self) -> int:
        return len(self.prompt)

    def arrivals(self, rate: float) -> np.ndarray:
        """Poisson arrival times (s) at ``rate`` requests/s; rate inf: all at time 0."""
        if math.isinf(rate):
            return np.zeros(len(self))
        return self.unit_arrivals / rate


def make_requests(prompt: TokenDist, output: TokenDist, n: int = 300, seed: int = 0) -> Requests:
    """``n`` seeded requests with lengths from the two distributions and Poisson (unit-rate) arrivals."""
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(1.0, size=n)
    gaps[0] = 0.0
    return Requests(prompt.draw(n, rng), output.draw(n, rng), np.cumsum(gaps))


def check_context(prompt: TokenDist, output: TokenDist, max_context: int, model: str = "the model") -> None:
    """InputError when the longest prompt plus output exceeds the model's context."""
    need = prompt.upper + output.upper
    if need > max_context:
        raise InputError(f"token lengths exceed the context of {model}: prompts up to {prompt.upper} + outputs up to "
                         f"{output.upper} = {need} > {max_context}", hint="cap the lengths (max) or pick a longer-context model")
