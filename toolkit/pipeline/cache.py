"""Stage cache for `leanserve run`: a stage is skipped when the fingerprint of its inputs is unchanged
and every output it recorded still has the sha256 it had when the stage finished.

Records live in ``OUT/.leanserve/stages/<stage>.json`` (pydantic model ``StageRecord``), written atomically
after the stage succeeds — an interrupted stage leaves no record and simply runs again.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from toolkit.fileio import atomic_write_text, sha256_file

SCHEMA_VERSION = 1


class StageRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCHEMA_VERSION
    stage: str
    fingerprint: str = Field(description="sha256 of the stage's inputs (spec sections, upstream file hashes, versions).")
    outputs: dict[str, str] = Field(description="sha256 of each output file, by path relative to OUT.")
    finished_at: str
    seconds: float


def fingerprint(parts: dict[str, Any]) -> str:
    """A stable hash of a JSON-able description of a stage's inputs."""
    canon = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canon.encode()).hexdigest()


class StageCache:
    def __init__(self, out: Path):
        self.out = out
        self.dir = out / ".leanserve" / "stages"

    def _path(self, stage: str) -> Path:
        return self.dir / f"{stage}.json"

    def lookup(self, stage: str, fp: str) -> StageRecord | None:
        """The record of a previous run of ``stage`` with the same inputs whose outputs are intact, else None."""
        p = self._path(stage)
        if not p.exists():
            return None
        try:
            rec = StageRecord.model_validate_json(p.read_text())
        except (ValidationError, OSError, ValueError):
            return None
        if rec.schema_version != SCHEMA_VERSION or rec.fingerprint != fp:
            return None
        for rel, digest in rec.outputs.items():
            f = self.out / rel
            if not f.is_file() or sha256_file(f) != digest:
                return None
        return rec

    def record(self, stage: str, fp: str, outputs: list[Path], seconds: float) -> StageRecord:
        files: dict[str, str] = {}
        for o in outputs:
            if not o.exists():  # a stage that wrote nothing there (e.g. deploy --emit refused, and said why)
                continue
            paths = sorted(x for x in o.rglob("*") if x.is_file()) if o.is_dir() else [o]
            for f in paths:
                files[str(f.relative_to(self.out))] = sha256_file(f)
        rec = StageRecord(
            stage=stage, fingerprint=fp, outputs=files,
            finished_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), seconds=round(seconds, 2),
        )
        atomic_write_text(self._path(stage), rec.model_dump_json(indent=2) + "\n")
        return rec

    def invalidate(self, stage: str) -> None:
        self._path(stage).unlink(missing_ok=True)
