"""The user price cache that ``leanserve prices refresh`` writes and ``load_catalog`` reads.

Layout of the cache folder (``$LEANSERVE_CACHE_DIR`` or platformdirs' user cache dir + ``/prices``):
  sagemaker_hosting.csv, ec2_prices.csv, sagemaker_rates.csv   same columns as toolkit/data/
  manifest.json                                                  sha256 and fetch time of each file written
  .lock                                                          filelock held while writing

A file whose sha256 no longer matches the manifest was edited by the user: refresh leaves it alone
(and says so), and reading uses it as it is.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from toolkit.fileio import atomic_write_text, sha256_bytes

MANIFEST = "manifest.json"


def default_cache_dir() -> Path:
    env = os.environ.get("LEANSERVE_CACHE_DIR")
    if env:
        return Path(env).expanduser() / "prices"
    import platformdirs

    return Path(platformdirs.user_cache_dir("leanserve", appauthor=False)) / "prices"


def read_manifest(folder: Path) -> dict:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def user_edited(folder: Path, name: str, manifest: dict | None = None) -> bool:
    """True when ``name`` exists in the cache but is not byte-for-byte what refresh last wrote."""
    path = folder / name
    if not path.exists():
        return False
    manifest = read_manifest(folder) if manifest is None else manifest
    recorded = manifest.get("files", {}).get(name, {}).get("sha256")
    return recorded != sha256_bytes(path.read_bytes())


def lock(folder: Path, timeout: float = 60):
    """A cross-process lock on the cache folder (filelock)."""
    from filelock import FileLock

    folder.mkdir(parents=True, exist_ok=True)
    return FileLock(str(folder / ".lock"), timeout=timeout)


def write_files(folder: Path, files: dict[str, str], fetched_at: str, regions: list[str]) -> tuple[list[str], list[str]]:
    """Write ``files`` (name -> CSV text) into the cache atomically; call with :func:`lock` held.

    Returns (written, kept): ``kept`` are files the user edited, which are never overwritten.
    """
    manifest = read_manifest(folder)
    entries = manifest.setdefault("files", {})
    written, kept = [], []
    for name, text in files.items():
        if user_edited(folder, name, manifest):
            kept.append(name)
            continue
        atomic_write_text(folder / name, text)
        entries[name] = {"sha256": sha256_bytes(text.encode("utf-8")), "fetched_at": fetched_at, "regions": regions}
        written.append(name)
    atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return written, kept
