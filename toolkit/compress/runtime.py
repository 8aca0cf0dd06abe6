"""Run variants: onnxruntime sessions for ONNX folders and the torch fp32 reference, behind one interface.

``Encoder.encode(texts)`` returns what the task's family makes of the graph output
(``family.postprocess``: pooled, L2-normalised embeddings, or logits) as a float32 numpy array,
whatever the backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from toolkit.families import family_for
from toolkit.package.configs import DEFAULT_PAD_TO_MULTIPLE_OF


@dataclass(frozen=True)
class Serving:
    """How the packaged server shapes what reaches the model: each request's texts padded together.

    The packaged tokenizer (``toolkit/package/models/tokenizer.py``) pads the texts it handles at once to
    the longest of them rounded up to ``pad_to_multiple_of`` (capped at the maximum length);
    ``texts_per_request`` consecutive texts make one request here.
    """

    pad_to_multiple_of: int = DEFAULT_PAD_TO_MULTIPLE_OF
    texts_per_request: int = 1

    def describe(self) -> str:
        n = self.texts_per_request
        return (f"{'one text' if n == 1 else f'{n} texts'} per request, padded to the longest rounded up to a multiple of "
                f"{self.pad_to_multiple_of}, as the packaged tokenizer pads")


#: What compress measures quality on: each text sent alone, padded as the packaged tokenizer pads by default ...
SERVED_ALONE = Serving(DEFAULT_PAD_TO_MULTIPLE_OF, 1)
#: ... and what it checks that against: the texts in 8-text requests, padded together (batch-mates).
BATCH_MATES = Serving(DEFAULT_PAD_TO_MULTIPLE_OF, 8)
#: Outputs that move less than this with padding and batch-mates count as independent of them (fp32 noise).
BATCH_INVARIANT_TOLERANCE = 1e-5


def served_length(longest: int, multiple: int, max_length: int) -> int:
    """The padded length the packaged tokenizer gives a group whose longest text has ``longest`` tokens."""
    padded = -(-max(longest, 1) // multiple) * multiple
    return max(min(padded, max_length), longest)


def make_session(model_file: str | Path, threads: int, *, spin: bool | None = None):
    """An onnxruntime CPU session with a fixed intra-op thread count; ``spin`` sets whether idle intra-op workers spin
    (None: onnxruntime's default, which spins)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    if spin is not None:
        opts.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
    return ort.InferenceSession(str(model_file), sess_options=opts, providers=["CPUExecutionProvider"])


def _batches(texts: list[str], tokenizer, batch_size: int, max_length: int):
    """Batches of texts sorted by length (less padding), with the indices to restore the order."""
    lengths = [len(t) for t in texts]
    order = sorted(range(len(texts)), key=lambda i: lengths[i])
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        enc = tokenizer([texts[i] for i in idx], padding=True, truncation=True, max_length=max_length, return_tensors="np")
        yield idx, enc


def _requests(texts: list[str], tokenizer, serving: Serving, max_length: int):
    """Requests of ``serving.texts_per_request`` consecutive texts, tokenised and padded as the served tokenizer does."""
    import numpy as np

    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    n = max(1, serving.texts_per_request)
    for start in range(0, len(texts), n):
        idx = list(range(start, min(start + n, len(texts))))
        enc = tokenizer([texts[i] for i in idx], truncation=True, max_length=max_length)
        rows = enc["input_ids"]
        length = served_length(max(len(r) for r in rows), max(1, serving.pad_to_multiple_of), max_length)
        arrays = {"input_ids": np.full((len(idx), length), pad_id, dtype=np.int64),
                  "attention_mask": np.zeros((len(idx), length), dtype=np.int64),
                  "token_type_ids": np.zeros((len(idx), length), dtype=np.int64)}
        for row, ids in enumerate(rows):
            arrays["input_ids"][row, :len(ids)] = ids
            arrays["attention_mask"][row, :len(ids)] = enc["attention_mask"][row]
            if "token_type_ids" in enc:
                arrays["token_type_ids"][row, :len(ids)] = enc["token_type_ids"][row]
        yield idx, arrays


class Encoder:
    task: str
    max_length: int

    def forward(self, feeds: dict):  # pragma: no cover - interface
        raise NotImplementedError

    def input_names(self) -> list[str]:  # pragma: no cover - interface
        raise NotImplementedError

    def encode(self, texts: list[str], batch_size: int = 32, serving: Serving | None = None):
        """Outputs for ``texts``, in order. Without ``serving``: length-sorted batches of ``batch_size``, each padded
        to its longest text (fast); with it: the requests the packaged server would see (see :class:`Serving`)."""
        import numpy as np

        family = family_for(self.task)
        out: list = [None] * len(texts)
        groups = (_requests(list(texts), self.tokenizer, serving, self.max_length) if serving is not None
                  else _batches(list(texts), self.tokenizer, batch_size, self.max_length))
        for idx, enc in groups:
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

        with torch.inference_mode(), torch_threads(self.threads):
            out = self.model(**{k: torch.from_numpy(v) for k, v in feeds.items() if k in self._names})
        t = family_for(self.task).graph_output(out)
        return t.float().numpy()


class torch_threads:
    """Set torch's intra-op thread count for a block (None: leave it)."""

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


