"""What a plan assumes, which of its numbers are estimates (and how uncertain), and what was left out."""

from __future__ import annotations

from collections import defaultdict

from toolkit.artifacts.plan import ExcludedGroup
from toolkit.planner import costs as C
from toolkit.planner import serverless as SL
from toolkit.platforms import instance_platforms, platform_for
from toolkit.report.money import fmt_money


def price_refs(plan) -> list:
    """Every price the plan's figures use (chosen, runners-up, misses, baselines), once each. Each carries the age the catalog
    computed at plan time; ``plan --explain`` and the report both show that age (see toolkit.report.prices)."""
    seen: dict[tuple, object] = {}
    cands = [plan.chosen] + list(plan.runners_up) + list(plan.nearest_misses) + [plan.baselines.static_peak, plan.baselines.single_gpu_default]
    for c in cands:
        if c is None:
            continue
        for item in c.cost_items:
            if item.price is not None:
                seen.setdefault((item.price.sku, item.price.unit, item.price.usd), item.price)
    return sorted(seen.values(), key=lambda r: (-r.age_days, r.sku))


def _lengths_used(cset, spec) -> str:
    """Which request lengths the capacity estimates assumed, as the performance model says it."""
    said = next((g.capacity.lengths for g in cset.groups if getattr(g.capacity, "lengths", "")), "")
    return said or f"requests of {spec.model.max_sequence_length} tokens (the spec's maximum: conservative for shorter text)"


def assumptions(spec, catalog, cset, index, gpu_note: str, warnings: list[str]) -> list[str]:
    fam = cset.family
    out = [
        f"Traffic: {index.n:,} minutes at 1-minute resolution; costs and violation minutes are scaled to a 30-day month.",
        fam.capacity_assumption(spec) if hasattr(fam, "capacity_assumption") else  # families with their own capacity rule (LLMs)
        f"Capacity per instance: the highest rate, never above saturation, at which {spec.sla.percentile} <= "
        f"{spec.sla.latency_ms:g} ms holds for {_lengths_used(cset, spec)}.",
        "SLA violation: a minute whose demand exceeds in-service instances x capacity at the SLA rate.",
        *[p.scaling_assumption() for p in instance_platforms()],
        f"Availability: at least {spec.sla.availability.min_instances} instance(s)"
        + (" spread across zones" if spec.sla.availability.spread_across_zones else "")
        + "; SageMaker Serverless is taken to meet this by itself (AWS runs it across zones).",
        f"SageMaker data processing: {fam.request_kb:g} KB in + {fam.response_kb:g} KB out per request; "
        f"an ML storage volume of {C.SAGEMAKER_VOLUME_GB:g} GB per instance without local NVMe.",
        f"Serverless: {SL.GB_PER_VCPU} GB of memory per vCPU, {SL.OVERHEAD_MS:g} ms invocation overhead, containers kept warm "
        f"{SL.KEEP_WARM_MIN} min, cold start 5 s + model size at 100 MB/s; max concurrency chosen with 50% headroom over the busiest minute.",
        "Spot nodes (when allowed) are priced at the lowest spot price seen; interruptions are not simulated.",
        "Savings Plans, reserved capacity and the free tier are not applied.",
        tie_break_assumption(),
    ]
    if spec.targets.allow_spot is False and any(platform_for(p).supports_spot for p in spec.targets.platforms):
        out.append("Spot capacity is not allowed by the spec (targets.allow_spot: false).")
    out.append(f"Prices: {catalog.source_note}")
    out += [f"Note: {n}" for n in cset.notes]
    if gpu_note:
        out.append(f"Baseline single-GPU default: {gpu_note}.")
    out += [f"Warning: {w}" for w in warnings]
    return out


def tie_break_assumption() -> str:
    from toolkit.planner.search import TIE_BREAK

    return (f"Ranking: the lowest {TIE_BREAK[0]} first; configurations equal in that and in {TIE_BREAK[1]} are ranked by "
            + ", then ".join(TIE_BREAK[2:]) + " (lower first), so equally priced variants do not swap with measurement noise.")


def tie_reason(ledger, ci: int, chosen_ci: int, family) -> str:
    """Why configuration ``ci`` ranks after the chosen one although they tie on cost and violation minutes."""
    a, b = ledger.rank_keys([ci]), ledger.rank_keys([chosen_ci])
    head = "same monthly cost as the chosen (to the cent) and the same violation minutes; ranked after it by "
    if a[2][0] != b[2][0]:
        va, vb = ledger._variant(ledger.configs[ci]), ledger._variant(ledger.configs[chosen_ci])
        return head + f"quality: {_quality_text(va, family)} is further from the reference than {_quality_text(vb, family)}"
    if a[3][0] != b[3][0]:
        hours = lambda i: ledger.config_billed[i] / 60 * ledger.month_factor  # noqa: E731
        return head + f"instances: {hours(ci):,.0f} instance-hours a month vs {hours(chosen_ci):,.0f}"
    return head + f"name: '{ledger.config_name(ci)}' after '{ledger.config_name(chosen_ci)}'"


