"""Stale prices: a banner in every format, but only for prices on the bill; ages as the plan recorded them.

A price's age is computed once, at plan time (plan.json's ``prices[].age_days``, what ``plan --explain``
prints); staleness is judged on the day the report is made, so a plan that sits in a repository still
warns when its prices have aged past the threshold (``LEANSERVE_PRICE_MAX_AGE_DAYS``, default 30).
"""

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
    assert "warning: 4 of 4 prices in this bill are older than 30 days (oldest 45 days" in result.stderr
    t = _texts(path)
    assert "> **⚠ Warning:** 4 of 4 prices in this bill are older than 30 days (oldest 45 days:" in t["md"]
    assert "| 45 ⚠ older than 30 days |" in t["md"]
    rows = list(csv.DictReader(io.StringIO(t["csv"])))
    assert {r["warning"] for r in rows} == {"price older than 30 days (45 days); refresh prices and plan again"}
    assert {r["price_age_days"] for r in rows} == {"45"}
    data = json.loads(t["json"])
    assert data["warnings"][0].startswith("4 of 4 prices in this bill are older than 30 days")
    assert all(p["stale"] for p in data["prices"]) and data["stale_after_days"] == 30


def test_stale_prices_warn_in_html(write_plan):
    rep = make_report(write_plan(price_age_days=31))
    html = render(rep, "html")
    assert '<div class="warning" role="alert"><strong>Warning:</strong> 4 of 4 prices in this bill are older than 30 days' in html
    # the bill's four, and the GPU baseline's price among the other prices
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
    """Fresh when planned 40 days ago (5 days old then, what --explain said); 45 days old today, so stale now."""
    planned = date.today() - timedelta(days=40)
    path = save_artifact(make_plan(price_age_days=5, today=planned), tmp_path / "plan.json")
    rep = make_report(path)
    assert {(p.age_days, p.age_today_days) for p in rep.prices} == {(5.0, 45.0)}
    assert rep.warnings and "older than 30 days" in rep.warnings[0]
    assert f"it was 5 days old when the plan was made on {planned.isoformat()}" in rep.warnings[0]
    assert "| 5 (45 today) ⚠ older than 30 days |" in render(rep, "md")
    rows = list(csv.DictReader(io.StringIO(render(rep, "csv"))))
    assert {(r["price_age_days"], r["warning"]) for r in rows} == {("5", "price older than 30 days (45 days today); refresh prices and plan again")}


def test_a_stale_baseline_price_is_listed_apart_without_a_banner(tmp_path):
    """Only the bill's prices raise the banner; the GPU baseline's stale price is in 'other prices' with a note."""
    plan = make_plan()
    gpu = next(p for p in plan.prices if "g5" in p.sku)
    gpu.as_of, gpu.age_days = (date.today() - timedelta(days=90)).isoformat(), 90.0
    plan.baselines.single_gpu_default.cost_items[0].price = gpu
    rep = make_report(save_artifact(plan, tmp_path / "plan.json"))
    assert rep.warnings == []
    assert [p.sku for p in rep.other_prices] == ["sagemaker-hosting ml.g5.xlarge us-east-1"] and rep.other_prices[0].stale
    assert rep.notes == ["1 of the 1 prices outside this bill (baselines, runners-up) is older than 30 days; they do not enter the monthly cost."]
    assert "ml.g5.xlarge" not in {p.sku.split()[1] for p in rep.prices}
    rows = list(csv.DictReader(io.StringIO(render(rep, "csv"))))
    assert {r["warning"] for r in rows} == {""}
    md = render(rep, "md")
    assert "Warning" not in md and "<summary>Other prices in the plan (baselines and runners-up; not in this bill)</summary>" in md


def test_the_threshold_is_the_price_age_setting(write_plan, monkeypatch):
    path = write_plan(price_age_days=45)
    monkeypatch.setenv("LEANSERVE_PRICE_MAX_AGE_DAYS", "60")
    rep = make_report(path)
    assert rep.stale_after_days == 60 and rep.warnings == [] and not any(p.stale for p in rep.prices)
    monkeypatch.setenv("LEANSERVE_PRICE_MAX_AGE_DAYS", "7")
    rep = make_report(path)
    assert rep.warnings[0].startswith("4 of 4 prices in this bill are older than 7 days")
    assert "| 45 ⚠ older than 7 days |" in render(rep, "md")
