"""The LLM planner's CPU path scores its fit on what the token bench served (profiles.json token_profiles): held-out
points that widen the band, never fitted."""

from __future__ import annotations

from types import SimpleNamespace as NS

from toolkit.artifacts.common import MachineInfo
from toolkit.planner.llm_capacity import cpu_calibration, served_points

LATENCY = {"prompt_tokens": 128, "threads": 2, "prefill_ms": {1: 119.3, 4: 349.9}, "decode_ms_per_token": {1: 28.3, 4: 44.5}}


def _profile(variant: str, machine, itl=(40.2, 34.6), ttft=293.0, errors=0):
    dist = lambda p50: NS(p50=p50)  # noqa: E731 - a Distribution's median is all served_points reads
    points = [NS(mode="closed", concurrency=c, errors=errors, itl_ms=dist(i), ttft_ms=dist(ttft)) for c, i in zip((1, 2), itl)]
    return NS(variant=variant, machine=machine, shapes=NS(prompt_tokens=NS(mean=256.0), output_tokens=NS(mean=128.0)), points=points)


def test_served_itl_and_ttft_become_held_out_points_of_the_same_variant_and_machine():
    here = MachineInfo.local()
    other = here.model_copy(update={"logical_cores": here.logical_cores + 6})
    v = NS(name="onnx-int8", decoder_latency=LATENCY)
    pts = served_points([_profile("onnx-int8", here), _profile("onnx-int4", here), _profile("onnx-int8", other)], v, here)
    assert [(p.id, p.kind, p.split) for p in pts] == [("served-itl-c1", "decode", "holdout"), ("served-ttft-c1", "prefill", "holdout"),
                                                      ("served-itl-c2", "decode", "holdout")]
    assert pts[0].context == 256 + 64 and pts[1].tokens == 256 and pts[2].batch == 2
    assert served_points([_profile("onnx-int8", here, errors=3)], v, here) == [], "a point with errors is not a measurement of the server"


def test_the_band_comes_from_the_fit_and_the_served_errors():
    from toolkit.pricing import load_catalog

    here = MachineInfo.local()
    v = NS(name="onnx-int8", decoder_latency=LATENCY)
    target = load_catalog(warn=lambda m: None).instance("ml.c7i.large")
    alone, _ = cpu_calibration(v, "smollm2-135m", "int8", here, target)
    # served figures far from the model's (ITL 3x what it predicts): the held-out error, and so the band, grows
    slow = served_points([_profile("onnx-int8", here, itl=(120.0, 110.0), ttft=900.0)], v, here)
    checked, _ = cpu_calibration(v, "smollm2-135m", "int8", here, target, slow)
    assert "checked on 0 held out" in alone.describe() and "checked on 3 held out" in checked.describe()
    assert checked.efficiency == alone.efficiency, "held-out points are scored, not fitted"
    assert checked.holdout_error_p90 > 0.5 and checked.band > alone.band
