"""From one run of the load generator (``PointStats``) to a profile ``LoadPoint``, and the rate at the SLA."""

from __future__ import annotations

from toolkit.bench.load import PointStats


def percentile(values: list[float], q: float) -> float | None:
    import numpy as np

    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else None


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def to_load_point(stats: PointStats, server: tuple | None = None):
    from toolkit.artifacts.profiles import LoadPoint

    lat = stats.latencies_ms
    queue_ms, compute_ms, batch = server or (None, None, None)
    examples = [f"{msg} (×{n})" for msg, n in stats.error_counts.most_common(5)]
    return LoadPoint(
        mode=stats.mode,
        concurrency=stats.concurrency,
        target_rps=stats.target_rps,
        duration_s=max(round(stats.elapsed_s or stats.duration_s, 3), 0.001),
        sent=stats.sent,
        completed=stats.completed,
        errors=stats.errors,
        lost=stats.lost,
        throughput_rps=round(stats.completed / stats.elapsed_s, 3) if stats.elapsed_s else 0.0,
        p50_ms=_r(percentile(lat, 50)),
        p90_ms=_r(percentile(lat, 90)),
        p95_ms=_r(percentile(lat, 95)),
        p99_ms=_r(percentile(lat, 99)),
        queue_ms=_r(queue_ms),
        compute_ms=_r(compute_ms),
        mean_batch_size=_r(batch),
        generator_overhead_ms=_r(stats.client_cpu_s * 1000.0 / stats.completed) if stats.completed else None,
        send_lag_p99_ms=_r(percentile(stats.send_lags_ms, 99)),
        error_examples=examples,
    )


def max_rps_at_sla(points, sla_percentile: str, sla_ms: float, max_error_rate: float) -> float | None:
    """Highest measured throughput among points where the SLA percentile held, errors stayed within
    ``max_error_rate`` and nothing was lost. None when no point qualifies."""
    good = []
    for p in points:
        value = getattr(p, f"{sla_percentile}_ms")
        if value is None or p.sent == 0 or p.lost:
            continue
        if p.errors / p.sent > max_error_rate:
            continue
        if value <= sla_ms:
            good.append(p.throughput_rps)
    return max(good) if good else None
