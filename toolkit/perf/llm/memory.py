"""Memory feasibility of one engine replica: weights + activation reserve + KV cache within the GPU budget.

Per GPU of a tensor-parallel group (vLLM's accounting):

    gpu_memory_utilization x usable memory >= weights / tp + reserve + KV pool

The KV pool is what is left; it holds ``kv_tokens`` tokens in 16-token blocks, which bounds how many
sequences of a given context run at once (the KV limit on concurrency), together with
``max_num_seqs``. The reserve is the activation peak of a profiling step of ``max_num_batched_tokens``
tokens plus the sampler's logits and a fixed part for CUDA graphs and the CUDA context:

    reserve = 0.25 GiB + max_num_batched_tokens x (2 x intermediate + 4 x hidden) x 2 B / tp
                       + max_num_seqs x vocab x 4 B / tp

Check: Qwen2-7B bf16 on an A100-80GB (79.2 GiB visible) at utilisation 0.5 gives 24.8 GiB of KV and at
0.25 gives 5.0 GiB; vLLM 0.10.1 logged 24.83 and 5.01 GiB (dennislee22/vLLM-benchmarking, logs/).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from toolkit.perf.llm.architectures import Architecture, architecture
from toolkit.perf.llm.formats import ModelFormat, model_format
from toolkit.perf.llm.hardware import Device

GIB = 2**30
BLOCK_SIZE = 16
RESERVE_BASE_GIB = 0.25
TP_DEGREES = (1, 2, 4, 8)


@dataclass(frozen=True)
class MemoryPlan:
    """How one replica's GPU memory is spent (per GPU, GiB) and what concurrency the KV pool allows."""

    device: str
    tp: int
    fmt: str
    budget_gib: float  #: gpu_memory_utilization x usable memory, per GPU
    weights_gib: float
    reserve_gib: float
    kv_pool_gib: float  #: may be negative: the model does not fit
    kv_tokens: int  #: tokens the KV pool holds (whole replica)
    kv_bytes_per_token_per_gpu: float
    seq_tokens: int  #: context one sequence needs (prompt + output) for the concurrency bound
    max_num_seqs: int
    kind: str = "gpu"  #: gpu | cpu (figures are per GPU, or for the whole host)

    @property
    def per(self) -> str:
        return "per GPU" if self.kind == "gpu" else "on the host"

    @property
    def fits(self) -> bool:
        """Weights and reserve fit and at least one sequence of ``seq_tokens`` fits in the KV pool."""
        return self.kv_tokens >= self.seq_tokens > 0

    @property
    def kv_limit_seqs(self) -> int:
        """Sequences of ``seq_tokens`` the KV pool holds at once."""
        return self.kv_tokens // max(1, _blocks(self.seq_tokens) * BLOCK_SIZE)

    @property
    def max_concurrency(self) -> int:
        """Concurrent sequences: the lesser of the KV limit and max_num_seqs."""
        return min(self.kv_limit_seqs, self.max_num_seqs)

    @property
    def need_gib(self) -> float:
        """Per-GPU memory the replica needs for one sequence of ``seq_tokens``, before the utilisation factor."""
        return self.weights_gib + self.reserve_gib + self.seq_tokens * self.kv_bytes_per_token_per_gpu / GIB

    def kv_gib(self, tokens: float) -> float:
        """Per-GPU GiB of ``tokens`` cached tokens."""
        return tokens * self.kv_bytes_per_token_per_gpu / GIB

    def headroom_gib(self, kv_tokens_used: float) -> float:
        """Per-GPU memory left in the budget when ``kv_tokens_used`` tokens are cached."""
        return self.budget_gib - self.weights_gib - self.reserve_gib - self.kv_gib(kv_tokens_used)

    def describe(self) -> str:
        tp = f" x{self.tp} (TP)" if self.tp > 1 else ""
        if not self.fits:
            return (f"{self.fmt} on {self.device}{tp}: needs {self.need_gib:.1f} GiB {self.per} (weights {self.weights_gib:.1f}, "
                    f"reserve {self.reserve_gib:.1f}, one {self.seq_tokens}-token sequence {self.kv_gib(self.seq_tokens):.2f}); "
                    f"budget {self.budget_gib:.1f} GiB")
        return (f"{self.fmt} on {self.device}{tp}: weights {self.weights_gib:.1f} + reserve {self.reserve_gib:.1f} + KV pool "
                f"{self.kv_pool_gib:.1f} GiB {self.per} = {self.kv_tokens:,} tokens = {self.kv_limit_seqs} sequences of {self.seq_tokens} "
                f"(max_num_seqs {self.max_num_seqs})")


