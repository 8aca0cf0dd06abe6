"""Calibration: efficiencies fitted on measured points, and a band derived from the model's errors."""

from __future__ import annotations

import csv

import pytest

from toolkit.errors import InputError
from toolkit.perf.llm import (
    CalibrationPoint,
    CpuPoint,
    Efficiency,
    StepModel,
    cpu,
    fit_cpu,
    load_calibration,
    load_points,
)
from toolkit.perf.llm.calibration import (
    POINTS_CSV,
    band_from_errors,
    calibrate,
    predict,
)

TRUE = Efficiency(compute=0.55, bandwidth=0.8, kv_bandwidth=0.45, step_overhead_ms=3.0, per_seq_overhead_ms=0.02)


def test_band_is_the_90th_percentile_of_absolute_errors_nearest_rank():
    errs = [0.01, -0.02, 0.03, -0.04, 0.05, 0.06, -0.07, 0.08, -0.30, 0.10]
    assert band_from_errors(errs) == pytest.approx(0.10)  # 9th of 10 sorted |errors|
    assert band_from_errors([0.2]) == pytest.approx(0.2)
    with pytest.raises(InputError):
        band_from_errors([])


def _point(i, scenario, prompt, output, n, metric, split="fit", concurrency=None):
    p = CalibrationPoint(id=f"synthetic-{i}", source="synthetic", accelerator="A100-80GB", model="qwen2-7b", scenario=scenario,
                         prompt_len=prompt, output_len=output, num_requests=n, concurrency=concurrency, metric=metric, value=1.0,
                         split=split, kv_cache_gib=20.0)
    return p.model_copy(update={"value": predict(p, TRUE)})


def test_calibration_on_points_from_a_known_model_reproduces_them_and_the_band_comes_from_the_errors():
    pts = [_point(0, "offline", 512, 32, 1, "tpot_mean_ms"), _point(1, "offline", 512, 32, 32, "tpot_mean_ms"),
           _point(2, "closed", 2048, 8, 2, "ttft_mean_ms", concurrency=1), _point(3, "offline", 256, 32, 96, "duration_s"),
           _point(4, "closed", 1024, 32, 8, "tpot_mean_ms", "holdout", concurrency=4)]
    cal = calibrate(pts, start=Efficiency(), max_evals=250)
    assert all(abs(e.rel_error) < 0.05 for e in cal.points)
    assert cal.band == pytest.approx(band_from_errors([e.rel_error for e in cal.points]), abs=1e-4)
    assert cal.holdout_error_p90 == pytest.approx(abs(cal.points[-1].rel_error), abs=1e-4)


def test_the_shipped_gpu_calibration_band_is_derived_from_its_recorded_errors():
    cal = load_calibration()
    used = [e for e in cal.points if e.split in ("fit", "holdout")]
    assert cal.band == pytest.approx(band_from_errors([e.rel_error for e in used]), abs=1e-4)
    assert 0 < cal.band < 0.5 and sum(e.split == "holdout" for e in used) >= 10
    with open(POINTS_CSV, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {e.id for e in cal.points} == {r["id"] for r in rows if r["split"] != "excluded"}
    for p in load_points():
        assert p.source and (p.split != "excluded" or "excluded:" in p.notes)


def test_cpu_calibration_fits_measured_points_and_reports_held_out_error():
    host = cpu("test-cpu", fp32_gflops=400, int8_gops=1600, bw_gbs=30, memory_gib=16)
    step = StepModel("smollm2-135m", "fp32", host, 1, Efficiency(compute=0.35, bandwidth=0.6, kv_bandwidth=0.4,
                                                                   step_overhead_ms=1.5, per_seq_overhead_ms=0.1))
    noise = iter([1.02, 0.98, 1.03, 0.97, 1.01, 0.99, 1.02, 0.98])
    pts = [CpuPoint(kind="prefill", tokens=p, ms=step.prefill_ms(p) * next(noise)) for p in (32, 128, 512)]
    pts += [CpuPoint(kind="decode", batch=b, context=256, ms=step.decode_ms(b, 256) * next(noise)) for b in (1, 4, 16)]
    pts += [CpuPoint(kind="prefill", tokens=256, ms=step.prefill_ms(256) * next(noise), split="holdout"),
            CpuPoint(kind="decode", batch=8, context=512, ms=step.decode_ms(8, 512) * next(noise), split="holdout")]
    cal = fit_cpu(pts, "smollm2-135m", "fp32", host)
    assert cal.kind == "cpu" and cal.holdout_error_p90 < 0.08
    assert cal.band == pytest.approx(band_from_errors([e.rel_error for e in cal.points]), abs=1e-4)
    with pytest.raises(InputError, match="at least two"):
        fit_cpu(pts[:1], "smollm2-135m", "fp32", host)
