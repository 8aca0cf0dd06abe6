"""The generative table of `benchmarks/plan_bench.py`: LLM plans from architecture shapes, priced per 1M tokens.

    .venv/bin/python benchmarks/plan_bench.py generative

For llama-3.1-8b, llama-3.1-70b and smollm2-135m (named shapes, no weights: every figure estimated):
prompts mean 512 / outputs mean 256 tokens, TTFT p95 <= 1 s, ITL p95 <= 50 ms, diurnal 2-20 req/s over
30 days; every GPU (and CPU) instance family of the catalog, SageMaker real-time and Kubernetes, all 7
regions the catalog prices. Prints the plan's monthly cost and $/1M output tokens against static peak
on the default GPU (bf16 on the g5 size the model needs; target: >= 50% cheaper within the violation
allowance) and against the cheapest comparable API of the price table, then the scale figures: wall
time of each plan (target < 10 s), configurations, capacity searches run and instance types skipped by
the price bound. The disk cache of capacity searches is off, so the times are cold.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MODELS = ("llama-3.1-8b", "llama-3.1-70b", "smollm2-135m")
REGIONS = ["us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1", "ap-southeast-1"]


def _spec_text(model: str) -> str:
    return f"""\
name: bench-{model.replace('.', '-')}
model: {{architecture: {model}, task: text-generation, max_sequence_length: 4096}}
sla: {{ttft_p95_ms: 1000, itl_p95_ms: 50, peak_rps: 20, max_violation_minutes_per_month: 60}}
traffic:
  pattern: {{kind: diurnal, trough_rps: 2, peak_hour_utc: 15}}
  prompt_tokens: {{mean: 512, p50: 400, p90: 1000, max: 2048}}
  output_tokens: {{mean: 256, p50: 200, p90: 500, max: 1024}}
  days: 30
targets:
  regions: {REGIONS}
  platforms: [sagemaker-realtime, kubernetes]
"""


def _table(head, rows) -> str:
    cells = [[str(c) for c in r] for r in [head] + rows]
    w = [max(len(r[i]) for r in cells) for i in range(len(head))]
    line = lambda r: "  ".join(c.rjust(w[i]) if i else c.ljust(w[i]) for i, c in enumerate(r))
    return "\n".join([line(cells[0]), "  ".join("-" * x for x in w)] + [line(r) for r in cells[1:]])


def plan_one(model: str, folder: Path, catalog):
    from toolkit.planner import llm_capacity
    from toolkit.planner.api import load_inputs, make_plan

    path = folder / f"{model}.yaml"
    path.write_text(_spec_text(model))
    before = len(llm_capacity._REPLICAS)
    t0 = time.perf_counter()
    loaded, variants, profiles = load_inputs(path, None, None)
    result = make_plan(loaded, variants, profiles, catalog=catalog)
    return result, time.perf_counter() - t0, len(llm_capacity._REPLICAS) - before


def bench_generative() -> None:
    import os

    from toolkit.pricing import load_catalog

    os.environ["LEANSERVE_LLM_CACHE"] = "0"  # cold: every capacity search runs (the disk cache would skip them on a rerun)

    catalog = load_catalog(warn=lambda m: None)
    money, scale = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for model in MODELS:
            result, seconds, searches = plan_one(model, Path(tmp), catalog)
            p = result.plan
            c, t, base = p.chosen, p.tokens, p.baselines.default_gpu_static
            api = min(t.api, key=lambda a: a.monthly_usd) if t.api else None
            saving = f"{1 - c.monthly_cost_usd / base.monthly_cost_usd:.0%}" if c and base else "n/a"
            money.append([
                model, f"{c.variant} {c.instance_type} ({c.region})" if c else "none",
                f"${c.monthly_cost_usd:,.0f}" if c else "-", f"${t.plan.usd_per_million_output_tokens:,.3f}" if t.plan else "-",
                f"{c.simulation.violation_minutes:g}" if c else "-",
                f"${base.monthly_cost_usd:,.0f} ({base.instance_type}, ${t.baselines[0].usd_per_million_output_tokens:,.3f}/1M)" if base else "-",
                saving, f"{api.provider} ${api.monthly_usd:,.0f} (${api.output_usd_per_mtok:g}/1M out)" if api else "-",
                "API" if api and api.cheaper_than_plan else "self-host",
                f"{api.break_even_rps:,.1f}" if api and api.break_even_rps is not None else "never",
            ])
            skipped = sum(x.count for x in p.excluded if x.kind == "price")
            scale.append([model, f"{seconds:.1f}", p.search.configurations, p.search.groups, searches, skipped,
                          sum(x.count for x in p.excluded if x.kind == "hardware"), p.search.lanes_total])
            print(f"  {model}: {t.verdict}", flush=True)
    print()
    print(_table(["model", "plan", "$/month", "$/1M out", "viol min", "static default GPU", "saving", "cheapest API", "cheaper",
                  "break-even req/s"], money))
    print()
    print(_table(["model", "plan s", "configurations", "groups", "capacity searches", "skipped (price bound)", "excluded (hw/memory)",
                  "lanes"], scale))
    print("\ntargets: plan >= 50% cheaper than static peak on the default GPU within the allowance (60 min); each plan < 10 s")


if __name__ == "__main__":
    bench_generative()
