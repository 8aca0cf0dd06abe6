"""The CPU LLM model's sources, copied into a package as ``llm/1/model.py`` and ``llm/1/llm_decode.py``.

``llm_model.py`` runs inside Triton's Python backend only (it imports ``triton_python_backend_utils``);
``llm_decode.py`` is plain Python (numpy, onnxruntime, tokenizers) and also runs in-process: tests and
benchmarks load it with :func:`load_decode_module` to get the served model's exact loop.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent
LLM_MODEL_SOURCE = HERE / "llm_model.py"
LLM_DECODE_SOURCE = HERE / "llm_decode.py"


def load_decode_module(path: Path | None = None):
    """Import ``llm_decode.py`` (the packaged copy at ``path``, else this source) as a module."""
    import importlib.util
    import sys

    src = Path(path) if path is not None else LLM_DECODE_SOURCE
    spec = importlib.util.spec_from_file_location(f"leanserve_llm_decode_{abs(hash(str(src)))}", src)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
