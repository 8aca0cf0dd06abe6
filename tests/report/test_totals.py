"""Totals add up: the CSV rows sum to the headline monthly figure to the cent, in every format."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import run_cli
from tests.report.plans import make_plan
from toolkit.artifacts.plan import CostItem
from toolkit.report.build import build_report
from toolkit.report.csv_format import render_csv
from toolkit.report.markdown import render_markdown
from toolkit.report.money import MICRO, allocate_cents, fmt_usd, to_cents, to_micros


def csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_has_the_finance_columns_and_one_row_per_resource_component(plan_path):
    result = run_cli("report", plan_path, "-f", "csv,json")
    assert result.exit_code == 0, result.output
    text = (plan_path.parent / "report.csv").read_text()
    header = text.splitlines()[0].split(",")
    assert header == ["period", "period_start", "period_end", "service", "region", "resource", "component", "usage_quantity",
                      "usage_unit", "unit_price", "cost", "currency", "pricing_model", "charge_type", "price_sku", "price_as_of",
                      "price_age_days", "warning", "plan", "tag:team", "tag:cost-center", "tag:project"]
    rows = csv_rows(text)
    assert [(r["resource"], r["component"]) for r in rows] == [
        ("endpoint/minilm-embeddings", "instances"), ("endpoint/minilm-embeddings", "storage"),
        ("endpoint/minilm-embeddings", "data-processed"), ("bucket/minilm-embeddings-artifacts", "storage"),
    ]
    first = rows[0]
    assert (first["service"], first["usage_unit"], first["unit_price"], first["currency"]) == ("AmazonSageMaker", "instance-hour", "0.214", "USD")
    assert rows[3]["service"] == "AmazonS3"
    assert {r["tag:cost-center"] for r in rows} == {"cc-1234"}
    assert first["period"] == f"{first['period_start']}/{first['period_end']}"
    # the rows (exact to 1e-6) sum to the JSON headline exactly, and to the Markdown headline to the cent
    data = json.loads((plan_path.parent / "report.json").read_text())
    assert sum(Decimal(r["cost"]) for r in rows) == Decimal(str(data["monthly_cost_usd"])) == Decimal("362.330781")
    assert to_cents(sum(Decimal(r["cost"]) for r in rows)) == data["monthly_cost_cents"] == 36233
    assert first["cost"] == "352.886"  # 1,649 instance-hours × $0.214, exactly
    # usage × unit price gives each row's cost (to rounding)
    for r in rows:
        assert abs(Decimal(r["usage_quantity"]) * Decimal(r["unit_price"]) - Decimal(r["cost"])) <= Decimal("0.01")


def test_every_format_shows_the_same_headline(plan_path):
    rep = build_report(make_plan())
    headline = fmt_usd(rep.monthly_cost_cents)
    md = render_markdown(rep)
    assert f"| **Monthly cost (on demand)** | **{headline}** |" in md
    assert f"| **Total** |  |  |  |  | **{headline}** |" in md
    assert rep.monthly_cost_cents == to_cents(make_plan().chosen.monthly_cost_usd)
    assert sum(s.cost_cents for s in rep.by_resource) == rep.monthly_cost_cents
    assert sum(s.cost_cents for s in rep.by_component) == rep.monthly_cost_cents


BASE_PLAN = make_plan()
costs = st.lists(st.floats(min_value=0, max_value=20_000, allow_nan=False, allow_infinity=False), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(costs)
def test_csv_rows_sum_to_the_headline_for_any_cost_items(amounts):
    """Many items of awkward fractional costs: rounding each row on its own would drift; allocation does not."""
    plan = BASE_PLAN.model_copy(deep=True)
    template = plan.chosen.cost_items[0]
    plan.chosen.cost_items = [
        CostItem(resource=f"endpoint/e{i % 3}", component=["instances", "storage", "data-processed"][i % 3], usage_quantity=a / 0.214,
                 unit="instance-hour", unit_price_usd=0.214, cost_usd=a, price=template.price)
        for i, a in enumerate(amounts)
    ]
    plan.chosen.monthly_cost_usd = sum(amounts)
    rep = build_report(plan)
    rows = csv_rows(render_csv(rep))
    assert len(rows) == len(amounts)
    total = sum(Decimal(r["cost"]) for r in rows)
    # exact to 1e-6: the rows sum to the JSON headline exactly, and round to the headline's cents
    assert total == Decimal(to_micros(sum(amounts))) * MICRO == Decimal(repr(rep.monthly_cost_usd))
    assert to_cents(total) == rep.monthly_cost_cents == to_cents(sum(amounts))
    # no row moved by a micro-dollar or more from its exact amount; the cent rows sum to the headline too
    for r, a in zip(rows, amounts):
        assert abs(Decimal(r["cost"]) - Decimal(repr(a))) < Decimal("0.000001")
    assert sum(line.cost_cents for line in rep.lines) == rep.monthly_cost_cents


@given(st.lists(st.decimals(min_value=0, max_value=10_000, places=4), min_size=1, max_size=20))
def test_allocation_keeps_the_total_and_stays_within_a_cent(amounts):
    total = to_cents(sum(amounts))
    cents = allocate_cents(amounts, total)
    assert sum(cents) == total
    assert all(abs(Decimal(c) - a * 100) < 1 for c, a in zip(cents, amounts))


def test_half_cents_are_split_fairly():
    assert allocate_cents([0.005, 0.005, 0.005], 2) == [1, 1, 0]
    assert to_cents(2.675) == 268  # the decimal the float prints as, rounded half up (not binary 2.67499…)
