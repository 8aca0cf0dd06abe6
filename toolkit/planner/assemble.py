"""From search results to plan.json ``Candidate`` records: bill lines, simulation summaries, why each lost."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from toolkit.artifacts.plan import Autoscaling, BandEnd, Candidate, CostBand, CostItem, Serverless, Simulation
from toolkit.planner import costs as C
from toolkit.planner.grid import Policy
from toolkit.planner.simulate import EventLog, Lanes, TraceIndex, dense_paths, in_service, measure_events
from toolkit.planner.weekly import scheduled_actions
from toolkit.report.money import fmt_money
from toolkit.sla import Rate, allows



@dataclass
class InstanceOutcome:
    """One instance configuration with the policy that won for it and its simulated path."""

    group: object
    option: object
    policy: Policy
    lanes: Lanes
    log: EventLog
    row: int
    viol: float
    schedule: list[tuple[int, int]] | None = None
    calendar: object = None  # toolkit.planner.weekly.Calendar of a weekday/weekend schedule (None: daily)

    @property
    def billed(self) -> int:
        return int(self.log.billed_minutes[self.row])


def _ref(quote, sku: str):
    return quote.ref(sku) if quote is not None else None


def cost_items(price_model, instance_hours: float) -> list[CostItem]:
    out = []
    for line in price_model.lines(instance_hours):
        out.append(CostItem(resource=line.resource, component=line.component, usage_quantity=round(line.usage_per_month, 6), unit=line.unit,
                            unit_price_usd=line.unit_price, cost_usd=round(line.cost, 6), price=_ref(line.quote, line.sku)))
    return out


def _band_scale(group) -> float:
    """From the estimate's band (per instance of the measured kind) to this group's: the platform's share of the
    instance, without the share ``--confidence`` set aside (the band is the estimate's, whatever is planned)."""
    return group.cap / group.planned_share / max(group.capacity.max_rps_at_sla, 1e-9)


def _capacity(group) -> Rate:
    """The group's capacity per instance, in its family's unit, as plan.json states it."""
    return Rate(value=round(group.cap, 3), unit=group.unit, per="instance")


def _per_million(cost: float, requests_month: float) -> float:
    return cost / (requests_month / 1e6) if requests_month > 0 else 0.0


def instance_candidate(out: InstanceOutcome, index: TraceIndex, month_factor: float, requests_month: float, *, feasible: bool = True,
                       why: str | None = None, hourly: bool = True) -> Candidate:
    g, opt, pol = out.group, out.option, out.policy
    hours = out.billed / 60.0 * month_factor
    monthly = opt.price.monthly(hours)
    b = dense_paths(out.log, [out.row])
    nsv = in_service(b, out.lanes.startup[[out.row]])
    cap = float(out.lanes.cap[out.row])
    n = index.n
    h = n // 60
    hourly_inst = nsv[0, : h * 60].reshape(h, 60).mean(axis=1) if hourly and h else np.zeros(0)
    hourly_billed = b[0, : h * 60].reshape(h, 60).mean(axis=1) if hourly and h else np.zeros(0)
    fixed_per_hour = opt.price.fixed_usd / (C.MONTH_MINUTES / 60.0)
    hourly_cost = hourly_billed * opt.price.unit_usd_per_instance_hour + fixed_per_hour
    served = float((nsv[0] * cap).sum())
    sim = Simulation(
        minutes=n,
        violation_minutes=round(out.viol * month_factor, 3),
        peak_instances=int(b.max()),
        mean_instances=round(float(b.mean()), 4),
        utilisation=round(float(index.d.sum() / served), 4) if served > 0 else 0.0,
        hourly_instances=[round(float(x), 3) for x in hourly_inst],
        hourly_cost_usd=[round(float(x), 6) for x in hourly_cost],
        billed_instance_hours=round(hours, 3),
    )
    dyn = g.dynamics
    sched = []
    if out.schedule:
        sched = scheduled_actions(out.schedule, pol.max_capacity, out.calendar)
    auto = Autoscaling(
        min_capacity=pol.min_capacity, max_capacity=pol.max_capacity, metric=g.plat.scaling_metric, target_value=round(pol.target_value / g.per_request, 3),
        safety_factor=pol.safety_factor, scale_in_cooldown_s=dyn.scale_in_cooldown_s, scale_out_cooldown_s=dyn.scale_out_cooldown_s,
        scheduled=sched,
    )
    est = g.capacity
    return Candidate(
        variant=g.variant.name, platform=g.platform, region=opt.region, instance_type=g.instance.name, spot=opt.spot,
        capacity=_capacity(g), capacity_provenance=est.provenance, autoscaling=auto,
        monthly_cost_usd=round(monthly, 6), cost_per_million_requests_usd=round(_per_million(monthly, requests_month), 6),
        cost_items=cost_items(opt.price, hours), simulation=sim, feasible=feasible, why_not=why,
        capacity_band=[round(est.low_rps * _band_scale(g), 3), round(est.high_rps * _band_scale(g), 3)],
    )


def low_capacity_violations(out: InstanceOutcome, index: TraceIndex, month_factor: float) -> tuple[float, float]:
    """Violation minutes per month if capacity is at the low end of its band (same target value, same path)."""
    est = out.group.capacity
    low = est.low_rps * _band_scale(out.group)
    lanes = replace(out.lanes, cap=out.lanes.cap.copy())
    lanes.cap[out.row] = low
    v, _ = measure_events(index, lanes, out.log, [out.row])
    return float(v[0] * month_factor), low


def cost_band(out: InstanceOutcome, index: TraceIndex, month_factor: float, peak_rps: float, min_instances: int,
              allowance: float, profile=None, slot_min: int = 60) -> CostBand | None:
    """What the chosen configuration would cost if its capacity were at either end of its uncertainty band: for each
    end, the cheapest policy of the grid (re-searched at that capacity) whose violation minutes stay within the
    allowance. Turns "capacity ±x%" into a dollar range. None when the capacity was measured (no band)."""
    from toolkit.planner.grid import LaneSpace
    from toolkit.planner.simulate import run_events

    est = out.group.capacity
    scale = _band_scale(out.group)
    ends = {"low_capacity": est.low_rps * scale, "high_capacity": est.high_rps * scale}
    if math.isclose(ends["low_capacity"], ends["high_capacity"]):
        return None
    band = {}
    for end, cap in ends.items():
        space = LaneSpace([replace(out.group, cap=cap)], peak_rps, min_instances, profile, slot_min)
        ids = np.arange(space.G, dtype=np.int64)
        lanes = space.lanes(ids)
        log = run_events(index, lanes)
        viol, _ = measure_events(index, lanes, log, ids)
        ok = allows(viol * month_factor, allowance)
        if not ok.any():
            band[end] = BandEnd(capacity=round(cap, 3), monthly_cost_usd=None, meets_sla=False)
            continue
        best = int(np.argmin(np.where(ok, log.billed_minutes, np.iinfo(np.int64).max)))
        pol = space.policy(best)
        band[end] = BandEnd(capacity=round(cap, 3), meets_sla=True,
                            monthly_cost_usd=round(out.option.price.monthly(int(log.billed_minutes[best]) / 60 * month_factor), 2),
                            min_capacity=pol.min_capacity, max_capacity=pol.max_capacity, safety_factor=pol.safety_factor)
    return CostBand(**band, note="the cheapest policy that meets the SLA on this configuration, re-searched with capacity at each end of its band")


def serverless_candidate(s, index: TraceIndex, month_factor: float, requests_month: float, *, feasible: bool = True, why: str | None = None) -> Candidate:
    sim = s.sim
    monthly = s.price.fixed_usd
    h = index.n // 60
    share = index.d[: h * 60].reshape(h, 60).sum(axis=1) if h else np.zeros(0)
    share = share / share.sum() if share.sum() > 0 else share
    hourly_cost = share * monthly * (h / (C.MONTH_MINUTES / 60.0)) if h else share
    busy = float(index.d.mean() * s.estimate.service_ms / 1000.0)
    return Candidate(
        variant=s.variant.name, platform=s.platform, region=s.region,
        serverless=Serverless(memory_mb=s.estimate.memory_mb, max_concurrency=sim.max_concurrency),
        capacity=None, capacity_provenance=s.estimate.provenance,
        monthly_cost_usd=round(monthly, 6), cost_per_million_requests_usd=round(_per_million(monthly, requests_month), 6),
        cost_items=cost_items(s.price, 0.0),
        simulation=Simulation(
            minutes=index.n, violation_minutes=round(sim.violation_minutes * month_factor, 3), peak_instances=sim.peak_concurrency,
            mean_instances=round(sim.mean_concurrency, 4), utilisation=round(busy / sim.mean_concurrency, 4) if sim.mean_concurrency else 0.0,
            cold_starts=int(round(sim.cold_starts * month_factor)), hourly_instances=[round(float(x), 3) for x in sim.hourly_concurrency],
            hourly_cost_usd=[round(float(x), 6) for x in hourly_cost], throttled_minutes=round(sim.throttled_minutes * month_factor, 3),
        ),
        feasible=feasible, why_not=why,
    )


# ---- explanations -------------------------------------------------------------------------------


def short_name(c: Candidate) -> str:
    if c.serverless:
        return f"{c.variant} on serverless {c.serverless.memory_mb} MB ({c.region})"
    spot = " spot" if c.spot else ""
    return f"{c.variant} on {c.instance_type}{spot} ({c.region})"


def _by_component(c: Candidate) -> dict[str, float]:
    out: dict[str, float] = {}
    for i in c.cost_items:
        out[i.component] = out.get(i.component, 0.0) + i.cost_usd
    return out


LABEL = {"instances": "instance-hours", "serverless-compute": "serverless compute", "storage": "storage",
         "data-processed": "data processing", "cluster": "the EKS control plane", "load-balancer": "the load balancer"}
COMPUTE = ("instances", "serverless-compute")


def _compute_text(c: Candidate, amount: float) -> str:
    if c.serverless:
        gb_s = next((i.usage_quantity for i in c.cost_items if i.component == "serverless-compute"), 0.0)
        return f"{fmt_money(amount)} of serverless compute ({gb_s:,.0f} GB-seconds at {c.serverless.memory_mb} MB)"
    price = next((i.unit_price_usd for i in c.cost_items if i.component == "instances"), 0.0)
    hours = c.simulation.billed_instance_hours or 0.0
    return f"{fmt_money(amount)} of instance-hours ({hours:,.0f} h of {c.instance_type}{' spot' if c.spot else ''} at ${price:g}/h, mean {c.simulation.mean_instances:.2f} instances)"


def why_lost(c: Candidate, chosen: Candidate) -> str:
    """One line: how much more it costs, and which parts of the bill make the difference (largest first)."""
    delta = c.monthly_cost_usd - chosen.monthly_cost_usd
    if delta <= 0.005:
        return "same monthly cost as the chosen; ranked after it by enumeration order"
    pct = delta / chosen.monthly_cost_usd if chosen.monthly_cost_usd else 0.0
    a, b = _by_component(c), _by_component(chosen)
    parts = [(sum(a.get(k, 0.0) for k in COMPUTE) - sum(b.get(k, 0.0) for k in COMPUTE), "compute")]
    parts += [(a.get(k, 0.0) - b.get(k, 0.0), k) for k in (set(a) | set(b)) - set(COMPUTE)]
    parts = sorted((p for p in parts if p[0] > 0.005), reverse=True)
    shown, covered = [], 0.0
    for d, k in parts:
        if k == "compute":
            ca, cb = sum(a.get(x, 0.0) for x in COMPUTE), sum(b.get(x, 0.0) for x in COMPUTE)
            shown.append(f"compute {_compute_text(c, ca)} vs {_compute_text(chosen, cb)}")
        else:
            shown.append(f"{LABEL.get(k, k)} {fmt_money(a.get(k, 0.0))} vs {fmt_money(b.get(k, 0.0))}")
        covered += d
        if covered >= 0.8 * delta or len(shown) == 3:
            break
    detail = "; ".join(shown)
    if c.simulation.violation_minutes > chosen.simulation.violation_minutes:
        detail += f"; also more violation minutes ({c.simulation.violation_minutes:.0f} vs {chosen.simulation.violation_minutes:.0f})"
    more = _cents_delta(c.monthly_cost_usd, chosen.monthly_cost_usd)
    return f"{more}/month more than the chosen (+{pct:.1%}): {detail}"


def _cents_delta(a: float, b: float) -> str:
    """The difference of the two figures as the text shows them (whole cents each), so the sums agree."""
    from toolkit.report.money import fmt_usd, to_cents

    return fmt_usd(to_cents(a) - to_cents(b))


def miss_reason(viol_month: float, allowance: float, cost: float, budget: float | None) -> tuple[float, str]:
    """How far a configuration misses (a unitless score: 0 = just meets) and what to relax."""
    parts, score = [], 0.0
    if not allows(viol_month, allowance):
        over = viol_month / allowance if allowance > 0 else math.inf
        score = max(score, (viol_month - allowance) / max(allowance, 1.0))
        parts.append(f"violation minutes {viol_month:,.0f}/month > allowance {allowance:g}"
                     + (f" ({over:.1f}x)" if math.isfinite(over) else "")
                     + f": relax sla.max_violation_minutes_per_month to >= {math.ceil(viol_month)}, or lower sla.peak_rps / the traffic")
    if budget is not None and cost > budget:
        score = max(score, (cost - budget) / budget)
        parts.append(f"monthly cost ${cost:,.2f} > budget ${budget:,.2f} (+{(cost - budget) / budget:.1%}): raise budget.max_monthly_usd to >= {math.ceil(cost)}")
    return score, "; ".join(parts)


def latency_miss(x, sla_ms: float, pct: str, budget: float | None) -> tuple[float, str]:
    """A candidate that cannot meet the latency target at any load: by how much, and its least cost against the budget."""
    lat = x.latency_ms
    score = (lat - sla_ms) / sla_ms
    text = (f"latency: {x.reason}; {pct} needs at least {lat:.1f} ms > {sla_ms:g} ms: relax sla.{pct}_ms to >= {math.ceil(lat)}, "
            "or allow a faster variant or instance type")
    cost = x.min_monthly_usd
    if budget is not None and cost is not None and cost > budget:
        score = max(score, (cost - budget) / budget)
        text += f"; it would also cost at least ${cost:,.2f} a month > budget ${budget:,.2f}: raise budget.max_monthly_usd to >= {math.ceil(cost)}"
    return score, text


def static_instances(peak_rps: float, cap: float, min_cap: int) -> int:
    return max(min_cap, math.ceil(peak_rps / cap))


def static_candidate(group, option, n_inst: int, index: TraceIndex, requests_month: float) -> Candidate:
    hours = n_inst * C.MONTH_MINUTES / 60.0
    monthly = option.price.monthly(hours)
    h = index.n // 60
    fixed_per_hour = option.price.fixed_usd / (C.MONTH_MINUTES / 60.0)
    est = group.capacity
    return Candidate(
        variant=group.variant.name, platform=group.platform, region=option.region, instance_type=group.instance.name, spot=option.spot,
        capacity=_capacity(group), capacity_provenance=est.provenance, autoscaling=None,
        monthly_cost_usd=round(monthly, 6), cost_per_million_requests_usd=round(_per_million(monthly, requests_month), 6),
        cost_items=cost_items(option.price, hours),
        simulation=Simulation(minutes=index.n, violation_minutes=0.0, peak_instances=n_inst, mean_instances=float(n_inst),
                              utilisation=round(float(index.d.mean() / (n_inst * group.cap)), 4),
                              hourly_instances=[float(n_inst)] * h,
                              hourly_cost_usd=[round(n_inst * option.price.unit_usd_per_instance_hour + fixed_per_hour, 6)] * h,
                              billed_instance_hours=hours),
        why_not=f"static: {n_inst} instances around the clock, enough for the peak minute ({index.d.max():.1f} {group.unit}) at {group.cap:.1f} {group.unit} each",
    )
