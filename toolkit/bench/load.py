"""Load generators: a closed loop (N workers, each sends its next request when the last one returns) and
an open loop (requests leave on a schedule — constant or Poisson arrivals — whether or not earlier ones
have returned; latency is measured from the scheduled time, so a saturated client or server cannot hide
queueing). Both stop early, with an error, when the target stops answering."""

from __future__ import annotations

import collections
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from toolkit.bench.targets import RequestFailed
from toolkit.errors import ExternalToolError


class TargetDown(ExternalToolError):
    """The target stopped answering in the middle of a run."""


@dataclass
class AbortPolicy:
    """Give up when, within the last ``window_s`` seconds, at least ``min_errors`` requests failed and none
    succeeded, or when ``alive()`` (a local server's process check) turns false."""

    window_s: float = 2.0
    min_errors: int = 5
    alive: Callable[[], bool] | None = None


@dataclass
class PointStats:
    mode: str
    concurrency: int | None
    target_rps: float | None
    duration_s: float
    sent: int = 0
    completed: int = 0
    errors: int = 0
    lost: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    send_lags_ms: list[float] = field(default_factory=list)
    error_counts: collections.Counter = field(default_factory=collections.Counter)
    client_cpu_s: float = 0.0
    elapsed_s: float = 0.0
    dispatch_lags_ms: list[float] = field(default_factory=list)  #: open loop: how late the generator put each request out
    offered_rps: float | None = None  #: open loop: the rate requests actually left the generator at
    scheduled_rps: float | None = None  #: open loop: the rate of the same requests' schedule


class _Recorder:
    def __init__(self, stats: PointStats, policy: AbortPolicy):
        self.s = stats
        self.policy = policy
        self.lock = threading.Lock()
        self.recent: collections.deque = collections.deque()
        self.abort_reason: str | None = None
        self.stop = threading.Event()
        self.last_done = time.perf_counter()

    def sent(self) -> None:
        with self.lock:
            self.s.sent += 1

    def ok(self, latency_s: float, lag_s: float | None = None) -> None:
        now = time.perf_counter()
        with self.lock:
            self.s.completed += 1
            self.s.latencies_ms.append(latency_s * 1000.0)
            if lag_s is not None:
                self.s.send_lags_ms.append(max(0.0, lag_s) * 1000.0)
            self.recent.append((now, True))
            self.last_done = now
            self._trim(now)

    def error(self, message: str, lag_s: float | None = None) -> None:
        now = time.perf_counter()
        with self.lock:
            self.s.errors += 1
            self.s.error_counts[message] += 1
            if lag_s is not None:
                self.s.send_lags_ms.append(max(0.0, lag_s) * 1000.0)
            self.recent.append((now, False))
            self.last_done = now
            self._trim(now)
            oks = sum(1 for _, good in self.recent if good)
            errs = len(self.recent) - oks
            if oks == 0 and errs >= self.policy.min_errors and self.abort_reason is None:
                self.abort_reason = f"{errs} requests failed in the last {self.policy.window_s:.0f} s and none succeeded"
                self.stop.set()

    def _trim(self, now: float) -> None:
        while self.recent and now - self.recent[0][0] > self.policy.window_s:
            self.recent.popleft()

    def check_alive(self) -> None:
        if self.policy.alive is not None and not self.policy.alive() and self.abort_reason is None:
            self.abort_reason = "the server process exited"
            self.stop.set()


def _texts_for(texts: list[str], i: int, per_request: int) -> list[str]:
    n = len(texts)
    return [texts[(i * per_request + k) % n] for k in range(per_request)]


def _raise_if_aborted(rec: _Recorder, label: str) -> None:
    if rec.abort_reason:
        s = rec.s
        last = s.error_counts.most_common(1)[0][0] if s.error_counts else "no error message"
        raise TargetDown(
            f"bench aborted at {label}: {rec.abort_reason} ({s.errors} of {s.sent} requests failed; last error: {last})",
            hint="the target stopped answering: check that the server is still running",
        )


