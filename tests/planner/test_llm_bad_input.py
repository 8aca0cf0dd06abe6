"""Bad input and infeasible LLM plans: the physical ITL floor (exit 2), no fit anywhere and SLA misses (exit 3, nearest misses)."""

from __future__ import annotations

import yaml

from tests.conftest import ROOT, run_cli

SPEC = ROOT / "examples" / "llama-8b" / "leanserve.yaml"


def _spec(tmp_path, architecture="llama-3.1-8b", types=("ml.g5.xlarge", "ml.g5.2xlarge"), **sla) -> str:
    data = yaml.safe_load(SPEC.read_text())
    data["model"]["architecture"] = architecture
    data["targets"] = {"regions": ["us-east-1"], "platforms": ["sagemaker-realtime"], "instance_types": list(types)}
    data["sla"].pop("e2e_p95_ms")
    data["sla"].update(sla)
    data["traffic"]["days"] = 2
    path = tmp_path / "leanserve.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


def test_an_itl_below_the_physical_floor_is_bad_input_naming_the_floor(tmp_path):
    result = run_cli("plan", _spec(tmp_path, itl_p95_ms=5), "-o", tmp_path / "plan.json")
    assert result.exit_code == 2
    err = result.stderr.splitlines()
    assert err[0].startswith("error: sla.itl_p95_ms 5 ms is below the physical floor of 9.5 ms") and "reads all its weights once per token" in err[0]
    assert err[1].startswith("hint: raise sla.itl_p95_ms to at least 10")


def test_an_itl_above_the_floor_but_out_of_reach_exits_3_with_the_nearest_miss(tmp_path):
    out = tmp_path / "plan.json"
    result = run_cli("plan", _spec(tmp_path, itl_p95_ms=11), "-o", out)
    assert result.exit_code == 3
    assert "nearest miss" in result.stderr and "relax sla.itl_p95_ms to >=" in result.stderr
    plan = __import__("json").loads(out.read_text())
    assert not plan["feasible"] and plan["nearest_misses"]
    assert "fails even for a lone request" in plan["nearest_misses"][0]["why_not"]


def test_a_model_that_fits_no_allowed_gpu_is_bad_input_saying_which_would(tmp_path):
    result = run_cli("plan", _spec(tmp_path, architecture="llama-3.1-70b", types=("ml.g5.2xlarge",)), "-o", tmp_path / "plan.json")
    assert result.exit_code == 2
    err = result.stderr.splitlines()
    assert err[0].startswith("error: llama-3.1-70b fits no allowed accelerator, even as w4a16 on ml.g5.2xlarge (1 x A10G)")
    assert "would fit:" in err[0] and "TP=" in err[0] and err[1].startswith("hint: allow an instance family")


def test_a_config_json_of_an_encoder_is_refused(tmp_path):
    (tmp_path / "bert").mkdir()
    (tmp_path / "bert" / "config.json").write_text('{"model_type": "bert", "architectures": ["BertModel"], "num_hidden_layers": 6, '
                                                   '"hidden_size": 384, "num_attention_heads": 12, "intermediate_size": 1536, "vocab_size": 30522}')
    spec = _spec(tmp_path, architecture="bert/config.json", itl_p95_ms=50)
    result = run_cli("plan", spec, "-o", tmp_path / "plan.json")
    assert result.exit_code == 2
    assert "describes an encoder ('bert'), not a causal language model" in result.stderr


def test_a_config_json_of_a_decoder_plans(tmp_path):
    import json

    from toolkit.perf.llm.architectures import architecture

    a = architecture("llama-3.1-8b")
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text(json.dumps({
        "model_type": "llama", "architectures": ["LlamaForCausalLM"], "num_hidden_layers": a.layers, "hidden_size": a.hidden,
        "num_attention_heads": a.heads, "num_key_value_heads": a.kv_heads, "intermediate_size": a.intermediate, "vocab_size": a.vocab,
        "max_position_embeddings": a.max_context}))
    spec = _spec(tmp_path, architecture="m/config.json", types=("ml.g6e.xlarge",), itl_p95_ms=50)
    result = run_cli("plan", spec, "-o", tmp_path / "plan.json")
    assert result.exit_code == 0, result.stderr
    assert json.loads((tmp_path / "plan.json").read_text())["tokens"]["model"] == "m"
