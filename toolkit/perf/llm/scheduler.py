"""A small discrete-event simulator of a vLLM-like continuous-batching scheduler.

Policy (vLLM V1 with chunked prefill; V0-style "prefill first" with ``chunked_prefill=False``):

- Admission, first come first served: a waiting request is admitted when fewer than
  ``max_num_seqs`` sequences are running and the free KV blocks (less a 1% watermark) hold its whole
  prompt. Its KV grows by one token per generated token.
- Chunked prefill: every step carries one token for each decoding sequence, then fills the rest of
  the ``max_num_batched_tokens`` budget with prompt chunks (partially prefilled requests first).
  Prefill first: a step runs only new prompts (up to the budget, at least one) and decodes wait.
- When a decode step would not find a free block, the most recently admitted sequence is preempted
  (its KV is freed; it is re-prefilled from its prompt plus the tokens generated so far).
- Step durations come from :class:`toolkit.perf.llm.step_time.StepModel`. Between events (an
  arrival that could be admitted, a completion, a full KV pool) the batch is constant, so a run of
  decode steps is computed at once (numpy): the loop runs per event, not per token.

Metrics (all per request unless said otherwise):

- TTFT: from arrival to the end of the step that produces the request's first output token
  (queueing + prefill; no network or detokenization).
- ITL (inter-token latency): the time between two consecutive output tokens of one request,
  pooled over all tokens of all requests (token-weighted), as vLLM's benchmark_serving reports it.
  A token that waited behind a prefill step or a preemption counts the whole wait.
- TPOT (time per output token): per request, (e2e - TTFT) / (output_tokens - 1): the mean ITL of one
  request; its percentiles are over requests.
- e2e: from arrival to the last token.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from toolkit.errors import InputError
from toolkit.perf.llm.step_time import StepModel

METRICS = ("ttft", "itl", "tpot", "e2e")


@dataclass(frozen=True)
class EngineConfig:
    """The engine limits the simulation applies (vLLM engine arguments)."""

    kv_tokens: int  #: tokens the KV pool holds (:class:`toolkit.perf.llm.memory.MemoryPlan`)
    max_num_seqs: int = 256
    max_num_batched_tokens: int = 2048
    chunked_prefill: bool = True
    block_size: int = 16
    watermark: float = 0.01

    def __post_init__(self):
        if self.max_num_seqs < 1 or self.max_num_batched_tokens < 1:
            raise InputError("max_num_seqs and max_num_batched_tokens must be >= 1", hint="use vLLM's defaults (256, 2048)")
        if self.chunked_prefill and self.max_num_batched_tokens < self.max_num_seqs:
            raise InputError(f"max_num_batched_tokens ({self.max_num_batched_tokens}) < max_num_seqs ({self.max_num_seqs})",
                             hint="with chunked prefill every running sequence needs one token of the step budget")


@dataclass(frozen=True)
class SimResult:
    """What one simulated run measured. Times in seconds; :meth:`percentile` answers in ms."""

    arrival: np.ndarray
    ttft: np.ndarray  #: inf for a request that could never be admitted
    e2e: np.ndarray
    output: np.ndarray
    itl_values: np.ndarray
    itl_weights: np.ndarray
    itl_times: np.ndarray  #: when each ITL sample's token was produced (s)
    duration: float
    peak_running: int
    peak_kv_tokens: float
    preemptions: int
    steps: int

    def window(self, t0: float, t1: float) -> SimResult:
        """Only requests arriving in [t0, t1] and tokens produced in [t0, t1]: the steady state between warm-up and drain."""
        keep = (self.arrival >= t0) & (self.arrival <= t1)
        tok = (self.itl_times >= t0) & (self.itl_times <= t1)
        return SimResult(self.arrival[keep], self.ttft[keep], self.e2e[keep], self.output[keep], self.itl_values[tok],
                         self.itl_weights[tok], self.itl_times[tok], self.duration, self.peak_running, self.peak_kv_tokens,
                         self.preemptions, self.steps)

    @property
    def tpot(self) -> np.ndarray:
        many = self.output > 1
        return (self.e2e[many] - self.ttft[many]) / (self.output[many] - 1)

    @property
    def completed(self) -> int:
        return int(np.isfinite(self.e2e).sum())

    @property
    def output_tokens_per_s(self) -> float:
        return float(self.output.sum() / self.duration) if self.duration > 0 else 0.0

    def _values(self, metric: str) -> tuple[np.ndarray, np.ndarray | None]:
        if metric == "itl":
            return self.itl_values, self.itl_weights
        if metric in ("ttft", "e2e"):
            return getattr(self, metric), None
        if metric == "tpot":
            return self.tpot, None
        raise InputError(f"unknown LLM metric '{metric}'", hint=f"use one of: {', '.join(METRICS)}")

    def percentile(self, metric: str, q: float) -> float:
        """The ``q`` quantile (0..1) of ``metric`` in ms (token-weighted for ITL)."""
        values, weights = self._values(metric)
        if len(values) == 0:
            return 0.0
        return 1e3 * weighted_quantile(values, q, weights)

    def mean(self, metric: str) -> float:
        values, weights = self._values(metric)
        if len(values) == 0:
            return 0.0
        return 1e3 * float(np.average(values, weights=weights))


def weighted_quantile(values: np.ndarray, q: float, weights: np.ndarray | None = None) -> float:
    """The smallest value whose cumulative weight reaches ``q`` of the total (inverted CDF)."""
    values = np.asarray(values, dtype=float)
    if weights is None:
        return float(np.quantile(values, q, method="inverted_cdf"))
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(np.asarray(weights, dtype=float)[order])
    idx = int(np.searchsorted(cum, q * cum[-1], side="left"))
    return float(values[order][min(idx, len(values) - 1)])


def simulate(step: StepModel, prompt, output, config: EngineConfig, arrivals=None, concurrency: int | None = None) -> SimResult:
    """Run the requests through the scheduler; ``arrivals`` (s, sorted) or a closed loop of ``concurrency`` clients.

    With neither, every request arrives at time 0 (an offline batch, vLLM's request rate ``inf``).
    """
    P = [int(x) for x in prompt]
    O = [max(1, int(x)) for x in output]
    n = len(P)
    if concurrency is not None:
        released = min(int(concurrency), n)
        arr = [0.0] * released + [math.inf] * (n - released)
    else:
        released = n
        arr = [0.0] * n if arrivals is None else [float(a) for a in arrivals]
    cap = float(config.kv_tokens)
    half_block = config.block_size / 2.0
    reserve = config.watermark * cap
    budget_tokens = config.max_num_batched_tokens
    max_seqs = config.max_num_seqs

    first = [math.inf] * n
    finish = [math.inf] * n
    resume_prompt = [0] * n  # tokens to re-prefill after a preemption (0: a fresh request)
    resume_rem = [0] * n
    resume_last = [0.0] * n
    waiting: deque[int] = deque()
    prefilling: list[list] = []  # [rid, done, total]
    r_id = np.empty(0, dtype=np.int64)
    r_rem = np.empty(0, dtype=np.int64)
    r_ctx = np.empty(0, dtype=float)
    r_last = np.empty(0, dtype=float)
    itl_v: list[np.ndarray] = []
    itl_w: list[np.ndarray] = []
    itl_t: list[np.ndarray] = []
    kv_used = 0.0
    peak_running = 0
    peak_kv = 0.0
    preemptions = 0
    steps = 0
    next_arr = 0
    t = 0.0

    def admissible(rid: int, seqs: int) -> bool:
        need = resume_prompt[rid] or P[rid]
        return need <= cap - kv_used - seqs * half_block - reserve or (seqs == 0 and need <= cap)

    def release(now: float):
        """A closed-loop client whose request ended sends the next one."""
        nonlocal released
        if concurrency is not None and released < n:
            arr[released] = now
            released += 1

    def finish_prefill(rid: int, total: int, now: float):
        nonlocal r_id, r_rem, r_ctx, r_last
        if resume_prompt[rid]:
            itl_v.append(np.array([now - resume_last[rid]]))
            itl_w.append(np.ones(1))
            itl_t.append(np.array([now]))
            rem = resume_rem[rid] - 1
            resume_prompt[rid] = 0
        else:
            first[rid] = now
            rem = O[rid] - 1
        if rem <= 0:
            finish[rid] = now
            release(now)
            return total
        r_id = np.append(r_id, rid)
        r_rem = np.append(r_rem, rem)
        r_ctx = np.append(r_ctx, float(total))
        r_last = np.append(r_last, now)
        return 0

    while True:
        while next_arr < released and arr[next_arr] <= t:
            waiting.append(next_arr)
            next_arr += 1
        n_run = len(r_id)
        # ---- a step with prefill work ---------------------------------------------------------
        room = budget_tokens - (n_run if config.chunked_prefill else 0)
        chunks = []  # (entry, chunk)
        for entry in prefilling:
            if room <= 0:
                break
            c = min(entry[2] - entry[1], room)
            chunks.append((entry, c))
            room -= c
        while room > 0 and waiting and n_run + len(prefilling) < max_seqs and admissible(waiting[0], n_run + len(prefilling)):
            if not config.chunked_prefill and chunks and (resume_prompt[waiting[0]] or P[waiting[0]]) > room:
                break
            rid = waiting.popleft()
            total = resume_prompt[rid] or P[rid]
            kv_used += total
            entry = [rid, 0, total]
            prefilling.append(entry)
            c = min(total, room) if config.chunked_prefill or chunks else total
            chunks.append((entry, c))
            room -= c
        if chunks:
            dec = n_run if config.chunked_prefill else 0
            ctx_sum = float(r_ctx.sum()) if dec else 0.0
            new = sum(c for _, c in chunks)
            prefix = sum(e[1] for e, _ in chunks)
            pairs = ctx_sum + sum(c * (e[1] + c / 2.0) for e, c in chunks)
            t += step.step_s(dec + new, ctx_sum + prefix, pairs, dec + len(chunks))
            steps += 1
            if dec:
                itl_v.append(t - r_last)
                itl_w.append(np.ones(dec))
                itl_t.append(np.full(dec, t))
                r_last[:] = t
                r_rem -= 1
                r_ctx += 1.0
                kv_used += dec
            for entry, c in chunks:
                entry[1] += c
            done = [e for e in prefilling if e[1] >= e[2]]
            prefilling = [e for e in prefilling if e[1] < e[2]]
            for e in done:
                kv_used -= finish_prefill(e[0], e[2], t)
        elif n_run:
            # ---- a run of decode-only steps until the next event ------------------------------
            free = cap - kv_used - n_run * half_block
            k_kv = int(free // n_run)
            if k_kv <= 0:
                last = n_run - 1  # preempt the most recently admitted sequence
                rid = int(r_id[last])
                if n_run == 1 and not prefilling:  # alone and still out of blocks: it can never finish
                    kv_used -= r_ctx[last]
                    r_id, r_rem, r_ctx, r_last = r_id[:0], r_rem[:0], r_ctx[:0], r_last[:0]
                    release(t)
                    continue
                resume_prompt[rid] = int(r_ctx[last])
                resume_rem[rid] = int(r_rem[last])
                resume_last[rid] = float(r_last[last])
                kv_used -= r_ctx[last]
                r_id, r_rem, r_ctx, r_last = r_id[:last], r_rem[:last], r_ctx[:last], r_last[:last]
                waiting.appendleft(rid)
                preemptions += 1
                continue
            k_max = min(int(r_rem.min()), k_kv)
            durations = step.decode_span_s(n_run, float(r_ctx.sum()), k_max)
            cum = np.cumsum(durations)
            k = k_max
            if next_arr < released and n_run + len(prefilling) < max_seqs:
                k = min(k_max, int(np.searchsorted(cum, arr[next_arr] - t, side="left")) + 1)
            itl_v.append(t + durations[0] - r_last)
            itl_w.append(np.ones(n_run))
            itl_t.append(np.full(n_run, t + durations[0]))
            if k > 1:
                itl_v.append(durations[1:k])
                itl_w.append(np.full(k - 1, float(n_run)))
                itl_t.append(t + cum[1:k])
            t = t + float(cum[k - 1])
            steps += k
            r_rem -= k
            r_ctx += k
            kv_used += n_run * k
            r_last[:] = t
        else:
            if next_arr < released:
                t = max(t, arr[next_arr])
                continue
            if waiting:  # nothing runs and the next request still does not fit: it never will (ttft = inf)
                waiting.popleft()
                release(t)
                continue
            break
        peak_running = max(peak_running, len(r_id))
        peak_kv = max(peak_kv, kv_used)
        if len(r_id) and r_rem.min() <= 0:
            done = r_rem <= 0
            for rid in r_id[done]:
                finish[int(rid)] = t
                release(t)
            kv_used -= float(r_ctx[done].sum())
            keep = ~done
            r_id, r_rem, r_ctx, r_last = r_id[keep], r_rem[keep], r_ctx[keep], r_last[keep]

    arrival = np.asarray(arr, dtype=float)
    first_a = np.asarray(first)
    finish_a = np.asarray(finish)
    values = np.concatenate(itl_v) if itl_v else np.empty(0)
    weights = np.concatenate(itl_w) if itl_w else np.empty(0)
    times = np.concatenate(itl_t) if itl_t else np.empty(0)
    end = float(finish_a[np.isfinite(finish_a)].max()) if np.isfinite(finish_a).any() else t
    return SimResult(arrival, first_a - arrival, finish_a - arrival, np.asarray(O), values, weights, times,
                     end - float(arrival.min(initial=0.0)), peak_running, peak_kv, preemptions, steps)
