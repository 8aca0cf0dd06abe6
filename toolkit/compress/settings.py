"""Settings of a compress build: text limits, latency rounds, student training, threads, caches.

Kept apart from :mod:`toolkit.compress.build` (the entry point) and :mod:`toolkit.compress.pipeline`
(the work), which both read them, so neither imports the other's module to get them.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.compress.decoder.settings import DecoderSettings
from toolkit.compress.latency import LatencySettings
from toolkit.compress.texts import TextLimits


@dataclass
class DistillSettings:
    """Student training. Defaults were tuned on MiniLM on a 2-core CPU (see docs/compress.md)."""

    max_steps: int = 400
    batch_size: int = 32
    learning_rate: float = 5e-4  # peak; linear warm-up over 5% of the steps, then linear decay to 10%
    seq_len: int = 64  # tokens per training example (tweets rarely exceed it)
    eval_every: int = 50  # steps between validation checks (and checkpoints)
    patience: int = 3  # validation checks without improvement before stopping
    min_delta: float = 1e-3  # smallest drop in validation loss (2 - 2·cos) that counts as improvement
    validation_examples: int = 256
    recovery_steps: int = 100  # pruned-heads: recovery distillation after pruning
    importance_examples: int = 32  # pruned-heads: texts used to score heads (one ablation pass per head)


@dataclass
class BuildSettings:
    texts: TextLimits = field(default_factory=TextLimits)
    latency: LatencySettings = field(default_factory=LatencySettings)
    distill: DistillSettings = field(default_factory=DistillSettings)
    eval_batch_size: int = 32
    threads: int | None = None  # default: the spec's compression.threads, else all cores
    cache_dir: Path | None = None  # distillation checkpoints; default OUT/.leanserve-cache
    measure_latency: bool = True
    decoder: DecoderSettings = field(default_factory=DecoderSettings)  # text-generation builds

    @classmethod
    def quick(cls) -> "BuildSettings":
        """Small numbers for tests and smoke runs (seconds, not minutes)."""
        return cls(
            texts=TextLimits(eval_examples=64, probe_train=120, probe_test=60, distill_examples=96, calibration_examples=16),
            latency=LatencySettings(warmup=1, rounds=1, runs_per_round=2),
            distill=DistillSettings(max_steps=20, batch_size=16, eval_every=10, patience=2, validation_examples=32,
                                    recovery_steps=10, importance_examples=16, seq_len=32),
            decoder=DecoderSettings.quick(),
        )


def default_threads(spec_threads: int | None) -> int:
    return spec_threads or os.cpu_count() or 1


def new_workdir(parent: Path) -> Path:
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=".leanserve-work-", dir=parent))
