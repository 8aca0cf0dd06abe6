"""``report diff``: the monthly cost change between two plans, by resource, as a PR comment or JSON.

Money follows :mod:`toolkit.report.money`: the comment shows cents (the reports' cent figures, so a diff
adds up with the reports it compares); JSON gives every ``*_usd`` exact to 1e-6 beside the ``*_cents``.
The gate compares cents.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from toolkit.report.markdown import md_table
from toolkit.report.model import CostReport
from toolkit.report.money import fmt_pct, fmt_rate, fmt_usd, micros_to_usd, to_cents, to_micros

MARKER = "<!-- leanserve-cost-diff -->"  # lets a CI bot find and update its previous comment


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Side(_Data):
    """One of the two plans."""

    file: str
    name: str
    created_at: str
    monthly_cost_cents: int
    monthly_cost_usd: float
    cost_per_million_requests_cents: int
    cost_per_million_requests_usd: float
    violation_minutes: float
    configuration: dict[str, str]
    bought_monthly_cost_cents: int | None = Field(default=None, description="The month bought as the plan recommends (with its "
                                                                            "Savings Plans commitment); None without a purchase section.")
    bought_monthly_cost_usd: float | None = None
    commitment: str | None = Field(default=None, description="The recommended commitment in words; None when on demand is kept.")
    spot: str | None = None
    per_million_output_tokens_cents: int | None = Field(default=None, description="Generative plans only, as are the token fields below.")
    per_million_output_tokens_usd: float | None = None
    per_million_total_tokens_cents: int | None = None
    per_million_total_tokens_usd: float | None = None
    gpu_hours: float | None = None
    token_configuration: str | None = None


class Delta(_Data):
    """The change of one resource (``component`` None) or one resource's component."""

    resource: str
    component: str | None = None
    old_cents: int
    new_cents: int
    old_usd: float
    new_usd: float

    @computed_field
    @property
    def delta_cents(self) -> int:
        return self.new_cents - self.old_cents

    @computed_field
    @property
    def delta_usd(self) -> float:
        return micros_to_usd(to_micros(self.new_usd) - to_micros(self.old_usd))


class Change(_Data):
    """A configuration setting that differs between the plans."""

    setting: str
    old: str
    new: str


class Gate(_Data):
    fail_above_usd: float
    tripped: bool


class PlanDiff(_Data):
    kind: Literal["cost-diff"] = "cost-diff"
    old: Side
    new: Side
    by_resource: list[Delta]
    by_component: list[Delta]
    changes: list[Change]
    warnings: list[str]
    gate: Gate | None = None

    @computed_field
    @property
    def delta_cents(self) -> int:
        return self.new.monthly_cost_cents - self.old.monthly_cost_cents

    @computed_field
    @property
    def delta_usd(self) -> float:
        return micros_to_usd(to_micros(self.new.monthly_cost_usd) - to_micros(self.old.monthly_cost_usd))

    @computed_field
    @property
    def delta_fraction(self) -> float | None:
        return self.delta_cents / self.old.monthly_cost_cents if self.old.monthly_cost_cents else None

    @computed_field
    @property
    def unchanged(self) -> bool:
        """No cost moved: the totals and every resource/component line are equal."""
        return self.delta_cents == 0 and all(d.delta_cents == 0 for d in self.by_component)

    @computed_field
    @property
    def summary(self) -> str:
        if self.unchanged:
            return f"No cost change: both plans cost {fmt_usd(self.new.monthly_cost_cents)} a month."
        return (f"Monthly cost {fmt_usd(self.old.monthly_cost_cents)} → {fmt_usd(self.new.monthly_cost_cents)} "
                f"({fmt_usd(self.delta_cents, sign=True)}, {fmt_pct(self.delta_fraction, sign=True)})")


