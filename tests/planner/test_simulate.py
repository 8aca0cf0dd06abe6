"""The autoscaling simulation: hand-checked behaviours, and the vectorised engine against the plain loop."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.planner.bounds import billed_lower_bound
from toolkit.planner.dynamics import Dynamics, kubernetes_dynamics, sagemaker_dynamics
from toolkit.planner.simulate import Lanes, TraceIndex, dense_paths, in_service, measure, measure_events, reference_simulate, run_events


def simulate_one(d, cap, sf, min_cap, max_cap, dyn, schedule=None):
    lanes = Lanes.build([dict(csf=cap * sf, cap=cap, min_cap=min_cap, max_cap=max_cap, dynamics=dyn, schedule=schedule)])
    index = TraceIndex(d)
    log = run_events(index, lanes)
    viol, served = measure_events(index, lanes, log, [0])
    billed = dense_paths(log, [0])[0]
    return log, billed, in_service(dense_paths(log, [0]), lanes.startup)[0], viol[0]


def test_step_up_violates_for_alarm_window_plus_startup():
    # 10 req/s for an hour, then 100 req/s. 20 req/s per instance at the SLA, target at half of it.
    d = np.r_[np.full(60, 10.0), np.full(60, 100.0)]
    log, billed, served, viol = simulate_one(d, cap=20.0, sf=0.5, min_cap=1, max_cap=50, dyn=sagemaker_dynamics())
    # 3 breaching minutes (60, 61, 62) fire the alarm at the end of minute 62: D = ceil(100 / 10) = 10
    assert log.change_list(0) == [(62, 10)]
    assert billed[63] == 10 and billed[62] == 1  # billed from launch
    # in service 8 minutes later: minutes 60..70 run on one instance (20 req/s < 100)
    assert served[70] == 1 and served[71] == 10
    assert viol == 11


def test_scale_in_waits_for_fifteen_quiet_minutes():
    d = np.r_[np.full(30, 100.0), np.full(60, 10.0)]
    log, billed, served, viol = simulate_one(d, cap=20.0, sf=0.5, min_cap=1, max_cap=50, dyn=sagemaker_dynamics())
    # starts at ceil(100/10) = 10; the low alarm needs minutes 30..44 below 0.9 x target, so scale-in at 44
    assert log.change_list(0) == [(44, 1)]
    assert viol == 0
    assert served[45] == 1  # a drop takes effect at once


def test_max_capacity_caps_scale_out_and_causes_violations():
    d = np.r_[np.full(20, 10.0), np.full(40, 100.0)]
    _, billed, _, viol = simulate_one(d, cap=20.0, sf=0.5, min_cap=1, max_cap=3, dyn=sagemaker_dynamics())
    assert billed.max() == 3
    assert viol == 40  # 3 x 20 req/s never covers 100 req/s


def test_schedule_raises_the_floor_ahead_of_a_daily_peak():
    day = np.r_[np.full(540, 10.0), np.full(60, 100.0), np.full(840, 10.0)]  # 09:00-10:00 UTC burst
    d = np.tile(day, 2)
    _, _, _, viol_tt = simulate_one(d, cap=20.0, sf=0.5, min_cap=1, max_cap=10, dyn=sagemaker_dynamics())
    # floor 5 decided at the end of minute 531 (08:52 on the clock): launched then, in service 8 minutes later
    sched = [(0, 1), (540 - 9, 5), (600, 1)]
    _, billed, served, viol_s = simulate_one(d, cap=20.0, sf=0.5, min_cap=1, max_cap=10, dyn=sagemaker_dynamics(), schedule=sched)
    assert viol_tt == 2 * 11
    assert viol_s == 0
    assert billed[531] == 1 and billed[532] == 5 and served[539] == 1 and served[540] == 5


def test_kubernetes_reacts_within_a_minute_and_tolerates_ten_percent():
    d = np.r_[np.full(10, 10.0), np.full(20, 10.8), np.full(30, 40.0)]
    log, _, _, viol = simulate_one(d, cap=20.0, sf=0.5, min_cap=1, max_cap=50, dyn=kubernetes_dynamics())
    # 10.8 req/s is 8% above one instance's target (10): inside HPA's tolerance, no scaling
    # 40 req/s: scale out at once to ceil(40/10) = 4, in service 4 minutes later
    assert log.change_list(0) == [(30, 4)]
    assert viol == 5  # minutes 30..34 on one instance (20 req/s < 40)


def _random_case(rng, n):
    t = np.arange(n)
    d = np.clip(60 + 50 * np.sin(2 * np.pi * t / rng.integers(60, 1440)) + rng.normal(0, rng.uniform(0, 15), n), 0, None)
    if rng.random() < 0.5:
        d[rng.integers(0, n, 8)] *= 3
    return d


@pytest.mark.parametrize("seed", range(12))
def test_vectorised_engine_matches_the_reference_loop(seed):
    rng = np.random.default_rng(seed)
    d = _random_case(rng, int(rng.integers(200, 2500)))
    rows = []
    for i in range(6):
        cap, sf, mn = float(rng.uniform(3, 60)), float(rng.uniform(0.3, 1.0)), int(rng.integers(1, 4))
        dyn = [sagemaker_dynamics(), kubernetes_dynamics(), sagemaker_dynamics(600, 120, startup_min=int(rng.integers(1, 12)))][i % 3]
        sched = [(0, mn), (int(rng.integers(1, 700)), mn + 2), (int(rng.integers(700, 1439)), mn)] if i % 2 else None
        rows.append(dict(csf=cap * sf, cap=cap, min_cap=mn, max_cap=int(rng.integers(mn, 60)), dynamics=dyn, schedule=sched))
    lanes = Lanes.build(rows)
    index = TraceIndex(d)
    log = run_events(index, lanes)
    viol, served = measure_events(index, lanes, log, np.arange(len(rows)))
    dense = measure(index, lanes, log, np.arange(len(rows)))
    for k, r in enumerate(rows):
        ref = reference_simulate(d, r["csf"], r["cap"], r["max_cap"], r["dynamics"], schedule=r["schedule"], min_cap=r["min_cap"])
        assert dense_paths(log, [k])[0].tolist() == ref["billed"]
        assert log.billed_minutes[k] == ref["billed_minutes"]
        assert viol[k] == ref["violations"] == dense.violation_minutes[k]
    assert np.allclose(served, dense.served_capacity_rps_minutes)


@pytest.mark.parametrize("seed", range(6))
def test_lower_bound_never_exceeds_the_simulated_bill(seed):
    rng = np.random.default_rng(100 + seed)
    d = _random_case(rng, 3000)
    rows = []
    for i in range(40):
        cap, sf, mn = float(rng.uniform(3, 80)), float(rng.uniform(0.3, 1.0)), int(rng.integers(1, 4))
        dyn = [sagemaker_dynamics(), kubernetes_dynamics(), sagemaker_dynamics(startup_min=int(rng.integers(1, 15)))][i % 3]
        rows.append(dict(csf=cap * sf, cap=cap, min_cap=mn, max_cap=int(rng.integers(mn, 80)), dynamics=dyn))
    lanes = Lanes.build(rows)
    index = TraceIndex(d)
    log = run_events(index, lanes)
    lb = billed_lower_bound(index, lanes.csf, [r["min_cap"] for r in rows], lanes.max_cap,
                            [r["dynamics"].bound_window for r in rows], lanes.out_ratio)
    assert (lb <= log.billed_minutes).all()
    assert (lb >= 0.4 * log.billed_minutes).all()  # and it is not trivially small


def test_lower_bound_is_tight_on_smooth_traffic():
    t = np.arange(3 * 1440)
    d = 80 + 70 * np.cos(2 * np.pi * (t / 60 - 15) / 24)
    lanes = Lanes.build([dict(csf=10.0 * sf, cap=10.0, min_cap=2, max_cap=40, dynamics=sagemaker_dynamics()) for sf in (0.5, 0.7, 0.9)])
    index = TraceIndex(d)
    log = run_events(index, lanes)
    lb = billed_lower_bound(index, lanes.csf, [2, 2, 2], lanes.max_cap, [8, 8, 8], lanes.out_ratio)
    assert ((lb / log.billed_minutes) > 0.9).all()


def test_dynamics_refuse_a_scale_in_gap_the_bound_cannot_handle():
    with pytest.raises(ValueError, match="in_after_out"):
        Dynamics("x", startup_min=5, out_window=3, in_window=15, out_gap=5, in_after_in=5, in_after_out=2)


def test_a_weekly_schedule_repeats_every_week_not_every_day():
    # a floor of 5 from 08:52 to 10:00 on weekdays only (minute 0 is a Monday)
    day = np.r_[np.full(540, 10.0), np.full(60, 100.0), np.full(840, 10.0)]
    quiet = np.full(1440, 10.0)
    d = np.tile(np.concatenate([np.tile(day, 5), quiet, quiet]), 2)
    sched = [(0, 1)] + [a for k in range(5) for a in ((k * 1440 + 531, 5), (k * 1440 + 600, 1))]
    lanes = Lanes.build([dict(csf=10.0, cap=20.0, min_cap=1, max_cap=10, dynamics=sagemaker_dynamics(), schedule=sched, period=7 * 1440)])
    index = TraceIndex(d)
    log = run_events(index, lanes)
    billed = dense_paths(log, [0])[0]
    assert measure_events(index, lanes, log, [0])[0][0] == 0
    for week in (0, 1):
        for k in range(7):
            t = week * 7 * 1440 + k * 1440 + 532
            assert billed[t] == (5 if k < 5 else 1)  # the weekend keeps the availability minimum
    ref = reference_simulate(d, 10.0, 20.0, 10, sagemaker_dynamics(), schedule=sched, min_cap=1, period=7 * 1440)
    assert billed.tolist() == ref["billed"]


@pytest.mark.parametrize("seed", range(4))
def test_vectorised_engine_matches_the_reference_loop_with_weekly_schedules(seed):
    rng = np.random.default_rng(500 + seed)
    n = int(rng.integers(7 * 1440, 15 * 1440))
    d = _random_case(rng, n)
    rows = []
    for i in range(6):
        cap, sf, mn = float(rng.uniform(3, 60)), float(rng.uniform(0.3, 1.0)), int(rng.integers(1, 4))
        dyn = [sagemaker_dynamics(), kubernetes_dynamics(), sagemaker_dynamics(startup_min=int(rng.integers(1, 12)))][i % 3]
        period = 7 * 1440 if i % 2 else 1440
        times = np.sort(rng.choice(np.arange(1, period), size=int(rng.integers(1, 9)), replace=False))
        sched = [(0, mn)] + [(int(t), mn + int(rng.integers(0, 4))) for t in times]
        rows.append(dict(csf=cap * sf, cap=cap, min_cap=mn, max_cap=int(rng.integers(mn, 60)), dynamics=dyn, schedule=sched, period=period))
    lanes = Lanes.build(rows)
    index = TraceIndex(d)
    log = run_events(index, lanes)
    viol, _ = measure_events(index, lanes, log, np.arange(len(rows)))
    for k, r in enumerate(rows):
        ref = reference_simulate(d, r["csf"], r["cap"], r["max_cap"], r["dynamics"], schedule=r["schedule"], min_cap=r["min_cap"], period=r["period"])
        assert dense_paths(log, [k])[0].tolist() == ref["billed"]
        assert viol[k] == ref["violations"]
