"""``--explain`` lines for generative plans: why this accelerator and format, memory and the KV limit, bands, misses.

- the chosen configuration's token-level figures (format support, memory headroom per GPU, the KV-cache
  limit on concurrency, capacity and what binds it, the band) from its ``LLMCapacity``;
- why this accelerator and format: the best instance of each (accelerator, format) pair by $ per 1M
  output tokens at capacity (hourly price / output tokens per hour), cheapest first;
- nearest misses: the (accelerator, format) pairs whose SLA fails even for a lone request, and what
  they would need (bandwidth at batch 1, the physical floor), and a line when no allowed instance meets it;
- which figures are estimates, from what, and how uncertain.
"""

from __future__ import annotations

SHOW = 6  #: (accelerator, format) pairs listed


def _chosen_group(cset, c):
    if c is None or not c.instance_type:
        return None
    return next((g for g in cset.groups if (g.variant.name, g.platform, g.instance.name) == (c.variant, c.platform, c.instance_type)), None)


def _per_million_at_capacity(g) -> float | None:
    tps = getattr(g.capacity, "output_tokens_per_s", 0.0)
    if not tps or not g.options:
        return None
    hourly = min(o.price.unit_usd_per_instance_hour for o in g.options if not o.spot) if any(not o.spot for o in g.options) else None
    return hourly / (tps * 3600.0) * 1e6 if hourly else None


def pair_lines(cset) -> list[str]:
    """Cheapest $/1M output tokens at capacity per (accelerator, format), one line each."""
    best: dict[tuple[str, str], tuple[float, object]] = {}
    for g in cset.groups:
        cost = _per_million_at_capacity(g)
        if cost is None:
            continue
        key = (g.instance.accelerator or "CPU", getattr(g.capacity, "fmt", g.variant.name))
        if key not in best or cost < best[key][0]:
            best[key] = (cost, g)
    out = []
    for (acc, fmt), (cost, g) in sorted(best.items(), key=lambda kv: kv[1][0])[:SHOW]:
        est = g.capacity
        out.append(f"{acc} {fmt}: ${cost:,.3f} per 1M output tokens at capacity ({g.instance.name} TP={getattr(est, 'tp', 1)}, "
                   f"{est.max_rps_at_sla:.2f} req/s = {getattr(est, 'output_tokens_per_s', 0):,.0f} output tokens/s per instance)")
    return out


def miss_lines(cset, ctx) -> list[str]:
    """Pairs that fail even for a lone request (one line per accelerator and format), and 'no allowed instance has it'."""
    seen: dict[tuple[str, str], str] = {}
    for x in cset.excluded:
        if x.kind == "latency" and getattr(x, "miss", None):
            key = (x.instance_type or "", x.variant)
            seen.setdefault(key, x.miss[1])
    by_text: dict[str, list[str]] = {}
    for (inst, variant), text in seen.items():
        by_text.setdefault(text, []).append(inst)
    out = [f"miss: {text} (e.g. {', '.join(sorted(insts)[:3])})" for text, insts in list(by_text.items())[:SHOW]]
    if out and not cset.groups:
        itl = next((c for c in ctx.constraints if c.metric in ("itl", "tpot")), None)
        out.append("no allowed instance meets the SLA" + (f" ({itl.describe()})" if itl else "")
                   + ": relax the target or allow faster accelerators (targets.instance_families)")
    return out


def estimate_lines(plan, cset, ctx, catalog, is_architecture_only) -> list[str]:
    """LLM lines for plan.json's ``estimates`` (what --explain prints)."""
    out = []
    g = _chosen_group(cset, plan.chosen)
    if g is not None and hasattr(g.capacity, "llm"):
        est = g.capacity
        acc = g.instance.accelerator or "CPU"
        out.append(f"LLM: {g.variant.name} on {g.instance.name} ({acc}), TP={est.tp}: cheapest way to meet "
                   + ", ".join(c.describe() for c in ctx.constraints) + " for this traffic.")
        out += [f"LLM: {line}" for line in est.explain()]
    out += [f"LLM why this accelerator and format: {line}" for line in pair_lines(cset)]
    out += [f"LLM nearest {line}" for line in miss_lines(cset, ctx)]
    band = next((grp.capacity.provenance for grp in cset.groups if hasattr(grp.capacity, "llm")), None)
    if band is not None:
        out.append(f"LLM capacities are estimated ({band.model}), ±{band.uncertainty:.0%}: {band.band}.")
    from toolkit.planner.llm_variants import FormatVariant

    if any(isinstance(grp.variant, FormatVariant) for grp in cset.groups) or ctx.weights is False:
        out.append("LLM architecture only: no weights, so weight sizes come from the architecture and the formats' quality is not measured "
                   "here; fp8 and w4a16 usually stay close to bf16 on published evaluations, but check your own model before deploying them.")
    if plan.tokens is not None and plan.tokens.api:
        out.append("LLM API prices: " + "; ".join(f"{a.provider} {a.model} ({a.confidence}, {a.effective_from or 'undated'})"
                                                  for a in plan.tokens.api[:4]) + " (toolkit/data/llm_api_prices.csv cites each row).")
    return out


def assumption_lines(ctx, family) -> list[str]:
    """LLM lines for plan.json's ``assumptions``."""
    return [
        f"LLM traffic: {ctx.traffic_note}; requests arrive as a Poisson process within each minute.",
        f"LLM model: {ctx.arch_note}; served context {ctx.arch.max_context} tokens.",
        ("LLM engine: vLLM-like continuous batching with chunked prefill (max_num_batched_tokens 2048, max_num_seqs 256, "
        "gpu_memory_utilization 0.9); TP within one instance only; replicas = GPUs / TP."),
        (f"LLM data processed: {family.request_kb:g} KB in + {family.response_kb:g} KB out per request "
        "(4 bytes of text per token + a 0.5 KB JSON envelope; streaming overhead not counted)."),
        ("LLM autoscaling: the simulation scales on requests per minute at the per-instance capacity; a deployment would track "
        "concurrent requests (a streaming request counts until its last token)."),
    ]
