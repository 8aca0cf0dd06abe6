"""plan.json → Pulumi stack configuration (``Pulumi.<stack>.yaml``) for the programs in ``infra/``.

The file is the GitOps contract: it is committed, and a changed plan shows up as a small diff. So the
rendering is deterministic — keys in a fixed order, no timestamps, no absolute paths, no secrets —
and every value the infrastructure uses is visible in it. The schema is :mod:`toolkit.deploy.stack_schema`,
which ``infra/`` validates the same file with (namespace ``leanserve``; AWS's region under ``aws:region``).
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.artifacts.plan import Candidate, PlanFile
from toolkit.deploy import checks
from toolkit.deploy.kubernetes_sizing import pod_size
from toolkit.deploy.model_artifact import ModelArtifact
from toolkit.deploy.stack_schema import (
    AlarmsCfg,
    AutoscalingCfg,
    DeploymentCfg,
    EndpointCfg,
    KubernetesCfg,
    ModelRef,
    ScheduledCfg,
    ServerlessCfg,
    StackConfig,
)
from toolkit.deploy.triton_images import DEFAULT_VERSION, TritonImage, triton_image
from toolkit.errors import InfeasibleError, InputError
from toolkit.fileio import atomic_write_text

_STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


@dataclass
class EmitResult:
    config: StackConfig
    path: Path
    changed: bool
    diff: str
    image_source: str | None
    notes: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)


def check_stack_name(stack: str) -> str:
    if not _STACK_NAME.match(stack):
        raise InputError(f"'{stack}' is not a valid Pulumi stack name", hint="use letters, digits, '-', '_' and '.' (e.g. prod, cpu-us-east-1)")
    return stack


def endpoint_name(name: str, stack: str) -> str:
    """A SageMaker endpoint name (≤ 63 chars of [a-zA-Z0-9-]) that is the same on every run."""
    raw = name if stack == name else f"{name}-{stack}"
    clean = re.sub(r"-+", "-", re.sub(r"[^a-zA-Z0-9-]", "-", raw)).strip("-")
    return clean[:63].rstrip("-") or "leanserve"


def _autoscaling(c: Candidate) -> AutoscalingCfg | None:
    a = c.autoscaling
    if a is None:
        return None
    return AutoscalingCfg(
        min_capacity=a.min_capacity,
        max_capacity=a.max_capacity,
        metric=a.metric,
        target_value=a.target_value,
        scale_in_cooldown_s=a.scale_in_cooldown_s,
        scale_out_cooldown_s=a.scale_out_cooldown_s,
        scheduled=[ScheduledCfg(name=s.name, schedule=s.schedule, min_capacity=s.min_capacity, max_capacity=s.max_capacity) for s in a.scheduled],
    )


def _hpa_metric(metric: str) -> str:
    return {"SageMakerVariantInvocationsPerInstance": "requests", "cpu": "cpu", "queue-time": "queue-time", "requests": "requests"}[metric]


def build_stack_config(
    plan: PlanFile,
    stack: str,
    *,
    model: ModelArtifact | None = None,
    model_ref: str | None = None,
    image: str | None = None,
    triton_version: str = DEFAULT_VERSION,
    triton_model_name: str | None = None,
) -> tuple[StackConfig, TritonImage | None, list[str]]:
    """The stack configuration for ``plan``'s chosen candidate, plus the image resolution and notes.

    ``model`` is the verified model.tar.gz (SageMaker); ``model_ref`` is how the stack file refers to it
    (a path relative to the Pulumi project folder).
    """
    check_stack_name(stack)
    c = plan.chosen
    if c is None or not plan.feasible:
        raise InfeasibleError("plan.json has no feasible configuration to deploy", hint="relax the SLA or budget in leanserve.yaml and re-run `leanserve plan`")
    notes: list[str] = []
    sha = model.sha256 if model else plan.model_artifact_sha256
    if not sha:
        raise InputError("plan.json does not name a model artifact (model_artifact_sha256 is empty)", hint="pass --model PATH to the model.tar.gz the plan was made for")
    sla = plan.sla
    common = dict(stack=stack, name=plan.name, platform=c.platform, variant=c.variant, spec_sha256=plan.spec_sha256, tags=dict(sorted(plan.tags.items())))
    autoscaling = _autoscaling(c)
    resolved: TritonImage | None = None

    if c.platform == "kubernetes":
        if not image:
            raise InputError(
                "a Kubernetes plan needs the Triton image that holds its model repository",
                hint="build the container context written by `leanserve package`, push it, and pass --image REGISTRY/NAME:TAG",
            )
        if not c.instance_type:
            raise InputError("plan.json: the Kubernetes candidate names no node instance type", hint="re-run `leanserve plan`")
        size = pod_size(c.instance_type)
        replicas = autoscaling.min_capacity if autoscaling else sla.min_instances
        if autoscaling and autoscaling.scheduled:
            notes.append(f"{len(autoscaling.scheduled)} scheduled action(s) are not applied on Kubernetes (the HPA has no schedules)")
        cfg = StackConfig(
            **common,
            region=c.region,
            model=ModelRef(sha256=sha),
            image=image,
            autoscaling=autoscaling,
            kubernetes=KubernetesCfg(
                namespace=plan.name,
                node_instance_type=size.node_instance_type,
                gpus=size.gpus,
                cpu=size.cpu,
                memory=size.memory,
                replicas=max(1, replicas),
                hpa_metric=_hpa_metric(autoscaling.metric) if autoscaling else None,
            ),
        )
        return cfg, None, notes

    if image is None:
        resolved = triton_image(c.region, triton_version)
        image = resolved.uri
    if model is None and model_ref is None:
        raise InputError("a SageMaker plan needs its model.tar.gz", hint="pass --model PATH (written by `leanserve package --target sagemaker`)")
    model_cfg = ModelRef(artifact=model_ref, sha256=sha, triton_model_name=(model.triton_model_name if model else triton_model_name) or plan.name)
    if c.platform == "sagemaker-serverless":
        if c.serverless is None:
            raise InputError("plan.json: the serverless candidate has no serverless settings", hint="re-run `leanserve plan`")
        endpoint = EndpointCfg(serverless=ServerlessCfg(memory_size_in_mb=c.serverless.memory_mb, max_concurrency=c.serverless.max_concurrency, provisioned_concurrency=c.serverless.provisioned_concurrency))
        deployment = DeploymentCfg(traffic_routing="ALL_AT_ONCE")
        if autoscaling and not c.serverless.provisioned_concurrency:
            notes.append("the plan's autoscaling is dropped: a serverless endpoint scales by itself unless it has provisioned concurrency")
            autoscaling = None
    else:
        count = autoscaling.min_capacity if autoscaling else sla.min_instances
        endpoint = EndpointCfg(instance_type=c.instance_type, initial_instance_count=max(1, count))
        deployment = DeploymentCfg(traffic_routing="CANARY", canary_percent=10)
    cfg = StackConfig(
        **common,
        region=c.region,
        endpoint_name=endpoint_name(plan.name, stack),
        model=model_cfg,
        image=image,
        endpoint=endpoint,
        autoscaling=autoscaling,
        alarms=AlarmsCfg(latency_percentile=sla.percentile, latency_threshold_ms=sla.latency_ms, error_rate_threshold=sla.max_error_rate),
        deployment=deployment,
    )
    return cfg, resolved, notes


def run_checks(cfg: StackConfig) -> list[str]:
    """The project's checks of what AWS would reject and moto would not; returns what was checked."""
    done: list[str] = []
    where = f"stack {cfg.stack}"
    if cfg.platform == "sagemaker-realtime":
        checks.check_instance_type(cfg.endpoint.instance_type if cfg.endpoint else None, where)
        done.append(f"instance type {cfg.endpoint.instance_type} is in botocore's ProductionVariantInstanceType list")
    if cfg.platform == "sagemaker-serverless" and cfg.endpoint and cfg.endpoint.serverless:
        s = cfg.endpoint.serverless
        checks.check_serverless(s.memory_size_in_mb, s.max_concurrency, where)
        done.append(f"serverless memory {s.memory_size_in_mb} MB and concurrency {s.max_concurrency} are allowed")
    a = cfg.autoscaling
    if a is not None:
        checks.check_capacity(a.min_capacity, a.max_capacity, f"{where} autoscaling", min_allowed=1)
        checks.check_metric(a.metric, cfg.platform, f"{where} autoscaling")
        checks.check_target_value(a.target_value, f"{where} autoscaling")
        checks.check_cooldown(a.scale_in_cooldown_s, "scale-in", f"{where} autoscaling")
        checks.check_cooldown(a.scale_out_cooldown_s, "scale-out", f"{where} autoscaling")
        done.append(f"min {a.min_capacity} ≤ max {a.max_capacity}; metric {a.metric} is known")
        for s in a.scheduled:
            checks.check_capacity(s.min_capacity, s.max_capacity, f"{where} scheduled action {s.name}", min_allowed=1)
            checks.check_schedule(s.schedule, f"{where} scheduled action {s.name}")
        if a.scheduled:
            done.append(f"{len(a.scheduled)} scheduled action(s) have valid schedules and min ≤ max")
    return done


