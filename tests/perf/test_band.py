"""The uncertainty band: measured by leave-one-out on the calibration points, widened by stated transfer factors."""

from __future__ import annotations

import pytest

from toolkit.artifacts.common import Estimated, MachineInfo, Measured
from toolkit.artifacts.variants import LatencyPoint, Variant
from toolkit.perf import CapacityEstimate, estimate_capacity, instance_of_machine
from toolkit.perf import band as B
from toolkit.pricing import load_catalog

ICELAKE = MachineInfo(cpu_model="Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz", logical_cores=2,
                      cpu_flags=["avx2", "fma", "avx512f", "avx512_vnni"], memory_gib=8.0)
GUESSED = MachineInfo(cpu_model="Intel Xeon (AVX-512 VNNI)", logical_cores=2, cpu_flags=["avx2", "avx512f", "avx512_vnni"], memory_gib=8.0)
WHERE = Measured(where="onnxruntime CPU, test machine")
# (batch, seq, p50 ms): a + N*k with a = 0.5 ms, k = 0.05 ms/token, and the 4 x 64 point 4% slow
FOUR = [(1, 32, 2.1), (1, 128, 6.9), (4, 64, 13.3 * 1.04), (8, 128, 51.7)]


def variant(points=FOUR, precision="int8", kind="onnx-int8", size=23_000_000) -> Variant:
    lat = [LatencyPoint(batch=b, seq_len=s, threads=2, p50_ms=t, p95_ms=t * 1.2, items_per_s=1000 * b / t, provenance=WHERE) for b, s, t in points]
    return Variant(name="v", kind=kind, path="v", size_bytes=size, precision=precision, devices=["cpu", "gpu"], num_layers=6,
                   gflops_per_item=2.9, latency=lat)


@pytest.fixture(scope="module")
def cat():
    return load_catalog(warn=lambda m: None)


def est(v, inst, local=ICELAKE, **kw) -> CapacityEstimate:
    out = estimate_capacity(v, inst, "p95", 100.0, local=local, **kw)
    assert isinstance(out, CapacityEstimate), out
    return out


def loo_by_hand(points) -> float:
    errs = []
    for i, (b, s, t) in enumerate(points):
        rest = points[:i] + points[i + 1:]
        xs, ys = [p[0] * p[1] for p in rest], [p[2] for p in rest]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        k = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
        errs.append(abs(my - k * mx + k * b * s - t) / t)
    return max(errs)


def test_on_the_calibration_machine_the_band_is_the_leave_one_out_error():
    e = est(variant(), instance_of_machine(ICELAKE))
    expected = loo_by_hand(FOUR)
    assert 0.05 < expected < 0.2  # the slow 4 x 64 point is what the other three cannot predict
    assert e.uncertainty == pytest.approx(expected, abs=1e-3)  # not the fixed 10% it was
    assert isinstance(e.provenance, Estimated)
    assert e.provenance.band.startswith(f"leave-one-out error on 4 calibration points (|pred-meas|/meas): {expected:.1%}; ")
    assert e.provenance.band.endswith("(ice-lake): ×1 (the calibration hardware)")
    assert e.low_rps == pytest.approx(e.max_rps_at_sla * (1 - e.uncertainty))


def test_too_few_points_say_so_and_use_the_stated_default():
    two = variant(points=[(1, 32, 2.1), (8, 128, 53.0)])
    e = est(two, instance_of_machine(ICELAKE))
    assert e.uncertainty == B.DEFAULT_CALIBRATION_ERROR
    assert e.provenance.band.startswith("2 calibration points: too few to check the fitted line by leave-one-out (needs 3); default 10%")


def test_a_line_that_fits_too_well_is_held_at_the_noise_floor():
    exact = variant(points=[(b, s, 0.5 + b * s * 0.05) for b, s, _ in FOUR])
    e = est(exact, instance_of_machine(ICELAKE))
    assert e.uncertainty == B.NOISE_FLOOR
    assert "raised to noise floor 5%" in e.provenance.band


