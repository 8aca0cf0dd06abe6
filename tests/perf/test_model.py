"""The performance model: calibration, transfer to catalog instance types, exclusions, measured profiles."""

from __future__ import annotations

import pytest

from toolkit.artifacts.common import Estimated, MachineInfo, Measured
from toolkit.artifacts.profiles import LoadPoint, Profile
from toolkit.artifacts.variants import LatencyPoint, Variant
from toolkit.perf import CapacityEstimate, Exclusion, estimate_capacity, instance_of_machine
from toolkit.perf.capacity import MAX_UTILISATION
from toolkit.pricing import load_catalog

# The CPU of ENVIRONMENT.md's measurements (AVX-512 VNNI) and a c7i-class machine (AMX), 2 logical cores.
ICELAKE = MachineInfo(cpu_model="Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz", logical_cores=2,
                      cpu_flags=["avx2", "fma", "avx512f", "avx512_vnni"], memory_gib=8.0)
SPR4 = MachineInfo(cpu_model="Intel(R) Xeon(R) Platinum 8488C", logical_cores=4, cpu_flags=["avx2", "avx512f", "avx512_vnni", "amx_tile"],
                   memory_gib=8.0, instance_type="ml.c7i.xlarge")


def variant(name="onnx-int8", kind="onnx-int8", precision="int8", size=23_000_000, p1=2.1, p8=53.0, threads=2, devices=("cpu",)):
    where = Measured(where="onnxruntime CPU, test machine")
    return Variant(
        name=name, kind=kind, path=name, size_bytes=size, precision=precision, devices=list(devices), num_layers=6, gflops_per_item=2.9,
        latency=[LatencyPoint(batch=1, seq_len=32, threads=threads, p50_ms=p1, p95_ms=p1 * 1.2, items_per_s=1000 / p1, provenance=where),
                 LatencyPoint(batch=8, seq_len=128, threads=threads, p50_ms=p8, p95_ms=p8 * 1.1, items_per_s=8000 / p8, provenance=where)],
    )


FP32 = dict(name="onnx-fp32", kind="onnx-fp32", precision="fp32", size=90_000_000, p1=5.1, p8=122.0, devices=("cpu", "gpu"))
FP16 = dict(name="onnx-fp16", kind="onnx-fp16", precision="fp16", size=45_000_000, p1=6.0, p8=140.0, devices=("gpu",))


@pytest.fixture(scope="module")
def cat():
    return load_catalog(warn=lambda m: None)


def est(v, inst, pct="p95", sla=100.0, **kw) -> CapacityEstimate:
    out = estimate_capacity(v, inst, pct, sla, local=kw.pop("local", ICELAKE), **kw)
    assert isinstance(out, CapacityEstimate), out
    return out


# ---- calibration ----------------------------------------------------------------------------------
@pytest.mark.parametrize("spec", [{}, FP32])
def test_estimate_on_the_calibration_machine_reproduces_the_measurement_within_5_percent(spec):
    v = variant(**spec)
    here = instance_of_machine(ICELAKE)
    for point in v.latency:
        e = est(v, here, seq_len=point.seq_len)
        assert e.latency_ms_by_batch[point.batch] == pytest.approx(point.p50_ms, rel=0.05)
    assert isinstance(e.provenance, Estimated) and e.provenance.uncertainty == pytest.approx(0.10)


def test_the_same_hardware_in_the_catalog_reproduces_it_too(cat):
    """ml.c6i.large is two vCPUs of the same Ice Lake CPU at the clock the calibration machine's model implies."""
    v = variant()
    e = est(v, cat.instance("ml.c6i.large"), seq_len=128)
    assert e.latency_ms_by_batch[8] == pytest.approx(53.0, rel=0.05)
    assert e.provenance.uncertainty == pytest.approx(0.10)


