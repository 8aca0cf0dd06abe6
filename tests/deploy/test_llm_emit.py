"""`leanserve deploy PLAN --emit DIR` for generative (LLM) plans: the GPU stack file, its inputs and its errors."""

from __future__ import annotations

import math

import pytest
import yaml

from tests.conftest import run_cli
from tests.deploy.factories import llm_plan, model_tarball
from toolkit.artifacts.common import load_artifact, save_artifact
from toolkit.artifacts.plan import PlanFile
from toolkit.deploy.llm_stack import (
    SM_CONCURRENCY_METRIC,
    estimated_weight_bytes,
    timeouts,
)
from toolkit.deploy.stack_schema import parse_settings

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com/llama-8b-vllm:fp8-1"
ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


@pytest.fixture
def llm_tar(tmp_path):
    return model_tarball(tmp_path / "pkg" / "model.tar.gz", {"llm": 'name: "llm"\nbackend: "vllm"\nmax_batch_size: 0\n'})


def _write(tmp_path, plan, name="plan.json"):
    return save_artifact(plan, tmp_path / name)


def _settings(path):
    config = yaml.safe_load(path.read_text())["config"]
    return config, parse_settings({k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("leanserve:")})


def test_a_sagemaker_llm_stack_file_carries_the_gpu_endpoint(tmp_path, llm_tar):
    plan_path = _write(tmp_path, llm_plan())
    out = tmp_path / "infra"
    result = run_cli("deploy", plan_path, "--emit", out, "--model", llm_tar, "--image", ECR)
    assert result.exit_code == 0, result.output
    assert "✓ min 1 ≤ max 3; metric SageMakerVariantConcurrentRequestsPerModelHighResolution is known" in result.stdout
    _, s = _settings(out / "Pulumi.llama-8b-chat.yaml")
    download, startup = timeouts(estimated_weight_bytes(load_artifact(PlanFile, plan_path), "fp8"))
    assert (s.endpoint.instance_type, s.endpoint.initial_instance_count) == ("ml.g6e.xlarge", 1)
    assert (s.endpoint.model_data_download_timeout_s, s.endpoint.container_startup_health_check_timeout_s) == (download, startup)
    assert (s.autoscaling.metric, s.autoscaling.target_value, s.autoscaling.scale_in_cooldown_s) == (SM_CONCURRENCY_METRIC, 94.8, 900)
    assert (s.alarms.latency_percentile, s.alarms.latency_threshold_ms) == ("p95", 30000.0)
    assert s.image == ECR and s.model.triton_model_name == "llm" and s.llm.base_image.endswith("-vllm-python-py3")


@pytest.mark.parametrize("image, message", [
    (None, "error: an LLM plan on SageMaker needs its Triton vLLM image in your ECR (SageMaker pulls only from ECR)"),
    ("ghcr.io/acme/llama-vllm:1", "error: --image ghcr.io/acme/llama-vllm:1 is not an ECR image pinned by tag or digest"),
    ("123456789012.dkr.ecr.us-east-1.amazonaws.com/llama-vllm:latest",
     "error: --image 123456789012.dkr.ecr.us-east-1.amazonaws.com/llama-vllm:latest is not an ECR image pinned by tag or digest"),
])
def test_a_sagemaker_llm_plan_needs_a_pinned_ecr_image(tmp_path, llm_tar, image, message):
    out = tmp_path / "infra"
    result = run_cli("deploy", _write(tmp_path, llm_plan()), "--emit", out, "--model", llm_tar, *(["--image", image] if image else []))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0] == message and lines[1].startswith("hint: ") and len(lines) == 2
    assert not out.exists() or not list(out.iterdir())


def test_an_llm_plan_without_a_concurrency_target_loads_and_is_refused_with_a_hint(tmp_path, llm_tar):
    path = _write(tmp_path, llm_plan(scaling=False))
    assert load_artifact(PlanFile, path).tokens.scaling is None  # plans written before the field still load
    result = run_cli("deploy", path, "--emit", tmp_path / "infra", "--model", llm_tar, "--image", ECR)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == ["error: plan.json has no concurrency target for this LLM (tokens.scaling)",
                                          "hint: re-run `leanserve plan` with this leanserve version: it derives the target by Little's law"]


