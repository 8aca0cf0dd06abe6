"""Run variants: onnxruntime sessions for ONNX folders and the torch fp32 reference, behind one interface.

``Encoder.encode(texts)`` returns what the task's family makes of the graph output
(``family.postprocess``: pooled, L2-normalised embeddings, or logits) as a float32 numpy array,
whatever the backend.
"""

from __future__ import annotations

from pathlib import Path

from toolkit.families import family_for


def make_session(model_file: str | Path, threads: int):
    """An onnxruntime CPU session with a fixed intra-op thread count."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    return ort.InferenceSession(str(model_file), sess_options=opts, providers=["CPUExecutionProvider"])


def _batches(texts: list[str], tokenizer, batch_size: int, max_length: int):
    """Batches of texts sorted by length (less padding), with the indices to restore the order."""
    lengths = [len(t) for t in texts]
    order = sorted(range(len(texts)), key=lambda i: lengths[i])
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        enc = tokenizer([texts[i] for i in idx], padding=True, truncation=True, max_length=max_length, return_tensors="np")
        yield idx, enc


class Encoder:
    task: str
    max_length: int

    def forward(self, feeds: dict):  # pragma: no cover - interface
        raise NotImplementedError

    def input_names(self) -> list[str]:  # pragma: no cover - interface
        raise NotImplementedError

    def encode(self, texts: list[str], batch_size: int = 32):
        import numpy as np

        family = family_for(self.task)
        out: list = [None] * len(texts)
        for idx, enc in _batches(list(texts), self.tokenizer, batch_size, self.max_length):
            feeds = {n: np.asarray(enc[n], dtype=np.int64) for n in self.input_names() if n in enc}
            if "token_type_ids" in self.input_names() and "token_type_ids" not in feeds:
                feeds["token_type_ids"] = np.zeros_like(feeds["input_ids"])
            result = self.forward(feeds)
            rows = family.postprocess(result, feeds["attention_mask"])
            for j, i in enumerate(idx):
                out[i] = rows[j]
        return np.stack(out) if out else np.zeros((0, 0), dtype=np.float32)


class OnnxEncoder(Encoder):
    """A variant folder (model.onnx + tokenizer) run by onnxruntime."""

    def __init__(self, folder: str | Path, task: str, max_length: int, threads: int, model_file: str = "model.onnx"):
        from toolkit.compress.source import load_tokenizer

        self.folder = Path(folder)
        self.task, self.max_length = task, max_length
        self.session = make_session(self.folder / model_file, threads)
        self.tokenizer = load_tokenizer(self.folder)
        self._names = [i.name for i in self.session.get_inputs()]
        self._out = self.session.get_outputs()[0].name

    def input_names(self) -> list[str]:
        return self._names

    def forward(self, feeds: dict):
        return self.session.run([self._out], {k: v for k, v in feeds.items() if k in self._names})[0]


class TorchEncoder(Encoder):
    """A transformers model in torch fp32 (the reference, or a student during distillation)."""

    def __init__(self, model, tokenizer, task: str, max_length: int, threads: int | None = None):
        from toolkit.compress.export import input_names_for

        self.model, self.tokenizer, self.task, self.max_length, self.threads = model, tokenizer, task, max_length, threads
        self._names = input_names_for(model)

    def input_names(self) -> list[str]:
        return self._names

    def forward(self, feeds: dict):
        import torch

        with torch.inference_mode(), _torch_threads(self.threads):
            out = self.model(**{k: torch.from_numpy(v) for k, v in feeds.items() if k in self._names})
        t = family_for(self.task).graph_output(out)
        return t.float().numpy()


class _torch_threads:
    def __init__(self, n: int | None):
        self.n = n

    def __enter__(self):
        import torch

        self.old = torch.get_num_threads()
        if self.n:
            torch.set_num_threads(self.n)

    def __exit__(self, *exc):
        import torch

        torch.set_num_threads(self.old)