def _watch(rec: _Recorder, until: Callable[[], bool], end: float | None = None) -> None:
    """Check the target every 0.2 s until ``until()`` (waking at ``end``, a perf_counter time, when given)."""
    while not until():
        rec.check_alive()
        step = 0.2 if end is None else min(0.2, max(0.001, end - time.perf_counter()))
        if rec.stop.wait(step):
            return


def closed_loop(target, texts: list[str], concurrency: int, duration_s: float, *, warmup_s: float = 0.0,
                per_request: int = 1, max_requests: int | None = None, policy: AbortPolicy | None = None,
                label: str | None = None) -> PointStats:
    """``concurrency`` workers, each with its own client, send back-to-back for ``duration_s`` seconds
    (after ``warmup_s`` seconds that are not counted), or until ``max_requests`` have been sent."""
    policy = policy or AbortPolicy()
    stats = PointStats("closed", concurrency, None, duration_s)
    rec = _Recorder(stats, policy)
    clients = [target.client() for _ in range(concurrency)]
    counter = iter(range(10**12))
    counter_lock = threading.Lock()
    phase = {"measure": warmup_s <= 0}
    budget = {"left": max_requests}

    def next_index() -> tuple[int, bool] | None:
        """(request index, whether it is measured), or None when the request budget is spent."""
        with counter_lock:
            if phase["measure"] and budget["left"] is not None:
                if budget["left"] <= 0:
                    return None
                budget["left"] -= 1
            if phase["measure"]:
                rec.sent()
            return next(counter), phase["measure"]

    def worker(client) -> None:
        while not rec.stop.is_set():
            nxt = next_index()
            if nxt is None:
                return
            i, measuring = nxt
            batch = _texts_for(texts, i, per_request)
            t0 = time.perf_counter()
            try:
                client.infer(batch)
            except RequestFailed as exc:
                if measuring:
                    rec.error(str(exc))
                else:
                    time.sleep(0.05)
                continue
            if measuring:
                rec.ok(time.perf_counter() - t0)

    threads = [threading.Thread(target=worker, args=(c,), daemon=True, name=f"bench-closed-{k}") for k, c in enumerate(clients)]
    cpu0, t_start = time.process_time(), time.perf_counter()
    for t in threads:
        t.start()
    try:
        if warmup_s > 0:
            end_warm = time.perf_counter() + warmup_s
            _watch(rec, lambda: time.perf_counter() >= end_warm, end_warm)
            with counter_lock:
                cpu0, t_start = time.process_time(), time.perf_counter()
                phase["measure"] = True
        end = t_start + duration_s
        _watch(rec, lambda: time.perf_counter() >= end or not any(t.is_alive() for t in threads), end)
        rec.stop.set()
        for t in threads:
            t.join(timeout=max(5.0, getattr(target, "timeout_s", 10.0) + 2.0))
        stats.lost = sum(1 for t in threads if t.is_alive())
        stats.elapsed_s = max(1e-9, (rec.last_done if stats.completed + stats.errors else time.perf_counter()) - t_start)
        stats.client_cpu_s = time.process_time() - cpu0
    finally:
        rec.stop.set()
        for c in clients:
            c.close()
    _raise_if_aborted(rec, label or f"concurrency {concurrency}")
    return stats


def arrival_offsets(rate: float, duration_s: float, arrival: str, seed: int = 0) -> list[float]:
    """Send times (seconds from the start) for ``rate`` requests/s over ``duration_s``."""
    import numpy as np

    if rate <= 0:
        return []
    if arrival == "constant":
        n = int(rate * duration_s)
        return [i / rate for i in range(n)]
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(1.0 / rate, size=int(rate * duration_s * 1.5) + 16)
    times = np.cumsum(gaps) - gaps[0]
    return [float(t) for t in times if t < duration_s]


