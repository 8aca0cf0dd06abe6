"""When nothing is feasible: the nearest misses, scored by how far they miss, and the error the CLI raises."""

from __future__ import annotations

import numpy as np

from toolkit.artifacts.plan import Candidate, PlanFile, Simulation
from toolkit.errors import InfeasibleError
from toolkit.planner import costs as C
from toolkit.planner.assemble import InstanceOutcome, instance_candidate, latency_miss, miss_reason, serverless_candidate, short_name
from toolkit.platforms import platform_for
from toolkit.sla import Rate


def nearest_misses(ledger, evaluator, cset, index, mf, allowance, budget, top, spec) -> list[Candidate]:
    """When nothing is feasible: the configurations closest to feasible, with what to relax."""
    scored: list[tuple[float, float, int, object]] = []
    for c in ledger.configs:
        if c.kind == "serverless":
            best = None
            for s in c.serverless_options:
                score, why = miss_reason(s.sim.violation_minutes * mf, allowance, s.monthly_usd, budget)
                if best is None or (score, s.monthly_usd, s.estimate.memory_mb) < best[:3]:
                    best = (score, s.monthly_usd, s.estimate.memory_mb, s, why)
            c.serverless = best[3]
            scored.append((best[0], best[1], c.index, ("serverless", c, best[4])))
            continue
        G = ledger.space.G
        lanes = np.arange(c.gid * G, (c.gid + 1) * G)
        done = lanes[ledger.billed[lanes] >= 0]
        best = None
        for lane in done.tolist():
            cost, opt = ledger.option_cost(c.gid, int(ledger.billed[lane]), c.option_ids)
            score, why = miss_reason(float(ledger.viol[lane]) * mf, allowance, cost, budget)
            if best is None or (score, cost, lane) < best[:3]:
                best = (score, cost, lane, opt, why)
        if best is not None:
            scored.append((best[0], best[1], c.index, ("instance", c, best)))
    for i, x in enumerate(cset.excluded):
        if x.kind == "latency" and (x.latency_ms or getattr(x, "miss", None)):
            score, why = x.miss if getattr(x, "miss", None) else latency_miss(x, cset.sla.latency_ms, cset.sla.percentile, budget)
            scored.append((score, x.min_monthly_usd or 0.0, len(ledger.configs) + i, ("latency", x, why)))
    scored.sort(key=lambda t: (t[0], t[1], t[2]))
    out: list[Candidate] = []
    for score, cost, _, (kind, obj, info) in scored[:top]:
        if kind == "serverless":
            out.append(serverless_candidate(obj.serverless, index, mf, cset.requests_per_month, feasible=False, why=info))
        elif kind == "instance":
            _, _, lane, opt, why = info
            b, row = evaluator.where[lane]
            lanes, log = evaluator.batches[b]
            g = ledger.space.groups[obj.gid]
            o = InstanceOutcome(g, g.options[opt], ledger.space.policy(lane), lanes, log, row, float(ledger.viol[lane]),
                                schedule=ledger.space.schedule(lane), calendar=ledger.space.calendar_of(lane))
            out.append(instance_candidate(o, index, mf, cset.requests_per_month, feasible=False, why=why))
        else:
            x = obj
            cost = x.min_monthly_usd or 0.0
            out.append(Candidate(variant=x.variant, platform=x.platform, region=x.region or spec.targets.regions[0],
                                 instance_type=x.instance_type if platform_for(x.platform).instance_based else None,
                                 capacity=Rate(value=0.0, unit=cset.family.capacity_unit, per="instance"), monthly_cost_usd=round(cost, 6),
                                 cost_per_million_requests_usd=round(cost / (cset.requests_per_month / 1e6), 6) if cset.requests_per_month else 0.0,
                                 simulation=Simulation(minutes=index.n, violation_minutes=float(C.MONTH_MINUTES), peak_instances=0,
                                                       mean_instances=0.0, utilisation=0.0),
                                 feasible=False, why_not=info))
    return out


def infeasible_error(plan: PlanFile, out_path: str | None = None) -> InfeasibleError:
    """The error the CLI raises (exit 3) when nothing is feasible, naming the nearest miss."""
    where = f" ({out_path} lists them all)" if out_path else ""
    if plan.nearest_misses:
        first = plan.nearest_misses[0]
        return InfeasibleError(
            f"no configuration meets the SLA and budget; nearest miss: {short_name(first)}: {first.why_not}",
            hint=f"relax what the nearest misses name{where}, or allow more platforms, regions or instance types",
        )
    reasons = [f"{x.variant} on {x.platform} ({x.count}): {x.example}" for x in plan.excluded[:3]]
    notes = [a[len("Note: "):] for a in plan.assumptions if a.startswith("Note: ")][:3]
    return InfeasibleError(
        "no configuration meets the SLA and budget: no candidate could run at all",
        hint="; ".join(notes + reasons) or "allow more platforms, regions or instance types in targets",
    )
