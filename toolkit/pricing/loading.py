"""Reading the catalog: the embedded snapshot overlaid by the user's cache, fresher rows winning."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timezone
from pathlib import Path

from toolkit.errors import InputError
from toolkit.pricing import cache as cache_mod
from toolkit.pricing.catalog import Catalog, _default_warn, _parse_date
from toolkit.pricing.rows import (
    DATA_DIR,
    DATASETS,
    INSTANCES_FILE,
    InstanceRow,
    read_rows,
)


def _read_dataset(path: Path, cls: type) -> list:
    return read_rows(cls, path.read_text(encoding="utf-8"), str(path))


def _merge(base: list, overlay: list, key: Callable) -> tuple[list, int]:
    """Rows of ``base`` overlaid by rows of ``overlay`` that are at least as fresh (``as_of``)."""
    merged = {key(r): r for r in base}
    used = 0
    for r in overlay:
        old = merged.get(key(r))
        if old is None or _parse_date(r.as_of) >= _parse_date(old.as_of):
            merged[key(r)] = r
            used += 1
    return list(merged.values()), used


KEYS = {
    "hosting": lambda r: (r.instance_type, r.region),
    "ec2": lambda r: (r.instance_type, r.region),
    "rates": lambda r: (r.item, r.region),
}


def load_catalog(cache_dir: str | Path | None = None, *, today: date | None = None, warn: Callable[[str], None] | None = None) -> Catalog:
    """Read the embedded snapshot and the user cache; per (item, region) the fresher row wins.

    ``cache_dir`` is the folder holding the cached CSVs; it defaults to ``$LEANSERVE_CACHE_DIR/prices`` or
    the platformdirs user cache dir + ``/prices``. A cache file
    that cannot be read is skipped with a warning (the snapshot is used). ``.source_note`` says which
    sources were used and how old they are.
    """
    today = today or datetime.now(timezone.utc).date()
    warn_fn = warn or _default_warn
    folder = Path(cache_dir) if cache_dir is not None else cache_mod.default_cache_dir()
    snapshot_meta = json.loads((DATA_DIR / "SNAPSHOT.json").read_text(encoding="utf-8"))
    data: dict[str, list] = {}
    spot: list = []
    parts: list[str] = []
    notes: list[str] = []
    for name, (fname, cls) in DATASETS.items():
        rows = _read_dataset(DATA_DIR / fname, cls)
        as_of = snapshot_meta["datasets"][name]["as_of"]
        label = f"{name}: snapshot of {as_of} ({(today - _parse_date(as_of)).days} days old)"
        cached = folder / fname
        if cached.exists():
            try:
                extra = _read_dataset(cached, cls)
            except InputError as exc:
                msg = f"ignoring the cached price file {cached}: {exc.message}; using the snapshot"
                notes.append(msg)
                warn_fn(msg)
                extra = []
            if name == "ec2":
                spot, _ = _merge([r for r in rows if r.spot_usd_per_hour is not None],
                                 [r for r in extra if r.spot_usd_per_hour is not None], KEYS[name])
            if extra:
                rows, used = _merge(rows, extra, KEYS[name])
                newest = max(r.as_of for r in extra)
                kind = "your edited copy" if cache_mod.user_edited(folder, fname) else "AWS Price List API cache"
                label += f" + {kind} {cached} of {newest} ({(today - _parse_date(newest)).days} days old, {used} rows used)"
        data[name] = rows
        if name == "ec2" and not cached.exists():
            spot = rows
        parts.append(label)
    instances = read_rows(InstanceRow, (DATA_DIR / INSTANCES_FILE).read_text(encoding="utf-8"), INSTANCES_FILE)
    return Catalog(data["hosting"], data["ec2"], data["rates"], instances, today=today,
                   source_note="; ".join(parts), notes=notes, warn=warn, spot=spot)
