"""Weekday/weekend-aware scheduled scaling: one schedule for Monday-Friday, another for the weekend.

When the traffic covers at least a whole week, its first minute is 00:00 UTC on a known weekday and its
weekend slots differ from its weekday slots (the busiest minute of some slot, 95th percentile over days of
each kind, differs by at least :data:`WEEKLY_DIFFERENCE` of the peak), the search adds *weekly* scheduled
policies next to the daily ones: every slot of the week gets the floor of its kind of day (the weekday or the
weekend profile), and the simulation repeats the schedule every :data:`WEEK_MIN` minutes over the whole
trace. So a quiet weekend is not paid at weekday floors, and daily schedules stay in the search: a weekly one
wins only when it is cheaper.

Named traffic patterns start on a Monday (``toolkit.traffic``: days 5 and 6 of each week are the weekend);
a trace's first weekday is read from its first timestamp. Deployed, a weekly schedule is one Application Auto
Scaling cron action per time of day and floor, with its days of the week: ``cron(52 8 ? * MON-FRI *)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from toolkit.planner.schedule import actions as daily_actions
from toolkit.planner.schedule import clock, cron, slot_profile

DAY_MIN = 1440
WEEK_MIN = 7 * DAY_MIN
WEEKLY_DIFFERENCE = 0.15
DAY_NAMES = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


@dataclass(frozen=True)
class Calendar:
    """Where a weekly schedule's minute 0 falls: 00:00 UTC on ``weekday0`` (0 = Monday)."""

    weekday0: int
    period: int = WEEK_MIN


@dataclass(frozen=True)
class ScheduleProfiles:
    """The slot profiles scheduled policies are built from."""

    daily: np.ndarray  # per slot of the day, over every day
    week: np.ndarray | None  # per slot of the 7 days from the trace's first day; None when not weekly
    calendar: Calendar | None
    reason: str  # why weekly schedules are searched or not

    @property
    def weekly(self) -> bool:
        return self.week is not None


def first_weekday(traffic, base_dir: Path | None = None) -> tuple[int | None, str]:
    """The weekday (0 = Monday) of the traffic's first day, or None when its first minute is not 00:00 UTC."""
    if traffic.pattern.kind != "trace":
        return 0, "named traffic patterns start on a Monday"
    from toolkit.traffic import load_trace

    path = Path(traffic.pattern.file)
    if base_dir is not None and not path.is_absolute():
        path = base_dir / path
    start = datetime.fromtimestamp(load_trace(path).start_epoch_s, timezone.utc)
    if (start.hour, start.minute, start.second) != (0, 0, 0):
        return None, f"the trace starts at {start:%H:%M:%S} UTC, not at midnight, so its days are not calendar days"
    return start.weekday(), f"the trace starts on a {start:%A}"


def schedule_profiles(demand, slot_min: int, weekday0: int | None, start_note: str = "") -> ScheduleProfiles:
    """The daily profile, and the weekly one when the traffic is weekly (see the module docstring)."""
    d = np.asarray(demand, dtype=float)
    daily = slot_profile(d, slot_min)
    days = d.size // DAY_MIN
    if weekday0 is None:
        return ScheduleProfiles(daily, None, None, f"weekday/weekend schedules not searched: {start_note}")
    if days < 7:
        return ScheduleProfiles(daily, None, None, "weekday/weekend schedules not searched: the traffic is shorter than a week")
    slots = d[: days * DAY_MIN].reshape(days, DAY_MIN // slot_min, slot_min).max(axis=2)
    weekend = (weekday0 + np.arange(days)) % 7 >= 5
    wd, we = np.quantile(slots[~weekend], 0.95, axis=0), np.quantile(slots[weekend], 0.95, axis=0)
    scale = max(float(wd.max()), float(we.max()))
    diff = float(np.abs(wd - we).max()) / scale if scale > 0 else 0.0
    if diff < WEEKLY_DIFFERENCE:
        return ScheduleProfiles(daily, None, None, f"weekday/weekend schedules not searched: weekend and weekday slots differ by "
                                                   f"at most {diff:.0%} of the peak (below {WEEKLY_DIFFERENCE:.0%})")
    week = np.concatenate([we if (weekday0 + k) % 7 >= 5 else wd for k in range(7)])
    why = f"weekend and weekday slots differ by up to {diff:.0%} of the peak ({start_note})" if start_note else \
        f"weekend and weekday slots differ by up to {diff:.0%} of the peak"
    return ScheduleProfiles(daily, week, Calendar(weekday0), why)


def days_field(days) -> str:
    """Application Auto Scaling's day-of-week field for weekdays (0 = Monday): MON-FRI, SAT,SUN, TUE ..."""
    days = sorted({int(x) for x in days})
    parts, run = [], []
    for x in [x for x in days if x < 6] + [None]:  # Sunday is day 1 in AWS's numbering: it never ends a range
        if x is not None and run and x == run[-1] + 1:
            run.append(x)
            continue
        if run:
            parts.append(f"{DAY_NAMES[run[0]]}-{DAY_NAMES[run[-1]]}" if len(run) >= 3 else ",".join(DAY_NAMES[i] for i in run))
        run = [x] if x is not None else []
    if 6 in days:
        parts.append("SUN")
    return ",".join(parts)


def weekly_actions(schedule: list[tuple[int, int]], calendar: Calendar) -> list[tuple[int, int, int, list[int]]]:
    """(hour, minute, floor, weekdays) of every change of a weekly schedule, by its clock time (UTC) and floor.

    A change applied at the end of minute ``m`` of the week is due on the clock at ``m + 1`` (see
    :func:`toolkit.planner.schedule.cron`); the minute-0 entry is a change only when it differs from the week's last."""
    entries = sorted(schedule)
    groups: dict[tuple[int, int, int], list[int]] = {}
    for i, (m, f) in enumerate(entries):
        if f == entries[i - 1][1]:
            continue  # restates the floor in force (the week wraps round)
        due = (int(m) + 1) % calendar.period
        day = (calendar.weekday0 + due // DAY_MIN) % 7
        h, mi = divmod(due % DAY_MIN, 60)
        groups.setdefault((h, mi, int(f)), []).append(day)
    out = [(h, mi, f, sorted(days)) for (h, mi, f), days in groups.items()]
    return sorted(out, key=lambda a: (a[3][0], a[0], a[1], a[2]))


def scheduled_actions(schedule, max_capacity: int, calendar: Calendar | None = None) -> list:
    """The ``ScheduledAction`` entries of plan.json for a daily schedule (``calendar`` None) or a weekly one."""
    from toolkit.artifacts.plan import ScheduledAction

    if not schedule:
        return []
    if calendar is None:
        return [ScheduledAction(name=f"min-{f}-at-{clock(m)}-utc", schedule=cron(m), min_capacity=f, max_capacity=max_capacity)
                for m, f in daily_actions(schedule)]
    out = []
    for h, mi, f, days in weekly_actions(schedule, calendar):
        every_day = len(days) == 7
        field = "*" if every_day else days_field(days)
        expr = f"cron({mi} {h} * * ? *)" if every_day else f"cron({mi} {h} ? * {field} *)"
        label = "" if every_day else "-" + field.lower().replace(",", "-")
        out.append(ScheduledAction(name=f"min-{f}{label}-at-{h:02d}{mi:02d}-utc", schedule=expr, min_capacity=f, max_capacity=max_capacity))
    return out
