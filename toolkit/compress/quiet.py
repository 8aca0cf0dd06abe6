"""``quiet()``: silence exporters' and quantizers' tracer warnings and chatter (not actionable for the user)."""

from __future__ import annotations

import contextlib
import io
import logging
import warnings

EXPORTERS = ("optimum", "transformers", "torch.onnx")


@contextlib.contextmanager
def quiet(loggers: tuple[str, ...] = EXPORTERS, level: int = logging.ERROR):
    """Raise ``loggers`` to ``level``, ignore warnings and swallow stdout while the block runs."""
    found = [logging.getLogger(n) for n in loggers]
    levels = [lg.level for lg in found]
    for lg in found:
        lg.setLevel(level)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, lv in zip(found, levels):
            lg.setLevel(lv)
