"""The end-of-run summary of `leanserve run` as JSON-able data (the CLI renders it), with where each figure came
from: measured by compress (in process), measured by bench (served by a local Triton), or estimated."""

from __future__ import annotations


def _variants_machine(result) -> str | None:
    from toolkit.artifacts import load_artifact
    from toolkit.artifacts.variants import VariantsFile
    from toolkit.errors import LeanserveError

    path = result.files.get("variants")
    try:
        return load_artifact(VariantsFile, path).machine.describe() if path else None
    except LeanserveError:
        return None


def _is_gpu(instance_type: str | None) -> bool:
    if not instance_type:
        return False
    from toolkit.pricing import load_catalog

    try:
        return load_catalog(warn=lambda *_: None).instance(instance_type).is_gpu
    except Exception:  # noqa: BLE001 - an unknown type is reported by deploy's own checks
        return False


def capacity_source(c, benched: list[str], skipped_bench: bool, generative: bool = False, architecture_only: bool = False) -> str:
    """Where the chosen configuration's capacity came from, in one sentence."""
    prov = c.capacity_provenance
    if prov is not None and prov.source == "measured":
        return f"measured by bench on {prov.where}"
    what = "capacity per instance" if c.instance_type else "serverless latency"
    est = "estimated"
    if prov is not None:  # the LLM model's text already states its band
        est = f"estimated ({prov.model})" if "band ±" in prov.model else f"estimated ({prov.model}; ±{prov.uncertainty:.0%})"
    if architecture_only:
        return f"{what}: {est}, from the architecture alone (no weights)"
    if generative:
        bench = (f"; the token bench measured {c.variant}'s served TTFT and ITL here (profiles.json): the CPU fit is scored on "
                 f"them as held-out points (not fitted)" if c.variant in benched else "")
        return f"{what}: {est}" + bench
    if skipped_bench:
        return f"{what}: {est}, from compress's in-process latency only (--skip-bench)"
    if c.variant not in benched:
        return f"{what}: {est}, from compress's in-process latency only: {c.variant} was not benchmarked here"
    if not c.instance_type:
        return f"{what}: {est}, from compress's batch-1 latency (the serverless model does not use bench profiles)"
    if _is_gpu(c.instance_type):
        return f"{what}: {est}; the CPU bench of {c.variant} here does not calibrate a GPU estimate"
    return f"{what}: {est}, scaled to the served throughput bench measured for {c.variant} on this machine"


def figures(result) -> list[dict]:
    """[{figure, source, detail}]: which figures were measured by compress, measured by bench, or estimated."""
    plan = result.plan
    skipped = result.selection is None
    if result.architecture_only:
        rows = [{"figure": "quality, size and latency of each variant", "source": "not measured",
                 "detail": "no weights (model.architecture): the planner's bf16/fp8/w4a16 variants of the shape"}]
    else:
        rows = [{"figure": "quality, size and in-process latency of each variant", "source": "measured by compress",
                 "detail": f"on {_variants_machine(result) or 'the compress machine'} (variants.json)"}]
    if result.architecture_only:
        rows.append({"figure": "served latency and throughput", "source": "not measured", "detail": "no weights to serve"})
    elif skipped:
        rows.append({"figure": "served latency and throughput", "source": "not measured", "detail": "--skip-bench"})
    else:
        what = "token-level (TTFT, ITL, output tokens/s) " if result.generative else ""
        detail = f"{what}{', '.join(result.benched)} on a local Triton (profiles.json)"
        if result.selection.check_only:
            detail += "; as a package check only: no variant the plan could choose runs on this CPU"
        rows.append({"figure": "served latency and throughput", "source": "measured by bench", "detail": detail})
        scr = result.selection.screen
        if scr is not None:
            rows.append({"figure": "the variants benchmarked", "source": "estimated from compress",
                         "detail": f"an estimate-only plan chose {scr.variant} at ${scr.monthly_cost_usd:,.2f}/month; variants up to "
                                   f"${scr.limit_usd:,.2f} were benchmarked: {', '.join(result.selection.variants)}"})
    c = plan.chosen if plan is not None else None
    if c is not None:
        measured = c.capacity_provenance is not None and c.capacity_provenance.source == "measured"
        rows.append({"figure": "the chosen configuration's capacity", "source": "measured by bench" if measured else "estimated",
                     "detail": capacity_source(c, result.benched, skipped, result.generative, result.architecture_only)})
        rows.append({"figure": "monthly cost, instance counts, violation minutes", "source": "estimated",
                     "detail": "simulated over the spec's traffic with the catalog's prices (plan.json lists them with their ages)"})
        if getattr(plan, "tokens", None) is not None:
            rows.append({"figure": "$ per 1M output tokens, the API comparison", "source": "estimated",
                         "detail": "the monthly cost over the spec's token volume; API prices from the dated table "
                                   "(each row's confidence in plan.json)"})
    return rows


