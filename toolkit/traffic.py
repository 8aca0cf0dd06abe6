"""Traffic over a period, at 1-minute resolution: from a trace CSV or a named pattern.

``demand(spec)`` returns requests per second for each minute (a numpy array). Traces must be
sorted, evenly spaced without gaps, numeric and non-negative; errors name the line.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from toolkit.errors import TraceError
from toolkit.fileio import read_text

MINUTES_PER_DAY = 1440
MAX_RPS = 1_000_000  # the highest rate (req/s) a spec or trace may state: the planner simulates up to here in seconds


@dataclass(frozen=True)
class Trace:
    """A validated trace: start time (UTC epoch seconds), step in seconds, rates in requests/second."""

    start_epoch_s: float
    step_s: float
    rps: list[float]
    source: str


def _show(value: str, limit: int = 40, quote: bool = True) -> str:
    """A value from the file, cut short and with control characters escaped (messages stay one line)."""
    v = value.strip()[:limit]
    if not v.isprintable():
        return ascii(v)
    return f"'{v}'" if quote else v


def _parse_time(value: str, source: str, line: int) -> float:
    v = value.strip()
    try:
        return float(v)
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        raise TraceError(
            f"{source}:{line}: timestamp {_show(v)} is neither ISO 8601 nor epoch seconds",
            hint="write timestamps like 2026-11-01T00:00:00Z or 1761955200",
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def parse_trace(text: str, source: str = "trace.csv") -> Trace:
    """Parse and validate trace CSV text (header 'timestamp,requests_per_second')."""
    if "\x00" in text:
        raise TraceError(f"{source}: the file contains NUL bytes; it is not a CSV text file", hint="export the trace as plain CSV")
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise TraceError(f"{source}: not a readable CSV file ({exc})", hint="export the trace as plain comma-separated text") from None
    rows = [(i + 1, r) for i, r in enumerate(rows) if r and any(c.strip() for c in r)]
    if not rows:
        raise TraceError(f"{source}: the trace is empty", hint="write a header 'timestamp,requests_per_second' and one row per period")
    line, header = rows[0]
    cols = [c.strip().lower() for c in header]
    if cols[:2] != ["timestamp", "requests_per_second"]:
        raise TraceError(
            f"{source}:{line}: header must be 'timestamp,requests_per_second' (got {_show(','.join(header), 60)})",
            hint="put the header 'timestamp,requests_per_second' on the first line",
        )
    data = rows[1:]
    if len(data) < 2:
        raise TraceError(f"{source}: the trace needs at least two rows of data (got {len(data)})", hint="record at least two periods")
    times: list[float] = []
    rates: list[float] = []
    for line, row in data:
        if len(row) < 2:
            raise TraceError(f"{source}:{line}: expected 2 columns, got {len(row)}", hint="each row is 'timestamp,requests_per_second'")
        t = _parse_time(row[0], source, line)
        try:
            r = float(row[1])
        except ValueError:
            raise TraceError(f"{source}:{line}: requests_per_second {_show(row[1], 30)} is not a number", hint="use plain decimal numbers") from None
        if not math.isfinite(r) or r < 0:
            raise TraceError(f"{source}:{line}: requests_per_second must be a finite number ≥ 0 (got {_show(row[1], 30, quote=False)})", hint="remove or fix the row")
        if r > MAX_RPS:
            raise TraceError(f"{source}:{line}: requests_per_second {_show(row[1], 30, quote=False)} is above the limit of {MAX_RPS:,} req/s",
                             hint=f"leanserve plans rates up to {MAX_RPS:,} req/s; check the column's unit (requests per second)")
        if times and t <= times[-1]:
            raise TraceError(f"{source}:{line}: timestamps are not strictly increasing", hint="sort the trace by timestamp and remove duplicates")
        times.append(t)
        rates.append(r)
    step = times[1] - times[0]
    if step < 60 or step % 60:
        raise TraceError(f"{source}:{data[1][0]}: the step between rows must be a whole number of minutes (got {step:g} s)", hint="resample the trace to 1-minute (or 5, 15, 60-minute) periods")
    for (line, _), a, b in zip(data[1:], times, times[1:]):
        if abs((b - a) - step) > 1e-6:
            kind = "a gap" if b - a > step else "an uneven step"
            raise TraceError(
                f"{source}:{line}: {kind} in the trace ({b - a:g} s after the previous row, expected {step:g} s)",
                hint="fill missing periods (e.g. with 0) so rows are evenly spaced",
            )
    return Trace(start_epoch_s=times[0], step_s=step, rps=rates, source=source)


def load_trace(path: str | Path) -> Trace:
    return parse_trace(read_text(path, "trace file"), source=str(path))


def demand(traffic, peak_rps: float, base_dir: Path | None = None):
    """Requests/second for each minute of the period described by a ``TrafficSpec``."""
    import numpy as np

    pattern = traffic.pattern
    rng = np.random.default_rng(traffic.seed)
    kind = pattern.kind
    if kind == "trace":
        path = Path(pattern.file)
        if base_dir is not None and not path.is_absolute():
            path = base_dir / path
        tr = load_trace(path)
        per_row = int(tr.step_s // 60)
        return np.repeat(np.asarray(tr.rps, dtype=float), per_row)
    n = traffic.days * MINUTES_PER_DAY
    minutes = np.arange(n)
    if kind == "constant":
        return np.full(n, float(pattern.rps or peak_rps))
    if kind == "diurnal":
        peak = float(pattern.peak_rps or peak_rps)
        trough = float(pattern.trough_rps)
        hour = (minutes % MINUTES_PER_DAY) / 60.0
        phase = np.cos(2 * np.pi * (hour - pattern.peak_hour_utc) / 24.0)  # 1 at peak, -1 twelve hours later
        rate = trough + (peak - trough) * (phase + 1) / 2
        day = minutes // MINUTES_PER_DAY
        weekend = (day % 7) >= 5
        rate = np.where(weekend, rate * pattern.weekend_factor, rate)
        if pattern.noise:
            rate = rate * (1 + pattern.noise * rng.standard_normal(n))
        return np.clip(rate, 0, peak)
    if kind == "bursty":
        burst = float(pattern.burst_rps or peak_rps)
        rate = np.full(n, float(pattern.base_rps))
        count = rng.poisson(pattern.bursts_per_day * traffic.days)
        starts = rng.integers(0, n, size=count)
        lengths = np.maximum(1, rng.exponential(pattern.burst_minutes, size=count).astype(int))
        for s, length in zip(starts, lengths):
            rate[s : s + length] = burst
        return rate
    raise TraceError(f"unknown traffic kind '{kind}'", hint="use trace, diurnal, bursty or constant")  # pragma: no cover
