"""Turn a validated package repository into the repository the local tritonserver runs.

The wheel's tritonserver has only the Python backend, so each ``onnxruntime`` model becomes a
Python-backend model (``toolkit/serve/models/onnx_model.py``) with the same inputs, outputs,
max_batch_size, dynamic batching, instance count and thread count. KIND_GPU becomes KIND_CPU (no GPU
here; a functional check only). Every Python-backend model gets ``EXECUTION_ENV_PATH`` pointing at this
Python environment. Model files are symlinked, not copied. The package itself is never modified.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from toolkit.package import pbtxt
from toolkit.package.check import CheckReport
from toolkit.serve.binary import execution_env_path
from toolkit.serve.models import ONNX_MODEL_SOURCE


def _link_files(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for p in sorted(src.iterdir()):
        if p.is_file():
            os.symlink(p.resolve(), dst / p.name)
        elif p.is_dir():
            _link_files(p, dst / p.name)


def build_runtime_repository(report: CheckReport, dest: Path) -> tuple[Path, list[str], list[str]]:
    """Write the runtime repository into ``dest``; return it, the load order and notes for the user."""
    dest.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    env_path = execution_env_path()
    order: list[str] = []
    for name, config in sorted(report.configs.items()):
        if config.backend == "vllm":  # not in the wheel's tritonserver: vLLM runs as its own server here
            from toolkit.errors import ExternalToolError

            raise ExternalToolError(f"model '{name}' is on Triton's vLLM backend, which the local tritonserver does not have",
                                    hint="run vLLM's own server on it: `leanserve serve DIR --engine vllm`; the package's "
                                         "container runs it on Triton on a GPU host")
        src = report.repository / name
        out = dest / name
        cfg = pbtxt.new_config()
        cfg.CopyFrom(config)
        versions = sorted(d for d in src.iterdir() if d.is_dir() and d.name.isdigit())
        if cfg.platform == "onnxruntime_onnx" or cfg.backend == "onnxruntime":
            onnx_file = cfg.default_model_filename or "model.onnx"
            cfg.platform = ""
            cfg.backend = "python"
            cfg.default_model_filename = ""
            cfg.ClearField("optimization")
            for group in cfg.instance_group:
                if pbtxt.kind_name(group.kind) == "KIND_GPU":
                    group.kind = pbtxt.pb2().ModelInstanceGroup.Kind.Value("KIND_CPU")
                    group.ClearField("gpus")
                    notes.append(f"model '{name}': KIND_GPU served as KIND_CPU here (no GPU): a functional check, not GPU speed")
            pbtxt.set_parameter(cfg, "onnx_file", onnx_file)
            for v in versions:
                _link_files(src / v.name, out / v.name)
                shutil.copyfile(ONNX_MODEL_SOURCE, out / v.name / "model.py")
            notes.append(f"model '{name}': onnxruntime backend served through the Python backend running onnxruntime "
                         f"(same I/O, batching and {cfg.instance_group[0].count if cfg.instance_group else 1} instance(s))")
        else:
            for v in versions:
                _link_files(src / v.name, out / v.name)
        if cfg.backend == "python" and env_path:
            pbtxt.set_parameter(cfg, "EXECUTION_ENV_PATH", env_path)
        if cfg.platform == "ensemble":
            for v in versions:
                (out / v.name).mkdir(parents=True, exist_ok=True)
        else:
            order.append(name)
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.pbtxt").write_text(pbtxt.to_text(cfg), encoding="utf-8")
    order += sorted(n for n, c in report.configs.items() if c.platform == "ensemble")
    return dest, order, notes
