"""The chart of a generative plan's monthly cost against traffic: the self-hosted curve and one line per API.

Drawn with matplotlib (Agg) like :mod:`toolkit.report.charts`; SVG for the self-contained HTML, PNG for
``report-tokens.png`` next to the report (the Markdown links it). The curve is the report's estimate from the
plan's capacity (:mod:`toolkit.report.tokens`); the spec's traffic and the plan's simulated month are marked.
"""

from __future__ import annotations

import io

from toolkit.report.charts import BAD, INK, MUTED, PLAN, _pyplot, _svg
from toolkit.report.model import CostReport

PNG_NAME = "report-tokens.png"
API_COLOURS = ["#3e7cb1", "#d08c2d", "#7b5ea7", "#2a9d8f", "#c0392b", "#6c757d", "#8d5b00", "#1f77b4", "#e377c2", "#17becf"]


def _scale(x_max: float) -> tuple[float, str]:
    for div, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if x_max >= 3 * div:
            return div, unit
    return 1.0, ""


def _figure(report: CostReport):
    t = report.tokens
    if t is None or len(t.curve) < 2:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9.2, 4.6))
    xs = [p.output_tokens_per_day for p in t.curve]
    div, unit = _scale(max(xs))
    sx = [x / div for x in xs]
    ax.plot(sx, [p.self_hosted_usd for p in t.curve], color=PLAN, linewidth=2.4, label="self-hosted (estimated from the plan's capacity)",
            zorder=4)
    x_spec = t.output_tokens_per_day
    apis = [r for r in t.rows if r.kind == "api"]
    for k, a in enumerate(apis):
        slope = a.monthly_cost_usd / x_spec if x_spec else 0.0
        colour = API_COLOURS[k % len(API_COLOURS)]
        ax.plot([0, sx[-1]], [0, slope * xs[-1]], color=colour, linewidth=1.1, linestyle="--", label=f"{a.label[:48]} (API)")
        x_be = a.break_even_output_tokens_per_day
        if x_be is not None and x_be <= xs[-1]:  # where this API's line meets the self-hosted curve
            ax.scatter([x_be / div], [slope * x_be], color=colour, s=14, zorder=5)
    plan = t.rows[0]
    ax.axvline(x_spec / div, color=MUTED, linewidth=0.8, linestyle=":")
    ax.scatter([x_spec / div], [plan.monthly_cost_usd], color=PLAN, s=36, zorder=5)
    ax.annotate(f"your traffic: {x_spec / div:,.1f}{unit}/day\nplan ${plan.monthly_cost_usd:,.0f}/month (simulated)",
                (x_spec / div, plan.monthly_cost_usd), xytext=(8, 10), textcoords="offset points", fontsize=8, color=INK)
    be = t.break_even_output_tokens_per_day
    if be is not None and be <= xs[-1]:
        cheapest = min(apis, key=lambda r: r.monthly_cost_usd)
        ax.axvline(be / div, color=BAD, linewidth=0.8, linestyle="-.")
        ax.annotate(f"break-even vs {cheapest.label.split()[0]}: {be / div:,.1f}{unit}/day", (be / div, 0), xytext=(4, 6),
                    textcoords="offset points", fontsize=8, color=BAD)
    top = max(max(p.self_hosted_usd for p in t.curve), plan.monthly_cost_usd) * 1.6
    ax.set_ylim(0, top)
    ax.set_xlim(0, sx[-1])
    ax.set_xlabel(f"output tokens per day{f' ({unit})' if unit else ''} at the spec's mix of {t.mean_prompt_tokens:g} prompt / "
                  f"{t.mean_output_tokens:g} output tokens per request")
    ax.set_ylabel("USD per 30-day month")
    ax.yaxis.set_major_formatter(lambda v, _pos: f"${v:,.0f}")
    ax.set_title("Monthly cost against traffic: self-hosting vs APIs (estimated)", loc="left")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), frameon=False, ncol=2)
    fig.tight_layout()
    return fig


def token_cost_chart(report: CostReport) -> str | None:
    """The chart as SVG text (None for plans without a tokens section)."""
    fig = _figure(report)
    return _svg(fig) if fig is not None else None


def token_cost_png(report: CostReport) -> bytes | None:
    fig = _figure(report)
    if fig is None:
        return None
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()
