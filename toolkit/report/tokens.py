"""Generative plans in token terms: cost per 1M output and total tokens, GPU-hours, hour-of-day instance-hours,
the plan against its baselines and every API in the price table, and where self-hosting starts to pay.

The cost curve (monthly cost against output tokens a day, the spec's prompt/output mix held) is estimated
from the plan itself, so that it passes through the plan's own simulated month:

    instances(x) = max(floor, x / x_spec * n)       n: the plan's billed mean instances at the spec's traffic
                 = max(floor, D(x) / (C * u))       D: mean output tokens/s, C: output tokens/s one instance
                                                    sustains at the SLA, u = D(x_spec) / (C * n) the share of
                                                    billed capacity the plan's autoscaling used
    self(x)      = fixed + instances(x) * 720 h * (instance + storage $/instance-hour) + x * data $/token

An API's month is linear in traffic (its bill for the spec's tokens, scaled). Break-even is where the two
meet. The curve is an estimate: the fleet follows mean demand at the plan's utilisation, not a new
simulation; at the spec's traffic it is the simulated month exactly.
"""

from __future__ import annotations

from toolkit.artifacts.plan import Candidate, PlanFile
from toolkit.artifacts.plan_tokens import TokenEconomics
from toolkit.planner.token_curve import MONTH_HOURS, curve_from_costs
from toolkit.report.model import CostLine, CurvePoint, TokenRow, TokenView
from toolkit.report.money import fmt_money, micros_to_usd, to_cents, usd6

DAYS = 30.0
CURVE_POINTS = 60


def _per_m(usd: float, tokens: float) -> float:
    return usd / (tokens / 1e6) if tokens > 0 else 0.0


def _row(kind, label, configuration, monthly_usd, out_tok, total_tok, plan_usd, **extra) -> TokenRow:
    m = usd6(monthly_usd)
    po, pt = _per_m(m, out_tok), _per_m(m, total_tok)
    vs = None if plan_usd is None or kind == "plan" else usd6(m - plan_usd)
    return TokenRow(kind=kind, label=label, configuration=configuration, monthly_cost_cents=to_cents(m), monthly_cost_usd=m,
                    per_million_output_cents=to_cents(po), per_million_output_usd=usd6(po), per_million_total_cents=to_cents(pt),
                    per_million_total_usd=usd6(pt), vs_plan_cents=None if vs is None else to_cents(vs), vs_plan_usd=vs, **extra)


