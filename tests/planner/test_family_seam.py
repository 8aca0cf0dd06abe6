"""The family seam: a family registered from outside, counting capacity in tokens/s, plans end to end.

The throwaway family below lives only in this test. It touches no stage: it is one class and one
``register`` call, and the planner simulates, searches and prices in its unit.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from tests.planner.conftest import PROFILES, VARIANTS, write_spec
from toolkit.families import Family, family_for, register, unregister
from toolkit.perf import CapacityEstimate

TOKENS_PER_REQUEST = 40.0


class TokenStreamFamily(Family):
    """Requests that each stand for 40 tokens; capacity and demand are counted in tokens/s."""

    task = "toy-token-stream"
    title = "a throwaway family for the seam test"
    capacity_unit = "tokens/s"
    response_kb = 4.0  # same bytes on the wire as the embedding family, so bills can be compared

    def units_per_request(self, spec=None) -> float:
        return TOKENS_PER_REQUEST

    def capacity(self, variant, instance, sla, profiles, machine, spec):
        est = super().capacity(variant, instance, sla, profiles, machine, spec)
        if not isinstance(est, CapacityEstimate):
            return est
        k = TOKENS_PER_REQUEST
        return dataclasses.replace(est, max_rps_at_sla=est.max_rps_at_sla * k, saturation_rps=est.saturation_rps * k,
                                   low_rps=est.low_rps * k, high_rps=est.high_rps * k)


@pytest.fixture
def token_family():
    register(TokenStreamFamily.task, TokenStreamFamily())
    yield family_for(TokenStreamFamily.task)
    unregister(TokenStreamFamily.task)


def _plan(tmp_path, task: str, **changes):
    from toolkit.planner import load_inputs, make_plan

    variants = json.loads(VARIANTS.read_text())
    variants["task"] = task
    vpath = tmp_path / f"variants-{task}.json"
    vpath.write_text(json.dumps(variants))
    spec = write_spec(tmp_path, name=f"{task}.yaml", **{"model.task": task, **changes})
    loaded, v, p = load_inputs(spec, vpath, PROFILES)
    return make_plan(loaded, v, p).plan


@pytest.mark.parametrize("platforms", [["sagemaker-realtime", "sagemaker-serverless", "kubernetes"], ["kubernetes"]])
def test_a_family_counting_tokens_plans_the_same_fleet_as_its_request_twin(tmp_path, token_family, platforms):
    tokens = _plan(tmp_path, token_family.task, **{"targets.platforms": platforms})
    requests = _plan(tmp_path, "feature-extraction", **{"targets.platforms": platforms})

    assert tokens.chosen is not None
    # the same configuration at the same cost: capacity and demand were both scaled by 40
    for a, b in zip([tokens.chosen, *tokens.runners_up], [requests.chosen, *requests.runners_up]):
        assert (a.variant, a.platform, a.instance_type, a.region) == (b.variant, b.platform, b.instance_type, b.region)
        assert a.monthly_cost_usd == pytest.approx(b.monthly_cost_usd, abs=0.005)
    instance_based = [c for c in [tokens.chosen, *tokens.runners_up] if c.instance_type]
    assert instance_based, "the comparison needs at least one instance fleet"
    twin = {(c.variant, c.platform, c.instance_type): c for c in [requests.chosen, *requests.runners_up]}
    for c in instance_based:
        other = twin[(c.variant, c.platform, c.instance_type)]
        # plan.json states the capacity in the family's unit ...
        assert c.capacity.unit == "tokens/s" and other.capacity.unit == "req/s"
        assert c.capacity.value == pytest.approx(other.capacity.value * TOKENS_PER_REQUEST, rel=1e-3)
        # ... while the autoscaler still tracks invocations, which it counts in requests
        if c.autoscaling is not None:
            assert c.autoscaling.target_value == pytest.approx(other.autoscaling.target_value, rel=1e-6)


def test_an_unregistered_task_is_refused_with_a_suggestion(tmp_path):
    from toolkit.errors import SpecError
    from toolkit.spec import load_spec

    spec = write_spec(tmp_path, **{"model.task": "feature-extractoin"})
    with pytest.raises(SpecError, match="did you mean 'feature-extraction'"):
        load_spec(spec)
