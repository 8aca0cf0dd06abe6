"""A short normalised, human-readable summary of a spec (used by `spec check` and `run`)."""

from __future__ import annotations

from toolkit.spec import Spec


def summary_lines(spec: Spec) -> list[str]:
    sla = spec.sla
    t = spec.traffic.pattern
    params = ", ".join(f"{k}={v}" for k, v in t.model_dump().items() if k != "kind" and v is not None)
    budget = f"${spec.budget.max_monthly_usd:,.0f}/month" if spec.budget.max_monthly_usd else "none"
    from toolkit.spec_generative import generative_summary

    gen = generative_summary(spec) or {}  # text-generation: its model, variants and token-level SLA lines
    return [
        f"name:        {spec.name}",
        gen.get("model") or f"model:       {spec.model.source} ({spec.model.task}, ≤{spec.model.max_sequence_length} tokens)",
        gen.get("variants") or f"variants:    {', '.join(spec.compression.variants)} (floor: cosine ≥ {spec.compression.quality_floor.min_cosine_mean})",
        (gen.get("sla") or f"sla:         {sla.percentile} ≤ {sla.latency_ms:g} ms at {sla.peak_rps:g} req/s peak; ")
        + f"≤ {sla.max_violation_minutes_per_month:g} violation min/month; ≥ {sla.availability.min_instances} instance(s)"
        + (" across zones" if sla.availability.spread_across_zones else ""),
        f"traffic:     {t.kind} ({params}) over " + ("the trace's own span" if t.kind == "trace" else f"{spec.traffic.days} days"),
        f"targets:     {spec.targets.cloud} {', '.join(spec.targets.regions)}; {', '.join(spec.targets.platforms)}"
        + (f"; types {', '.join(spec.targets.instance_types)}" if spec.targets.instance_types else "")
        + (f"; families {', '.join(spec.targets.instance_families)}" if spec.targets.instance_families else "")
        + ("; spot allowed" if spec.targets.allow_spot else ""),
        f"budget:      {budget}",
        f"tags:        {', '.join(f'{k}={v}' for k, v in spec.tags.items()) or 'none'}",
    ]
