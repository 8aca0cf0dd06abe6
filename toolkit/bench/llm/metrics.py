"""Token-level metrics of one load point, and goodput against the SLA. Tools disagree; these are leanserve's:

- A **token event** is a streamed response that carries generated output: a Triton ``text_output`` response
  (one per token from both the vLLM backend and the CPU package, possibly with empty text while a
  multi-byte character is incomplete), or an OpenAI-compatible chunk whose ``text`` / ``delta.content`` is
  not empty. Usage-only and role-only chunks are not token events.
- **Start** of a request: when it was sent (closed loop), or when it was *scheduled* to arrive (open loop), so
  time spent waiting in a saturated load generator counts against the target, not in its favour.
- **TTFT**: start → the first token event. **e2e**: start → the end of the stream (its final response).
- **ITL** (inter-token latency): the gap between two consecutive token events of one request; the
  distribution pools the gaps of all requests (token-weighted, as vLLM's benchmark_serving and the
  performance model count it). A chunk that carries several tokens contributes one gap (it is not split).
- **TPOT** (time per output token): per request, (e2e - TTFT) / (output tokens - 1); its distribution is over
  requests (so a long answer weighs as much as a short one). Output tokens are the server's own count
  (OpenAI ``usage.completion_tokens``) when it reports one, else the number of token events.
- **output tokens/s**: output tokens of completed requests / the point's duration; **requests/s**: completed
  requests / duration; duration: from the first measured request's start to the last one's end.
- **goodput**: completed requests/s that met every SLA constraint, each judged on the request itself: ``ttft``
  and ``tpot`` against its own value, ``latency`` / ``e2e`` against its e2e, ``itl`` against the constraint's
  percentile of its own gaps (its maximum without a percentile; met when it has no gap).
- **errors**: requests refused (HTTP or gRPC error), error events, streams cut short (connection closed
  before the final response or ``[DONE]``), timeouts, and streams that ended with no token: never counted
  as fast requests. **lost**: sent but neither finished nor failed by the end of the drain.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from toolkit.sla import QUANTILE


@dataclass
class RequestRecord:
    start: float  # perf_counter: sent (closed loop) or scheduled (open loop)
    prompt_tokens: int
    max_tokens: int
    token_times: list[float] = field(default_factory=list)
    end: float | None = None
    server_tokens: int | None = None  # the server's own count, when it reported one
    error: str | None = None
    answered: bool = False  # the server answered (an error, or a stream it cut short): it is up, unlike a refused connection

    @property
    def ok(self) -> bool:
        return self.error is None and self.end is not None

    @property
    def output_tokens(self) -> int:
        return self.server_tokens if self.server_tokens is not None else len(self.token_times)

    @property
    def ttft(self) -> float | None:
        return self.token_times[0] - self.start if self.token_times else None

    @property
    def e2e(self) -> float | None:
        return self.end - self.start if self.end is not None else None

    @property
    def itls(self) -> np.ndarray:
        return np.diff(np.asarray(self.token_times, dtype=float)) if len(self.token_times) > 1 else np.empty(0)

    @property
    def tpot(self) -> float | None:
        n = self.output_tokens
        if not self.ok or n < 2 or self.ttft is None:
            return None
        return (self.e2e - self.ttft) / (n - 1)


def distribution(values_s, scale: float = 1e3) -> dict:
    """Summary (``Distribution`` fields) of values times ``scale``: seconds to ms by default; 1 for token counts."""
    arr = np.asarray(list(values_s), dtype=float) * scale
    if arr.size == 0:
        return {"samples": 0}
    pct = np.percentile(arr, [50, 90, 95, 99])
    return {"mean": round(float(arr.mean()), 3), "p50": round(float(pct[0]), 3), "p90": round(float(pct[1]), 3),
            "p95": round(float(pct[2]), 3), "p99": round(float(pct[3]), 3), "samples": int(arr.size)}


def request_value_ms(rec: RequestRecord, metric: str, percentile: str | None) -> float | None:
    """The request's own value of an SLA metric, in ms (None: not defined for it, e.g. ITL of a one-token answer)."""
    if metric == "ttft":
        v = rec.ttft
    elif metric in ("latency", "e2e"):
        v = rec.e2e
    elif metric == "tpot":
        v = rec.tpot
    elif metric == "itl":
        gaps = rec.itls
        if gaps.size == 0:
            return None
        v = float(np.quantile(gaps, QUANTILE[percentile])) if percentile else float(gaps.max())
    else:
        return None
    return None if v is None else v * 1e3


def meets(rec: RequestRecord, constraints) -> bool:
    """Whether a completed request met every constraint (a value the request does not have is met)."""
    if not rec.ok:
        return False
    for c in constraints:
        v = request_value_ms(rec, c.metric, c.percentile)
        if v is not None and v > c.limit:
            return False
    return True


def summarise(records: list[RequestRecord], *, mode: str, concurrency: int | None, target_rps: float | None,
              constraints, lost: int = 0, sent: int | None = None, window: tuple[float, float] | None = None) -> dict:
    """The fields of a ``TokenLoadPoint`` for the measured ``records``. The duration runs from the measured
    window's start to its end or the last measured request's end, whichever is later (without a window:
    from the first request's start)."""
    done = [r for r in records if r.ok]
    failed = [r for r in records if r.error is not None]
    starts = [r.start for r in records]
    ends = [r.end for r in done] + [r.start for r in failed]
    first = window[0] if window else (min(starts) if starts else 0.0)
    last = max([window[1] if window else first] + ends)
    duration = max(1e-6, last - first)
    out_tokens = sum(r.output_tokens for r in done)
    examples: list[str] = []
    for r in failed:
        if r.error not in examples and len(examples) < 5:
            examples.append(r.error)
    good = sum(1 for r in done if meets(r, constraints)) if constraints else None
    return {
        "mode": mode, "concurrency": concurrency, "target_rps": target_rps, "duration_s": round(duration, 4),
        "sent": len(records) if sent is None else sent, "completed": len(done), "errors": len(failed), "lost": lost,
        "ttft_ms": distribution(r.ttft for r in done if r.ttft is not None),
        "itl_ms": distribution(np.concatenate([r.itls for r in done]) if done else []),
        "tpot_ms": distribution(r.tpot for r in done if r.tpot is not None),
        "e2e_ms": distribution(r.e2e for r in done),
        "requests_per_s": round(len(done) / duration, 4),
        "output_tokens_per_s": round(out_tokens / duration, 3),
        "input_tokens_per_s": round(sum(r.prompt_tokens for r in done) / duration, 3),
        "goodput_rps": None if good is None else round(good / duration, 4),
        "output_tokens_mean": round(out_tokens / len(done), 3) if done else None,
        "short_outputs": sum(1 for r in done if r.output_tokens < r.max_tokens),
        "error_examples": examples,
    }
