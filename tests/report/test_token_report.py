"""Issue 17's report part: a generative plan in token terms in every format, the cost-against-traffic chart, and token-cost
changes in `report diff`. The plans are `leanserve plan` on examples/llama-8b (architecture only) and the same spec on g5 only.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest

from tests.conftest import run_cli
from toolkit.artifacts.common import load_artifact
from toolkit.artifacts.plan import PlanFile
from toolkit.report import make_report
from toolkit.report.money import fmt_usd, to_cents
from toolkit.planner.token_curve import Curve


@pytest.fixture(scope="module")
def llm(llm_plans):
    return load_artifact(PlanFile, llm_plans["all"]), make_report(llm_plans["all"])


def test_costs_per_token_come_from_the_headline_and_the_plans_tokens(llm):
    plan, rep = llm
    t, te = rep.tokens, plan.tokens
    row = t.rows[0]
    assert row.per_million_output_usd == pytest.approx(rep.monthly_cost_usd / te.output_tokens_per_month * 1e6, abs=1e-6)
    assert row.per_million_total_usd == pytest.approx(rep.monthly_cost_usd / (te.prompt_tokens_per_month + te.output_tokens_per_month) * 1e6,
                                                      abs=1e-6)
    assert row.per_million_output_cents == to_cents(row.per_million_output_usd)
    assert row.gpu_hours == te.plan.gpu_hours and t.output_tokens_per_day == pytest.approx(te.output_tokens_per_month / 30, abs=0.1)
    # the baselines, including static peak on the default GPU, and every API row of the table, each against the plan
    labels = [r.label for r in t.rows]
    assert "Static peak on the default GPU" in labels
    assert [r.label for r in t.rows if r.kind == "api"] == [f"{a.provider} {a.model}" for a in te.api]
    for r in t.rows[1:]:
        assert r.vs_plan_usd == pytest.approx(r.monthly_cost_usd - rep.monthly_cost_usd, abs=1e-6)
    # instance-hours by hour of day: the simulated in-service hours, 30 days of each hour
    assert len(t.hour_of_day_instance_hours) == 24
    assert sum(t.hour_of_day_instance_hours) == pytest.approx(sum(plan.chosen.simulation.hourly_instances) * 30 * 24
                                                              / len(plan.chosen.simulation.hourly_instances), rel=1e-3)


def test_the_cost_curve_is_the_plans_month_at_its_traffic_and_its_floor_below(llm):
    plan, rep = llm
    t = rep.tokens
    at_spec = next(p for p in t.curve if p.output_tokens_per_day == t.output_tokens_per_day)
    assert at_spec.self_hosted_usd == pytest.approx(rep.monthly_cost_usd, abs=0.01)  # the simulated month, not a second model
    assert t.curve[0].output_tokens_per_day == 0 and t.curve[0].self_hosted_usd == pytest.approx(t.floor_monthly_usd, abs=1e-6)
    assert t.curve[0].mean_instances == plan.chosen.autoscaling.min_capacity
    costs = [p.self_hosted_usd for p in t.curve]
    assert costs == sorted(costs)  # more traffic never costs less
    # the floor equals the planner's availability minimum
    assert t.floor_monthly_usd == pytest.approx(plan.tokens.self_hosting_floor_usd, abs=0.01)
    # each break-even is where the API's line meets the curve: self-hosting is dearer just below it and cheaper just above
    for r in (r for r in t.rows if r.kind == "api" and r.break_even_output_tokens_per_day):
        x = r.break_even_output_tokens_per_day
        per_token_day = r.monthly_cost_usd / t.output_tokens_per_day
        curve = Curve(t.output_tokens_per_day, t.fixed_monthly_usd, t.usd_per_instance_hour * 720, 0.0, t.floor_instances,
                      plan.tokens.plan.instance_hours / 720)
        assert curve.cost(x * 0.98) > per_token_day * x * 0.98 and curve.cost(x * 1.02) < per_token_day * x * 1.02


def test_an_api_cheaper_per_token_than_the_gpu_never_breaks_even():
    c = Curve(x_spec=100.0, fixed=10.0, per_instance_month=1000.0, data_per_unit=0.0, floor=1, mean_instances=2.0)  # $20 per token/day
    assert c.break_even(1500.0) is None  # $15 per token/day: below the GPU's marginal cost at any traffic
    assert c.break_even(4000.0) == pytest.approx(1010.0 / 40.0)  # on the floor (below 50 a day): $1,010 / $40 per token/day
    assert c.break_even(2500.0) == pytest.approx(1010.0 / 25.0)
    assert c.break_even(2010.0) == pytest.approx(100.0)  # above the floor: $10 fixed / ($20.10 - $20) per token/day
    assert c.cost(100.0) == pytest.approx(2010.0)


def test_every_format_carries_the_token_view(llm_plans, tmp_path):
    result = run_cli("report", llm_plans["all"], "--out", tmp_path)
    assert result.exit_code == 0, result.output
    rep = make_report(llm_plans["all"])
    row = rep.tokens.rows[0]
    md = (tmp_path / "report.md").read_text()
    section = md.split("## Cost per token")[1].split("\n## ")[0]
    assert f"| **Cost per 1M output tokens** | **{fmt_usd(row.per_million_output_cents)}** |" in section
    assert f"| Cost per 1M total tokens (prompt + output) | {fmt_usd(row.per_million_total_cents)} |" in section
    assert f"| GPU-hours a month | {row.gpu_hours:,.1f}" in section and "| 15:00 |" in section
    assert "![Monthly cost against output tokens a day" in section and "Estimated from the plan's capacity" in section
    assert f"{fmt_usd(row.per_million_output_cents)} per 1M output tokens" in result.stdout
    html = (tmp_path / "report.html").read_text()
    assert "<h2>Cost per token</h2>" in html and html.count("data:image/svg+xml;base64,") == 3
    assert f'<div class="value">{fmt_usd(row.per_million_output_cents)}</div>' in html
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["tokens"]["rows"][0]["per_million_output_usd"] == row.per_million_output_usd
    long = list(csv.DictReader(io.StringIO((tmp_path / "report-tokens.csv").read_text())))
    plan_rows = {r["metric"]: r["value"] for r in long if r["section"] == "plan"}
    assert Decimal(plan_rows["usd_per_million_output_tokens"]) == Decimal(repr(row.per_million_output_usd))
    assert len([r for r in long if r["section"] == "hour_of_day"]) == 48
    assert {r["name"] for r in long if r["section"] == "comparison"} >= {f"api: {r.label}" for r in rep.tokens.rows if r.kind == "api"}
    # the line-item CSV still sums to the headline
    assert sum(Decimal(r["cost"]) for r in csv.DictReader(io.StringIO((tmp_path / "report.csv").read_text()))) == Decimal(
        repr(data["monthly_cost_usd"]))
    from PIL import Image

    with Image.open(tmp_path / "report-tokens.png") as im:
        assert im.size[0] > 600 and len(im.convert("RGB").getcolors(maxcolors=1 << 20)) > 50


def test_encoder_plans_have_no_token_section_and_no_extra_files(plan_path):
    assert run_cli("report", plan_path).exit_code == 0
    assert not (plan_path.parent / "report-tokens.png").exists() and not (plan_path.parent / "report-tokens.csv").exists()
    assert "## Cost per token" not in (plan_path.parent / "report.md").read_text()


def test_report_diff_shows_token_cost_changes(llm_plans):
    result = run_cli("report", "diff", llm_plans["all"], llm_plans["g5"])
    assert result.exit_code == 0, result.output
    old, new = make_report(llm_plans["all"]).tokens.rows[0], make_report(llm_plans["g5"]).tokens.rows[0]
    assert old.configuration != new.configuration and "g5." in new.configuration
    out = result.stdout
    assert "**Token costs**" in out
    assert (f"| Cost per 1M output tokens | {fmt_usd(old.per_million_output_cents)} | {fmt_usd(new.per_million_output_cents)} | "
            f"{fmt_usd(new.per_million_output_cents - old.per_million_output_cents, sign=True)} |") in out
    assert f"| GPU-hours a month | {old.gpu_hours:,.1f} | {new.gpu_hours:,.1f} |" in out
    assert f"| Configuration | {old.configuration} | {new.configuration} | changed |" in out
    data = json.loads(run_cli("--json", "report", "diff", llm_plans["all"], llm_plans["g5"]).stdout)
    assert (data["old"]["per_million_output_tokens_usd"], data["new"]["gpu_hours"]) == (old.per_million_output_usd, new.gpu_hours)
