"""Pure parts of infra/: policy documents and the stack-config reader."""

from __future__ import annotations

import pytest

from tests.infra import harness  # noqa: F401 - puts infra/ on sys.path


def test_wildcard_allow_actions_are_found_and_deny_wildcards_are_not():
    from leanserve_infra.policies import tls_only_bucket_policy, wildcard_allow_actions

    assert wildcard_allow_actions({"Statement": [{"Effect": "Allow", "Action": ["s3:Get*", "s3:GetObject"]}]}) == ["s3:Get*"]
    assert wildcard_allow_actions({"Statement": {"Effect": "Allow", "Action": "*"}}) == ["*"]
    assert wildcard_allow_actions(tls_only_bucket_policy("arn:aws:s3:::b")) == []


def test_execution_policy_has_no_wildcard_action_in_any_partition():
    from leanserve_infra.policies import execution_role_policy, partition_for, wildcard_allow_actions

    for region in ("us-east-1", "cn-north-1", "us-gov-west-1"):
        doc = execution_role_policy(
            bucket_arn="arn:aws:s3:::b", model_prefix="models/abc", image_uri=f"727897471807.dkr.ecr.{region}.amazonaws.com.cn/sagemaker-tritonserver:24.09-py3",
            region=region, account_id="123456789012", endpoint_name="e", partition=partition_for(region),
        )
        assert wildcard_allow_actions(doc) == []
    assert partition_for("cn-north-1") == "aws-cn" and partition_for("us-gov-west-1") == "aws-us-gov"


def test_ecr_repository_arn():
    from leanserve_infra.policies import ecr_repository_arn

    assert ecr_repository_arn("763104351884.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-tritonserver:24.09-py3") == "arn:aws:ecr:eu-west-1:763104351884:repository/sagemaker-tritonserver"
    assert ecr_repository_arn("nvcr.io/nvidia/tritonserver:24.10-py3") is None


def test_config_reader_names_what_is_missing_or_unknown():
    from leanserve_infra.config import ConfigError, from_mapping

    with pytest.raises(ConfigError, match="missing leanserve:name, leanserve:platform"):
        from_mapping({"variant": "x"})
    base = {"name": "n", "platform": "kubernetes", "variant": "v", "specSha256": "s", "model": {"sha256": "x"}, "image": "i"}
    with pytest.raises(ConfigError, match="leanserve:kubernetes is required for the kubernetes platform"):
        from_mapping(base)
    with pytest.raises(ConfigError, match="leanserve:endpointName, leanserve:endpoint, leanserve:alarms, leanserve:deployment are required"):
        from_mapping({**base, "platform": "sagemaker-realtime"})
    with pytest.raises(ConfigError, match="unknown key 'nodeType' in kubernetes.*; did you mean 'nodeInstanceType'"):
        from_mapping({**base, "kubernetes": {"nodeType": "g5.xlarge"}})
    with pytest.raises(ConfigError, match="platform: Input should be") as err:
        from_mapping({**base, "platform": "ec2"})
    assert "\n" not in str(err.value)  # one line


def test_infra_reads_the_stack_file_with_the_toolkit_schema():
    """One schema: the settings infra/ builds from are toolkit.deploy.stack_schema's models."""
    from leanserve_infra.config import from_mapping

    from toolkit.deploy.stack_schema import KubernetesCfg, StackSettings

    s = from_mapping({"name": "n", "platform": "kubernetes", "variant": "v", "specSha256": "s", "model": {"sha256": "x"}, "image": "i",
                      "kubernetes": {"namespace": "n", "nodeInstanceType": "g5.xlarge", "gpus": 1, "cpu": "3", "memory": "12Gi", "replicas": 2},
                      "endpointName": None})
    assert isinstance(s, StackSettings) and isinstance(s.kubernetes, KubernetesCfg) and s.kubernetes.gpus == 1
