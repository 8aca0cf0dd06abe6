"""`leanserve deploy PLAN --emit DIR`: the GitOps stack file, its checks and its errors."""

from __future__ import annotations

import json
import re

import yaml

from tests.conftest import run_cli
from tests.deploy.factories import autoscaling, candidate, make_plan, model_tarball, plan_for_tarball
from toolkit.artifacts.plan import Serverless
from toolkit.fileio import sha256_file


def _emit(plan_path, out, *extra):
    return run_cli("deploy", plan_path, "--emit", out, *extra)


def test_emit_writes_a_stack_file_with_the_plans_values(tmp_path, write_plan, package):
    plan_path = write_plan()
    out = tmp_path / "infra"
    result = _emit(plan_path, out, "--stack", "prod", "--model", package)
    assert result.exit_code == 0, result.output
    assert f"{out / 'Pulumi.prod.yaml'}: written (stack prod, sagemaker-realtime)" in result.stdout
    assert "✓ instance type ml.c7i.xlarge is in botocore's ProductionVariantInstanceType list" in result.stdout
    config = yaml.safe_load((out / "Pulumi.prod.yaml").read_text())["config"]
    assert config["aws:region"] == "us-east-1"
    assert config["leanserve:endpoint"] == {"variantName": "AllTraffic", "instanceType": "ml.c7i.xlarge", "initialInstanceCount": 2}
    scaling = config["leanserve:autoscaling"]
    assert (scaling["minCapacity"], scaling["maxCapacity"], scaling["targetValue"]) == (2, 6, 3900.0)
    assert (scaling["scaleInCooldownS"], scaling["scaleOutCooldownS"]) == (900, 120)
    assert [s["schedule"] for s in scaling["scheduled"]] == ["cron(0 13 ? * MON-FRI *)", "cron(0 23 * * ? *)"]
    assert config["leanserve:model"] == {"artifact": "../package/model.tar.gz", "sha256": sha256_file(package), "tritonModelName": "minilm-embeddings"}
    assert config["leanserve:image"] == "763104351884.dkr.ecr.us-east-1.amazonaws.com/sagemaker-tritonserver:24.09-py3"
    assert config["leanserve:tags"] == {"cost-center": "cc-1234", "project": "semantic-search", "team": "search"}
    assert config["leanserve:endpointName"] == "minilm-embeddings-prod"


def test_the_stack_file_is_stable_and_a_changed_plan_is_a_small_diff(tmp_path, write_plan, package):
    out = tmp_path / "infra"
    first = _emit(write_plan(), out, "--stack", "prod", "--model", package)
    text = (out / "Pulumi.prod.yaml").read_text()
    again = _emit(write_plan(), out, "--stack", "prod", "--model", package)  # a new plan file, new created_at
    assert again.exit_code == 0 and ": unchanged (stack prod" in again.stdout
    assert (out / "Pulumi.prod.yaml").read_text() == text
    assert "created_at" not in text and str(tmp_path) not in text  # no plan timestamp, no absolute paths
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:", text) is None

    changed = plan_for_tarball(package, candidate(scaling=autoscaling(max_capacity=8, target_value=4100.0)))
    result = run_cli("-v", "--json", "deploy", write_plan(changed), "--emit", out, "--stack", "prod", "--model", package)
    data = json.loads(result.stdout)
    assert data["changed"] is True
    removed = [l for l in data["diff"].splitlines() if l.startswith("-") and not l.startswith("---")]
    added = [l for l in data["diff"].splitlines() if l.startswith("+") and not l.startswith("+++")]
    assert sorted(removed) == sorted(["-    maxCapacity: 6", "-    targetValue: 3900.0", "-      maxCapacity: 6", "-      maxCapacity: 6"])
    assert sorted(added) == sorted(["+    maxCapacity: 8", "+    targetValue: 4100.0", "+      maxCapacity: 8", "+      maxCapacity: 8"])
    assert first.exit_code == 0


