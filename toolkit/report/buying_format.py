"""The "How to buy it" section in Markdown and HTML, and the commitment's rows for the CSV (see :mod:`toolkit.report.buying`)."""

from __future__ import annotations

from toolkit.report.model import CostReport, PurchaseView
from toolkit.report.money import fmt_pct, fmt_rate, fmt_usd, to_cents

CSV_NOTE = ("The CSV lists the commitment as AWS bills it: its hourly charges (`SavingsPlanRecurringFee`), the upfront payment "
            "amortised over the term, one row a month (`SavingsPlanUpfrontFee`), and the on-demand usage it covers, negated "
            "(`SavingsPlanNegation`). All its rows sum to the month bought as recommended ({bought}); the `Usage` rows alone sum "
            "to the headline ({headline}).")
DEPLOY_NOTE = "A Savings Plan is a purchase, not infrastructure: `leanserve deploy` never buys one; this is what to buy."


def plan_name(plan: str) -> str:
    return {"ec2-instance": "EC2 Instance Savings Plan", "compute": "Compute Savings Plan", "sagemaker": "SageMaker Savings Plan"}.get(
        plan, f"{plan} Savings Plan")


def facts(r: CostReport) -> list[tuple[str, str]]:
    """The commitment as label -> text (Markdown and HTML show the same)."""
    p = r.purchase
    k = p.commitment if p else None
    if k is None:
        return []
    instance = r.configuration.get("Instance type", "").replace(" (spot)", "")
    out = [
        ("Commitment", f"{fmt_rate(k.usd_per_hour)} an hour for {k.term}, {k.payment} ({plan_name(k.plan)})"),
        ("Covers", f"about {k.committed_instances:g} instance{'s' if k.committed_instances != 1 else ''} of {instance} every hour"
                   + (" (the on-demand floor; spot nodes are not committed)" if p.spot else "")),
        ("Rate", f"{fmt_rate(k.rate.usd)} / {k.rate.unit} under the plan, {fmt_pct(k.discount)} below on demand; {k.rate.source}, "
                 f"as of {k.rate.as_of} ({k.rate.confidence} confidence)" + (" — a test fixture, not a cited price" if k.rate_is_test_fixture else "")),
        ("Upfront", f"{fmt_usd(to_cents(k.upfront_usd))} at purchase, amortised {fmt_usd(to_cents(k.amortised_upfront_month_usd))} a month over "
                    f"{k.term_months:.1f} months" if k.upfront_usd else "none"),
        ("Charged each month", f"{fmt_usd(to_cents(k.recurring_month_usd))} hourly charges"
                               + (f" + {fmt_usd(to_cents(k.amortised_upfront_month_usd))} amortised upfront" if k.upfront_usd else "")
                               + f", replacing {fmt_usd(to_cents(k.covered_on_demand_usd))} of on-demand usage"),
        ("Monthly saving", f"{fmt_usd(k.saving_cents)} against buying the same usage on demand"),
        ("Break-even utilisation", f"{fmt_pct(k.break_even_utilisation)}: each committed dollar pays off when it is used in at least "
                                   f"{fmt_pct(k.break_even_utilisation)} of the hours"),
    ]
    return out


def downside_rows(p: PurchaseView) -> list[list[str]]:
    k = p.commitment
    rows = []
    for d in (k.downside if k else []):
        effect = (f"saves {fmt_usd(-d.extra_cents)}" if d.extra_cents < 0 else f"costs {fmt_usd(d.extra_cents)} more" if d.extra_cents > 0
                  else "breaks even")
        rows.append([f"{d.traffic_change_pct:+.0f}%", fmt_usd(d.on_demand_cents), fmt_usd(d.committed_cents), fmt_usd(d.unused_commitment_cents), effect])
    return rows


DOWNSIDE_HEADERS = ["Traffic vs the spec", "Covered instances on demand", "With the commitment", "Unused commitment", "The commitment"]


def spot_text(r: CostReport) -> str:
    p = r.purchase
    s = p.spot if p else None
    if s is None:
        return "Spot: not used by this plan (the platform has no spot capacity, spot was not allowed, or on demand was cheaper)."
    allowed = r.sla.max_violation_minutes_per_month
    return (f"Spot: {s.floor_instances} node{'s' if s.floor_instances != 1 else ''} stay on demand (the availability floor); "
            f"{s.spot_instance_hours:,.0f} node-hours a month above it run on spot. Interruptions are an estimate from the Spot Instance "
            f"Advisor's band {s.interruption_band} ({s.interruptions_per_instance_hour:g} per instance-hour; {s.source}): "
            f"{s.interruptions} drawn in the simulated period, each replaced within {s.replacement_delay_min} min, "
            f"{s.fallback_instance_hours:,.1f} node-hours falling back to on demand; SLA-violation minutes with interruptions "
            f"{s.violation_minutes:g} a month (allowed {allowed:g}).")


