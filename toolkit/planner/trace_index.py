"""Precomputed views of one demand trace, shared by every simulated candidate.

:class:`TraceIndex` holds the demand ``d[t]`` (requests/s per minute), its rolling minima and maxima
per alarm window, and sparse tables of block maxima. :func:`first_above` answers "the first minute at
or after ``a`` where a series exceeds a threshold" for many lanes at once by binary lifting over those
tables; it is what lets :func:`toolkit.planner.simulate.run_events` jump from one scaling event to the next.
"""

from __future__ import annotations

import numpy as np


def rolling_min(d: np.ndarray, w: int) -> np.ndarray:
    """min(d[max(0, t-w+1) .. t]) for every t."""
    if w <= 1:
        return d.astype(float, copy=True)
    from numpy.lib.stride_tricks import sliding_window_view

    padded = np.concatenate([np.full(w - 1, np.inf), d])
    return sliding_window_view(padded, w).min(axis=1)


def rolling_max(d: np.ndarray, w: int) -> np.ndarray:
    """max(d[max(0, t-w+1) .. t]) for every t."""
    if w <= 1:
        return d.astype(float, copy=True)
    from numpy.lib.stride_tricks import sliding_window_view

    padded = np.concatenate([np.full(w - 1, -np.inf), d])
    return sliding_window_view(padded, w).max(axis=1)


def _sparse_max_table(x: np.ndarray, levels: int, pad: int = 0) -> np.ndarray:
    """table[j, i] = max(x[i : i + 2**j]) over the array padded with -inf (n + 1 + pad columns)."""
    n = x.size
    width = n + 1 + pad
    table = np.full((levels + 1, width), -np.inf)
    table[0, :n] = x
    for j in range(1, levels + 1):
        half = 1 << (j - 1)
        prev = table[j - 1]
        if half < width:
            np.maximum(prev[: width - half], prev[half:], out=table[j, : width - half])
    return table


class TraceIndex:
    """Precomputed views of one demand trace, shared by every simulated candidate."""

    def __init__(self, demand):
        d = np.asarray(demand, dtype=float)
        if d.ndim != 1 or d.size < 2:
            raise ValueError("demand must be a 1-D array of at least two minutes")
        self.d = d
        self.n = int(d.size)
        # 2**(levels+1) > n so that the lifting can walk from minute 0 past the end
        self.levels = max(0, int(np.ceil(np.log2(self.n + 1))) - 1)
        self.pad = 1 << (self.levels + 1)
        self.width = self.n + 1 + self.pad
        self._rmin: dict[int, np.ndarray] = {}
        self._rmax: dict[int, np.ndarray] = {}
        self._level_cache: tuple[list[np.ndarray], dict] | None = None
        self._range_max: np.ndarray | None = None

    def rmin(self, w: int) -> np.ndarray:
        if w not in self._rmin:
            self._rmin[w] = rolling_min(self.d, w)
        return self._rmin[w]

    def rmax(self, w: int) -> np.ndarray:
        if w not in self._rmax:
            self._rmax[w] = rolling_max(self.d, w)
        return self._rmax[w]

    def series(self, kind: str, w: int) -> np.ndarray:
        """'out' searches rolling minima upward; 'in' searches rolling maxima downward (negated)."""
        return self.rmin(w) if kind == "out" else -self.rmax(w)

    def range_max(self) -> np.ndarray:
        """Sparse table of block maxima of the demand: table[j, i] = max(d[i : i + 2**j])."""
        if self._range_max is None:
            self._range_max = _sparse_max_table(self.d, self.levels)
        return self._range_max

    def levels_for(self, keys: list[tuple[str, int]]) -> tuple[list[np.ndarray], dict]:
        """Per lifting level, the requested series' block-maxima side by side; and each series' offset.

        Level j holds max(x[i : i + 2**j]) for each series padded with -inf. All series are built in one
        pass over the concatenation: a block read past one series' end stays inside its padding for every
        start before that end (the padding is at least 2**levels long), and answers at or past the end
        mean "none" anyway. A build is reused for any subset of its series.
        """
        want = set(keys)
        if self._level_cache and want <= set(self._level_cache[1]):
            return self._level_cache
        ck = sorted(want | set(self._level_cache[1] if self._level_cache else {}))
        w = self.width
        flat = np.empty(len(ck) * w)
        for i, key in enumerate(ck):
            flat[i * w : i * w + self.n] = self.series(*key)
            flat[i * w + self.n : (i + 1) * w] = -np.inf
        per_level = [flat]
        for j in range(1, self.levels + 1):
            half = 1 << (j - 1)
            prev = per_level[-1]
            cur = np.empty_like(prev)
            np.maximum(prev[:-half], prev[half:], out=cur[:-half])
            cur[-half:] = prev[-half:]
            per_level.append(cur)
        self._level_cache = (per_level, {key: i * w for i, key in enumerate(ck)})
        return self._level_cache


def first_above(per_level: list[np.ndarray], idx: np.ndarray, thr: np.ndarray) -> np.ndarray:
    """For each lane, the first flat index >= idx whose level-0 value exceeds thr (binary lifting).

    Returns positions in the flat layout; subtract the table offset to get the minute (>= n: none).
    """
    idx = idx.copy()
    for j in range(len(per_level) - 1, -1, -1):
        idx += np.left_shift(per_level[j].take(idx) <= thr, j, dtype=np.int64)
    return idx
