"""Issue 19's report part: "How to buy it" in every format, the commitment in the CSV as AWS bills it (upfront amortised,
one row a month) so the CSV sums to the month bought as recommended, and commitment changes in `report diff`.

The plans come from the real planner (tests/report/conftest.py) with Savings Plans rates that are test fixtures, not
cited prices; the embedded snapshot has none, and then the report keeps on demand and says so.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

from tests.conftest import run_cli
from toolkit.artifacts.common import load_artifact
from toolkit.artifacts.plan import PlanFile
from toolkit.report import make_report, render
from toolkit.report.money import fmt_rate, fmt_usd, to_cents, to_micros

MONTH_HOURS = Decimal(720)


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def _micros(x) -> Decimal:
    return Decimal(to_micros(x)) / 1_000_000


def test_spot_and_commitment_side_by_side_and_the_csv_sums_to_the_month_bought(purchase_plans):
    plan = load_artifact(PlanFile, purchase_plans["spot"])
    c, k = plan.chosen, plan.chosen.purchase.committed
    assert c.spot and c.platform == "kubernetes" and k is not None and k.upfront_usd > 0  # partial upfront won: the amortisation shows
    rep = make_report(purchase_plans["spot"])
    rows = {r.key: r for r in rep.purchase.rows}
    assert list(rows) == ["on-demand", "as-planned", "committed"]
    assert rows["on-demand"].monthly_cost_cents == to_cents(c.purchase.on_demand_usd)
    assert rows["as-planned"].monthly_cost_cents == rep.monthly_cost_cents  # the headline: spot above the floor, as deployed
    assert rows["committed"].monthly_cost_usd == float(_micros(c.monthly_cost_usd) - _micros(k.saving_usd))
    assert rows["on-demand"].monthly_cost_cents > rows["as-planned"].monthly_cost_cents > rows["committed"].monthly_cost_cents

    table = _rows(render(rep, "csv"))
    usage = [r for r in table if r["charge_type"] == "Usage"]
    sp = {r["charge_type"]: r for r in table if r["pricing_model"] == "SavingsPlan"}
    assert set(sp) == {"SavingsPlanRecurringFee", "SavingsPlanUpfrontFee", "SavingsPlanNegation"}
    # the Usage rows are the bill as planned; with the commitment's rows, the CSV sums to the month bought as recommended
    assert sum(Decimal(r["cost"]) for r in usage) == Decimal(repr(rep.monthly_cost_usd))
    total = sum(Decimal(r["cost"]) for r in table)
    assert total == Decimal(repr(rep.purchase.bought_monthly_cost_usd)) and to_cents(total) == rows["committed"].monthly_cost_cents
    # the upfront is amortised: this month's row is its share of the 1-year term (8,760 h), not the whole payment
    assert Decimal(sp["SavingsPlanUpfrontFee"]["cost"]) == _micros(Decimal(repr(k.upfront_usd)) * MONTH_HOURS / 8760)
    assert Decimal(sp["SavingsPlanUpfrontFee"]["cost"]) + Decimal(sp["SavingsPlanRecurringFee"]["cost"]) == _micros(
        Decimal(repr(k.commitment_usd_per_hour)) * MONTH_HOURS)
    assert Decimal(sp["SavingsPlanNegation"]["cost"]) < 0
    assert {r["pricing_model"] for r in usage if r["component"] == "instances"} == {"OnDemand", "Spot"}
    assert all("test fixture" in r["warning"] for r in sp.values())


def test_how_to_buy_it_reads_the_same_in_markdown_html_and_json(purchase_plans):
    rep = make_report(purchase_plans["spot"])
    k = load_artifact(PlanFile, purchase_plans["spot"]).chosen.purchase.committed
    md, html = render(rep, "md"), render(rep, "html")
    data = json.loads(render(rep, "json"))
    section = md.split("## How to buy it")[1].split("\n## ")[0]
    assert f"Buy a 1yr {k.payment} EC2 Instance Savings Plan of {fmt_rate(k.commitment_usd_per_hour)} an hour" in section
    assert f"| With the commitment and spot above the floor | {fmt_usd(rep.purchase.bought_monthly_cost_cents)} |" in section
    assert f"| Break-even utilisation | {k.break_even_utilisation * 100:.1f}%" in section
    assert "a test fixture, not a cited price" in section
    for d in k.downside:  # -30% and -60%, as the planner re-simulated them
        assert f"| {d.traffic_change_pct:+.0f}% | {fmt_usd(to_cents(d.on_demand_usd))} | {fmt_usd(to_cents(d.committed_usd))} |" in section
    assert "Spot: 2 nodes stay on demand" in section and "`leanserve deploy` never buys one" in section
    assert "<h2>How to buy it</h2>" in html and fmt_usd(rep.purchase.bought_monthly_cost_cents) in html.split("<h2>How to buy it</h2>")[1]
    assert data["purchase"]["commitment"]["term"] == "1yr" and data["purchase"]["bought_monthly_cost_usd"] == rep.purchase.bought_monthly_cost_usd


def test_a_sagemaker_commitment_without_spot(purchase_plans):
    plan = load_artifact(PlanFile, purchase_plans["sagemaker"])
    k = plan.chosen.purchase.committed
    rep = make_report(purchase_plans["sagemaker"])
    assert [r.key for r in rep.purchase.rows] == ["on-demand", "committed"]
    assert rep.purchase.rows[0].monthly_cost_cents == rep.monthly_cost_cents  # all on demand is the plan as deployed
    table = _rows(render(rep, "csv"))
    types = [r["charge_type"] for r in table if r["pricing_model"] == "SavingsPlan"]
    assert ("SavingsPlanUpfrontFee" in types) == (k.upfront_usd > 0)
    assert {r["service"] for r in table if r["charge_type"].startswith("SavingsPlan") and r["component"] == "commitment"} == {
        "MachineLearningSavingsPlans"}
    assert sum(Decimal(r["cost"]) for r in table) == Decimal(repr(rep.purchase.bought_monthly_cost_usd))
    assert "Spot: not used by this plan" in render(rep, "md")


def test_no_rate_in_the_catalog_keeps_on_demand_and_never_invents_a_discount(purchase_plans):
    rep = make_report(purchase_plans["no-rate"])
    assert rep.purchase.commitment is None and [r.key for r in rep.purchase.rows] == ["on-demand"]
    assert rep.purchase.bought_monthly_cost_cents == rep.monthly_cost_cents
    md = render(rep, "md").split("## How to buy it")[1].split("\n## ")[0]
    assert "**Keep buying on demand: no Savings Plans rate for this configuration is in the price catalog" in md
    assert "no discount is assumed" in md
    table = _rows(render(rep, "csv"))
    assert {r["pricing_model"] for r in table} == {"OnDemand"} and {r["charge_type"] for r in table} == {"Usage"}
    assert sum(Decimal(r["cost"]) for r in table) == Decimal(repr(rep.monthly_cost_usd))


def test_a_plan_without_a_purchase_section_says_so(plan_path):
    rep = make_report(plan_path)
    assert rep.purchase.available is False
    md = render(rep, "md")
    assert "This plan has no purchase section" in md and "so no discount is assumed" in md


def test_report_diff_shows_the_commitment_change(purchase_plans):
    result = run_cli("report", "diff", purchase_plans["on-demand"], purchase_plans["spot"])
    assert result.exit_code == 0, result.output
    new = make_report(purchase_plans["spot"]).purchase
    k = new.commitment
    assert (f"| Savings Plans commitment | none (on demand) | {fmt_rate(k.usd_per_hour)}/hour, {k.term} {k.payment} {k.plan} |"
            in result.stdout)
    assert "| Monthly cost with the recommended commitment | " in result.stdout
    assert result.stdout.split("| Monthly cost with the recommended commitment | ")[1].split("\n")[0].endswith(
        f"| {fmt_usd(new.bought_monthly_cost_cents)} |")
    js = run_cli("--json", "report", "diff", purchase_plans["on-demand"], purchase_plans["spot"])
    data = json.loads(js.stdout)
    assert data["old"]["commitment"] == "none (on demand)" and data["new"]["bought_monthly_cost_usd"] == new.bought_monthly_cost_usd
