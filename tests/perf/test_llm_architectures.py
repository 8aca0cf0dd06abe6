"""Decoder shapes: named public architectures, derived sizes, and a user's config.json."""

from __future__ import annotations

import json

import pytest

from toolkit.errors import InputError
from toolkit.perf.llm import architecture, architectures, from_config_json, model_format


def test_llama_3_1_8b_has_8_billion_parameters_and_128_kib_of_kv_per_token():
    a = architecture("llama-3.1-8b")
    assert a.parameters == pytest.approx(8.0e9, rel=0.01)
    assert a.parameters == 8_030_261_248  # 32 x 218.1M layers + 2 x 525.3M (untied embedding and LM head)
    assert a.kv_bytes_per_token(2) == 131072  # 2 x 32 layers x 8 KV heads x 128 x 2 B


@pytest.mark.parametrize("name", sorted(architectures()))
def test_every_named_shape_matches_its_published_parameter_count_and_cites_a_config(name):
    a = architecture(name)
    assert a.params_published and a.parameters == pytest.approx(a.params_published, rel=0.01)
    assert "config.json" in a.sources and a.hf_id


def test_required_shapes_are_present():
    assert {"llama-3.1-8b", "llama-3.1-70b", "qwen2.5-7b", "mistral-7b", "smollm2-135m"} <= set(architectures())
    assert architecture("smollm2-135m").tied_embeddings and architecture("qwen2.5-7b").qkv_bias


def test_weight_bytes_follow_the_format():
    a = architecture("llama-3.1-8b")
    bf16, fp8, w4 = (a.weight_bytes(f) for f in ("bf16", "fp8", "w4a16"))
    assert bf16 == pytest.approx(2 * a.parameters)
    # linear layers shrink; embeddings, LM head and norms stay 16-bit
    assert fp8 == pytest.approx(a.linear_parameters + 2 * (a.parameters - a.linear_parameters))
    assert w4 == pytest.approx(a.linear_parameters * (0.5 + 2 / 128) + 2 * (a.parameters - a.linear_parameters))
    assert model_format("int8").weight_bytes_per_param == 1.0


def test_from_config_json_reads_a_hugging_face_config(tmp_path):
    cfg = {"model_type": "llama", "num_hidden_layers": 32, "hidden_size": 4096, "num_attention_heads": 32,
           "num_key_value_heads": 8, "intermediate_size": 14336, "vocab_size": 128256, "max_position_embeddings": 131072,
           "tie_word_embeddings": False, "_name_or_path": "meta-llama/Llama-3.1-8B"}
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    a = from_config_json(tmp_path)
    assert a.parameters == architecture("llama-3.1-8b").parameters
    assert a.head_dim == 128 and a.kv_bytes_per_token() == 131072


def test_from_config_json_rejects_moe_and_incomplete_configs(tmp_path):
    p = tmp_path / "config.json"
    p.write_text(json.dumps({"num_hidden_layers": 2, "hidden_size": 64, "num_attention_heads": 2, "intermediate_size": 128,
                             "vocab_size": 100, "num_local_experts": 8}))
    with pytest.raises(InputError, match="mixture-of-experts"):
        from_config_json(p)
    p.write_text(json.dumps({"hidden_size": 64}))
    with pytest.raises(InputError, match="lacks num_hidden_layers"):
        from_config_json(p)
    with pytest.raises(InputError, match="not found"):
        from_config_json(tmp_path / "missing.json")


def test_unknown_architecture_suggests_the_closest_name():
    with pytest.raises(InputError, match="did you mean 'llama-3.1-8b'"):
        architecture("llama-3.1-8")
