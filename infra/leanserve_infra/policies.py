"""IAM policy documents, as plain dicts (pure functions: the tests read them without Pulumi).

Least privilege for the SageMaker execution role: read the one model prefix, pull the one image
repository, write the endpoint's own log group and metrics. No Allow statement has a wildcard action.
The bucket policy's TLS rule is a Deny on ``s3:*`` on purpose: a deny must cover every action.
"""

from __future__ import annotations

import re

_ECR_URI = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/(?P<repo>[^:@]+)")


def partition_for(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def ecr_repository_arn(image_uri: str, partition: str = "aws") -> str | None:
    """ARN of the ECR repository an image URI points to; None for images outside ECR."""
    m = _ECR_URI.match(image_uri)
    if not m:
        return None
    return f"arn:{partition}:ecr:{m['region']}:{m['account']}:repository/{m['repo']}"


def sagemaker_trust_policy(account_id: str) -> dict:
    """Only SageMaker, acting for this account, may assume the role (confused-deputy guard)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "SageMakerAssumesRole",
                "Effect": "Allow",
                "Principal": {"Service": "sagemaker.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            }
        ],
    }


def execution_role_policy(
    *,
    bucket_arn: str,
    model_prefix: str,
    image_uri: str,
    region: str,
    account_id: str,
    endpoint_name: str,
    partition: str = "aws",
) -> dict:
    """What the endpoint's containers need, scoped to this endpoint's objects, image, logs and metrics."""
    log_group = f"arn:{partition}:logs:{region}:{account_id}:log-group:/aws/sagemaker/Endpoints/{endpoint_name}"
    statements: list[dict] = [
        {
            "Sid": "ReadModelArtifact",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [f"{bucket_arn}/{model_prefix.strip('/')}/*"],
        },
    ]
    repo_arn = ecr_repository_arn(image_uri, partition)
    if repo_arn:
        statements += [
            {
                "Sid": "PullTritonImage",
                "Effect": "Allow",
                "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                "Resource": [repo_arn],
            },
            {
                # GetAuthorizationToken has no resource-level permissions: AWS requires Resource "*".
                "Sid": "EcrLogin",
                "Effect": "Allow",
                "Action": ["ecr:GetAuthorizationToken"],
                "Resource": ["*"],
            },
        ]
    statements += [
        {
            "Sid": "WriteEndpointLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            "Resource": [log_group, f"{log_group}:log-stream:*"],
        },
        {
            # PutMetricData has no resource-level permissions; the condition pins the namespace.
            "Sid": "PutEndpointMetrics",
            "Effect": "Allow",
            "Action": ["cloudwatch:PutMetricData"],
            "Resource": ["*"],
            "Condition": {"StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/Endpoints"}},
        },
    ]
    return {"Version": "2012-10-17", "Statement": statements}


def tls_only_bucket_policy(bucket_arn: str) -> dict:
    """Deny every request to the bucket that does not arrive over TLS."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


def wildcard_allow_actions(document: dict) -> list[str]:
    """Actions with a '*' in Allow statements (what a least-privilege review rejects)."""
    found = []
    statements = document.get("Statement", [])
    for st in statements if isinstance(statements, list) else [statements]:
        if st.get("Effect") != "Allow":
            continue
        actions = st.get("Action", [])
        for action in [actions] if isinstance(actions, str) else actions:
            if "*" in action:
                found.append(action)
    return found