def _side(file: str, r: CostReport) -> Side:
    side = Side(file=file, name=r.plan_name, created_at=r.plan_created_at, monthly_cost_cents=r.monthly_cost_cents,
                monthly_cost_usd=r.monthly_cost_usd, cost_per_million_requests_cents=r.cost_per_million_requests_cents,
                cost_per_million_requests_usd=r.cost_per_million_requests_usd, violation_minutes=r.baselines[0].violation_minutes or 0.0,
                configuration=r.configuration)
    p = r.purchase
    if p is not None and p.available:
        k = p.commitment
        side.bought_monthly_cost_cents, side.bought_monthly_cost_usd = p.bought_monthly_cost_cents, p.bought_monthly_cost_usd
        side.commitment = f"{fmt_rate(k.usd_per_hour)}/hour, {k.term} {k.payment} {k.plan}" if k else "none (on demand)"
        side.spot = (f"{p.spot.spot_instance_hours:,.0f} node-hours above a floor of {p.spot.floor_instances}" if p.spot else "none")
    t = r.tokens
    if t is not None:
        plan = t.rows[0]
        side.per_million_output_tokens_cents, side.per_million_output_tokens_usd = plan.per_million_output_cents, plan.per_million_output_usd
        side.per_million_total_tokens_cents, side.per_million_total_tokens_usd = plan.per_million_total_cents, plan.per_million_total_usd
        side.gpu_hours, side.token_configuration = plan.gpu_hours, plan.configuration
    return side


def _purchase_changes(o: Side, n: Side) -> list[Change]:
    """How the capacity is bought, where it differs (token costs have their own table in the comment)."""
    out = []
    committed = any(s.bought_monthly_cost_cents not in (None, s.monthly_cost_cents) for s in (o, n))
    if committed and o.bought_monthly_cost_cents != n.bought_monthly_cost_cents:
        cents = lambda v: "—" if v is None else fmt_usd(v)
        out.append(Change(setting="Monthly cost with the recommended commitment", old=cents(o.bought_monthly_cost_cents),
                          new=cents(n.bought_monthly_cost_cents)))
    for label, a, b in (("Savings Plans commitment", o.commitment, n.commitment), ("Spot", o.spot, n.spot)):
        if a != b:
            out.append(Change(setting=label, old=a or "—", new=b or "—"))
    return out


def _deltas(old: CostReport, new: CostReport, key) -> list[Delta]:
    """Sum the two reports' lines by ``key``; biggest changes first, then in the order the lines appear."""
    sums: dict[tuple, list[int]] = {}
    for side, src in enumerate((old, new)):
        for line in src.lines:
            acc = sums.setdefault(key(line), [0, 0, 0, 0])
            acc[side] += line.cost_cents
            acc[2 + side] += to_micros(line.cost_usd)
    rows = [(i, Delta(resource=k[0], component=k[1] if len(k) > 1 else None, old_cents=v[0], new_cents=v[1],
                      old_usd=micros_to_usd(v[2]), new_usd=micros_to_usd(v[3])))
            for i, (k, v) in enumerate(sums.items())]
    return [d for _, d in sorted(rows, key=lambda t: (-abs(t[1].delta_cents), t[0]))]


def diff_reports(old: CostReport, new: CostReport, *, old_file: str, new_file: str, fail_above_usd: float | None = None) -> PlanDiff:
    """Compare two cost reports (built from the two plans with :func:`toolkit.report.build.build_report`)."""
    changes = [Change(setting=k, old=old.configuration.get(k, "—"), new=new.configuration.get(k, "—"))
               for k in dict.fromkeys([*old.configuration, *new.configuration])
               if old.configuration.get(k) != new.configuration.get(k)]
    if old.cost_per_million_requests_cents != new.cost_per_million_requests_cents:
        changes.append(Change(setting="Cost per 1M requests", old=fmt_usd(old.cost_per_million_requests_cents),
                              new=fmt_usd(new.cost_per_million_requests_cents)))
    vo, vn = old.baselines[0].violation_minutes, new.baselines[0].violation_minutes
    if vo != vn:
        changes.append(Change(setting="SLA-violation minutes/month (est.)", old=f"{vo:g}", new=f"{vn:g}"))
    warnings = []
    old_side, new_side = _side(old_file, old), _side(new_file, new)
    changes += _purchase_changes(old_side, new_side)
    for label, file, r in (("old", old_file, old), ("new", new_file, new)):
        stale = [p for p in r.prices if p.stale]
        if stale:
            warnings.append(f"The {label} plan ({file}) bills {len(stale)} price{'s' if len(stale) != 1 else ''} older than {r.stale_after_days} days "
                            f"(oldest {max(p.age_today_days for p in stale):.0f} days); refresh prices and plan again.")
    if old.plan_name != new.plan_name:
        warnings.append(f"The plans are for different deployments: '{old.plan_name}' and '{new.plan_name}'.")
    result = PlanDiff(
        old=old_side, new=new_side,
        by_resource=_deltas(old, new, lambda l: (l.resource,)),
        by_component=_deltas(old, new, lambda l: (l.resource, l.component)),
        changes=changes, warnings=warnings,
    )
    if fail_above_usd is not None:
        result.gate = Gate(fail_above_usd=fail_above_usd, tripped=result.delta_cents > to_cents(fail_above_usd))
    return result


