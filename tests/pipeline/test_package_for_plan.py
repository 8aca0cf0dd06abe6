"""`leanserve package --plan plan.json`: the package is configured for the instance the plan chose (issue 21 item 9)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli
from tests.deploy.factories import candidate, make_plan
from toolkit.artifacts.common import save_artifact
from toolkit.artifacts.plan import Serverless


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict:
    from tests.serve.conftest import _build

    return _build(tmp_path_factory.mktemp("tiny"), "feature-extraction")


def _plan(tmp_path, **kw):
    return save_artifact(make_plan(candidate(variant="onnx-int8", **kw)), tmp_path / "plan.json")


def test_a_4_vcpu_plan_gives_a_package_with_4_threads_whatever_this_machine_has(tiny, tmp_path):
    from toolkit.package import pbtxt

    plan = _plan(tmp_path, instance_type="ml.c7i.xlarge")
    result = run_cli("--json", "package", tiny["variants"], "--plan", plan, "--out", tmp_path / "p", "--spec", tiny["spec"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    m = data["manifest"]
    assert (m["variant"], m["target"], m["instance_count"], m["threads_per_instance"]) == ("onnx-int8", "sagemaker", 1, 4)
    assert data["sized_for"].startswith("ml.c7i.xlarge: 4 vCPUs")
    config = pbtxt.read(tmp_path / "p/model_repository/model/config.pbtxt")
    assert config.instance_group[0].count == 1
    assert pbtxt.parameters(config)["intra_op_thread_count"] == "4"


def test_given_options_win_over_the_plan_and_a_different_variant_is_warned_about(tiny, tmp_path):
    plan = _plan(tmp_path, instance_type="ml.c7i.xlarge")
    result = run_cli("--json", "package", tiny["variants"], "--plan", plan, "--variant", "onnx-fp32", "--threads", "2",
                     "--target", "cpu", "--out", tmp_path / "p")
    assert result.exit_code == 0, result.output
    m = json.loads(result.stdout)["manifest"]
    assert (m["variant"], m["target"], m["threads_per_instance"], m["instance_count"]) == ("onnx-fp32", "cpu", 2, 1)
    assert "not the plan's chosen variant (onnx-int8)" in result.stderr


def test_without_variant_or_plan_it_says_which_to_give(tiny, tmp_path):
    result = run_cli("package", tiny["variants"], "--out", tmp_path / "p")
    assert result.exit_code == 2
    assert "pass --variant NAME" in result.stderr and "--plan plan.json" in result.stderr


@pytest.mark.parametrize(("kw", "expected"), [
    ({"instance_type": "ml.c7i.xlarge"}, ("sagemaker", "cpu", 4, 4, 1)),
    ({"platform": "kubernetes", "instance_type": "c7i.8xlarge"}, ("cpu", "cpu", 32, 8, 4)),  # above 16 vCPUs: 8 threads each
    ({"instance_type": "ml.g5.xlarge"}, ("sagemaker", "gpu", None, None, None)),
    ({"platform": "kubernetes", "instance_type": "c7i.2xlarge"}, ("cpu", "cpu", 8, 8, 1)),
    ({"platform": "sagemaker-serverless", "instance_type": None, "serverless": Serverless(memory_mb=6144, max_concurrency=5)},
     ("sagemaker", "cpu", 3, 3, 1)),
])
def test_sizing_follows_the_performance_model(kw, expected):
    from toolkit.package.sizing import sizing_for_plan

    s = sizing_for_plan(make_plan(candidate(**kw)))
    assert (s.target, s.device, s.cores, s.threads, s.instances) == expected


def test_an_infeasible_plan_cannot_size_a_package(tmp_path):
    from toolkit.errors import InputError
    from toolkit.package.sizing import sizing_for_plan

    with pytest.raises(InputError, match="no chosen configuration"):
        sizing_for_plan(make_plan(feasible=False))