HEADER = """\
# Pulumi stack '{stack}' for the programs in infra/, written by `leanserve deploy --emit` from plan.json.
# Generated: change leanserve.yaml, re-run `leanserve plan`, then `leanserve deploy PLAN --emit DIR`.
# Plan: {name} (spec sha256 {spec}), variant {variant} on {where}.
"""


def render(cfg: StackConfig) -> str:
    """The stack file's text: fixed key order, no timestamps, so a changed plan is a small diff."""
    import yaml

    if cfg.platform == "sagemaker-serverless" and cfg.endpoint and cfg.endpoint.serverless:
        where = f"SageMaker Serverless ({cfg.endpoint.serverless.memory_size_in_mb} MB) in {cfg.region}"
    elif cfg.platform == "kubernetes" and cfg.kubernetes:
        where = f"Kubernetes ({cfg.kubernetes.node_instance_type} nodes)"
    else:
        where = f"{cfg.endpoint.instance_type if cfg.endpoint else '?'} in {cfg.region}"
    header = HEADER.format(stack=cfg.stack, name=cfg.name, spec=cfg.spec_sha256[:12], variant=cfg.variant, where=where)
    body = yaml.dump({"config": cfg.pulumi_config()}, Dumper=_stack_dumper(), sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=1000)
    return header + body


