"""Token economics (per 1M tokens, per request, GPU-hours), the API price table, break-even, and prompt datasets."""

from __future__ import annotations

import json
from types import SimpleNamespace as NS

import pytest

from toolkit.errors import InputError
from toolkit.planner.token_curve import curve_from_costs
from toolkit.planner.tokens import api_costs, token_costs, verdict
from toolkit.pricing.api_prices import api_prices, comparable, model_class


def test_every_api_price_row_is_dated_or_sourced_and_rated():
    rows = api_prices()
    assert len(rows) >= 15
    for r in rows:
        assert r.sources and r.confidence in ("high", "medium", "low") and r.input_usd_per_mtok >= 0 and r.output_usd_per_mtok > 0
    assert {"1b-dense", "8b-dense", "70b-dense"} <= {r.model_class for r in rows}


def test_model_classes_and_comparable_rows_are_current_only():
    assert model_class(0.135e9)[0] == "1b-dense" and model_class(8.03e9)[0] == "8b-dense" and model_class(70.6e9)[0] == "70b-dense"
    cls, _, rows = comparable(8.03e9)
    assert cls == "8b-dense" and rows and all(r.current for r in rows)
    deepseek = [r for r in api_prices() if r.provider == "deepseek"]
    assert any(not r.current for r in deepseek), "superseded prices stay in the table with their end date"


def test_an_api_bill_is_prompt_tokens_at_input_price_plus_output_tokens_at_output_price():
    r = next(r for r in api_prices() if r.provider == "groq" and r.model_class == "8b-dense")
    assert r.monthly_usd(10e6, 2e6) == pytest.approx(10 * 0.05 + 2 * 0.08)


def _cand(monthly=1000.0, hours=720.0, instance="ml.g5.xlarge", feasible=True):
    return NS(monthly_cost_usd=monthly, instance_type=instance, feasible=feasible,
              simulation=NS(billed_instance_hours=hours, mean_instances=1.0))


def test_token_costs_per_million_per_request_and_gpu_hours(catalog):
    c = token_costs("plan", _cand(1000.0, 720.0, "ml.g5.12xlarge"), requests=2e6, prompt_tokens=1e9, output_tokens=5e8, catalog=catalog)
    assert c.usd_per_million_output_tokens == pytest.approx(2.0) and c.usd_per_million_total_tokens == pytest.approx(1000 / 1500)
    assert c.usd_per_request == pytest.approx(0.0005) and c.instance_hours == 720 and c.gpu_hours == 4 * 720


def test_break_even_against_an_api_on_the_cost_curve():
    # one $500 instance a month at the floor; the spec's traffic keeps 1.6 instances billed on average: $800 a month
    items = [NS(component="instances", cost_usd=800.0)]
    c = curve_from_costs(items, monthly=800.0, billed_instance_hours=1.6 * 720, floor=1)
    assert c.cost(1.0) == pytest.approx(800.0) and c.cost(0.0) == pytest.approx(500.0), "the curve passes through the simulated month"
    # an API charging $1,000 for today's tokens: cheaper below $500 / $1,000 per unit of traffic, on the floor
    assert c.break_even(1000.0) == pytest.approx(0.5)
    # an API charging $700 a month: pays above the floor's kink (0.625); there the fleet costs $800 per unit
    assert c.break_even(700.0) is None, "an API whose price per token is below the fleet's is cheaper at any traffic"
    assert c.break_even(900.0) == pytest.approx(500.0 / 900.0)


def _rows():
    return [r for r in api_prices() if r.model_class == "8b-dense" and r.current]