def test_a_local_bench_profile_rescales_to_served_throughput_within_5_percent():
    v = variant()
    prof = profile(v.name, ICELAKE, max_rps=40.0)
    e = est(v, instance_of_machine(ICELAKE), profiles=[prof])
    assert e.max_rps_at_sla == pytest.approx(40.0, rel=0.05)
    assert isinstance(e.provenance, Estimated) and any("served throughput" in n for n in e.notes)


def test_int8_gains_more_on_amx_than_fp32_does(cat):
    int8, fp32 = variant(), variant(**FP32)
    c6i, c7i = cat.instance("ml.c6i.xlarge"), cat.instance("ml.c7i.xlarge")
    gain_int8 = est(int8, c7i).saturation_rps / est(int8, c6i).saturation_rps
    gain_fp32 = est(fp32, c7i).saturation_rps / est(fp32, c6i).saturation_rps
    assert gain_int8 > 1.3 * gain_fp32


def test_bigger_instances_serve_more_and_the_band_grows_with_distance(cat):
    v = variant()
    small, big, far = (est(v, cat.instance(n)) for n in ("ml.c6i.large", "ml.c6i.4xlarge", "ml.t2.medium"))
    assert big.saturation_rps > 3 * small.saturation_rps
    assert small.uncertainty < big.uncertainty  # more threads than were measured
    assert small.uncertainty < far.uncertainty  # another CPU generation and ISA
    for e in (small, big, far):
        assert e.low_rps == pytest.approx(e.max_rps_at_sla * (1 - e.uncertainty))
        assert e.high_rps == pytest.approx(e.max_rps_at_sla * (1 + e.uncertainty))


def test_capacity_respects_the_sla_and_never_exceeds_saturation(cat):
    v = variant(**FP32)
    inst = cat.instance("ml.c6i.xlarge")
    loose, tight = est(v, inst, sla=500.0), est(v, inst, sla=30.0)
    assert 0 < tight.max_rps_at_sla < loose.max_rps_at_sla <= loose.saturation_rps * MAX_UTILISATION + 1e-9
    b = tight.best_batch
    assert tight.latency_ms_by_batch[b] * 1.2 * 1.95 <= 30.0  # its p95 (tail x waiting for the batch in service) fits
    impossible = est(v, inst, sla=1.0)
    assert impossible.max_rps_at_sla == 0 and "misses p95 <= 1 ms" in impossible.notes[-1]
    # the latency it reports is the one the rule rejected, so "relax the SLA to X" is advice that works
    assert impossible.batch1_at_sla_ms > 1.0
    assert est(v, inst, sla=impossible.batch1_at_sla_ms * 1.01).max_rps_at_sla > 0
    assert f"its p95 is {impossible.batch1_at_sla_ms:.1f} ms" in impossible.notes[-1]


def test_p99_is_stricter_than_p50(cat):
    v = variant()
    inst = cat.instance("ml.c6i.xlarge")
    assert est(v, inst, "p99", 30.0).max_rps_at_sla <= est(v, inst, "p50", 30.0).max_rps_at_sla


def test_gpu_estimates_are_labelled_with_a_wide_band(cat):
    e = est(variant(**FP16), cat.instance("ml.g5.xlarge"))
    assert e.provenance.model.startswith("GPU roofline (fp16")
    assert e.uncertainty >= 0.5  # nothing measured on a GPU; A10G figures are low-confidence
    assert est(variant(**FP16), cat.instance("ml.g5.12xlarge")).saturation_rps == pytest.approx(4 * e.saturation_rps)


