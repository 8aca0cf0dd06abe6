"""The cost report as Markdown (reads well on GitHub and in a terminal pager)."""

from __future__ import annotations

from toolkit.report.model import CostReport
from toolkit.report.money import fmt_pct, fmt_per_million, fmt_rate, fmt_usd

SPARK = "▁▂▃▄▅▆▇█"


def md_escape(text: str) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def md_table(headers: list[str], rows: list[list[str]], align: str = "") -> list[str]:
    """A GitHub-flavoured table; ``align`` holds one of l/r/c per column (default left)."""
    marks = {"l": "---", "r": "---:", "c": ":---:"}
    align = align.ljust(len(headers), "l")
    out = ["| " + " | ".join(md_escape(h) for h in headers) + " |", "|" + "|".join(marks[a] for a in align) + "|"]
    out += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in rows]
    return out


def sparkline(values: list[float]) -> str:
    if not values:
        return ""
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    return "".join(SPARK[min(len(SPARK) - 1, int((v - lo) / span * (len(SPARK) - 1) + 0.5))] for v in values)


def fmt_qty(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:,.4g}" if abs(x) < 10 else f"{x:,.2f}".rstrip("0").rstrip(".")


def headline_rows(r: CostReport) -> list[list[str]]:
    rows = [["**Monthly cost (on demand)**", f"**{fmt_usd(r.monthly_cost_cents)}**"]]
    if r.cost_range_cents:
        rows.append(["Monthly cost with capacity at either end of its estimate", f"{fmt_usd(r.cost_range_cents[0])}–{fmt_usd(r.cost_range_cents[1])}"])
    rows.append(["Cost per 1M requests", fmt_per_million(r.cost_per_million_requests_usd)])
    requests = r.traffic.requests_per_month
    if requests is not None:
        rows.append(["Requests per month", f"{requests:,.0f}"])
    for b in r.baselines[1:]:
        if b.available and b.savings_cents is not None:
            rows.append([f"Saving vs {b.label}", f"{fmt_usd(b.savings_cents)} a month ({fmt_pct(b.savings_fraction)})"])
    plan = r.baselines[0]
    allowance = r.sla.max_violation_minutes_per_month
    rows.append(["SLA-violation minutes", f"{plan.violation_minutes:g} a month (allowed: {allowance:g})"])
    return rows


def render_markdown(r: CostReport) -> str:
    out: list[str] = [f"# Cost report: {r.plan_name}", ""]
    for w in r.warnings:
        out += [f"> **⚠ Warning:** {w}", ">"]
    if r.warnings:
        out[-1] = ""
    out += [
        f"Projected on-demand cost of a 30-day month starting {r.period_start}, from the plan made {r.plan_created_at} "
        f"(leanserve {r.plan_tool_version}). All amounts in {r.currency}; figures marked *estimated* come from models, not measurements.",
        "",
    ]
    out += md_table(["", ""], headline_rows(r), "lr") + [""]

    out += ["## Configuration", ""] + md_table(["Setting", "Value"], [[k, v] for k, v in r.configuration.items()]) + [""]

    out += ["## Cost by component", ""]
    out += md_table(["Component", "Monthly cost", "Share"], [[s.name, fmt_usd(s.cost_cents), fmt_pct(s.share)] for s in r.by_component], "lrr")
    out += ["", "## Cost by resource", ""]
    out += md_table(["Resource", "Monthly cost", "Share"], [[s.name, fmt_usd(s.cost_cents), fmt_pct(s.share)] for s in r.by_resource], "lrr")
    out += ["", "## Line items", ""]
    rows = [[l.service, l.resource, l.component, f"{fmt_qty(l.usage_quantity)} {l.unit}", f"{fmt_rate(l.unit_price_usd)} / {l.unit}", fmt_usd(l.cost_cents)]
            for l in r.lines]
    rows.append(["**Total**", "", "", "", "", f"**{fmt_usd(r.monthly_cost_cents)}**"])
    out += md_table(["Service", "Resource", "Component", "Usage", "Unit price", "Cost"], rows, "lllrrr") + [""]

    out += ["## ML Savings Plan", "", r.savings_plan.note]
    if r.savings_plan.available and r.savings_plan.monthly_cost_cents is not None:
        out += ["", f"Monthly cost at Savings Plan rates: **{fmt_usd(r.savings_plan.monthly_cost_cents)}** "
                    f"(saves {fmt_usd(r.savings_plan.savings_cents or 0)} against on demand)."]
    out += [""]

    out += _hourly_section(r)
    out += _baselines_section(r)

    out += ["## Where the numbers come from", ""]
    out += md_table(["Figure", "Value", "Source", "Detail"],
                    [[f.figure, f.value, f"**{f.provenance}**" if f.provenance == "estimated" else f.provenance, f.detail] for f in r.figures]) + [""]
    out += ["## Assumptions", ""]
    out += [f"- *(assumption)* {a}" for a in r.assumptions] or ["- none recorded in the plan"]
    out += [""]

    out += ["## Prices", ""]
    out += md_table(
        ["SKU", "Price", "As of", "Age (days)", "Confidence", "Source"],
        [[p.sku, f"{fmt_rate(p.usd)} / {p.unit}", p.as_of, f"{p.age_days:.0f}" + (" ⚠ older than 30 days" if p.stale else ""), p.confidence, p.source]
         for p in r.prices],
        "lrlrll",
    ) + [""]

    out += ["## Cost-allocation tags", ""]
    out += [", ".join(f"`{k}={v}`" for k, v in r.tags.items()) if r.tags else "No tags in the plan.", ""]
    out += [f"<sub>Plan spec sha256 {r.plan_spec_sha256[:12]} · report generated {r.generated_at}</sub>", ""]
    return "\n".join(out)


