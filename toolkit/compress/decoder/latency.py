"""In-process CPU latency of decoder variants: prefill (TTFT without queueing) and decode per token.

For each runner (``OnnxDecoder`` / ``TorchDecoder``) and each batch size B:
- prefill: one forward over a B × P-token prompt (random token ids), ms;
- decode: after that prefill, ``decode_tokens`` single-token steps for all B sequences; ms per step
  (= per generated token of each sequence: inter-token latency), and tokens/s = B / step time.
Runners are timed round-robin, like the encoder latency: each round runs every runner once per
shape, so load from elsewhere on the machine hits them all alike and the speed-up ratios stay fair.
p50 is over all timed rounds. Threads are fixed for torch and onnxruntime alike.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field


@dataclass
class DecoderLatencySettings:
    prompt_tokens: int = 128
    decode_tokens: int = 32  # timed decode steps after each prefill
    batches: tuple[int, ...] = (1, 8)
    warmup: int = 1  # untimed rounds
    rounds: int = 3  # timed rounds
    pause_s: float = 0.1  # idle time before each timed run: a spinning onnxruntime pool goes to sleep


@dataclass
class DecoderLatency:
    """One runner's figures; ``*_ms`` are p50 over rounds."""

    prefill_ms: dict[int, float] = field(default_factory=dict)  # batch -> ms for the whole prompt
    decode_ms_per_token: dict[int, float] = field(default_factory=dict)  # batch -> ms per decode step
    tokens_per_s: dict[int, float] = field(default_factory=dict)  # batch -> generated tokens/s (all sequences)
    prompt_tokens: int = 0
    decode_tokens: int = 0
    threads: int = 0
    where: str = ""

    @property
    def ttft_ms(self) -> float:
        """Prefill at batch 1: time to first token without queueing."""
        return self.prefill_ms.get(1, next(iter(self.prefill_ms.values()), 0.0))

    def to_dict(self) -> dict:
        return asdict(self)


def cpu_isa() -> str:
    """The CPU features int8/int4 kernels depend on, e.g. 'AVX-512 VNNI + AMX' or 'AVX2'."""
    try:
        flags = set()
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
    except OSError:
        return "unknown"
    parts = []
    if "avx512_vnni" in flags:
        parts.append("AVX-512 VNNI")
    elif "avx512f" in flags:
        parts.append("AVX-512")
    elif "avx2" in flags:
        parts.append("AVX2")
    if "amx_int8" in flags or "amx_tile" in flags:
        parts.append("AMX")
    return " + ".join(parts) or "no AVX2"


def _one(runner, prompt, tokens, steps: int) -> tuple[float, float]:
    t0 = time.perf_counter()
    state = runner.prefill(prompt)
    t1 = time.perf_counter()
    for _ in range(steps):
        state = runner.step(state, tokens)
    t2 = time.perf_counter()
    return (t1 - t0) * 1000, (t2 - t1) * 1000 / max(1, steps)


def measure_decoders(runners: dict, vocab_size: int, settings: DecoderLatencySettings | None = None, *,
                     threads: int = 2, on_round=None, seed: int = 0) -> dict[str, DecoderLatency]:
    """Time every runner at every batch size, interleaved. Returns {name: DecoderLatency}."""
    import numpy as np

    from toolkit.compress.decoder.runtime import torch_threads

    s = settings or DecoderLatencySettings()
    rng = np.random.default_rng(seed)
    lo = 100 if vocab_size > 1000 else 3
    where = f"in-process, {threads} threads, {cpu_isa()}"
    times = {(n, b): ([], []) for n in runners for b in s.batches}
    with torch_threads(threads):
        for b in s.batches:
            prompt = rng.integers(lo, vocab_size, size=(b, s.prompt_tokens), dtype=np.int64)
            tokens = rng.integers(lo, vocab_size, size=(b,), dtype=np.int64)
            for r in range(s.warmup + s.rounds):
                for name, runner in runners.items():
                    time.sleep(s.pause_s)
                    pre, dec = _one(runner, prompt, tokens, s.decode_tokens)
                    if r >= s.warmup:
                        times[(name, b)][0].append(pre)
                        times[(name, b)][1].append(dec)
                if on_round:
                    on_round()
    out = {}
    for name in runners:
        lat = DecoderLatency(prompt_tokens=s.prompt_tokens, decode_tokens=s.decode_tokens, threads=threads,
                             where=f"{getattr(runners[name], 'label', name)}, {where}")
        for b in s.batches:
            pre, dec = times[(name, b)]
            lat.prefill_ms[b] = round(float(np.median(pre)), 3)
            lat.decode_ms_per_token[b] = round(float(np.median(dec)), 3)
            lat.tokens_per_s[b] = round(b * 1000.0 / lat.decode_ms_per_token[b], 2)
        out[name] = lat
    return out
