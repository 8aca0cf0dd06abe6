"""How the plan's capacity is bought: spot above the availability floor (interruptions simulated) and the
Savings Plans commitment that minimises the month, with its downside if traffic falls.

The optimisation itself lives in :mod:`toolkit.planner.purchase` (pure functions); this module feeds it
the simulated paths of the search's lanes and turns the results into plan.json records.

Spot: a spot configuration keeps ``sla.min_instances`` nodes on demand and puts the rest on spot. After
the search, each spot configuration's winning lane is replayed with interruptions drawn from the
instance's Spot Instance Advisor band (seeded); an interrupted node's capacity is missing until its
replacement serves. The violation minutes this adds count against the allowance like any other; when
they break it, the group's next-cheapest lane is tried, and the configuration is dropped when none holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from toolkit.planner import costs as C
from toolkit.planner.measure import dense_paths, in_service

PURCHASE_OPTIONS = ("on-demand", "savings-plan", "spot")
SPOT_NOTICE_MIN = 2  # EC2 gives a two-minute interruption notice; a replacement node is requested then
SPOT_FALLBACK_PROBABILITY = 0.1  # estimate: share of replacements that find no spot capacity and start on demand
SPOT_LANES_TRIED = 12
DOWNSIDE = (0.3, 0.6)  # traffic this much lower than the spec says, re-simulated with the same policy


@dataclass
class SpotResult:
    lane: int
    band: object  # toolkit.pricing.commitments.InterruptionBand
    replacement_delay_min: int
    interruptions: int
    fallback_instance_hours: float  # per 30-day month
    extra_usd: float  # fallback nodes billed on demand instead of spot, per month
    violation_minutes: float  # per 30-day month, target tracking and interruptions together
    spot_instance_hours: float  # per 30-day month, above the floor
    seed: int


def _lane_path(evaluator, index, lane: int):
    b, row = evaluator.where[lane]
    lanes, log = evaluator.batches[b]
    billed = dense_paths(log, [row])[0]
    return billed, in_service(billed[None, :], lanes.startup[[row]])[0], float(lanes.cap[row])


def check_spot(ledger, evaluator, index, mf: float, sla, catalog, seed: int = 0) -> tuple[dict[int, SpotResult], list[str]]:
    """Replay every feasible spot configuration with interruptions; reprice or drop it. Returns results by config."""
    from toolkit.planner.purchase import simulate_spot
    from toolkit.pricing import PriceNotFound

    out: dict[int, SpotResult] = {}
    notes: list[str] = []
    space = ledger.space
    for c in ledger.configs:
        if c.kind != "instance" or not c.spot or not ledger.feasible[c.index]:
            continue
        g = space.groups[c.gid]
        opt = g.options[int(ledger.region_choice[c.index])]
        try:
            band = catalog.interruption_rate(g.instance.name, opt.region)
        except PriceNotFound as exc:
            ledger.feasible[c.index] = False
            notes.append(f"spot {g.instance.name} in {opt.region} is not planned: {exc.message}")
            continue
        od = opt.price.on_demand_quote.usd
        spot_rate = opt.price.hourly_quote.usd
        delay = max(1, g.dynamics.startup_min - SPOT_NOTICE_MIN)
        lanes = np.arange(c.gid * space.G, (c.gid + 1) * space.G)
        done = lanes[ledger.billed[lanes] >= 0]
        ok = done[sla.allows(ledger.viol[done] * mf)]
        order = ok[np.lexsort((ok, ledger.billed[ok]))][:SPOT_LANES_TRIED]
        best = None
        for lane in order.tolist():
            billed, nsv, cap = _lane_path(evaluator, index, lane)
            if not (billed > sla.min_instances).any():
                break  # the fleet never leaves the floor: nothing to put on spot
            sim = simulate_spot(nsv, sla.min_instances, interruptions_per_instance_hour=band.per_instance_hour, replacement_delay_min=delay,
                                spot_rate=spot_rate, on_demand_rate=od, fallback_probability=SPOT_FALLBACK_PROBABILITY, seed=seed)
            viol = float(np.count_nonzero(index.d > sim.in_service * cap + 1e-9)) * mf
            if not sla.allows(viol):
                continue
            fb_hours = float(sim.fallback_in_service.sum()) / 60.0 * mf
            hours = float(ledger.billed[lane]) / 60.0 * mf
            cost = opt.price.monthly(hours) + fb_hours * (od - spot_rate)
            best = SpotResult(int(lane), band, delay, int(sim.interruptions), round(fb_hours, 3), fb_hours * (od - spot_rate), round(viol, 3),
                              round(hours - sla.min_instances * C.MONTH_MINUTES / 60.0, 3), seed)
            ledger.cost[c.index] = cost
            break
        if best is None:
            ledger.feasible[c.index] = False
            continue
        out[c.index] = best
    return out, notes


def commitment(out, index, mf: float, catalog, space, evaluator_lane: int | None) -> dict | None:
    """The cost-minimising Savings Plans commitment for an instance outcome, or a note on why there is none."""
    from toolkit.planner.purchase import choose_commitment
    from toolkit.pricing import PriceNotFound
    from toolkit.pricing.commitments import PAYMENTS, TERMS

    g, opt = out.group, out.option
    od_rate = opt.price.on_demand_quote.usd if opt.spot else opt.price.hourly_quote.usd
    billed = dense_paths(out.log, [out.row])[0]
    h = billed.size // 60
    if not h:
        return None
    hourly = billed[: h * 60].reshape(h, 60).mean(axis=1)
    if opt.spot:  # only the on-demand floor can be committed
        hourly = np.minimum(hourly, space.m0)
    best, missing = None, []
    for term in TERMS:
        for payment in PAYMENTS:
            try:
                q = catalog.savings_plan_rate(g.instance.name, opt.region, term, payment)
            except PriceNotFound as exc:
                missing.append(exc.message)
                continue
            ch = choose_commitment(hourly, od_rate, q.price.usd)
            if ch.commitment_usd_per_hour <= 0:
                continue
            month = ch.month.cost * mf
            if best is None or month < best[0]:
                best = (month, ch, q)
    if best is None:
        return {"note": missing[0] if missing else "no Savings Plans rate is below the on-demand rate"}
    month, ch, q = best
    downside = []
    for fall in DOWNSIDE:
        path = _resimulated_hourly(out, index, 1.0 - fall)
        if opt.spot:
            path = np.minimum(path, space.m0)
        cost = ch.reprice(path)
        downside.append({"traffic_change_pct": -round(fall * 100), "on_demand_usd": round(cost.on_demand_cost * mf, 2),
                         "committed_usd": round(cost.cost * mf, 2), "unused_commitment_usd": round(cost.unused_commitment * mf, 2)})
    return {"plan": q.plan, "term": q.term, "payment": q.payment, "commitment_usd_per_hour": round(ch.commitment_usd_per_hour, 4),
            "committed_instances": round(ch.committed_instances, 3), "discount": round(ch.discount, 4),
            "break_even_utilisation": round(ch.break_even_utilisation, 4), "monthly_usd": round(month, 2),
            "saving_usd": round(ch.monthly_saving * mf, 2), "upfront_usd": round(q.upfront_usd(ch.commitment_usd_per_hour), 2),
            "rate": q.price.ref(f"savings-plan {q.plan} {q.term} {q.payment} {g.instance.name} {opt.region}"), "downside": downside}


def _resimulated_hourly(out, index, factor: float) -> np.ndarray:
    """Hourly billed instances of the same policy on the traffic scaled by ``factor``."""
    from toolkit.planner.simulate import TraceIndex, run_events

    lanes = _one_lane(out.lanes, out.row)
    log = run_events(TraceIndex(index.d * factor), lanes)
    billed = dense_paths(log, [0])[0]
    h = billed.size // 60
    return billed[: h * 60].reshape(h, 60).mean(axis=1)


def _one_lane(lanes, row: int):
    from dataclasses import fields, replace

    pick = {f.name: getattr(lanes, f.name)[[row]] for f in fields(lanes) if isinstance(getattr(lanes, f.name), np.ndarray)}
    return replace(lanes, **pick)


def apply_spot(cand, out, res: SpotResult):
    """A spot candidate's bill and violations with interruptions: fallback nodes on demand, minutes short counted."""
    from toolkit.artifacts.plan import CostItem

    if res.fallback_instance_hours > 0:
        od = out.option.price.on_demand_quote
        spot = out.option.price.hourly_quote.usd
        item = CostItem(resource=f"nodegroup/{cand.variant}", component="instances", usage_quantity=res.fallback_instance_hours,
                        unit="instance-hour", unit_price_usd=round(od.usd - spot, 6), cost_usd=round(res.extra_usd, 6),
                        price=od.ref(f"ec2 {out.group.instance.name} {out.option.region} on-demand fallback (premium over spot)"))
        cand.cost_items = [*cand.cost_items, item]
        cand.monthly_cost_usd = round(cand.monthly_cost_usd + res.extra_usd, 6)
    cand.simulation = cand.simulation.model_copy(update={"violation_minutes": res.violation_minutes})
    return cand


