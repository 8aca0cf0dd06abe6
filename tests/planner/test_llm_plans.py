"""LLM plans end to end: the plan-only examples (architecture shapes, no weights), the tokens section, the CLI.

Each example is planned once per session (a few seconds each: every capacity is a scheduler-simulation search).
"""

from __future__ import annotations

import json

import pytest
import yaml

from tests.conftest import ROOT, run_cli

EXAMPLES = {"llama-8b": ROOT / "examples" / "llama-8b" / "leanserve.yaml", "llama-70b": ROOT / "examples" / "llama-70b" / "leanserve.yaml"}


@pytest.fixture(scope="module")
def example_plans(catalog):
    from toolkit.planner.api import load_inputs, make_plan

    out = {}
    for name, path in EXAMPLES.items():
        loaded, variants, profiles = load_inputs(path, None, None)
        out[name] = make_plan(loaded, variants, profiles, catalog=catalog)
    return out


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_each_example_plans_on_gpus_with_the_api_comparison(example_plans, name):
    result = example_plans[name]
    plan = result.plan
    assert plan.feasible and plan.chosen is not None
    c = plan.chosen
    assert c.variant in ("bf16", "fp8", "w4a16") and c.platform != "sagemaker-serverless"
    assert c.capacity.unit == "req/s" and c.capacity_provenance.source == "estimated" and c.capacity_provenance.band
    t = plan.tokens
    assert t is not None and t.architecture_only and t.model == ("llama-3.1-8b" if name == "llama-8b" else "llama-3.1-70b")
    assert t.plan.usd_per_million_output_tokens == pytest.approx(c.monthly_cost_usd / (t.output_tokens_per_month / 1e6), rel=1e-3)
    assert t.plan.gpu_hours > 0 and t.plan.capacity_output_tokens_per_s > 0
    assert t.output_tokens_per_month == pytest.approx(t.requests_per_month * t.mean_output_tokens, rel=1e-3)
    assert t.api and t.api_class == ("8b-dense" if name == "llama-8b" else "70b-dense")
    assert all(a.sources and a.confidence for a in t.api)
    assert t.verdict and ("the API is cheaper at your traffic" in t.verdict or "self-hosting is cheaper at your traffic" in t.verdict)
    base = plan.baselines.default_gpu_static
    assert base is not None and base.variant == "bf16" and base.instance_type.startswith("ml.g5.")
    assert c.monthly_cost_usd <= 0.5 * base.monthly_cost_usd, "the plan should cost at most half the default GPU's static fleet"
    assert any(e.startswith("LLM: ") and "KV cache" in e for e in plan.estimates)
    assert any(e.startswith("LLM why this accelerator and format") for e in plan.estimates)
    assert any(a.startswith("Capacity per instance: the highest Poisson request rate") for a in plan.assumptions)


def test_the_70b_example_says_which_accelerators_hold_it(example_plans):
    plan = example_plans["llama-70b"].plan
    memory = [x for x in plan.excluded if x.kind == "hardware" and "would fit" in x.example]
    assert memory, "a 70B bf16 model fits no single L40S: the exclusion names where it would fit"
    assert "TP=" in memory[0].example


def test_plan_json_round_trips_at_schema_version_2(example_plans, tmp_path):
    from toolkit.artifacts import load_artifact, save_artifact
    from toolkit.artifacts.plan import PlanFile

    plan = example_plans["llama-8b"].plan
    path = save_artifact(plan, tmp_path / "plan.json")
    data = json.loads(path.read_text())
    assert data["schema_version"] == 2 and data["tokens"]["api"] and data["baselines"]["default_gpu_static"]
    again = load_artifact(PlanFile, path)
    assert again.tokens == plan.tokens


def test_an_encoder_plan_has_no_tokens_section(example_plan):
    assert example_plan.plan.tokens is None and example_plan.plan.baselines.default_gpu_static is None


def _small_spec(tmp_path, **sla) -> str:
    data = yaml.safe_load(EXAMPLES["llama-8b"].read_text())
    data["targets"] = {"regions": ["us-east-1"], "platforms": ["sagemaker-realtime"], "instance_types": ["ml.g5.xlarge", "ml.g6e.xlarge"]}
    data["sla"].pop("e2e_p95_ms")
    data["sla"].update(sla)
    data["traffic"]["days"] = 3
    path = tmp_path / "leanserve.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


def test_plan_cli_without_variants_prints_tokens_and_the_verdict(tmp_path):
    spec = _small_spec(tmp_path)
    out = tmp_path / "plan.json"
    result = run_cli("plan", spec, "-o", out, "--explain")
    assert result.exit_code == 0, result.stderr
    assert "API comparison (llama-3.1-8b is class 8b-dense" in result.stdout and "Verdict: " in result.stdout
    assert "per 1M output" in result.stdout and "default GPU" in result.stdout
    assert "LLM: memory:" in result.stdout and "KV cache:" in result.stdout
    data = json.loads(out.read_text())
    assert data["tokens"]["plan"]["usd_per_million_total_tokens"] > 0


def test_plan_json_output_carries_tokens(tmp_path):
    spec = _small_spec(tmp_path)
    result = run_cli("--json", "plan", spec, "-o", tmp_path / "plan.json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["tokens"]["api_class"] == "8b-dense"


def test_an_encoder_spec_still_needs_variants(tmp_path):
    result = run_cli("plan", ROOT / "examples" / "minilm" / "leanserve.yaml", "-o", tmp_path / "plan.json")
    assert result.exit_code == 2
    assert "--variants is needed for task feature-extraction" in result.stderr
