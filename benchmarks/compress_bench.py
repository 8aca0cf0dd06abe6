"""Compress benchmark: MiniLM variants against torch fp32, measured in one run on this machine.

Targets (issue 3), at 8 × 128 tokens:
- onnx-int8: ≥ 2.5× faster than torch fp32, mean cosine ≥ 0.99, ≥ 3.5× smaller on disk;
- the best distilled int8 variant: ≥ 4.5× faster than torch fp32, mean cosine ≥ 0.95,
  probe accuracy within 2 points of fp32.
Prints the full table (size, p50/p95 at 1×32 and 8×128, speed-up, cosine mean/p5, probe accuracy)
and one PASS/FAIL line per target; exits 1 when a target is missed.

Run: .venv/bin/python benchmarks/compress_bench.py [--out DIR] [--variants a,b] [--threads N]
(default variants: onnx-fp32, onnx-int8, onnx-int8-static, onnx-fp16, distilled-L4, distilled-L3, distilled-L2, pruned-heads25).
Distillation checkpoints are cached in DIR/.leanserve-cache: a rerun with the same settings reuses them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

DEFAULT = "onnx-fp32,onnx-int8,onnx-int8-static,onnx-fp16,distilled-L4,distilled-L3,distilled-L2,pruned-heads25"


class _Printer:
    """Progress as plain log lines on stderr (a benchmark log, not a live bar)."""

    def stage(self, description, total=None):
        from toolkit.compress.progress import _NullStage

        start = time.perf_counter()
        print(f"[{time.strftime('%X')}] {description} ...", file=sys.stderr, flush=True)

        class Stage(_NullStage):
            def __exit__(self, *exc):
                print(f"[{time.strftime('%X')}] {description}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)

        return Stage()

    def log(self, message):
        print(message, file=sys.stderr, flush=True)


def checks(vf) -> list[tuple[str, bool, str]]:
    from toolkit.compress.table import rows

    by = {r["variant"]: r for r in rows(vf)}
    out = []
    r = by.get("onnx-int8")
    if r:
        out.append(("onnx-int8 ≥ 2.5× faster than torch fp32 (8×128)", (r["speedup_8x128"] or 0) >= 2.5, f"{r['speedup_8x128']:.2f}×"))
        out.append(("onnx-int8 mean cosine ≥ 0.99", (r["cosine_mean"] or 0) >= 0.99, f"{r['cosine_mean']:.4f}"))
        out.append(("onnx-int8 ≥ 3.5× smaller on disk", (r["smaller"] or 0) >= 3.5, f"{r['smaller']:.2f}×"))
    students = [by[v.name] for v in vf.variants if v.kind == "distilled"]
    if students:
        def ok(s):
            return (s["cosine_mean"] or 0) >= 0.95 and (s["acc_drop_pts"] is None or s["acc_drop_pts"] <= 2.0)

        good = [s for s in students if ok(s)]
        best = max(good or students, key=lambda s: (s["speedup_8x128"] or 0) if good else (s["cosine_mean"] or 0))
        name = best["variant"]
        drop = best["acc_drop_pts"]
        out.append((f"best distilled ({name}) ≥ 4.5× faster than torch fp32 (8×128)", (best["speedup_8x128"] or 0) >= 4.5, f"{best['speedup_8x128']:.2f}×"))
        out.append((f"best distilled ({name}) mean cosine ≥ 0.95", (best["cosine_mean"] or 0) >= 0.95, f"{best['cosine_mean']:.4f}"))
        out.append((f"best distilled ({name}) probe accuracy within 2 points", drop is not None and drop <= 2.0,
                    "no labelled data" if drop is None else f"{-drop:+.2f} points"))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "out" / "compress-bench"), help="output folder (default: out/compress-bench)")
    ap.add_argument("--variants", default=DEFAULT)
    ap.add_argument("--threads", type=int, default=None, help="threads for latency (default: all cores)")
    ap.add_argument("--spec", default=str(ROOT / "examples" / "minilm" / "leanserve.yaml"))
    args = ap.parse_args(argv)

    from toolkit.compress import build_variants
    from toolkit.compress.build import BuildSettings
    from toolkit.compress.latency import LatencySettings
    from toolkit.compress.table import text_table
    from toolkit.spec import load_spec

    settings = BuildSettings(latency=LatencySettings(warmup=3, rounds=8, runs_per_round=5), threads=args.threads)
    started = time.perf_counter()
    vf = build_variants(load_spec(args.spec), args.out, args.variants.split(","), _Printer(), settings=settings)
    minutes = (time.perf_counter() - started) / 60

    threads = vf.evaluation.get("latency_threads")
    print(f"\nleanserve compress benchmark: {vf.model_source}, {vf.machine.cpu_model} ({vf.machine.logical_cores} cores, "
          f"flags {' '.join(vf.machine.cpu_flags) or 'none'}), {threads} threads, total {minutes:.1f} min")
    print(f"held-out evaluation: {vf.evaluation.get('eval_examples')} texts ({vf.evaluation.get('eval_source')}); probe: logistic "
          f"regression trained on {vf.evaluation.get('probe_train_examples')} reference embeddings, scored on "
          f"{vf.evaluation.get('probe_test_examples')} held-out labelled tweets\n")
    print(text_table(vf))
    print("\nbuild time per variant: " + ", ".join(f"{v.name} {v.build_seconds:.0f} s" for v in vf.variants if v.build_seconds is not None))
    for v in vf.variants:
        for n in v.notes:
            if n.startswith(("distilled ", "removed ", "student weights reused")):
                print(f"  {v.name}: {n}")
    print()
    results = checks(vf)
    for label, passed, value in results:
        print(f"{'PASS' if passed else 'FAIL'}  {label}: {value}")
    return 0 if all(p for _, p, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
