"""`leanserve package` for generative decoders (LLMs): Triton model repositories that stream tokens.

Two layouts, one request/response contract (the vLLM backend's tensors, so one client and one bench
work against both):

- GPU (``--target gpu`` / ``sagemaker``): Triton's **vLLM backend**: ``llm/config.pbtxt`` (``backend:
  "vllm"``, decoupled) and ``llm/1/model.json`` (vLLM engine arguments), weights in ``llm/1/weights/``;
  container context on ``nvcr.io/nvidia/tritonserver:<yy.mm>-vllm-python-py3``.
- CPU (``--target cpu``): a decoupled **Python-backend** model running the ONNX decoder with its KV cache
  through onnxruntime (``llm/1/model.py`` + ``llm_decode.py``), greedy or simple sampling.

Inputs: ``text_input`` (TYPE_STRING), ``stream`` (TYPE_BOOL), ``sampling_parameters`` (TYPE_STRING, JSON:
``max_tokens``, ``temperature``, ``ignore_eos``, ...), ``exclude_input_in_output`` (TYPE_BOOL); output
``text_output`` (TYPE_STRING). Modules: ``engine`` (model.json's engine arguments, from a plan or
defaults), ``layout`` (config.pbtxt of both), ``build`` (the entry point), ``container`` (build
contexts from ``containers/vllm`` and ``containers/llm-cpu``), ``manifest`` (``manifest.json``),
``check`` (what ``package check`` runs on LLM repositories), ``source`` (where a variant's files are),
``models/`` (the Python-backend model).
"""

from __future__ import annotations

__all__ = ["LLMPackageOptions", "build_llm_package", "is_llm_package"]


def __getattr__(name: str):
    if name in ("LLMPackageOptions", "build_llm_package"):
        from toolkit.package.llm import build

        return getattr(build, name)
    if name == "is_llm_package":
        from toolkit.package.llm.manifest import is_llm_package

        return is_llm_package
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
