"""The pieces behind run's choices: which variants are benchmarked (selection.py), and naming the bench points that
bench marked suspect (suspect.py)."""

from __future__ import annotations

import pytest

from tests.pipeline.fakes import FIXTURES
from toolkit.artifacts import load_artifact
from toolkit.artifacts.profiles import ProfilesFile
from toolkit.artifacts.variants import VariantsFile


@pytest.fixture
def variants():
    return load_artifact(VariantsFile, FIXTURES / "variants.json")


@pytest.fixture
def profile():
    return load_artifact(ProfilesFile, FIXTURES / "profiles.json").profiles[0]


def test_the_points_bench_marked_suspect_are_named(profile):
    from toolkit.pipeline.suspect import suspect_points

    assert suspect_points(profile) == []
    points = [p.model_copy(update={"suspect": "the generator used 0.95 CPU cores"}) if p.concurrency == 16 else p for p in profile.points]
    assert suspect_points(profile.model_copy(update={"points": points})) == ["concurrency 16: the generator used 0.95 CPU cores"]


def _plan(chosen, runners=()):
    from tests.deploy.factories import make_plan

    plan = make_plan(chosen)
    plan.runners_up = list(runners)
    return plan


def test_the_winner_and_runners_up_of_other_variants_within_the_band_are_selected(variants):
    from tests.deploy.factories import candidate
    from toolkit.pipeline.selection import select_from_plan

    plan = _plan(candidate(variant="onnx-int8", monthly=170.0),
                 [candidate(variant="onnx-int8", instance_type="ml.c6i.large", monthly=171.0),
                  candidate(variant="onnx-fp32", monthly=180.0),
                  candidate(variant="pruned-heads25", monthly=240.0)])
    sel = select_from_plan(plan, variants)
    assert sel.variants == ["onnx-int8", "onnx-fp32"]
    assert sel.screen.limit_usd == 187.0 and not sel.check_only


def test_a_gpu_only_winner_is_not_benchmarked_here_and_a_check_says_so(variants):
    from tests.deploy.factories import candidate
    from toolkit.pipeline.selection import select_from_plan

    sel = select_from_plan(_plan(candidate(variant="onnx-fp16", instance_type="ml.g5.xlarge", monthly=900.0)), variants)
    assert sel.not_benchable == ["onnx-fp16: runs on gpu only; this machine benchmarks CPU packages"]
    assert sel.check_only and sel.variants == ["onnx-int8"]  # best in-process throughput: a package check only
    assert "inform no candidate" in sel.picks[0].reason
