"""How to buy it: the plan's ``purchase`` section as finance reads it.

The headline stays the month as planned (on demand, or on demand plus spot above the availability
floor). The recommended Savings Plans commitment is a purchase, not infrastructure (``deploy`` never
buys one), so it is shown beside the headline: the month bought as recommended is the headline minus
the commitment's saving. Its charges are given the way AWS bills them, so the CSV can carry them:

- the commitment's hourly charges for the month (``SavingsPlanRecurringFee``),
- the upfront payment's share of the month (``SavingsPlanUpfrontFee``, amortised: one row a month, the
  upfront divided by the 30-day months of the term),
- the on-demand usage the commitment covers, negated (``SavingsPlanNegation``),

which sum to minus the saving, so the CSV's rows sum to the month bought as recommended, and its
``Usage`` rows alone to the headline. With no rate in the catalog the plan keeps on demand and the
report says so; no discount is ever assumed.
"""

from __future__ import annotations

from datetime import date

from toolkit.artifacts.plan import Candidate, Commitment
from toolkit.report.model import CommitmentView, DownsideRow, PurchaseRow, PurchaseView, SpotView
from toolkit.report.money import fmt_rate, fmt_usd, micros_to_cents, micros_to_usd, to_cents, to_micros

MONTH_HOURS = 720.0
NO_PURCHASE = ("This plan has no purchase section (it was made before leanserve planned how to buy capacity), so the month is "
               "shown on demand only; plan again to see Savings Plans and spot options.")
NO_RATE = ("No Savings Plans rate for this configuration is in the price catalog (the embedded snapshot holds none: no rate "
           "could be cited), so on demand is kept and no discount is assumed.")


def _row(key, label: str, micros: int, on_demand_micros: int) -> PurchaseRow:
    cents, od_cents = micros_to_cents(micros), micros_to_cents(on_demand_micros)
    return PurchaseRow(key=key, label=label, monthly_cost_cents=cents, monthly_cost_usd=micros_to_usd(micros),
                       savings_cents=od_cents - cents, savings_usd=micros_to_usd(on_demand_micros - micros),
                       savings_fraction=(od_cents - cents) / od_cents if od_cents else None)


def commitment_charges(k: Commitment) -> tuple[int, int, int]:
    """(recurring, amortised upfront, negated covered usage) of a 30-day month, in micro-dollars; they sum to -saving."""
    from toolkit.pricing.commitments import TERM_HOURS

    term_hours = TERM_HOURS.get(k.term, 8760.0)
    monthly = to_micros(k.commitment_usd_per_hour * MONTH_HOURS)
    amortised = min(monthly, to_micros(k.upfront_usd * MONTH_HOURS / term_hours))
    recurring = monthly - amortised
    negation = -(monthly + to_micros(k.saving_usd))
    return recurring, amortised, negation


def _commitment(k: Commitment, today: date, limit: int) -> CommitmentView:
    from toolkit.pricing.commitments import TERM_HOURS
    from toolkit.report.prices import price_row

    recurring, amortised, negation = commitment_charges(k)
    saving = to_micros(k.saving_usd)
    downside = []
    for d in k.downside:
        od, cm, un = to_micros(d.on_demand_usd), to_micros(d.committed_usd), to_micros(d.unused_commitment_usd)
        downside.append(DownsideRow(traffic_change_pct=d.traffic_change_pct, on_demand_cents=micros_to_cents(od),
                                    committed_cents=micros_to_cents(cm), unused_commitment_cents=micros_to_cents(un),
                                    extra_cents=micros_to_cents(cm) - micros_to_cents(od), on_demand_usd=micros_to_usd(od),
                                    committed_usd=micros_to_usd(cm), unused_commitment_usd=micros_to_usd(un)))
    source = f"{k.rate.source} {k.rate.sku}".lower()
    return CommitmentView(
        plan=k.plan, term=k.term, payment=k.payment, usd_per_hour=k.commitment_usd_per_hour, committed_instances=k.committed_instances,
        discount=k.discount, break_even_utilisation=k.break_even_utilisation, upfront_usd=k.upfront_usd,
        term_months=TERM_HOURS.get(k.term, 8760.0) / MONTH_HOURS, recurring_month_usd=micros_to_usd(recurring),
        amortised_upfront_month_usd=micros_to_usd(amortised), covered_on_demand_usd=micros_to_usd(-negation),
        saving_cents=micros_to_cents(saving), saving_usd=micros_to_usd(saving), rate=price_row(k.rate, today, limit),
        rate_is_test_fixture="test" in source.split(":")[0] or "fixture" in source, downside=downside,
    )


