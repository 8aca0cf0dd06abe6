"""Assertions over a recorded stack, shared by the component tests and the example-stack tests."""

from __future__ import annotations

import importlib
import inspect
import json
import re

from tests.infra.harness import Recorder
from toolkit.artifacts.plan import PlanFile

AWS = "aws:"


def aws_class(token: str):
    """The pulumi_aws class of a type token such as 'aws:s3/bucket:Bucket'."""
    _, module, cls = token.split(":")
    return getattr(importlib.import_module(f"pulumi_aws.{module.split('/')[0]}"), cls)


def taggable(token: str) -> bool:
    return "tags" in inspect.signature(aws_class(token)._internal_init).parameters


def policy_documents(rec: Recorder) -> list[dict]:
    docs = []
    for r in rec.resources:
        for key in ("policy", "assumeRolePolicy"):
            if r.type.startswith(AWS) and isinstance(r.inputs.get(key), str):
                docs.append(json.loads(r.inputs[key]))
    return docs


def allow_actions(doc: dict) -> list[str]:
    out = []
    for st in doc["Statement"]:
        if st["Effect"] == "Allow":
            actions = st["Action"]
            out += [actions] if isinstance(actions, str) else actions
    return out


def assert_tags_everywhere(rec: Recorder, tags: dict[str, str]) -> int:
    """Every taggable AWS resource carries the plan's tags; returns how many were checked."""
    checked = 0
    for r in rec.resources:
        if r.type.startswith(AWS) and taggable(r.type):
            assert tags.items() <= (r.inputs.get("tags") or {}).items(), f"{r.type} {r.name} lacks the plan's tags"
            checked += 1
    return checked


