"""Stable choices: configurations equal in cost to the cent (and in violation minutes) are ranked by a fixed tie-break.

The 5-run stability benchmark (``benchmarks/plan_bench.py --stability``) replays saved bench runs that are not part
of the repository; these tests check the tie-break itself on the fixture profiles and on synthetic ledgers.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from tests.planner.conftest import PROFILES, VARIANTS, write_spec
from toolkit.planner.api import load_inputs, make_plan
from toolkit.planner.dynamics import sagemaker_dynamics
from toolkit.planner.grid import LaneSpace
from toolkit.planner.render import explain_text
from toolkit.planner.search import Ledger

# low traffic: every variant fits in the two instances the availability minimum asks for, so several cost the same
SMALL = {"sla.peak_rps": 20, "traffic.pattern.trough_rps": 2, "traffic.days": 2, "targets.platforms": ["sagemaker-realtime"],
         "targets.instance_types": ["ml.c5.large", "ml.c6i.large"]}


def _plan(tmp_path, catalog, reverse=False, strategy="fast", top=6):
    loaded, variants, profiles = load_inputs(write_spec(tmp_path, **SMALL), VARIANTS, PROFILES)
    if reverse:
        variants = variants.model_copy(update={"variants": variants.variants[::-1]})
    return make_plan(loaded, variants, profiles, catalog=catalog, strategy=strategy, top=top).plan


@pytest.mark.parametrize("reverse", [False, True])
def test_an_equal_cost_goes_to_the_variant_closest_to_the_reference_whatever_the_file_order(tmp_path, catalog, reverse):
    p = _plan(tmp_path, catalog, reverse)
    ranked = [p.chosen] + p.runners_up
    assert len({round(c.monthly_cost_usd, 2) for c in ranked}) == 1  # a real tie on cost
    assert [(c.variant, c.instance_type) for c in ranked] == [
        ("onnx-fp32", "ml.c5.large"), ("onnx-fp32", "ml.c6i.large"), ("onnx-int8", "ml.c5.large"), ("onnx-int8", "ml.c6i.large"),
        ("pruned-heads25", "ml.c5.large"), ("pruned-heads25", "ml.c6i.large")]
    assert ranked[1].why_not.endswith("by name: 'onnx-fp32 sagemaker-realtime ml.c6i.large' after 'onnx-fp32 sagemaker-realtime ml.c5.large'")
    assert "ranked after it by quality: onnx-int8 (cosine mean 0.993" in ranked[2].why_not
    assert "is further from the reference than onnx-fp32 (cosine mean 0.99999" in ranked[2].why_not
    exact = _plan(tmp_path, catalog, reverse, strategy="exact")
    assert [(c.variant, c.instance_type) for c in [exact.chosen] + exact.runners_up] == [(c.variant, c.instance_type) for c in ranked]
    assert _plan(tmp_path, catalog, reverse, top=1).chosen.variant == "onnx-fp32"  # --top only shows less


def test_the_ranking_rule_is_stated_in_the_explain_text(tmp_path, catalog):
    text = "\n".join(explain_text(_plan(tmp_path, catalog, top=2)))
    assert ("Ranking: the lowest monthly cost to the cent first; configurations equal in that and in violation minutes (0.1 min a month) "
            "are ranked by quality loss (closest to the reference first), then instances (instance-hours billed), then name") in text


def _ledger(rows):
    """A ledger over one lane per group; ``rows``: (variant name, quality loss, instance type, $/h, billed hours, violation minutes)."""
    groups = []
    for gid, (variant, loss, itype, usd_h, _, _) in enumerate(rows):
        price = SimpleNamespace(unit_usd_per_instance_hour=usd_h, fixed_usd=0.0)
        groups.append(SimpleNamespace(gid=gid, cap=50.0, dynamics=sagemaker_dynamics(), platform="sagemaker-realtime",
                                      variant=SimpleNamespace(name=variant, loss=loss), instance=SimpleNamespace(name=itype),
                                      options=[SimpleNamespace(spot=False, region="us-east-1", price=price)]))
    space = LaneSpace(groups, 100.0, 2)
    ledger = Ledger(space, [], allowance=60.0, budget=None, month_factor=1.0, quality_loss=lambda v: (v.loss,))
    lanes = np.arange(len(rows)) * space.G
    ledger.record(lanes, [int(r[4] * 60) for r in rows], [r[5] for r in rows], np.zeros(len(rows)))
    return ledger, [ledger.config_name(ci) for ci in ledger.ranking()]


def test_fewer_instance_hours_then_the_name_break_a_remaining_tie():
    ledger, order = _ledger([("a", 0.1, "m.small", 0.10, 1000, 0.0), ("a", 0.1, "m.big", 0.20, 500, 0.0),
                             ("a", 0.1, "m.alpha", 0.20, 500, 0.0)])
    assert np.allclose(ledger.cost, 100.0)
    assert order == ["a sagemaker-realtime m.alpha", "a sagemaker-realtime m.big", "a sagemaker-realtime m.small"]


def test_only_equal_cents_and_equal_violation_minutes_tie():
    # 100.004 and 100.001 round to the same cent: the better quality wins; 100.011 is a cent more and ranks after 100.00
    _, order = _ledger([("worse", 0.5, "t1", 0.100004, 1000, 0.0), ("better", 0.1, "t2", 0.100001, 1000, 0.0),
                        ("best-but-dearer", 0.0, "t3", 0.100011, 1000, 0.0)])
    assert [o.split()[0] for o in order] == ["better", "worse", "best-but-dearer"]
    # fewer violation minutes win a tie on cost before quality does
    _, order = _ledger([("closer", 0.0, "t1", 0.1, 1000, 12.0), ("further", 0.3, "t2", 0.1, 1000, 3.0)])
    assert [o.split()[0] for o in order] == ["further", "closer"]
