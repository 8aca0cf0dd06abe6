"""Bench points that are probably not the server's figures, so that `leanserve run` warns and does not cache them.

The checks are ``leanserve bench``'s (``toolkit/bench/suspect.py``): throughput that falls as concurrency rises, a
lowest-load latency far above the variant's in-process latency (run passes variants.json so that bench can compare),
a generator that fell behind or saturated its CPU, CPU stolen by the hypervisor. Bench marks such points
``suspect`` in the profile and the planner leaves them out (``toolkit.perf.measured.usable_points``); this module
names them for run's warning.
"""

from __future__ import annotations


def _level(p) -> str:
    return f"concurrency {p.concurrency}" if p.mode == "closed" else f"{p.target_rps:g} req/s"


def suspect_points(profile) -> list[str]:
    """One line per point of ``profile`` that bench marked suspect: ``"concurrency 4: why"``."""
    return [f"{_level(p)}: {p.suspect}" for p in profile.points if getattr(p, "suspect", None)]
