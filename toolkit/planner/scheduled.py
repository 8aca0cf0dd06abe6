"""Scheduled scaling compared with target tracking alone: daily minimum-capacity floors for periodic traffic."""

from __future__ import annotations

import numpy as np

from toolkit.planner.assemble import InstanceOutcome
from toolkit.planner.grid import SAFETY_FACTORS, Policy, lanes_from_arrays
from toolkit.planner.schedule import FRACTIONS, build_schedule, hourly_profile
from toolkit.planner.simulate import measure_events, run_events
from toolkit.sla import allows


def compare_schedules(index, ledger, outcomes, periodic, autocorr, demand, mf, allowance, budget, m0):
    """Try daily scheduled floors on top of target tracking for the top instance configurations."""
    if not outcomes:
        return ({"periodic": periodic, "daily_autocorrelation": round(autocorr, 3), "compared": False,
                 "reason": "no instance-based configuration among the best"}, outcomes, {})
    if not periodic:
        return ({"periodic": False, "daily_autocorrelation": round(autocorr, 3), "compared": False,
                 "reason": "traffic is not periodic (daily autocorrelation below 0.6 or shorter than two days): scheduled scaling cannot anticipate it"},
                outcomes, {})
    profile = hourly_profile(demand)
    results, override = [], {}
    by_group: dict[int, list[int]] = {}
    for ci, out in outcomes.items():
        by_group.setdefault(out.group.gid, []).append(ci)
    for gid, cis in by_group.items():
        base = outcomes[cis[0]]
        g, pol = base.group, base.policy
        rows = []
        for frac in FRACTIONS:
            for sf in SAFETY_FACTORS:
                rows.append((frac, sf, build_schedule(profile, g.cap, frac, m0, pol.max_capacity, g.dynamics.startup_min)))
        width = max(len(r[2]) for r in rows)
        tod = np.full((len(rows), width), -1, dtype=np.int64)
        floor = np.zeros((len(rows), width), dtype=np.int64)
        for i, (_, _, sched) in enumerate(rows):
            for j, (m, f) in enumerate(sched):
                tod[i, j], floor[i, j] = m, f
        k = len(rows)
        csf = np.asarray([g.cap * sf for _, sf, _ in rows])
        lanes = lanes_from_arrays(csf, np.full(k, g.cap), np.full(k, m0), np.full(k, pol.max_capacity),
                                  [g.dynamics], np.zeros(k, dtype=np.int64), schedule=(tod, floor))
        log = run_events(index, lanes)
        viol, _ = measure_events(index, lanes, log, np.arange(k))
        ok = allows(viol * mf, allowance)
        best_row = None
        if ok.any():
            key = np.where(ok, log.billed_minutes * k + np.arange(k), np.iinfo(np.int64).max)
            best_row = int(np.argmin(key))
        adopted = best_row is not None and int(log.billed_minutes[best_row]) < base.billed
        for ci in cis:
            out = outcomes[ci]
            tt_cost = out.option.price.monthly(out.billed / 60 * mf)
            entry = {"configuration": f"{g.variant.name} on {g.instance.name}{' spot' if out.option.spot else ''} ({out.option.region})",
                     "target_tracking_usd": round(tt_cost, 2), "target_tracking_violation_minutes": round(out.viol * mf, 1)}
            if best_row is not None:
                s_cost = out.option.price.monthly(int(log.billed_minutes[best_row]) / 60 * mf)
                frac, sf, sched = rows[best_row]
                entry |= {"scheduled_usd": round(s_cost, 2), "scheduled_violation_minutes": round(float(viol[best_row]) * mf, 1),
                          "floor_fraction_of_hourly_p95": frac, "safety_factor": sf,
                          "schedule": [{"minute_of_day_utc": m, "min_capacity": f} for m, f in sched]}
            entry["adopted"] = bool(adopted)
            if adopted and (budget is None or s_cost <= budget):
                frac, sf, sched = rows[best_row]
                outcomes[ci] = InstanceOutcome(g, out.option, Policy(sf, m0, pol.max_capacity, g.cap * sf * 60.0),
                                               lanes, log, best_row, float(viol[best_row]), schedule=sched)
                override[ci] = s_cost
            results.append(entry)
    return {"periodic": True, "daily_autocorrelation": round(autocorr, 3), "compared": True,
            "note": "daily minimum-capacity schedules (raise ahead of busy hours) on top of target tracking, for the best configurations",
            "results": results}, outcomes, override
