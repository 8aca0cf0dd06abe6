"""Check the performance model against measurements on this machine.

Builds a MiniLM-shaped BERT encoder (6 layers, hidden 384, random weights: the speed of a model
depends on its shape, not its weights), exports it to ONNX fp32 and int8 (dynamic, per-channel),
measures onnxruntime latency, calibrates the model on the two shapes `leanserve compress` measures
(1 x 32 and 8 x 128 tokens at 2 threads), and compares its predictions with measurements it did not
see: other batch sizes and sequence lengths, and 1 thread (a machine half the size).

Usage: python benchmarks/perf_model.py [--runs 30]
Prints one table; "in band" says whether the measurement lies inside the estimate's ± band.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CALIBRATION = [(1, 32), (8, 128)]
HELD_OUT = [(1, 128), (4, 64), (16, 64)]


def build_models(folder: Path) -> dict[str, Path]:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=30522, hidden_size=384, num_hidden_layers=6, num_attention_heads=12, intermediate_size=1536)
    model = BertModel(cfg).eval()
    ids = torch.ones(2, 16, dtype=torch.long)
    fp32 = folder / "fp32.onnx"
    torch.onnx.export(model, (ids, torch.ones_like(ids)), str(fp32), input_names=["input_ids", "attention_mask"],
                      output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                      dynamic_axes={"input_ids": {0: "b", 1: "s"}, "attention_mask": {0: "b", 1: "s"}, "last_hidden_state": {0: "b", 1: "s"}})
    int8 = folder / "int8.onnx"
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
    return {"fp32": fp32, "int8": int8}


def measure(path: Path, threads: int, batch: int, seq: int, runs: int, budget_s: float = 4.0) -> tuple[float, float]:
    import numpy as np
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    feeds = {"input_ids": np.random.default_rng(0).integers(1000, 2000, (batch, seq)).astype(np.int64),
             "attention_mask": np.ones((batch, seq), dtype=np.int64)}
    for _ in range(3):
        sess.run(None, feeds)
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < runs and (len(times) < 5 or time.perf_counter() - start < budget_s):
        t0 = time.perf_counter()
        sess.run(None, feeds)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=30, help="timed runs per shape (at most 4 s per shape)")
    args = ap.parse_args()

    from toolkit.artifacts.common import MachineInfo, Measured
    from toolkit.artifacts.variants import LatencyPoint, Variant
    from toolkit.perf import CapacityEstimate, estimate_capacity, instance_of_machine

    machine = MachineInfo.local()
    threads = min(2, os.cpu_count() or 1)
    print(f"machine: {machine.describe()} (flags: {' '.join(machine.cpu_flags)}); calibration at {threads} threads", file=sys.stderr)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        models = build_models(Path(tmp))
        for prec, path in models.items():
            points, seen = [], {}
            for b, s in CALIBRATION:
                p50, p95 = measure(path, threads, b, s, args.runs)
                seen[(threads, b, s)] = p50
                points.append(LatencyPoint(batch=b, seq_len=s, threads=threads, p50_ms=p50, p95_ms=p95, items_per_s=b / p50 * 1000,
                                           provenance=Measured(where=machine.describe())))
            variant = Variant(name=f"onnx-{prec}", kind=f"onnx-{prec}", path=".", size_bytes=path.stat().st_size,
                              precision=prec, latency=points, num_layers=6)
            checks = [(threads, b, s, "calibration") for b, s in CALIBRATION] + [(threads, b, s, "held out") for b, s in HELD_OUT]
            checks += [(1, b, s, "1 thread") for b, s in CALIBRATION] if threads > 1 else []
            for n, b, s, kind in checks:
                target = MachineInfo(**{**machine.model_dump(), "logical_cores": n})
                est = estimate_capacity(variant, instance_of_machine(target), "p95", 1e6, local=machine, seq_len=s)
                assert isinstance(est, CapacityEstimate)
                lat = est.latency_ms_by_batch  # a + batch*seq*k at seq s: read a and k back for any batch size
                k = (lat[2] - lat[1]) / s
                a = lat[1] - s * k
                predicted = a + b * s * k
                # calibration rows compare with the very measurement the model was calibrated on
                measured = seen[(n, b, s)] if kind == "calibration" else measure(models[prec], n, b, s, args.runs)[0]
                u = est.uncertainty
                err = (predicted - measured) / measured
                rows.append((prec, kind, n, f"{b}x{s}", measured, predicted, err, u, abs(err) <= u))
    head = f"{'variant':<6} {'check':<12} {'thr':>3} {'shape':>7} {'measured ms':>12} {'estimate ms':>12} {'error':>8} {'band ±':>7} {'in band':>8}"
    print(head)
    print("-" * len(head))
    for prec, kind, n, shape, m, p, err, u, ok in rows:
        print(f"{prec:<6} {kind:<12} {n:>3} {shape:>7} {m:>12.2f} {p:>12.2f} {err:>+8.1%} {u:>7.0%} {'yes' if ok else 'NO':>8}")
    inside = sum(r[-1] for r in rows)
    print(f"{inside}/{len(rows)} measurements inside the estimate's band; calibration rows must be within 5%: "
          f"{'ok' if all(abs(r[6]) <= 0.05 for r in rows if r[1] == 'calibration') else 'FAILED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
