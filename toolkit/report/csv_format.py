"""The cost report as CSV for finance tools: one row per period × resource × component.

Columns: the period (ISO 8601 interval, start, end), service (AWS service code), region, resource,
component, usage quantity and unit, unit price, cost, currency, pricing model, the price's SKU, date,
age when the plan was made (what ``plan --explain`` showed) and a warning when it is stale today, then
one ``tag:<key>`` column per cost-allocation tag. ``cost`` is exact to 1e-6 USD (the machine kinds'
grain, :mod:`toolkit.report.money`); the rows sum exactly to the JSON report's ``monthly_cost_usd``,
which rounds to the headline's cents.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from toolkit.report.model import CostReport, PriceRow
from toolkit.report.money import MICRO, to_micros

BASE_COLUMNS = [
    "period", "period_start", "period_end", "service", "region", "resource", "component",
    "usage_quantity", "usage_unit", "unit_price", "cost", "currency", "pricing_model",
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
            report.currency, "OnDemand", line.price_sku or "", price.as_of if price else "",
            f"{price.age_days:.0f}" if price else "", warning, report.plan_name,
            *report.tags.values(),
        ])
    return buf.getvalue()


def _money(usd: float) -> str:
    """An amount exact to 1e-6 USD, as a plain decimal with trailing zeros dropped (``352.894``, ``0.000527``)."""
    text = format(Decimal(to_micros(usd)) * MICRO, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