def purchase_markdown(r: CostReport, md_table) -> list[str]:
    p = r.purchase
    out = ["## How to buy it", ""]
    if p is None or not p.available:
        out += [p.summary if p else "", "", r.savings_plan.note]
        if r.savings_plan.available and r.savings_plan.monthly_cost_cents is not None:
            out += ["", f"Monthly cost at Savings Plan rates: **{fmt_usd(r.savings_plan.monthly_cost_cents)}** "
                        f"(saves {fmt_usd(r.savings_plan.savings_cents or 0)} against on demand)."]
        return out + [""]
    out += [f"**{p.summary}**", ""]
    headline = "as-planned" if any(row.key == "as-planned" for row in p.rows) else "on-demand"
    rows = [[row.label + (" *(the headline)*" if row.key == headline else ""), fmt_usd(row.monthly_cost_cents),
             "—" if row.key == "on-demand" else f"{fmt_usd(row.savings_cents)} ({fmt_pct(row.savings_fraction)})"] for row in p.rows]
    out += md_table(["How it is bought", "Monthly cost", "Saving vs all on demand"], rows, "lrr") + [""]
    if p.commitment is not None:
        out += md_table(["Recommended commitment", ""], [[a, b] for a, b in facts(r)]) + [""]
        if p.commitment.downside:
            out += ["If traffic is lower than the spec says (re-simulated with the same scaling policy; the commitment stays):", ""]
            out += md_table(DOWNSIDE_HEADERS, downside_rows(p), "lrrrl") + [""]
        out += [CSV_NOTE.format(bought=fmt_usd(p.bought_monthly_cost_cents), headline=fmt_usd(r.monthly_cost_cents)), ""]
    out += [spot_text(r), ""]
    out += [f"- {n}" for n in p.notes] + ([""] if p.notes else [])
    return out + [DEPLOY_NOTE, ""]


def purchase_html(r: CostReport, e, table) -> str:
    """``e`` escapes text, ``table`` is html._table."""
    p = r.purchase
    if p is None or not p.available:
        body = f"<p>{e(p.summary if p else '')}</p><p>{e(r.savings_plan.note)}</p>"
        if r.savings_plan.available and r.savings_plan.monthly_cost_cents is not None:
            body += (f"<p>Monthly cost at Savings Plan rates: <strong>{e(fmt_usd(r.savings_plan.monthly_cost_cents))}</strong> "
                     f"(saves {e(fmt_usd(r.savings_plan.savings_cents or 0))}).</p>")
        return f"<section><h2>How to buy it</h2>{body}</section>"
    parts = [f'<p class="cost"><strong>{e(p.summary)}</strong></p>']
    rows = [[e(row.label), e(fmt_usd(row.monthly_cost_cents)),
             "—" if row.key == "on-demand" else e(f"{fmt_usd(row.savings_cents)} ({fmt_pct(row.savings_fraction)})")] for row in p.rows]
    parts.append(table(["How it is bought", "Monthly cost", "Saving vs all on demand"], rows, {1, 2},
                       ["plan" if row.key == "committed" else "" for row in p.rows]))
    if p.commitment is not None:
        parts.append('<dl class="config">' + "".join(f"<dt>{e(a)}</dt><dd>{e(b)}</dd>" for a, b in facts(r)) + "</dl>")
        if p.commitment.downside:
            parts.append("<p>If traffic is lower than the spec says (re-simulated with the same scaling policy; the commitment stays):</p>")
            parts.append(table(DOWNSIDE_HEADERS, [[e(c) for c in row] for row in downside_rows(p)], {1, 2, 3}))
        note = CSV_NOTE.format(bought=fmt_usd(p.bought_monthly_cost_cents), headline=fmt_usd(r.monthly_cost_cents))
        parts.append(f'<p class="muted">{e(note).replace("`", "")}</p>')
    parts.append(f"<p>{e(spot_text(r))}</p>")
    if p.notes:
        parts.append("<ul>" + "".join(f"<li>{e(n)}</li>" for n in p.notes) + "</ul>")
    parts.append(f'<p class="muted">{e(DEPLOY_NOTE).replace("`", "")}</p>')
    return "<section><h2>How to buy it</h2>" + "".join(parts) + "</section>"


def commitment_csv_rows(r: CostReport) -> list[dict]:
    """The commitment's charges for the month as CSV fields (cost exact to 1e-6 USD); they sum to minus the saving."""
    from toolkit.report.buying import MONTH_HOURS
    from toolkit.report.money import micros_to_usd, to_micros

    p = r.purchase
    k = p.commitment if p else None
    if k is None:
        return []
    service = "MachineLearningSavingsPlans" if k.plan == "sagemaker" else "ComputeSavingsPlans"
    name = f"savings-plan/{k.plan}-{k.term}-{k.payment}"
    recurring, amortised = to_micros(k.recurring_month_usd), to_micros(k.amortised_upfront_month_usd)
    negation = -to_micros(k.covered_on_demand_usd)
    instance_line = next((line for line in r.lines if line.component == "instances"), None)
    covered_hours = k.committed_instances * MONTH_HOURS
    rows = [dict(service=service, resource=name, component="commitment", usage_quantity=MONTH_HOURS, usage_unit="hour",
                 unit_price=micros_to_usd(recurring) / MONTH_HOURS, cost=micros_to_usd(recurring), charge_type="SavingsPlanRecurringFee")
            ] if recurring else []  # all upfront: nothing recurs
    if amortised:
        rows.append(dict(service=service, resource=name, component="commitment", usage_quantity=1, usage_unit="month of the term (amortised)",
                         unit_price=micros_to_usd(amortised), cost=micros_to_usd(amortised), charge_type="SavingsPlanUpfrontFee"))
    rows.append(dict(service=instance_line.service if instance_line else service, resource=instance_line.resource if instance_line else name,
                     component="instances", usage_quantity=covered_hours, usage_unit="instance-hour",
                     unit_price=-(micros_to_usd(-negation) / covered_hours) if covered_hours else 0.0, cost=micros_to_usd(negation),
                     charge_type="SavingsPlanNegation"))
    return rows
