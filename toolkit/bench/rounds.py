"""Load points measured in repeated rounds: each point's figures are the medians of its rounds.

The measured time of a point (``duration_s``) is split into ``rounds`` rounds of at least
:data:`MIN_ROUND_S` seconds, and the rounds are interleaved — round 1 of every level, then round 2 of
every level, … — so a disturbance of a few seconds (a neighbour's burst on a shared host) lands in one
round of several levels, where the medians leave it out, instead of in every round of one level.
Rounds far from their point's median are reported as outliers; :mod:`toolkit.bench.suspect` then checks
that the generator and the host did not starve the server.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Callable

from toolkit.bench import metrics
from toolkit.bench.load import closed_loop, open_loop
from toolkit.bench.points import percentile, to_load_point
from toolkit.bench.suspect import RoundContext, host_cpu, steal_share

DEFAULT_ROUNDS = 3
MIN_ROUND_S = 1.0  # a round shorter than this says little about its spread
OUTLIER_SHARE = 0.25  # a round whose throughput or p50 is this far from the point's median is an outlier
EXTRA_ROUNDS = 2  # at most this many more rounds of a level whose rounds disagree
RAMP_S = 1.0  # warm-up at each level after the first (a new concurrency fills its queues)
RAMP_S_ROUNDS = 0.5  # ... when the level is revisited in several rounds


@dataclass
class Level:
    kind: str  # "closed" or "open"
    level: float

    def label(self, arrival: str) -> str:
        return f"concurrency {int(self.level)}" if self.kind == "closed" else f"{self.level:g} req/s ({arrival})"


@dataclass
class Measured:
    """The merged points (one per level, in the order asked) and each point's rounds' contexts."""

    points: list
    contexts: list[list[RoundContext]] = field(default_factory=list)
    rounds: int = 1
    notes: list[str] = field(default_factory=list)


def rounds_for(options) -> tuple[int, str | None]:
    """(rounds per point, a note when fewer than asked could run). Unset: DEFAULT_ROUNDS for timed points,
    1 for points bounded by a request count (``max_requests``: rounds of a few requests say nothing)."""
    asked = options.rounds
    if asked is None:
        if options.max_requests is not None:
            return 1, None
        asked = DEFAULT_ROUNDS
    fit = max(1, int(options.duration_s // MIN_ROUND_S + 1e-9))
    if asked > fit:
        return fit, (f"{fit} round(s) per point instead of {asked}: a round needs at least {MIN_ROUND_S:g} s of the "
                     f"{options.duration_s:g} s per point (raise --duration)")
    return asked, None


def measure(target, texts: list[str], levels: list[Level], options, policy, progress: Callable | None,
            ensemble: str | None, main_model: str | None) -> Measured:
    """Run every level ``rounds_for(options)`` times, interleaved, and merge each level's rounds."""
    rounds, note = rounds_for(options)
    per_round = options.duration_s / rounds
    budget = None if options.max_requests is None else max(1, math.ceil(options.max_requests / rounds))
    by_level: list[list] = [[] for _ in levels]
    contexts: list[list[RoundContext]] = [[] for _ in levels]
    warmed = False
    notes = [note] if note else []

    def one_round(r: int, i: int, lv: Level, of: int) -> None:
        nonlocal warmed
        label = lv.label(options.arrival)
        if progress:
            progress("start", f"{label} for {per_round:g} s" + (f" (round {r + 1} of {of})" if of > 1 else ""))
        before, cpu0 = metrics.scrape(target.metrics_url), host_cpu()
        ramp = min(options.warmup_s, RAMP_S if rounds == 1 else RAMP_S_ROUNDS)
        if lv.kind == "closed":
            stats = closed_loop(target, texts, int(lv.level), per_round, warmup_s=options.warmup_s if not warmed else ramp,
                                per_request=options.texts_per_request, max_requests=budget, policy=policy, label=label)
        else:
            if not warmed and options.warmup_s > 0:
                closed_loop(target, texts, 1, options.warmup_s, per_request=options.texts_per_request, policy=policy, label="warm-up")
            seed = options.seed + i + r * len(levels)
            stats = open_loop(target, texts, lv.level, per_round, arrival=options.arrival, seed=seed,
                              per_request=options.texts_per_request, max_in_flight=options.max_in_flight, policy=policy, label=label)
        warmed = True
        after, cpu1 = metrics.scrape(target.metrics_url), host_cpu()
        point = to_load_point(stats, metrics.summarize(metrics.diff(before, after), ensemble, main_model))
        by_level[i].append(point)
        contexts[i].append(RoundContext(
            client_cores=stats.client_cpu_s / stats.elapsed_s if stats.elapsed_s else None,
            steal_share=steal_share(cpu0, cpu1), offered_rps=stats.offered_rps, scheduled_rps=stats.scheduled_rps,
            dispatch_lag_p99_ms=percentile(stats.dispatch_lags_ms, 99)))
        if progress:
            progress("done", point)

    for r in range(rounds):
        for i, lv in enumerate(levels):
            one_round(r, i, lv, rounds)
    # A level whose rounds disagree (an outlier round) is measured again, up to EXTRA_ROUNDS more times, while
    # they still disagree: one disturbed round of three moves no median, two do, and a few more rounds outvote them.
    if budget is None and rounds >= 3:
        for i, lv in enumerate(levels):
            extra = 0
            while extra < EXTRA_ROUNDS and outliers(by_level[i]):
                one_round(rounds + extra, i, lv, rounds + EXTRA_ROUNDS)
                extra += 1
            if extra:
                notes.append(f"{lv.label(options.arrival)}: {extra} extra round(s), its rounds disagreed by more than "
                             f"{OUTLIER_SHARE:.0%} (a contended host); the figures are the medians of {rounds + extra}")
    return Measured([merge_rounds(pts) for pts in by_level], contexts, rounds, notes)


