"""plan.json schema versions: version-1 files (like infra/plans/*.plan.json) are read as typed version-2 plans."""

from __future__ import annotations

import json

import pytest

from tests.infra.harness import INFRA
from toolkit.artifacts.common import load_artifact, save_artifact
from toolkit.artifacts.plan import Candidate, ExcludedGroup, PlanFile, Sensitivity, Simulation, Traffic
from toolkit.errors import ArtifactError
from toolkit.sla import SLA, Constraint, Rate

V1 = INFRA / "plans" / "cpu.plan.json"


def test_a_version_1_plan_is_read_as_a_typed_plan(tmp_path):
    assert json.loads(V1.read_text())["schema_version"] == 1
    plan = load_artifact(PlanFile, V1)
    assert plan.schema_version == PlanFile.SCHEMA_VERSION == 2
    assert isinstance(plan.sla, SLA) and plan.sla.constraints == [Constraint(metric="latency", percentile="p95", limit=50.0, unit="ms")]
    assert (plan.sla.percentile, plan.sla.latency_ms, plan.sla.peak, plan.sla.peak_rps) == ("p95", 50.0, Rate(value=150.0, unit="req/s"), 150.0)
    assert (plan.sla.max_violation_minutes_per_month, plan.sla.min_instances, plan.sla.spread_across_zones, plan.sla.max_error_rate) == (60.0, 2, True, 0.001)
    assert isinstance(plan.traffic, Traffic) and plan.traffic.kind == "diurnal" and plan.traffic.requests_per_month == 213840000
    assert plan.chosen.capacity == Rate(value=100.0, unit="req/s", per="instance")
    # written back, it is a version-2 file that reads back the same
    back = load_artifact(PlanFile, save_artifact(plan, tmp_path / "plan.json"))
    assert back == plan
    data = json.loads((tmp_path / "plan.json").read_text())
    assert data["schema_version"] == 2 and "capacity_rps_per_instance" not in data["chosen"] and data["sla"]["constraints"][0]["percentile"] == "p95"


def test_a_version_1_sensitivity_and_capacity_band_are_renamed(tmp_path):
    data = json.loads(V1.read_text())
    data["chosen"] |= {"capacity_band_rps": [80.0, 120.0], "sensitivity": {
        "capacity_rps_per_instance": 80.0, "violation_minutes": 30.5, "meets_sla": True, "note": "low end",
        "cost_band": {"low_capacity": {"capacity_rps_per_instance": 80.0, "meets_sla": True, "monthly_cost_usd": 600.0, "max_capacity": 8},
                      "high_capacity": {"capacity_rps_per_instance": 120.0, "meets_sla": True, "monthly_cost_usd": 400.0, "max_capacity": 5}}}}
    (tmp_path / "plan.json").write_text(json.dumps(data))
    c = load_artifact(PlanFile, tmp_path / "plan.json").chosen
    assert c.capacity_band == [80.0, 120.0] and c.sensitivity.capacity == 80.0
    cheap, dear = c.cost_band_ends()
    assert (cheap.capacity, cheap.monthly_cost_usd, dear.capacity, dear.max_capacity) == (120.0, 400.0, 80.0, 8)


def test_an_unknown_plan_version_is_refused(tmp_path):
    data = json.loads(V1.read_text()) | {"schema_version": 99}
    (tmp_path / "plan.json").write_text(json.dumps(data))
    with pytest.raises(ArtifactError, match=r"schema_version 99 is not supported \(.* reads version 1, 2\)"):
        load_artifact(PlanFile, tmp_path / "plan.json")


def test_a_version_1_sla_without_one_latency_target_is_a_clear_error(tmp_path):
    data = json.loads(V1.read_text())
    data["sla"].pop("p95_ms")
    (tmp_path / "plan.json").write_text(json.dumps(data))
    with pytest.raises(ArtifactError, match="missing required key 'sla.constraints'"):
        load_artifact(PlanFile, tmp_path / "plan.json")


def _candidate(**kw) -> Candidate:
    sim = Simulation(minutes=60, violation_minutes=0.0, peak_instances=1, mean_instances=1.0, utilisation=0.5)
    return Candidate(variant="v", platform="sagemaker-realtime", region="us-east-1", instance_type="ml.c7i.xlarge",
                     monthly_cost_usd=1.0, cost_per_million_requests_usd=1.0, simulation=sim, **kw)


def test_the_version_1_keywords_still_build_a_typed_plan():
    """What a version-1 file holds: capacity_rps_per_instance, the spec's sla section, sections as plain mappings."""
    c = _candidate(capacity_rps_per_instance=62.5, capacity_band_rps=[50.0, 75.0])
    assert c.capacity == Rate(value=62.5, unit="req/s", per="instance") and c.capacity_band == [50.0, 75.0]
    c.sensitivity = {"capacity_rps_per_instance": 50.0, "violation_minutes": 3.0, "meets_sla": True,
                     "cost_band": {"low_capacity": {"capacity_rps_per_instance": 50.0, "meets_sla": False, "monthly_cost_usd": None}}}
    assert isinstance(c.sensitivity, Sensitivity) and c.sensitivity.cost_band.low_capacity.meets_sla is False
    assert c.sensitivity.capacity == 50.0 and c.cost_band_ends() is None
    plan = PlanFile(spec_sha256="0" * 64, name="n", sla={"p99_ms": 80.0, "peak_rps": 10.0}, traffic={"kind": "trace", "file": "t.csv"},
                    feasible=True, chosen=c, search={"strategy": "fast", "lanes_total": 10}, scheduling={"periodic": False, "compared": False})
    assert (plan.sla.percentile, plan.sla.latency_ms, plan.sla.peak_rps, plan.sla.min_instances) == ("p99", 80.0, 10.0, 1)
    assert plan.search.lanes_total == 10 and plan.search.lanes_pruned is None and plan.scheduling.compared is False
    plan.excluded = [{"variant": "v", "platform": "kubernetes", "kind": "cpu-only", "count": 2, "example": "g5.xlarge: CPU only"}]
    assert isinstance(plan.excluded[0], ExcludedGroup) and plan.excluded[0].variant == "v"