def test_json_output_lists_checks_and_the_config(tmp_path, write_plan, package):
    result = run_cli("--json", "deploy", write_plan(), "--emit", tmp_path / "infra", "--model", package)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["stack"] == "minilm-embeddings"  # default: the plan's name
    assert data["image_source"].startswith("table from aws/sagemaker-python-sdk")
    assert data["config"]["leanserve:platform"] == "sagemaker-realtime"
    assert any("min 2 ≤ max 6" in c for c in data["checks"])


def test_model_next_to_the_plan_is_found(tmp_path, package):
    from toolkit.artifacts.common import save_artifact

    plan_dir = tmp_path / "out"
    model_tarball(plan_dir / "model.tar.gz")
    save_artifact(plan_for_tarball(plan_dir / "model.tar.gz"), plan_dir / "plan.json")
    result = _emit(plan_dir / "plan.json", tmp_path / "infra", "--stack", "s")
    assert result.exit_code == 0, result.output


def test_bad_instance_type_is_refused_with_a_suggestion_and_nothing_is_written(tmp_path, write_plan, package):
    plan = plan_for_tarball(package, candidate(instance_type="ml.c7i.xlarg", scaling=autoscaling()))
    result = _emit(write_plan(plan), tmp_path / "infra", "--stack", "prod", "--model", package)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: stack prod: 'ml.c7i.xlarg' is not a SageMaker hosting instance type; did you mean 'ml.c7i.xlarge'?",
        "hint: use a type from botocore's ProductionVariantInstanceType list (SageMaker names start with 'ml.')",
    ]
    assert not (tmp_path / "infra" / "Pulumi.prod.yaml").exists()


def test_min_above_max_is_refused(tmp_path, write_plan, package):
    plan = plan_for_tarball(package, candidate(scaling=autoscaling(min_capacity=5, max_capacity=3, scheduled=False)))
    result = _emit(write_plan(plan), tmp_path / "infra", "--stack", "prod", "--model", package)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "error: stack prod autoscaling: min capacity 5 is above max capacity 3"


def test_unknown_metric_is_refused(tmp_path, write_plan, package):
    plan = plan_for_tarball(package, candidate(scaling=autoscaling(metric="SageMakerVariantInvocationPerInstance", scheduled=False)))
    result = _emit(write_plan(plan), tmp_path / "infra", "--stack", "prod", "--model", package)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "error: stack prod autoscaling: 'SageMakerVariantInvocationPerInstance' is not an Application Auto Scaling "
        "predefined metric; did you mean 'SageMakerVariantInvocationsPerInstance'?"
    )


def test_bad_schedule_and_serverless_size_are_refused(tmp_path, write_plan, package):
    from toolkit.artifacts.plan import ScheduledAction

    scaling = autoscaling(scheduled=False)
    scaling.scheduled = [ScheduledAction(name="morning", schedule="0 8 * * *", min_capacity=2, max_capacity=6)]
    result = _emit(write_plan(plan_for_tarball(package, candidate(scaling=scaling))), tmp_path / "infra", "--model", package)
    assert result.exit_code == 2
    assert "is not an Application Auto Scaling schedule" in result.stderr.splitlines()[0]

    plan = plan_for_tarball(package, candidate(platform="sagemaker-serverless", instance_type=None, serverless=Serverless(memory_mb=3000, max_concurrency=10)))
    result = _emit(write_plan(plan), tmp_path / "infra", "--model", package)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "error: stack minilm-embeddings: memory 3000 MB is not a serverless size; did you mean 3072?"


def test_a_model_that_is_not_the_plans_is_refused(tmp_path, write_plan, package):
    plan = make_plan(candidate(scaling=autoscaling()), sha256="0" * 64)
    result = _emit(write_plan(plan), tmp_path / "infra", "--model", package)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == f"error: {package}: sha256 {sha256_file(package)[:12]}… differs from the plan's model_artifact_sha256 000000000000…"


