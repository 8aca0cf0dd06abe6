"""The cost report as Markdown (reads well on GitHub and in a terminal pager)."""

from __future__ import annotations

from toolkit.report.model import BaselineRow, CostReport, PriceRow
from toolkit.report.money import fmt_money, fmt_pct, fmt_rate, fmt_usd
from toolkit.report.prices import age_text
from toolkit.report.words import is_flat, lower_first

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


def saving_text(b: BaselineRow) -> str:
    """``$10.42 a month (6.1%)``, or the note that explains a zero or negative saving."""
    if b.note:
        return b.note
    return f"{fmt_usd(b.savings_cents or 0)} a month ({fmt_pct(b.savings_fraction)})"


def range_text(r: CostReport) -> str | None:
    if not r.cost_range_cents:
        return None
    lo, hi = r.cost_range_cents
    return f"{fmt_usd(lo)}–{fmt_usd(hi)}"


def lead_lines(r: CostReport) -> list[str]:
    """What finance needs first: the month's cost (and its range), the saving, the policy in words."""
    cost = f"**{fmt_usd(r.monthly_cost_cents)} a month** on demand, projected for the 30 days from {r.period_start}."
    span = range_text(r)
    if span:
        band = f" (±{r.capacity_uncertainty * 100:.0f}%)" if r.capacity_uncertainty else ""
        cost += f" Capacity per instance is an estimate{band}, so the month could cost **{span}**."
    out = [cost, ""]
    savings = []
    for b in r.baselines[1:]:
        if not b.available or b.savings_cents is None:
            continue
        savings.append(b.note if b.note else f"saves **{fmt_usd(b.savings_cents)} a month** ({fmt_pct(b.savings_fraction)}) against "
                                             f"{lower_first(b.label)} ({b.configuration})" + (", which misses the SLA" if b.meets_sla is False else ""))
    if savings:
        out += [" ".join(t[0].upper() + t[1:] + ("" if t.endswith(".") else ".") for t in savings), ""]
    out += [f"Scaling: {r.scaling}.", ""]
    return out


def headline_rows(r: CostReport) -> list[list[str]]:
    rows = [["**Monthly cost (on demand)**", f"**{fmt_usd(r.monthly_cost_cents)}**"]]
    span = range_text(r)
    if span:
        rows.append(["Monthly cost with capacity at either end of its estimate", span])
    rows.append(["Cost per 1M requests", fmt_usd(r.cost_per_million_requests_cents)])
    requests = r.traffic.requests_per_month
    if requests is not None:
        rows.append(["Requests per month", f"{requests:,.0f}"])
    for b in r.baselines[1:]:
        if b.available and b.savings_cents is not None:
            rows.append([f"Saving vs {b.label}", saving_text(b)])
    plan = r.baselines[0]
    allowance = r.sla.max_violation_minutes_per_month
    rows.append(["SLA-violation minutes", f"{plan.violation_minutes:g} a month (allowed: {allowance:g})"])
    return rows


def price_table(prices: list[PriceRow], limit: int) -> list[str]:
    return md_table(
        ["SKU", "Price", "As of", "Age when planned (days)", "Confidence", "Source"],
        [[p.sku, f"{fmt_rate(p.usd)} / {p.unit}", p.as_of, age_text(p, limit), p.confidence, p.source] for p in prices],
        "lrlrll",
    )


def render_markdown(r: CostReport, png_name: str | None = "report-tokens.png") -> str:
    """The report; ``png_name`` is the token chart's file next to report.md (generative plans), None to leave it out."""
    from toolkit.report.buying_format import purchase_markdown
    from toolkit.report.tokens_format import tokens_markdown

    out: list[str] = [f"# Cost report: {r.plan_name}", ""]
    for w in r.warnings:
        out += [f"> **⚠ Warning:** {w}", ">"]
    if r.warnings:
        out[-1] = ""
    out += lead_lines(r)
    out += md_table(["", ""], headline_rows(r), "lr") + [""]
    out += [
        f"From the plan made {r.plan_created_at} (leanserve {r.plan_tool_version}); a 30-day month, {r.period}. All amounts in "
        f"{r.currency}, to the cent; figures marked *estimated* come from models, not measurements.",
        "",
    ]

    out += tokens_markdown(r, md_table, png_name)
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

    out += purchase_markdown(r, md_table)

    out += _hourly_section(r)
    out += _baselines_section(r)

    out += ["## Where the numbers come from", ""]
    out += md_table(["Figure", "Value", "Source", "Detail"],
                    [[f.figure, f.value, f"**{f.provenance}**" if f.provenance == "estimated" else f.provenance, f.detail] for f in r.figures]) + [""]
    out += ["## Assumptions", ""]
    out += [f"- *(assumption)* {a}" for a in r.assumptions] or ["- none recorded in the plan"]
    out += [""]

    out += ["## Prices", "", "The list prices this bill uses. Ages are as of the day the plan was made (what `plan --explain` showed); "
            f"a price counts as stale when it is older than {r.stale_after_days} days on the day this report was made.", ""]
    out += price_table(r.prices, r.stale_after_days) + [""]
    if r.other_prices:
        out += ["<details><summary>Other prices in the plan (baselines and runners-up; not in this bill)</summary>", ""]
        out += [f"{n}" for n in r.notes] + ([""] if r.notes else [])
        out += price_table(r.other_prices, r.stale_after_days) + ["", "</details>", ""]

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
    if is_flat(h.instances):
        per_hour = f", {fmt_money(h.cost_usd[0])} an hour" if h.cost_usd and is_flat(h.cost_usd) else ""
        return out + [f"Flat at {h.peak_instances:g} instance{'s' if h.peak_instances != 1 else ''} over all {len(h.instances):,} "
                      f"simulated hours ({days:g} days{per_hour}): the traffic never needed more, so there is no pattern to chart.", ""]
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
        rows = [[f"{k:02d}:00", f"{h.hour_of_day_instances[k]:.2f}", fmt_money(h.hour_of_day_cost_usd[k]) if h.hour_of_day_cost_usd else "n/a"]
                for k in range(24)]
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
    out += [""] + [f"- **{b.label}**: {b.description}" + (f" {b.note}" if b.note else "") for b in r.baselines[1:]] + [""]
    return out
