"""Python-backend model sources that `leanserve package` copies into a repository as ``<model>/1/model.py``.

They run inside Triton's Python backend (``triton_python_backend_utils`` exists only there), so nothing
in Leanserve imports them; tests exercise them through a real Triton server.
"""

from pathlib import Path

HERE = Path(__file__).parent
TOKENIZER_SOURCE = HERE / "tokenizer.py"
POOLING_SOURCE = HERE / "pooling.py"
