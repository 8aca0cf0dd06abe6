"""Weekday/weekend schedules: searched when the traffic is weekly, simulated over the whole week, deployed as cron with days."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import numpy as np
import pytest

from tests.planner.conftest import PROFILES, TRACES, VARIANTS, write_spec
from toolkit.deploy.checks import check_schedule
from toolkit.planner import weekly
from toolkit.planner.api import load_inputs, make_plan
from toolkit.planner.dynamics import sagemaker_dynamics
from toolkit.planner.grid import LaneSpace
from toolkit.planner.simulate import TraceIndex, measure_events, run_events
from toolkit.planner.weekly import (
    Calendar,
    days_field,
    schedule_profiles,
    scheduled_actions,
    weekly_actions,
)

ONLY_C5 = {"targets.platforms": ["sagemaker-realtime"], "targets.instance_types": ["ml.c5.large", "ml.c5.xlarge"]}


def _trace(tmp_path, name: str, factor: float = 1.0, start_day: int = 0, shift_min: int = 0):
    """A 7-day example trace scaled by ``factor``, rotated to start ``start_day`` days later (its timestamps too)."""
    rows = [line.split(",") for line in (TRACES / name).read_text().splitlines()[1:]]
    per_day = len(rows) // 7
    rates = [float(r[1]) * factor for r in rows]
    rates = rates[start_day * per_day:] + rates[: start_day * per_day]
    t0 = datetime(2026, 11, 2, tzinfo=timezone.utc) + timedelta(days=start_day, minutes=shift_min)
    lines = ["timestamp,requests_per_second"] + [f"{(t0 + timedelta(minutes=5 * i)):%Y-%m-%dT%H:%M:%SZ},{r:.2f}" for i, r in enumerate(rates)]
    path = tmp_path / f"{name}-{factor:g}-{start_day}-{shift_min}.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _plan(tmp_path, catalog, trace, strategy="fast", top=5, **changes):
    changes = {"traffic.pattern": {"kind": "trace", "file": str(trace)}, **ONLY_C5, **changes}
    loaded, variants, profiles = load_inputs(write_spec(tmp_path, **changes), VARIANTS, PROFILES)
    return make_plan(loaded, variants, profiles, catalog=catalog, strategy=strategy, top=top).plan


def _choice(p):
    c = p.chosen
    return (c.variant, c.instance_type, round(c.monthly_cost_usd, 6), c.simulation.violation_minutes, [s.schedule for s in c.autoscaling.scheduled])


def test_a_quiet_weekend_is_not_paid_at_weekday_floors(tmp_path, catalog, monkeypatch):
    # 100 req/s, 2,000 req/s from 09:00 to 10:00 UTC on weekdays only
    trace = _trace(tmp_path, "morning-spike-7d.csv", factor=5)
    week = _plan(tmp_path, catalog, trace, **{"sla.peak_rps": 2000})
    monkeypatch.setattr(weekly, "WEEKLY_DIFFERENCE", float("inf"))  # the same plan with daily schedules only
    day = _plan(tmp_path, catalog, trace, **{"sla.peak_rps": 2000})
    assert day.scheduling.weekly is False and week.scheduling.weekly is True
    w, d = week.chosen, day.chosen
    print(f"weekday/weekend schedule ${w.monthly_cost_usd:.2f} ({w.simulation.violation_minutes:g} violation min) vs daily "
          f"${d.monthly_cost_usd:.2f} ({d.simulation.violation_minutes:g}): {1 - w.monthly_cost_usd / d.monthly_cost_usd:.1%} cheaper")
    assert w.monthly_cost_usd < d.monthly_cost_usd
    assert w.simulation.violation_minutes <= d.simulation.violation_minutes
    assert [s.schedule for s in d.autoscaling.scheduled] == ["cron(52 8 * * ? *)", "cron(52 9 * * ? *)"]
    assert [s.schedule for s in w.autoscaling.scheduled] == ["cron(52 8 ? * MON-FRI *)", "cron(52 9 ? * MON-FRI *)"]
    assert w.autoscaling.scheduled[0].name == f"min-{w.autoscaling.scheduled[0].min_capacity}-mon-fri-at-0852-utc"
    for s in w.autoscaling.scheduled:
        check_schedule(s.schedule)  # what deploy accepts
    r = week.scheduling.results[0]
    assert r.adopted_weekly and r.weekly_usd == pytest.approx(w.monthly_cost_usd, abs=0.01) and r.scheduled_usd == pytest.approx(d.monthly_cost_usd, abs=0.01)
    assert "weekday/weekend schedules searched" in week.scheduling.note and "starts on a Monday" in week.scheduling.note


def test_weekly_lanes_keep_fast_equal_to_exact_and_top_only_showing(tmp_path, catalog):
    trace = _trace(tmp_path, "diurnal-7d.csv", factor=10)  # weekends at 60% of the weekdays
    changes = {"sla.peak_rps": 1500}
    fast, exact = (_plan(tmp_path, catalog, trace, s, 4, **changes) for s in ("fast", "exact"))
    sig = lambda p: [(c.variant, c.instance_type, c.monthly_cost_usd, c.simulation.violation_minutes,  # noqa: E731
                      [s.schedule for s in c.autoscaling.scheduled]) for c in [p.chosen] + p.runners_up]
    assert sig(fast) == sig(exact)
    assert fast.scheduling.results[0].adopted_weekly  # the weekday/weekend schedule wins here
    assert _choice(_plan(tmp_path, catalog, trace, "fast", 1, **changes)) == _choice(fast) == _choice(_plan(tmp_path, catalog, trace, "fast", 30, **changes))


def test_the_schedule_follows_the_calendar_whatever_day_the_trace_starts(tmp_path, catalog):
    monday = _plan(tmp_path, catalog, _trace(tmp_path, "morning-spike-7d.csv", factor=5), top=1, **{"sla.peak_rps": 2000})
    thursday = _plan(tmp_path, catalog, _trace(tmp_path, "morning-spike-7d.csv", factor=5, start_day=3), top=1, **{"sla.peak_rps": 2000})
    assert "starts on a Thursday" in thursday.scheduling.note
    assert [s.schedule for s in thursday.chosen.autoscaling.scheduled] == [s.schedule for s in monday.chosen.autoscaling.scheduled]
    assert thursday.chosen.monthly_cost_usd == pytest.approx(monday.chosen.monthly_cost_usd, abs=0.01)


def test_a_trace_that_does_not_start_at_midnight_gets_daily_schedules_only(tmp_path, catalog):
    p = _plan(tmp_path, catalog, _trace(tmp_path, "morning-spike-7d.csv", shift_min=30), top=1, **{"sla.peak_rps": 400})
    assert p.scheduling.weekly is False and "not at midnight" in p.scheduling.note
    assert all("MON" not in s.schedule for s in p.chosen.autoscaling.scheduled)


def test_traffic_the_same_every_day_searches_no_weekly_schedule(tmp_path, catalog):
    p = _plan(tmp_path, catalog, _trace(tmp_path, "diurnal-7d.csv"), top=1, **{"traffic.pattern": {"kind": "diurnal", "trough_rps": 15,
                                                                                                     "weekend_factor": 1.0}, "traffic.days": 7})
    assert p.scheduling.weekly is False and "differ by at most" in p.scheduling.note


@pytest.mark.parametrize("days,field", [([0, 1, 2, 3, 4], "MON-FRI"), ([5, 6], "SAT,SUN"), ([6], "SUN"), ([0, 2], "MON,WED"),
                                        ([4, 5, 6], "FRI,SAT,SUN"), ([0, 1, 2, 3, 4, 5], "MON-SAT"), ([0, 1, 6], "MON,TUE,SUN")])
def test_days_of_week_in_application_auto_scaling_form(days, field):
    assert days_field(days) == field
    check_schedule(f"cron(0 8 ? * {field} *)")


def test_weekly_actions_wrap_round_the_week_and_land_on_calendar_days():
    # minute 0 of the schedule is 00:00 UTC on a Saturday; the last action of the week is due at minute 0 of the next
    sched = [(0, 3), (1440 * 2 + 8 * 60 - 1, 5), (1440 * 2 + 10 * 60 - 1, 2), (7 * 1440 - 1, 3)]
    acts = weekly_actions(sched, Calendar(weekday0=5))
    assert acts == [(8, 0, 5, [0]), (10, 0, 2, [0]), (0, 0, 3, [5])]  # Monday 08:00, Monday 10:00, Saturday 00:00
    # the minute-0 entry is a change (2 after the week's last, 3), due at 00:01 on Saturday
    assert (0, 1, 2, [5]) in weekly_actions([(0, 2), (5000, 3)], Calendar(weekday0=5))
    every_day = scheduled_actions([(0, 2)] + [(d * 1440 + 479, 4) for d in range(7)] + [(d * 1440 + 599, 2) for d in range(7)], 6, Calendar(0))
    assert [a.schedule for a in every_day] == ["cron(0 8 * * ? *)", "cron(0 10 * * ? *)"]  # all seven days: the daily form


def test_scheduled_lanes_bound_their_bill_by_their_floors_and_flat_ones_match_their_twin():
    t = np.arange(2 * 7 * 1440)
    day, tod = t // 1440, t % 1440
    d = np.where((day % 7 < 5) & (tod >= 540) & (tod < 600), 400.0, 20.0) + 5 * np.sin(t / 37.0)
    profiles = schedule_profiles(d, 15, 0)
    assert profiles.weekly
    groups = [SimpleNamespace(cap=cap, dynamics=sagemaker_dynamics()) for cap in (40.0, 90.0, 500.0)]
    space = LaneSpace(groups, float(d.max()), 2, profiles, 15)
    ids = np.arange(space.size)
    lanes = space.lanes(ids)
    index = TraceIndex(d)
    log = run_events(index, lanes)
    viol, _ = measure_events(index, lanes, log, ids)
    lb = space.floor_bound(ids, index.n)
    assert (lb <= log.billed_minutes).all()
    assert (lb[space.is_scheduled(ids)] > index.n * 2).any()  # not trivially the availability minimum
    twin = space.tracking_twin(ids)
    flat = np.flatnonzero(twin >= 0)
    assert flat.size and space.is_scheduled(flat).all() and not space.is_scheduled(twin[flat]).any()
    assert (log.billed_minutes[flat] == log.billed_minutes[twin[flat]]).all() and (viol[flat] == viol[twin[flat]]).all()
    assert space.is_weekly(ids).sum() == space.is_scheduled(ids).sum() // 2


def _plain_schedule(profile, cap, fraction, min_cap, max_cap, startup, slot_min):
    """build_schedule spelled out: one action per slot, raised ``startup + 1`` minutes early, merged where unchanged."""
    import math

    period = len(profile) * slot_min
    acts = {(i * slot_min - startup - 1) % period: min(max_cap, max(min_cap, math.ceil(fraction * p / cap))) for i, p in enumerate(profile)}
    times = sorted(acts)
    merged = [(0, acts[0] if 0 in acts else acts[times[-1]])]
    for t in times:
        if t and acts[t] != merged[-1][1]:
            merged.append((t, acts[t]))
    return merged


@pytest.mark.parametrize("seed", range(6))
def test_schedules_daily_and_weekly_are_the_slot_floors_raised_early_and_merged(seed):
    from toolkit.planner.schedule import build_schedule

    rng = np.random.default_rng(seed)
    slot_min = int(rng.choice([15, 60]))
    slots = (7 if seed % 2 else 1) * 1440 // slot_min
    profile = rng.uniform(0, 400, slots) * (rng.random(slots) < 0.3)
    args = (float(rng.uniform(20, 90)), float(rng.choice([0.5, 0.75, 1.0])), 2, int(rng.integers(3, 12)), int(rng.choice([0, 4, 8, 14])), slot_min)
    assert build_schedule(profile, *args) == _plain_schedule(profile, *args)
