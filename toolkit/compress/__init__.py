"""Model compression: ONNX export, int8/fp16 quantization, distillation, head pruning, evaluation.

Public API (heavy packages are imported only when these run):

- :func:`build_variants` (``toolkit.compress.build``): build and measure variants, write variants.json
  (settings in ``toolkit.compress.settings``; the work in ``toolkit.compress.pipeline``, or the pipeline a
  family provides: text-generation's ``toolkit.compress.decoder.pipeline``).
- What differs by kind of model (model class, graph output, post-processing, fidelity and gate,
  distillation loss, head scoring, latency shapes) is asked of ``toolkit.families.family_for(task)``.
- :func:`toolkit.compress.pooling.mean_pool`: attention-mask mean pooling + L2 normalisation (numpy).
- :func:`toolkit.compress.testing.tiny_model`: a tiny random BERT + offline tokenizer for tests.
"""

from __future__ import annotations


def build_variants(loaded_spec, out_dir, variants=None, progress=None, *, settings=None):
    from toolkit.compress.build import build_variants as _build

    return _build(loaded_spec, out_dir, variants, progress, settings=settings)


__all__ = ["build_variants"]
