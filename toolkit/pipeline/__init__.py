"""`leanserve run`: the whole chain (compress → package → bench → plan → deploy --emit → report) with per-stage caching.

The entry point is :func:`toolkit.pipeline.runner.run_pipeline` (also importable as ``toolkit.run.run_pipeline``).
``runner.py`` runs the stages and decides what is a cache hit; ``cache.py`` holds the stage records in
``OUT/.leanserve/stages/``.
"""
