"""Load generators of the token-level bench: a closed loop (N workers, each streams its next request when the
last one ended) and an open loop (requests arrive on a schedule, Poisson or constant, whatever the state of
earlier ones; each is timed from its scheduled arrival). Both stop within seconds, raising TargetDown, when
the target stops answering (``AbortPolicy``: only failures for ``window_s``, or the local server exited)."""

from __future__ import annotations

import collections
import queue
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from toolkit.bench.llm.metrics import RequestRecord
from toolkit.bench.load import AbortPolicy, TargetDown
from toolkit.serve.llm.client import StreamError


@dataclass
class PointRun:
    records: list[RequestRecord] = field(default_factory=list)
    sent: int = 0
    lost: int = 0
    window: tuple[float, float] = (0.0, 0.0)  # perf_counter start and end of the measured window


def run_request(client, req, start: float) -> RequestRecord:
    """Stream one request; every failure (refused, error event, cut short, no token) becomes ``rec.error``."""
    rec = RequestRecord(start, req.prompt_tokens, req.max_tokens)
    try:
        for chunk in client.generate(req):
            if chunk.total is not None:
                rec.server_tokens = chunk.total
            else:
                rec.token_times.append(chunk.t)
        if not rec.token_times:
            rec.error, rec.answered = "the stream ended without a token", True
        else:
            rec.end = time.perf_counter()
    except StreamError as exc:
        rec.error = str(exc) or "stream failed"
        rec.answered = exc.answered
    except Exception as exc:  # noqa: BLE001 - a client bug or an odd server must not stop the whole point
        rec.error = f"{type(exc).__name__}: {' '.join(str(exc).split())[:160]}"
    return rec


class _Watch:
    """Shared state of a point's workers: records, the abort rule, the stop flag."""

    def __init__(self, policy: AbortPolicy):
        self.policy = policy
        self.lock = threading.Lock()
        self.recent: collections.deque = collections.deque()
        self.stop = threading.Event()
        self.reason: str | None = None
        self.in_flight = 0

    def done(self, rec: RequestRecord) -> None:
        now = time.perf_counter()
        with self.lock:
            self.recent.append((now, rec.ok or rec.answered))  # an error answer or a cut-short stream: the target is up
            while self.recent and now - self.recent[0][0] > self.policy.window_s:
                self.recent.popleft()
            errs = sum(1 for _, ok in self.recent if not ok)
            if errs == len(self.recent) and errs >= self.policy.min_errors and self.reason is None:
                self.reason = f"{errs} requests failed in the last {self.policy.window_s:.0f} s and none succeeded (last: {rec.error})"
                self.stop.set()

    def worker_failed(self, exc: Exception) -> None:
        """A worker died before it could send (e.g. its client cannot connect): stop the point, keep the first reason."""
        with self.lock:
            if self.reason is None:
                self.reason = f"a worker could not start: {type(exc).__name__}: {exc}"
            self.stop.set()

    def check(self) -> None:
        if self.policy.alive is not None and not self.policy.alive() and self.reason is None:
            self.reason = "the server process exited"
            self.stop.set()

    def wait(self, until: float) -> None:
        while time.perf_counter() < until and not self.stop.is_set():
            self.check()
            self.stop.wait(min(0.2, max(0.001, until - time.perf_counter())))

    def raise_if_aborted(self, label: str) -> None:
        if self.reason:
            raise TargetDown(f"bench aborted at {label}: {self.reason}", hint="the target stopped answering: check that the server is still running")