def test_missing_model_and_missing_plan(tmp_path, write_plan):
    result = _emit(write_plan(), tmp_path / "infra")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == f"error: no model.tar.gz given and none next to the plan ({tmp_path / 'model.tar.gz'})"
    result = _emit(tmp_path / "nope.json", tmp_path / "infra")
    assert result.exit_code == 2 and result.stderr.startswith("error: plan.json not found")


def test_infeasible_plan_exits_3(tmp_path, write_plan):
    result = _emit(write_plan(make_plan(feasible=False)), tmp_path / "infra")
    assert result.exit_code == 3
    assert result.stderr.splitlines()[0] == "error: plan.json has no feasible configuration to deploy"


def test_kubernetes_plan_needs_an_image(tmp_path, write_plan):
    plan = make_plan(candidate(platform="kubernetes", instance_type="g5.xlarge", scaling=autoscaling(scheduled=True)))
    result = _emit(write_plan(plan), tmp_path / "infra", "--stack", "k8s")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "error: a Kubernetes plan needs the Triton image that holds its model repository"
    result = _emit(write_plan(plan), tmp_path / "infra", "--stack", "k8s", "--image", "registry.example.com/m:1")
    assert result.exit_code == 0, result.output
    assert "2 scheduled action(s) are not applied on Kubernetes" in result.stderr
    config = yaml.safe_load((tmp_path / "infra" / "Pulumi.k8s.yaml").read_text())["config"]
    assert "aws:region" not in config and config["leanserve:kubernetes"]["nodeInstanceType"] == "g5.xlarge"


def test_usage_errors():
    result = run_cli("deploy", "plan.json")
    assert result.exit_code == 2 and "give --emit DIR (write the stack config) or --stack NAME (run Pulumi)" in result.output
    result = run_cli("deploy", "plan.json", "--emit", "infra", "--preview")
    assert result.exit_code == 2 and "--preview runs Pulumi; use it with --stack NAME, not with --emit" in result.output


def test_bad_stack_name(tmp_path, write_plan, package):
    result = _emit(write_plan(), tmp_path / "infra", "--stack", "bad name", "--model", package)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "error: 'bad name' is not a valid Pulumi stack name"


def test_a_package_built_from_another_variant_is_refused_and_the_folder_works_as_model(tmp_path, write_plan, package):
    from tests.deploy.factories import write_manifest

    write_manifest(package.parent, variant="pruned-heads25")
    result = _emit(write_plan(), tmp_path / "infra", "--model", package)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == f"error: {package} was packaged from variant 'pruned-heads25', but the plan chose 'onnx-int8'"
    assert not (tmp_path / "infra").exists()
    write_manifest(package.parent, variant="onnx-int8")
    result = _emit(write_plan(), tmp_path / "infra", "--stack", "prod", "--model", package.parent)  # the package folder
    assert result.exit_code == 0, result.output
    assert "✓ package built from variant 'onnx-int8', the plan's choice" in result.stdout


def test_a_kubernetes_plan_takes_the_served_models_sha256_from_the_package(tmp_path, write_plan, package):
    from tests.deploy.factories import write_manifest

    write_manifest(package.parent, target="cpu", onnx_sha256="ef" * 32)
    plan = make_plan(candidate(platform="kubernetes", instance_type="c7i.xlarge", scaling=autoscaling()), sha256=None)
    args = ("--stack", "k8s", "--image", "registry.example.com/m:1")
    result = _emit(write_plan(plan), tmp_path / "infra", *args)
    assert result.exit_code == 2 and "does not name a model artifact" in result.stderr.splitlines()[0]
    result = _emit(write_plan(plan), tmp_path / "infra", *args, "--model", package.parent)
    assert result.exit_code == 0, result.output
    assert "ef" * 32 in (tmp_path / "infra" / "Pulumi.k8s.yaml").read_text()