def tokens_summary(plan) -> dict | None:
    """The ``tokens`` section of plan.json in brief: $/1M tokens, the cheapest API and the verdict."""
    t = getattr(plan, "tokens", None)
    if t is None:
        return None
    pc = t.plan
    api = t.api[0] if t.api else None
    return {
        "architecture_only": t.architecture_only, "model": t.model,
        "output_tokens_per_month": t.output_tokens_per_month, "total_tokens_per_month": t.total_tokens_per_month,
        "usd_per_million_output_tokens": pc.usd_per_million_output_tokens if pc else None,
        "usd_per_million_total_tokens": pc.usd_per_million_total_tokens if pc else None,
        "baselines": [{"label": b.label, "configuration": b.configuration, "monthly_usd": b.monthly_usd,
                       "usd_per_million_output_tokens": b.usd_per_million_output_tokens} for b in t.baselines],
        "cheapest_api": None if api is None else {
            "provider": api.provider, "model": api.model, "input_usd_per_mtok": api.input_usd_per_mtok,
            "output_usd_per_mtok": api.output_usd_per_mtok, "monthly_usd": api.monthly_usd, "cheaper_than_plan": api.cheaper_than_plan,
            "vs_plan_usd": api.vs_plan_usd, "break_even_rps": api.break_even_rps, "confidence": api.confidence,
            "effective_from": api.effective_from},
        "verdict": t.verdict,
    }


def headline(data: dict) -> str:
    """One line for a spec's run: the choice, its cost, the unit cost, the best saving and the API verdict."""
    name = data.get("name") or data["out"]
    c = data.get("chosen")
    if c is None:
        return f"{name}: nothing meets the SLA and budget (see {data['files'].get('plan', data['out'])})"
    where = c["instance_type"] or (f"serverless {c['serverless']['memory_mb']} MB" if c.get("serverless") else "")
    parts = [f"{name}: {c['variant']} on {c['platform']} {where} ({c['region']}), ${c['monthly_cost_usd']:,.2f}/month"]
    tok = data.get("tokens")
    if tok and tok.get("usd_per_million_output_tokens") is not None:
        parts.append(f"${tok['usd_per_million_output_tokens']:,.3f} per 1M output tokens")
    else:
        parts.append(f"${c['cost_per_million_requests_usd']:,.2f} per 1M requests")
    best = max(data.get("baselines", {}).values(), key=lambda b: b["savings_pct"], default=None)
    if best is not None:
        parts.append(f"saves {best['savings_pct']:.0f}% against {best['label']}")
    api = (tok or {}).get("cheapest_api")
    if api:
        verdict = "the API is cheaper at this traffic" if api["cheaper_than_plan"] else "self-hosting is cheaper"
        parts.append(f"cheapest API {api['provider']} ${api['monthly_usd']:,.2f}/month: {verdict}")
    parts.append("every figure estimated" if data.get("architecture_only") else
                 "capacity " + ("measured" if (c.get("capacity_provenance") or {}).get("source") == "measured" else "estimated"))
    return "; ".join(parts)


BASELINE_LABELS = {"static_peak": "static provisioning for peak", "single_gpu_default": "the single-GPU default (ml.g5.xlarge)"}


def summary(result) -> dict:
    plan = result.plan
    sel = result.selection
    data: dict = {
        "name": getattr(plan, "name", None),
        "out": str(result.out),
        "kind": "generative" if result.generative else "encoder",
        "architecture_only": result.architecture_only,
        "stages": [{"stage": s.name, "variant": s.variant, "cached": s.cached, "skipped": s.skipped,
                    "status": "skipped" if s.skipped else "cached" if s.cached else "ran", "seconds": round(s.seconds, 2),
                    "detail": s.detail} for s in result.stages],
        "skipped": {s.name: s.detail for s in result.stages if s.skipped},
        "files": {k: str(v) for k, v in result.files.items()},
        "bench": None if sel is None else {
            "variants": list(result.benched),
            "why": {p.variant: p.reason for p in sel.picks},
            "not_benchable": list(sel.not_benchable),
            "check_only": sel.check_only,
            "estimate_only_plan": sel.screen.model_dump(mode="json") if sel.screen else None,
            "suspect": {k: list(v) for k, v in result.suspect.items()},
        },
        "warnings": sorted(set(result.warnings)),
    }
    if plan is None:
        return data
    data["feasible"] = plan.feasible
    data["figures"] = figures(result)
    c = plan.chosen
    if c is not None:
        data["chosen"] = {
            "variant": c.variant, "platform": c.platform, "region": c.region, "instance_type": c.instance_type,
            "serverless": c.serverless.model_dump(mode="json") if c.serverless else None,
            "autoscaling": c.autoscaling.model_dump(mode="json") if c.autoscaling else None,
            "monthly_cost_usd": c.monthly_cost_usd, "cost_per_million_requests_usd": c.cost_per_million_requests_usd,
            "violation_minutes": c.simulation.violation_minutes,
            "capacity_provenance": c.capacity_provenance.model_dump(mode="json") if c.capacity_provenance else None,
            "benchmarked": c.variant in result.benched,
        }
        savings = {}
        for name in ("static_peak", "single_gpu_default"):
            b = getattr(plan.baselines, name)
            if b is not None and b.monthly_cost_usd > 0:
                savings[name] = {"label": BASELINE_LABELS[name], "monthly_cost_usd": b.monthly_cost_usd,
                                 "violation_minutes": b.simulation.violation_minutes,
                                 "savings_pct": round(100 * (1 - c.monthly_cost_usd / b.monthly_cost_usd), 1)}
        data["baselines"] = savings
    data["tokens"] = tokens_summary(plan)
    data["estimates"] = list(getattr(plan, "estimates", []) or [])
    data["headline"] = headline(data)
    return data
