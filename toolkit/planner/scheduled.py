"""Scheduled scaling against target tracking alone: what the search found for each shown configuration.

Scheduled floors are policies of the search grid (:data:`toolkit.planner.grid.SCHED_GRID`), so the winner
is chosen among them and target tracking alike; this module only summarises, for plan.json, the best
evaluated policy of each kind for the configurations the plan shows.
"""

from __future__ import annotations

import numpy as np

from toolkit.planner.grid import G_TRACKING
from toolkit.planner.schedule import PERIODIC_AUTOCORR
from toolkit.sla import allows

SLOT_MIN = 15  # the grain of scheduled floors: Application Auto Scaling's cron takes any minute


def scheduling_summary(ledger, ranked: list[int], periodic: bool, autocorr: float, mf: float, allowance: float, budget,
                       profiles=None) -> dict:
    """The ``scheduling`` section of plan.json for the configurations in ``ranked``; ``profiles``: the
    :class:`toolkit.planner.weekly.ScheduleProfiles` searched (whether weekday/weekend schedules were, and why)."""
    base = {"periodic": periodic, "daily_autocorrelation": round(autocorr, 3)}
    why_weekly = ""
    if profiles is not None:
        base["weekly"] = profiles.weekly
        why_weekly = f"; {'weekday/weekend schedules searched: ' if profiles.weekly else ''}{profiles.reason}"
    if not periodic:
        return base | {"compared": False, "reason": f"traffic is not periodic (daily autocorrelation below {PERIODIC_AUTOCORR} or shorter "
                                                     "than two days): scheduled scaling cannot anticipate it"}
    shown = [ci for ci in ranked if ledger.configs[ci].kind == "instance"]
    if not shown:
        return base | {"compared": False, "reason": "no instance-based configuration among the best"}
    space = ledger.space
    results = []
    for ci in shown:
        c = ledger.configs[ci]
        g = space.groups[c.gid]
        lanes = np.arange(c.gid * space.G, (c.gid + 1) * space.G)
        done = lanes[ledger.billed[lanes] >= 0]
        ok = done[allows(ledger.viol[done] * mf, allowance)]
        sched = ok[ok % space.G >= G_TRACKING]
        tracking, weekly = ok[ok % space.G < G_TRACKING], space.is_weekly(sched)
        scheduled, week = sched[~weekly], sched[weekly]
        opt = g.options[int(ledger.region_choice[ci])]
        entry = {"configuration": f"{g.variant.name} on {g.instance.name}{' spot' if opt.spot else ''} ({opt.region})"}
        best_t, best_s, best_w = _cheapest(ledger, tracking), _cheapest(ledger, scheduled), _cheapest(ledger, week)
        if best_t is not None:
            entry |= {"target_tracking_usd": round(opt.price.monthly(ledger.billed[best_t] / 60 * mf), 2),
                      "target_tracking_violation_minutes": round(float(ledger.viol[best_t]) * mf, 1)}
        if best_s is not None:
            pol = space.policy(int(best_s))
            frac = _fraction(space, int(best_s))
            entry |= {"scheduled_usd": round(opt.price.monthly(ledger.billed[best_s] / 60 * mf), 2),
                      "scheduled_violation_minutes": round(float(ledger.viol[best_s]) * mf, 1),
                      "floor_fraction_of_hourly_p95": frac, "safety_factor": pol.safety_factor,
                      "schedule": [{"minute_of_day_utc": m, "min_capacity": f} for m, f in space.schedule(int(best_s))]}
        if best_w is not None:
            from toolkit.planner.weekly import scheduled_actions

            entry |= {"weekly_usd": round(opt.price.monthly(ledger.billed[best_w] / 60 * mf), 2),
                      "weekly_violation_minutes": round(float(ledger.viol[best_w]) * mf, 1),
                      "weekly_actions": [f"{a.schedule} min {a.min_capacity}" for a in
                                         scheduled_actions(space.schedule(int(best_w)), space.policy(int(best_w)).max_capacity,
                                                           space.calendar_of(int(best_w)))]}
        best = ledger.best_lane[c.gid]
        entry["adopted"] = bool(space.is_scheduled([best])[0])
        entry["adopted_weekly"] = bool(space.is_weekly([best])[0])
        results.append(entry)
    kinds = "daily and weekday/weekend (weekly)" if space.week_profile is not None else "daily"
    return base | {"compared": True, "results": results,
                   "note": f"{kinds} minimum-capacity schedules at {space.slot_min}-minute grain (raised ahead of busy slots by the "
                           "start-up time) on top of target tracking, searched like every other policy" + why_weekly}


def _cheapest(ledger, lanes: np.ndarray):
    if not lanes.size:
        return None
    order = np.lexsort((lanes, ledger.viol[lanes], ledger.billed[lanes]))
    return int(lanes[order[0]])


def _fraction(space, lane: int) -> float:
    return space.sched_entry(lane)[0]
