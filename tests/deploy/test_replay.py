"""Replay: the AWS requests each example SageMaker stack implies, validated by botocore and run against moto.

The requests come from the resources the real program registers under Pulumi's mocks. botocore's
parameter validation checks their shape against the AWS API model; moto (in-process) then stores
them. moto validates little, so the project's checks (toolkit/deploy/checks.py) cover what it
accepts but AWS would not — the last tests show moto taking such requests and the checks refusing them.
"""

from __future__ import annotations

import copy

import pytest

from tests.infra.harness import INFRA, example_config, run_program
from toolkit.artifacts.common import load_artifact
from toolkit.artifacts.plan import PlanFile
from toolkit.deploy.checks import DeployCheckError
from toolkit.deploy.replay import ApiCall, calls_from_resources, validate_calls

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    from tests.deploy.factories import model_tarball

    return model_tarball(tmp_path_factory.mktemp("package") / "model.tar.gz")


@pytest.fixture
def aws(monkeypatch):
    """moto in-process, with its stale SageMaker instance-type list replaced by botocore's current one."""
    from moto import mock_aws
    from moto.sagemaker.models import FakeEndpointConfig

    from toolkit.deploy.checks import check_instance_type

    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    # moto 5 rejects ml.g5.xlarge and ml.c7i.xlarge (its list predates them); AWS accepts both.
    monkeypatch.setattr(FakeEndpointConfig, "validate_instance_type", lambda self, t: check_instance_type(t))
    with mock_aws():
        yield


_CLIENTS: dict = {}


def client(service: str):
    """boto3 clients of one session made after moto is imported (moto hooks sessions created after it)."""
    if not _CLIENTS:
        import boto3
        import moto  # noqa: F401

        _CLIENTS["session"] = boto3.Session()
    if service not in _CLIENTS:
        _CLIENTS[service] = _CLIENTS["session"].client(service, region_name="us-east-1")
    return _CLIENTS[service]


def execute(calls: list[ApiCall]) -> None:
    from botocore import xform_name

    for call in calls:
        getattr(client(call.service), xform_name(call.operation))(**call.params)


def _calls(stack: str, tarball) -> list[ApiCall]:
    return calls_from_resources(run_program(example_config(stack, tarball), stack).resources)


@pytest.mark.parametrize("stack", ["gpu", "cpu", "serverless"])
def test_example_stack_requests_pass_botocore_and_run_on_moto(stack, tarball, aws):
    plan = load_artifact(PlanFile, INFRA / "plans" / f"{stack}.plan.json")
    c = plan.chosen
    calls = _calls(stack, tarball)
    operations = validate_calls(calls)
    assert {"sagemaker.CreateModel", "sagemaker.CreateEndpointConfig", "sagemaker.CreateEndpoint", "s3.PutObject", "iam.CreateRole"} <= set(operations)
    execute(calls)

    sm = client("sagemaker")
    endpoint = sm.describe_endpoint(EndpointName=f"minilm-embeddings-{stack}")
    (variant,) = sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])["ProductionVariants"]
    model = sm.describe_model(ModelName=variant["ModelName"])
    assert model["PrimaryContainer"]["Environment"]["SAGEMAKER_TRITON_DEFAULT_MODEL_NAME"] == "ensemble"
    s3 = client("s3")
    bucket = model["PrimaryContainer"]["ModelDataUrl"].split("/")[2]
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
    cw = client("cloudwatch")
    assert len(cw.describe_alarms(AlarmNamePrefix=f"minilm-embeddings-{stack}-")["MetricAlarms"]) == 2

    aas = client("application-autoscaling")
    targets = aas.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]
    if c.platform == "sagemaker-serverless":
        assert variant["ServerlessConfig"] == {"MemorySizeInMB": c.serverless.memory_mb, "MaxConcurrency": c.serverless.max_concurrency}
        assert targets == []
        return
    assert (variant["InstanceType"], variant["InitialInstanceCount"]) == (c.instance_type, c.autoscaling.min_capacity)
    (target,) = targets
    assert (target["MinCapacity"], target["MaxCapacity"]) == (c.autoscaling.min_capacity, c.autoscaling.max_capacity)
    (policy,) = aas.describe_scaling_policies(ServiceNamespace="sagemaker")["ScalingPolicies"]
    tt = policy["TargetTrackingScalingPolicyConfiguration"]
    assert (tt["TargetValue"], tt["ScaleInCooldown"], tt["ScaleOutCooldown"]) == (c.autoscaling.target_value, c.autoscaling.scale_in_cooldown_s, c.autoscaling.scale_out_cooldown_s)
    assert tt["PredefinedMetricSpecification"]["PredefinedMetricType"] == c.autoscaling.metric
    actions = aas.describe_scheduled_actions(ServiceNamespace="sagemaker")["ScheduledActions"]
    assert sorted(a["Schedule"] for a in actions) == sorted(s.schedule for s in c.autoscaling.scheduled)