def purchase_section(cand, out, res: SpotResult | None, index, mf: float, catalog, space, allow_commitment: bool, sla):
    """The candidate's ``purchase`` record: as deployed, all on demand, spot use and the recommended commitment."""
    from toolkit.artifacts.plan import Commitment, Purchase, SpotUse

    hours = out.billed / 60.0 * mf
    if out.option.spot:
        od_option = next((o for o in out.group.options if o.region == out.option.region and not o.spot), None)
        on_demand = od_option.price.monthly(hours) if od_option else cand.monthly_cost_usd
    else:
        on_demand = cand.monthly_cost_usd
    notes: list[str] = []
    spot = None
    if res is not None:
        b = res.band
        spot = SpotUse(floor_instances=sla.min_instances, spot_instance_hours=res.spot_instance_hours,
                       fallback_instance_hours=res.fallback_instance_hours, interruption_band=b.label,
                       interruptions_per_instance_hour=round(b.per_instance_hour, 6), replacement_delay_min=res.replacement_delay_min,
                       interruptions=res.interruptions, violation_minutes=res.violation_minutes, seed=res.seed,
                       source=f"{b.row_source} ({b.as_of}; {b.basis})")
    committed = None
    if allow_commitment:
        c = commitment(out, index, mf, catalog, space, None)
        if c is not None and "note" in c:
            notes.append(f"Savings Plans: {c['note']}; on-demand kept")
        elif c is not None:
            committed = Commitment(**c)
    else:
        notes.append("Savings Plans left out (--purchase)")
    return Purchase(deployed_usd=round(cand.monthly_cost_usd, 2), on_demand_usd=round(on_demand, 2), committed=committed, spot=spot, notes=notes)