def _quality_text(variant, family) -> str:
    fields = [f for f in tuple(getattr(family, "quality_fields", ())) + ("accuracy_drop_points",) if getattr(variant.quality, f, None) is not None]
    shown = ", ".join(f"{f.replace('_', ' ')} {getattr(variant.quality, f):g}" for f in fields) or "quality not measured"
    return f"{variant.name} ({shown})"


def estimates(plan, cset) -> list[str]:
    """Which of the chosen configuration's numbers are estimates and how uncertain they are."""
    c = plan.chosen
    out: list[str] = []
    if c is None:
        out.append("No configuration was feasible; the nearest misses' figures carry the same estimates as candidates would.")
        return out
    prov = c.capacity_provenance
    unit = c.capacity.unit if c.capacity else "req/s"
    if prov is not None and prov.source == "measured":
        out.append(f"Capacity per instance {c.capacity.value if c.capacity else 0:g} {unit}: measured ({prov.where}).")
    elif prov is not None:
        what = "Capacity per instance" if c.capacity is not None else "Serverless latency and service time"
        band = f" (band {c.capacity_band[0]:g}-{c.capacity_band[1]:g} {unit})" if c.capacity_band else ""
        val = f" {c.capacity.value:g} {unit}" if c.capacity is not None else ""
        out.append(f"{what}{val}: estimated by {prov.model}, +/-{prov.uncertainty:.0%}{band}.")
    s = c.sensitivity
    if s is not None and s.capacity is not None and s.violation_minutes is not None:
        verdict = "still meets" if s.meets_sla else "would miss"
        out.append(f"At the low end of that band ({s.capacity:g} {unit}) the same policy gives "
                   f"{s.violation_minutes:g} violation minutes a month: it {verdict} the allowance of "
                   f"{plan.sla.max_violation_minutes_per_month:g}.")
        ends = c.cost_band_ends()
        if ends:
            lo, hi = ends
            out.append(f"Re-searching the policy at each end of the band, the cheapest one that meets the SLA costs "
                       f"{fmt_money(lo.monthly_cost_usd)} (at {lo.capacity:g} {unit}, max {lo.max_capacity} instances) to "
                       f"{fmt_money(hi.monthly_cost_usd)} (at {hi.capacity:g} {unit}, max {hi.max_capacity} instances) a month.")
    out.append("Violation minutes, instance counts and instance-hours: simulated (a model of target tracking, see assumptions), "
               "exact for the traffic given; real traffic differs.")
    est_items = sorted({i.price.sku for i in c.cost_items if i.price is not None and i.price.source.startswith("estimate")})
    if est_items:
        out.append(f"Prices without a catalog row (list-price estimates): {', '.join(est_items)}.")
    low = sorted({i.price.sku for i in c.cost_items if i.price is not None and i.price.confidence == "low"})
    if low:
        out.append(f"Low-confidence prices: {', '.join(low)}.")
    from toolkit.pricing.catalog import stale_after_days

    limit = stale_after_days()
    stale = [p for p in plan.prices if p.age_days > limit]
    if stale:
        oldest = max(stale, key=lambda p: p.age_days)
        out.append(f"{len(stale)} price(s) are older than {limit} days (oldest: {oldest.sku}, {oldest.age_days:.0f} days); "
                   "refresh with `leanserve prices refresh`.")
    if any(i.component == "data-processed" for i in c.cost_items):
        out.append("Data processed: estimated from request and response sizes (see assumptions).")
    return out


def excluded_summary(excluded, limit: int = 40) -> list[ExcludedGroup]:
    """Exclusions grouped by variant, platform and kind of reason, with a count and an example."""
    groups: dict[tuple, list] = defaultdict(list)
    for x in excluded:
        groups[(x.variant, x.platform, x.kind)].append(x)
    out = []
    for (variant, platform, kind), xs in sorted(groups.items()):
        out.append(ExcludedGroup(variant=variant, platform=platform, kind=kind, count=len(xs),
                                 example=f"{xs[0].instance_type}: {xs[0].reason}",
                                 instance_types=sorted({x.instance_type for x in xs if x.instance_type})[:12]))
    return out[:limit]
