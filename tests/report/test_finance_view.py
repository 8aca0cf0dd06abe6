"""The report finance reads (issue 21, item 16): cost and range first, savings explained, the policy in words,
only the bill's prices, and no chart of a flat line.

The spec has no field naming a calendar month (a plan projects 30 days from the day it was made), so the
report keeps its 30-day month; see docs/report.md.
"""

from __future__ import annotations

from tests.report.plans import make_plan
from toolkit.artifacts.common import save_artifact
from toolkit.artifacts.plan import Autoscaling, ScheduledAction
from toolkit.report import make_report, render


def _report(tmp_path, plan):
    return make_report(save_artifact(plan, tmp_path / "plan.json"))


def _floor_only_plan():
    """Capacity high enough that the floor of 2 carries the peak; the static-peak baseline is that same fleet."""
    plan = make_plan(capacity_rps=200.0)
    static = plan.chosen.model_copy(deep=True)
    static.autoscaling = Autoscaling(min_capacity=2, max_capacity=2, target_value=9600.0, safety_factor=0.8)
    plan.baselines.static_peak = static
    return plan


def test_the_policy_is_in_words_not_a_metric_name(plan_path):
    rep = make_report(plan_path)
    assert rep.scaling == "2 instances at all times, adding up to 4 more (6 in all) when traffic rises"
    assert rep.configuration["Scaling"] == rep.scaling
    assert rep.configuration["Scaling trigger"].startswith("adds an instance when the load passes 2,976 requests a minute per instance "
                                                           "(49.6 a second, 80% of what one instance serves within the SLA)")
    md = render(rep, "md")
    assert "Scaling: 2 instances at all times, adding up to 4 more (6 in all) when traffic rises." in md
    assert "target 2976 SageMakerVariantInvocationsPerInstance" not in md + render(rep, "html")
    assert "Autoscaling" not in rep.configuration


def test_scheduled_floors_read_as_clock_times(tmp_path):
    plan = make_plan()
    plan.chosen.autoscaling.scheduled = [ScheduledAction(name="min-4-at-0830-utc", schedule="cron(30 8 * * ? *)", min_capacity=4, max_capacity=6),
                                         ScheduledAction(name="min-2-at-2000-utc", schedule="cron(0 20 * * ? *)", min_capacity=2, max_capacity=6)]
    rep = _report(tmp_path, plan)
    assert rep.scaling.endswith("; scheduled daily floors: at least 4 from 08:30 UTC; at least 2 from 20:00 UTC")


def test_a_zero_saving_is_explained_not_shown_as_a_bare_card(tmp_path):
    rep = _report(tmp_path, _floor_only_plan())
    static = next(b for b in rep.baselines if b.key == "static_peak")
    assert static.savings_cents == 0
    assert static.note == ("No saving: this traffic never needs more than the SLA's availability floor of 2 instances, so the plan runs the "
                           "same fleet as static peak (ml.c7i.xlarge, 2 instances) and autoscaling has nothing to take away.")
    html = render(rep, "html")
    card = html.split('<div class="label">Saving vs static peak</div>')[1].split("</div></div>")[0]
    assert card.startswith('<div class="value">none</div><div class="note">No saving: this traffic never needs more than')
    assert "$0.00" not in card
    md = render(rep, "md")
    assert f"| Saving vs Static peak | {static.note} |" in md
    assert rep.scaling.endswith("(the simulated traffic never needed more than 2)")


def test_a_flat_fleet_gets_a_sentence_not_a_chart(tmp_path):
    rep = _report(tmp_path, _floor_only_plan())
    assert set(rep.hourly.instances) == {2.0}
    html = render(rep, "html")
    assert "Flat at 2 instances over all 720 simulated hours ($0.43 an hour)" in html
    assert html.count("<img ") == 1  # the baselines chart only
    md = render(rep, "md")
    assert "Flat at 2 instances over all 720 simulated hours (30 days, $0.43 an hour)" in md
    assert "Average day, instances by hour" not in md


def test_a_varying_fleet_keeps_its_chart(plan_path):
    html = render(make_report(plan_path), "html")
    assert html.count("<img ") == 2 and "Flat at" not in html


def test_only_the_bills_prices_are_in_the_price_table(plan_path):
    rep = make_report(plan_path)
    bill = {line.price_sku for line in rep.lines}
    assert {p.sku for p in rep.prices} == bill
    assert [p.sku for p in rep.other_prices] == ["sagemaker-hosting ml.g5.xlarge us-east-1"]  # the GPU baseline's
    md = render(rep, "md")
    table = md.split("## Prices")[1].split("<details>")[0]
    assert "ml.g5.xlarge" not in table and "ml.c7i.xlarge" in table
    assert next(f for f in rep.figures if f.figure == "Prices").value == "4 list prices"
