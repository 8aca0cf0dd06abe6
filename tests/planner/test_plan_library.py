"""make_plan through the library: the plan's figures, search strategies, schedules, baselines, misses."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.planner.conftest import PROFILES, TRACES, VARIANTS, write_spec
from toolkit.planner.api import load_inputs, make_plan


def _plan(tmp_path, catalog, strategy="fast", top=5, **changes):
    loaded, variants, profiles = load_inputs(write_spec(tmp_path, **changes), VARIANTS, PROFILES)
    return make_plan(loaded, variants, profiles, catalog=catalog, strategy=strategy, top=top)


def _sig(plan):
    out = []
    for c in ([plan.chosen] + plan.runners_up) if plan.chosen else plan.nearest_misses:
        a = c.autoscaling
        out.append((c.variant, c.platform, c.instance_type, c.region, c.spot, c.monthly_cost_usd, c.simulation.violation_minutes,
                    (a.min_capacity, a.max_capacity, a.safety_factor, a.target_value, len(a.scheduled)) if a else c.serverless))
    return out


def test_example_plan_is_feasible_ranked_and_consistent(example_plan, inputs):
    p = example_plan.plan
    loaded = inputs[0]
    assert p.feasible and p.spec_sha256 == loaded.sha256 and p.strategy == "fast"
    ranked = [p.chosen] + p.runners_up
    assert len(ranked) == 5
    costs = [c.monthly_cost_usd for c in ranked]
    assert costs == sorted(costs)
    for c in ranked + [p.baselines.static_peak, p.baselines.single_gpu_default]:
        # the bill lines add up to the headline figure, and every line names its price
        assert math.isclose(sum(i.cost_usd for i in c.cost_items), c.monthly_cost_usd, rel_tol=1e-6, abs_tol=1e-4)
        assert all(i.price is not None and i.price.as_of for i in c.cost_items)
    for c in ranked:
        assert c.simulation.violation_minutes <= p.sla.max_violation_minutes_per_month
        assert c.monthly_cost_usd <= 3000  # the example's budget
    for c in p.runners_up:
        assert c.why_not.startswith("$") and "more than the chosen" in c.why_not
    # never worse than static provisioning for the peak (that policy is in the search)
    assert p.chosen.monthly_cost_usd <= p.baselines.static_peak.monthly_cost_usd
    assert p.traffic.minutes == 43200 and p.traffic.periodic is True
    assert p.prices and all(r.age_days >= 0 for r in p.prices)
    assert any("estimated" in e for e in p.estimates)
    assert p.search.lanes_simulated < p.search.lanes_total / 5  # the fast strategy prunes most lanes


def test_instance_candidates_carry_policy_capacity_band_and_hourly_series(example_plan):
    p = example_plan.plan
    inst = next(c for c in [p.chosen] + p.runners_up if c.autoscaling)
    a = inst.autoscaling
    assert a.min_capacity >= 2 and a.max_capacity >= a.min_capacity
    assert a.target_value == pytest.approx(inst.capacity.value * a.safety_factor * 60, rel=1e-3)
    assert a.metric == "SageMakerVariantInvocationsPerInstance"
    low, high = inst.capacity_band
    assert low < inst.capacity.value < high
    assert len(inst.simulation.hourly_instances) == 720 and len(inst.simulation.hourly_cost_usd) == 720
    assert sum(inst.simulation.hourly_cost_usd) == pytest.approx(inst.monthly_cost_usd, rel=1e-3)


def test_single_gpu_default_is_g5_xlarge_with_aws_default_target_tracking(example_plan):
    g = example_plan.plan.baselines.single_gpu_default
    assert g.instance_type == "ml.g5.xlarge" and g.variant == "onnx-fp16"
    assert g.autoscaling.safety_factor == 0.5
    assert g.autoscaling.scale_in_cooldown_s == 300 and g.autoscaling.scale_out_cooldown_s == 300
    assert g.autoscaling.target_value == pytest.approx(g.capacity.value * 0.5 * 60, rel=1e-3)


def test_capacity_used_never_exceeds_saturation(inputs, catalog):
    from toolkit.planner.candidates import enumerate_candidates
    from toolkit.traffic import demand

    loaded, variants, profiles = inputs
    d = demand(loaded.spec.traffic, loaded.spec.sla.peak_rps)[:1440]
    cset = enumerate_candidates(loaded.spec, variants, profiles, catalog, d)
    assert cset.groups
    for g in cset.groups:
        assert 0 < g.cap <= min(g.capacity.max_rps_at_sla, g.capacity.saturation_rps) + 1e-9
    # burstable t2 counts only its CPU-credit baseline
    t2 = next(g for g in cset.groups if g.instance.family == "t2")
    assert g.cap if False else t2.cap == pytest.approx(0.2 * min(t2.capacity.max_rps_at_sla, t2.capacity.saturation_rps))
    kinds = {x.kind for x in cset.excluded}
    assert {"hardware", "latency"} <= kinds


@pytest.mark.parametrize("changes", [
    {"traffic.days": 3, "targets.regions": ["us-east-1", "us-west-2", "eu-west-1"], "targets.allow_spot": True},
    {"traffic.days": 2, "traffic.pattern": {"kind": "bursty", "base_rps": 30, "bursts_per_day": 12, "burst_minutes": 10},
     "sla.max_violation_minutes_per_month": 0, "targets.instance_families": ["c5", "c6i", "m5", "t2"]},
    {"traffic.days": 3, "sla.peak_rps": 1500, "traffic.pattern.trough_rps": 100, "targets.platforms": ["kubernetes"], "targets.allow_spot": True},
    {"traffic.days": 2, "sla.p95_ms": 25, "sla.availability.min_instances": 1, "sla.availability.spread_across_zones": False},
])
def test_fast_and_exact_strategies_agree(tmp_path, catalog, changes):
    fast = _plan(tmp_path, catalog, "fast", 4, **changes)
    exact = _plan(tmp_path, catalog, "exact", 4, **changes)
    assert _sig(fast.plan) == _sig(exact.plan)
    assert exact.stats.lanes_simulated == exact.stats.lanes_total
    assert fast.stats.lanes_simulated <= exact.stats.lanes_simulated


def test_kubernetes_spot_carries_only_the_capacity_above_the_floor(tmp_path, catalog):
    """Spot nodes run above the availability floor, interruptions simulated; a fleet that never leaves the floor stays on demand."""
    flat = _plan(tmp_path, catalog, top=3, **{"traffic.days": 2, "targets.platforms": ["kubernetes"], "targets.allow_spot": True}).plan
    assert flat.chosen.spot is False and flat.chosen.purchase.spot is None  # 2 nodes all month: nothing to put on spot
    p = _plan(tmp_path, catalog, top=3, **{"traffic.days": 3, "sla.peak_rps": 1500, "traffic.pattern.trough_rps": 150,
                                           "targets.platforms": ["kubernetes"], "targets.allow_spot": True}).plan
    c = p.chosen
    assert c.spot is True and c.platform == "kubernetes"
    comps = {i.component for i in c.cost_items}
    assert {"instances", "storage", "cluster", "load-balancer"} <= comps
    skus = [i.price.sku for i in c.cost_items if i.component == "instances"]
    assert any(s.endswith(" spot") for s in skus) and any(s.endswith("on-demand floor") for s in skus)
    floor = next(i for i in c.cost_items if i.price.sku.endswith("on-demand floor"))
    assert floor.usage_quantity == pytest.approx(2 * 720)  # the availability minimum, all month, on demand
    s = c.purchase.spot
    assert s.floor_instances == 2 and s.interruption_band and s.violation_minutes == c.simulation.violation_minutes
    assert c.purchase.on_demand_usd > c.purchase.deployed_usd == pytest.approx(c.monthly_cost_usd, abs=0.01)


def test_scheduled_scaling_wins_on_a_daily_spike(tmp_path, catalog):
    # 20 req/s with a jump to 400 req/s at 09:00 UTC on weekdays; only ml.c5.large allowed
    p = _plan(tmp_path, catalog, top=1, **{"traffic.pattern": {"kind": "trace", "file": str(TRACES / "morning-spike-7d.csv")},
                                           "sla.peak_rps": 400, "targets.platforms": ["sagemaker-realtime"],
                                           "targets.instance_types": ["ml.c5.large"]}).plan
    sched = p.chosen.autoscaling.scheduled
    # 8 min start-up ahead of 09:00, on weekdays only: the weekend has no spike (the trace starts on a Monday)
    assert [s.schedule for s in sched] == ["cron(52 8 ? * MON-FRI *)", "cron(52 9 ? * MON-FRI *)"]
    assert sched[0].min_capacity > p.chosen.autoscaling.min_capacity == 2
    r = p.scheduling.results[0]
    assert r.adopted and r.adopted_weekly and r.weekly_usd < r.scheduled_usd < r.target_tracking_usd
    assert p.chosen.monthly_cost_usd == pytest.approx(r.weekly_usd, abs=0.01)
    assert r.weekly_actions == [f"{s.schedule} min {s.min_capacity}" for s in sched]


def test_scheduled_scaling_is_not_compared_on_aperiodic_traffic(tmp_path, catalog):
    p = _plan(tmp_path, catalog, top=2, **{"traffic.days": 3, "targets.platforms": ["sagemaker-realtime"],
                                           "traffic.pattern": {"kind": "bursty", "base_rps": 40, "bursts_per_day": 6}}).plan
    assert p.scheduling.compared is False and "not periodic" in p.scheduling.reason


def test_impossible_latency_gives_nearest_misses_with_what_to_relax(tmp_path, catalog):
    p = _plan(tmp_path, catalog, top=3, **{"traffic.days": 2, "sla.p95_ms": 0.5}).plan
    assert not p.feasible and p.chosen is None and len(p.nearest_misses) == 3
    assert all("relax sla.p95_ms to >=" in m.why_not for m in p.nearest_misses)
    need = [int(m.why_not.split("relax sla.p95_ms to >= ")[1].split(",")[0]) for m in p.nearest_misses]
    assert need == sorted(need) and need[0] >= 1


def test_tight_budget_names_the_budget_and_the_amount(tmp_path, catalog):
    p = _plan(tmp_path, catalog, top=2, **{"traffic.days": 2, "budget.max_monthly_usd": 20}).plan
    assert not p.feasible
    m = p.nearest_misses[0]
    assert "> budget $20.00" in m.why_not and f"raise budget.max_monthly_usd to >= {math.ceil(m.monthly_cost_usd)}" in m.why_not


def test_plan_file_round_trips(example_plan, tmp_path):
    from toolkit.artifacts import load_artifact, save_artifact
    from toolkit.artifacts.plan import PlanFile

    path = save_artifact(example_plan.plan, tmp_path / "plan.json")
    back = load_artifact(PlanFile, path)
    assert back.chosen == example_plan.plan.chosen and back.baselines == example_plan.plan.baselines


def test_no_accepted_variant_is_infeasible(inputs, catalog):
    from toolkit.errors import ExitCode, InfeasibleError

    loaded, variants, profiles = inputs
    none = variants.model_copy(update={"variants": [v.model_copy(update={"status": "rejected", "rejected_reason": "cosine 0.5"})
                                                    for v in variants.variants]})
    with pytest.raises(InfeasibleError) as e:
        make_plan(loaded, none, profiles, catalog=catalog)
    assert e.value.exit_code == ExitCode.INFEASIBLE
    assert "onnx-int8 (cosine 0.5)" in e.value.hint


def test_serverless_cold_starts_and_throttling():
    from toolkit.artifacts.common import Estimated
    from toolkit.planner.serverless import ServerlessEstimate, concurrency_needed, simulate_serverless

    est = ServerlessEstimate("v", 2048, 1.16, service_ms=20.0, latency_ms=40.0, provenance=Estimated(model="t", uncertainty=0.5), cold_start_s=6.0)
    quiet_then_burst = np.r_[np.full(60, 1.0), np.full(30, 300.0), np.full(60, 1.0)]
    sim = simulate_serverless(quiet_then_burst, est, "p95")
    need = concurrency_needed(np.array([300.0]), 20.0)[0]
    assert need == math.ceil(6 + 2.326 * math.sqrt(6))  # Poisson p99 around 300 req/s x 20 ms
    assert sim.max_concurrency >= 1.5 * need and sim.throttled_minutes == 0
    assert sim.cold_starts == need - 1 and sim.violation_minutes == 1  # the burst's first minute meets cold containers
    assert sim.gb_seconds == pytest.approx(quiet_then_burst.sum() * 60 * 0.020 * 2.0)
    capped = simulate_serverless(quiet_then_burst, est, "p95", max_concurrency=5)
    assert capped.throttled_minutes == 30 and capped.violation_minutes >= 30


def test_kubernetes_policy_uses_the_metric_deploy_understands(tmp_path, catalog):
    from toolkit.deploy.checks import check_metric

    p = _plan(tmp_path, catalog, top=1, **{"traffic.days": 2, "targets.platforms": ["kubernetes"]}).plan
    assert p.chosen.autoscaling.metric == "requests"
    check_metric(p.chosen.autoscaling.metric, "kubernetes")  # raises on a metric deploy cannot map


def test_an_estimated_capacity_comes_with_a_dollar_range_re_searched_at_both_ends_of_its_band(tmp_path, catalog):
    """Finance reads "±x%" capacity as a cost range: at the low end more instances are needed, at the high end fewer."""
    p = _plan(tmp_path, catalog, top=1, **{"sla.peak_rps": 1500, "traffic.pattern.trough_rps": 150, "traffic.days": 7,
                                          "targets.platforms": ["sagemaker-realtime"]}).plan
    c = p.chosen
    assert c.capacity_provenance.source == "estimated"
    band = c.sensitivity.cost_band
    low_cap, high_cap = band.low_capacity, band.high_capacity
    assert (low_cap.capacity, high_cap.capacity) == tuple(c.capacity_band)
    assert low_cap.meets_sla and high_cap.meets_sla
    assert high_cap.monthly_cost_usd < c.monthly_cost_usd < low_cap.monthly_cost_usd
    assert high_cap.max_capacity <= c.autoscaling.max_capacity <= low_cap.max_capacity
    assert any(e.startswith(f"Re-searching the policy at each end of the band, the cheapest one that meets the SLA costs "
                            f"${high_cap.monthly_cost_usd:,.2f}") for e in p.estimates)
