"""One rounding for money per output kind (issue 21, item 14), and price ages that agree between
``plan --explain`` and the report.

Text (plan's table and headline, --explain, report's summary line), Markdown and HTML show whole cents;
JSON and CSV give dollars exact to 1e-6, which round to those cents. A price's age is computed once, at
plan time, and every output shows that number.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests.conftest import EXAMPLE_SPEC, run_cli
from tests.planner.conftest import PROFILES, VARIANTS
from toolkit.report import make_report, render
from toolkit.report.money import (
    fmt_money,
    fmt_per_million,
    fmt_usd,
    to_cents,
    to_micros,
    usd6,
)


def test_the_rule_cents_from_micro_dollars():
    assert (to_micros(1.7379449), usd6(1.7379449), to_cents(1.7379449)) == (1737945, 1.737945, 174)
    # a cent figure is the rounding of the 1e-6 figure, so the two grains never disagree
    assert to_cents(0.0049996) == to_cents(usd6(0.0049996)) == 1
    assert fmt_per_million(1.7379) == fmt_money(1.7379) == "$1.74"
    assert fmt_money(0.0004) == "<$0.01" and fmt_money(0.0) == "$0.00"
    assert fmt_money(-12.345) == "-$12.35"


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    """A real plan of the example spec, its --explain text and --json output, and its report in every format."""
    folder = tmp_path_factory.mktemp("money")
    out = folder / "plan.json"
    text = run_cli("plan", EXAMPLE_SPEC, "--variants", VARIANTS, "--profiles", PROFILES, "--out", out, "--explain")
    assert text.exit_code == 0, text.output
    js = run_cli("--json", "plan", EXAMPLE_SPEC, "--variants", VARIANTS, "--profiles", PROFILES, "--out", folder / "again.json")
    assert js.exit_code == 0, js.output
    rep = run_cli("report", out)
    assert rep.exit_code == 0, rep.output
    files = {f: (folder / f"report.{f}").read_text(encoding="utf-8") for f in ("md", "csv", "html", "json")}
    return text.stdout, json.loads(js.stdout), rep.stdout, files, out


def test_the_same_figure_reads_the_same_in_every_text_output(planned):
    plan_text, _, report_line, files, _ = planned
    data = json.loads(files["json"])
    month, per_m = fmt_usd(data["monthly_cost_cents"]), fmt_usd(data["cost_per_million_requests_cents"])
    headline = plan_text.splitlines()[0]
    assert f"for {month} a month ({per_m} per 1M requests" in headline
    row = next(line for line in plan_text.splitlines() if line[:13].strip() == "1")
    assert f"{month}  " in row and f" {per_m}  " in row
    assert report_line.startswith(f"minilm-embeddings: {month} a month on demand, {per_m} per 1M requests")
    assert f"| **Monthly cost (on demand)** | **{month}** |" in files["md"] and f"| Cost per 1M requests | {per_m} |" in files["md"]
    assert f'<div class="value">{month}</div>' in files["html"] and f'<div class="value">{per_m}</div>' in files["html"]
    # no figure with more than two decimals in the text outputs' amounts
    assert not re.search(r"\$\d[\d,]*\.\d{3}", headline + row + report_line)


def test_json_and_csv_are_exact_to_a_micro_dollar_and_round_to_the_text(planned):
    _, plan_json, _, files, _ = planned
    data = json.loads(files["json"])
    assert to_cents(data["monthly_cost_usd"]) == data["monthly_cost_cents"]
    assert to_cents(data["cost_per_million_requests_usd"]) == data["cost_per_million_requests_cents"]
    assert plan_json["top"][0]["monthly_usd"] == data["monthly_cost_usd"] == usd6(plan_json["chosen"]["monthly_cost_usd"])
    assert plan_json["top"][0]["per_million_usd"] == data["cost_per_million_requests_usd"]
    rows = list(csv.DictReader(io.StringIO(files["csv"])))
    total = sum(Decimal(r["cost"]) for r in rows)
    assert total == Decimal(repr(data["monthly_cost_usd"])) and to_cents(total) == data["monthly_cost_cents"]
    assert all(len(r["cost"].partition(".")[2]) <= 6 for r in rows)


def test_price_ages_agree_between_explain_and_the_report_even_days_later(planned):
    plan_text, _, _, _, plan_path = planned
    explained = dict(re.findall(r"^  - (.+?): \$[\d.,]+/\S+ \(\w+\) from .*, as of \S+, (\d+) days old", plan_text, re.M))
    assert explained
    later = make_report(plan_path, today=date.today() + timedelta(days=10))
    for p in later.prices + later.other_prices:
        assert f"{p.age_days:.0f}" == explained[p.sku], p.sku
        assert p.age_today_days >= p.age_days + 10
    rows = list(csv.DictReader(io.StringIO(render(later, "csv"))))
    assert {r["price_sku"]: r["price_age_days"] for r in rows} == {r["price_sku"]: explained[r["price_sku"]] for r in rows}
