"""Settings of a decoder compress build: held-out windows, calibration, recovery, latency, GPU formats.

The defaults aim at ``leanserve compress examples/smollm2/leanserve.yaml`` (SmolLM2-135M, four variants)
in about four minutes on an idle 2-core CPU: 12 held-out windows of 128 tokens (1,524 scored tokens),
16 calibration windows for GPTQ (8 of them score layers for pruning), 16 recovery steps of 4 windows
of 64 tokens, latency at a 128-token prompt with 8 decode steps at batch 1 and 4, two timed rounds
(onnxruntime without spinning threads, as the CPU package serves). ``quick()`` is for tests.
The time goes to two ONNX exports (reference, pruned student), two GPTQ passes and the recovery.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from toolkit.compress.decoder.latency import DecoderLatencySettings


@dataclass
class DecoderSettings:
    context: int = 128  # tokens per held-out / calibration / training window
    eval_windows: int = 12
    calibration_windows: int = 16  # GPTQ hessians
    importance_windows: int = 8  # of the calibration windows, to score layers for pruned-layers
    train_context: int = 64  # tokens per recovery window
    train_windows: int = 256  # recovery draws its batches from these
    recovery_steps: int = 16
    recovery_batch: int = 4
    recovery_lr: float = 1e-4
    gptq: bool = True  # calibrated rounding of the int4 weights (False: round to nearest)
    task_check_tokens: int = 24  # longest greedy answer for the spec's task_check pairs
    gpu_samples: int = 32  # llm-compressor calibration windows (w4a16)
    latency: DecoderLatencySettings = field(default_factory=lambda: DecoderLatencySettings(
        prompt_tokens=128, decode_tokens=8, batches=(1, 4), warmup=1, rounds=2))

    @classmethod
    def quick(cls) -> DecoderSettings:
        return cls(context=32, eval_windows=4, calibration_windows=4, importance_windows=4, train_context=32, train_windows=16, recovery_steps=4, recovery_batch=2,
                   task_check_tokens=8, gpu_samples=8,
                   latency=DecoderLatencySettings(prompt_tokens=16, decode_tokens=2, batches=(1, 2), warmup=0, rounds=1, pause_s=0.0))
