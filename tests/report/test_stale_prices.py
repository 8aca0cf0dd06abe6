"""A plan whose prices are older than 30 days shows a warning in every format."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

from tests.conftest import run_cli
from tests.report.plans import make_plan
from toolkit.artifacts.common import save_artifact
from toolkit.report import make_report, render


def _texts(plan_path) -> dict[str, str]:
    return {f: (plan_path.parent / f"report.{f}").read_text() for f in ("md", "csv", "json")}


def test_stale_prices_warn_in_every_text_format_and_on_stderr(write_plan):
    path = write_plan(price_age_days=45)
    result = run_cli("report", path, "-f", "md,csv,json")
    assert result.exit_code == 0, result.output
    assert "warning: 5 of 5 prices are older than 30 days (oldest 45 days" in result.stderr
    t = _texts(path)
    assert "> **⚠ Warning:** 5 of 5 prices are older than 30 days (oldest 45 days:" in t["md"]
    assert "| 45 ⚠ older than 30 days |" in t["md"]
    rows = list(csv.DictReader(io.StringIO(t["csv"])))
    assert {r["warning"] for r in rows} == {"price older than 30 days (45 days); refresh prices and plan again"}
    assert {r["price_age_days"] for r in rows} == {"45"}
    data = json.loads(t["json"])
    assert data["warnings"][0].startswith("5 of 5 prices are older than 30 days")
    assert all(p["stale"] for p in data["prices"])


def test_stale_prices_warn_in_html(write_plan):
    rep = make_report(write_plan(price_age_days=31))
    html = render(rep, "html")
    assert '<div class="warning" role="alert"><strong>Warning:</strong> 5 of 5 prices are older than 30 days' in html
    assert html.count('<span class="badge stale">older than 30 days</span>') == 5


def test_fresh_prices_raise_no_warning(write_plan):
    path = write_plan(price_age_days=30)  # 30 days is not older than 30 days
    result = run_cli("report", path, "-f", "md,csv,json")
    assert result.exit_code == 0
    assert "warning" not in result.stderr
    t = _texts(path)
    assert "Warning" not in t["md"]
    assert {r["warning"] for r in csv.DictReader(io.StringIO(t["csv"]))} == {""}
    assert json.loads(t["json"])["warnings"] == []


def test_prices_age_while_the_plan_sits_in_the_repository(tmp_path):
    """Fresh when planned 40 days ago (age 5 days then); 45 days old today."""
    planned = date.today() - timedelta(days=40)
    path = save_artifact(make_plan(price_age_days=5, today=planned), tmp_path / "plan.json")
    rep = make_report(path)
    assert {p.age_days for p in rep.prices} == {45.0}
    assert rep.warnings and "older than 30 days" in rep.warnings[0]


def test_only_a_baseline_price_is_stale_csv_rows_still_say_so(tmp_path):
    plan = make_plan()
    gpu = next(p for p in plan.prices if "g5" in p.sku)
    gpu.as_of, gpu.age_days = (date.today() - timedelta(days=90)).isoformat(), 90.0
    rep = make_report(save_artifact(plan, tmp_path / "plan.json"))
    rows = list(csv.DictReader(io.StringIO(render(rep, "csv"))))
    assert {r["warning"] for r in rows} == {"this plan uses 1 price older than 30 days; refresh prices and plan again"}
    assert "1 of 5 prices are older than 30 days (oldest 90 days: sagemaker-hosting ml.g5.xlarge us-east-1)" in rep.warnings[0]