def test_transfer_factors_multiply_the_measured_error(cat):
    v, base = variant(), loo_by_hand(FOUR)
    same = est(v, cat.instance("ml.c6i.large"))  # two vCPUs of the same Ice Lake
    assert same.uncertainty == pytest.approx(base, abs=1e-3)
    amx = est(v, cat.instance("ml.c7i.large"))  # Sapphire Rapids: another generation, AMX one int8 tier up
    assert amx.uncertainty == pytest.approx(base * B.OTHER_GENERATION * (1 + B.INT8_TIER_STEP), abs=1e-3)
    assert "transfer to ml.c7i.large (sapphire-rapids): ×3 (another CPU generation (ice-lake → sapphire-rapids) ×2; " \
           "1 int8 ISA tier apart ×1.5)" in amx.provenance.band
    fp32 = est(variant(precision="fp32", kind="onnx-fp32", size=90_000_000), cat.instance("ml.c7i.large"))
    assert fp32.uncertainty == pytest.approx(base * B.OTHER_GENERATION * (1 + B.FP32_TIER_STEP), abs=1e-3)  # fp32 gains no AMX
    big = est(v, cat.instance("ml.c6i.4xlarge"))  # one model instance on all 16 vCPUs: three doublings from 2 threads
    assert big.uncertainty == pytest.approx(base * (1 + 3 * B.THREADS_PER_DOUBLING), abs=1e-3)
    assert "(2 → 16 threads ×2.5)" in big.provenance.band
    # the catalog has no CPU-only AMD or Arm instance types yet: the vendor factor, on the model's own Hardware
    from toolkit.perf.hardware import Hardware
    from toolkit.pricing.hardware import cpu_peaks

    ice, zen = (Hardware(n, cpu_peaks()[n], 3.0, 2) for n in ("ice-lake", "zen3"))
    tr = B.transfer(ice, 2, zen, 2, "int8")
    assert tr.factor == pytest.approx(B.OTHER_GENERATION * B.OTHER_VENDOR * (1 + 2 * B.INT8_TIER_STEP))
    assert tr.parts == ("another CPU generation (ice-lake → zen3) ×2", "another vendor (intel → amd) ×1.5", "2 int8 ISA tiers apart ×2")


def test_a_guessed_calibration_cpu_widens_the_band_and_the_cap_is_stated(cat):
    v = variant()
    known = est(v, cat.instance("ml.c6i.large"))
    guessed = est(v, cat.instance("ml.c6i.large"), local=GUESSED)
    assert guessed.uncertainty == pytest.approx(known.uncertainty * B.GUESSED_CPU, abs=2e-3)
    assert "calibration CPU guessed from its flags ×1.5" in guessed.provenance.band
    far = est(v, cat.instance("ml.t2.medium"), local=GUESSED)  # Broadwell, AVX2: generation, 2 tiers, guessed
    assert far.uncertainty == min(B.MAX_UNCERTAINTY, round(loo_by_hand(FOUR) * 2 * 2 * 1.5, 3))
    huge = est(variant(points=[(1, 32, 2.1), (1, 128, 9.9), (8, 128, 51.7)]), cat.instance("ml.c7i.2xlarge"), local=GUESSED)
    assert huge.uncertainty == B.MAX_UNCERTAINTY and huge.provenance.band.endswith("capped at ±90%")


def test_the_spread_of_a_local_bench_across_rounds_raises_the_floor():
    from toolkit.artifacts.profiles import LoadPoint, Profile, Rounds

    exact = variant(points=[(b, s, 0.5 + b * s * 0.05) for b, s, _ in FOUR])
    pts = [LoadPoint(mode="closed", concurrency=c, duration_s=9, sent=900, completed=900, errors=0, throughput_rps=r, p95_ms=l,
                     rounds=Rounds(count=3, throughput_rps=[r * 0.88, r, r * 1.12]))
           for c, r, l in ((1, 40.0, 20.0), (4, 90.0, 60.0))]
    prof = Profile(variant="v", machine=ICELAKE, target="pkg", sla_percentile="p95", sla_ms=100.0, points=pts, max_rps_at_sla=90.0,
                   saturation_rps=90.0, provenance=Measured(where="here"), rounds=3)
    e = est(exact, instance_of_machine(ICELAKE), profiles=[prof])
    assert e.uncertainty == pytest.approx(0.12)
    assert "raised to bench round-to-round spread 12.0%" in e.provenance.band


def test_gpu_estimates_say_how_their_band_was_set(cat):
    fp16 = variant(precision="fp16", kind="onnx-fp16", size=45_000_000)
    e = est(fp16, cat.instance("ml.g5.xlarge"))
    assert e.provenance.band.startswith("no GPU measurement to check the assumed efficiencies against: default ±50%")
