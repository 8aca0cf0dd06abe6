"""``quiet()``: silence exporters' and quantizers' tracer warnings and chatter (not actionable for the user)."""

from __future__ import annotations

import contextlib
import io
import logging
import warnings

LOGGERS = ("", "optimum", "transformers", "torch.onnx", "onnxruntime")


@contextlib.contextmanager
def quiet():
    loggers = [logging.getLogger(n) for n in LOGGERS]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, lv in zip(loggers, levels):
            lg.setLevel(lv)
