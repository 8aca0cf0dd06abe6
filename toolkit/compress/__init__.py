"""Model compression: ONNX export, int8/fp16 quantization, distillation, head pruning, evaluation.

Public API (heavy packages are imported only when these run):

- :func:`build_variants` (``toolkit.compress.build``): build and measure variants, write variants.json.
- :func:`toolkit.compress.pooling.mean_pool`: attention-mask mean pooling + L2 normalisation (numpy).
- :func:`toolkit.compress.testing.tiny_model`: a tiny random BERT + offline tokenizer for tests.
"""

from __future__ import annotations


def build_variants(loaded_spec, out_dir, variants=None, progress=None, *, settings=None):
    from toolkit.compress.build import build_variants as _build

    return _build(loaded_spec, out_dir, variants, progress, settings=settings)


__all__ = ["build_variants"]