def token_view(plan: PlanFile, chosen: Candidate, lines: list[CostLine], total_micros: int, hour_of_day: list[float]) -> TokenView | None:
    te: TokenEconomics | None = plan.tokens
    if te is None or te.output_tokens_per_month <= 0:
        return None
    total = micros_to_usd(total_micros)
    out_m, tot_m = te.output_tokens_per_month, te.total_tokens_per_month
    x_spec = out_m / DAYS
    hours = (te.plan.instance_hours if te.plan else None) or chosen.simulation.billed_instance_hours or chosen.simulation.mean_instances * MONTH_HOURS
    gpus = (te.plan.gpu_hours / te.plan.instance_hours) if te.plan and te.plan.instance_hours else 0.0
    floor = chosen.autoscaling.min_capacity if chosen.autoscaling else plan.sla.min_instances
    curve = curve_from_costs(lines, total, hours, floor, x_spec)  # the curve the plan's break-even was found on
    n, fixed, per_inst_h, data = curve.n, curve.fixed, curve.v / MONTH_HOURS, curve.d * x_spec
    cap = te.plan.capacity_output_tokens_per_s if te.plan else None
    demand = out_m / (MONTH_HOURS * 3600.0)
    u = demand / (cap * n) if cap and n else 0.0

    rows = [_row("plan", "This plan", te.plan.configuration if te.plan else None, total, out_m, tot_m, total,
                 gpu_hours=te.plan.gpu_hours if te.plan else None, instance_hours=round(hours, 2), meets_sla=True)]
    for b in te.baselines:
        rows.append(_row("baseline", b.label[:1].upper() + b.label[1:], b.configuration, b.monthly_usd, out_m, tot_m, total,
                         gpu_hours=b.gpu_hours, instance_hours=b.instance_hours, meets_sla=b.meets_sla))
    for a in te.api:
        start = curve.break_even(a.monthly_usd)
        note = (f"${a.input_usd_per_mtok:g} in / ${a.output_usd_per_mtok:g} out per 1M tokens; {a.confidence} confidence, "
                f"{a.effective_from or 'undated'}; {a.sources}")
        rows.append(_row("api", f"{a.provider} {a.model}", a.model_class, a.monthly_usd, out_m, tot_m, total,
                         break_even_output_tokens_per_day=None if start is None else round(start, 1), price_note=note))
    x_top = max([3 * x_spec] + [1.3 * r.break_even_output_tokens_per_day for r in rows if r.break_even_output_tokens_per_day])
    x_top = min(x_top, 20 * x_spec)
    xs = sorted({x_top * k / CURVE_POINTS for k in range(CURVE_POINTS + 1)} | {x_spec} | ({curve.kink} if curve.kink < x_top else set()))
    points = [CurvePoint(output_tokens_per_day=round(x, 1), self_hosted_usd=round(curve.cost(x), 6), mean_instances=round(curve.instances(x), 4))
              for x in xs]
    apis = [r for r in rows if r.kind == "api"]
    cheapest = min(apis, key=lambda r: r.monthly_cost_usd, default=None)
    method = (f"Estimated from the plan's capacity, not simulated: mean instances = max({floor}, mean output tokens/s ÷ "
              f"({cap:,.0f} output tokens/s per instance at the SLA × {u:.0%} of billed capacity used, as the plan's autoscaling did)); "
              f"{fmt_money(per_inst_h)} per instance-hour (instances and storage), {fmt_money(fixed)} a month fixed, data processed "
              "per token as planned. At the spec's traffic it is the plan's simulated month." if cap else
              "Estimated from the plan: instances scale with traffic above the availability floor; at the spec's traffic it is the plan's "
              "simulated month.")
    notes = list(te.notes)
    return TokenView(
        model=te.model, architecture_only=te.architecture_only, mean_prompt_tokens=te.mean_prompt_tokens, mean_output_tokens=te.mean_output_tokens,
        output_tokens_per_day=round(x_spec, 1), total_tokens_per_day=round(tot_m / DAYS, 1), output_tokens_per_month=out_m,
        total_tokens_per_month=tot_m, gpus_per_instance=gpus, capacity_output_tokens_per_s=cap, utilisation=round(u, 4),
        floor_instances=floor, floor_monthly_usd=usd6(curve.cost(0.0)), fixed_monthly_usd=usd6(fixed), usd_per_instance_hour=usd6(per_inst_h),
        usd_per_million_requests_data=usd6(data / te.requests_per_month * 1e6) if te.requests_per_month else 0.0,
        curve_method=method, curve=points, rows=rows,
        hour_of_day_instance_hours=[round(v * DAYS, 3) for v in hour_of_day],
        break_even_output_tokens_per_day=cheapest.break_even_output_tokens_per_day if cheapest else None,
        verdict=_verdict(rows[0], cheapest, x_spec), notes=notes,
    )


def tokens_text(x: float) -> str:
    """``7.27M`` / ``242.4M`` / ``1.2B`` tokens."""
    for div, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:,.{1 if x / div >= 10 else 2}f}{unit}"
    return f"{x:,.0f}"


def _verdict(plan: TokenRow, api: TokenRow | None, x_spec: float) -> str:
    from toolkit.report.money import fmt_usd

    head = (f"At {tokens_text(x_spec)} output tokens a day (the spec's traffic) self-hosting costs {fmt_usd(plan.monthly_cost_cents)} a month "
            f"({fmt_usd(plan.per_million_output_cents)} per 1M output tokens).")
    if api is None:
        return head + " The API price table has no comparable model, so there is no API comparison."
    diff = api.vs_plan_cents or 0
    cmp = (f"the API is cheaper at your traffic, by {fmt_usd(-diff)} a month" if diff < 0 else
           f"self-hosting is cheaper, by {fmt_usd(diff)} a month" if diff > 0 else "they cost the same")
    be = api.break_even_output_tokens_per_day
    tail = (f"Self-hosting starts to pay above about {tokens_text(be)} output tokens a day (estimated from the plan's capacity)."
            if be is not None else "Its price per token is below the GPU's at any traffic, so self-hosting never pays against it.")
    return f"{head} The cheapest comparable API, {api.label}, would cost {fmt_usd(api.monthly_cost_cents)}: {cmp}. {tail}"
