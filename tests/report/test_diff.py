"""`leanserve report diff OLD NEW`: the monthly cost change by resource, as a PR comment or JSON, with a CI gate."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli
from toolkit.report import diff_plans
from toolkit.report.diff import MARKER


@pytest.fixture
def two_plans(write_plan):
    """The chosen ml.c7i.xlarge plan, and a new one on ml.c7i.2xlarge that costs more."""
    return write_plan("old"), write_plan("new", instance_type="ml.c7i.2xlarge", capacity_rps=118.0)


def test_a_plan_diffed_with_itself_is_zero_and_says_so(plan_path):
    result = run_cli("report", "diff", plan_path, plan_path)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(MARKER + "\n### Leanserve cost diff: minilm-embeddings\n")
    assert "**No cost change: both plans cost $362.33 a month.** Every resource costs the same as before (change $0.00)." in result.stdout
    assert "| **Total** | **$362.33** | **$362.33** | **$0.00** |" in result.stdout
    assert "What changed" not in result.stdout
    data = json.loads(run_cli("--json", "report", "diff", plan_path, plan_path).stdout)
    assert (data["unchanged"], data["delta_usd"], data["changes"]) == (True, 0.0, [])
    assert data["summary"] == "No cost change: both plans cost $362.33 a month."
    assert all(d["delta_cents"] == 0 for d in data["by_resource"] + data["by_component"])


def test_the_comment_gives_the_delta_by_resource(two_plans):
    old, new = two_plans
    d = diff_plans(old, new)
    assert d.delta_cents == d.new.monthly_cost_cents - d.old.monthly_cost_cents > 0
    assert sum(r.delta_cents for r in d.by_resource) == d.delta_cents
    assert sum(r.delta_cents for r in d.by_component) == d.delta_cents
    result = run_cli("report", "diff", old, new)
    assert result.exit_code == 0
    out = result.stdout
    assert f"🔺 **Monthly cost $362.33 → $625.60 (+$263.27, +72.7%)**" in out
    assert "| endpoint/minilm-embeddings | $362.33 | $625.60 | +$263.27 |" in out
    assert "| endpoint/minilm-embeddings | instances | $352.89 | $616.32 | +$263.43 |" in out
    assert "| Instance type | ml.c7i.xlarge | ml.c7i.2xlarge |" in out


def test_a_cheaper_plan_shows_a_negative_delta(two_plans):
    old, new = two_plans
    out = run_cli("report", "diff", new, old).stdout
    assert "🔻 **Monthly cost $625.60 → $362.33 (-$263.27, -42.1%)**" in out


def test_fail_above_trips_exit_4_and_still_prints_the_comment(two_plans):
    old, new = two_plans
    result = run_cli("report", "diff", old, new, "--fail-above", "100")
    assert result.exit_code == 4
    assert "❌ **Cost gate failed:** the monthly increase +$263.27 is above the limit of $100.00." in result.stdout
    assert result.stderr.splitlines()[-2:] == [
        "error: the monthly cost rises by $263.27 ($362.33 → $625.60), above --fail-above $100.00",
        "hint: make the plan cheaper, or raise --fail-above if the increase is intended",
    ]


def test_fail_above_passes_at_or_over_the_increase(two_plans):
    old, new = two_plans
    result = run_cli("report", "diff", old, new, "--fail-above", "263.27")  # equal is not above
    assert result.exit_code == 0
    assert "✅ Cost gate passed: the monthly change +$263.27 is within the limit of $263.27." in result.stdout
    assert run_cli("report", "diff", new, old, "--fail-above", "0").exit_code == 0  # a saving never trips it


def test_json_format_and_out_file(two_plans, tmp_path):
    old, new = two_plans
    out = tmp_path / "diff.json"
    result = run_cli("report", "diff", old, new, "--format", "json", "--out", out, "--fail-above", "1000")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    data = json.loads(out.read_text())
    assert data["kind"] == "cost-diff"
    # JSON: cents as the comment shows them, dollars exact to 1e-6 (which round to those cents)
    assert (data["old"]["monthly_cost_cents"], data["new"]["monthly_cost_cents"], data["delta_cents"]) == (36233, 62560, 26327)
    assert (data["old"]["monthly_cost_usd"], data["new"]["monthly_cost_usd"], data["delta_usd"]) == (362.330781, 625.602226, 263.271445)
    assert data["gate"] == {"fail_above_usd": 1000.0, "tripped": False}
    assert data["by_resource"][0] == {"resource": "endpoint/minilm-embeddings", "component": None, "old_cents": 36233, "new_cents": 62560,
                                      "old_usd": 362.330254, "new_usd": 625.601699, "delta_cents": 26327, "delta_usd": 263.271445}


def test_negative_limit_is_refused(plan_path):
    result = run_cli("report", "diff", plan_path, plan_path, "--fail-above", "-5")
    assert result.exit_code == 2
    assert "Invalid value for '--fail-above': -5.0 is not in the range x>=0." in result.stderr


def test_stale_prices_warn_in_the_diff(write_plan):
    old, new = write_plan("old"), write_plan("new", price_age_days=40)
    result = run_cli("report", "diff", old, new)
    assert f"> **⚠ Warning:** The new plan ({new}) bills 4 prices older than 30 days (oldest 40 days); refresh prices and plan again." in result.stdout
    assert "warning: The new plan" in result.stderr


def test_components_that_appear_or_vanish_count_from_zero(tmp_path, plan_path):
    from tests.report.plans import make_serverless_plan
    from toolkit.artifacts.common import save_artifact

    new = save_artifact(make_serverless_plan(), tmp_path / "serverless" / "plan.json")
    d = diff_plans(plan_path, new)
    rows = {(r.resource, r.component): (r.old_cents, r.new_cents) for r in d.by_component}
    assert rows[("endpoint/minilm-embeddings", "instances")] == (35289, 0)
    assert rows[("endpoint/minilm-embeddings", "serverless-compute")][0] == 0
    assert sum(r.delta_cents for r in d.by_component) == d.delta_cents < 0
    assert {"setting": "Platform", "old": "sagemaker-realtime", "new": "sagemaker-serverless"} in [c.model_dump() for c in d.changes]
