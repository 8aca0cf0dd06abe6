"""`leanserve run`: the whole chain (compress → package → bench → plan → deploy → report) with a stage cache.

This package is a face for the command's name: it holds no code of its own. The entry point is
:func:`run_pipeline`::

    from toolkit.run import RunOptions, run_pipeline
    from toolkit.spec import load_spec
    result = run_pipeline(load_spec("leanserve.yaml"), "out", RunOptions(skip_bench=True))

The implementation lives in :mod:`toolkit.pipeline` (``runner.py`` runs the stages, ``cache.py`` holds
the per-stage cache); the CLI command is ``toolkit/cli/run_cmd.py``. Names are imported on first use.
"""

from __future__ import annotations

__all__ = ["RunOptions", "RunResult", "run_pipeline", "summary"]


def __getattr__(name: str):
    if name in __all__:
        from toolkit.pipeline import runner

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
