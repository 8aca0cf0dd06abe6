"""Turn a plan (plan.json) into a :class:`CostReport`: cents-exact lines, subtotals, baselines, provenance."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from toolkit.artifacts.plan import Candidate, CostItem, PlanFile, PriceRef
from toolkit.errors import ArtifactError, InfeasibleError
from toolkit.report.model import (
    STALE_PRICE_DAYS,
    BaselineRow,
    CostLine,
    CostReport,
    Figure,
    Hourly,
    PriceRow,
    Share,
)
from toolkit.report.money import allocate_cents, dec, fmt_per_million, fmt_usd, to_cents
from toolkit.report.savings_plan import savings_plan_view

MONTH_DAYS = 30

BASELINES = {
    "static_peak": ("Static peak", "Fixed fleet sized for the peak rate on the cheapest feasible instance type, no autoscaling."),
    "single_gpu_default": ("Single-GPU default", "ml.g5.xlarge with AWS's default target-tracking autoscaling."),
}


def build_report(plan: PlanFile, *, source: str = "plan.json", today: date | None = None) -> CostReport:
    """Build the report of ``plan``; ``source`` names the file in error messages, ``today`` dates price ages."""
    chosen = plan.chosen
    if chosen is None:
        raise InfeasibleError(
            f"{source}: the plan chose no configuration (no candidate met the SLA and budget), so there is no cost to report",
            hint="see the nearest misses with `leanserve plan`, relax the SLA or budget, and plan again",
        )
    today = today or datetime.now(timezone.utc).date()
    total_cents = _headline_cents(chosen, source)
    lines = _lines(chosen, total_cents)
    start = _plan_date(plan.created_at)
    prices = _price_rows(plan, today)
    figures = _figures(plan, chosen)
    ends = chosen.cost_band_ends()
    report = CostReport(
        generated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        plan_name=plan.name,
        plan_created_at=plan.created_at,
        plan_spec_sha256=plan.spec_sha256,
        plan_tool_version=plan.tool_version,
        period_start=start.isoformat(),
        period_end=(start + timedelta(days=MONTH_DAYS)).isoformat(),
        configuration=describe_candidate(chosen),
        monthly_cost_cents=total_cents,
        cost_range_cents=[to_cents(e.monthly_cost_usd) for e in ends] if ends else None,
        cost_per_million_requests_usd=chosen.cost_per_million_requests_usd,
        lines=lines,
        by_resource=_shares(lines, total_cents, lambda l: l.resource),
        by_component=_shares(lines, total_cents, lambda l: l.component),
        hourly=_hourly(chosen),
        baselines=_baselines(plan, chosen, total_cents),
        sla=plan.sla,
        traffic=plan.traffic,
        savings_plan=savings_plan_view(chosen, lines, _all_prices(plan), total_cents),
        prices=prices,
        figures=figures,
        assumptions=list(plan.assumptions),
        tags=dict(plan.tags),
        warnings=_warnings(plan, chosen, prices),
    )
    return report


# --- the bill -------------------------------------------------------------------------------------


def _headline_cents(chosen: Candidate, source: str) -> int:
    """The monthly figure in cents, after checking that the cost items add up to it."""
    total = dec(chosen.monthly_cost_usd)
    items = chosen.cost_items
    if not items:
        if total == 0:
            return 0
        raise ArtifactError(
            f"{source}: the chosen configuration costs ${chosen.monthly_cost_usd:,.2f} a month but lists no cost items",
            hint="the plan file is incomplete; rerun `leanserve plan` with this leanserve version",
        )
    summed = sum((dec(i.cost_usd) for i in items), Decimal(0))
    # Items rounded to the cent one by one may drift from the total by half a cent each.
    tolerance = Decimal("0.005") * (len(items) + 1)
    if abs(summed - total) > tolerance:
        raise ArtifactError(
            f"{source}: the chosen configuration's cost items sum to ${summed:,.2f} but its monthly cost is ${total:,.2f}",
            hint="the plan file is inconsistent; rerun `leanserve plan`",
        )
    return to_cents(total)


def service_for(item: CostItem, platform: str) -> str:
    """The AWS service code a cost is billed under (what finance tools group by)."""
    first = (item.price.sku.split() or [""])[0].lower() if item.price else ""
    for prefix, code in (("sagemaker", "AmazonSageMaker"), ("ec2", "AmazonEC2"), ("ebs", "AmazonEC2"), ("eks", "AmazonEKS"),
                         ("elb", "AWSELB"), ("s3", "AmazonS3"), ("ecr", "AmazonECR"), ("cloudwatch", "AmazonCloudWatch")):
        if first.startswith(prefix):
            return code
    return "AmazonSageMaker" if platform.startswith("sagemaker") else "AmazonEC2"


def _lines(chosen: Candidate, total_cents: int) -> list[CostLine]:
    items = chosen.cost_items
    cents = allocate_cents([i.cost_usd for i in items], total_cents)
    return [
        CostLine(
            service=service_for(i, chosen.platform),
            resource=i.resource,
            component=i.component,
            usage_quantity=i.usage_quantity,
            unit=i.unit,
            unit_price_usd=i.unit_price_usd,
            cost_cents=c,
            price_sku=i.price.sku if i.price else None,
        )
        for i, c in zip(items, cents)
    ]


def _shares(lines: list[CostLine], total_cents: int, key) -> list[Share]:
    sums: dict[str, int] = defaultdict(int)
    for line in lines:
        sums[key(line)] += line.cost_cents
    ordered = sorted(sums.items(), key=lambda kv: (-kv[1], kv[0]))
    return [Share(name=k, cost_cents=v, share=(v / total_cents if total_cents else 0.0)) for k, v in ordered]


def describe_candidate(c: Candidate) -> dict[str, str]:
    """The configuration as label -> value, for tables."""
    out = {"Platform": c.platform, "Region": c.region, "Model variant": c.variant}
    if c.instance_type:
        out["Instance type"] = c.instance_type + (" (spot)" if c.spot else "")
    if c.serverless:
        s = c.serverless
        out["Serverless"] = f"{s.memory_mb} MB, max concurrency {s.max_concurrency}" + (
            f", provisioned {s.provisioned_concurrency}" if s.provisioned_concurrency else ""
        )
    if c.autoscaling:
        a = c.autoscaling
        out["Autoscaling"] = f"{a.min_capacity}–{a.max_capacity} instances, target {a.target_value:g} {a.metric} (safety factor {a.safety_factor:g})"
        if a.scheduled:
            out["Scheduled actions"] = "; ".join(f"{s.name}: {s.schedule} → {s.min_capacity}–{s.max_capacity}" for s in a.scheduled)
    if c.capacity is not None:
        out["Capacity per instance"] = f"{c.capacity.value:g} {c.capacity.unit} at the SLA percentile"
    return out


def _short_config(c: Candidate) -> str:
    if c.serverless:
        return f"{c.platform}, {c.serverless.memory_mb} MB"
    parts = [c.instance_type or c.platform]
    if c.autoscaling:
        a = c.autoscaling
        parts.append(f"{a.min_capacity}–{a.max_capacity} instances" if a.min_capacity != a.max_capacity else f"{a.min_capacity} instances")
    else:
        parts.append(f"{c.simulation.peak_instances} instances")
    return ", ".join(parts)


# --- the traffic pattern ----------------------------------------------------------------------------


def _hourly(c: Candidate) -> Hourly:
    inst = [float(x) for x in c.simulation.hourly_instances]
    cost = [round(float(x), 6) for x in c.simulation.hourly_cost_usd]
    h = Hourly(instances=inst, cost_usd=cost)
    if inst:
        h.peak_instances, h.min_instances, h.mean_instances = max(inst), min(inst), sum(inst) / len(inst)
        if len(inst) >= 24:
            h.hour_of_day_instances = [_mean(inst[k::24]) for k in range(24)]
    if len(cost) >= 24:
        h.hour_of_day_cost_usd = [_mean(cost[k::24]) for k in range(24)]
    return h


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else 0.0


# --- baselines ----------------------------------------------------------------------------------------


def _baselines(plan: PlanFile, chosen: Candidate, total_cents: int) -> list[BaselineRow]:
    meets = lambda v: bool(plan.sla.allows(v))  # noqa: E731
    rows = [
        BaselineRow(
            key="plan", label="This plan", description="The cheapest configuration found that meets the SLA.", available=True,
            configuration=_short_config(chosen), monthly_cost_cents=total_cents, savings_cents=0, savings_fraction=0.0,
            violation_minutes=chosen.simulation.violation_minutes, meets_sla=meets(chosen.simulation.violation_minutes),
        )
    ]
    for key, (label, description) in BASELINES.items():
        b: Candidate | None = getattr(plan.baselines, key)
        if b is None:
            rows.append(BaselineRow(key=key, label=label, description=description + " (not in this plan)", available=False))
            continue
        cents = to_cents(b.monthly_cost_usd)
        rows.append(
            BaselineRow(
                key=key, label=label, description=description, available=True, configuration=_short_config(b),
                monthly_cost_cents=cents, savings_cents=cents - total_cents,
                savings_fraction=((cents - total_cents) / cents) if cents else None,
                violation_minutes=b.simulation.violation_minutes, meets_sla=meets(b.simulation.violation_minutes),
            )
        )
    return rows


# --- prices, provenance, warnings -------------------------------------------------------------------


def _all_prices(plan: PlanFile) -> list[PriceRef]:
    """The plan's prices plus those on the chosen configuration's cost items, without repeats."""
    seen: dict[tuple, PriceRef] = {}
    refs = list(plan.prices) + [i.price for i in (plan.chosen.cost_items if plan.chosen else []) if i.price]
    for ref in refs:
        seen.setdefault((ref.sku, ref.unit, ref.usd), ref)
    return list(seen.values())


def _plan_date(created_at: str) -> date:
    try:
        return datetime.fromisoformat(created_at.replace("Z", "+00:00")).date()
    except ValueError:
        return datetime.now(timezone.utc).date()


def price_age_days(ref: PriceRef, today: date) -> float:
    """A price's age today: days since its ``as_of`` date, and never less than the age the plan recorded."""
    try:
        now_age = float((today - date.fromisoformat(ref.as_of[:10])).days)
    except ValueError:
        now_age = 0.0
    return max(float(ref.age_days), now_age)


