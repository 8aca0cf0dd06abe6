"""``make_plan``: estimate -> simulate -> search -> explain, and the plan.json it produces.

    from toolkit.planner import load_inputs, make_plan
    loaded, variants, profiles = load_inputs("leanserve.yaml", "out/variants.json", "out/profiles.json")
    result = make_plan(loaded, variants, profiles, strategy="fast", top=5)
    result.plan.chosen.monthly_cost_usd
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from toolkit.artifacts.plan import Baselines, Candidate, PlanFile, Sensitivity
from toolkit.errors import InfeasibleError
from toolkit.planner import costs as C
from toolkit.planner.assemble import InstanceOutcome, cost_band, instance_candidate, low_capacity_violations, serverless_candidate, why_lost
from toolkit.planner.baselines import DEFAULT_GPU, single_gpu_default, static_peak
from toolkit.planner.buying import PURCHASE_OPTIONS, apply_spot, check_spot, purchase_section
from toolkit.planner.candidates import enumerate_candidates
from toolkit.planner.grid import LaneSpace
from toolkit.planner.explain import tie_reason
from toolkit.planner.misses import infeasible_error, nearest_misses
from toolkit.planner.schedule import is_periodic
from toolkit.planner.scheduled import SLOT_MIN, scheduling_summary
from toolkit.planner.sensitivity import arm_gpu_note, scale_in_alternative, sensitivity_lines, serverless_variations
from toolkit.planner.search import Evaluator, Ledger, SearchStats, make_strategy, run_search
from toolkit.planner.simulate import TraceIndex
from toolkit.planner.weekly import first_weekday, schedule_profiles

__all__ = ["DEFAULT_GPU", "PlanResult", "infeasible_error", "load_inputs", "make_plan"]


@dataclass
class PlanResult:
    plan: PlanFile
    stats: SearchStats
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


def load_inputs(spec_path, variants_path, profiles_path=None):
    """Read the spec, variants.json (a file or the folder holding it) and optional profiles.json."""
    from toolkit.artifacts import load_artifact
    from toolkit.artifacts.profiles import ProfilesFile
    from toolkit.artifacts.variants import VariantsFile
    from toolkit.spec import load_spec

    loaded = load_spec(spec_path)
    if variants_path is None:  # a generative spec plans from its architecture alone (every figure estimated)
        from toolkit.planner.llm_plan import variants_without_file

        variants = variants_without_file(loaded)
    else:
        variants = load_artifact(VariantsFile, Path(variants_path))
    profiles = load_artifact(ProfilesFile, Path(profiles_path)) if profiles_path else None
    return loaded, variants, profiles


def check_purchase(purchase) -> set[str]:
    """The purchase options a plan may use (all by default); an unknown one is bad input with the choices."""
    from toolkit.errors import InputError
    from toolkit.suggest import did_you_mean

    chosen = set(purchase or PURCHASE_OPTIONS)
    for p in chosen:
        if p not in PURCHASE_OPTIONS:
            raise InputError(f"unknown purchase option '{p}'{did_you_mean(p, PURCHASE_OPTIONS)}", hint=f"choose from: {', '.join(PURCHASE_OPTIONS)}")
    return chosen | {"on-demand"}


def _no_accepted_variant(variants) -> InfeasibleError:
    rejected = [f"{v.name} ({v.rejected_reason or 'rejected'})" for v in variants.variants if v.status == "rejected"]
    return InfeasibleError(
        "no variant in variants.json passed the quality floor, so there is nothing to plan",
        hint=("rejected: " + "; ".join(rejected) + ". " if rejected else "") + "lower compression.quality_floor or build other variants",
    )


def _traffic_summary(spec, demand: np.ndarray, periodic: bool, autocorr: float) -> dict:
    pat = spec.traffic.pattern
    mf = C.MONTH_MINUTES / demand.size
    out = {
        "kind": pat.kind, "minutes": int(demand.size), "days": round(demand.size / 1440, 3),
        "peak_rps": round(float(demand.max()), 3), "mean_rps": round(float(demand.mean()), 3),
        "p95_rps": round(float(np.quantile(demand, 0.95)), 3),
        "requests_per_month": round(float(demand.sum() * 60 * mf), 1),
        "periodic": periodic, "daily_autocorrelation": round(autocorr, 3),
    }
    if pat.kind == "trace":
        out["file"] = pat.file
    return out


def make_plan(loaded, variants, profiles=None, *, catalog=None, strategy: str = "fast", top: int = 5, demand=None,
              on_stage: Callable[[str], None] | None = None, purchase=None, confidence: float | None = None,
              across_band: bool = True) -> PlanResult:
    """The cheapest configuration meeting the SLA and budget, its runners-up, baselines and explanations.

    ``confidence`` (0.5-0.99): plan with capacity at that point of its uncertainty band (0.9: the SLA holds if the
    true capacity is anywhere in the top 90% of the band), and record the choice at the band's ends."""
    from toolkit.families import family_for
    from toolkit.traffic import demand as traffic_demand

    t_start = time.perf_counter()
    stage = on_stage or (lambda s: None)
    spec = loaded.spec
    warnings: list[str] = []
    if catalog is None:
        from toolkit.pricing import load_catalog

        catalog = load_catalog(warn=warnings.append)
    for region in spec.targets.regions:  # a typo is bad input (exit 2), not "nothing is feasible" (exit 3)
        catalog.check_region(region, where="targets.regions: ")
    if not variants.accepted():
        raise _no_accepted_variant(variants)
    if variants.spec_sha256 != loaded.sha256:
        warnings.append("variants.json was built from a different spec (its spec_sha256 differs); plan uses it as it is")

    family = family_for(spec.model.task)
    sla = family.sla(spec.sla)
    allowed = check_purchase(purchase)

    stage("traffic")
    if demand is None:
        demand = traffic_demand(spec.traffic, spec.sla.peak_rps, base_dir=loaded.path.parent)
    rps = np.asarray(demand, dtype=float)
    if float(rps.max()) > spec.sla.peak_rps * 1.0001:
        warnings.append(f"the traffic peaks at {float(rps.max()):.1f} req/s, above sla.peak_rps {spec.sla.peak_rps:g}: the plan serves the traffic as given")
    demand = family.demand(rps, spec)  # in the family's capacity unit from here on
    index = TraceIndex(demand)
    n = index.n
    mf = C.MONTH_MINUTES / n
    peak = float(demand.max())
    periodic, autocorr = is_periodic(demand)
    from toolkit.planner import llm_plan

    llm = llm_plan.prepare(loaded, family, variants, catalog, demand, mf)  # generative families only (None otherwise)

    stage("candidates")
    if confidence is not None and not 0.0 <= confidence <= 1.0:
        from toolkit.errors import InputError

        raise InputError(f"confidence {confidence:g} is outside 0-1", hint="0.5 plans at the middle of the capacity band; 0.9 near its pessimistic end")
    cset = enumerate_candidates(spec, variants, profiles, catalog, demand, allow_spot=spec.targets.allow_spot and "spot" in allowed,
                                confidence=confidence)
    allowance = sla.max_violation_minutes_per_month
    budget = spec.budget.max_monthly_usd
    m0 = sla.min_instances
    profile = None
    if periodic:  # daily schedules, and weekday/weekend ones when the traffic is weekly
        weekday0, start_note = first_weekday(spec.traffic, loaded.path.parent)
        profile = schedule_profiles(demand, SLOT_MIN, weekday0, start_note)
    space = LaneSpace(cset.groups, peak, m0, profile, SLOT_MIN)
    ledger = Ledger(space, cset.serverless, allowance=allowance, budget=budget, month_factor=mf,
                    quality_loss=lambda v: family.quality_loss(v.quality))
    evaluator = Evaluator(index, space)

    stage("search")
    strat = make_strategy(strategy, space, ledger, index, top)
    stats = run_search(strat, ledger, evaluator)
    spot, spot_notes = check_spot(ledger, evaluator, index, mf, sla, catalog, seed=spec.traffic.seed)
    cset.notes.extend(spot_notes)

    stage("details")
    ranked = ledger.ranking()[:top]
    outcomes = {ci: _outcome(ledger, evaluator, ci, spot.get(ci)) for ci in ranked if ledger.configs[ci].kind == "instance"}
    scheduling = scheduling_summary(ledger, ranked, periodic, autocorr, mf, allowance, budget, profile)

    def build(ci: int, why: str | None = None) -> Candidate:
        c = ledger.configs[ci]
        if c.kind == "serverless":
            return serverless_candidate(c.serverless, index, mf, cset.requests_per_month, why=why)
        out = outcomes[ci]
        cand = instance_candidate(out, index, mf, cset.requests_per_month, why=why)
        if ci in spot:
            cand = apply_spot(cand, out, spot[ci])
        cand.purchase = purchase_section(cand, out, spot.get(ci), index, mf, catalog, space, "savings-plan" in allowed, sla)
        return cand

    chosen = build(ranked[0]) if ranked else None
    runners: list[Candidate] = []
    for ci in ranked[1:]:
        cand = build(ci)
        cand.why_not = tie_reason(ledger, ci, ranked[0], family) if ledger.tied_on_cost(ci, ranked[0]) else why_lost(cand, chosen)
        runners.append(cand)
    misses: list[Candidate] = []
    if chosen is None:
        misses = nearest_misses(ledger, evaluator, cset, index, mf, allowance, budget, top, spec)
    elif ledger.configs[ranked[0]].kind == "instance":
        out = outcomes[ranked[0]]
        v_low, low = low_capacity_violations(out, index, mf)
        chosen.sensitivity = Sensitivity(capacity=round(low, 3), violation_minutes=round(v_low, 1), meets_sla=bool(sla.allows(v_low)),
                                         note="same policy and target value, capacity at the low end of its uncertainty band",
                                         cost_band=cost_band(out, index, mf, peak, m0, allowance, profile, SLOT_MIN),
                                         scale_in_alternative=scale_in_alternative(out, index, mf, sla))
        note = arm_gpu_note(out.group.instance)
        if note:
            warnings.append(note)
    else:
        s_opt = ledger.configs[ranked[0]].serverless
        chosen.sensitivity = Sensitivity(note="serverless: the estimated cold start and keep-warm period varied",
                                         serverless=serverless_variations(s_opt, rps, mf, sla))

    stage("baselines")
    baselines = Baselines(static_peak=static_peak(cset, index, m0, peak), single_gpu_default=None)
    gpu, gpu_note = single_gpu_default(spec, variants, profiles, catalog, index, cset.requests_per_month, mf, chosen, warnings,
                                       family=family, sla=sla)
    baselines.single_gpu_default = gpu

    stage("explain")
    plan = PlanFile(
        spec_sha256=loaded.sha256, name=spec.name, sla=sla,
        traffic=_traffic_summary(spec, rps, periodic, autocorr), tags=dict(spec.tags),
        feasible=chosen is not None, chosen=chosen, runners_up=runners, nearest_misses=misses, baselines=baselines,
        strategy=stats.strategy, search=stats.as_dict() | {"configurations": len(ledger.configs), "groups": len(cset.groups),
                                                           "serverless_options": len(cset.serverless)},
        scheduling=scheduling,
    )
    from toolkit.planner.explain import assumptions, estimates, excluded_summary, price_refs

    plan.prices = price_refs(plan)
    plan.assumptions = assumptions(spec, catalog, cset, index, gpu_note, warnings)
    plan.estimates = estimates(plan, cset) + sensitivity_lines(chosen)
    plan.excluded = excluded_summary(cset.excluded)
    if llm is not None:
        llm_plan.finish(llm, plan, cset, index, mf, catalog)
    if confidence is not None and across_band and chosen is not None:
        plan.confidence = _across_band(loaded, variants, profiles, catalog, strategy, rps, purchase, confidence)
    return PlanResult(plan, stats, warnings, time.perf_counter() - t_start)


