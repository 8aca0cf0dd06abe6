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


def capacity_source(c, benched: list[str], skipped_bench: bool) -> str:
    """Where the chosen configuration's capacity came from, in one sentence."""
    prov = c.capacity_provenance
    if prov is not None and prov.source == "measured":
        return f"measured by bench on {prov.where}"
    what = "capacity per instance" if c.instance_type else "serverless latency"
    est = f"estimated ({prov.model}; ±{prov.uncertainty:.0%})" if prov is not None else "estimated"
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
    rows = [{"figure": "quality, size and in-process latency of each variant", "source": "measured by compress",
             "detail": f"on {_variants_machine(result) or 'the compress machine'} (variants.json)"}]
    if skipped:
        rows.append({"figure": "served latency and throughput", "source": "not measured", "detail": "--skip-bench"})
    else:
        detail = f"{', '.join(result.benched)} on a local Triton (profiles.json)"
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
                     "detail": capacity_source(c, result.benched, skipped)})
        rows.append({"figure": "monthly cost, instance counts, violation minutes", "source": "estimated",
                     "detail": "simulated over the spec's traffic with the catalog's prices (plan.json lists them with their ages)"})
    return rows


def summary(result) -> dict:
    plan = result.plan
    sel = result.selection
    data: dict = {
        "out": str(result.out),
        "stages": [{"stage": s.name, "variant": s.variant, "cached": s.cached, "seconds": round(s.seconds, 2), "detail": s.detail}
                   for s in result.stages],
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
                savings[name] = {"monthly_cost_usd": b.monthly_cost_usd, "violation_minutes": b.simulation.violation_minutes,
                                 "savings_pct": round(100 * (1 - c.monthly_cost_usd / b.monthly_cost_usd), 1)}
        data["baselines"] = savings
    data["estimates"] = list(getattr(plan, "estimates", []) or [])
    return data
