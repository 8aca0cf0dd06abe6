"""Turn the AWS resources a Pulumi program registers into the AWS API requests they imply, and check them.

The AWS provider turns each resource into API calls (CreateEndpointConfig, RegisterScalableTarget …).
Here the same translation is done from the recorded resource state (Pulumi's camelCase properties),
driven by botocore's API model: each request member is looked up case-insensitively in the
resource's properties, maps become Tag/Dimension lists, numbers take the member's type. Then:

- ``validate_calls`` runs botocore's own parameter validation (required members, types, ranges) and
  the project's checks of what moto does not validate (instance type in botocore's list, Min ≤ Max,
  a known metric for the scalable dimension, serverless sizes, schedules);
- a test executes the calls against moto in-process (moto stores; it validates little).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from toolkit.deploy import checks
from toolkit.deploy.checks import DeployCheckError
from toolkit.errors import require


@dataclass(frozen=True)
class ApiCall:
    service: str
    operation: str
    params: dict
    resource: str  # the Pulumi resource it comes from (logical name)


def _same(state: dict, **renames: str) -> dict:
    out = dict(state)
    for api_name, pulumi_name in renames.items():
        if pulumi_name in state:
            out[api_name] = state[pulumi_name]
    return out


def _object_body(source: Any) -> bytes | None:
    path = getattr(source, "path", None) or (source.get("path") if isinstance(source, dict) else None)
    return Path(path).read_bytes() if path else None


def _alarm(state: dict) -> dict:
    out = _same(state, AlarmName="name")
    queries = []
    for q in state.get("metricQueries") or []:
        item = {k: q[k] for k in ("id", "expression", "label", "returnData", "period", "accountId") if k in q}
        if q.get("metric"):
            m = q["metric"]
            item["metricStat"] = {
                "metric": {k: m[k] for k in ("namespace", "metricName", "dimensions") if k in m},
                **{k: m[k] for k in ("period", "stat", "unit") if k in m},
            }
        queries.append(item)
    if queries:
        out["metrics"] = queries
    out.pop("metricQueries", None)
    return out


# resource type -> (service, operation, reshape of the resource state into the request's terms)
_SPECS: dict[str, tuple[str, str, Callable[[dict], dict]]] = {
    "aws:iam/role:Role": ("iam", "CreateRole", lambda s: _same(s, RoleName="name", AssumeRolePolicyDocument="assumeRolePolicy")),
    "aws:iam/rolePolicy:RolePolicy": ("iam", "PutRolePolicy", lambda s: {"RoleName": s.get("role"), "PolicyName": s.get("name"), "PolicyDocument": s.get("policy")}),
    "aws:s3/bucket:Bucket": ("s3", "CreateBucket", lambda s: {"Bucket": s.get("bucket")}),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": ("s3", "PutBucketOwnershipControls", lambda s: {"bucket": s.get("bucket"), "ownershipControls": {"rules": [s.get("rule") or {}]}}),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": (
        "s3",
        "PutPublicAccessBlock",
        lambda s: {"bucket": s.get("bucket"), "publicAccessBlockConfiguration": {k: s[k] for k in ("blockPublicAcls", "ignorePublicAcls", "blockPublicPolicy", "restrictPublicBuckets") if k in s}},
    ),
    "aws:s3/bucketVersioning:BucketVersioning": ("s3", "PutBucketVersioning", lambda s: s),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "s3",
        "PutBucketEncryption",
        lambda s: {"bucket": s.get("bucket"), "serverSideEncryptionConfiguration": {"rules": s.get("rules") or []}},
    ),
    "aws:s3/bucketObjectv2:BucketObjectv2": (
        "s3",
        "PutObject",
        lambda s: {
            **{k: s[k] for k in ("bucket", "key", "serverSideEncryption", "contentType") if k in s},
            "body": _object_body(s.get("source")),
            **({"tagging": urlencode(sorted((s.get("tags") or {}).items()))} if s.get("tags") else {}),
        },
    ),
    # The TLS-only policy goes on after the upload: both orders are valid for the provider, and moto
    # ignores the policy's aws:SecureTransport condition, so it would deny an upload made after it.
    "aws:s3/bucketPolicy:BucketPolicy": ("s3", "PutBucketPolicy", lambda s: s),
    "aws:sagemaker/model:Model": ("sagemaker", "CreateModel", lambda s: _same(s, ModelName="name")),
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": ("sagemaker", "CreateEndpointConfig", lambda s: _same(s, EndpointConfigName="name")),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("cloudwatch", "PutMetricAlarm", _alarm),
    "aws:sagemaker/endpoint:Endpoint": ("sagemaker", "CreateEndpoint", lambda s: _same(s, EndpointName="name")),
    "aws:appautoscaling/target:Target": ("application-autoscaling", "RegisterScalableTarget", lambda s: s),
    "aws:appautoscaling/policy:Policy": ("application-autoscaling", "PutScalingPolicy", lambda s: _same(s, PolicyName="name")),
    "aws:appautoscaling/scheduledAction:ScheduledAction": ("application-autoscaling", "PutScheduledAction", lambda s: _same(s, ScheduledActionName="name")),
}
_ORDER = list(_SPECS)  # dependency order: role, bucket, object, model, config, alarms, endpoint, scaling


@lru_cache(maxsize=None)
def _operation(service: str, operation: str):
    return checks.service_model(service).operation_model(operation)


def _convert(value: Any, shape) -> Any:
    kind = shape.type_name
    if value is None:
        return None
    if kind == "structure":
        if not isinstance(value, dict):
            return value  # left for botocore's validator to report
        by_lower = {k.lower(): k for k in value}
        out = {}
        for member, member_shape in shape.members.items():
            key = member if member in value else by_lower.get(member.lower())
            if key is None or value[key] is None:
                continue
            out[member] = _convert(value[key], member_shape)
        return out
    if kind == "list":
        inner = shape.member
        if isinstance(value, dict) and inner.type_name == "structure":
            names = list(inner.members)
            if len(names) >= 2 and names[:2] in (["Key", "Value"], ["Name", "Value"]):
                return [{names[0]: str(k), "Value": str(v)} for k, v in value.items()]
        return [_convert(v, inner) for v in value] if isinstance(value, list) else value
    if kind == "map":
        return {str(k): _convert(v, shape.value) for k, v in value.items()} if isinstance(value, dict) else value
    if kind in ("integer", "long"):
        return int(value) if isinstance(value, (int, float)) and float(value).is_integer() else value
    if kind in ("double", "float"):
        return float(value) if isinstance(value, (int, float)) else value
    if kind == "boolean":
        return value
    if kind == "string":
        return value if isinstance(value, str) else json.dumps(value)
    return value


def calls_from_resources(resources: Iterable[Any], region: str = "us-east-1") -> list[ApiCall]:
    """API calls implied by recorded resources (objects with ``type``, ``name`` and ``state``)."""
    calls: list[tuple[int, ApiCall]] = []
    for r in resources:
        spec = _SPECS.get(r.type)
        if spec is None:
            continue  # components, the stack itself, Kubernetes objects
        service, operation, reshape = spec
        op = _operation(service, operation)
        params = _convert(reshape(dict(r.state)), op.input_shape)
        if operation == "CreateBucket" and region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": region}
        calls.append((_ORDER.index(r.type), ApiCall(service, operation, params, r.name)))
    return [c for _, c in sorted(calls, key=lambda t: t[0])]


def validate_calls(calls: Iterable[ApiCall]) -> list[str]:
    """botocore parameter validation plus the project's checks; raises DeployCheckError on the first problem."""
    validate = require("botocore.validate", "aws")
    validator = validate.ParamValidator()
    seen: list[str] = []
    for call in calls:
        report = validator.validate(call.params, _operation(call.service, call.operation).input_shape)
        if report.has_errors():
            lines = report.generate_report().splitlines()
            first = (lines[1] if len(lines) > 1 else lines[0]).strip()
            raise DeployCheckError(f"{call.resource}: {call.operation} would be rejected: {first}", hint="this is a bug in infra/ or a plan value AWS does not accept; rerun with --debug")
        check_call(call)
        seen.append(f"{call.service}.{call.operation}")
    return seen


