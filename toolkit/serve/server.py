"""Lifecycle of a local tritonserver process: start on 127.0.0.1, load models explicitly, wait for
readiness, stop with SIGTERM then SIGKILL, and leave no process, temp folder or /dev/shm region behind."""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import weakref
from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import ExternalToolError, InputError

_LIVE: "weakref.WeakSet[TritonServer]" = weakref.WeakSet()
SHM = Path("/dev/shm")
# what this binary logs as errors at every start on a machine without a GPU: never the reason it stopped
_CPU_HOST_NOISE = re.compile(r"CudaDriverHelper has not been initialized|pinned memory pool will not be available")


@dataclass
class ServeOptions:
    http_port: int = 0  # 0: pick a free port
    grpc_port: int = 0
    metrics_port: int = 0
    ready_timeout_s: float = 120.0
    load_timeout_s: float = 180.0
    grace_s: float = 10.0
    log_file: Path | None = None  # keep Triton's log here (default: a temp file removed on stop)
    log_verbose: int = 0
    target: str | None = None  # override the manifest's target for the repository check


def _port_free(port: int) -> bool:
    """Whether ``port`` on 127.0.0.1 can be listened on. SO_REUSEADDR, as tritonserver sets it: connections of a
    server stopped a moment ago linger in TIME_WAIT and do not keep a new one from binding (a listener does)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pick_ports(http: int, grpc: int, metrics: int) -> tuple[int, int, int]:
    chosen: list[int] = []
    for flag, port in (("--http-port", http), ("--grpc-port", grpc), ("--metrics-port", metrics)):
        if port:
            if not _port_free(port) or port in chosen:
                raise InputError(f"port {port} on 127.0.0.1 is already in use ({flag})", hint=f"choose another {flag}, or 0 for a free one")
            chosen.append(port)
        else:
            p = _free_port()
            while p in chosen:
                p = _free_port()
            chosen.append(p)
    return chosen[0], chosen[1], chosen[2]


def _http(method: str, url: str, timeout: float, body: bytes | None = None) -> tuple[int, str]:
    req = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def _group_members(pgid: int) -> list[int]:
    """PIDs whose process group is ``pgid`` (Linux /proc)."""
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 2 and int(fields[2]) == pgid:
            pids.append(int(d.name))
    return pids


class TritonServer:
    """A running tritonserver. Use :meth:`start` (as a context manager or with :meth:`stop`)."""

    def __init__(self, proc: subprocess.Popen, work: Path, ports: tuple[int, int, int], shm_prefix: str,
                 log_path: Path, models: list[str], ensemble: str | None, notes: list[str], manifest, grace_s: float):
        self.proc = proc
        self.work = work
        self.http_port, self.grpc_port, self.metrics_port = ports
        self.shm_prefix = shm_prefix
        self.log_path = log_path
        self.models = models
        self.ensemble = ensemble
        self.notes = notes
        self.manifest = manifest
        self.grace_s = grace_s
        self._stopped = False
        self.ready_log_offset = 0  # log size when the server became ready: later lines explain a later exit
        _LIVE.add(self)

    # ---- addresses -------------------------------------------------------------------------------
    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def grpc_url(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def describe(self) -> dict:
        return {
            "http": self.http_url,
            "grpc": self.grpc_url,
            "metrics": self.metrics_url,
            "pid": self.pid,
            "models": self.models,
            "ensemble": self.ensemble,
            "log": str(self.log_path),
            "shm_prefix": self.shm_prefix,
            "notes": self.notes,
        }

    # ---- start ---------------------------------------------------------------------------------
    @classmethod
    def start(cls, package_dir: str | Path, options: ServeOptions | None = None) -> "TritonServer":
        """Validate the repository, start tritonserver on 127.0.0.1, load every model, wait until ready."""
        from toolkit.package.check import check_repository, ensure_valid
        from toolkit.serve.binary import find_install, prepare_backends, server_env
        from toolkit.serve.runtime_repo import build_runtime_repository

        options = options or ServeOptions()
        report = ensure_valid(check_repository(package_dir, options.target))
        install = find_install()
        ports = pick_ports(options.http_port, options.grpc_port, options.metrics_port)
        work = Path(tempfile.mkdtemp(prefix="leanserve-triton-"))
        try:
            repo, order, notes = build_runtime_repository(report, work / "repository")
            backends = prepare_backends(install, work / "backends")
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        shm_prefix = f"leanserve_{work.name.rsplit('-', 1)[-1]}_"  # ties the server's /dev/shm regions to its temp folder
        log_path = Path(options.log_file) if options.log_file else work / "triton.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        cmd = [
            str(install.binary),
            f"--model-repository={repo}",
            f"--backend-directory={backends}",
            "--model-control-mode=explicit",
            "--disable-auto-complete-config",
            "--strict-readiness=true",
            "--http-address=127.0.0.1",
            "--grpc-address=127.0.0.1",
            "--metrics-address=127.0.0.1",
            f"--http-port={ports[0]}",
            f"--grpc-port={ports[1]}",
            f"--metrics-port={ports[2]}",
            "--allow-gpu-metrics=false",
            "--allow-cpu-metrics=false",
            f"--exit-timeout-secs={max(1, int(options.grace_s) - 1)}",
            f"--backend-config=python,shm-region-prefix-name={shm_prefix}",
            f"--log-verbose={options.log_verbose}",
        ]
        log = open(log_path, "ab")
        try:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=server_env(install), start_new_session=True, cwd=work)
        except OSError as exc:
            log.close()
            shutil.rmtree(work, ignore_errors=True)
            raise ExternalToolError(f"cannot run tritonserver: {exc.strerror}", hint=f"check {install.binary}") from None
        finally:
            if not log.closed:
                log.close()
        ensemble = report.manifest.ensemble if report.manifest else next(
            (n for n, c in report.configs.items() if c.platform == "ensemble"), None)
        server = cls(proc, work, ports, shm_prefix, log_path, order, ensemble, notes, report.manifest, options.grace_s)
        try:
            server._wait_live(options.ready_timeout_s)
            for name in order:
                server._load(name, options.load_timeout_s)
            server._wait_ready(options.ready_timeout_s)
            server.ready_log_offset = server._log_size()
        except BaseException:
            server.stop()
            raise
        return server

    def _log_tail(self, n: int = 40, since: int = 0) -> list[str]:
        """The last ``n`` lines of the log, from byte offset ``since`` on."""
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(since)
                return fh.read().decode("utf-8", "replace").splitlines()[-n:]
        except OSError:
            return []

    def _log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def last_error(self, since: int = 0) -> str:
        """The last error line of the log written after byte ``since`` (else its last line), without Triton's prefix."""
        lines = [ln for ln in self._log_tail(200, since) if ln.strip()]
        errors = [ln for ln in lines if re.match(r"^E\d{4} ", ln) and not _CPU_HOST_NOISE.search(ln)]
        line = (errors or lines or ["(no log output)"])[-1]
        return re.sub(r"^[EWI]\d{4} [\d:.]+ \d+ [\w.]+:\d+\] ", "", line).strip().strip('"')

    def exit_status(self) -> str:
        """How the process ended: 'killed by signal 9 (SIGKILL)' or 'exit code 1'."""
        code = self.proc.poll()
        if code is None:
            return "still running"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = "unknown signal"
            return f"killed by signal {-code} ({name})"
        return f"exit code {code}"

    def _log_hint(self) -> str:
        return f"full log: {self.log_path}" if self.log_path.parent != self.work else "rerun with --log-file FILE to keep the log"

    def _died(self, during: str) -> ExternalToolError:
        return ExternalToolError(f"tritonserver exited {during} ({self.exit_status()}): {self.last_error()}", hint=self._log_hint())

    def unexpected_exit(self) -> ExternalToolError:
        """The error for a server that stopped after it was ready: how it ended, and the last line it logged since
        then (not an old start-up warning)."""
        since = self.ready_log_offset
        said = (f"last log line since it became ready: {self.last_error(since)}" if any(ln.strip() for ln in self._log_tail(200, since))
                else "it logged nothing after it became ready")
        return ExternalToolError(f"tritonserver stopped unexpectedly ({self.exit_status()}); {said}", hint=self._log_hint())

    def _wait_live(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise self._died("during start-up")
            try:
                status, _ = _http("GET", f"{self.http_url}/v2/health/live", timeout=1.0)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise ExternalToolError(f"tritonserver did not answer on {self.http_url} within {timeout:.0f} s",
                                hint="the machine may be overloaded; raise --ready-timeout")

    def _load(self, name: str, timeout: float) -> None:
        try:
            status, body = _http("POST", f"{self.http_url}/v2/repository/models/{name}/load", timeout=timeout, body=b"{}")
        except OSError as exc:
            if not self.alive():
                raise self._died(f"while loading model '{name}'") from None
            raise ExternalToolError(f"loading model '{name}' did not finish within {timeout:.0f} s ({exc})",
                                    hint="a model stuck in LOADING usually means its model.py hangs in initialize()") from None
        if status != 200:
            try:
                msg = json.loads(body).get("error", body)
            except ValueError:
                msg = body
            msg = " ".join(str(msg).split("\n\nAt:")[0].split())  # one line, without the Python stub's traceback
            raise ExternalToolError(f"Triton could not load model '{name}': {msg}",
                                    hint="run `leanserve package check` on the repository, and see the server log (--log-file)")

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise self._died("before becoming ready")
            try:
                status, _ = _http("GET", f"{self.http_url}/v2/health/ready", timeout=1.0)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise ExternalToolError(f"tritonserver was not ready within {timeout:.0f} s", hint="raise --ready-timeout")

    # ---- stop ----------------------------------------------------------------------------------
    def stop(self) -> int | None:
        """SIGTERM the server's process group, SIGKILL after the grace period, remove its shm regions and temp files."""
        if self._stopped:
            return self.proc.returncode
        self._stopped = True
        pgid = self.proc.pid
        if self.proc.poll() is None:
            try:
                os.killpg(pgid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=self.grace_s)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(pgid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=10)
        # Python-backend stubs left in the group (e.g. after the server was SIGKILLed)
        deadline = time.monotonic() + 5
        while (members := _group_members(pgid)) and time.monotonic() < deadline:
            for pid in members:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.05)
        if SHM.is_dir():
            for region in SHM.glob(f"{self.shm_prefix}*"):
                try:
                    region.unlink()
                except OSError:
                    pass
        shutil.rmtree(self.work, ignore_errors=True)
        _LIVE.discard(self)
        return self.proc.returncode

    def __enter__(self) -> "TritonServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


@atexit.register
def _stop_all() -> None:  # pragma: no cover - safety net at interpreter exit
    for server in list(_LIVE):
        try:
            server.stop()
        except Exception:
            pass
