"""GPU formats (``w4a16``, ``fp8``): compressed-tensors checkpoints made by llm-compressor, scored on the CPU.

llm-compressor needs its own venv (it pins packages the project's venv cannot hold: ENVIRONMENT.md
"Generative models": ``llmcompressor==0.14.0.1`` with torch 2.13.0, a 71 s install). It is built once
under the user cache dir and every step runs there as a subprocess:

- ``w4a16``: one-shot GPTQ, int4 weights in groups of 64 (the preset's 128 does not divide
  SmolLM2's 576 columns), 16-bit activations, ``lm_head`` kept; needs calibration text.
- ``fp8``: FP8 weights per channel and dynamic per-token FP8 activations; no calibration.

Quality is measured on the CPU in that venv: the checkpoint is loaded decompressed
(``CompressedTensorsConfig(run_compressed=False)``) beside the fp32 reference and both are scored by
``toolkit.compress.decoder.quality`` on the same windows. Speed is never measured here: vLLM's
CUDA kernels are what these formats are for, so the performance model estimates it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from toolkit.errors import ExternalToolError, InputError

LLMCOMPRESSOR = "llmcompressor==0.14.0.1"
TORCH = "torch==2.13.0"
READY = ".leanserve-ready"
FORMATS = ("w4a16", "fp8")

RECIPES = {
    "w4a16": """\
quant_stage:
  quant_modifiers:
    GPTQModifier:
      ignore: [lm_head]
      dampening_frac: 0.01
      config_groups:
        group_0:
          targets: [Linear]
          weights: {num_bits: 4, type: int, symmetric: true, strategy: group, group_size: 64}
""",
    "fp8": """\
quant_stage:
  quant_modifiers:
    QuantizationModifier:
      ignore: [lm_head]
      targets: [Linear]
      scheme: FP8_DYNAMIC
""",
}
NEEDS_CALIBRATION = {"w4a16": True, "fp8": False}

ONESHOT_SCRIPT = r'''
import json, sys
args = json.load(open(sys.argv[1]))
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer
from llmcompressor import oneshot
torch.set_num_threads(args["threads"])
tok = AutoTokenizer.from_pretrained(args["model"])
model = AutoModelForCausalLM.from_pretrained(args["model"], torch_dtype=torch.float32)
kwargs = {}
if args["texts"]:  # short texts (tweets) are joined with eos and cut into full windows of max_seq_length tokens
    from datasets import Dataset
    n, stream, rows = args["max_seq_length"], [], []
    for text in args["texts"]:
        stream += tok(text, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        while len(stream) >= n and len(rows) < args["samples"]:
            rows.append(stream[:n])
            stream = stream[n:]
        if len(rows) >= args["samples"]:
            break
    ds = Dataset.from_dict({"input_ids": rows, "attention_mask": [[1] * n for _ in rows]})
    kwargs = dict(dataset=ds, max_seq_length=n, num_calibration_samples=len(rows))
oneshot(model=model, recipe=args["recipe"], **kwargs)
model.save_pretrained(args["out"], save_compressed=True)
tok.save_pretrained(args["out"])
'''

SCORE_SCRIPT = r'''
import json, sys
args = json.load(open(sys.argv[1]))
sys.path.insert(0, args["toolkit_root"])
import numpy as np, torch
from transformers import AutoModelForCausalLM
from toolkit.compress.decoder.quality import EvalWindows, QualityEvaluator
torch.set_num_threads(args["threads"])

class Logits:
    def __init__(self, model):
        self.model = model.eval()
    def logits(self, ids):
        with torch.inference_mode():
            return self.model(input_ids=torch.as_tensor(ids), use_cache=False).logits.float().numpy()

ref = AutoModelForCausalLM.from_pretrained(args["reference"], torch_dtype=torch.float32)
try:
    from transformers import CompressedTensorsConfig
    qc = CompressedTensorsConfig(run_compressed=False)
    var = AutoModelForCausalLM.from_pretrained(args["variant"], torch_dtype=torch.float32, quantization_config=qc)
except ImportError:
    var = AutoModelForCausalLM.from_pretrained(args["variant"], torch_dtype=torch.float32)
w = EvalWindows(ids=np.load(args["windows"]), context=args["context"], source=args["source"], texts=args["texts"])
result = QualityEvaluator(Logits(ref), w).score(Logits(var))
json.dump(result.to_dict(), open(args["result"], "w"))
'''


def venv_dir(cache_dir: Path | None = None) -> Path:
    if cache_dir is None:
        env = os.environ.get("LEANSERVE_CACHE_DIR")
        if env:
            cache_dir = Path(env).expanduser()
        else:
            import platformdirs

            cache_dir = Path(platformdirs.user_cache_dir("leanserve", appauthor=False))
    return Path(cache_dir) / "venvs" / LLMCOMPRESSOR.replace("==", "-")


def venv_python(folder: Path) -> Path:
    return folder / "bin" / "python"


def _run(cmd: list[str], what: str, *, env: dict | None = None, timeout: float | None = None, log=None) -> None:
    if log:
        shown = [("<script>" if "\n" in str(c) else str(c)) for c in cmd[:4]]
        log(f"{what}: {' '.join(shown)} ...")
    try:
        proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ExternalToolError(f"{what} did not finish in {timeout:.0f} s", hint="retry on a less loaded machine") from None
    if proc.returncode != 0:
        tail = [ln for ln in (proc.stderr or proc.stdout).strip().splitlines() if ln.strip()][-1:] or ["no output"]
        raise ExternalToolError(f"{what} failed (exit {proc.returncode}): {tail[0][:200]}",
                                hint="run it again with --debug, or check that PyPI is reachable")


def ensure_venv(cache_dir: Path | None = None, *, python: str = sys.executable, log=None, timeout: float = 900) -> Path:
    """The llm-compressor venv, built once (in a temporary sibling, then renamed) and reused."""
    import shutil
    import tempfile

    folder = venv_dir(cache_dir)
    if (folder / READY).exists() and venv_python(folder).exists():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        _run([python, "-m", "venv", tmp], "creating the llm-compressor venv", log=log)
        pip = [venv_python(tmp), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        _run(pip + [TORCH, LLMCOMPRESSOR], f"installing {LLMCOMPRESSOR}", timeout=timeout, log=log)
        (tmp / READY).write_text(LLMCOMPRESSOR + "\n", encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)  # a venv's scripts name their folder: rewrite them for the final path
        _fix_paths(folder, tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def _fix_paths(folder: Path, old: Path) -> None:
    """Point the venv's pyvenv.cfg and bin/ scripts at ``folder`` after it was moved from ``old``."""
    for f in [folder / "pyvenv.cfg", *(folder / "bin").iterdir()]:
        if f.is_file() and not f.is_symlink():
            try:
                text = f.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            if str(old) in text:
                f.write_text(text.replace(str(old), str(folder)), encoding="utf-8")


