"""Run the Pulumi programs in infra/ under Pulumi's own unit-test mocks (no Pulumi CLI, no cloud).

`Recorder` is a `pulumi.runtime.Mocks`: it answers the provider calls the program makes
(region, caller identity) and fills in what AWS would return on create (names for auto-named
resources, ARNs, ids) — the part that cannot run here. Everything above the provider is real:
pulumi's engine-facing runtime, pulumi_aws / pulumi_kubernetes resource classes, our components.
Assertions run after the decorated program returns, when every registration has been recorded.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pulumi
import yaml

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
if str(INFRA) not in sys.path:
    sys.path.insert(0, str(INFRA))

ACCOUNT = "123456789012"
REGION = "us-east-1"

# resource type -> (output property holding its name, ARN template)
_NAMED = {
    "aws:s3/bucket:Bucket": ("bucket", "arn:aws:s3:::{name}"),
    "aws:iam/role:Role": ("name", "arn:aws:iam::{account}:role/{name}"),
    "aws:iam/rolePolicy:RolePolicy": ("name", None),
    "aws:sagemaker/model:Model": ("name", "arn:aws:sagemaker:{region}:{account}:model/{name}"),
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": ("name", "arn:aws:sagemaker:{region}:{account}:endpoint-config/{name}"),
    "aws:sagemaker/endpoint:Endpoint": ("name", "arn:aws:sagemaker:{region}:{account}:endpoint/{name}"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("name", "arn:aws:cloudwatch:{region}:{account}:alarm:{name}"),
    "aws:appautoscaling/policy:Policy": ("name", "arn:aws:autoscaling:{region}:{account}:scalingPolicy:{name}"),
    "aws:appautoscaling/scheduledAction:ScheduledAction": ("name", "arn:aws:autoscaling:{region}:{account}:scheduledAction:{name}"),
}


@dataclass
class Registered:
    type: str
    name: str
    inputs: dict
    state: dict  # inputs plus what the mock "cloud" returned


class Recorder(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[Registered] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        inputs = dict(args.inputs)
        state = dict(inputs)
        prop, arn = _NAMED.get(args.typ, (None, None))
        resource_id = f"{args.name}-id"
        if prop:
            # Pulumi auto-names a resource without an explicit name: logical name + random suffix.
            auto = f"{args.name}-{hashlib.sha256(args.name.encode()).hexdigest()[:7]}"
            state.setdefault(prop, auto)
            resource_id = state[prop]
            if arn:
                state["arn"] = arn.format(name=state[prop], region=REGION, account=ACCOUNT)
        if args.typ == "aws:appautoscaling/target:Target":
            resource_id = state.get("resourceId", resource_id)
            state["arn"] = f"arn:aws:application-autoscaling:{REGION}:{ACCOUNT}:scalable-target/{hashlib.sha256(resource_id.encode()).hexdigest()[:12]}"
        if "tags" in inputs:
            state["tagsAll"] = inputs["tags"]
        self.resources.append(Registered(args.typ, args.name, inputs, state))
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs):
        if args.token == "aws:index/getRegion:getRegion":
            return {"region": REGION, "name": REGION, "id": REGION, "description": "US East (N. Virginia)"}
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:user/ci", "userId": "AIDEXAMPLE", "id": ACCOUNT}
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}
        if args.token == "aws:eks/getCluster:getCluster":  # the user's cluster, which a GPU node group joins
            name = args.args.get("name", "cluster")
            return {"name": name, "id": name, "arn": f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{name}", "version": "1.31",
                    "vpcConfig": {"subnetIds": ["subnet-0a1", "subnet-0b2"], "vpcId": "vpc-0c3", "securityGroupIds": [],
                                  "clusterSecurityGroupId": "sg-0d4", "endpointPrivateAccess": True, "endpointPublicAccess": False,
                                  "publicAccessCidrs": []}}
        raise NotImplementedError(f"no mock for provider call {args.token}")

    # helpers for assertions
    def of_type(self, typ: str) -> list[Registered]:
        return [r for r in self.resources if r.type == typ]

    def one(self, typ: str) -> Registered:
        found = self.of_type(typ)
        assert len(found) == 1, f"expected one {typ}, found {len(found)}"
        return found[0]


def pulumi_config_from_yaml(path: Path) -> dict[str, str]:
    """A Pulumi.<stack>.yaml's `config:` as set_all_config wants it (objects as JSON strings)."""
    data = yaml.safe_load(Path(path).read_text())["config"]
    return {k: (json.dumps(v) if isinstance(v, (dict, list)) else str(v)) for k, v in data.items()}


def run_program(config: dict[str, str], stack: str, program: Callable[[], Any] | None = None) -> Recorder:
    """Run ``program`` (default: infra's stack program) under mocks with ``config``; return the recording."""
    from leanserve_infra.stack import program as stack_program

    recorder = Recorder()
    pulumi.runtime.set_mocks(recorder, project="leanserve", stack=stack, preview=False)
    pulumi.runtime.set_all_config(config)

    @pulumi.runtime.test
    def _run():
        (program or stack_program)()

    _run()
    return recorder


def example_config(stack: str, tarball: Path) -> dict[str, str]:
    """infra/Pulumi.<stack>.yaml pointed at a fixture model.tar.gz (the demo's package output may not exist)."""
    from toolkit.fileio import sha256_file

    config = pulumi_config_from_yaml(INFRA / f"Pulumi.{stack}.yaml")
    model = json.loads(config["leanserve:model"])
    model["sha256"] = sha256_file(tarball)
    if "artifact" in model:
        model["artifact"] = str(tarball)
    config["leanserve:model"] = json.dumps(model)
    return config
