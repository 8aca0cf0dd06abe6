"""In-process latency of a variant at fixed input shapes (batch × tokens), at a stated thread count."""

from __future__ import annotations

import time
from dataclasses import dataclass

SHAPES = ((1, 32), (8, 128))


@dataclass
class LatencySettings:
    warmup: int = 3
    runs: int = 30  # most timed runs per shape
    min_runs: int = 5
    budget_s: float = 4.0  # stop after this much timed work per shape once min_runs are done


def synthetic_feeds(input_names: list[str], batch: int, seq: int, vocab_size: int, seed: int = 0) -> dict:
    """Token ids drawn at random (no padding), all-ones mask, zero token types."""
    import numpy as np

    rng = np.random.default_rng(seed)
    feeds = {"input_ids": rng.integers(1000 if vocab_size > 2000 else 5, vocab_size, size=(batch, seq), dtype=np.int64),
             "attention_mask": np.ones((batch, seq), dtype=np.int64),
             "token_type_ids": np.zeros((batch, seq), dtype=np.int64)}
    return {n: feeds[n] for n in input_names}


def time_fn(fn, settings: LatencySettings) -> tuple[float, float, int]:
    """Return (p50_ms, p95_ms, runs) of calling ``fn()``."""
    import numpy as np

    for _ in range(settings.warmup):
        fn()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < settings.runs:
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
        if len(times) >= settings.min_runs and time.perf_counter() - start > settings.budget_s:
            break
    arr = np.asarray(times)
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 95)), len(times)


def onnx_latency(model_file, threads: int, vocab_size: int, settings: LatencySettings, shapes=SHAPES, where: str = "") -> list:
    from toolkit.artifacts.common import Measured
    from toolkit.artifacts.variants import LatencyPoint
    from toolkit.compress.runtime import make_session

    sess = make_session(model_file, threads)
    names = [i.name for i in sess.get_inputs()]
    out = []
    for batch, seq in shapes:
        feeds = synthetic_feeds(names, batch, seq, vocab_size)
        p50, p95, _ = time_fn(lambda: sess.run(None, feeds), settings)
        out.append(LatencyPoint(batch=batch, seq_len=seq, threads=threads, p50_ms=round(p50, 3), p95_ms=round(p95, 3),
                                items_per_s=round(batch / (p50 / 1000), 1), provenance=Measured(where=f"onnxruntime CPU, {where}")))
    return out


def torch_latency(model, input_names: list[str], threads: int, vocab_size: int, settings: LatencySettings, shapes=SHAPES, where: str = "") -> list:
    import torch

    from toolkit.artifacts.common import Measured
    from toolkit.artifacts.variants import LatencyPoint

    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    out = []
    try:
        for batch, seq in shapes:
            feeds = {k: torch.from_numpy(v) for k, v in synthetic_feeds(input_names, batch, seq, vocab_size).items()}

            def run():
                with torch.inference_mode():
                    model(**feeds)

            p50, p95, _ = time_fn(run, settings)
            out.append(LatencyPoint(batch=batch, seq_len=seq, threads=threads, p50_ms=round(p50, 3), p95_ms=round(p95, 3),
                                    items_per_s=round(batch / (p50 / 1000), 1), provenance=Measured(where=f"torch fp32 CPU, {where}")))
    finally:
        torch.set_num_threads(old)
    return out