def _price_rows(plan: PlanFile, today: date) -> list[PriceRow]:
    rows = []
    for ref in _all_prices(plan):
        age = price_age_days(ref, today)
        rows.append(PriceRow(sku=ref.sku, usd=ref.usd, unit=ref.unit, source=ref.source, as_of=ref.as_of,
                             age_days=age, confidence=ref.confidence, stale=age > STALE_PRICE_DAYS))
    return sorted(rows, key=lambda r: (-r.age_days, r.sku))


def _figures(plan: PlanFile, c: Candidate) -> list[Figure]:
    sim = c.simulation
    prov = c.capacity_provenance
    out: list[Figure] = []
    if c.capacity is not None:
        value = f"{c.capacity.value:g} {c.capacity.unit}"
        if prov is None:
            out.append(Figure(figure="Capacity per instance", value=value, provenance="estimated",
                              detail="the plan does not say how it was obtained; treat it as an estimate"))
        elif prov.source == "measured":
            out.append(Figure(figure="Capacity per instance", value=value, provenance="measured", detail=f"measured on {prov.where}"))
        else:
            out.append(Figure(figure="Capacity per instance", value=value, provenance="estimated",
                              detail=f"{prov.model}, ±{prov.uncertainty * 100:.0f}%"))
    band = ""
    ends = c.cost_band_ends()
    if prov is not None and prov.source == "estimated" and c.instance_type:
        band = f"; instance-hours scale roughly with 1/capacity, so the instance cost carries about the capacity band (±{prov.uncertainty * 100:.0f}%)"
        if ends:
            lo, hi = ends
            unit = c.capacity.unit if c.capacity else "req/s"
            band = (f"; with capacity at the ends of its band ({hi.capacity:g}–{lo.capacity:g} {unit} per "
                    f"instance, ±{prov.uncertainty * 100:.0f}%), the cheapest autoscaling policy that meets the SLA on this configuration "
                    f"would cost {fmt_usd(to_cents(lo.monthly_cost_usd))}–{fmt_usd(to_cents(hi.monthly_cost_usd))} a month")
    out.append(Figure(figure="Monthly cost", value=fmt_usd(to_cents(c.monthly_cost_usd)), provenance="estimated",
                      detail=f"list prices × usage from a minute-by-minute simulation over {sim.minutes:,} minutes of traffic, scaled to 30 days{band}"))
    out.append(Figure(figure="Cost per 1M requests", value=fmt_per_million(c.cost_per_million_requests_usd), provenance="estimated",
                      detail="monthly cost ÷ requests in the projected month"))
    out.append(Figure(figure="SLA-violation minutes", value=f"{sim.violation_minutes:g} per month", provenance="estimated",
                      detail="minutes with demand above in-service capacity in the simulation, scaled to 30 days"))
    if c.serverless is None:
        out.append(Figure(figure="Mean in-service instances", value=f"{sim.mean_instances:.2f} (peak {sim.peak_instances})", provenance="estimated",
                          detail=f"autoscaling simulation; utilisation {sim.utilisation * 100:.0f}% of SLA capacity"))
    if sim.cold_starts:
        out.append(Figure(figure="Cold starts", value=f"{sim.cold_starts:,} per month", provenance="estimated",
                          detail="requests that found no warm capacity in the simulation"))
    kind = plan.traffic.kind
    out.append(Figure(figure="Traffic", value=kind or "see the traffic table", provenance="input" if kind == "trace" else "estimated",
                      detail="a recorded trace" if kind == "trace" else "a modelled pattern from the spec: an assumption about future demand"))
    out.append(Figure(figure="Prices", value=f"{len(_all_prices(plan))} list prices", provenance="list price",
                      detail="on-demand list prices from the price catalog; see the price table for sources, dates and confidence"))
    return out


def _warnings(plan: PlanFile, c: Candidate, prices: list[PriceRow]) -> list[str]:
    out = []
    stale = [p for p in prices if p.stale]
    if stale:
        oldest = max(p.age_days for p in stale)
        out.append(
            f"{len(stale)} of {len(prices)} prices are older than {STALE_PRICE_DAYS} days (oldest {oldest:.0f} days: "
            f"{', '.join(p.sku for p in stale[:3])}{', …' if len(stale) > 3 else ''}). Refresh the price catalog "
            "(`leanserve prices --help`) and plan again before relying on these figures."
        )
    low = [p.sku for p in prices if p.confidence == "low"]
    if low:
        out.append(f"Low-confidence prices (credible sources disagree): {', '.join(low)}.")
    if not plan.feasible or not c.feasible:
        out.append("The plan is marked infeasible: the configuration shown misses a constraint" + (f" ({c.why_not})." if c.why_not else "."))
    allowance = plan.sla.max_violation_minutes_per_month
    if not plan.sla.allows(c.simulation.violation_minutes):
        out.append(f"Simulated SLA-violation minutes ({c.simulation.violation_minutes:g}/month) exceed the allowance ({allowance:g}).")
    return out