# ---- exclusions -----------------------------------------------------------------------------------
@pytest.mark.parametrize("spec,instance,reason", [
    ({}, "ml.inf2.xlarge", "ml.inf2.xlarge has AWS Inferentia2 chips, which run only Neuron-compiled models (torch-neuronx); leanserve builds ONNX variants"),
    (FP16, "ml.c7i.xlarge", "fp16 variant 'onnx-fp16' is for GPUs: onnxruntime's CPU provider has no fast fp16 kernels"),
    ({}, "ml.g5.xlarge", "int8 dynamic-quantized ONNX ('onnx-int8') is CPU-only: onnxruntime has no CUDA kernels for "
                         "DynamicQuantizeLinear/MatMulInteger, so they would fall back to the host CPU and leave the GPU idle"),
    (dict(name="big", kind="onnx-fp16", precision="fp16", size=20 * 2**30, devices=("gpu",)), "ml.g4dn.xlarge",
     "model needs about 24.5 GiB of accelerator memory; ml.g4dn.xlarge has 16.0 GiB per T4"),
    ({}, "g4ad.2xlarge", "g4ad.2xlarge has a GPU (Radeon Pro V520) without CUDA: Triton's GPU backends and onnxruntime-CUDA cannot use it"),
])
def test_instances_that_cannot_run_the_variant_are_excluded_with_the_reason(cat, spec, instance, reason):
    out = estimate_capacity(variant(**spec), cat.instance(instance), "p95", 100.0, local=ICELAKE)
    assert isinstance(out, Exclusion)
    assert out.reason == reason and out.instance_type == instance


def test_every_catalog_instance_gets_an_estimate_or_a_reason(cat):
    for v in (variant(), variant(**FP32), variant(**FP16)):
        for info in cat.all_instances():
            out = estimate_capacity(v, info, "p95", 100.0, local=ICELAKE)
            if isinstance(out, Exclusion):
                assert out.reason
            else:
                assert out.provenance is not None and out.latency_ms_by_batch and out.as_dict()["provenance"]["source"] == "estimated"


# ---- measured profiles win ------------------------------------------------------------------------
def profile(variant_name: str, machine: MachineInfo, max_rps: float, sla: float = 100.0) -> Profile:
    points = [LoadPoint(mode="closed", concurrency=c, duration_s=10, sent=100, completed=100, errors=0, throughput_rps=r, p95_ms=l, p50_ms=l / 2)
              for c, r, l in ((1, max_rps / 3, 10.0), (4, max_rps, sla * 0.9), (16, max_rps * 1.1, sla * 3))]
    return Profile(variant=variant_name, machine=machine, target="http://127.0.0.1:8000", sla_percentile="p95", sla_ms=sla,
                   points=points, max_rps_at_sla=max_rps, saturation_rps=max_rps * 1.1, provenance=Measured(where=machine.describe()))


def test_a_measured_profile_on_that_instance_type_wins(cat):
    v = variant()
    prof = profile(v.name, SPR4, max_rps=321.0)
    e = est(v, cat.instance("ml.c7i.xlarge"), profiles=[prof])
    assert isinstance(e.provenance, Measured) and e.provenance.where == "ml.c7i.xlarge"
    assert e.max_rps_at_sla == e.low_rps == e.high_rps == 321.0
    # at another SLA the measured points are read again, not the stored maximum
    assert est(v, cat.instance("ml.c7i.xlarge"), sla=50.0, profiles=[prof]).max_rps_at_sla == pytest.approx(107.0)
    # a profile of another variant or instance type does not count as a measurement here
    assert isinstance(est(variant(**FP32), cat.instance("ml.c7i.xlarge"), profiles=[prof]).provenance, Estimated)
    assert isinstance(est(v, cat.instance("ml.c6i.xlarge"), profiles=[prof]).provenance, Estimated)


def test_a_gpu_profile_calibrates_the_other_gpus(cat):
    v = variant(**FP16)
    g5 = MachineInfo(cpu_model="AMD EPYC 7R32", logical_cores=4, instance_type="ml.g5.xlarge", accelerator="NVIDIA A10G")
    base = est(v, cat.instance("ml.g6.xlarge"))
    calibrated = est(v, cat.instance("ml.g6.xlarge"), profiles=[profile(v.name, g5, max_rps=500.0)])
    assert "calibrated on the measured profile on ml.g5.xlarge" in calibrated.provenance.model
    assert calibrated.uncertainty < base.uncertainty
    assert calibrated.saturation_rps < base.saturation_rps  # the measurement was slower than the assumed efficiencies