def open_loop(target, texts: list[str], rate: float, duration_s: float, *, arrival: str = "poisson", seed: int = 0,
              per_request: int = 1, max_in_flight: int = 64, drain_s: float | None = None, policy: AbortPolicy | None = None,
              label: str | None = None) -> PointStats:
    """Send at ``rate`` requests/s for ``duration_s`` seconds with ``arrival`` 'constant' or 'poisson' gaps.

    Up to ``max_in_flight`` requests are outstanding; beyond that, requests wait in the generator and
    their latency (counted from the scheduled time) includes that wait. After the schedule ends the
    generator waits ``drain_s`` for outstanding requests; any still unanswered are counted as lost.
    """
    policy = policy or AbortPolicy()
    mode = "open-constant" if arrival == "constant" else "open-poisson"
    stats = PointStats(mode, None, rate, duration_s)
    rec = _Recorder(stats, policy)
    offsets = arrival_offsets(rate, duration_s, arrival, seed)
    jobs: queue.Queue = queue.Queue()
    timeout = getattr(target, "timeout_s", 10.0)
    drain_s = drain_s if drain_s is not None else timeout + 5.0
    workers = max(1, min(max_in_flight, len(offsets) or 1))
    clients = [target.client() for _ in range(workers)]
    pending = {"n": 0}
    pending_lock = threading.Lock()

    def worker(client) -> None:
        while True:
            job = jobs.get()
            if job is None:
                return
            i, scheduled = job
            if rec.stop.is_set():
                with pending_lock:
                    pending["n"] -= 1
                continue
            lag = time.perf_counter() - scheduled
            try:
                client.infer(_texts_for(texts, i, per_request))
            except RequestFailed as exc:
                rec.error(str(exc), lag)
            else:
                rec.ok(time.perf_counter() - scheduled, lag)
            with pending_lock:
                pending["n"] -= 1

    threads = [threading.Thread(target=worker, args=(c,), daemon=True, name=f"bench-open-{k}") for k, c in enumerate(clients)]
    for t in threads:
        t.start()
    cpu0 = time.process_time()
    t_start = time.perf_counter() + 0.05
    dispatched: list[tuple[float, float]] = []  # (when it left, when it was scheduled to) per request
    try:
        for i, off in enumerate(offsets):
            when = t_start + off
            while True:
                now = time.perf_counter()
                if rec.stop.is_set() or now >= when:
                    break
                time.sleep(min(when - now, 0.05))
                rec.check_alive()
            if rec.stop.is_set():
                break
            now = time.perf_counter()
            stats.dispatch_lags_ms.append(max(0.0, now - when) * 1000.0)
            dispatched.append((now, off))
            rec.sent()
            with pending_lock:
                pending["n"] += 1
            jobs.put((i, when))
        deadline = time.perf_counter() + drain_s
        while time.perf_counter() < deadline and not rec.stop.is_set():
            with pending_lock:
                if pending["n"] <= 0:
                    break
            rec.check_alive()
            time.sleep(0.02)
        with pending_lock:
            outstanding = max(0, pending["n"])
        stats.lost = outstanding if not rec.abort_reason else max(0, stats.sent - stats.completed - stats.errors)
        stats.elapsed_s = max(duration_s, rec.last_done - t_start)
        stats.client_cpu_s = time.process_time() - cpu0
        if len(dispatched) >= 2 and dispatched[-1][1] > dispatched[0][1]:
            n = len(dispatched) - 1
            stats.offered_rps = n / max(dispatched[-1][0] - dispatched[0][0], 1e-9)
            stats.scheduled_rps = n / (dispatched[-1][1] - dispatched[0][1])
    finally:
        rec.stop.set()
        for _ in threads:
            jobs.put(None)
        for t in threads:
            t.join(timeout=0.5)
        for c in clients:
            c.close()
    _raise_if_aborted(rec, label or f"{rate:g} req/s")
    return stats
