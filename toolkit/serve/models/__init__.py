"""Python-backend model sources used only by the local server (see toolkit.serve.runtime_repo)."""

from pathlib import Path

ONNX_MODEL_SOURCE = Path(__file__).parent / "onnx_model.py"
