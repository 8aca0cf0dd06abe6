"""Check the token-level LLM performance model against published vLLM figures, and size llama-3.1-8b.

Table 1: every published figure of ``toolkit/data/llm_calibration_points.csv`` (the ones the
efficiencies were fitted on, the held-out ones, and the excluded ones with the reason), predicted by
replaying each point's scenario through the scheduler simulation with the shipped efficiencies
(``toolkit/data/llm_gpu_calibration.json``), with the relative error.

Table 2: capacity per instance of llama-3.1-8b (bf16 and fp8) on g5 / g6e / p5-class instances at
512 input / 256 output tokens with TTFT p95 <= 1 s and ITL p95 <= 50 ms (vLLM defaults: chunked
prefill, 2048-token budget, max_num_seqs 256, gpu_memory_utilization 0.9).

Usage: python benchmarks/perf_model_llm.py [--points CSV] [--refit]
  --points CSV  score another CSV of the same columns (e.g. the rows benchmarks/gpu_check.sh wrote)
  --refit       refit the efficiencies on the rows marked 'fit' and rewrite llm_gpu_calibration.json
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

INSTANCES = ("ml.g5.2xlarge", "ml.g6e.2xlarge", "ml.p5.48xlarge")
FORMATS = ("bf16", "fp8")


def calibration_table(points, cal) -> None:
    from toolkit.perf.llm.calibration import band_from_errors, predict

    eff = cal.eff()
    print(f"Published figures vs the model ({cal.describe()})")
    print("efficiencies: " + ", ".join(f"{k} {v:g}" for k, v in cal.efficiency.items()))
    head = f"{'split':9} {'id':46} {'hardware':12} {'model':13} {'vllm':9} {'metric':13} {'measured':>10} {'predicted':>10} {'error':>8}"
    print(head)
    print("-" * len(head))
    errs: dict[str, list[float]] = {"fit": [], "holdout": []}
    for p in points:
        pred = predict(p, eff)
        err = pred / p.value - 1
        if p.split in errs:
            errs[p.split].append(err)
        hw = f"{p.gpus}x{p.accelerator}" + (f" TP{p.tp}" if p.tp > 1 else "")
        flag = "" if abs(err) <= cal.band or p.split == "excluded" else "  outside band"
        print(f"{p.split:9} {p.id:46} {hw:12} {p.model:13} {p.engine_version or '?':9} {p.metric:13} {p.value:10.2f} {pred:10.2f} {err:+8.1%}{flag}")
        if p.split == "excluded":
            print(f"{'':9}   why: {p.notes.split('excluded: ', 1)[-1]}")
    for split, e in errs.items():
        if e:
            print(f"{split}: {len(e)} points, mean |error| {sum(map(abs, e)) / len(e):.1%}, p90 |error| {band_from_errors(e):.1%}")
    both = errs["fit"] + errs["holdout"]
    if both:
        print(f"band (p90 |error| over fit + held out): ±{band_from_errors(both):.1%}  (Vidur, MLSys 2024, reports < 9%)")
    print()


def capacity_table() -> None:
    from toolkit.perf.llm import LLMTraffic, TokenDist, capacity_per_instance
    from toolkit.pricing import load_catalog
    from toolkit.sla import Constraint

    cat = load_catalog(warn=lambda m: None)
    traffic = LLMTraffic(TokenDist.fixed(512, "prompt"), TokenDist.fixed(256, "output"))
    sla = [Constraint(metric="ttft", percentile="p95", limit=1000), Constraint(metric="itl", percentile="p95", limit=50)]
    print("Capacity per instance: llama-3.1-8b, 512 in / 256 out tokens, TTFT p95 <= 1 s, ITL p95 <= 50 ms")
    head = (f"{'instance':16} {'GPUs':10} {'format':6} {'matmuls':8} {'req/s':>8} {'band':>15} {'out tok/s':>10} "
            f"{'TTFT95 ms':>9} {'ITL95 ms':>8} {'KV seqs':>8} {'free GiB':>8}  binding")
    print(head)
    print("-" * len(head))
    for name in INSTANCES:
        info = cat.instance(name)
        for fmt in FORMATS:
            t0 = time.perf_counter()
            c = capacity_per_instance("llama-3.1-8b", fmt, info, 1, traffic=traffic, constraints=sla)
            ms = (time.perf_counter() - t0) * 1e3
            gpus = f"{c.replicas}x{c.accelerator}"
            path = (c.support.compute + ("/wo" if c.support.weight_only else "")) if c.support else "-"
            if not c.feasible:
                print(f"{name:16} {gpus:10} {fmt:6} {path:8} {'-':>8} {'':>15} {'':>10} {'':>9} {'':>8} {'':>8} {'':>8}  {c.binding}")
                continue
            band = f"{c.low_rps:.1f}-{c.high_rps:.1f}"
            print(f"{name:16} {gpus:10} {fmt:6} {path:8} {c.requests_per_s:8.2f} {band:>15} {c.output_tokens_per_s:10,.0f} "
                  f"{c.at_capacity['ttft_p95_ms']:9.0f} {c.at_capacity['itl_p95_ms']:8.1f} {c.kv_limit_seqs:8d} "
                  f"{c.headroom_gib:8.1f}  {c.binding} [{ms:.0f} ms]")
    print("matmuls: the rate FP8 runs at (fp8: native on cc >= 8.9; fp16/wo: weight-only FP8 Marlin on A10G). "
          "Figures are estimates; the band is the calibration's p90 error.")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", help="CSV of calibration points to score (default: the embedded published figures)")
    ap.add_argument("--refit", action="store_true", help="refit the efficiencies and rewrite toolkit/data/llm_gpu_calibration.json")
    args = ap.parse_args()
    from toolkit.perf.llm.calibration import (
        calibrate,
        load_calibration,
        load_points,
        save_calibration,
    )

    points = load_points(args.points)
    if args.refit:
        t0 = time.perf_counter()
        cal = calibrate(points)
        print(f"refitted in {time.perf_counter() - t0:.1f} s -> {save_calibration(cal)}")
        load_calibration.cache_clear()
    calibration_table(points, load_calibration())
    capacity_table()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
