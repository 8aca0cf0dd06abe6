"""The results table of a text-generation variants.json: size, prefill, decode per token, perplexity, KL."""

from __future__ import annotations

from toolkit.compress.table import fmt


def _batches(vf) -> tuple[int, int]:
    sizes = sorted({int(b) for v in vf.variants if getattr(v, "decoder_latency", None) for b in v.decoder_latency.decode_ms_per_token})
    return (sizes[0] if sizes else 1), (sizes[-1] if sizes else 1)


def headers(vf) -> list[str]:
    _, big = _batches(vf)
    return ["variant", "runtime", "MB", "×smaller", "layers", "prefill ms b1", "ms/token b1", f"ms/token b{big}", "× ref decode b1",
            "ppl Δ%", "KL", "agreement", "exact match", "gate"]


def cells_for(vf) -> list[list[str]]:
    one, big = _batches(vf)
    ref = next((v for v in vf.variants if v.kind == "reference"), None)
    ref_lat = getattr(ref, "decoder_latency", None)
    out = []
    for v in vf.variants:
        q, lat = v.quality, getattr(v, "decoder_latency", None)
        size = getattr(v, "weight_bytes", 0) or v.size_bytes
        dec1 = lat.decode_ms_per_token.get(one) if lat else None
        speed = (ref_lat.decode_ms_per_token[one] / dec1) if (ref_lat and dec1) else None
        ppl = getattr(q, "perplexity_increase_pct", None)
        em = getattr(q, "exact_match", None)
        built = bool(size)
        out.append([
            "torch-fp32 (ref)" if v.kind == "reference" else v.name, getattr(v, "runtime", "—"),
            fmt(size / 1e6 if built else None, ".0f" if size >= 1e8 else ".1f"), fmt(ref.size_bytes / size if (ref and built) else None, ".2f"),
            fmt(v.num_layers, "d"), fmt(lat.prefill_ms.get(one) if lat else None, ".0f"), fmt(dec1, ".1f"),
            fmt(lat.decode_ms_per_token.get(big) if lat else None, ".1f"), "—" if speed is None else f"{speed:.2f}×",
            "—" if ppl is None else f"{ppl:+.1f}", fmt(getattr(q, "mean_kl", None), ".3f"),
            "—" if q.top1_agreement is None else f"{100 * q.top1_agreement:.0f}%", "—" if em is None else f"{100 * em:.0f}%",
            ("not built" if not built else "rejected") if v.status == "rejected" else "ok",
        ])
    return out


def footer(vf) -> list[str]:
    ev = vf.evaluation
    lines = [f"quality on {ev.get('eval_tokens')} held-out tokens of {ev.get('eval_source')} ({ev.get('eval_windows')} windows of "
             f"{ev.get('eval_context')}); latency in-process at a {ev.get('latency_prompt_tokens')}-token prompt, "
             f"{ev.get('latency_threads')} threads, CPU {ev.get('cpu_isa')} ({vf.machine.cpu_model})"]
    if any(getattr(v, "runtime", "") == "vllm-cuda" for v in vf.variants):
        lines.append("GPU formats: quality measured here on the CPU; speed estimated by the performance model, never measured here")
    return lines


def text_table(vf) -> str:
    head, body = headers(vf), cells_for(vf)
    widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(head)]
    line = lambda cols: "  ".join(c.ljust(w) for c, w in zip(cols, widths)).rstrip()
    rej = [f"rejected {v.name}: {v.rejected_reason}" for v in vf.variants if v.status == "rejected"]
    return "\n".join([line(head), line(["-" * w for w in widths]), *(line(r) for r in body), *rej, *footer(vf)])
