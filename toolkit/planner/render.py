"""Plain-text views of a plan: the top-N table, baselines, nearest misses and the --explain section.

Money follows the one rule of :mod:`toolkit.report.money`: the text shows whole cents (the same figure the
report shows), the ``--json`` rows give dollars exact to 1e-6; list prices are shown as listed. Price ages
are the ones the catalog stamped into the plan (the report shows the same numbers), judged stale against
:func:`toolkit.pricing.catalog.stale_after_days`.
"""

from __future__ import annotations

from toolkit.planner.assemble import short_name
from toolkit.platforms import platform_for
from toolkit.report.money import fmt_money, fmt_per_million, fmt_rate, usd6


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
        "rank": rank, "configuration": _config(c), "region": c.region, "monthly_usd": usd6(c.monthly_cost_usd),
        "per_million_usd": usd6(c.cost_per_million_requests_usd), "utilisation": c.simulation.utilisation,
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
    for key, label in (("static_peak", "static peak"), ("single_gpu_default", "1-GPU default"), ("default_gpu_static", "default GPU")):
        b = getattr(plan.baselines, key)
        if b is not None:
            row = summary_row(label, b)
            if plan.chosen is not None and b.monthly_cost_usd > 0:
                row["savings"] = round(1 - plan.chosen.monthly_cost_usd / b.monthly_cost_usd, 4)
            out.append(row)
    return out


def _fmt_row(r: dict, width: int) -> str:
    viol = f"{r['violation_minutes']:,.0f}"
    cost = fmt_money(r["monthly_usd"]) if r["monthly_usd"] else "—"
    per_m = fmt_per_million(r["per_million_usd"]) if r["per_million_usd"] else "—"
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
    return (f"{plan.name}: {short_name(c)} for {fmt_money(c.monthly_cost_usd)} a month "
            f"({fmt_per_million(c.cost_per_million_requests_usd)} per 1M requests, {c.simulation.violation_minutes:g} violation minutes); "
            f"wrote {out_path}")


def explain_text(plan) -> list[str]:
    out = ["", "Which numbers are estimates:"]
    out += [f"  - {e}" for e in plan.estimates]
    from toolkit.pricing.catalog import stale_after_days

    limit = stale_after_days()
    out += ["", "Prices (source, as of, age):"]
    for p in plan.prices:
        stale = f"  STALE (older than {limit} days)" if p.age_days > limit else ""
        out.append(f"  - {p.sku}: {fmt_rate(p.usd)}/{p.unit} ({p.confidence}) from {p.source}, as of {p.as_of}, {p.age_days:.0f} days old{stale}")
    s = plan.scheduling
    out += ["", "Scheduled scaling:"]
    if s is not None and s.compared:
        for r in s.results:
            if r.scheduled_usd is not None:
                verdict = ("adopted (weekday/weekend)" if r.adopted_weekly else "adopted") if r.adopted else "not cheaper"
                tracking = fmt_money(r.target_tracking_usd) if r.target_tracking_usd is not None else "n/a"
                week = (f", weekday/weekend floors {fmt_money(r.weekly_usd)} ({r.weekly_violation_minutes or 0:g} violation min)"
                        if r.weekly_usd is not None else "")
                out.append(f"  - {r.configuration}: target tracking {tracking} vs daily scheduled floors "
                           f"{fmt_money(r.scheduled_usd)} ({r.scheduled_violation_minutes or 0:g} violation min){week}: {verdict}")
            else:
                out.append(f"  - {r.configuration}: no scheduled policy met the SLA")
        if s.note:
            out.append(f"  - {s.note}")
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
