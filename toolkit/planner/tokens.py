"""A generative plan in token terms: $/1M output and total tokens, $/request, GPU-hours, and the API comparison.

Tokens a month = requests a month x the mean prompt (output) length of the traffic's token shape.

The API comparison prices the same tokens through every current row of the API table
(:mod:`toolkit.pricing.api_prices`) of the model's size class, and finds the break-even traffic against
each on the self-hosted cost curve of :mod:`toolkit.planner.token_curve` (the fleet above its availability
floor follows demand at the plan's simulated utilisation; at the spec's traffic the curve is the simulated
month, and the report's chart draws the same curve). The break-even is reported as a mean request rate.
"""

from __future__ import annotations

from toolkit.artifacts.plan_tokens import ApiCost, TokenCosts, TokenEconomics
from toolkit.planner import costs as C

MONTH_HOURS = C.MONTH_MINUTES / 60.0


def _accelerators(catalog, instance_type: str | None) -> float:
    if not instance_type:
        return 0.0
    try:
        return float(catalog.instance(instance_type).accelerator_count or 0.0)
    except Exception:  # noqa: BLE001 - an instance outside the catalog has no known accelerators
        return 0.0


def _per(cost: float, quantity: float, unit: float = 1e6) -> float:
    return round(cost / (quantity / unit), 6) if quantity > 0 else 0.0


def token_costs(label: str, cand, requests: float, prompt_tokens: float, output_tokens: float, catalog,
                capacity_tokens_per_s: float | None = None, configuration: str | None = None) -> TokenCosts:
    """A plan.json Candidate's month in token terms."""
    hours = float(cand.simulation.billed_instance_hours or cand.simulation.mean_instances * MONTH_HOURS)
    return TokenCosts(
        label=label, configuration=configuration, monthly_usd=round(cand.monthly_cost_usd, 2),
        usd_per_million_output_tokens=_per(cand.monthly_cost_usd, output_tokens),
        usd_per_million_total_tokens=_per(cand.monthly_cost_usd, prompt_tokens + output_tokens),
        usd_per_request=_per(cand.monthly_cost_usd, requests, 1.0), instance_hours=round(hours, 2),
        gpu_hours=round(hours * _accelerators(catalog, cand.instance_type), 2),
        capacity_output_tokens_per_s=round(capacity_tokens_per_s, 1) if capacity_tokens_per_s else None, meets_sla=cand.feasible,
    )


def cost_curve(chosen, min_instances: int):
    """The chosen candidate's month as a function of traffic scale (1 = the spec's traffic)."""
    from toolkit.planner.token_curve import curve_from_costs

    sim = chosen.simulation
    hours = float(sim.billed_instance_hours or sim.mean_instances * MONTH_HOURS)
    floor = chosen.autoscaling.min_capacity if chosen.autoscaling else min_instances
    return curve_from_costs(chosen.cost_items, chosen.monthly_cost_usd, hours, floor)


def api_costs(rows, prompt_month: float, output_month: float, plan_monthly: float | None, curve, mean_rps: float) -> list[ApiCost]:
    """Every API row's bill for the spec's tokens, against the plan's (None: nothing met the SLA) and its break-even."""
    out = []
    for r in rows:
        a = r.monthly_usd(prompt_month, output_month)
        s = curve.break_even(a) if curve is not None else None
        out.append(ApiCost(
            provider=r.provider, model=r.model, model_class=r.model_class, input_usd_per_mtok=r.input_usd_per_mtok,
            output_usd_per_mtok=r.output_usd_per_mtok, effective_from=r.effective_from, sources=r.sources, confidence=r.confidence,
            monthly_usd=round(a, 2), vs_plan_usd=round(a - plan_monthly, 2) if plan_monthly is not None else None,
            cheaper_than_plan=a < plan_monthly if plan_monthly is not None else None,
            break_even_rps=round(s * mean_rps, 3) if s is not None else None,
            break_even_output_tokens_per_month=round(s * output_month) if s is not None else None,
        ))
    return out


