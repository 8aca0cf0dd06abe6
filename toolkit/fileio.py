"""Atomic file and folder writes, hashing and safe YAML reading.

A stage never leaves a half-written file: content goes to a temporary sibling, is flushed and
fsynced, then renamed over the destination (rename is atomic on POSIX within one file system).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from toolkit.errors import InputError


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically and return the path."""
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return dest


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, *, replace: bool = True) -> Iterator[Path]:
    """Build a folder in a temporary sibling and move it to ``path`` only if the block succeeds.

    On any exception (Ctrl-C included) the temporary folder is removed and ``path`` is untouched.
    With ``replace`` an existing ``path`` is swapped out only after the new folder is complete.
    """
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent))
    try:
        yield tmp
        if dest.exists():
            if not replace:
                raise InputError(f"{dest} already exists", hint="remove it or choose another --out")
            old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
            os.replace(dest, old)
            try:
                os.replace(tmp, dest)
            except BaseException:
                os.replace(old, dest)  # put the previous folder back: never leave no folder at all
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_text(path: str | os.PathLike, what: str) -> str:
    """Read a UTF-8 text file or raise InputError saying which file and why."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{what} not found: {p}", hint="check the path (relative paths are resolved from the current folder)")
    if p.is_dir():
        raise InputError(f"{what} is a folder, not a file: {p}", hint="give the path of the file itself")
    try:
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{what} is not UTF-8 text: {p} (byte {exc.start})", hint="save the file as UTF-8") from None
    except OSError as exc:
        raise InputError(f"cannot read {what} {p}: {exc.strerror}", hint="check the file's permissions") from None


def load_yaml_text(text: str, source: str) -> Any:
    """Parse YAML safely; a syntax error becomes an InputError with the line and column."""
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or str(exc).splitlines()[0]
        raise InputError(f"{source}: invalid YAML{where}: {problem}", hint="fix the YAML syntax (indentation, quotes, colons)") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{source}: invalid YAML: {str(exc).splitlines()[0]}", hint="fix the YAML syntax") from None
    except (ValueError, TypeError, RecursionError) as exc:  # odd scalars, deep nesting
        raise InputError(f"{source}: unreadable YAML: {exc}", hint="simplify the file to plain mappings and lists") from None