def check_call(call: ApiCall) -> None:
    """The project's checks for one request (what moto accepts but AWS would not)."""
    p, where = call.params, f"{call.resource} ({call.operation})"
    if call.operation == "CreateEndpointConfig":
        for v in p.get("ProductionVariants", []):
            if "ServerlessConfig" in v:
                s = v["ServerlessConfig"]
                checks.check_serverless(s.get("MemorySizeInMB", 0), s.get("MaxConcurrency", 0), where)
            else:
                checks.check_instance_type(v.get("InstanceType"), where)
                checks.check_variant_timeouts(v, where)
    elif call.operation == "RegisterScalableTarget":
        checks.check_capacity(p.get("MinCapacity", 0), p.get("MaxCapacity", 0), where)
    elif call.operation == "PutScalingPolicy":
        cfg = p.get("TargetTrackingScalingPolicyConfiguration") or {}
        metric = (cfg.get("PredefinedMetricSpecification") or {}).get("PredefinedMetricType", "")
        checks.check_metric(metric, "sagemaker", where, dimension=p.get("ScalableDimension"))
        checks.check_target_value(cfg.get("TargetValue", 0), where)
    elif call.operation == "PutScheduledAction":
        action = p.get("ScalableTargetAction") or {}
        checks.check_capacity(action.get("MinCapacity", 0), action.get("MaxCapacity", 0), where)
        checks.check_schedule(p.get("Schedule", ""), where)