#: Characters YAML reads as line breaks: PyYAML writes them raw inside quoted scalars, where they fold to a space.
_YAML_BREAKS = "\x85\u2028\u2029"


def _stack_dumper():
    """A SafeDumper that double-quotes (and so escapes) strings holding YAML's extra line breaks, so every value
    reads back exactly as written (found by the round-trip property test with a tag value of U+0085)."""
    import yaml

    class StackDumper(yaml.SafeDumper):
        pass

    def represent_str(dumper, s: str):
        return dumper.represent_scalar("tag:yaml.org,2002:str", s, style='"' if any(c in s for c in _YAML_BREAKS) else None)

    StackDumper.add_representer(str, represent_str)
    return StackDumper


def stack_file(directory: str | Path, stack: str) -> Path:
    return Path(directory) / f"Pulumi.{stack}.yaml"


def relative_ref(model_path: Path, project_dir: Path) -> str:
    """How the stack file names model.tar.gz: relative to the Pulumi project folder, with '/'."""
    return Path(os.path.relpath(Path(model_path).resolve(), Path(project_dir).resolve())).as_posix()


def write_stack_file(cfg: StackConfig, directory: str | Path) -> tuple[Path, bool, str]:
    """Write ``Pulumi.<stack>.yaml`` atomically; returns (path, changed, unified diff against the old file)."""
    path = stack_file(directory, cfg.stack)
    text = render(cfg)
    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    if old == text:
        return path, False, ""
    diff = "".join(difflib.unified_diff(old.splitlines(keepends=True), text.splitlines(keepends=True), fromfile=f"a/{path.name}", tofile=f"b/{path.name}"))
    atomic_write_text(path, text)
    return path, True, diff
