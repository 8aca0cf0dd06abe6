"""How much the chosen plan leans on its assumptions: each one that decides a plan is varied and re-simulated.

- instance fleets: the scale-in sizing rule. The model sizes a scale-in from the highest demand in the
  alarm's window; the alternative reading sizes it from the window's latest datapoint (more aggressive).
- serverless: the estimated cold start (x0.5 and x2) and the keep-warm period (5 and 20 minutes instead of
  the assumed 10), neither of which AWS publishes.
- hosts: an Arm host CPU with a GPU (g5g), where Triton's aarch64 GPU images are scarce.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

COLD_START_FACTORS = (0.5, 2.0)
KEEP_WARM_MIN = (5, 20)


def scale_in_alternative(out, index, mf: float, sla) -> dict:
    """Violation minutes of the chosen policy if scale-ins were sized from the window's latest datapoint."""
    from toolkit.planner.buying import _one_lane
    from toolkit.planner.simulate import measure_events, run_events

    lanes = _one_lane(out.lanes, out.row)
    log = run_events(index, lanes, scale_in_basis="latest")
    viol, _ = measure_events(index, lanes, log, np.arange(1))
    v = round(float(viol[0]) * mf, 1)
    return {"assumed": "a scale-in is sized from the highest demand in the alarm's window",
            "alternative": "sized from the window's latest datapoint", "violation_minutes": v, "meets_sla": bool(sla.allows(v)),
            "monthly_cost_usd": round(out.option.price.monthly(int(log.billed_minutes[0]) / 60 * mf), 2)}


def serverless_variations(option, demand_rps: np.ndarray, mf: float, sla) -> list[dict]:
    """The chosen serverless option re-simulated with the cold start and keep-warm period varied."""
    from toolkit.planner import serverless as SL

    est, pct = option.estimate, sla.percentile
    rows = []
    cases = [(f"cold start x{f:g} ({est.cold_start_s * f:.1f} s)", replace(est, cold_start_s=est.cold_start_s * f), SL.KEEP_WARM_MIN)
             for f in COLD_START_FACTORS]
    cases += [(f"keep-warm {k} min (assumed {SL.KEEP_WARM_MIN})", est, k) for k in KEEP_WARM_MIN]
    for label, e, keep in cases:
        sim = SL.simulate_serverless(demand_rps, e, pct, max_concurrency=option.sim.max_concurrency, keep_warm_min=keep)
        v = round(sim.violation_minutes * mf, 1)
        rows.append({"case": label, "violation_minutes": v, "meets_sla": bool(sla.allows(v))})
    return rows


def arm_gpu_note(instance) -> str | None:
    """A warning for an Arm host with a GPU: the plan's image must exist for aarch64."""
    if not instance or not instance.accelerator:
        return None
    arm = "neon" in (instance.cpu_isa or []) or str(getattr(instance, "cpu", "")).startswith("graviton")
    if not arm:
        return None
    return (f"{instance.name} has an Arm host CPU ({getattr(instance, 'cpu', 'aarch64')}) with a {instance.accelerator} GPU: Triton's "
            "GPU containers are published mainly for x86_64, so check that an aarch64 image with the backend you need exists "
            "(or exclude the family in targets.instance_families)")


def sensitivity_lines(chosen) -> list[str]:
    """The varied assumptions, in words, for plan.json's estimates (shown by --explain and the report)."""
    s = chosen.sensitivity if chosen is not None else None
    if s is None:
        return []
    out = []
    if s.scale_in_alternative is not None:
        a = s.scale_in_alternative
        out.append(f"Scale-in rule (an assumption): {a.assumed}; {a.alternative}, the chosen policy would have {a.violation_minutes:g} "
                   f"violation minutes a month ({'within' if a.meets_sla else 'over'} the allowance).")
    for v in s.serverless:
        out.append(f"Serverless assumption varied, {v.case}: {v.violation_minutes:g} violation minutes a month "
                   f"({'within' if v.meets_sla else 'over'} the allowance).")
    return out
