"""`leanserve report PLAN`: the files it writes, what they say, and its errors."""

from __future__ import annotations

import json

from tests.conftest import run_cli
from tests.report.plans import make_plan
from toolkit.artifacts.common import save_artifact
from toolkit.artifacts.plan import BandEnd, CostBand, Sensitivity
from toolkit.report import make_report, render


def test_report_writes_the_four_formats_next_to_the_plan(plan_path):
    result = run_cli("report", plan_path, "--format", "md,csv,json")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("minilm-embeddings: $")
    written = sorted(p.name for p in plan_path.parent.iterdir())
    assert written == ["plan.json", "report.csv", "report.json", "report.md"]
    data = json.loads((plan_path.parent / "report.json").read_text())
    assert data["kind"] == "cost-report" and data["currency"] == "USD"
    assert f"${data['monthly_cost_usd']:,.2f}" in result.stdout


def test_report_json_summary_and_out_folder(plan_path, tmp_path):
    out = tmp_path / "reports"
    result = run_cli("--json", "report", "--format", "md", plan_path, "--out", out)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["files"] == {"md": str(out / "report.md")}
    assert data["name"] == "minilm-embeddings"
    assert (out / "report.md").read_text().startswith("# Cost report: minilm-embeddings")


def test_report_accepts_the_folder_holding_plan_json(plan_path):
    result = run_cli("report", plan_path.parent, "-f", "json")
    assert result.exit_code == 0, result.output
    assert (plan_path.parent / "report.json").exists()


def test_markdown_has_every_section_the_issue_asks_for(plan_path):
    rep = make_report(plan_path)

    md = render(rep, "md")
    for heading in ["## Configuration", "## Cost by component", "## Cost by resource", "## Line items", "## How to buy it",
                    "## Instances and cost over the traffic pattern", "## Plan vs baselines", "## Where the numbers come from",
                    "## Assumptions", "## Prices", "## Cost-allocation tags"]:
        assert heading in md
    assert "| Static peak | ml.c7i.xlarge, 4 instances |" in md
    assert "| Single-GPU default | ml.g5.xlarge, 1–2 instances |" in md
    # the GPU default misses the SLA in this plan's simulation, and the table says so
    assert md.split("| Single-GPU default |")[1].splitlines()[0].rstrip().endswith("| **no** |")
    # estimates are flagged as estimates
    assert "| Capacity per instance | 62 req/s | **estimated** | roofline calibrated on local CPU profile, ±25% |" in md


def test_measured_capacity_is_labelled_measured(write_plan):
    rep = make_report(write_plan(measured=True))
    cap = next(f for f in rep.figures if f.figure == "Capacity per instance")
    assert (cap.provenance, cap.detail) == ("measured", "measured on ml.c7i.xlarge, Triton")


def test_savings_plan_is_not_invented_when_the_catalog_has_none(plan_path):
    rep = make_report(plan_path)
    assert rep.savings_plan.available is False
    assert rep.savings_plan.monthly_cost_cents is None
    assert "holds on-demand rates only, so no discount is assumed" in rep.savings_plan.note


def test_savings_plan_rates_are_used_when_the_plan_lists_them(tmp_path):
    from toolkit.artifacts.plan import PriceRef

    plan = make_plan()
    od = plan.chosen.cost_items[0]
    sp = PriceRef(sku="sagemaker-savings-plan ml.c7i.xlarge us-east-1", usd=0.15, unit="hour", source="1yr no-upfront (test rate)",
                  as_of=od.price.as_of, age_days=od.price.age_days)
    plan.prices.append(sp)
    rep = make_report(save_artifact(plan, tmp_path / "plan.json"))
    assert rep.savings_plan.available
    rest = sum(line.cost_cents for line in rep.lines[1:])
    assert rep.savings_plan.monthly_cost_cents == round(od.usage_quantity * 0.15 * 100) + rest
    assert rep.savings_plan.savings_cents == rep.monthly_cost_cents - rep.savings_plan.monthly_cost_cents


def test_unknown_format_is_refused_with_a_suggestion(plan_path):
    result = run_cli("report", plan_path, "--format", "md,htm")
    assert result.exit_code == 2
    assert result.stderr == "error: unknown report format 'htm'\nhint: did you mean 'html'? choose from md, csv, html, json (comma-separated)\n"
    assert not (plan_path.parent / "report.md").exists()  # nothing written when any format is bad


def test_missing_plan(tmp_path):
    result = run_cli("report", tmp_path / "nope.json")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: plan.json not found: {tmp_path / 'nope.json'}\n")


def test_a_typo_of_diff_is_not_read_as_a_plan(tmp_path):
    result = run_cli("report", "dif", "a.json", "b.json")
    assert result.exit_code == 2
    assert "'dif' is neither a plan file nor a command; did you mean 'diff'?" in result.stderr


def test_report_help_shows_both_forms():
    result = run_cli("report", "--help")
    assert result.exit_code == 0
    usage = result.stdout.splitlines()[:2]  # CliRunner names the program "cli"
    assert usage == ["Usage: cli report [OPTIONS] PLAN", "   or: cli report diff [OPTIONS] OLD_PLAN NEW_PLAN"]
    assert "-f, --format FORMATS" in result.stdout and "-o, --out DIRECTORY" in result.stdout
    assert "diff  Show the monthly cost change from OLD_PLAN to NEW_PLAN, by resource." in result.stdout