def _median(values):
    vals = [v for v in values if v is not None]
    return round(statistics.median(vals), 3) if vals else None


def outliers(points) -> list[str]:
    """Rounds (1-based) whose throughput or p50 lies more than OUTLIER_SHARE from the median of the rounds."""
    if len(points) < 3:
        return []
    out = []
    for field_name, what, unit in (("throughput_rps", "throughput", "req/s"), ("p50_ms", "p50", "ms")):
        mid = _median(getattr(p, field_name) for p in points)
        if not mid:
            continue
        for r, p in enumerate(points, start=1):
            v = getattr(p, field_name)
            if v is not None and abs(v - mid) > OUTLIER_SHARE * mid:
                side = "above" if v > mid else "below"
                out.append(f"round {r}: {what} {v:.1f} {unit}, {abs(v - mid) / mid:.0%} {side} the median {mid:.1f} {unit}")
    return out


def merge_rounds(points):
    """One LoadPoint from a level's rounds: counts summed, figures the medians, the rounds kept in ``rounds``."""
    from toolkit.artifacts.profiles import Rounds

    if len(points) == 1:
        return points[0]
    first = points[0]
    examples: list[str] = []
    for p in points:
        examples += [e for e in p.error_examples if e not in examples]
    med = {name: _median(getattr(p, name) for p in points)
           for name in ("p50_ms", "p90_ms", "p95_ms", "p99_ms", "queue_ms", "compute_ms", "mean_batch_size", "generator_overhead_ms",
                        "send_lag_p99_ms")}
    return first.model_copy(update=dict(
        duration_s=round(sum(p.duration_s for p in points), 3),
        sent=sum(p.sent for p in points), completed=sum(p.completed for p in points), errors=sum(p.errors for p in points),
        lost=sum(p.lost for p in points), throughput_rps=_median(p.throughput_rps for p in points) or 0.0,
        error_examples=examples[:5], **med,
        rounds=Rounds(count=len(points), throughput_rps=[p.throughput_rps for p in points], p50_ms=[p.p50_ms for p in points],
                      p95_ms=[p.p95_ms for p in points], p99_ms=[p.p99_ms for p in points], outliers=outliers(points)),
    ))