def verdict(econ: TokenEconomics, mean_rps: float) -> str:
    """One plain sentence: is self-hosting or an API cheaper for this traffic, and where the break-even is."""
    plan = econ.plan
    if plan is None:
        return "No self-hosted configuration meets the SLA" + (f"; the cheapest comparable API ({econ.api[0].provider} "
                                                                f"{econ.api[0].model}) would cost ${econ.api[0].monthly_usd:,.2f} a month."
                                                                if econ.api else ".")
    own = f"self-hosting costs ${plan.monthly_usd:,.2f} a month (${plan.usd_per_million_output_tokens:,.3f} per 1M output tokens)"
    if not econ.api:
        return f"At {econ.output_tokens_per_month / 1e6:,.1f}M output tokens a month {own}; the API table has no current {econ.api_class} row to compare."
    best = min(econ.api, key=lambda a: a.monthly_usd)
    api = (f"the cheapest comparable API, {best.provider} {best.model} (${best.input_usd_per_mtok:g} in / ${best.output_usd_per_mtok:g} out "
           f"per 1M, {best.confidence} confidence), would cost ${best.monthly_usd:,.2f}")
    head = f"At {econ.output_tokens_per_month / 1e6:,.1f}M output tokens a month {own}; {api}"
    if best.cheaper_than_plan:
        gap = plan.monthly_usd - best.monthly_usd
        tail = (f"self-hosting becomes cheaper above about {best.break_even_rps:,.1f} req/s on average (now {mean_rps:,.2f})"
                if best.break_even_rps is not None else "its price per token is below the GPU's at any traffic")
        return f"{head}: the API is cheaper at your traffic, by ${gap:,.2f} a month ({gap / plan.monthly_usd:.0%}); {tail}."
    be = f" (break-even about {best.break_even_rps:,.2f} req/s on average; now {mean_rps:,.2f})" if best.break_even_rps is not None else ""
    return f"{head}: self-hosting is cheaper at your traffic{be}."


def token_lines(plan) -> list[str]:
    """Plain-text lines of plan.json's ``tokens`` section (empty for encoder plans)."""
    from toolkit.report.money import fmt_money, fmt_rate

    t = plan.tokens
    if t is None:
        return []
    est = " (architecture only: every figure estimated)" if t.architecture_only else ""
    out = ["", (f"Tokens{est}: {t.output_tokens_per_month / 1e6:,.1f}M output + {t.prompt_tokens_per_month / 1e6:,.1f}M prompt tokens a month "
               f"(mean {t.mean_prompt_tokens:,.0f} in / {t.mean_output_tokens:,.0f} out per request, {t.requests_per_month / 1e6:,.2f}M requests)")]
    for c in ([t.plan] if t.plan else []) + list(t.baselines):
        tps = f", {c.capacity_output_tokens_per_s:,.0f} output tokens/s per instance" if c.capacity_output_tokens_per_s else ""
        out.append(f"  {c.label:<44} {fmt_money(c.monthly_usd):>12}/month  ${c.usd_per_million_output_tokens:,.3f} per 1M output, "
                   f"${c.usd_per_million_total_tokens:,.3f} per 1M total, {fmt_rate(round(c.usd_per_request, 6))}/request, "
                   f"{c.gpu_hours:,.0f} GPU-hours{tps}")
    if t.api:
        out.append(f"API comparison ({t.model} is class {t.api_class}{'; ' + t.api_note if t.api_note else ''}; $ per 1M tokens in / out):")
        for a in t.api:
            be = f", break-even {a.break_even_rps:,.2f} req/s" if a.break_even_rps is not None else ", cheaper at any traffic"
            side = ("" if a.vs_plan_usd is None else
                    f"  {'API cheaper' if a.cheaper_than_plan else 'plan cheaper'} by {fmt_money(abs(a.vs_plan_usd))}"
                    + (be if a.cheaper_than_plan or a.break_even_rps else ""))
            out.append(f"  {a.provider + ' ' + a.model:<58} {fmt_rate(a.input_usd_per_mtok):>7} / {fmt_rate(a.output_usd_per_mtok):<7} "
                       f"{fmt_money(a.monthly_usd):>12}/month{side}  ({a.confidence}, {a.effective_from or 'undated'})")
    out.append(f"Verdict: {t.verdict}")
    return out
