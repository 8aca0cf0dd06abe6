"""The deploy library's small parts: image table, model.tar.gz inspection, pod sizing, checks."""

from __future__ import annotations

import sys
import types

import pytest

from tests.deploy.factories import model_tarball
from toolkit.deploy import checks
from toolkit.deploy.kubernetes_sizing import pod_size
from toolkit.deploy.model_artifact import inspect_model_artifact
from toolkit.deploy.stack_config import endpoint_name
from toolkit.deploy.triton_images import TABLE_SOURCE, image_from_table, triton_image
from toolkit.errors import ArtifactError, InputError


def test_triton_image_table():
    assert image_from_table("us-west-2").uri == "763104351884.dkr.ecr.us-west-2.amazonaws.com/sagemaker-tritonserver:24.09-py3"
    assert image_from_table("af-south-1", "24.05").uri == "626614931356.dkr.ecr.af-south-1.amazonaws.com/sagemaker-tritonserver:24.05-py3"
    assert image_from_table("cn-north-1").uri == "727897471807.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-tritonserver:24.09-py3"
    with pytest.raises(InputError, match=r"no SageMaker Triton image is known for region 'us-east-9'; did you mean 'us-east-[12]'\?"):
        image_from_table("us-east-9")
    with pytest.raises(InputError, match=r"no SageMaker Triton image version '24.9' in the table; did you mean '24.09'\?"):
        image_from_table("us-east-1", "24.9")


def test_sagemaker_sdk_is_used_when_installed(monkeypatch):
    # The sagemaker SDK (~1 GB) is optional and not installed here; a stand-in module plays its part.
    fake = types.ModuleType("sagemaker")
    fake.__version__ = "2.999"
    fake.image_uris = types.SimpleNamespace(retrieve=lambda **kw: f"111122223333.dkr.ecr.{kw['region']}.amazonaws.com/sagemaker-tritonserver:{kw['version']}-py3")
    monkeypatch.setitem(sys.modules, "sagemaker", fake)
    image = triton_image("eu-west-1", "24.09")
    assert image.uri.startswith("111122223333.dkr.ecr.eu-west-1") and image.source == "sagemaker SDK 2.999 image_uris.retrieve"
    fake.image_uris = types.SimpleNamespace(retrieve=lambda **kw: (_ for _ in ()).throw(ValueError("unsupported")))
    assert triton_image("eu-west-1").source == TABLE_SOURCE  # the table is the fallback


def test_model_artifact_picks_the_ensemble_and_verifies_sha(tmp_path):
    repo = {"tokenizer": 'backend: "python"\n', "model": 'platform: "onnxruntime_onnx"\n', "ensemble": 'name: "ensemble"\nplatform: "ensemble"\n'}
    tar = model_tarball(tmp_path / "model.tar.gz", repo)
    assert inspect_model_artifact(tar).triton_model_name == "ensemble"
    assert inspect_model_artifact(tar, triton_model="model").triton_model_name == "model"
    with pytest.raises(InputError, match=r"no Triton model 'pooling' in the archive \(found: ensemble, model, tokenizer\)"):
        inspect_model_artifact(tar, triton_model="pooling")
    with pytest.raises(ArtifactError, match="differs from the plan's model_artifact_sha256"):
        inspect_model_artifact(tar, expected_sha256="f" * 64)
    two = model_tarball(tmp_path / "two.tar.gz", {"a": 'backend: "python"\n', "b": 'backend: "python"\n'})
    with pytest.raises(InputError, match="2 Triton models and no single ensemble"):
        inspect_model_artifact(two)
    (tmp_path / "not.tar.gz").write_bytes(b"plain text")
    with pytest.raises(InputError, match="is not a readable tar archive"):
        inspect_model_artifact(tmp_path / "not.tar.gz")


def test_pod_sizes():
    assert pod_size("g5.xlarge").__dict__ == {"node_instance_type": "g5.xlarge", "gpus": 1, "cpu": "3", "memory": "12Gi"}
    assert pod_size("ml.c7i.2xlarge").__dict__ == {"node_instance_type": "c7i.2xlarge", "gpus": 0, "cpu": "6", "memory": "12Gi"}
    assert pod_size("g5.12xlarge").gpus == 1 and pod_size("g5.12xlarge").cpu == "9"  # 48 vCPU shared by 4 GPU pods
    with pytest.raises(InputError, match="is not an EC2 instance type name"):
        pod_size("big-box")


def test_endpoint_names_are_valid_and_stable():
    assert endpoint_name("minilm-embeddings", "prod") == "minilm-embeddings-prod"
    assert endpoint_name("minilm", "minilm") == "minilm"
    long = endpoint_name("a" * 40, "b_" * 20)
    assert len(long) <= 63 and "_" not in long and not long.endswith("-")


def test_checks_use_botocores_lists():
    assert {"ml.g5.xlarge", "ml.c7i.xlarge", "ml.inf2.xlarge"} <= checks.sagemaker_instance_types()
    assert "SageMakerVariantInvocationsPerInstance" in checks.autoscaling_metric_types()
    checks.check_metric("SageMakerVariantProvisionedConcurrencyUtilization", "sagemaker-serverless")
    with pytest.raises(checks.DeployCheckError, match="does not scale sagemaker:variant:DesiredInstanceCount"):
        checks.check_metric("SageMakerVariantProvisionedConcurrencyUtilization", "sagemaker-realtime")
    with pytest.raises(checks.DeployCheckError, match="min capacity 0 is below 1"):
        checks.check_capacity(0, 3)
    for ok in ("cron(0 8 ? * MON-FRI *)", "rate(5 minutes)", "at(2025-06-01T08:00:00)"):
        checks.check_schedule(ok)


def test_kubernetes_plan_takes_the_packaged_models_sha256(tmp_path):
    """`leanserve run` packages the chosen variant after planning and hands its model's sha256 to emit_stack."""
    from tests.deploy.factories import autoscaling, candidate, make_plan
    from toolkit.artifacts import save_artifact
    from toolkit.deploy.emit import emit_stack

    plan = make_plan(candidate(platform="kubernetes", instance_type="g5.xlarge", scaling=autoscaling()), sha256=None)
    path = save_artifact(plan, tmp_path / "plan.json")
    with pytest.raises(InputError, match="does not name a model artifact"):
        emit_stack(path, tmp_path / "stack", "prod", image="registry/minilm:1")
    result = emit_stack(path, tmp_path / "stack", "prod", image="registry/minilm:1", model_sha256="cd" * 32)
    assert result.config.model.sha256 == "cd" * 32
