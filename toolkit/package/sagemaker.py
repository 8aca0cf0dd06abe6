"""``model.tar.gz`` in the layout SageMaker's Triton image expects: the model folders at the top of the archive.

The archive is reproducible (sorted entries, zero mtimes, root ownership, fixed modes, gzip header
without a timestamp), so the same repository always gives the same sha256, which deploy can verify.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

from toolkit.fileio import atomic_write_bytes


def _info(name: str, is_dir: bool, size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    if is_dir:
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
    else:
        info.size = size
        info.mode = 0o644
    return info


def write_model_tar(repository: Path, dest: Path) -> Path:
    """Pack every model folder of ``repository`` at the top level of ``dest`` (a .tar.gz)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for p in sorted(repository.rglob("*")):
            name = p.relative_to(repository).as_posix()
            if p.is_dir():
                tar.addfile(_info(name, True))
            elif p.is_file():
                data = p.read_bytes()
                tar.addfile(_info(name, False, len(data)), io.BytesIO(data))
    packed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=packed, mtime=0) as gz:
        gz.write(raw.getvalue())
    return atomic_write_bytes(dest, packed.getvalue())


def top_level_entries(tar_path: Path) -> list[str]:
    """Names at the top of the archive (the model folders)."""
    with tarfile.open(tar_path, "r:gz") as tar:
        return sorted({m.name.split("/", 1)[0] for m in tar.getmembers()})
