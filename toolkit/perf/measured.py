"""Reading measured bench profiles: the rate at an SLA, saturation, and the spread across rounds.

Points that ``leanserve bench`` marked ``suspect`` (a starved load generator, a contended host) are left
out when any point is; a profile whose every point is suspect gives no figure.
"""

from __future__ import annotations

import math


def same_type(a: str | None, b: str) -> bool:
    """Whether two instance-type names are the same hardware (``ml.c7i.xlarge`` = ``c7i.xlarge``)."""
    if not a:
        return False
    strip = lambda n: n[3:] if n.startswith("ml.") else n  # noqa: E731
    return strip(a) == strip(b)


def usable_points(profile) -> list:
    """The profile's points without the suspect ones."""
    return [p for p in profile.points if not getattr(p, "suspect", None)]


def suspect_note(profile) -> str | None:
    bad = [p for p in profile.points if getattr(p, "suspect", None)]
    if not bad:
        return None
    first = bad[0]
    level = f"concurrency {first.concurrency}" if first.mode == "closed" else f"{first.target_rps:g} req/s"
    return f"{len(bad)} of {len(profile.points)} bench point(s) marked suspect and left out (e.g. {level}: {first.suspect})"


def measured_rps_at_sla(profile, sla_percentile: str, sla_ms: float) -> float | None:
    """Highest measured throughput of ``profile`` at which ``sla_percentile`` <= ``sla_ms`` (suspect points left out)."""
    clean = usable_points(profile)
    all_clean = len(clean) == len(profile.points)
    if (all_clean and profile.sla_percentile == sla_percentile and math.isclose(profile.sla_ms, sla_ms)
            and profile.max_rps_at_sla is not None):
        return profile.max_rps_at_sla
    key = f"{sla_percentile}_ms"
    good = [p.throughput_rps for p in clean if getattr(p, key) is not None and getattr(p, key) <= sla_ms and p.errors == 0]
    return max(good) if good else (0.0 if clean else None)


def saturation(profile) -> float:
    clean = usable_points(profile)
    if profile.saturation_rps is not None and len(clean) == len(profile.points):
        return profile.saturation_rps
    return max((p.throughput_rps for p in clean), default=0.0)


def round_spread(profile, sla_percentile: str, sla_ms: float) -> float | None:
    """Half the relative range of throughput across rounds at the point that sets the rate at the SLA
    (None without rounds): how far a single measurement of it could have moved."""
    rate = measured_rps_at_sla(profile, sla_percentile, sla_ms)
    pts = [p for p in usable_points(profile) if p.rounds is not None and p.rounds.count > 1]
    if not rate or not pts:
        return None
    p = min(pts, key=lambda q: abs(q.throughput_rps - rate))
    values = [v for v in p.rounds.throughput_rps if v is not None]
    mid = sorted(values)[len(values) // 2] if values else 0.0
    if mid <= 0:
        return None
    return (max(values) - min(values)) / 2 / mid
