"""`deploy --emit` and how the plan buys its capacity: the spot section for a spot plan, and a note on the Savings
Plan to buy (deploy never buys one)."""

from __future__ import annotations

import json

import yaml

from tests.conftest import run_cli
from tests.deploy.factories import (
    autoscaling,
    candidate,
    commitment,
    make_plan,
    plan_for_tarball,
    spot_candidate,
)

IMAGE = "registry.example.com/minilm-embeddings:onnx-fp16"


def _emit(plan_path, out, *extra):
    return run_cli("deploy", plan_path, "--emit", out, "--stack", "k8s", "--image", IMAGE, *extra)


def _flat(text: str) -> str:
    return " ".join(text.split())  # warnings are wrapped to the terminal's width


def test_emit_writes_the_spot_section_of_a_spot_plan(tmp_path, write_plan):
    out = tmp_path / "infra"
    result = _emit(write_plan(make_plan(spot_candidate(min_capacity=2, max_capacity=8, floor=2))), out)
    assert result.exit_code == 0, result.output
    text = (out / "Pulumi.k8s.yaml").read_text()
    assert "on Kubernetes (g5.xlarge nodes, 2 on demand + up to 6 spot)." in text.splitlines()[2]
    spot = yaml.safe_load(text)["config"]["leanserve:kubernetes"]["spot"]
    assert spot == {
        "floorReplicas": 2, "minSpotReplicas": 1, "maxSpotReplicas": 6, "instanceType": "g5.xlarge",
        "capacityTypeLabel": "karpenter.sh/capacity-type", "onDemandValue": "on-demand", "spotValue": "spot", "taintKey": "leanserve/spot",
        "nodePool": "minilm-embeddings-spot", "nodeClass": "default", "limits": {"cpu": "24", "nvidia.com/gpu": "6"}, "consolidateAfter": "5m",
    }
    assert "✓ spot burst 1–6 on g5.xlarge above 2 on demand = max 8" in result.stdout
    assert "the spot burst keeps at least 1 pod" in _flat(result.stderr)
    again = _emit(write_plan(make_plan(spot_candidate(min_capacity=2, max_capacity=8, floor=2)), name="plan2.json"), out)
    assert again.exit_code == 0 and ": unchanged (stack k8s" in again.stdout  # deterministic


def test_burst_minimum_follows_the_plan_above_the_floor(tmp_path, write_plan):
    result = run_cli("--json", "deploy", write_plan(make_plan(spot_candidate(min_capacity=4, max_capacity=9, floor=2))), "--emit", tmp_path / "infra",
                     "--stack", "k8s", "--image", IMAGE)
    data = json.loads(result.stdout)
    spot = data["config"]["leanserve:kubernetes"]["spot"]
    assert (spot["floorReplicas"], spot["minSpotReplicas"], spot["maxSpotReplicas"]) == (2, 2, 7)
    assert not any("at least 1 pod" in n for n in data["notes"])


def test_a_non_spot_plan_has_no_spot_section(tmp_path, write_plan):
    plan = make_plan(candidate(platform="kubernetes", instance_type="g5.xlarge", scaling=autoscaling(scheduled=False)))
    result = _emit(write_plan(plan), tmp_path / "infra")
    assert result.exit_code == 0, result.output
    assert "spot" not in yaml.safe_load((tmp_path / "infra" / "Pulumi.k8s.yaml").read_text())["config"]["leanserve:kubernetes"]


def test_a_spot_plan_that_never_leaves_its_floor_stays_on_demand(tmp_path, write_plan):
    result = _emit(write_plan(make_plan(spot_candidate(min_capacity=2, max_capacity=2, floor=2))), tmp_path / "infra")
    assert result.exit_code == 0, result.output
    assert "spot" not in yaml.safe_load((tmp_path / "infra" / "Pulumi.k8s.yaml").read_text())["config"]["leanserve:kubernetes"]
    assert "never scales above its on-demand floor (2 ≤ 2 nodes)" in _flat(result.stderr)


def test_a_recommended_savings_plan_is_named_not_bought(tmp_path, write_plan, package):
    c = candidate(scaling=autoscaling())
    c = c.model_copy(update={"purchase": spot_candidate(committed=commitment(plan="sagemaker", term="3yr", payment="partial-upfront", upfront=13218.0)).purchase.model_copy(update={"spot": None})})
    result = run_cli("deploy", write_plan(plan_for_tarball(package, c)), "--emit", tmp_path / "infra", "--stack", "prod", "--model", package)
    assert result.exit_code == 0, result.output
    note = _flat(result.stderr)
    assert ("warning: Savings Plan to buy: SageMaker Savings Plan, 3yr, partial-upfront, $1.0060/hour committed, $13,218.00 upfront "
            "(saves $348.40/month; pays off when used in at least 63% of the hours). deploy does not buy it") in note
    text = (tmp_path / "infra" / "Pulumi.prod.yaml").read_text()
    assert "savings" not in text.lower() and "commit" not in text.lower()  # nothing in the stack buys it


def test_no_note_without_a_commitment(tmp_path, write_plan, package):
    result = run_cli("deploy", write_plan(), "--emit", tmp_path / "infra", "--stack", "prod", "--model", package)
    assert result.exit_code == 0 and "Savings Plan" not in result.stderr