def _mutated(calls, operation, mutate):
    out = copy.deepcopy(calls)
    mutate(next(c for c in out if c.operation == operation).params)
    return out


def test_moto_accepts_min_above_max_and_a_bogus_metric_but_the_checks_do_not(tarball, aws):
    calls = _calls("cpu", tarball)

    def min_above_max(p):
        p["MinCapacity"], p["MaxCapacity"] = 7, 3

    def bogus_metric(p):
        p["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"]["PredefinedMetricType"] = "RequestsPerSecond"

    bad = _mutated(_mutated(calls, "RegisterScalableTarget", min_above_max), "PutScalingPolicy", bogus_metric)
    execute(bad)  # moto stores both without complaint
    with pytest.raises(DeployCheckError, match=r"min capacity 7 is above max capacity 3"):
        validate_calls(_mutated(calls, "RegisterScalableTarget", min_above_max))
    with pytest.raises(DeployCheckError, match=r"'RequestsPerSecond' is not an Application Auto Scaling predefined metric"):
        validate_calls(_mutated(calls, "PutScalingPolicy", bogus_metric))


def test_instance_type_outside_botocores_list_is_refused(tarball):
    calls = _calls("gpu", tarball)

    def typo(p):
        p["ProductionVariants"][0]["InstanceType"] = "ml.g5.xlargee"

    with pytest.raises(DeployCheckError, match=r"'ml.g5.xlargee' is not a SageMaker hosting instance type; did you mean 'ml.g5.xlarge'\?"):
        validate_calls(_mutated(calls, "CreateEndpointConfig", typo))


def test_botocore_validation_catches_a_malformed_request(tarball):
    calls = _calls("cpu", tarball)

    def drop_config(p):
        del p["EndpointConfigName"]

    with pytest.raises(DeployCheckError, match=r"CreateEndpoint would be rejected: Missing required parameter in input: \"EndpointConfigName\""):
        validate_calls(_mutated(calls, "CreateEndpoint", drop_config))


def test_a_spot_kubernetes_stack_implies_no_aws_requests():
    """Kubernetes objects (Deployments, the HPA, Karpenter's NodePool) go to the cluster's API, not AWS's: the replay
    leaves them out, and what remains (nothing) validates."""
    from leanserve_infra.config import from_mapping
    from leanserve_infra.stack import program

    from tests.deploy.factories import make_plan, spot_candidate
    from toolkit.deploy.stack_config import build_stack_config

    cfg, _, _ = build_stack_config(make_plan(spot_candidate()), "k8s", image="registry.example.com/m:1")
    settings = from_mapping({k.split(":", 1)[1]: v for k, v in cfg.pulumi_config().items()})
    rec = run_program({}, "k8s", lambda: program(settings))
    assert rec.of_type("kubernetes:karpenter.sh/v1:NodePool")
    calls = calls_from_resources(rec.resources)
    assert calls == [] and validate_calls(calls) == []


