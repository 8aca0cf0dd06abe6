"""`leanserve compress` for text-generation on a tiny random Llama: variants.json, the gate, bad input, plan and package."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import run_cli

VARIANTS = ["onnx-fp32", "onnx-int8", "onnx-int4", "pruned-layers25", "w4a16"]


def write_llm_spec(folder: Path, source: str, variants: list[str], *, floor: str = "{max_perplexity_increase_pct: 1000, max_mean_kl: 100}",
                   extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "leanserve.yaml"
    path.write_text(textwrap.dedent(f"""\
        name: tiny-llm
        model: {{source: "{source}", task: text-generation, max_sequence_length: 256}}
        compression:
          variants: [{", ".join(variants)}]
          calibration_text: builtin:tweets
          quality_floor: {floor}
        """) + textwrap.indent(textwrap.dedent(extra), "  ") + textwrap.dedent("""\
        sla: {ttft_p95_ms: 500, itl_p95_ms: 50, peak_rps: 2}
        traffic:
          pattern: {kind: diurnal, trough_rps: 0.2, peak_hour_utc: 15}
          prompt_tokens: {mean: 64, p50: 60, p90: 100, max: 128}
          output_tokens: {mean: 32, p50: 30, p90: 50, max: 64}
          days: 2
        """))
    return path


def quick():
    from toolkit.compress.build import BuildSettings

    s = BuildSettings.quick()
    s.threads = 1
    return s


@pytest.fixture(scope="session")
def tiny_llm(tmp_path_factory) -> Path:
    from toolkit.compress.decoder.testing import tiny_decoder

    return tiny_decoder(tmp_path_factory.mktemp("tinyllm") / "model")


@pytest.fixture(scope="module")
def built(tiny_llm, tmp_path_factory, monkeypatch_module):
    from toolkit.compress import build_variants
    from toolkit.spec import load_spec

    monkeypatch_module.setenv("LEANSERVE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))  # no llm-compressor venv here
    folder = tmp_path_factory.mktemp("llmbuild")
    spec = write_llm_spec(folder, str(tiny_llm), VARIANTS)
    vf = build_variants(load_spec(spec), folder / "out", None, None, settings=quick())
    return spec, folder / "out", vf


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_variants_json_is_typed_and_loads_back(built):
    from toolkit.artifacts.common import load_artifact
    from toolkit.artifacts.variants import DecoderVariant, VariantsFile

    _, out, _ = built
    vf = load_artifact(VariantsFile, out / "variants.json")
    assert [v.name for v in vf.variants] == ["reference", *VARIANTS]
    assert all(isinstance(v, DecoderVariant) for v in vf.variants)
    kinds = {v.name: (v.kind, v.precision, v.format, v.runtime) for v in vf.variants}
    assert kinds["onnx-int4"] == ("llm-onnx-int4", "int4", "int4", "onnxruntime-cpu")
    assert kinds["pruned-layers25"] == ("llm-pruned-layers", "int4", "int4", "onnxruntime-cpu")
    assert kinds["w4a16"] == ("llm-w4a16", "w4a16", "w4a16", "vllm-cuda")
    assert vf.get("reference").kind == "reference" and vf.get("reference").format == "fp32"


def test_cpu_variants_carry_measured_decoder_latency_for_the_planner(built):
    _, _, vf = built
    for v in vf.variants:
        if v.runtime == "vllm-cuda":
            assert v.decoder_latency is None
            continue
        lat = v.decoder_latency
        assert lat.prompt_tokens == 16 and lat.threads == 1 and set(lat.prefill_ms) == {1, 2} and set(lat.decode_ms_per_token) == {1, 2}
        assert all(ms > 0 for ms in [*lat.prefill_ms.values(), *lat.decode_ms_per_token.values()])
        assert lat.provenance.source == "measured" and lat.cpu_isa in lat.provenance.where and "1 threads" in lat.provenance.where


def test_variant_folders_are_what_package_serves(built):
    from toolkit.fileio import sha256_file
    from toolkit.package.llm.source import resolve_variant

    _, out, vf = built
    for name in ("onnx-fp32", "onnx-int8", "onnx-int4", "pruned-layers25"):
        v = vf.get(name)
        folder = out / v.path
        assert {"model.onnx", "config.json", "tokenizer.json"} <= set(v.files)
        assert all(sha256_file(folder / rel) == sha for rel, sha in v.files.items())
        got = resolve_variant(out, name)
        assert got.format == "onnx" and got.folder == folder and got.precision == v.precision
    pruned = vf.get("pruned-layers25")
    assert pruned.num_layers == 3 and len(pruned.dropped_layers) == 1
    assert json.loads((out / pruned.path / "config.json").read_text())["num_hidden_layers"] == 3
    assert pruned.kv_bytes_per_token * 4 == vf.get("onnx-int4").kv_bytes_per_token * 3
    assert pruned.quality.before_recovery is not None and "recovered by" in " ".join(pruned.notes)
    assert not any(p.name.startswith(".") for p in out.iterdir() if p.name not in (".leanserve-cache",))


def test_quality_is_scored_against_the_reference(built):
    _, _, vf = built
    ref, fp32, int4 = vf.get("reference"), vf.get("onnx-fp32"), vf.get("onnx-int4")
    assert ref.quality.perplexity_increase_pct == 0.0 and ref.quality.eval_tokens == 4 * 31
    assert abs(fp32.quality.perplexity_increase_pct) < 0.1 and fp32.quality.mean_kl < 1e-3
    assert int4.quality.mean_kl > fp32.quality.mean_kl and int4.weight_bytes < fp32.weight_bytes
    assert vf.evaluation["eval_windows"] == 4 and vf.evaluation["eval_context"] == 32


def test_int8_logits_of_a_sequence_do_not_depend_on_its_batch_mates(built):
    """Per-token activation scales: what compress measured alone is what a batched server returns."""
    from toolkit.compress.decoder.runtime import OnnxDecoder

    _, out, _ = built
    dec = OnnxDecoder(out / "variants" / "onnx-int8" / "model.onnx", threads=1)
    rng = np.random.default_rng(0)
    a = rng.integers(3, 500, size=(1, 12), dtype=np.int64)
    loud = np.full((1, 12), 7, dtype=np.int64)
    alone = dec.logits(a)[0]
    together = dec.logits(np.concatenate([a, loud]))[0]
    assert np.abs(alone - together).max() < 1e-4


def test_a_gpu_format_without_its_venv_is_not_built_and_says_how(built):
    _, out, vf = built
    w = vf.get("w4a16")
    assert w.status == "rejected" and w.rejected_reason.startswith("not built: w4a16 needs llm-compressor")
    assert "ensure_venv" in w.rejected_reason and w.size_bytes == 0 and not (out / "variants" / "w4a16").exists()
    assert "w4a16" not in [v.name for v in vf.accepted()]


def test_encoder_variants_json_still_loads_as_encoder_variants(tmp_path):
    from toolkit.artifacts.common import MachineInfo, load_artifact, save_artifact
    from toolkit.artifacts.variants import DecoderVariant, Variant, VariantsFile

    enc = VariantsFile(spec_sha256="x", model_source="m", task="feature-extraction", max_sequence_length=64, machine=MachineInfo.local(),
                       variants=[Variant(name="reference", kind="reference", path="/m", size_bytes=1, precision="fp32"),
                                 Variant(name="onnx-int8", kind="onnx-int8", path="variants/onnx-int8", size_bytes=1, precision="int8")])
    save_artifact(enc, tmp_path / "variants.json")
    back = load_artifact(VariantsFile, tmp_path / "variants.json")
    assert [type(v) for v in back.variants] == [Variant, Variant]
    assert not any(isinstance(v, DecoderVariant) for v in back.variants)
    assert back.model_dump() == enc.model_dump()


def test_the_quality_floor_rejects_with_its_reason(tiny_llm, tmp_path):
    from toolkit.compress import build_variants
    from toolkit.spec import load_spec

    spec = write_llm_spec(tmp_path, str(tiny_llm), ["onnx-fp32", "onnx-int4"], floor="{max_perplexity_increase_pct: 50, max_mean_kl: 0.001}")
    s = quick()
    s.measure_latency = False
    vf = build_variants(load_spec(spec), tmp_path / "out", None, None, settings=s)
    assert vf.get("onnx-fp32").status == "accepted"
    int4 = vf.get("onnx-int4")
    assert int4.status == "rejected" and int4.rejected_reason.startswith("mean KL ") and "> floor 0.001" in int4.rejected_reason


def test_task_check_pairs_are_scored_by_exact_match(tiny_llm, tmp_path):
    from toolkit.compress import build_variants
    from toolkit.spec import load_spec

    (tmp_path / "pairs.jsonl").write_text('{"instruction": "how many legs does a spider have?", "answer": "eight"}\n'
                                          '{"instruction": "the quick brown fox", "answer": "jumps"}\n')
    spec = write_llm_spec(tmp_path, str(tiny_llm), ["onnx-fp32"],
                          floor="{max_perplexity_increase_pct: 50, max_mean_kl: 1, task_check: pairs.jsonl}")
    s = quick()
    s.measure_latency = False
    vf = build_variants(load_spec(spec), tmp_path / "out", None, None, settings=s)
    ref, fp32 = vf.get("reference"), vf.get("onnx-fp32")
    assert ref.quality.exact_match == 0.0 and fp32.quality.exact_match == 0.0  # a random model answers nothing right
    assert fp32.quality.accuracy_drop_points == 0.0 and vf.evaluation["task_check_pairs"] == 2


@pytest.mark.parametrize("variants, message, hint", [
    ("onnx-imt4", "error: unknown text-generation variant 'onnx-imt4'; did you mean 'onnx-int4'?", "hint: text-generation variants: onnx-fp32"),
    ("distilled-L2", "error: unknown text-generation variant 'distilled-L2'", "hint: text-generation variants:"),
    ("pruned-layers90", "error: pruned-layers90: would drop 4 of the model's 4 layers; p must leave at least one",
     "hint: choose pruned-layers1 ... pruned-layers62"),
])
def test_bad_variant_names_are_one_line_and_a_hint(tiny_llm, tmp_path, variants, message, hint):
    spec = write_llm_spec(tmp_path, str(tiny_llm), ["onnx-int4"])
    result = run_cli("compress", spec, "--out", tmp_path / "out", "--quick", "--variants", variants)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith(message) and lines[1].startswith(hint), result.stderr
    assert "Traceback" not in result.output and not (tmp_path / "out" / "variants.json").exists()


def test_cli_prints_the_decoder_table(tiny_llm, tmp_path):
    spec = write_llm_spec(tmp_path, str(tiny_llm), ["onnx-int4"])
    result = run_cli("compress", spec, "--out", tmp_path / "out", "--quick")
    assert result.exit_code == 0, result.output
    for column in ("ms/token b1", "prefill ms b1", "ppl Δ%", "KL", "torch-fp32 (ref)", "onnx-int4"):
        assert column in result.stdout
    assert "held-out tokens" in result.stdout


def test_an_interrupted_build_leaves_the_previous_output(built, tiny_llm, tmp_path, monkeypatch):
    import shutil

    from toolkit.compress import build_variants
    from toolkit.compress.decoder import builders
    from toolkit.spec import load_spec

    spec, out, _ = built
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    before = (copy / "variants.json").read_text()

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setitem(builders.BUILDERS, "onnx-int4", boom)
    with pytest.raises(KeyboardInterrupt):
        build_variants(load_spec(spec), copy, ["onnx-fp32", "onnx-int4"], None, settings=quick())
    assert (copy / "variants.json").read_text() == before
    assert sorted(p.name for p in (copy / "variants").iterdir()) == sorted(VARIANTS[:-1])
    assert not [p for p in copy.iterdir() if p.name.startswith(".") and p.name != ".leanserve-cache"]


def test_plan_uses_the_measured_cpu_latency_and_prices_tokens(built, tmp_path):
    """Issue 16's CPU path: CPU instances planned from compress's decoder_latency (calibrated), priced per 1M tokens."""
    spec, out, _ = built
    result = run_cli("--json", "plan", spec, "--variants", out / "variants.json", "--out", tmp_path / "plan.json")
    assert result.exit_code == 0, result.output
    plan = json.loads((tmp_path / "plan.json").read_text())
    chosen = plan["chosen"]
    assert chosen["variant"] in ("onnx-fp32", "onnx-int8", "onnx-int4", "pruned-layers25")
    assert plan["tokens"]["plan"]["gpu_hours"] == 0.0  # a CPU instance
    assert "cpu step model calibrated on" in chosen["capacity_provenance"]["model"]
    assert chosen["capacity_provenance"]["source"] == "estimated"  # measured here, transferred to the instance: an estimate
    per_m = plan["tokens"]["plan"]["usd_per_million_output_tokens"]
    assert per_m == pytest.approx(chosen["monthly_cost_usd"] / plan["tokens"]["output_tokens_per_month"] * 1e6, rel=0.01)
