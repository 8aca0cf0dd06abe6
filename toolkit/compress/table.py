"""The results table of a variants.json: one row per variant, shared by the CLI and the benchmark."""

from __future__ import annotations


def _lat(v, batch: int, seq: int):
    return next((p for p in v.latency if p.batch == batch and p.seq_len == seq), None)


def rows(vf) -> list[dict]:
    """Plain values per variant: size, latency at 1×32 and 8×128, speed-up over torch fp32, quality."""
    ref = next((v for v in vf.variants if v.kind == "reference"), None)
    ref8 = _lat(ref, 8, 128) if ref else None
    out = []
    for v in vf.variants:
        a, b = _lat(v, 1, 32), _lat(v, 8, 128)
        q = v.quality
        out.append({
            "variant": "torch-fp32 (ref)" if v.kind == "reference" else v.name,
            "status": v.status if not v.rejected_reason else f"rejected: {v.rejected_reason}",
            "precision": v.precision,
            "layers": v.num_layers,
            "size_mb": v.size_bytes / 1e6,
            "smaller": (ref.size_bytes / v.size_bytes) if ref and v.size_bytes else None,
            "p50_1x32": a.p50_ms if a else None, "p95_1x32": a.p95_ms if a else None,
            "p50_8x128": b.p50_ms if b else None, "p95_8x128": b.p95_ms if b else None,
            "speedup_8x128": (ref8.p50_ms / b.p50_ms) if (ref8 and b and b.p50_ms) else None,
            "cosine_mean": q.cosine_mean, "cosine_p5": q.cosine_p5,
            "top1": q.top1_agreement, "kl": q.kl_divergence,
            "probe_acc": q.probe_accuracy, "acc_drop_pts": q.accuracy_drop_points,
            "gflops": v.gflops_per_item,
        })
    return out


def fmt(x, spec: str) -> str:
    """``x`` formatted with ``spec``, or '—' when it was not measured."""
    return "—" if x is None else format(x, spec)


_f = fmt


HEADERS = ["variant", "size MB", "×smaller", "1×32 p50/p95 ms", "8×128 p50/p95 ms", "speed-up 8×128", "quality", "probe acc", "gate"]


def cells(r: dict, task: str) -> list[str]:
    """The table row for one :func:`rows` entry; the quality cell is the task's family's."""
    from toolkit.families import family_for

    quality = family_for(task).quality_cell(r)
    probe = "—" if r["probe_acc"] is None else f"{100 * r['probe_acc']:.1f}%"
    if r["acc_drop_pts"] not in (None, 0.0):
        probe += f" ({-r['acc_drop_pts']:+.1f})"
    return [
        r["variant"], _f(r["size_mb"], ".1f"), _f(r["smaller"], ".2f"),
        f"{_f(r['p50_1x32'], '.1f')} / {_f(r['p95_1x32'], '.1f')}",
        f"{_f(r['p50_8x128'], '.1f')} / {_f(r['p95_8x128'], '.1f')}",
        "—" if r["speedup_8x128"] is None else f"{r['speedup_8x128']:.2f}×",
        quality, probe, "rejected" if r["status"].startswith("rejected") else "ok",
    ]


def rejections(vf) -> list[str]:
    return [f"{v.name}: {v.rejected_reason}" for v in vf.variants if v.status == "rejected"]


def text_table(vf) -> str:
    """A fixed-width text table (for logs and benchmarks)."""
    body = [cells(r, vf.task) for r in rows(vf)]
    widths = [max(len(h), *(len(row[i]) for row in body)) for i, h in enumerate(HEADERS)]
    line = lambda cols: "  ".join(c.ljust(w) for c, w in zip(cols, widths)).rstrip()  # noqa: E731
    lines = [line(HEADERS), line(["-" * w for w in widths]), *(line(r) for r in body)]
    lines += [f"rejected {r}" for r in rejections(vf)]
    return "\n".join(lines)
