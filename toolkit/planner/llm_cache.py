"""A disk cache of LLM capacity searches, so a spec planned again (tests, ``make demo``, a CI job) skips them.

One file per search under ``$LEANSERVE_CACHE_DIR/llm-capacity`` (or the user cache dir's
``leanserve/llm-capacity``), named by the sha256 of the search's inputs (shape, format, device, TP,
traffic, constraints, calibration) and of the performance model itself: every ``toolkit/perf/llm``
source file and the calibration data, so a changed model never reads an old result. Files are
written atomically; an unreadable one is ignored (and rewritten). ``LEANSERVE_LLM_CACHE=0`` turns it off.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
from pathlib import Path

VERSION = 1


def cache_dir() -> Path | None:
    if os.environ.get("LEANSERVE_LLM_CACHE", "1") == "0":
        return None
    env = os.environ.get("LEANSERVE_CACHE_DIR")
    if env:
        return Path(env).expanduser() / "llm-capacity"
    import platformdirs

    return Path(platformdirs.user_cache_dir("leanserve", appauthor=False)) / "llm-capacity"


@functools.lru_cache(maxsize=1)
def model_fingerprint() -> str:
    """sha256 over the performance model's sources and data (what a cached result depends on)."""
    from toolkit.pricing.rows import DATA_DIR

    root = Path(__file__).resolve().parents[1] / "perf" / "llm"
    files = sorted(root.glob("*.py")) + sorted(DATA_DIR.glob("llm_*")) + [DATA_DIR / "accelerator_peaks.csv"]
    h = hashlib.sha256(str(VERSION).encode())
    for f in files:
        if f.is_file():
            h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()


def _path(key) -> Path | None:
    folder = cache_dir()
    if folder is None:
        return None
    digest = hashlib.sha256((model_fingerprint() + repr(key)).encode()).hexdigest()
    return folder / f"{digest}.pkl"


def load(key):
    path = _path(key)
    if path is None or not path.is_file():
        return None
    try:
        return pickle.loads(path.read_bytes())
    except Exception:  # noqa: BLE001 - a torn or foreign file is a miss
        return None


def store(key, value) -> None:
    path = _path(key)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(pickle.dumps(value))
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache is no error: the plan is the same without it
