"""``quiet()`` for the decoder stages: the exporters, the quantizers and the root logger, at CRITICAL."""

from __future__ import annotations

import logging

from toolkit.compress.quiet import quiet as _quiet

LOGGERS = ("", "optimum", "transformers", "torch.onnx", "onnxruntime")


def quiet():
    return _quiet(LOGGERS, logging.CRITICAL)