def test_the_verdict_says_plainly_when_an_api_is_cheaper():
    from toolkit.artifacts.plan_tokens import TokenEconomics

    apis = sorted(api_costs(_rows(), 5e9, 2.5e9, 2000.0, curve_from_costs([NS(component='instances', cost_usd=2000.0)], 2000.0, 2.0 * 720, 1), 10.0), key=lambda a: a.monthly_usd)
    econ = TokenEconomics(model="llama-3.1-8b", parameters=8e9, architecture_only=True, mean_prompt_tokens=512, mean_output_tokens=256,
                          requests_per_month=1e7, prompt_tokens_per_month=5e9, output_tokens_per_month=2.5e9, total_tokens_per_month=7.5e9,
                          plan=token_costs("plan", _cand(2000.0), 1e7, 5e9, 2.5e9, NS(instance=lambda n: NS(accelerator_count=1))),
                          api=apis, api_class="8b-dense")
    text = verdict(econ, 3.86)
    cheapest = apis[0]
    assert cheapest.cheaper_than_plan and "the API is cheaper at your traffic" in text and cheapest.provider in text
    expensive = apis[-1]
    assert not expensive.cheaper_than_plan and expensive.break_even_rps is not None and expensive.break_even_rps < 3.86


def test_without_a_feasible_plan_the_comparison_has_no_winner():
    apis = api_costs(_rows(), 5e9, 2.5e9, None, None, 10.0)
    assert all(a.vs_plan_usd is None and a.cheaper_than_plan is None and a.break_even_rps is None for a in apis)


# ---- datasets -------------------------------------------------------------------------------------
def _ds(path, **kw):
    from toolkit.spec_generative import PromptDataset

    return PromptDataset(file=str(path), **kw)


def test_a_jsonl_of_prompts_with_max_tokens(tmp_path):
    from toolkit.planner.llm_traffic import read_dataset

    p = tmp_path / "p.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in [{"prompt": "x" * 400, "max_tokens": 64}, {"prompt_tokens": 30, "output_tokens": 10},
                                                    {"messages": [{"role": "user", "content": "y" * 40}], "max_new_tokens": 5}]) + "\n")
    s = read_dataset(_ds(p), tmp_path)
    assert s.prompt == (100, 30, 10) and s.output == (64, 10, 5) and "4 characters per token" in s.note


def test_sharegpt_conversations_give_prompt_and_reply_lengths(tmp_path):
    from toolkit.planner.llm_traffic import read_dataset

    convs = [{"id": "a", "conversations": [{"from": "human", "value": "h" * 80}, {"from": "gpt", "value": "g" * 200}]},
             {"id": "b", "conversations": [{"from": "human", "value": "only a question"}]}]
    p = tmp_path / "sharegpt.json"
    p.write_text(json.dumps(convs))
    s = read_dataset(_ds(p, format="sharegpt"), tmp_path)
    assert s.prompt == (20,) and s.output == (50,) and "ShareGPT" in s.note and "1 conversations without a reply skipped" in s.note


def test_a_bad_dataset_row_names_its_line(tmp_path):
    from toolkit.planner.llm_traffic import read_dataset

    p = tmp_path / "p.jsonl"
    p.write_text('{"prompt": "a", "max_tokens": 4}\n{"prompt": "b"}\n')
    with pytest.raises(InputError, match=r"p.jsonl:2: no output length"):
        read_dataset(_ds(p), tmp_path)
    p.write_text('{"prompt": "a", "max_tokens": 4}\nnot json\n')
    with pytest.raises(InputError, match=r"p.jsonl:2: not valid JSON"):
        read_dataset(_ds(p), tmp_path)


def test_a_dataset_drives_the_plan_context(tmp_path):
    import yaml

    from tests.conftest import ROOT
    from toolkit.planner.llm_context import build_context
    from toolkit.spec import load_spec

    (tmp_path / "p.jsonl").write_text("".join(json.dumps({"prompt_tokens": 100 + i, "output_tokens": 50}) + "\n" for i in range(20)))
    data = yaml.safe_load((ROOT / "examples" / "llama-8b" / "leanserve.yaml").read_text())
    data["traffic"] = {"pattern": data["traffic"]["pattern"], "dataset": {"file": "p.jsonl"}}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data))
    ctx = build_context(load_spec(tmp_path / "s.yaml").spec, tmp_path)
    assert ctx.mean_prompt == pytest.approx(109.5) and ctx.mean_output == 50 and "20 requests from p.jsonl" in ctx.traffic_note
