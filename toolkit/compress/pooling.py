"""Sentence-embedding pooling, done outside the ONNX graph: attention-mask mean, then L2 normalisation."""

from __future__ import annotations


def mean_pool(last_hidden, mask, *, normalize: bool = True):
    """Mean of ``last_hidden`` [batch, seq, hidden] over positions where ``mask`` [batch, seq] is 1.

    Returns float32 [batch, hidden], L2-normalised unless ``normalize=False``. numpy in, numpy out.
    """
    import numpy as np

    h = np.asarray(last_hidden, dtype=np.float32)
    m = np.asarray(mask, dtype=np.float32)[..., None]
    summed = (h * m).sum(axis=1)
    counts = np.clip(m.sum(axis=1), 1e-9, None)
    pooled = summed / counts
    return l2_normalize(pooled) if normalize else pooled


def l2_normalize(x):
    """Rows of ``x`` scaled to unit length (zero rows stay zero)."""
    import numpy as np

    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.clip(norms, 1e-12, None)


def torch_mean_pool(last_hidden, mask, *, normalize: bool = True):
    """The same pooling on torch tensors (used while distilling)."""
    import torch

    m = mask.unsqueeze(-1).to(last_hidden.dtype)
    pooled = (last_hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, dim=-1) if normalize else pooled
