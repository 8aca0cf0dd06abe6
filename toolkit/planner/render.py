"""Plain-text views of a plan: the top-N table, baselines, nearest misses and the --explain section."""

from __future__ import annotations

from toolkit.planner.assemble import short_name
from toolkit.platforms import platform_for


def _config(c) -> str:
    if c.serverless:
        return f"{c.variant} · serverless {c.serverless.memory_mb} MB, max concurrency {c.serverless.max_concurrency}"
    a = c.autoscaling
    plat = platform_for(c.platform).label
    if c.capacity is not None and c.capacity.value == 0:
        return f"{c.variant} · {plat} {c.instance_type or ''} (cannot meet the latency)"
    scale = f"{a.min_capacity}-{a.max_capacity}" if a and a.min_capacity != a.max_capacity else str(a.min_capacity if a else c.simulation.peak_instances)
    sched = f" +{len(a.scheduled)} sched" if a and a.scheduled else ""
    target = f" @{a.target_value:,.0f}/min" if a and a.min_capacity != a.max_capacity else ""
    spot = " spot" if c.spot else ""
    return f"{c.variant} · {plat} {c.instance_type}{spot} x{scale}{target}{sched}"


def summary_row(rank: str, c) -> dict:
    return {
        "rank": rank, "configuration": _config(c), "region": c.region, "monthly_usd": round(c.monthly_cost_usd, 2),
        "per_million_usd": round(c.cost_per_million_requests_usd, 4), "utilisation": c.simulation.utilisation,
        "violation_minutes": c.simulation.violation_minutes, "peak_instances": c.simulation.peak_instances,
        "mean_instances": c.simulation.mean_instances, "why": c.why_not,
    }


def table_rows(plan) -> list[dict]:
    rows = []
    if plan.chosen is not None:
        rows.append(summary_row("1", plan.chosen))
        rows += [summary_row(str(i + 2), c) for i, c in enumerate(plan.runners_up)]
    else:
        rows += [summary_row(f"miss {i + 1}", c) for i, c in enumerate(plan.nearest_misses)]
    return rows


def baseline_rows(plan) -> list[dict]:
    out = []
    for key, label in (("static_peak", "static peak"), ("single_gpu_default", "1-GPU default")):
        b = getattr(plan.baselines, key)
        if b is not None:
            row = summary_row(label, b)
            if plan.chosen is not None and b.monthly_cost_usd > 0:
                row["savings"] = round(1 - plan.chosen.monthly_cost_usd / b.monthly_cost_usd, 4)
            out.append(row)
    return out


def _fmt_row(r: dict, width: int) -> str:
    viol = f"{r['violation_minutes']:,.0f}"
    cost = f"${r['monthly_usd']:,.2f}" if r["monthly_usd"] else "—"
    per_m = f"${r['per_million_usd']:,.3f}" if r["per_million_usd"] else "—"
    return (f"{r['rank']:>13}  {r['configuration'][:width]:<{width}}  {r['region']:<14}  {cost:>11}  {per_m:>9}  "
            f"{r['utilisation']:>5.0%}  {viol:>6}  {r['peak_instances']:>5}")


def table_text(plan, width: int = 56) -> list[str]:
    head = (f"{'':>13}  {'configuration':<{width}}  {'region':<14}  {'$/month':>11}  {'$/1M req':>9}  {'util':>5}  {'viol':>6}  "
            f"{'peak':>5}")
    lines = [head, "-" * len(head)]
    rows = table_rows(plan)
    lines += [_fmt_row(r, width) for r in rows]
    base = baseline_rows(plan)
    if base:
        lines.append("-" * len(head))
        for r in base:
            line = _fmt_row(r, width)
            if "savings" in r:
                line += f"  plan saves {r['savings']:.0%}" if r["savings"] >= 0 else f"  plan costs {-r['savings']:.0%} more"
            lines.append(line)
    lines.append("")
    lines.append(f"viol = SLA violation minutes per 30-day month (allowance {plan.sla.max_violation_minutes_per_month:g}); "
                 "util = mean demand / in-service capacity at the SLA rate")
    for r in rows:
        if r["why"]:
            label = "why" if plan.chosen is not None else "misses"
            lines.append(f"  {r['rank']}: {label}: {r['why']}")
    return lines


def headline(plan, out_path: str) -> str:
    c = plan.chosen
    if c is None:
        return f"no feasible configuration; nearest misses written to {out_path}"
    return (f"{plan.name}: {short_name(c)} for ${c.monthly_cost_usd:,.2f} a month "
            f"(${c.cost_per_million_requests_usd:,.3f} per 1M requests, {c.simulation.violation_minutes:g} violation minutes); wrote {out_path}")


def explain_text(plan) -> list[str]:
    out = ["", "Which numbers are estimates:"]
    out += [f"  - {e}" for e in plan.estimates]
    out += ["", "Prices (source, as of, age):"]
    for p in plan.prices:
        stale = "  STALE" if p.age_days > 30 else ""
        out.append(f"  - {p.sku}: ${p.usd:g}/{p.unit} ({p.confidence}) from {p.source}, as of {p.as_of}, {p.age_days:.0f} days old{stale}")
    s = plan.scheduling
    out += ["", "Scheduled scaling:"]
    if s is not None and s.compared:
        for r in s.results:
            if r.scheduled_usd is not None:
                verdict = "adopted" if r.adopted else "not cheaper"
                out.append(f"  - {r.configuration}: target tracking ${r.target_tracking_usd:,.2f} vs scheduled floors "
                           f"${r.scheduled_usd:,.2f} ({r.scheduled_violation_minutes or 0:g} violation min): {verdict}")
            else:
                out.append(f"  - {r.configuration}: no scheduled policy met the SLA")
    else:
        out.append(f"  - not compared: {(s.reason if s else None) or 'n/a'}")
    st = plan.search
    if st.strategy is not None or st.lanes_total is not None:
        out += ["", f"Search ({st.strategy}): {st.lanes_total or 0:,} candidate x policy lanes, "
                    f"{st.lanes_simulated or 0:,} simulated, {st.lanes_pruned or 0:,} pruned by lower bound, "
                    f"{st.seconds or 0:.2f} s"]
    out += ["", "Assumptions:"]
    out += [f"  - {a}" for a in plan.assumptions]
    if plan.excluded:
        out += ["", "Excluded candidates (by variant, platform and reason):"]
        for x in plan.excluded:
            out.append(f"  - {x.variant} on {x.platform}: {x.count} ({x.kind}), e.g. {x.example}")
    return out
