"""In-process latency of variants at fixed input shapes (batch × tokens), at a stated thread count.

All variants (and the torch fp32 reference) are timed together, round-robin: each round runs every
variant a few times at one shape, so a burst of load from something else on the machine hits them
all alike and the speed-up ratios stay fair. p50/p95 are over all timed runs of all rounds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

SHAPES = ((1, 32), (8, 128))


@dataclass
class LatencySettings:
    warmup: int = 3  # untimed runs per variant and shape
    rounds: int = 6  # round-robin passes over all variants
    runs_per_round: int = 5  # timed runs per variant per round


def synthetic_feeds(input_names: list[str], batch: int, seq: int, vocab_size: int, seed: int = 0) -> dict:
    """Token ids drawn at random (no padding), all-ones mask, zero token types."""
    import numpy as np

    rng = np.random.default_rng(seed)
    feeds = {"input_ids": rng.integers(1000 if vocab_size > 2000 else 5, vocab_size, size=(batch, seq), dtype=np.int64),
             "attention_mask": np.ones((batch, seq), dtype=np.int64),
             "token_type_ids": np.zeros((batch, seq), dtype=np.int64)}
    return {n: feeds[n] for n in input_names}


class OnnxRunner:
    label = "onnxruntime CPU"

    def __init__(self, model_file, threads: int, vocab_size: int):
        from toolkit.compress.runtime import make_session

        self.session = make_session(model_file, threads)
        self.names = [i.name for i in self.session.get_inputs()]
        self.vocab_size = vocab_size

    def prepare(self, batch: int, seq: int):
        feeds = synthetic_feeds(self.names, batch, seq, self.vocab_size)
        return lambda: self.session.run(None, feeds)


class TorchRunner:
    label = "torch fp32 CPU"

    def __init__(self, model, input_names: list[str], vocab_size: int):
        self.model, self.names, self.vocab_size = model, input_names, vocab_size

    def prepare(self, batch: int, seq: int):
        import torch

        feeds = {k: torch.from_numpy(v) for k, v in synthetic_feeds(self.names, batch, seq, self.vocab_size).items()}

        def run():
            with torch.inference_mode():
                self.model(**feeds)

        return run


def measure(runners: dict, threads: int, settings: LatencySettings, where: str, shapes=SHAPES, on_round=None) -> dict:
    """Time every runner at every shape, interleaved. Returns {name: [LatencyPoint, ...]}."""
    import numpy as np
    import torch

    from toolkit.artifacts.common import Measured
    from toolkit.artifacts.variants import LatencyPoint

    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    times: dict = {(n, s): [] for n in runners for s in shapes}
    try:
        for shape in shapes:
            fns = {n: r.prepare(*shape) for n, r in runners.items()}
            for fn in fns.values():
                for _ in range(settings.warmup):
                    fn()
            for _ in range(settings.rounds):
                for n, fn in fns.items():
                    for _ in range(settings.runs_per_round):
                        t0 = time.perf_counter()
                        fn()
                        times[(n, shape)].append((time.perf_counter() - t0) * 1000)
                if on_round:
                    on_round()
    finally:
        torch.set_num_threads(old)
    out: dict = {n: [] for n in runners}
    for (n, (batch, seq)), ts in times.items():
        arr = np.asarray(ts)
        p50, p95 = float(np.percentile(arr, 50)), float(np.percentile(arr, 95))
        out[n].append(LatencyPoint(
            batch=batch, seq_len=seq, threads=threads, p50_ms=round(p50, 3), p95_ms=round(p95, 3),
            items_per_s=round(batch / (p50 / 1000), 1),
            provenance=Measured(where=f"{runners[n].label}, {where}, {len(ts)} runs interleaved with the other variants"),
        ))
    return out