def _blocks(tokens: float) -> int:
    return math.ceil(tokens / BLOCK_SIZE)


def activation_reserve_gib(arch: Architecture, tp: int = 1, max_num_batched_tokens: int = 2048, max_num_seqs: int = 256) -> float:
    """Non-KV, non-weight memory per GPU: profiling-step activations, logits, CUDA graphs and context."""
    act = max_num_batched_tokens * (2 * arch.intermediate + 4 * arch.hidden) * 2.0 / tp
    logits = max_num_seqs * arch.vocab * 4.0 / tp
    return RESERVE_BASE_GIB + (act + logits) / GIB


def plan_memory(arch: Architecture | str, fmt: ModelFormat | str, device: Device, tp: int = 1, *,
                gpu_memory_utilization: float = 0.9, seq_tokens: int = 4096, max_num_seqs: int = 256,
                max_num_batched_tokens: int = 2048, kv_cache_gib: float | None = None) -> MemoryPlan:
    """The memory plan of one replica; ``kv_cache_gib`` overrides the computed pool (a measured engine log)."""
    arch, fmt = architecture(arch), model_format(fmt)
    tp = max(1, int(tp))
    kv_heads_per_gpu = math.ceil(arch.kv_heads / tp)
    kv_tok = 2.0 * arch.layers * kv_heads_per_gpu * arch.head_dim * fmt.kv_bytes
    budget = device.usable_memory_gib * gpu_memory_utilization
    reserve = activation_reserve_gib(arch, tp, max_num_batched_tokens, max_num_seqs)
    weights = arch.weight_bytes(fmt) / tp / GIB
    pool = (budget - weights - reserve) if kv_cache_gib is None else kv_cache_gib
    tokens = max(0, int(pool * GIB // kv_tok) // BLOCK_SIZE * BLOCK_SIZE) if pool > 0 else 0
    return MemoryPlan(device.name, tp, fmt.name, budget, weights, reserve, pool, tokens, kv_tok, int(seq_tokens), int(max_num_seqs),
                      device.kind)


def tp_degrees(arch: Architecture | str, device: Device) -> list[int]:
    """TP degrees vLLM accepts for ``arch`` on ``device``: powers of two up to its GPU count that divide the heads."""
    arch = architecture(arch)
    if device.kind == "cpu":
        return [1]
    out = []
    for tp in TP_DEGREES:
        if tp > device.count or arch.heads % tp:
            continue
        if arch.kv_heads % tp and tp % arch.kv_heads:
            continue
        out.append(tp)
    return out


def smallest_fit(arch: Architecture | str, fmt: ModelFormat | str, device: Device, **kw) -> MemoryPlan | None:
    """The plan at the smallest TP degree that fits, or None."""
    for tp in tp_degrees(arch, device):
        plan = plan_memory(arch, fmt, device, tp, **kw)
        if plan.fits:
            return plan
    return None


def fit_message(arch: Architecture | str, fmt: ModelFormat | str, devices: list[Device], **kw) -> str:
    """One line for a model that fits none of ``devices``: how much it needs and which devices would do."""
    arch, fmt = architecture(arch), model_format(fmt)
    one = plan_memory(arch, fmt, devices[0], 1, **kw) if devices else None
    total = (arch.weight_bytes(fmt) / GIB + (one.reserve_gib if one else 0.0)
             + (one.kv_gib(one.seq_tokens) if one else 0.0))
    fitting = []
    for d in devices:
        plan = smallest_fit(arch, fmt, d, **kw)
        if plan:
            fitting.append(f"{d.name} (TP={plan.tp})")
    tail = f"; fits {', '.join(fitting[:4])}" if fitting else ""
    return (f"{arch.name} {fmt.name} fits no single accelerator: needs {total:.1f} GiB "
            f"(weights {arch.weight_bytes(fmt) / GIB:.1f} GiB + reserve + KV for one {kw.get('seq_tokens', 4096)}-token sequence){tail}")
