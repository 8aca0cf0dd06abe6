"""Triton's Prometheus ``/metrics``: scrape counters before and after a load point and turn the
difference into per-request queue and compute time and the mean batch size per model."""

from __future__ import annotations

import re
import urllib.request
from dataclasses import dataclass

_LINE = re.compile(r'^(nv_inference_[a-z_]+)\{([^}]*)\}\s+([0-9.eE+-]+)$')
_LABEL = re.compile(r'(\w+)="([^"]*)"')

COUNTERS = (
    "nv_inference_request_success",
    "nv_inference_request_failure",
    "nv_inference_count",
    "nv_inference_exec_count",
    "nv_inference_queue_duration_us",
    "nv_inference_compute_input_duration_us",
    "nv_inference_compute_infer_duration_us",
    "nv_inference_compute_output_duration_us",
)

Snapshot = dict[tuple[str, str], float]  # (metric, model) -> value (summed over versions and reasons)


def parse(text: str) -> Snapshot:
    out: Snapshot = {}
    for line in text.splitlines():
        m = _LINE.match(line.strip())
        if not m or m.group(1) not in COUNTERS:
            continue
        labels = dict(_LABEL.findall(m.group(2)))
        key = (m.group(1), labels.get("model", ""))
        out[key] = out.get(key, 0.0) + float(m.group(3))
    return out


def scrape(url: str | None, timeout: float = 2.0) -> Snapshot | None:
    """Counters from ``url``, or None when the endpoint does not answer (metrics are then left out)."""
    if not url:
        return None
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return parse(resp.read().decode("utf-8", "replace"))
    except (OSError, ValueError):
        return None


@dataclass
class ModelStats:
    requests: float
    queue_ms: float | None
    compute_ms: float | None
    mean_batch_size: float | None


def diff(before: Snapshot | None, after: Snapshot | None) -> dict[str, ModelStats]:
    """Per-model statistics of the requests served between two snapshots."""
    if before is None or after is None:
        return {}
    models = {m for (_, m) in after}
    stats: dict[str, ModelStats] = {}
    for model in sorted(models):
        d = {name: after.get((name, model), 0.0) - before.get((name, model), 0.0) for name in COUNTERS}
        n = d["nv_inference_request_success"]
        if n <= 0:
            continue
        compute = d["nv_inference_compute_input_duration_us"] + d["nv_inference_compute_infer_duration_us"] + d["nv_inference_compute_output_duration_us"]
        execs = d["nv_inference_exec_count"]
        stats[model] = ModelStats(
            requests=n,
            queue_ms=d["nv_inference_queue_duration_us"] / n / 1000.0,
            compute_ms=compute / n / 1000.0,
            mean_batch_size=(d["nv_inference_count"] / execs) if execs > 0 else None,
        )
    return stats


def summarize(stats: dict[str, ModelStats], ensemble: str | None, main_model: str | None) -> tuple[float | None, float | None, float | None]:
    """(queue_ms, compute_ms, mean_batch_size) per client request.

    Through an ensemble a request visits every composing model once, so its queue and compute times
    are the sums over the composing models (the ensemble's own entry is left out). The batch size is
    the ONNX model's (``main_model``), else the busiest model's.
    """
    if not stats:
        return None, None, None
    members = {m: s for m, s in stats.items() if m != ensemble} or stats
    queue = sum(s.queue_ms or 0.0 for s in members.values())
    compute = sum(s.compute_ms or 0.0 for s in members.values())
    main = members.get(main_model) if main_model else None
    if main is None:
        main = max(members.values(), key=lambda s: s.compute_ms or 0.0)
    return queue, compute, main.mean_batch_size
