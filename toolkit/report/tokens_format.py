"""The "Cost per token" section (generative plans) in Markdown and HTML; see :mod:`toolkit.report.tokens`."""

from __future__ import annotations

from toolkit.report.model import CostReport, TokenRow, TokenView
from toolkit.report.money import fmt_usd, to_cents
from toolkit.report.tokens import tokens_text

TABLE_HEADERS = ["", "Configuration", "Monthly cost", "Per 1M output", "Per 1M total", "GPU-hours", "vs this plan", "Pays above"]
TABLE_NOTE = ("Per 1M output / total tokens; GPU-hours a month; \"Pays above\": the output tokens a day above which self-hosting is cheaper "
              "than that API (\"never\": the API's price per token is below the GPU's at any traffic). API rows price the spec's prompt and "
              "output tokens at each API's list prices; their latency is not checked against the SLA.")


def headline_rows(t: TokenView) -> list[list[str]]:
    plan = t.rows[0]
    gpus = f" ({t.gpus_per_instance:g} GPU{'s' if t.gpus_per_instance != 1 else ''} per instance)" if t.gpus_per_instance else ""
    out = [
        ["**Cost per 1M output tokens**", f"**{fmt_usd(plan.per_million_output_cents)}**"],
        ["Cost per 1M total tokens (prompt + output)", fmt_usd(plan.per_million_total_cents)],
        ["Output tokens", f"{tokens_text(t.output_tokens_per_day)} a day ({tokens_text(t.output_tokens_per_month)} a month)"],
        ["Total tokens", f"{tokens_text(t.total_tokens_per_day)} a day ({tokens_text(t.total_tokens_per_month)} a month; mean "
                         f"{t.mean_prompt_tokens:g} prompt + {t.mean_output_tokens:g} output per request)"],
        ["GPU-hours a month", f"{plan.gpu_hours or 0:,.1f}{gpus}"],
        ["Instance-hours a month (billed)", f"{plan.instance_hours or 0:,.1f}"],
    ]
    if t.capacity_output_tokens_per_s:
        out.append(["Capacity per instance", f"{t.capacity_output_tokens_per_s:,.0f} output tokens/s at the SLA (estimated)"])
    be = t.break_even_output_tokens_per_day
    apis = [r for r in t.rows if r.kind == "api"]
    if apis:
        cheapest = min(apis, key=lambda r: r.monthly_cost_usd)
        out.append([f"Break-even vs the cheapest API ({cheapest.label})",
                    f"{tokens_text(be)} output tokens a day (estimated)" if be is not None else "none: the API is cheaper at any traffic"])
    out.append(["Self-hosting floor (availability minimum)", f"{fmt_usd(to_cents(t.floor_monthly_usd))} a month with "
                                                            f"{t.floor_instances} instance{'s' if t.floor_instances != 1 else ''}"])
    return out


def comparison_rows(t: TokenView) -> list[list[str]]:
    def vs(r: TokenRow) -> str:
        if r.vs_plan_cents is None:
            return "—"
        return f"{fmt_usd(r.vs_plan_cents, sign=True)}" + (" (cheaper)" if r.vs_plan_cents < 0 else "")

    def pays(r: TokenRow) -> str:
        if r.kind != "api":
            return "—"
        return f"{tokens_text(r.break_even_output_tokens_per_day)}/day" if r.break_even_output_tokens_per_day is not None else "never"

    return [[r.label + (" (API)" if r.kind == "api" else ""), r.configuration or "", fmt_usd(r.monthly_cost_cents), fmt_usd(r.per_million_output_cents),
             fmt_usd(r.per_million_total_cents), f"{r.gpu_hours:,.1f}" if r.gpu_hours is not None else "—", vs(r), pays(r)] for r in t.rows]


def hour_rows(r: CostReport) -> list[list[str]]:
    t = r.tokens
    means = r.hourly.hour_of_day_instances
    return [[f"{k:02d}:00", f"{means[k]:.2f}", f"{t.hour_of_day_instance_hours[k]:,.1f}", f"{t.hour_of_day_instance_hours[k] * t.gpus_per_instance:,.1f}"]
            for k in range(len(t.hour_of_day_instance_hours))]


HOUR_HEADERS = ["Hour of day (UTC)", "Mean instances", "Instance-hours a month", "GPU-hours a month"]


def _intro(t: TokenView) -> str:
    est = " Planned from the architecture alone: every figure is estimated." if t.architecture_only else ""
    return f"{t.verdict}{est}"


def tokens_markdown(r: CostReport, md_table, png_name: str | None) -> list[str]:
    t = r.tokens
    if t is None:
        return []
    out = ["## Cost per token", "", _intro(t), ""]
    out += md_table(["", ""], headline_rows(t), "lr") + [""]
    out += ["### This plan against its baselines and the APIs", ""]
    out += md_table(TABLE_HEADERS, comparison_rows(t), "llrrrrrr") + [""]
    out += [TABLE_NOTE, ""]
    out += ["### Where self-hosting starts to pay", ""]
    if png_name:
        out += [f"![Monthly cost against output tokens a day: self-hosted curve and API lines]({png_name})", ""]
    out += [t.curve_method, ""]
    if t.hour_of_day_instance_hours:
        out += ["### Instance-hours by hour of day", "", "In service, from the plan's simulation (billed hours add instance start-up).", ""]
        out += ["<details><summary>Hour by hour</summary>", ""] + md_table(HOUR_HEADERS, hour_rows(r), "lrrr") + ["", "</details>", ""]
    apis = [row for row in t.rows if row.kind == "api"]
    if apis:
        out += ["<details><summary>API prices and sources</summary>", ""]
        out += [f"- **{a.label}**: {a.price_note}" for a in apis] + ["", "</details>", ""]
    out += [f"- {n}" for n in t.notes] + ([""] if t.notes else [])
    return out


def tokens_html(r: CostReport, e, table, img, chart: str | None) -> str:
    t = r.tokens
    if t is None:
        return ""
    import re

    bold = lambda s: re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", e(s))
    parts = [f"<p>{e(_intro(t))}</p>"]
    parts.append(table(["", ""], [[bold(a), bold(b)] for a, b in headline_rows(t)], {1}))
    parts.append("<h3 class=\"muted\" style=\"font-size:13px;margin:14px 0 4px\">This plan against its baselines and the APIs</h3>")
    rows = comparison_rows(t)
    parts.append(table(TABLE_HEADERS, [[e(c) for c in row] for row in rows], {2, 3, 4, 5, 6, 7},
                       ["plan" if k == 0 else "" for k in range(len(rows))]))
    parts.append(f'<p class="muted">{e(TABLE_NOTE)}</p>')
    parts.append(img(chart, "Chart of monthly cost against output tokens a day: the self-hosted curve and one line per API",
                     "Where self-hosting starts to pay. " + t.curve_method))
    if t.hour_of_day_instance_hours:
        parts.append("<details><summary>Instance-hours by hour of day (in service, from the plan's simulation)</summary>"
                     + table(HOUR_HEADERS, [[e(c) for c in row] for row in hour_rows(r)], {1, 2, 3}) + "</details>")
    apis = [row for row in t.rows if row.kind == "api"]
    if apis:
        parts.append("<details><summary>API prices and sources</summary><ul>"
                     + "".join(f"<li><strong>{e(a.label)}</strong>: {e(a.price_note)}</li>" for a in apis) + "</ul></details>")
    if t.notes:
        parts.append('<ul class="assumptions">' + "".join(f"<li>{e(n)}</li>" for n in t.notes) + "</ul>")
    return "<section><h2>Cost per token</h2>" + "".join(parts) + "</section>"
