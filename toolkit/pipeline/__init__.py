"""`leanserve run`: the whole chain with per-stage caching (see runner.py and cache.py)."""
