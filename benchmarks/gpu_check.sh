#!/usr/bin/env bash
# gpu_check.sh - measure vLLM on a lent NVIDIA GPU and write calibration rows for the LLM performance model.
#
# NOT RUN IN THE SESSION THAT WROTE IT: no GPU was available there. It is prepared for a machine with
# an NVIDIA GPU (written for an H200; any CUDA GPU vLLM supports will do) and must finish in under
# 8 minutes there (default budget 450 s, GPU_CHECK_BUDGET_S to change it).
#
# What it does:
#   1. uses the installed vLLM, or installs it with pip if it is missing (a wheel cache or network is
#      not guaranteed on the lent machine: if pip fails the script says so and exits 3);
#   2. writes config.json files for llama-3.1-8b- and qwen2.5-7b-shaped models (values of
#      toolkit/data/llm_architectures.csv; no hub download, no tokenizer: --load-format dummy with
#      skip_tokenizer_init, prompts given as random token ids; speed does not depend on weight values);
#   3. for each model in bf16 and fp8 (dynamic FP8: W8A8 on cc >= 8.9, weight-only below), starts one
#      offline engine (vLLM's LLM class, in its own process so GPU memory is freed between engines)
#      and times LLM.generate over a sweep of batch sizes and prompt/output lengths
#      (ignore_eos, exactly output_len tokens each; prefix caching off so random prompts are not cached);
#   4. writes every measurement as one row of $OUT/gpu_check_rows.csv, with the columns of
#      toolkit/data/llm_calibration_points.csv (scenario offline, metric duration_s, the engine's KV
#      cache size, vLLM version, GPU) - the only results file. A log goes to stderr.
#
# Then, on the development machine:
#   python benchmarks/perf_model_llm.py --points <files_at>/gpu_check_rows.csv      # model vs measured
#   (mark some rows split=fit, append them to the embedded CSV and run --refit to calibrate on them)
#
# Usage: OUT=/path/to/out bash benchmarks/gpu_check.sh
set -uo pipefail

OUT="${OUT:-$(pwd)/gpu_check_out}"
mkdir -p "$OUT"
BUDGET="${GPU_CHECK_BUDGET_S:-450}"
START=$(date +%s)
DEADLINE=$((START + BUDGET))
PY="${PYTHON:-python3}"
ROWS="$OUT/gpu_check_rows.csv"
log() { echo "[gpu_check $(date +%H:%M:%S)] $*" >&2; }

if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  log "no NVIDIA GPU visible (nvidia-smi failed): nothing to measure"
  exit 2
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >&2

if ! "$PY" -c "import vllm" >/dev/null 2>&1; then
  log "vLLM is not installed: trying pip install vllm (needs network or a local wheel cache)"
  if ! timeout 300 "$PY" -m pip install -q vllm >&2; then
    log "pip could not install vLLM here; install it (pip install vllm) and run again"
    exit 3
  fi
fi
"$PY" -c "import vllm, torch; print('vllm', vllm.__version__, 'torch', torch.__version__, 'cuda', torch.version.cuda)" >&2 || exit 3

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# ---- config.json of the two shapes (values cited in toolkit/data/llm_architectures.csv) ----------
"$PY" - "$WORK" <<'PYEOF'
import json, os, sys
work = sys.argv[1]
common = {"hidden_act": "silu", "initializer_range": 0.02, "torch_dtype": "bfloat16", "use_cache": True,
          "attention_dropout": 0.0, "tie_word_embeddings": False}
shapes = {
    "llama-3.1-8b": {**common, "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
                     "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
                     "head_dim": 128, "vocab_size": 128256, "max_position_embeddings": 131072, "rms_norm_eps": 1e-5,
                     "rope_theta": 500000.0, "bos_token_id": 128000, "eos_token_id": 128001, "attention_bias": False, "mlp_bias": False,
                     "rope_scaling": {"factor": 8.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                                      "original_max_position_embeddings": 8192, "rope_type": "llama3"}},
    "qwen2.5-7b": {**common, "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 3584,
                   "intermediate_size": 18944, "num_hidden_layers": 28, "num_attention_heads": 28, "num_key_value_heads": 4,
                   "vocab_size": 152064, "max_position_embeddings": 32768, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0,
                   "bos_token_id": 151643, "eos_token_id": 151643, "sliding_window": 131072, "use_sliding_window": False,
                   "max_window_layers": 28},
}
for name, cfg in shapes.items():
    os.makedirs(os.path.join(work, name), exist_ok=True)
    with open(os.path.join(work, name, "config.json"), "w") as fh:
        json.dump(cfg, fh, indent=1)
PYEOF

# ---- the worker: one engine, one sweep, rows appended to a JSONL file ------------------------------
cat > "$WORK/worker.py" <<'PYEOF'
import json, os, random, sys, time

model_key, fmt, cfg_dir, out_jsonl, deadline = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
MAX_SEQS, BUDGET_TOKENS, UTIL, MAX_LEN = 256, 8192, 0.9, 4096
# (batch, prompt_len, output_len): prefill-heavy, decode-heavy and mixed shapes
SWEEP = [(1, 512, 1), (1, 2048, 1), (8, 2048, 1), (32, 1024, 1),
         (1, 128, 256), (8, 128, 256), (32, 128, 256), (128, 128, 256), (256, 128, 128),
         (16, 1024, 256), (64, 1024, 256), (128, 512, 256)]

import torch
import vllm
from vllm import LLM, SamplingParams
from vllm.inputs import TokensPrompt