def purchase_view(chosen: Candidate, total_micros: int, today: date, limit: int) -> PurchaseView:
    """The purchase options of the chosen configuration, in both money grains."""
    p = chosen.purchase
    total_cents = micros_to_cents(total_micros)
    if p is None:
        return PurchaseView(available=False, bought_monthly_cost_cents=total_cents, bought_monthly_cost_usd=micros_to_usd(total_micros),
                            summary=NO_PURCHASE)
    # all on demand: the planner's figure, or the headline itself when the plan already is all on demand
    od_micros = total_micros if not chosen.spot else max(total_micros, to_micros(p.on_demand_usd))
    rows = [_row("on-demand", "All on demand", od_micros, od_micros)]
    if chosen.spot:
        floor = f"{p.spot.floor_instances} on demand, " if p.spot else ""
        rows.append(_row("as-planned", f"As planned: {floor}spot above the floor", total_micros, od_micros))
    k = p.committed
    commitment = _commitment(k, today, limit) if k is not None else None
    bought = total_micros - (to_micros(k.saving_usd) if k is not None else 0)
    if k is not None:
        label = "With the commitment" + (" and spot above the floor" if chosen.spot else "")
        rows.append(_row("committed", label, bought, od_micros))
    spot = None
    if p.spot is not None:
        s = p.spot
        spot = SpotView(floor_instances=s.floor_instances, spot_instance_hours=s.spot_instance_hours, fallback_instance_hours=s.fallback_instance_hours,
                        interruption_band=s.interruption_band, interruptions_per_instance_hour=s.interruptions_per_instance_hour,
                        replacement_delay_min=s.replacement_delay_min, interruptions=s.interruptions, violation_minutes=s.violation_minutes,
                        source=s.source)
    notes = list(p.notes)
    return PurchaseView(available=True, rows=rows, commitment=commitment, spot=spot, bought_monthly_cost_cents=micros_to_cents(bought),
                        bought_monthly_cost_usd=micros_to_usd(bought), summary=_summary(chosen, commitment, rows, notes), notes=notes)


def _summary(chosen: Candidate, k: CommitmentView | None, rows: list[PurchaseRow], notes: list[str]) -> str:
    if k is None:
        if any("left out" in n for n in notes):
            return "Keep buying on demand: Savings Plans were left out of this plan (`--purchase`)."
        return "Keep buying on demand: " + NO_RATE[0].lower() + NO_RATE[1:]
    last = rows[-1]
    what = "EC2 Instance Savings Plan" if k.plan.startswith("ec2") else "SageMaker Savings Plan" if k.plan == "sagemaker" else f"{k.plan} Savings Plan"
    upfront = f", {fmt_usd(to_cents(k.upfront_usd))} paid upfront" if k.upfront_usd else ""
    return (f"Buy a {k.term} {k.payment} {what} of {fmt_rate(k.usd_per_hour)} an hour{upfront} "
            f"(about {k.committed_instances:g} instance{'s' if k.committed_instances != 1 else ''} of {chosen.instance_type} at all times): "
            f"the month then costs {fmt_usd(last.monthly_cost_cents)}, {fmt_usd(k.saving_cents)} less than as planned.")
