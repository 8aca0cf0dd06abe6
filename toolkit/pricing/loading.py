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
    PURCHASE_DATASETS,
    SPOT_PRICES_FILE,
    Ec2PriceRow,
    InstanceRow,
    SpotPriceRow,
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
    purchase, spot, extra_parts = _purchase_options(folder, spot, today, notes, warn_fn)
    return Catalog(data["hosting"], data["ec2"], data["rates"], instances, today=today,
                   source_note="; ".join(parts + extra_parts), notes=notes, warn=warn, spot=spot,
                   savings_plans=purchase["savings_plans"], interruptions=purchase["interruptions"])


PURCHASE_KEYS = {
    "savings_plans": lambda r: (r.instance_type, r.region, r.plan, r.term, r.payment),
    "interruptions": lambda r: (r.instance_type, r.region),
}


def _cached(folder: Path, fname: str, cls: type, notes: list[str], warn_fn: Callable[[str], None]) -> list:
    path = folder / fname
    if not path.exists():
        return []
    try:
        return _read_dataset(path, cls)
    except InputError as exc:
        msg = f"ignoring the cached price file {path}: {exc.message}; using the snapshot"
        notes.append(msg)
        warn_fn(msg)
        return []


def _purchase_options(folder: Path, spot: list, today: date, notes: list[str], warn_fn: Callable[[str], None]):
    """Savings Plans rates and spot interruption bands (snapshot + cache), and spot prices overlaid by refreshed ones.

    The source note only grows when the cache holds such rows (the snapshot's bands carry their own dates)."""
    out: dict[str, list] = {}
    parts: list[str] = []
    for name, (fname, cls) in PURCHASE_DATASETS.items():
        rows = _read_dataset(DATA_DIR / fname, cls)
        extra = _cached(folder, fname, cls, notes, warn_fn)
        if extra:
            rows, used = _merge(rows, extra, PURCHASE_KEYS[name])
            newest = max(r.as_of for r in extra)
            parts.append(f"{name.replace('_', ' ')}: cache {folder / fname} of {newest} ({(today - _parse_date(newest)).days} days old, {used} rows used)")
        out[name] = rows
    fetched = _cached(folder, SPOT_PRICES_FILE, SpotPriceRow, notes, warn_fn)
    if fetched:
        od = {(r.instance_type, r.region): r.usd_per_hour for r in spot}
        as_rows = [Ec2PriceRow(r.instance_type, r.region, od.get((r.instance_type, r.region), float("nan")), r.spot_usd_per_hour,
                               r.spot_zone, r.source, r.sources, r.as_of, r.confidence) for r in fetched]
        spot, used = _merge(list(spot), as_rows, KEYS["ec2"])
        newest = max(r.as_of for r in fetched)
        parts.append(f"spot prices: cache {folder / SPOT_PRICES_FILE} of {newest} ({used} rows used)")
    return out, spot, parts
