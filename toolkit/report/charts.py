"""Charts for the HTML report, drawn with matplotlib (Agg) and returned as SVG text.

matplotlib is imported only here, inside the functions, and only when an HTML report is written.
The SVG carries its text as paths and no date or random ids, so the same report renders the same bytes.
"""

from __future__ import annotations

import io

from toolkit.report.model import CostReport

INK = "#1f2933"
MUTED = "#616e7c"
GRID = "#e4e7eb"
PLAN = "#0b6e4f"
COST = "#3e7cb1"
BASE = "#9aa5b1"
BAD = "#c0392b"


def _pyplot():
    from toolkit.errors import require

    mpl = require("matplotlib", "report")
    mpl.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({
        "axes.axisbelow": True,
        "svg.hashsalt": "leanserve-report",
        "svg.fonttype": "path",
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "axes.edgecolor": GRID,
        "axes.labelcolor": MUTED,
        "axes.titlesize": 10,
        "axes.titleweight": "bold",
        "axes.titlecolor": INK,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "xtick.color": MUTED,
        "ytick.color": MUTED,
        "axes.grid": True,
        "grid.color": GRID,
        "grid.linewidth": 0.6,
    })
    return plt


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": "leanserve"})
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buf.getvalue()


def hourly_chart(report: CostReport) -> str | None:
    """In-service instances (top) and cost per hour (bottom) over the simulated traffic."""
    h = report.hourly
    if not h.instances:
        return None
    plt = _pyplot()
    n = len(h.instances)
    by_day = n > 48
    x = [i / 24 if by_day else i for i in range(n + 1)]
    panels = 2 if h.cost_usd else 1
    fig, axes = plt.subplots(panels, 1, figsize=(9.2, 2.2 * panels + 0.4), sharex=True, squeeze=False)
    ax = axes[0][0]
    inst = list(h.instances) + [h.instances[-1]]
    ax.fill_between(x, inst, step="post", color=PLAN, alpha=0.18, linewidth=0)
    ax.step(x, inst, where="post", color=PLAN, linewidth=1.1)
    ax.set_ylabel("instances in service")
    ax.set_ylim(0, max(inst) * 1.4 + 0.1)
    ax.set_title("Instances and cost per hour over the simulated traffic (estimated)", loc="left")
    if h.mean_instances is not None:
        ax.axhline(h.mean_instances, color=MUTED, linewidth=0.9, linestyle="--", label=f"mean {h.mean_instances:.2f} instances")
        ax.legend(loc="upper right", fontsize=8, frameon=True, framealpha=0.95, edgecolor=GRID)
    if panels == 2:
        ax2 = axes[1][0]
        cost = list(h.cost_usd) + [h.cost_usd[-1]]
        ax2.fill_between(x[: len(cost)], cost, step="post", color=COST, alpha=0.18, linewidth=0)
        ax2.step(x[: len(cost)], cost, where="post", color=COST, linewidth=1.1)
        ax2.set_ylabel("USD per hour")
        ax2.set_ylim(0, max(cost) * 1.18 + 1e-9)
        ax2.yaxis.set_major_formatter(lambda v, _pos: f"${v:,.2f}")
    bottom = axes[-1][0]
    bottom.set_xlabel("day of the simulated period" if by_day else "hour")
    bottom.set_xlim(0, x[-1])
    if by_day:
        step = 1 if x[-1] <= 10 else 2 if x[-1] <= 31 else 7
        bottom.set_xticks(range(0, int(x[-1]) + 1, step))
    fig.align_ylabels([a[0] for a in axes])
    fig.tight_layout()
    return _svg(fig)


def baselines_chart(report: CostReport) -> str | None:
    """Monthly cost of the plan and its baselines, with SLA-violation minutes beside each bar."""
    rows = [b for b in report.baselines if b.available and b.monthly_cost_cents is not None]
    if len(rows) < 2:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9.2, 0.62 * len(rows) + 0.9))
    labels = [f"{b.label}\n{b.configuration}" for b in rows][::-1]
    values = [b.monthly_cost_cents / 100 for b in rows][::-1]
    colors = [PLAN if b.key == "plan" else BASE for b in rows][::-1]
    ax.set_axisbelow(True)
    bars = ax.barh(labels, values, color=colors, height=0.58)
    top = max(values) or 1.0
    allowance = report.sla.max_violation_minutes_per_month
    for bar, b in zip(bars, rows[::-1]):
        text = f"${b.monthly_cost_cents / 100:,.2f}/month · {b.violation_minutes:g} SLA-violation min"
        bad = allowance is not None and b.violation_minutes is not None and b.violation_minutes > float(allowance)
        ax.text(bar.get_width() + top * 0.01, bar.get_y() + bar.get_height() / 2, text, va="center", fontsize=8,
                color=BAD if bad else INK)
    ax.set_xlim(0, top * 1.55)
    ax.xaxis.set_major_formatter(lambda v, _pos: f"${v:,.0f}")
    ax.grid(axis="y", visible=False)
    ax.set_title("Monthly cost: this plan and its baselines (estimated)", loc="left")
    ax.tick_params(axis="y", length=0)
    fig.tight_layout()
    return _svg(fig)
