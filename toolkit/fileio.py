"""Atomic file and folder writes, hashing and safe YAML reading.

A stage never leaves a half-written file: content goes to a temporary sibling, is flushed and
fsynced, then renamed over the destination (rename is atomic on POSIX within one file system).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from toolkit.errors import InputError, LeanserveError

_DENIED = (errno.EACCES, errno.EPERM, errno.EROFS)
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


def _existing(path: Path) -> Path:
    """``path`` or its nearest ancestor that exists."""
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def _file_above(path: Path) -> Path | None:
    """The nearest existing ancestor of ``path`` when it is a file (so nothing can be created below it)."""
    a = _existing(path.parent)
    return a if a.exists() and not a.is_dir() else None


def _unwritable(folder: Path) -> str:
    """Why ``folder`` cannot be written: a read-only file system or missing permission."""
    with contextlib.suppress(OSError):
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return f"{folder} is on a read-only file system"
    return f"permission denied on {folder}"


def output_error(exc: OSError, dest: Path, what: str | None = None) -> LeanserveError | None:
    """The one-line error for an OSError met while writing ``dest``, or None for errors it does not know.
    A path under a file or onto a folder is bad input (exit 2); no permission, a read-only file system or a
    full disk is the environment (exit 1)."""
    target = f"{what} to {dest}" if what else str(dest)
    code = exc.errno
    if code in (errno.ENOTDIR, errno.EEXIST) and (above := _file_above(dest)) is not None:
        return InputError(f"cannot write {target}: {above} is a file, not a folder", hint="choose an output path that is not inside a file")
    if code == errno.EISDIR:
        return InputError(f"cannot write {target}: it is a folder", hint="give a file path, not a folder")
    if code in _DENIED:
        folder = _existing(dest.parent)
        reason = f"{folder} is on a read-only file system" if code == errno.EROFS else _unwritable(folder)
        return LeanserveError(f"cannot write {target}: {reason}", hint="choose another output folder, or make that one writable")
    if code in _NO_SPACE:
        return LeanserveError(f"cannot write {target}: no space left on the device", hint="free some disk space, or choose an output folder on another disk")
    return None


def check_output(path: str | os.PathLike, what: str, *, folder: bool = False, replaced: bool = False) -> Path:
    """Fail before any work when ``path`` cannot be written, with one line naming the path.

    ``folder``: the path is a folder (files are written into it; with ``replaced`` it is built beside and
    swapped in as a whole, so its parent must be writable). Otherwise it is a file written atomically."""
    p = Path(path)
    if p.exists():
        if folder and not p.is_dir():
            raise InputError(f"cannot write {what} to {p}: it is a file, not a folder", hint="give a folder (it is created when missing)")
        if not folder and p.is_dir():
            raise InputError(f"cannot write {what} to {p}: it is a folder", hint="give a file path, not a folder")
    base = _existing(p if folder and not replaced else p.parent)
    if base.exists() and not base.is_dir():
        raise InputError(f"cannot write {what} to {p}: {base} is a file, not a folder", hint="choose an output path that is not inside a file")
    if not os.access(base, os.W_OK | os.X_OK):
        raise LeanserveError(f"cannot write {what} to {p}: {_unwritable(base)}", hint="choose another output folder, or make that one writable")
    return p


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically and return the path."""
    dest = Path(path)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    except OSError as exc:
        raise (output_error(exc, dest) or exc) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and (err := output_error(exc, dest)) is not None:
            raise err from None
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
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent))
    except OSError as exc:
        raise (output_error(exc, dest) or exc) from None
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
