"""Scheduled scaling for periodic traffic: raise min capacity ahead of the daily peak, on top of target tracking.

Traffic is *periodic* when it covers at least two days and its autocorrelation at a lag of one day is
at least :data:`PERIODIC_AUTOCORR`. For such traffic a daily schedule of minimum capacities is built
from the hour-of-day profile: for every hour, ``fraction`` x the 95th percentile (over days) of that
hour's busiest minute, in instances at the SLA rate; each change is scheduled ``startup`` minutes early
so the instances are in service when the hour starts. Target tracking still runs above the floor.

Times: the simulation applies an action at the *end* of its minute ``m`` (like every decision), so it
is due on the clock at ``m + 1`` (see :func:`cron`), and an instance it launches serves from
``m + 1 + startup``; to be in service at the start of hour ``h`` the action is placed at
``60 h - startup - 1``.
"""

from __future__ import annotations

import numpy as np

PERIODIC_AUTOCORR = 0.6
FRACTIONS = (0.5, 0.75, 1.0)


def daily_autocorrelation(demand: np.ndarray) -> float:
    d = np.asarray(demand, dtype=float)
    if d.size < 2 * 1440:
        return 0.0
    x = d - d.mean()
    denom = float((x * x).sum())
    if denom <= 0:
        return 0.0
    return float((x[:-1440] * x[1440:]).sum() / denom * d.size / (d.size - 1440))


def is_periodic(demand: np.ndarray) -> tuple[bool, float]:
    r = daily_autocorrelation(demand)
    return r >= PERIODIC_AUTOCORR, r


def hourly_profile(demand: np.ndarray, quantile: float = 0.95) -> np.ndarray:
    """For each hour of the day, the given quantile over days of that hour's busiest minute."""
    d = np.asarray(demand, dtype=float)
    days = d.size // 1440
    hours = d[: days * 1440].reshape(days, 24, 60).max(axis=2)
    return np.quantile(hours, quantile, axis=0)


def slot_profile(demand: np.ndarray, slot_min: int = 60, quantile: float = 0.95) -> np.ndarray:
    """For each ``slot_min``-minute slot of the day, the given quantile over days of that slot's busiest minute."""
    d = np.asarray(demand, dtype=float)
    days = d.size // 1440
    slots = d[: days * 1440].reshape(days, 1440 // slot_min, slot_min).max(axis=2)
    return np.quantile(slots, quantile, axis=0)


def build_schedule(profile: np.ndarray, cap: float, fraction: float, min_cap: int, max_cap: int, startup_min: int,
                   slot_min: int = 60) -> list[tuple[int, int]]:
    """Daily (minute of day, floor) actions, starting at minute 0, merged where the floor does not change.

    ``profile`` holds one figure per ``slot_min``-minute slot of the day (24 for hours); a profile of 7 days of
    slots gives a weekly schedule (minute of the week)."""
    period = len(profile) * slot_min
    floors = np.minimum(max_cap, np.maximum(min_cap, np.ceil(fraction * np.asarray(profile, dtype=float) / cap))).astype(np.int64)
    times = (np.arange(floors.size, dtype=np.int64) * slot_min - startup_min - 1) % period
    order = np.argsort(times, kind="stable")
    times, floors = times[order], floors[order]
    # the floor in force at minute 0 is the last action at or before it (wrapping from yesterday)
    at0 = int(floors[0] if times[0] == 0 else floors[-1])
    if times[0] == 0:
        times, floors = times[1:], floors[1:]
    keep = floors != np.concatenate([[at0], floors[:-1]])  # merged where the floor does not change
    return [(0, at0)] + list(zip(times[keep].tolist(), floors[keep].tolist()))


def clock(minute_of_day: int) -> str:
    """Clock time (UTC, HHMM) at which an action applied at the end of ``minute_of_day`` is due."""
    h, m = divmod((minute_of_day + 1) % 1440, 60)
    return f"{h:02d}{m:02d}"


def cron(minute_of_day: int) -> str:
    """Application Auto Scaling's cron form (UTC, every day) of an action applied at the end of ``minute_of_day``."""
    h, m = divmod((minute_of_day + 1) % 1440, 60)
    return f"cron({m} {h} * * ? *)"


def actions(schedule: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The actions to deploy: the minute-0 entry only restates the previous day's last floor, so it is dropped."""
    return [a for a in schedule if a[0] != 0] if len(schedule) > 1 else []
