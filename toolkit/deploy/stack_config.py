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
from toolkit.deploy.model_artifact import ModelArtifact
from toolkit.deploy.purchase import commitment_note
from toolkit.deploy.stack_schema import (
    AutoscalingCfg,
    ScheduledCfg,
    StackConfig,
)
from toolkit.deploy.triton_images import DEFAULT_VERSION, TritonImage
from toolkit.errors import InfeasibleError, InputError
from toolkit.fileio import atomic_write_text
from toolkit.platforms import platform_for

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


@dataclass
class StackInputs:
    """What a platform needs to write its stack: the plan, its chosen candidate and the verified artifacts."""

    plan: PlanFile
    candidate: Candidate
    stack: str
    common: dict
    sha256: str
    autoscaling: AutoscalingCfg | None
    image: str | None
    model: ModelArtifact | None
    model_ref: str | None
    triton_version: str
    triton_model_name: str | None
    notes: list[str]
    manifest: object | None = None  #: the package's manifest.json (an LLMManifest for LLM packages), when given
    cluster: str | None = None  #: Kubernetes LLM plans: the EKS cluster the GPU node group joins


def build_stack_config(
    plan: PlanFile,
    stack: str,
    *,
    model: ModelArtifact | None = None,
    model_ref: str | None = None,
    image: str | None = None,
    triton_version: str = DEFAULT_VERSION,
    triton_model_name: str | None = None,
    manifest=None,
    cluster: str | None = None,
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
    common = dict(stack=stack, name=plan.name, platform=c.platform, variant=c.variant, spec_sha256=plan.spec_sha256, tags=dict(sorted(plan.tags.items())))
    inp = StackInputs(plan, c, stack, common, sha, _autoscaling(c), image, model, model_ref, triton_version, triton_model_name, notes,
                      manifest=manifest, cluster=cluster)
    cfg, resolved = platform_for(c.platform).stack_config(inp)
    buy = commitment_note(c)  # a Savings Plan is a purchase, not infrastructure: say what to buy, never buy it
    if buy:
        notes.append(buy)
    return cfg, resolved, notes


def run_checks(cfg: StackConfig) -> list[str]:
    """The project's checks of what AWS would reject and moto would not; returns what was checked."""
    done: list[str] = []
    where = f"stack {cfg.stack}"
    done += platform_for(cfg.platform).check_stack(cfg, where)
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
    spot = cfg.kubernetes.spot if cfg.kubernetes else None
    if spot is not None:
        checks.check_capacity(spot.min_spot_replicas, spot.max_spot_replicas, f"{where} spot burst", min_allowed=1)
        if a is not None and spot.floor_replicas + spot.max_spot_replicas != a.max_capacity:
            raise checks.DeployCheckError(f"{where}: on-demand floor {spot.floor_replicas} + spot burst {spot.max_spot_replicas} is not the plan's max {a.max_capacity}",
                                          hint="re-emit the stack file from plan.json (`leanserve deploy PLAN --emit DIR`)")
        done.append(f"spot burst {spot.min_spot_replicas}–{spot.max_spot_replicas} on {spot.instance_type} above {spot.floor_replicas} on demand = max {a.max_capacity if a else '?'}")
    return done


HEADER = """\
# Pulumi stack '{stack}' for the programs in infra/, written by `leanserve deploy --emit` from plan.json.
# Generated: change leanserve.yaml, re-run `leanserve plan`, then `leanserve deploy PLAN --emit DIR`.
# Plan: {name} (spec sha256 {spec}), variant {variant} on {where}.
"""


def render(cfg: StackConfig) -> str:
    """The stack file's text: fixed key order, no timestamps, so a changed plan is a small diff."""
    import yaml

    where = platform_for(cfg.platform).describe_stack(cfg)
    from toolkit.deploy.llm_stack import comments

    header = HEADER.format(stack=cfg.stack, name=cfg.name, spec=cfg.spec_sha256[:12], variant=cfg.variant, where=where) + comments(cfg)
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
