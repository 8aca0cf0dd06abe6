"""Turn a plan (plan.json) into a :class:`CostReport`: lines exact in cents and to 1e-6 USD, subtotals, baselines, provenance."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from toolkit.artifacts.plan import Candidate, CostItem, PlanFile
from toolkit.errors import ArtifactError, InfeasibleError
from toolkit.report.model import (
    BaselineRow,
    CostLine,
    CostReport,
    Figure,
    Hourly,
    PriceRow,
    Share,
)
from toolkit.report.money import (
    CENT,
    MICRO,
    allocate,
    dec,
    fmt_money,
    fmt_per_million,
    micros_to_cents,
    micros_to_usd,
    to_cents,
    to_micros,
    usd6,
)
from toolkit.report.prices import all_prices, others_note, price_tables, stale_warning
from toolkit.report.buying import purchase_view
from toolkit.report.savings_plan import savings_plan_view
from toolkit.report.tokens import token_view
from toolkit.report.words import saving_note, scaling_in_words, trigger_in_words

MONTH_DAYS = 30

BASELINES = {
    "static_peak": ("Static peak", "Fixed fleet sized for the peak rate on the cheapest feasible instance type, no autoscaling."),
    "single_gpu_default": ("Single-GPU default", "ml.g5.xlarge with AWS's default target-tracking autoscaling."),
}


def build_report(plan: PlanFile, *, source: str = "plan.json", today: date | None = None) -> CostReport:
    """Build the report of ``plan``; ``source`` names the file in error messages, ``today`` judges whether prices are stale."""
    from toolkit.pricing.catalog import stale_after_days

    chosen = plan.chosen
    if chosen is None:
        raise InfeasibleError(
            f"{source}: the plan chose no configuration (no candidate met the SLA and budget), so there is no cost to report",
            hint="see the nearest misses with `leanserve plan`, relax the SLA or budget, and plan again",
        )
    today = today or datetime.now(timezone.utc).date()
    limit = stale_after_days()
    total_micros = _headline_micros(chosen, source)
    total_cents = micros_to_cents(total_micros)
    lines = _lines(chosen, total_micros, total_cents)
    start = _plan_date(plan.created_at)
    prices, other_prices = price_tables(plan, chosen, today, limit)
    ends = chosen.cost_band_ends()
    prov = chosen.capacity_provenance
    configuration = describe_candidate(chosen)
    hourly = _hourly(chosen)
    report = CostReport(
        generated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        plan_name=plan.name,
        plan_created_at=plan.created_at,
        plan_spec_sha256=plan.spec_sha256,
        plan_tool_version=plan.tool_version,
        period_start=start.isoformat(),
        period_end=(start + timedelta(days=MONTH_DAYS)).isoformat(),
        configuration=configuration,
        monthly_cost_cents=total_cents,
        monthly_cost_usd=micros_to_usd(total_micros),
        cost_range_cents=[to_cents(e.monthly_cost_usd) for e in ends] if ends else None,
        cost_range_usd=[usd6(e.monthly_cost_usd) for e in ends] if ends else None,
        capacity_uncertainty=prov.uncertainty if prov is not None and prov.source == "estimated" else None,
        cost_per_million_requests_cents=to_cents(chosen.cost_per_million_requests_usd),
        cost_per_million_requests_usd=usd6(chosen.cost_per_million_requests_usd),
        scaling=scaling_in_words(chosen),
        lines=lines,
        by_resource=_shares(lines, total_cents, lambda l: l.resource),
        by_component=_shares(lines, total_cents, lambda l: l.component),
        hourly=hourly,
        baselines=_baselines(plan, chosen, total_micros),
        sla=plan.sla,
        traffic=plan.traffic,
        savings_plan=savings_plan_view(chosen, lines, all_prices(plan), total_cents),
        purchase=purchase_view(chosen, total_micros, today, limit),
        tokens=token_view(plan, chosen, lines, total_micros, hourly.hour_of_day_instances),
        prices=prices,
        other_prices=other_prices,
        stale_after_days=limit,
        figures=_figures(plan, chosen, len(prices)),
        assumptions=list(plan.assumptions),
        tags=dict(plan.tags),
        warnings=_warnings(plan, chosen, prices, limit, start.isoformat()),
        notes=[n for n in [others_note(other_prices, limit)] if n],
    )
    return report


# --- the bill -------------------------------------------------------------------------------------


def _headline_micros(chosen: Candidate, source: str) -> int:
    """The monthly figure in micro-dollars, after checking that the cost items add up to it."""
    total = dec(chosen.monthly_cost_usd)
    items = chosen.cost_items
    if not items:
        if total == 0:
            return 0
        raise ArtifactError(
            f"{source}: the chosen configuration costs {fmt_money(chosen.monthly_cost_usd)} a month but lists no cost items",
            hint="the plan file is incomplete; rerun `leanserve plan` with this leanserve version",
        )
    summed = sum((dec(i.cost_usd) for i in items), Decimal(0))
    # Items rounded to the cent one by one may drift from the total by half a cent each.
    tolerance = Decimal("0.005") * (len(items) + 1)
    if abs(summed - total) > tolerance:
        raise ArtifactError(
            f"{source}: the chosen configuration's cost items sum to {fmt_money(summed)} but its monthly cost is {fmt_money(total)}",
            hint="the plan file is inconsistent; rerun `leanserve plan`",
        )
    return to_micros(total)


def service_for(item: CostItem, platform: str) -> str:
    """The AWS service code a cost is billed under (what finance tools group by)."""
    first = (item.price.sku.split() or [""])[0].lower() if item.price else ""
    for prefix, code in (("sagemaker", "AmazonSageMaker"), ("ec2", "AmazonEC2"), ("ebs", "AmazonEC2"), ("eks", "AmazonEKS"),
                         ("elb", "AWSELB"), ("s3", "AmazonS3"), ("ecr", "AmazonECR"), ("cloudwatch", "AmazonCloudWatch")):
        if first.startswith(prefix):
            return code
    return "AmazonSageMaker" if platform.startswith("sagemaker") else "AmazonEC2"


def _lines(chosen: Candidate, total_micros: int, total_cents: int) -> list[CostLine]:
    """Each item in both grains: 1e-6 rows summing to the 1e-6 total, cent rows (from those) summing to the headline."""
    items = chosen.cost_items
    micros = allocate([i.cost_usd for i in items], total_micros, MICRO)
    cents = allocate([Decimal(m) * MICRO for m in micros], total_cents, CENT)
    return [
        CostLine(
            service=service_for(i, chosen.platform),
            resource=i.resource,
            component=i.component,
            usage_quantity=i.usage_quantity,
            unit=i.unit,
            unit_price_usd=i.unit_price_usd,
            cost_cents=c,
            cost_usd=micros_to_usd(m),
            price_sku=i.price.sku if i.price else None,
        )
        for i, m, c in zip(items, micros, cents)
    ]


def _shares(lines: list[CostLine], total_cents: int, key) -> list[Share]:
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for line in lines:
        sums[key(line)][0] += line.cost_cents
        sums[key(line)][1] += to_micros(line.cost_usd)
    ordered = sorted(sums.items(), key=lambda kv: (-kv[1][0], kv[0]))
    return [Share(name=k, cost_cents=c, cost_usd=micros_to_usd(m), share=(c / total_cents if total_cents else 0.0))
            for k, (c, m) in ordered]


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
    if c.serverless is None:
        out["Scaling"] = scaling_in_words(c)
        trigger = trigger_in_words(c)
        if trigger:
            out["Scaling trigger"] = trigger
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


def _baselines(plan: PlanFile, chosen: Candidate, total_micros: int) -> list[BaselineRow]:
    meets = lambda v: bool(plan.sla.allows(v))  # noqa: E731
    total_cents = micros_to_cents(total_micros)
    allowance = plan.sla.max_violation_minutes_per_month
    rows = [
        BaselineRow(
            key="plan", label="This plan", description="The cheapest configuration found that meets the SLA.", available=True,
            configuration=_short_config(chosen), monthly_cost_cents=total_cents, monthly_cost_usd=micros_to_usd(total_micros),
            savings_cents=0, savings_usd=0.0, savings_fraction=0.0,
            violation_minutes=chosen.simulation.violation_minutes, meets_sla=meets(chosen.simulation.violation_minutes),
        )
    ]
    for key, (label, description) in BASELINES.items():
        b: Candidate | None = getattr(plan.baselines, key)
        if b is None:
            rows.append(BaselineRow(key=key, label=label, description=description + " (not in this plan)", available=False))
            continue
        micros = to_micros(b.monthly_cost_usd)
        cents = micros_to_cents(micros)
        config, ok = _short_config(b), meets(b.simulation.violation_minutes)
        rows.append(
            BaselineRow(
                key=key, label=label, description=description, available=True, configuration=config,
                monthly_cost_cents=cents, monthly_cost_usd=micros_to_usd(micros),
                savings_cents=cents - total_cents, savings_usd=micros_to_usd(micros - total_micros),
                savings_fraction=((cents - total_cents) / cents) if cents else None,
                violation_minutes=b.simulation.violation_minutes, meets_sla=ok,
                note=saving_note(label, config, cents - total_cents, ok, chosen, plan.sla.min_instances,
                                 b.simulation.violation_minutes, allowance),
            )
        )
    return rows


# --- prices, provenance, warnings -------------------------------------------------------------------


def _plan_date(created_at: str) -> date:
    try:
        return datetime.fromisoformat(created_at.replace("Z", "+00:00")).date()
    except ValueError:
        return datetime.now(timezone.utc).date()


def _figures(plan: PlanFile, c: Candidate, n_prices: int) -> list[Figure]:
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
                    f"would cost {fmt_money(lo.monthly_cost_usd)}–{fmt_money(hi.monthly_cost_usd)} a month")
    out.append(Figure(figure="Monthly cost", value=fmt_money(c.monthly_cost_usd), provenance="estimated",
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
    out.append(Figure(figure="Prices", value=f"{n_prices} list prices", provenance="list price",
                      detail="the on-demand list prices this bill uses, from the price catalog; see the price table for sources, "
                             "dates and confidence"))
    return out


def _warnings(plan: PlanFile, c: Candidate, prices: list[PriceRow], limit: int, plan_day: str) -> list[str]:
    """Banners: only about the bill (a stale baseline price is a note, not a warning)."""
    out = []
    stale = stale_warning(prices, limit, plan_day)
    if stale:
        out.append(stale)
    low = [p.sku for p in prices if p.confidence == "low"]
    if low:
        out.append(f"Low-confidence prices (credible sources disagree): {', '.join(low)}.")
    if not plan.feasible or not c.feasible:
        out.append("The plan is marked infeasible: the configuration shown misses a constraint" + (f" ({c.why_not})." if c.why_not else "."))
    allowance = plan.sla.max_violation_minutes_per_month
    if not plan.sla.allows(c.simulation.violation_minutes):
        out.append(f"Simulated SLA-violation minutes ({c.simulation.violation_minutes:g}/month) exceed the allowance ({allowance:g}).")
    return out
