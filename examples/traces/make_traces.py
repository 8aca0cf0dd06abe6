"""Write the sample traffic traces in this folder (deterministic; rerun to regenerate).

    python examples/traces/make_traces.py

Each CSV has the header ``timestamp,requests_per_second`` and one row per 5 minutes over 7 days,
starting 2026-11-02T00:00:00Z (a Monday):

- ``diurnal-7d.csv``: a daily cosine from 15 to 150 req/s peaking at 15:00 UTC, weekends at 60%,
  5% minute-to-minute noise: the shape of the example spec's traffic.
- ``bursty-7d.csv``: 40 req/s with random bursts to 150 req/s (about six a day, 20 minutes each).
- ``morning-spike-7d.csv``: 20 req/s with a jump to 400 req/s from 09:00 to 10:00 UTC on weekdays,
  the case where a scheduled scale-out ahead of the spike beats target tracking.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
START = datetime(2026, 11, 2, tzinfo=timezone.utc)
STEP_MIN = 5
ROWS = 7 * 24 * 60 // STEP_MIN


def _write(name: str, rates: list[float]) -> None:
    lines = ["timestamp,requests_per_second"]
    for i, r in enumerate(rates):
        t = START + timedelta(minutes=STEP_MIN * i)
        lines.append(f"{t.strftime('%Y-%m-%dT%H:%M:%SZ')},{max(0.0, r):.2f}")
    (HERE / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def diurnal(rng: random.Random) -> list[float]:
    out = []
    for i in range(ROWS):
        minute = i * STEP_MIN
        hour = (minute % 1440) / 60
        day = minute // 1440
        rate = 15 + 135 * (math.cos(2 * math.pi * (hour - 15) / 24) + 1) / 2
        rate *= 0.6 if day % 7 >= 5 else 1.0
        out.append(min(150.0, rate * (1 + 0.05 * rng.gauss(0, 1))))
    return out


def bursty(rng: random.Random) -> list[float]:
    out = [40.0] * ROWS
    i = 0
    while i < ROWS:
        i += max(1, int(rng.expovariate(6 / (1440 / STEP_MIN))))
        length = max(1, int(rng.expovariate(1 / (20 / STEP_MIN))))
        for j in range(i, min(ROWS, i + length)):
            out[j] = 150.0
        i += length
    return out


def morning_spike() -> list[float]:
    out = []
    for i in range(ROWS):
        minute = i * STEP_MIN
        day, tod = divmod(minute, 1440)
        out.append(400.0 if day % 7 < 5 and 540 <= tod < 600 else 20.0)
    return out


if __name__ == "__main__":
    _write("diurnal-7d.csv", diurnal(random.Random(0)))
    _write("bursty-7d.csv", bursty(random.Random(1)))
    _write("morning-spike-7d.csv", morning_spike())
