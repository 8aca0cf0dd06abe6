"""Find the ``tritonserver`` binary of the nvidia-pytriton wheel and prepare what it needs to run here.

Three steps (see ENVIRONMENT.md): a writable backends folder holding the Python backend plus the
``triton_python_backend_stub`` built for this Python; ``LD_LIBRARY_PATH`` with the wheel's bundled
libraries and this Python's LIBDIR; and the models' Python environment (``EXECUTION_ENV_PATH``,
written into each Python-backend model's config by :mod:`toolkit.serve.runtime_repo`).
"""

from __future__ import annotations

import importlib.util
import os
import platform
import shutil
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import ExternalToolError, MissingDependencyError

#: The wheel is tagged manylinux_2_35: its binary needs glibc 2.35 or newer.
MIN_GLIBC = (2, 35)


@dataclass(frozen=True)
class TritonInstall:
    binary: Path
    backends: Path  # the wheel's backends folder (read-only source)
    stub: Path
    libs: Path  # nvidia_pytriton.libs


def _glibc() -> tuple[int, int] | None:
    try:
        name = os.confstr("CS_GNU_LIBC_VERSION")  # e.g. "glibc 2.36"
    except (ValueError, OSError, AttributeError):
        return None
    if not name or not name.startswith("glibc "):
        return None
    major, minor = name.split()[1].split(".")[:2]
    return int(major), int(minor)


def find_install() -> TritonInstall:
    """Locate the tritonserver binary, backends, Python stub and bundled libraries, or explain why not."""
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "aarch64"):
        raise ExternalToolError(f"the local Triton server runs on Linux x86_64/aarch64, not {platform.system()} {platform.machine()}",
                                hint="run `leanserve serve` on Linux, or run the container built by `leanserve package --build`")
    libc = _glibc()
    if libc is None:
        raise ExternalToolError("the local Triton server needs glibc, and this system's C library is not glibc (musl/Alpine?)",
                                hint="use a glibc-based system (Debian/Ubuntu 22.04+), or the packaged container")
    if libc < MIN_GLIBC:
        raise ExternalToolError(f"the tritonserver binary in nvidia-pytriton needs glibc {MIN_GLIBC[0]}.{MIN_GLIBC[1]}+, "
                                f"this system has {libc[0]}.{libc[1]}",
                                hint="use Debian 12 / Ubuntu 22.04 or newer, or the packaged container")
    spec = importlib.util.find_spec("pytriton")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError("nvidia-pytriton", "serve")
    root = Path(list(spec.submodule_search_locations)[0]) / "tritonserver"
    binary = root / "bin" / "tritonserver"
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    stub = root / "python_backend_stubs" / version / "triton_python_backend_stub"
    libs = root.parent.parent / "nvidia_pytriton.libs"
    if not binary.is_file():
        raise ExternalToolError(f"tritonserver binary not found in the nvidia-pytriton wheel ({binary})",
                                hint="reinstall it: pip install --force-reinstall nvidia-pytriton")
    if not stub.is_file():
        raise ExternalToolError(f"nvidia-pytriton has no Python backend stub for Python {version}",
                                hint="use a Python version the wheel supports (3.8-3.13)")
    return TritonInstall(binary=binary, backends=root / "backends", stub=stub, libs=libs)


def prepare_backends(install: TritonInstall, dest: Path) -> Path:
    """Copy the wheel's backends into ``dest`` and put the Python stub into its python/ folder."""
    shutil.copytree(install.backends, dest, ignore=shutil.ignore_patterns("__pycache__"))
    target = dest / "python" / "triton_python_backend_stub"
    shutil.copy2(install.stub, target)
    target.chmod(0o755)
    return dest


def server_env(install: TritonInstall) -> dict[str, str]:
    """Environment for tritonserver: bundled libraries and this Python's libpython first on the loader path."""
    env = dict(os.environ)
    libdir = sysconfig.get_config_var("LIBDIR") or ""
    parts = [str(install.libs), libdir, env.get("LD_LIBRARY_PATH", "")]
    env["LD_LIBRARY_PATH"] = os.pathsep.join(p for p in parts if p)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def execution_env_path() -> str | None:
    """The virtual environment the Python-backend models must run in (this interpreter's), or None outside
    a venv (the stub then finds the system packages through PATH and its own libpython)."""
    return sys.prefix if sys.prefix != sys.base_prefix else None