def test_infeasible_plan_has_no_cost_to_report(tmp_path):
    plan = make_plan()
    plan.feasible, plan.chosen = False, None
    path = save_artifact(plan, tmp_path / "plan.json")
    result = run_cli("report", path)
    assert result.exit_code == 3
    assert result.stderr.splitlines() == [
        f"error: {path}: the plan chose no configuration (no candidate met the SLA and budget), so there is no cost to report",
        "hint: see the nearest misses with `leanserve plan`, relax the SLA or budget, and plan again",
    ]


def test_inconsistent_cost_items_are_refused(tmp_path):
    plan = make_plan()
    plan.chosen.monthly_cost_usd += 5.0
    path = save_artifact(plan, tmp_path / "plan.json")
    result = run_cli("report", path, "-f", "md")
    assert result.exit_code == 2
    assert "the chosen configuration's cost items sum to $362.33 but its monthly cost is $367.33" in result.stderr
    assert not (tmp_path / "report.md").exists()


def test_a_failed_render_leaves_no_report_files(plan_path, monkeypatch):
    import toolkit.report.html as html_mod

    def broken(report):
        raise KeyboardInterrupt  # e.g. Ctrl-C while the charts are drawn

    monkeypatch.setattr(html_mod, "render_html", broken)
    result = run_cli("report", plan_path)
    assert result.exit_code == 130
    assert sorted(p.name for p in plan_path.parent.iterdir()) == ["plan.json"]


def test_out_must_not_be_a_file(plan_path, tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    result = run_cli("report", plan_path, "--out", f)
    assert result.exit_code == 2
    assert "is a file" in result.stderr


def test_a_serverless_plan_reports_gb_seconds_and_no_hourly_chart(tmp_path):
    from tests.report.plans import make_serverless_plan

    path = save_artifact(make_serverless_plan(), tmp_path / "plan.json")
    rep = make_report(path)
    assert [(l.component, l.unit) for l in rep.lines] == [("serverless-compute", "GB-second"), ("data-processed", "GB")]
    assert rep.configuration["Serverless"] == "2048 MB, max concurrency 20"
    md = render(rep, "md")
    assert "The plan has no hourly series." in md
    assert "| Cold starts | 412 per month | **estimated** |" in md
    assert "Mean in-service instances" not in md
    assert "| $0.00002 / GB-second |" in md


def test_an_estimated_capacity_becomes_a_dollar_range_when_the_plan_has_one(tmp_path):
    plan = make_plan()
    plan.chosen.sensitivity = Sensitivity(cost_band=CostBand(
        low_capacity=BandEnd(capacity=46.5, meets_sla=True, monthly_cost_usd=812.4),
        high_capacity=BandEnd(capacity=77.5, meets_sla=True, monthly_cost_usd=401.25)))
    rep = make_report(save_artifact(plan, tmp_path / "plan.json"))
    cost = next(f for f in rep.figures if f.figure == "Monthly cost")
    assert cost.detail.endswith("with capacity at the ends of its band (46.5–77.5 req/s per instance, ±25%), the cheapest "
                                "autoscaling policy that meets the SLA on this configuration would cost $401.25–$812.40 a month")
    assert "$401.25–$812.40 a month" in render(rep, "md")
    assert rep.cost_range_cents == [40125, 81240]
    assert "| Monthly cost with capacity at either end of its estimate | $401.25–$812.40 |" in render(rep, "md")
    data = json.loads(render(rep, "json"))
    assert (data["cost_range_cents"], data["cost_range_usd"], data["capacity_uncertainty"]) == ([40125, 81240], [401.25, 812.4], 0.25)


def test_the_report_leads_with_the_monthly_cost_and_its_range(tmp_path):
    """Finance reads the month's cost first, with its range in full-size type when capacity is estimated."""
    plan = make_plan()
    plan.chosen.sensitivity = Sensitivity(cost_band=CostBand(
        low_capacity=BandEnd(capacity=46.5, meets_sla=True, monthly_cost_usd=812.4),
        high_capacity=BandEnd(capacity=77.5, meets_sla=True, monthly_cost_usd=401.25)))
    rep = make_report(save_artifact(plan, tmp_path / "plan.json"))
    md = render(rep, "md")
    lead = md.split("\n\n")[1]  # the first paragraph after the title
    assert lead == ("**$362.33 a month** on demand, projected for the 30 days from "
                    f"{rep.period_start}. Capacity per instance is an estimate (±25%), so the month could cost **$401.25–$812.40**.")
    html = render(rep, "html")
    assert html.index('<section class="lead">') < html.index('<div class="kpis">') < html.index("<h2>Configuration</h2>")
    assert ('<div class="value">$362.33</div><div class="range">$401.25–$812.40</div>'
            '<div class="note">with capacity at either end of its estimate (±25%)') in html
    assert "<strong>$401.25–$812.40</strong>" in html.split('<section class="lead">')[1].split("</section>")[0]
    # without a band (older plans), the report keeps the rule of thumb
    plain = make_report(save_artifact(make_plan(), tmp_path / "old" / "plan.json"))
    assert "carries about the capacity band (±25%)" in next(f for f in plain.figures if f.figure == "Monthly cost").detail
    assert plain.cost_range_cents is None and "either end of its estimate" not in render(plain, "md")