def test_a_kubernetes_llm_stack_file_names_the_cluster_node_group_and_keda_query(tmp_path):
    path = _write(tmp_path, llm_plan(platform="kubernetes", instance_type="g6e.xlarge", sha256="ef" * 32))
    out = tmp_path / "infra"
    result = run_cli("deploy", path, "--emit", out, "--image", "registry.example.com/llama-vllm:fp8-1", "--cluster", "prod-gpu")
    assert result.exit_code == 0, result.output
    config, s = _settings(out / "Pulumi.llama-8b-chat.yaml")
    assert config["aws:region"] == "us-east-1"  # the node group is an AWS resource
    g = s.kubernetes.gpu_node_group
    assert (g.cluster_name, g.instance_type, g.ami_type, g.taint_key, g.taint_effect) == ("prod-gpu", "g6e.xlarge", "AL2023_x86_64_NVIDIA", "nvidia.com/gpu", "NO_SCHEDULE")
    assert (g.min_size, g.max_size) == (1, 3) and s.kubernetes.gpus == 1 and s.kubernetes.hpa_metric == "concurrency"
    assert (s.autoscaling.metric, s.autoscaling.target_value) == ("concurrency", 94.8)
    assert "nv_inference_request_duration_us" in s.llm.scaling_metric
    assert "# Scaling (KEDA ScaledObject, Prometheus trigger)" in (out / "Pulumi.llama-8b-chat.yaml").read_text()


def test_an_llm_package_of_another_variant_is_refused(tmp_path):
    """The real GPU package of a tiny decoder (manifest kind llm-manifest) is read and checked against the plan."""
    from tests.serve.test_llm_fixtures import tiny_hf
    from toolkit.package.llm import LLMPackageOptions, build_llm_package

    pkg = tmp_path / "gpu"
    build_llm_package(tiny_hf(), "hf-fp32", pkg, LLMPackageOptions(target="gpu"))
    path = _write(tmp_path, llm_plan(platform="kubernetes", instance_type="g6e.xlarge"))
    result = run_cli("deploy", path, "--emit", tmp_path / "infra", "--image", "r.example.com/m:1", "--model", pkg)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == f"error: {pkg} was packaged from variant 'hf-fp32', but the plan chose 'fp8'"
    # the same package for a plan of its variant: the stack names the package's files by one sha256
    path = _write(tmp_path, llm_plan(platform="kubernetes", instance_type="g6e.xlarge", variant="hf-fp32"), "plan2.json")
    result = run_cli("deploy", path, "--emit", tmp_path / "infra", "--image", "r.example.com/m:1", "--model", pkg)
    assert result.exit_code == 0, result.output
    _, s = _settings(tmp_path / "infra" / "Pulumi.llama-8b-chat.yaml")
    assert len(s.model.sha256) == 64 and s.llm.base_image.startswith("nvcr.io/nvidia/tritonserver:")


@pytest.mark.integration
def test_the_planner_derives_the_concurrency_target_by_littles_law(tmp_path):
    """The real planner on the Llama-3.1-8B example: tokens.scaling = the target tracking's rate x the mean e2e at it."""
    out = tmp_path / "plan.json"
    result = run_cli("plan", ROOT / "examples/llama-8b/leanserve.yaml", "--out", out)
    assert result.exit_code == 0, result.output
    plan = load_artifact(PlanFile, out)
    s, a = plan.tokens.scaling, plan.chosen.autoscaling
    assert s is not None and "Little's law" in s.derived_from
    assert math.isclose(s.target_rps_per_instance, a.target_value / 60.0, rel_tol=1e-3)
    assert math.isclose(s.target_concurrency_per_instance, s.target_rps_per_instance * s.mean_e2e_s, rel_tol=1e-2)
    # the mean e2e at the target rate lies between a lone request's floor (every output token at the ITL floor) and the SLA's e2e p95
    e2e = next(c.limit for c in plan.sla.constraints if c.metric == "e2e")
    assert plan.tokens.mean_output_tokens * 0.002 < s.mean_e2e_s < e2e / 1e3


def test_a_cpu_llm_plan_on_sagemaker_keeps_sagemakers_triton_image(tmp_path, llm_tar):
    path = _write(tmp_path, llm_plan(instance_type="ml.c7i.2xlarge", variant="onnx-int4", model="smollm2-135m"))
    result = run_cli("deploy", path, "--emit", tmp_path / "infra", "--model", llm_tar)
    assert result.exit_code == 0, result.output
    _, s = _settings(tmp_path / "infra" / "Pulumi.llama-8b-chat.yaml")
    assert s.image.endswith("/sagemaker-tritonserver:24.09-py3") and s.llm.accelerators_per_instance == 0
    assert s.autoscaling.metric == SM_CONCURRENCY_METRIC