cfg = json.load(open(os.path.join(cfg_dir, "config.json")))
name = torch.cuda.get_device_name(0)
acc = next((k for k in ("H200", "H100", "L40S", "L4", "A10G", "T4", "V100", "B200") if k in name), None)
if acc is None and "A100" in name:
    acc = "A100-80GB" if torch.cuda.get_device_properties(0).total_memory > 50 * 2**30 else "A100"
acc = acc or name.replace("NVIDIA ", "")
t0 = time.time()
llm = LLM(model=cfg_dir, load_format="dummy", skip_tokenizer_init=True, dtype="bfloat16", seed=0,
          quantization="fp8" if fmt == "fp8" else None, max_model_len=MAX_LEN, gpu_memory_utilization=UTIL,
          max_num_seqs=MAX_SEQS, max_num_batched_tokens=BUDGET_TOKENS, enable_prefix_caching=False,
          enable_chunked_prefill=True)
init_s = time.time() - t0
kv_gib = ""
try:
    blocks = llm.llm_engine.vllm_config.cache_config.num_gpu_blocks
    block = llm.llm_engine.vllm_config.cache_config.block_size
    per_token = 2 * cfg["num_hidden_layers"] * cfg["num_key_value_heads"] * cfg.get("head_dim", cfg["hidden_size"] // cfg["num_attention_heads"]) * 2
    kv_gib = round(blocks * block * per_token / 2**30, 3)
except Exception as exc:  # engine internals differ between versions: the row just lacks the KV size
    print(f"could not read the KV cache size: {exc}", file=sys.stderr)
print(f"{model_key} {fmt} on {name}: engine up in {init_s:.0f} s, KV cache {kv_gib} GiB", file=sys.stderr)

rng = random.Random(0)
vocab = cfg["vocab_size"]


def prompts(batch, length):
    return [TokensPrompt(prompt_token_ids=[rng.randrange(100, vocab - 100) for _ in range(length)]) for _ in range(batch)]


def params(out):
    return SamplingParams(max_tokens=out, min_tokens=out, ignore_eos=True, temperature=0.0, detokenize=False)


llm.generate(prompts(4, 64), params(8), use_tqdm=False)  # warm-up
with open(out_jsonl, "a") as fh:
    for batch, plen, olen in SWEEP:
        if time.time() > deadline - 15:
            print("time budget reached: sweep stopped", file=sys.stderr)
            break
        ps = prompts(batch, plen)
        torch.cuda.synchronize()
        t = time.perf_counter()
        outs = llm.generate(ps, params(olen), use_tqdm=False)
        dt = time.perf_counter() - t
        got = sum(len(o.outputs[0].token_ids) for o in outs)
        row = {"id": f"gpucheck-{acc}-{model_key}-{fmt}-b{batch}-p{plen}-o{olen}",
               "source": f"benchmarks/gpu_check.sh on {name}, {time.strftime('%Y-%m-%d')} (LLM.generate, dummy weights)",
               "engine": "vllm", "engine_version": vllm.__version__, "accelerator": acc, "gpus": 1, "tp": 1,
               "model": model_key, "format": fmt, "scenario": "offline", "prompt_len": plen, "output_len": olen,
               "prompt_sd": "", "output_sd": "", "num_requests": batch, "concurrency": "", "request_rate": "inf",
               "max_num_seqs": MAX_SEQS, "max_num_batched_tokens": BUDGET_TOKENS, "chunked_prefill": "true",
               "gpu_memory_utilization": UTIL, "kv_cache_gib": kv_gib, "metric": "duration_s", "value": round(dt, 5),
               "split": "holdout", "notes": f"measured; {got} tokens generated; prefix caching off; engine init {init_s:.0f} s"}
        fh.write(json.dumps(row) + "\n")
        fh.flush()
        print(f"  b{batch:<4} p{plen:<5} o{olen:<4} {dt:8.3f} s  ({got / dt:,.0f} output tok/s)", file=sys.stderr)
PYEOF

# ---- run the four engines within the budget ----------------------------------------------------
JSONL="$WORK/rows.jsonl"
: > "$JSONL"
for model in llama-3.1-8b qwen2.5-7b; do
  for fmt in bf16 fp8; do
    left=$((DEADLINE - $(date +%s)))
    if [ "$left" -lt 100 ]; then
      log "skipping $model $fmt: ${left} s left of the ${BUDGET} s budget"
      continue
    fi
    log "$model $fmt (${left} s left)"
    timeout "$((left - 10))" "$PY" "$WORK/worker.py" "$model" "$fmt" "$WORK/$model" "$JSONL" "$DEADLINE" \
      || log "$model $fmt stopped early (exit $?); rows measured so far are kept"
  done
done

# ---- one results file -----------------------------------------------------------------------------
"$PY" - "$JSONL" "$ROWS" <<'PYEOF'
import csv, json, sys
cols = ("id,source,engine,engine_version,accelerator,gpus,tp,model,format,scenario,prompt_len,output_len,prompt_sd,output_sd,"
        "num_requests,concurrency,request_rate,max_num_seqs,max_num_batched_tokens,chunked_prefill,gpu_memory_utilization,"
        "kv_cache_gib,metric,value,split,notes").split(",")
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
with open(sys.argv[2], "w", newline="") as fh:
    w = csv.DictWriter(fh, fieldnames=cols)
    w.writeheader()
    w.writerows(rows)
print(f"{len(rows)} rows -> {sys.argv[2]}", file=sys.stderr)
PYEOF
log "done in $(( $(date +%s) - START )) s"
