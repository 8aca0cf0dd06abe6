"""The planner's hook for generative families: prepare before the candidates, finish after the search.

``make_plan`` calls :func:`prepare` (None for families without a token model) and, once plan.json's
sections exist, :func:`finish`, which adds:

- the baseline a user would pick without the plan: bf16 on the default GPU family (g5, the
  ``ml.g5.2xlarge`` class), on the smallest size whose GPUs hold the model (TP as it needs), static for peak;
- the ``tokens`` section (:mod:`toolkit.planner.tokens`): $/1M output and total tokens, $/request,
  GPU-hours, and the API comparison with its break-even;
- the LLM lines of ``estimates`` and ``assumptions`` (:mod:`toolkit.planner.llm_explain`).

Bad input found here exits 2: an ITL target below the physical floor of every allowed accelerator
(weights read once per token at full bandwidth, best TP, best format) names that floor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from toolkit.errors import InputError

DEFAULT_GPU_SIZES = ("ml.g5.2xlarge", "ml.g5.12xlarge", "ml.g5.48xlarge")  #: 1, 4 and 8 x A10G: the default a user picks
DEFAULT_PLATFORM = "sagemaker-realtime"


@dataclass
class LLMPlanning:
    family: object
    ctx: object  #: toolkit.planner.llm_context.LLMContext
    loaded: object
    prune_note: str = ""


def is_generative(family) -> bool:
    return bool(getattr(family, "token_traffic", False))


def variants_without_file(loaded):
    """The in-memory variants of a generative spec planned without variants.json; bad input for other families."""
    from toolkit.families import family_for
    from toolkit.planner.llm_variants import architecture_variants

    fam = family_for(loaded.spec.model.task)
    if not is_generative(fam):
        raise InputError(f"--variants is needed for task {fam.task}: the plan is made for built variants",
                         hint=f"run `leanserve compress {loaded.path}` first, then pass --variants out/")
    return architecture_variants(loaded, fam.context(loaded.spec, loaded.path.parent))


def prepare(loaded, family, variants, catalog, demand, mf: float) -> LLMPlanning | None:
    """Resolve the generative context (paths against the spec's folder), refuse an SLA below physics, and skip the
    capacity search of instance types that cannot be the cheapest (:mod:`toolkit.planner.llm_prune`)."""
    from toolkit.planner.llm_prune import prune

    if not is_generative(family):
        return None
    spec = loaded.spec
    ctx = family.context(spec, loaded.path.parent)
    check_fits_somewhere(ctx, spec, variants, catalog)
    check_physical_floor(ctx, spec, variants, catalog)
    sla = family.sla(spec.sla)
    ctx.pruned.clear()
    skipped, note = prune(spec, variants, catalog, family.for_spec(spec), sla, variants.machine, float(demand.max()),
                          float(demand.sum() * 60.0 * mf))
    ctx.pruned.update(skipped)
    return LLMPlanning(family, ctx, loaded, note)


def _allowed_gpus(spec, catalog) -> list:
    from toolkit.perf.llm.hardware import for_instance
    from toolkit.planner.candidates import _allowed

    seen, out = set(), []
    for info in catalog.all_instances():
        if not info.accelerator_key or not _allowed(info, spec.targets):
            continue
        try:
            dev = for_instance(info)
        except InputError:
            continue
        key = (dev.accelerator, dev.count, dev.memory_gib)
        if key not in seen:
            seen.add(key)
            out.append(dev)
    return out


def check_fits_somewhere(ctx, spec, variants, catalog) -> None:
    """InputError when no accepted variant fits the memory of any allowed accelerator at any TP (naming which would)."""
    from toolkit.perf.llm.memory import tp_degrees
    from toolkit.planner.llm_capacity import _memory_fits, fit_reason, variant_format

    devices = _allowed_gpus(spec, catalog)
    gpu_variants = [v for v in variants.accepted() if "gpu" in v.devices]
    if not devices or not gpu_variants or any(_memory_fits(ctx.arch_for(v), variant_format(v), d, tp_degrees(ctx.arch_for(v), d), ctx)
                                              for v in gpu_variants for d in devices):
        return
    v = min(gpu_variants, key=lambda v: ctx.arch_for(v).weight_bytes(variant_format(v)))
    biggest = max(devices, key=lambda d: d.memory_gib * d.count)
    why = fit_reason(ctx.arch_for(v), variant_format(v), biggest, ctx)
    raise InputError(f"{ctx.arch.name} fits no allowed accelerator, even as {variant_format(v)} on {biggest.name} "
                     f"({biggest.count} x {biggest.accelerator}): {why.removeprefix('memory: ')}",
                     hint="allow an instance family that holds it in targets (see 'would fit'), or a smaller model or format")


def check_physical_floor(ctx, spec, variants, catalog) -> None:
    """InputError when the ITL (or TPOT) limit is below weights / bandwidth on every allowed accelerator and format."""
    from toolkit.perf.llm.capacity import itl_floor_ms
    from toolkit.planner.llm_capacity import variant_format

    c = next((c for c in ctx.constraints if c.metric in ("itl", "tpot")), None)
    devices = _allowed_gpus(spec, catalog)
    if c is None or not devices:
        return
    best = (math.inf, "", "")
    for v in variants.accepted():
        fmt = variant_format(v)
        floor, where = itl_floor_ms(ctx.arch_for(v), fmt, devices)
        if floor < best[0]:
            best = (floor, where, fmt)
    floor, where, fmt = best
    if math.isfinite(floor) and c.limit < floor:
        raise InputError(f"sla.{c.key} {c.limit:g} ms is below the physical floor of {floor:.1f} ms: {ctx.arch.name} reads all its weights "
                         f"once per token, and the fastest allowed accelerator ({where}, {fmt}) needs {floor:.1f} ms for that",
                         hint=f"raise sla.{c.key} to at least {math.ceil(floor)}, or allow faster accelerators in targets")


def default_gpu_static(llm: LLMPlanning, sla, catalog, index, requests_month: float, region: str | None):
    """(Candidate or None, note): bf16 on the smallest default-GPU size that holds the model, static for the peak."""
    from toolkit.perf.capacity import CapacityEstimate
    from toolkit.planner.assemble import static_candidate, static_instances
    from toolkit.planner.candidates import Group, Option
    from toolkit.planner.llm_capacity import instance_estimate
    from toolkit.planner.llm_variants import FormatVariant
    from toolkit.platforms import platform_for

    arch = llm.ctx.arch
    v = FormatVariant(name="bf16", path="", size_bytes=int(arch.weight_bytes("bf16")), precision="bf16", format="bf16", devices=["gpu"],
                      kv_bytes_per_token=arch.kv_bytes_per_token(2.0))
    plat = platform_for(DEFAULT_PLATFORM)
    family = llm.family.for_spec(llm.loaded.spec)
    why = []
    for name in DEFAULT_GPU_SIZES:
        try:
            info = catalog.instance(name)
        except InputError:
            continue
        regions = [r for r in ([region] if region else []) + list(llm.loaded.spec.targets.regions) + ["us-east-1"]
                   if r in set(plat.regions(catalog))]
        est = instance_estimate(v, info, llm.ctx)
        if not isinstance(est, CapacityEstimate) or est.max_rps_at_sla <= 0:
            why.append(f"{name}: {getattr(est, 'reason', None) or (est.notes[0] if est.notes else 'cannot meet the SLA')}")
            continue
        for r in regions:
            try:
                pm = plat.price_model(info, r, False, catalog, requests_month, family, llm.loaded.spec.name, [])
            except InputError:
                continue
            g = Group(-1, v, plat.name, info, est, est.max_rps_at_sla, plat.dynamics(), [Option(r, False, pm)], unit=family.capacity_unit)
            cand = static_candidate(g, g.options[0], static_instances(float(index.d.max()), g.cap, sla.min_instances), index, requests_month)
            cand.why_not = f"default GPU: bf16 on {name} TP={est.tp}, static for the peak"
            return cand, f"default GPU baseline: bf16 on {name} (TP={est.tp}) in {r}, static for the peak"
        why.append(f"{name}: no price in {', '.join(regions) or 'any region'}")
    return None, "default GPU baseline: none of " + ", ".join(DEFAULT_GPU_SIZES) + " serves it (" + "; ".join(why) + ")"


def _find_group(cset, cand):
    for g in cset.groups:
        if (g.variant.name, g.platform, g.instance.name) == (cand.variant, cand.platform, cand.instance_type):
            opt = next((o for o in g.options if o.region == cand.region and o.spot == cand.spot), g.options[0])
            return g, opt
    return None, None


def finish(llm: LLMPlanning, plan, cset, index, mf: float, catalog) -> None:
    """Fill the generative parts of plan.json: the default-GPU baseline, ``tokens``, and the explain lines."""
    from toolkit.artifacts.plan_tokens import TokenEconomics
    from toolkit.planner.llm_explain import assumption_lines, estimate_lines
    from toolkit.planner.llm_variants import is_architecture_only
    from toolkit.planner.tokens import (
        api_costs,
        cost_curve,
        token_costs,
        verdict,
    )
    from toolkit.pricing.api_prices import comparable

    ctx, sla = llm.ctx, cset.sla
    requests = cset.requests_per_month
    pm, om = requests * ctx.mean_prompt, requests * ctx.mean_output
    chosen = plan.chosen
    base, base_note = default_gpu_static(llm, sla, catalog, index, requests, chosen.region if chosen else None)
    plan.baselines.default_gpu_static = base
    g, _ = _find_group(cset, chosen) if chosen is not None and chosen.instance_type else (None, None)

    def tps(cand):
        gg, _ = _find_group(cset, cand) if cand is not None and cand.instance_type else (None, None)
        return getattr(gg.capacity, "output_tokens_per_s", None) if gg is not None else None

    plan_costs = token_costs("plan", chosen, requests, pm, om, catalog, tps(chosen), _configuration(g, chosen)) if chosen else None
    baselines = []
    for label, b in (("static peak on the default GPU", base), ("static peak (cheapest instance type)", plan.baselines.static_peak),
                     ("single-GPU default with AWS target tracking", plan.baselines.single_gpu_default)):
        if b is not None:
            baselines.append(token_costs(label, b, requests, pm, om, catalog, None, f"{b.variant} on {b.instance_type} ({b.region})"))
    curve = cost_curve(chosen, sla.min_instances) if g is not None else None
    cls, note, rows = comparable(float(ctx.arch.parameters))
    mean_rps = requests / (mf * index.n * 60.0) if index.n else 0.0
    apis = sorted(api_costs(rows, pm, om, chosen.monthly_cost_usd if chosen else None, curve, mean_rps), key=lambda a: a.monthly_usd)
    econ = TokenEconomics(
        model=ctx.arch.name, parameters=float(ctx.arch.parameters), architecture_only=is_architecture_only_plan(llm, cset),
        mean_prompt_tokens=round(ctx.mean_prompt, 1), mean_output_tokens=round(ctx.mean_output, 1), requests_per_month=round(requests, 1),
        prompt_tokens_per_month=round(pm), output_tokens_per_month=round(om), total_tokens_per_month=round(pm + om), traffic=ctx.traffic_note,
        plan=plan_costs, baselines=baselines, api_class=cls, api_note=note, api=apis,
        self_hosting_floor_usd=round(curve.cost(0.0), 2) if curve is not None else None,
        marginal_usd_per_million_requests=round(curve.slope_above_floor() / (requests / 1e6), 4) if curve is not None and requests > 0 else None,
        notes=[base_note, ("API monthly cost = the spec's prompt tokens x input price + output tokens x output price; no free tier, "
                          "batch or cached-input discounts; the API's latency is not checked against the SLA.")],
    )
    econ.verdict = verdict(econ, mean_rps)
    if g is not None:
        from toolkit.planner.llm_scaling import concurrency_target

        econ.scaling = concurrency_target(g, chosen, ctx)  # what deploy scales on: concurrent requests per instance
    plan.tokens = econ
    plan.estimates = list(plan.estimates) + estimate_lines(plan, cset, ctx, catalog, is_architecture_only)
    plan.assumptions = list(plan.assumptions) + assumption_lines(ctx, llm.family.for_spec(llm.loaded.spec)) + (
        [f"LLM search: {llm.prune_note}."] if llm.prune_note else [])


def is_architecture_only_plan(llm: LLMPlanning, cset) -> bool:
    from toolkit.planner.llm_variants import FormatVariant

    return all(isinstance(g.variant, FormatVariant) for g in cset.groups) if cset.groups else llm.loaded.spec.model.architecture is not None


def _configuration(group, cand) -> str:
    if group is None:
        return f"{cand.variant} on {cand.instance_type or cand.platform} ({cand.region})"
    tp = getattr(group.capacity, "tp", 1)
    return f"{cand.variant} on {cand.instance_type} TP={tp} ({cand.region})"
