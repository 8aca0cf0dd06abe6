"""The cost report as CSV for finance tools: one row per period × resource × component.

Columns: the period (ISO 8601 interval, start, end), service (AWS service code), region, resource,
component, usage quantity and unit, unit price, cost, currency, pricing model, the price's SKU, date,
age when the plan was made (what ``plan --explain`` showed) and a warning when it is stale today, then
one ``tag:<key>`` column per cost-allocation tag. ``cost`` is exact to 1e-6 USD (the machine kinds'
grain, :mod:`toolkit.report.money`). ``pricing_model`` is OnDemand, Spot or SavingsPlan; ``charge_type``
uses AWS's line-item types: ``Usage`` for the bill as planned, whose rows sum exactly to the JSON report's
``monthly_cost_usd`` (which rounds to the headline's cents), and, when the plan recommends a Savings Plans
commitment, its month as AWS bills it (``SavingsPlanRecurringFee``, ``SavingsPlanUpfrontFee`` amortised one
row a month, ``SavingsPlanNegation`` of the usage it covers; :mod:`toolkit.report.buying`), so that all the
rows sum exactly to ``purchase.bought_monthly_cost_usd``, the month bought as recommended.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from toolkit.report.model import CostReport, PriceRow
from toolkit.report.money import MICRO, to_micros

BASE_COLUMNS = [
    "period", "period_start", "period_end", "service", "region", "resource", "component",
    "usage_quantity", "usage_unit", "unit_price", "cost", "currency", "pricing_model", "charge_type",
    "price_sku", "price_as_of", "price_age_days", "warning", "plan",
]


def _num(x: float, places: int = 6) -> str:
    """A plain decimal (no exponent), at most ``places`` decimals, trailing zeros dropped."""
    d = Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-places))
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def csv_columns(report: CostReport) -> list[str]:
    return BASE_COLUMNS + [f"tag:{k}" for k in report.tags]


def _age_note(p: PriceRow) -> str:
    return f"{p.age_today_days:.0f} days" + (" today" if p.age_today_days != p.age_days else "")


def render_csv(report: CostReport) -> str:
    prices: dict[str, PriceRow] = {p.sku: p for p in report.prices}
    limit = report.stale_after_days
    region = report.configuration.get("Region", "")
    stale = [p for p in report.prices if p.stale]
    general = (f"this bill uses {len(stale)} price{'s' if len(stale) != 1 else ''} older than {limit} days; refresh prices and plan again"
               if stale else "")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")  # RFC 4180 line endings, what spreadsheets expect
    writer.writerow(csv_columns(report))
    for line in report.lines:
        price = prices.get(line.price_sku or "")
        warning = (f"price older than {limit} days ({_age_note(price)}); refresh prices and plan again" if price and price.stale
                   else general)
        writer.writerow([
            report.period, report.period_start, report.period_end, line.service, region, line.resource, line.component,
            _num(line.usage_quantity), line.unit, _num(line.unit_price_usd, 10), _money(line.cost_usd),
            report.currency, _pricing_model(line.price_sku), "Usage", line.price_sku or "", price.as_of if price else "",
            f"{price.age_days:.0f}" if price else "", warning, report.plan_name,
            *report.tags.values(),
        ])
    _commitment_rows(report, writer, region)
    return buf.getvalue()


def _pricing_model(sku: str | None) -> str:
    """Spot for the spot node lines (``ec2 c7i.large us-east-1 spot``); the floor and fallbacks are on demand."""
    words = (sku or "").split()
    return "Spot" if words and words[-1] == "spot" else "OnDemand"


def _commitment_rows(report: CostReport, writer, region: str) -> None:
    from toolkit.report.buying_format import commitment_csv_rows

    k = report.purchase.commitment if report.purchase else None
    for row in commitment_csv_rows(report):
        writer.writerow([
            report.period, report.period_start, report.period_end, row["service"], region, row["resource"], row["component"],
            _num(row["usage_quantity"]), row["usage_unit"], _num(row["unit_price"], 10), _money(row["cost"]), report.currency,
            "SavingsPlan", row["charge_type"], k.rate.sku, k.rate.as_of, f"{k.rate.age_days:.0f}",
            "recommended purchase, not bought by deploy" + ("; the rate is a test fixture" if k.rate_is_test_fixture else ""),
            report.plan_name, *report.tags.values(),
        ])


def _money(usd: float) -> str:
    """An amount exact to 1e-6 USD, as a plain decimal with trailing zeros dropped (``352.894``, ``0.000527``)."""
    text = format(Decimal(to_micros(usd)) * MICRO, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


TOKEN_COLUMNS = ["plan", "section", "name", "configuration", "metric", "value", "unit"]
TOKENS_FILE = "report-tokens.csv"


def render_tokens_csv(report: CostReport) -> str | None:
    """Generative plans: the token view in long form (one figure a row), next to report.csv as ``report-tokens.csv``.

    Sections: ``plan`` (the month in token terms), ``comparison`` (the plan, its baselines and each API),
    ``hour_of_day`` (in-service instance- and GPU-hours a month at each hour), ``curve`` (the estimated
    self-hosted month against output tokens a day). Amounts exact to 1e-6 USD, as in report.csv.
    """
    t = report.tokens
    if t is None:
        return None
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(TOKEN_COLUMNS)

    def put(section, name, configuration, metric, value, unit):
        if value is None:
            return
        text = _money(value) if unit == "USD" else _num(value) if isinstance(value, float) else str(value)
        writer.writerow([report.plan_name, section, name, configuration or "", metric, text, unit])

    plan = t.rows[0]
    for metric, value, unit in (("usd_per_million_output_tokens", plan.per_million_output_usd, "USD"),
                                ("usd_per_million_total_tokens", plan.per_million_total_usd, "USD"),
                                ("output_tokens_per_day", t.output_tokens_per_day, "tokens"), ("total_tokens_per_day", t.total_tokens_per_day, "tokens"),
                                ("gpu_hours_per_month", plan.gpu_hours, "GPU-hour"), ("instance_hours_per_month", plan.instance_hours, "instance-hour"),
                                ("capacity_output_tokens_per_s", t.capacity_output_tokens_per_s, "tokens/s"),
                                ("self_hosting_floor", t.floor_monthly_usd, "USD"),
                                ("break_even_output_tokens_per_day", t.break_even_output_tokens_per_day, "tokens")):
        put("plan", "this plan", plan.configuration, metric, value, unit)
    for r in t.rows:
        for metric, value, unit in (("monthly_cost", r.monthly_cost_usd, "USD"), ("usd_per_million_output_tokens", r.per_million_output_usd, "USD"),
                                    ("usd_per_million_total_tokens", r.per_million_total_usd, "USD"), ("gpu_hours_per_month", r.gpu_hours, "GPU-hour"),
                                    ("vs_plan", r.vs_plan_usd, "USD"), ("break_even_output_tokens_per_day", r.break_even_output_tokens_per_day, "tokens")):
            put("comparison", f"{r.kind}: {r.label}", r.configuration, metric, value, unit)
    for k, hours in enumerate(t.hour_of_day_instance_hours):
        put("hour_of_day", f"{k:02d}:00", plan.configuration, "instance_hours_per_month", hours, "instance-hour")
        put("hour_of_day", f"{k:02d}:00", plan.configuration, "gpu_hours_per_month", hours * t.gpus_per_instance, "GPU-hour")
    for p in t.curve:
        put("curve", _num(p.output_tokens_per_day), "self-hosted (estimated)", "monthly_cost", p.self_hosted_usd, "USD")
    return buf.getvalue()