def closed_loop(target, requests: list, concurrency: int, duration_s: float, *, warmup_s: float = 0.0, timeout_s: float = 60.0,
                policy: AbortPolicy | None = None, label: str = "", max_requests: int | None = None) -> PointRun:
    """``concurrency`` workers stream back-to-back; requests started within ``duration_s`` (after ``warmup_s``) are measured."""
    watch = _Watch(policy or AbortPolicy())
    counter = iter(range(10**12))
    t0 = time.perf_counter() + warmup_s
    t_end = t0 + duration_s
    run = PointRun(window=(t0, t_end))

    def worker() -> None:
        client = None
        try:
            client = target.client()
            while not watch.stop.is_set():
                now = time.perf_counter()
                if now >= t_end:
                    return
                measured = now >= t0
                with watch.lock:
                    i = next(counter)
                    if measured:
                        if max_requests is not None and run.sent >= max_requests:
                            return
                        run.sent += 1
                        watch.in_flight += 1
                rec = run_request(client, requests[i % len(requests)], time.perf_counter())
                watch.done(rec)
                if measured:
                    with watch.lock:
                        run.records.append(rec)
                        watch.in_flight -= 1
        except Exception as exc:  # noqa: BLE001 - e.g. the client cannot connect at all
            watch.worker_failed(exc)
        finally:
            if client is not None:
                client.close()

    threads = [threading.Thread(target=worker, daemon=True, name=f"llm-bench-{k}") for k in range(concurrency)]
    for th in threads:
        th.start()
    while time.perf_counter() < t_end and not watch.stop.is_set() and any(th.is_alive() for th in threads):
        watch.wait(min(t_end, time.perf_counter() + 0.2))  # workers leave early when max_requests are sent
    drain = time.perf_counter() + timeout_s + 2.0
    for th in threads:
        while th.is_alive() and time.perf_counter() < drain and not watch.stop.is_set():
            watch.check()
            th.join(0.2)
    watch.raise_if_aborted(label)
    with watch.lock:
        run.lost = watch.in_flight
    return run


def arrival_times(rate: float, duration_s: float, arrival: str, seed: int) -> np.ndarray:
    """Scheduled arrival offsets (s) within ``duration_s``: Poisson (exponential gaps) or evenly spaced."""
    if arrival == "constant":
        return np.arange(0.0, duration_s, 1.0 / rate)
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(1.0 / rate, size=int(rate * duration_s * 2 + 20))
    t = np.cumsum(gaps) - gaps[0]
    return t[t < duration_s]


def open_loop(target, requests: list, rate: float, duration_s: float, *, arrival: str = "poisson", seed: int = 0,
              warmup_s: float = 0.0, timeout_s: float = 60.0, max_in_flight: int = 64, policy: AbortPolicy | None = None,
              label: str = "") -> PointRun:
    """Requests arrive at ``rate``/s for ``duration_s`` (after ``warmup_s`` s of unmeasured arrivals at the same rate);
    ``max_in_flight`` workers stream them, each timed from its scheduled arrival."""
    watch = _Watch(policy or AbortPolicy())
    run = PointRun()
    jobs: queue.Queue = queue.Queue()
    warm = arrival_times(rate, warmup_s, arrival, seed + 1) if warmup_s > 0 else np.empty(0)
    measured = arrival_times(rate, duration_s, arrival, seed)

    def worker() -> None:
        client = None
        try:
            while not watch.stop.is_set():
                try:
                    job = jobs.get(timeout=0.2)
                except queue.Empty:
                    continue
                if job is None:
                    return
                i, start, counted = job
                if client is None:
                    client = target.client()
                rec = run_request(client, requests[i % len(requests)], start)
                watch.done(rec)
                if counted:
                    with watch.lock:
                        run.records.append(rec)
                        watch.in_flight -= 1
        except Exception as exc:  # noqa: BLE001 - e.g. the client cannot connect at all
            watch.worker_failed(exc)
        finally:
            if client is not None:
                client.close()

    threads = [threading.Thread(target=worker, daemon=True, name=f"llm-open-{k}") for k in range(max_in_flight)]
    for th in threads:
        th.start()
    base = time.perf_counter() + 0.05
    run.window = (base + warmup_s, base + warmup_s + duration_s)
    schedule = [(base + t, False) for t in warm] + [(base + warmup_s + t, True) for t in measured]
    for i, (at, counted) in enumerate(schedule):
        watch.wait(at)
        if watch.stop.is_set():
            break
        if counted:
            with watch.lock:
                run.sent += 1
                watch.in_flight += 1
        jobs.put((i, at, counted))
    drain = time.perf_counter() + timeout_s + 2.0
    while time.perf_counter() < drain and not watch.stop.is_set():
        with watch.lock:
            if watch.in_flight == 0:
                break
        watch.wait(min(drain, time.perf_counter() + 0.2))
    for _ in threads:
        jobs.put(None)
    watch.raise_if_aborted(label)
    with watch.lock:
        run.lost = watch.in_flight
    return run