def test_an_llm_sagemaker_stack_passes_botocore_and_runs_on_moto(tmp_path, aws):
    """The GPU endpoint of an LLM plan: timeouts from the weights, concurrency target tracking, the user's ECR image."""
    from leanserve_infra.config import from_mapping
    from leanserve_infra.stack import program

    from tests.deploy.factories import llm_plan, model_tarball
    from toolkit.deploy.llm_stack import SM_CONCURRENCY_METRIC
    from toolkit.deploy.model_artifact import inspect_model_artifact
    from toolkit.deploy.stack_config import build_stack_config

    tar = model_tarball(tmp_path / "model.tar.gz", {"llm": 'name: "llm"\nbackend: "vllm"\nmax_batch_size: 0\n'})
    model = inspect_model_artifact(tar)
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/llama-8b-vllm:fp8-1"
    cfg, _, _ = build_stack_config(llm_plan(sha256=model.sha256), "gpu", model=model, model_ref=str(tar), image=image)
    settings = from_mapping({k.split(":", 1)[1]: v for k, v in cfg.pulumi_config().items() if k.startswith("leanserve:")})
    calls = calls_from_resources(run_program({}, "gpu", lambda: program(settings)).resources)
    operations = validate_calls(calls)
    assert {"sagemaker.CreateModel", "sagemaker.CreateEndpointConfig", "sagemaker.CreateEndpoint", "application-autoscaling.PutScalingPolicy"} <= set(operations)
    (config,) = [c for c in calls if c.operation == "CreateEndpointConfig"]
    (variant,) = config.params["ProductionVariants"]
    assert variant["ModelDataDownloadTimeoutInSeconds"] == cfg.endpoint.model_data_download_timeout_s
    assert variant["ContainerStartupHealthCheckTimeoutInSeconds"] == cfg.endpoint.container_startup_health_check_timeout_s
    execute(calls)

    sm = client("sagemaker")
    endpoint = sm.describe_endpoint(EndpointName="llama-8b-chat-gpu")
    (stored,) = sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])["ProductionVariants"]
    assert (stored["InstanceType"], stored["InitialInstanceCount"]) == ("ml.g6e.xlarge", 1)
    assert sm.describe_model(ModelName=stored["ModelName"])["PrimaryContainer"]["Image"] == image
    (policy,) = client("application-autoscaling").describe_scaling_policies(ServiceNamespace="sagemaker")["ScalingPolicies"]
    tt = policy["TargetTrackingScalingPolicyConfiguration"]
    assert tt["PredefinedMetricSpecification"]["PredefinedMetricType"] == SM_CONCURRENCY_METRIC
    assert tt["TargetValue"] == cfg.autoscaling.target_value == 94.8


def test_an_llm_timeout_outside_sagemakers_range_is_refused_by_botocore(tmp_path):
    from leanserve_infra.config import from_mapping
    from leanserve_infra.stack import program

    from tests.deploy.factories import llm_plan, model_tarball
    from toolkit.deploy.model_artifact import inspect_model_artifact
    from toolkit.deploy.stack_config import build_stack_config

    tar = model_tarball(tmp_path / "model.tar.gz", {"llm": 'name: "llm"\nbackend: "vllm"\n'})
    model = inspect_model_artifact(tar)
    cfg, _, _ = build_stack_config(llm_plan(sha256=model.sha256), "gpu", model=model, model_ref=str(tar),
                                   image="123456789012.dkr.ecr.us-east-1.amazonaws.com/llama-8b-vllm:fp8-1")
    settings = from_mapping({k.split(":", 1)[1]: v for k, v in cfg.pulumi_config().items() if k.startswith("leanserve:")})
    calls = calls_from_resources(run_program({}, "gpu", lambda: program(settings)).resources)

    def too_long(p):
        p["ProductionVariants"][0]["ModelDataDownloadTimeoutInSeconds"] = 7200

    # botocore's validator checks the minimum only; the project's check adds SageMaker's maximum
    with pytest.raises(DeployCheckError, match=r"ModelDataDownloadTimeoutInSeconds 7200 is outside SageMaker's 60..3600 s"):
        validate_calls(_mutated(calls, "CreateEndpointConfig", too_long))
