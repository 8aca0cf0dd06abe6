"""Output paths that cannot be written: one line naming the path, exit 2 for a path inside a file, exit 1 for a
folder without write permission (or on a read-only disk), checked before any work and nothing half-written."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_SPEC, ROOT, run_cli
from toolkit import fileio
from toolkit.errors import InputError, LeanserveError

VARIANTS = ROOT / "tests" / "planner" / "fixtures" / "variants.json"
INSIDE_A_FILE_HINT = "hint: choose an output path that is not inside a file"
UNWRITABLE_HINT = "hint: choose another output folder, or make that one writable"


@pytest.fixture
def afile(tmp_path) -> Path:
    f = tmp_path / "afile"
    f.write_text("hi\n")
    return f


def _commands(base: Path, bench_guard) -> dict[str, tuple[list, str]]:
    """command name -> (arguments writing into BASE, what the error calls the output, where it writes)."""
    return {
        "plan": (["plan", EXAMPLE_SPEC, "--variants", VARIANTS, "-o", base / "plan.json"], "the plan", base / "plan.json"),
        "report": (["report", "plan.json", "--out", base / "r"], "the report", base / "r"),
        "report diff": (["report", "diff", "a.json", "b.json", "--out", base / "c.md"], "the diff", base / "c.md"),
        "package": (["package", "variants", "--variant", "onnx-int8", "--out", base / "p"], "the package", base / "p"),
        "deploy init": (["deploy", "init", base / "i"], "the Pulumi project", base / "i"),
        "deploy --emit": (["deploy", "plan.json", "--emit", base / "infra"], "the stack file", base / "infra"),
        "compress": (["compress", EXAMPLE_SPEC, "--out", base / "o"], "variants", base / "o"),
        "run": (["run", EXAMPLE_SPEC, "--out", base / "o"], "the run's files", base / "o"),
        "bench": (["bench", "http://127.0.0.1:9", "--out", base / "profiles.json"], "profiles", base / "profiles.json"),
    }


@pytest.fixture
def no_bench(monkeypatch):
    """bench must refuse before measuring: a call to run_bench fails the test."""
    import toolkit.bench as bench_mod

    def measured(*a, **k):
        raise AssertionError("bench measured before checking its output")

    monkeypatch.setattr(bench_mod, "run_bench", measured)


@pytest.mark.parametrize("name", list(_commands(Path("x"), None)))
def test_an_output_path_inside_a_file_is_bad_input_named_in_one_line(name, afile, no_bench):
    args, what, dest = _commands(afile, None)[name]
    result = run_cli(*args)
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [f"error: cannot write {what} to {dest}: {afile} is a file, not a folder", INSIDE_A_FILE_HINT]
    assert afile.read_text() == "hi\n"
    assert sorted(p.name for p in afile.parent.iterdir()) == ["afile"]


@pytest.fixture
def readonly(tmp_path):
    """A folder this process cannot write: immutable for root (who ignores permission bits), mode 555 otherwise."""
    d = tmp_path / "ro"
    d.mkdir()
    if os.geteuid() != 0:
        d.chmod(0o555)
        yield d
        d.chmod(0o755)
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(d)], capture_output=True).returncode != 0:
        pytest.skip("needs chattr +i (root ignores permission bits)")
    try:
        yield d
    finally:
        subprocess.run(["chattr", "-i", str(d)], check=True)


@pytest.mark.parametrize("name", ["plan", "report", "package", "deploy init", "bench", "compress", "report diff"])
def test_an_unwritable_output_folder_fails_before_any_work(name, readonly, no_bench):
    args, what, dest = _commands(readonly, None)[name]
    result = run_cli(*args)
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [f"error: cannot write {what} to {dest}: permission denied on {readonly}", UNWRITABLE_HINT]
    assert list(readonly.iterdir()) == []


def test_a_read_only_file_system_is_named(tmp_path, monkeypatch):
    class ReadOnly:
        f_flag = os.ST_RDONLY

    monkeypatch.setattr(fileio.os, "access", lambda path, mode: False)
    monkeypatch.setattr(fileio.os, "statvfs", lambda path: ReadOnly())
    with pytest.raises(LeanserveError) as exc:
        fileio.check_output(tmp_path / "out" / "plan.json", "the plan")
    assert exc.value.message == f"cannot write the plan to {tmp_path}/out/plan.json: {tmp_path} is on a read-only file system"
    assert exc.value.exit_code == 1


def test_check_output_accepts_what_can_be_written(tmp_path):
    assert fileio.check_output(tmp_path / "new" / "deeper" / "plan.json", "the plan") == tmp_path / "new/deeper/plan.json"
    assert fileio.check_output(tmp_path, "the report", folder=True) == tmp_path
    (tmp_path / "f").write_text("x")
    with pytest.raises(InputError, match="it is a file, not a folder"):
        fileio.check_output(tmp_path / "f", "the report", folder=True)
    with pytest.raises(InputError, match="it is a folder"):
        fileio.check_output(tmp_path, "the plan")
    assert not (tmp_path / "new").exists()  # a check creates nothing


def test_atomic_writes_turn_os_errors_into_one_line_errors(tmp_path, afile, monkeypatch):
    with pytest.raises(InputError) as exc:
        fileio.atomic_write_text(afile / "x" / "plan.json", "{}")
    assert exc.value.message == f"cannot write {afile}/x/plan.json: {afile} is a file, not a folder"
    with pytest.raises(InputError, match=f"cannot write {tmp_path}/d: it is a folder"):
        (tmp_path / "d").mkdir()
        fileio.atomic_write_text(tmp_path / "d", "{}")

    def denied(*a, **k):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path))

    monkeypatch.setattr(fileio.tempfile, "mkstemp", denied)
    with pytest.raises(LeanserveError) as exc:
        fileio.atomic_write_text(tmp_path / "plan.json", "{}")
    assert (exc.value.message, exc.value.exit_code) == (f"cannot write {tmp_path}/plan.json: permission denied on {tmp_path}", 1)
    monkeypatch.setattr(fileio.tempfile, "mkdtemp", denied)
    with pytest.raises(LeanserveError, match="permission denied"):
        with fileio.atomic_dir(tmp_path / "pkg"):
            pass


def test_a_full_disk_leaves_the_old_file_and_says_so(tmp_path, monkeypatch):
    p = fileio.atomic_write_text(tmp_path / "plan.json", "old")

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fileio.os, "fsync", full)
    with pytest.raises(LeanserveError) as exc:
        fileio.atomic_write_text(p, "new")
    assert exc.value.message == f"cannot write {p}: no space left on the device" and exc.value.exit_code == 1
    assert p.read_text() == "old" and [f.name for f in tmp_path.iterdir()] == ["plan.json"]