def _hourly_section(r: CostReport) -> list[str]:
    h = r.hourly
    out = ["## Instances and cost over the traffic pattern", ""]
    if not h.instances:
        return out + ["The plan has no hourly series.", ""]
    days = len(h.instances) / 24
    out += [
        f"Simulated {len(h.instances):,} hours ({days:g} days): in-service instances min {h.min_instances:g}, "
        f"mean {h.mean_instances:.2f}, peak {h.peak_instances:g} (estimated by the autoscaling simulation).",
        "",
    ]
    if h.hour_of_day_instances:
        out += [f"Average day, instances by hour 00–23: `{sparkline(h.hour_of_day_instances)}`", ""]
        daily = [sum(h.instances[d * 24:(d + 1) * 24]) / 24 for d in range(len(h.instances) // 24)]
        if len(daily) > 1:
            out += [f"Mean instances per day over the period: `{sparkline(daily)}`", ""]
        rows = [[f"{k:02d}:00", f"{h.hour_of_day_instances[k]:.2f}", f"${h.hour_of_day_cost_usd[k]:,.2f}" if h.hour_of_day_cost_usd else "n/a"] for k in range(24)]
        out += ["<details><summary>Average day, hour by hour</summary>", ""]
        out += md_table(["Hour of day", "Mean instances", "Mean cost per hour"], rows, "lrr")
        out += ["", "</details>", ""]
    return out


def _baselines_section(r: CostReport) -> list[str]:
    out = ["## Plan vs baselines", ""]
    rows = []
    for b in r.baselines:
        if not b.available:
            rows.append([b.label, "not in this plan", "—", "—", "—", "—"])
            continue
        saves = "—" if b.key == "plan" else f"{fmt_usd(b.savings_cents or 0)} ({fmt_pct(b.savings_fraction)})"
        meets = "n/a" if b.meets_sla is None else ("yes" if b.meets_sla else "**no**")
        rows.append([b.label, b.configuration or "", fmt_usd(b.monthly_cost_cents or 0), saves, f"{b.violation_minutes:g}", meets])
    out += md_table(["", "Configuration", "Monthly cost", "This plan saves", "SLA-violation min/month (est.)", "Meets SLA"], rows, "llrrrc")
    out += [""] + [f"- **{b.label}**: {b.description}" for b in r.baselines[1:]] + [""]
    return out