# ---- pieces ---------------------------------------------------------------------------------------


def _across_band(loaded, variants, profiles, catalog, strategy, rps, purchase, confidence) -> dict:
    """The chosen configuration with capacity at the band's optimistic end, its middle, the asked confidence and the
    pessimistic end: how the choice moves across the band."""
    from toolkit.planner.assemble import short_name

    rows = []
    for label, c in (("optimistic end", 0.0), ("middle", 0.5), (f"confidence {confidence:g}", confidence), ("pessimistic end", 1.0)):
        p = make_plan(loaded, variants, profiles, catalog=catalog, strategy=strategy, top=1, demand=rps, purchase=purchase,
                      confidence=c, across_band=False).plan
        ch = p.chosen
        rows.append({"at": label, "confidence": c, "configuration": short_name(ch) if ch else None,
                     "monthly_cost_usd": round(ch.monthly_cost_usd, 2) if ch else None})
    stable = len({r["configuration"] for r in rows}) == 1
    return {"level": confidence, "choices": rows, "stable": stable,
            "note": "capacity taken as equally likely anywhere in its band; each row re-plans with capacity at that point"}


def _outcome(ledger: Ledger, evaluator: Evaluator, ci: int, spot=None) -> InstanceOutcome:
    c = ledger.configs[ci]
    lane = spot.lane if spot is not None else int(ledger.best_lane[c.gid])
    b, row = evaluator.where[lane]
    lanes, log = evaluator.batches[b]
    g = ledger.space.groups[c.gid]
    return InstanceOutcome(g, g.options[int(ledger.region_choice[ci])], ledger.space.policy(lane), lanes, log, row, float(ledger.viol[lane]),
                           schedule=ledger.space.schedule(lane), calendar=ledger.space.calendar_of(lane))


