"""The stack file is a contract between `leanserve deploy` (writer) and infra/ (reader): values survive the trip."""

from __future__ import annotations

import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.deploy.factories import candidate, make_plan
from tests.infra import harness  # noqa: F401 - puts infra/ on sys.path
from toolkit.artifacts.plan import Autoscaling, ScheduledAction
from toolkit.deploy.stack_config import build_stack_config, render

INSTANCE_TYPES = ["ml.c7i.xlarge", "ml.g5.xlarge", "ml.m5.large", "ml.inf2.xlarge", "ml.g6.2xlarge"]


@st.composite
def scaling(draw):
    lo = draw(st.integers(1, 20))
    hi = draw(st.integers(lo, 40))
    n = draw(st.integers(0, 3))
    return Autoscaling(
        min_capacity=lo,
        max_capacity=hi,
        target_value=draw(st.floats(0.5, 1e6, allow_nan=False, allow_infinity=False)),
        safety_factor=0.7,
        scale_in_cooldown_s=draw(st.integers(0, 3600)),
        scale_out_cooldown_s=draw(st.integers(0, 3600)),
        scheduled=[ScheduledAction(name=f"s{i}", schedule=f"cron({i} {i + 6} ? * MON-FRI *)", min_capacity=lo, max_capacity=hi) for i in range(n)],
    )


@settings(max_examples=40, deadline=None)
@given(
    instance_type=st.sampled_from(INSTANCE_TYPES),
    a=scaling(),
    tags=st.dictionaries(st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True), st.text(max_size=30), max_size=4),
)
@example(instance_type="ml.c7i.xlarge", a=Autoscaling(min_capacity=1, max_capacity=1, target_value=1.0, safety_factor=0.7,
                                                     scale_in_cooldown_s=0, scale_out_cooldown_s=0),
         tags={"a": "\x85", "b": "x\u2028y"})  # YAML line breaks PyYAML would write raw (found by this test)
def test_what_deploy_writes_is_what_infra_reads(instance_type, a, tags):
    from leanserve_infra.config import from_mapping

    plan = make_plan(candidate(instance_type=instance_type, scaling=a), tags=tags)
    cfg, _, _ = build_stack_config(plan, "prod", model_ref="../out/model.tar.gz", triton_model_name="ensemble")
    text = render(cfg)
    assert render(cfg) == text  # deterministic
    loaded = yaml.safe_load(text)["config"]
    s = from_mapping({k.split(":", 1)[1]: v for k, v in loaded.items() if k.startswith("leanserve:")})
    assert (s.endpoint.instance_type, s.endpoint.initial_instance_count) == (instance_type, a.min_capacity)
    assert (s.autoscaling.min_capacity, s.autoscaling.max_capacity, s.autoscaling.target_value) == (a.min_capacity, a.max_capacity, a.target_value)
    assert (s.autoscaling.scale_in_cooldown_s, s.autoscaling.scale_out_cooldown_s) == (a.scale_in_cooldown_s, a.scale_out_cooldown_s)
    assert [(x.name, x.schedule, x.min_capacity, x.max_capacity) for x in s.autoscaling.scheduled] == [(x.name, x.schedule, x.min_capacity, x.max_capacity) for x in a.scheduled]
    assert s.tags == tags
    assert s.model.artifact == "../out/model.tar.gz" and s.model.sha256 == plan.model_artifact_sha256


@settings(max_examples=30, deadline=None)
@given(floor=st.integers(1, 6), extra_min=st.integers(0, 4), burst=st.integers(1, 20), instance_type=st.sampled_from(["g5.xlarge", "c7i.2xlarge", "g5.12xlarge"]))
def test_the_spot_section_survives_the_trip(floor, extra_min, burst, instance_type):
    from leanserve_infra.config import from_mapping

    from tests.deploy.factories import spot_candidate
    from toolkit.deploy.stack_config import run_checks

    lo = floor + extra_min
    hi = max(lo, floor + burst)
    plan = make_plan(spot_candidate(min_capacity=lo, max_capacity=hi, floor=floor, instance_type=instance_type))
    cfg, _, _ = build_stack_config(plan, "k8s", image="registry.example.com/m:1")
    run_checks(cfg)
    loaded = yaml.safe_load(render(cfg))["config"]
    s = from_mapping({k.split(":", 1)[1]: v for k, v in loaded.items() if k.startswith("leanserve:")}).kubernetes.spot
    assert s == cfg.kubernetes.spot
    assert s.floor_replicas == floor and s.floor_replicas + s.max_spot_replicas == hi
    assert s.min_spot_replicas == max(1, lo - floor) <= s.max_spot_replicas
