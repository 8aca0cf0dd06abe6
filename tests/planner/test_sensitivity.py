"""Assumptions that decide a plan carry a sensitivity: the scale-in rule, serverless cold starts, Arm GPU hosts."""

from __future__ import annotations

from tests.planner.conftest import PROFILES, TRACES, VARIANTS, write_spec


def _plan(tmp_path, catalog, **changes):
    from toolkit.planner import load_inputs, make_plan

    loaded, v, p = load_inputs(write_spec(tmp_path, **changes), VARIANTS, PROFILES)
    return make_plan(loaded, v, p, catalog=catalog)


def test_the_scale_in_rule_is_stated_and_its_alternative_simulated(tmp_path, catalog):
    r = _plan(tmp_path, catalog, **{"traffic.pattern": {"kind": "trace", "file": str(TRACES / "bursty-7d.csv")},
                                    "targets.platforms": ["sagemaker-realtime"], "sla.peak_rps": 400})
    a = r.plan.chosen.sensitivity.scale_in_alternative
    assert a.assumed.startswith("a scale-in is sized from the highest demand") and "latest datapoint" in a.alternative
    # sizing from the latest datapoint scales in at least as far, so it can only add violation minutes
    assert a.violation_minutes >= r.plan.chosen.simulation.violation_minutes
    assert any(e.startswith("Scale-in rule (an assumption)") for e in r.plan.estimates)


def test_a_serverless_choice_shows_its_cold_start_and_keep_warm_varied(tmp_path, catalog):
    r = _plan(tmp_path, catalog)  # the example chooses serverless
    c = r.plan.chosen
    assert c.serverless is not None
    cases = [v.case for v in c.sensitivity.serverless]
    assert any(x.startswith("cold start x2") for x in cases) and any(x.startswith("keep-warm 5 min") for x in cases)
    assert sum(e.startswith("Serverless assumption varied") for e in r.plan.estimates) == 4


def test_a_longer_cold_start_can_only_add_violation_minutes():
    import numpy as np

    from toolkit.planner.serverless import ServerlessEstimate, simulate_serverless

    rng = np.random.default_rng(1)
    d = rng.choice([0.0, 0.5, 20.0], size=3 * 1440, p=[0.6, 0.3, 0.1])
    base = ServerlessEstimate(variant="v", memory_mb=2048, vcpus=1.2, service_ms=20.0, latency_ms=30.0, provenance=None, cold_start_s=2.0)
    short = simulate_serverless(d, base, "p95")
    from dataclasses import replace

    long_ = simulate_serverless(d, replace(base, cold_start_s=20.0), "p95", max_concurrency=short.max_concurrency)
    warm = simulate_serverless(d, base, "p95", max_concurrency=short.max_concurrency, keep_warm_min=30)
    assert long_.violation_minutes >= short.violation_minutes >= warm.violation_minutes


def test_an_arm_host_with_a_gpu_is_flagged(catalog):
    from toolkit.planner.sensitivity import arm_gpu_note

    note = arm_gpu_note(catalog.instance("g5g.xlarge"))
    assert note and "Arm host CPU" in note and "aarch64" in note
    assert arm_gpu_note(catalog.instance("g5.xlarge")) is None