def assert_private_encrypted_bucket(rec: Recorder) -> str:
    bucket = rec.one("aws:s3/bucket:Bucket").state["bucket"]
    sse = rec.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").inputs
    assert sse["bucket"] == bucket
    assert sse["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] in ("AES256", "aws:kms")
    pab = rec.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert pab["bucket"] == bucket
    assert all(pab[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    assert rec.one("aws:s3/bucketVersioning:BucketVersioning").inputs["versioningConfiguration"]["status"] == "Enabled"
    assert rec.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced"
    policy = json.loads(rec.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    (deny,) = policy["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert f"arn:aws:s3:::{bucket}/*" in deny["Resource"]
    return bucket


def assert_least_privilege(rec: Recorder, bucket: str, sha: str, image: str) -> None:
    docs = policy_documents(rec)
    assert len(docs) >= 3  # trust policy, execution policy, bucket policy
    for doc in docs:
        assert [a for a in allow_actions(doc) if "*" in a] == [], doc
    trust = json.loads(rec.one("aws:iam/role:Role").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    execution = json.loads(rec.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    by_sid = {s["Sid"]: s for s in execution["Statement"]}
    assert by_sid["ReadModelArtifact"]["Resource"] == [f"arn:aws:s3:::{bucket}/models/{sha}/*"]
    account, region = image.split(".")[0], image.split(".")[3]
    repo = image.split("/", 1)[1].split("@")[0].split(":")[0]  # AWS's sagemaker-tritonserver, or the user's LLM image repository
    assert by_sid["PullTritonImage"]["Resource"] == [f"arn:aws:ecr:{region}:{account}:repository/{repo}"]


def assert_sagemaker_stack(rec: Recorder, plan: PlanFile, endpoint_name: str, model_sha256: str | None = None) -> None:
    """``model_sha256``: the uploaded file's hash (default: the plan's)."""
    c = plan.chosen
    sha = model_sha256 or plan.model_artifact_sha256
    bucket = assert_private_encrypted_bucket(rec)
    obj = rec.one("aws:s3/bucketObjectv2:BucketObjectv2").inputs
    assert obj["key"] == f"models/{sha}/model.tar.gz"
    assert obj["serverSideEncryption"] == "AES256"

    model = rec.one("aws:sagemaker/model:Model").inputs
    image = model["primaryContainer"]["image"]
    assert re.fullmatch(rf"\d{{12}}\.dkr\.ecr\.{c.region}\.amazonaws\.com/sagemaker-tritonserver:\d\d\.\d\d-py3", image)
    assert model["primaryContainer"]["modelDataUrl"] == f"s3://{bucket}/models/{sha}/model.tar.gz"
    assert model["primaryContainer"]["environment"]["SAGEMAKER_TRITON_DEFAULT_MODEL_NAME"]
    assert_least_privilege(rec, bucket, sha, image)

    (variant,) = rec.one("aws:sagemaker/endpointConfiguration:EndpointConfiguration").inputs["productionVariants"]
    if c.platform == "sagemaker-serverless":
        assert variant["serverlessConfig"]["memorySizeInMb"] == c.serverless.memory_mb
        assert variant["serverlessConfig"]["maxConcurrency"] == c.serverless.max_concurrency
        assert "instanceType" not in variant
    else:
        assert variant["instanceType"] == c.instance_type
        assert variant["initialInstanceCount"] == (c.autoscaling.min_capacity if c.autoscaling else plan.sla.min_instances)

    alarms = {r.inputs["name"]: r.inputs for r in rec.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    endpoint = rec.one("aws:sagemaker/endpoint:Endpoint").inputs
    assert endpoint["name"] == endpoint_name
    rollback = {a["alarmName"] for a in endpoint["deploymentConfig"]["autoRollbackConfiguration"]["alarms"]}
    assert rollback == set(alarms) and len(rollback) == 2
    assert endpoint["deploymentConfig"]["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"]["type"] in ("CANARY", "ALL_AT_ONCE", "LINEAR")
    (latency,) = [a for a in alarms.values() if a.get("metricName") == "ModelLatency"]
    assert latency["extendedStatistic"] == plan.sla.percentile and latency["threshold"] == plan.sla.latency_ms * 1000
    assert latency["dimensions"] == {"EndpointName": endpoint_name, "VariantName": variant["variantName"]}
    (errors,) = [a for a in alarms.values() if "metricQueries" in a]
    assert {q["metric"]["metricName"] for q in errors["metricQueries"] if "metric" in q} == {"Invocation5XXErrors", "Invocations"}
    assert errors["threshold"] == plan.sla.max_error_rate

    a = c.autoscaling
    if a is None or c.platform == "sagemaker-serverless":
        assert rec.of_type("aws:appautoscaling/target:Target") == []
    else:
        target = rec.one("aws:appautoscaling/target:Target").inputs
        assert target["resourceId"] == f"endpoint/{endpoint_name}/variant/{variant['variantName']}"
        assert target["scalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
        assert (target["minCapacity"], target["maxCapacity"]) == (a.min_capacity, a.max_capacity)
        tt = rec.one("aws:appautoscaling/policy:Policy").inputs["targetTrackingScalingPolicyConfiguration"]
        assert tt["targetValue"] == a.target_value
        assert tt["predefinedMetricSpecification"]["predefinedMetricType"] == a.metric
        assert (tt["scaleInCooldown"], tt["scaleOutCooldown"]) == (a.scale_in_cooldown_s, a.scale_out_cooldown_s)
        scheduled = sorted((s.inputs["schedule"], s.inputs["scalableTargetAction"]["minCapacity"], s.inputs["scalableTargetAction"]["maxCapacity"]) for s in rec.of_type("aws:appautoscaling/scheduledAction:ScheduledAction"))
        assert scheduled == sorted((s.schedule, s.min_capacity, s.max_capacity) for s in a.scheduled)
    assert assert_tags_everywhere(rec, plan.tags) >= 8


def assert_kubernetes_stack(rec: Recorder, plan: PlanFile, image: str) -> None:
    c, a = plan.chosen, plan.chosen.autoscaling
    dep = rec.one("kubernetes:apps/v1:Deployment").inputs
    pod = dep["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == image
    assert dep["spec"]["replicas"] == a.min_capacity
    assert pod["nodeSelector"]["node.kubernetes.io/instance-type"] == c.instance_type
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/v2/health/ready"
    assert pod["securityContext"]["runAsNonRoot"] is True
    sc = container["securityContext"]
    assert sc["runAsNonRoot"] is True and sc["allowPrivilegeEscalation"] is False and sc["capabilities"]["drop"] == ["ALL"]
    assert "privileged" not in sc
    hpa = rec.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler").inputs
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (a.min_capacity, a.max_capacity)
    assert hpa["spec"]["scaleTargetRef"]["name"] == dep["metadata"]["name"]
    pdb = rec.one("kubernetes:policy/v1:PodDisruptionBudget").inputs
    assert pdb["spec"]["selector"]["matchLabels"] == dep["spec"]["selector"]["matchLabels"]
    assert rec.one("kubernetes:core/v1:Service").inputs["spec"]["type"] == "ClusterIP"
    for r in rec.resources:
        if r.type.startswith("kubernetes:"):
            assert plan.tags.items() <= r.inputs["metadata"]["labels"].items(), r.type


def assert_kubernetes_spot_stack(rec: Recorder, plan: PlanFile, image: str) -> dict:
    """A spot plan: the floor on demand with ``replicas = floor``, the burst on spot scaled by the HPA between 1 (or the
    plan's min above the floor) and max − floor, one Service over both, a Karpenter NodePool for spot. Returns the
    resources by role."""
    c, a = plan.chosen, plan.chosen.autoscaling
    floor = c.purchase.spot.floor_instances
    deps = {r.inputs["metadata"]["name"]: r.inputs for r in rec.of_type("kubernetes:apps/v1:Deployment")}
    name = plan.name
    assert set(deps) == {f"{name}-floor", f"{name}-burst"}
    on_demand, burst = deps[f"{name}-floor"], deps[f"{name}-burst"]
    pool = rec.one("kubernetes:karpenter.sh/v1:NodePool").inputs
    assert pool["apiVersion"] == "karpenter.sh/v1" and pool["kind"] == "NodePool"
    reqs = {r["key"]: r for r in pool["spec"]["template"]["spec"]["requirements"]}
    assert reqs["karpenter.sh/capacity-type"] == {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot"]}
    assert reqs["node.kubernetes.io/instance-type"]["values"] == [c.instance_type]
    assert pool["spec"]["template"]["spec"]["nodeClassRef"] == {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"}
    assert pool["spec"]["disruption"]["consolidationPolicy"] == "WhenEmpty" and pool["spec"]["disruption"]["consolidateAfter"]
    assert int(pool["spec"]["limits"]["cpu"]) > 0
    (taint,) = pool["spec"]["template"]["spec"]["taints"]

    assert on_demand["spec"]["replicas"] == floor
    od_pod, spot_pod = on_demand["spec"]["template"]["spec"], burst["spec"]["template"]["spec"]
    assert od_pod["nodeSelector"]["karpenter.sh/capacity-type"] == "on-demand"
    assert spot_pod["nodeSelector"]["karpenter.sh/capacity-type"] == "spot"
    assert spot_pod["nodeSelector"]["karpenter.sh/nodepool"] == pool["metadata"]["name"]
    assert {"key": taint["key"], "operator": "Equal", "value": taint["value"], "effect": "NoSchedule"} in spot_pod["tolerations"]
    assert not any(t["key"] == taint["key"] for t in od_pod.get("tolerations", []))
    for pod in (od_pod, spot_pod):
        assert pod["nodeSelector"]["node.kubernetes.io/instance-type"] == c.instance_type
        (container,) = pod["containers"]
        assert container["image"] == image
        assert pod["securityContext"]["runAsNonRoot"] is True
        sc = container["securityContext"]
        assert sc["runAsNonRoot"] is True and sc["allowPrivilegeEscalation"] is False and sc["capabilities"]["drop"] == ["ALL"]
        assert "privileged" not in sc
        for probe in ("readinessProbe", "livenessProbe"):
            assert container[probe]["httpGet"]["path"] == "/v2/health/ready"
    # each Deployment selects only its own pods; the Service and the PDB select both
    assert on_demand["spec"]["selector"]["matchLabels"] != burst["spec"]["selector"]["matchLabels"]
    service = rec.one("kubernetes:core/v1:Service").inputs["spec"]["selector"]
    pdb = rec.one("kubernetes:policy/v1:PodDisruptionBudget").inputs["spec"]["selector"]["matchLabels"]
    for dep in (on_demand, burst):
        assert service.items() <= dep["spec"]["template"]["metadata"]["labels"].items()
        assert pdb.items() <= dep["spec"]["template"]["metadata"]["labels"].items()
        assert dep["spec"]["selector"]["matchLabels"].items() <= dep["spec"]["template"]["metadata"]["labels"].items()

    (hpa,) = [r.inputs for r in rec.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")]
    assert hpa["spec"]["scaleTargetRef"]["name"] == f"{name}-burst"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (max(1, a.min_capacity - floor), a.max_capacity - floor)
    assert burst["spec"]["replicas"] == hpa["spec"]["minReplicas"]
    for r in rec.resources:
        if r.type.startswith("kubernetes:"):
            assert plan.tags.items() <= r.inputs["metadata"]["labels"].items(), r.type
    return {"floor": on_demand, "burst": burst, "node_pool": pool, "hpa": hpa}