def _write_args(folder: Path, name: str, args: dict) -> Path:
    path = folder / name
    path.write_text(json.dumps(args), encoding="utf-8")
    return path


def make_gpu_format(fmt: str, reference_dir: Path, dest: Path, *, texts: list[str] | None = None, max_seq_length: int = 256,
                    samples: int = 64, threads: int = 2, venv: Path | None = None, log=None, timeout: float = 1800) -> Path:
    """Write the ``fmt`` compressed-tensors checkpoint of ``reference_dir`` to ``dest`` (atomically); return dest."""
    from toolkit.fileio import atomic_dir

    if fmt not in FORMATS:
        from toolkit.suggest import did_you_mean

        raise InputError(f"unknown GPU format '{fmt}'{did_you_mean(fmt, FORMATS)}", hint=f"GPU formats: {', '.join(FORMATS)}")
    calib = list(texts or [])[: samples * 64] if NEEDS_CALIBRATION[fmt] else []  # joined into ``samples`` windows
    if NEEDS_CALIBRATION[fmt] and len(calib) < 8:
        raise InputError(f"{fmt} needs calibration text ({len(calib)} examples given, at least 8)",
                         hint="set compression.calibration_text (builtin:tweets works)")
    venv = venv or ensure_venv(log=log)
    with atomic_dir(dest) as tmp:
        args = {"model": str(reference_dir), "out": str(tmp), "recipe": RECIPES[fmt], "texts": calib,
                "max_seq_length": max_seq_length, "samples": samples, "threads": threads}
        argf = _write_args(tmp.parent, f".{dest.name}.oneshot.json", args)
        try:
            _run([venv_python(venv), "-c", ONESHOT_SCRIPT, argf], f"llm-compressor {fmt}", env=_env(threads), timeout=timeout, log=log)
        finally:
            argf.unlink(missing_ok=True)
    return dest


def score_gpu_format(variant_dir: Path, reference_dir: Path, windows, *, threads: int = 2, venv: Path | None = None,
                     log=None, timeout: float = 1800):
    """QualityResult of a compressed-tensors checkpoint vs the reference, both run decompressed on the CPU."""
    import tempfile

    import numpy as np

    from toolkit.compress.decoder.quality import QualityResult

    venv = venv or ensure_venv(log=log)
    root = Path(__file__).resolve().parents[3]  # the folder holding the toolkit package
    with tempfile.TemporaryDirectory(prefix="leanserve-score-") as tmp:
        np.save(Path(tmp) / "windows.npy", np.asarray(windows.ids, dtype=np.int64))
        args = {"reference": str(reference_dir), "variant": str(variant_dir), "windows": str(Path(tmp) / "windows.npy"),
                "context": windows.context, "source": windows.source, "texts": windows.texts,
                "result": str(Path(tmp) / "result.json"), "toolkit_root": str(root), "threads": threads}
        argf = _write_args(Path(tmp), "args.json", args)
        _run([venv_python(venv), "-c", SCORE_SCRIPT, argf], f"scoring {variant_dir.name}", env=_env(threads), timeout=timeout, log=log)
        return QualityResult(**json.loads((Path(tmp) / "result.json").read_text(encoding="utf-8")))


def _env(threads: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", OMP_NUM_THREADS=str(threads), TOKENIZERS_PARALLELISM="false")
    return env