def render_diff_markdown(d: PlanDiff) -> str:
    """A pull-request comment."""
    out = [MARKER, f"### Leanserve cost diff: {d.new.name}", ""]
    if d.unchanged:
        out += [f"**{d.summary}** Every resource costs the same as before (change $0.00).", ""]
    else:
        arrow = "🔺" if d.delta_cents > 0 else "🔻"
        out += [f"{arrow} **{d.summary}**", ""]
    for w in d.warnings:
        out += [f"> **⚠ Warning:** {w}", ""]
    if d.gate is not None:
        limit = fmt_usd(to_cents(d.gate.fail_above_usd))
        if d.gate.tripped:
            out += [f"❌ **Cost gate failed:** the monthly increase {fmt_usd(d.delta_cents, sign=True)} is above the limit of {limit}.", ""]
        else:
            out += [f"✅ Cost gate passed: the monthly change {fmt_usd(d.delta_cents, sign=True)} is within the limit of {limit}.", ""]
    rows = [[r.resource, fmt_usd(r.old_cents), fmt_usd(r.new_cents), fmt_usd(r.delta_cents, sign=True)] for r in d.by_resource]
    rows.append(["**Total**", f"**{fmt_usd(d.old.monthly_cost_cents)}**", f"**{fmt_usd(d.new.monthly_cost_cents)}**",
                 f"**{fmt_usd(d.delta_cents, sign=True)}**"])
    out += md_table(["Resource", "Before (monthly)", "After (monthly)", "Change"], rows, "lrrr") + [""]
    if any(r.delta_cents for r in d.by_component):
        comp = [[r.resource, r.component or "", fmt_usd(r.old_cents), fmt_usd(r.new_cents), fmt_usd(r.delta_cents, sign=True)]
                for r in d.by_component if r.delta_cents]
        out += ["<details><summary>By resource and component</summary>", ""]
        out += md_table(["Resource", "Component", "Before", "After", "Change"], comp, "llrrr") + ["", "</details>", ""]
    o, n = d.old, d.new
    if o.per_million_output_tokens_cents is not None or n.per_million_output_tokens_cents is not None:
        cents = lambda v: "—" if v is None else fmt_usd(v)
        delta = lambda a, b: "—" if a is None or b is None else fmt_usd(b - a, sign=True)
        hours = "—" if o.gpu_hours is None or n.gpu_hours is None else f"{n.gpu_hours - o.gpu_hours:+,.1f}"
        rows = [["Cost per 1M output tokens", cents(o.per_million_output_tokens_cents), cents(n.per_million_output_tokens_cents),
                 delta(o.per_million_output_tokens_cents, n.per_million_output_tokens_cents)],
                ["Cost per 1M total tokens", cents(o.per_million_total_tokens_cents), cents(n.per_million_total_tokens_cents),
                 delta(o.per_million_total_tokens_cents, n.per_million_total_tokens_cents)],
                ["GPU-hours a month", "—" if o.gpu_hours is None else f"{o.gpu_hours:,.1f}", "—" if n.gpu_hours is None else f"{n.gpu_hours:,.1f}", hours],
                ["Configuration", o.token_configuration or "—", n.token_configuration or "—", "" if o.token_configuration == n.token_configuration else "changed"]]
        out += ["**Token costs**", ""] + md_table(["", "Before", "After", "Change"], rows, "lrrr") + [""]
    if d.changes:
        out += ["**What changed**", ""] + md_table(["Setting", "Before", "After"], [[c.setting, c.old, c.new] for c in d.changes]) + [""]
    out += [f"<sub>Before: `{d.old.file}` (planned {d.old.created_at}) · After: `{d.new.file}` (planned {d.new.created_at}) · "
            "on-demand projection of a 30-day month; estimates from leanserve's planner</sub>", ""]
    return "\n".join(out)
