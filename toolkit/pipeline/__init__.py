"""`leanserve run`: the whole chain (compress → select → package + bench → plan → deploy --emit → report) with
per-stage caching.

The entry point is :func:`toolkit.pipeline.runner.run_pipeline` (also importable as ``toolkit.run.run_pipeline``).
``runner.py`` decides what runs and what is a cache hit; ``stages.py`` holds each stage's work; ``selection.py``
chooses the variants to benchmark (those that can win); ``suspect.py`` flags bench points that are probably not the
server's figures; ``generative.py`` holds the LLM routes (with weights: the streaming package and the token bench;
architecture only: plan, deploy and report, the rest skipped); ``summary.py`` builds the end-of-run summary (where
each figure came from, $/1M tokens and the API comparison for LLMs); ``closing.py`` renders it and prints the
combined summary of several runs (`make demo`); ``cache.py`` holds the stage records in ``OUT/.leanserve/stages/``.
"""
