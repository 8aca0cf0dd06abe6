"""``make_plan``: estimate -> simulate -> search -> explain, and the plan.json it produces.

    from toolkit.planner import load_inputs, make_plan
    loaded, variants, profiles = load_inputs("leanserve.yaml", "out/variants.json", "out/profiles.json")
    result = make_plan(loaded, variants, profiles, strategy="fast", top=5)
    result.plan.chosen.monthly_cost_usd
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from toolkit.artifacts.plan import Baselines, Candidate, PlanFile, Simulation
from toolkit.errors import InfeasibleError
from toolkit.planner import costs as C
from toolkit.planner.assemble import (
    InstanceOutcome,
    cost_band,
    instance_candidate,
    latency_miss,
    low_capacity_violations,
    miss_reason,
    serverless_candidate,
    short_name,
    static_candidate,
    static_instances,
    why_lost,
)
from toolkit.planner.candidates import CandidateSet, enumerate_candidates, instance_price_model
from toolkit.planner.dynamics import sagemaker_dynamics
from toolkit.planner.grid import G, SAFETY_FACTORS, LaneSpace, Policy, lanes_from_arrays
from toolkit.planner.schedule import FRACTIONS, build_schedule, hourly_profile, is_periodic
from toolkit.planner.search import Evaluator, Ledger, SearchStats, make_strategy, run_search
from toolkit.planner.simulate import TraceIndex, measure_events, run_events

DEFAULT_GPU = "ml.g5.xlarge"


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
    variants = load_artifact(VariantsFile, Path(variants_path))
    profiles = load_artifact(ProfilesFile, Path(profiles_path)) if profiles_path else None
    return loaded, variants, profiles


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
              on_stage: Callable[[str], None] | None = None) -> PlanResult:
    """The cheapest configuration meeting the SLA and budget, its runners-up, baselines and explanations."""
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

    stage("traffic")
    if demand is None:
        demand = traffic_demand(spec.traffic, spec.sla.peak_rps, base_dir=loaded.path.parent)
    demand = np.asarray(demand, dtype=float)
    index = TraceIndex(demand)
    n = index.n
    mf = C.MONTH_MINUTES / n
    peak = float(demand.max())
    periodic, autocorr = is_periodic(demand)
    if peak > spec.sla.peak_rps * 1.0001:
        warnings.append(f"the traffic peaks at {peak:.1f} req/s, above sla.peak_rps {spec.sla.peak_rps:g}: the plan serves the traffic as given")

    stage("candidates")
    cset = enumerate_candidates(spec, variants, profiles, catalog, demand)
    allowance = spec.sla.max_violation_minutes_per_month
    budget = spec.budget.max_monthly_usd
    m0 = spec.sla.availability.min_instances
    space = LaneSpace(cset.groups, peak, m0)
    ledger = Ledger(space, cset.serverless, allowance=allowance, budget=budget, month_factor=mf)
    evaluator = Evaluator(index, space)

    stage("search")
    strat = make_strategy(strategy, space, ledger, index, top)
    stats = run_search(strat, ledger, evaluator)

    stage("details")
    ranked = ledger.ranking()[:top]
    outcomes = {ci: _outcome(ledger, evaluator, ci) for ci in ranked if ledger.configs[ci].kind == "instance"}
    scheduling, outcomes, cost_override = _compare_schedules(index, ledger, outcomes, periodic, autocorr, demand, mf, allowance, budget, m0)
    cost_of = lambda ci: cost_override.get(ci, float(ledger.cost[ci]))  # noqa: E731
    ranked = sorted(ranked, key=lambda ci: (cost_of(ci), ci))

    def build(ci: int, why: str | None = None) -> Candidate:
        c = ledger.configs[ci]
        if c.kind == "serverless":
            return serverless_candidate(c.serverless, index, mf, cset.requests_per_month, why=why)
        return instance_candidate(outcomes[ci], index, mf, cset.requests_per_month, why=why)

    chosen = build(ranked[0]) if ranked else None
    runners: list[Candidate] = []
    for ci in ranked[1:]:
        cand = build(ci)
        cand.why_not = why_lost(cand, chosen)
        runners.append(cand)
    misses: list[Candidate] = []
    if chosen is None:
        misses = _nearest_misses(ledger, evaluator, cset, index, mf, allowance, budget, top, spec)
    elif ledger.configs[ranked[0]].kind == "instance":
        out = outcomes[ranked[0]]
        v_low, low = low_capacity_violations(out, index, mf)
        chosen.sensitivity = {"capacity_rps_per_instance": round(low, 3), "violation_minutes": round(v_low, 1),
                              "meets_sla": v_low <= allowance,
                              "note": "same policy and target value, capacity at the low end of its uncertainty band"}
        band = cost_band(out, index, mf, peak, m0, allowance)
        if band:
            chosen.sensitivity["cost_band"] = band | {
                "note": "the cheapest policy that meets the SLA on this configuration, re-searched with capacity at each end of its band"}

    stage("baselines")
    baselines = Baselines(static_peak=_static_peak(cset, index, m0, peak), single_gpu_default=None)
    gpu, gpu_note = _single_gpu_default(spec, variants, profiles, catalog, index, cset.requests_per_month, mf, chosen, warnings)
    baselines.single_gpu_default = gpu

    stage("explain")
    plan = PlanFile(
        spec_sha256=loaded.sha256, name=spec.name, sla=spec.sla.model_dump(mode="json"),
        traffic=_traffic_summary(spec, demand, periodic, autocorr), tags=dict(spec.tags),
        feasible=chosen is not None, chosen=chosen, runners_up=runners, nearest_misses=misses, baselines=baselines,
        strategy=stats.strategy, search=stats.as_dict() | {"configurations": len(ledger.configs), "groups": len(cset.groups),
                                                           "serverless_options": len(cset.serverless)},
        scheduling=scheduling,
    )
    from toolkit.planner.explain import assumptions, estimates, excluded_summary, price_refs

    plan.prices = price_refs(plan)
    plan.assumptions = assumptions(spec, catalog, cset, index, gpu_note, warnings)
    plan.estimates = estimates(plan, cset)
    plan.excluded = excluded_summary(cset.excluded)
    return PlanResult(plan, stats, warnings, time.perf_counter() - t_start)


# ---- pieces ---------------------------------------------------------------------------------------


def _outcome(ledger: Ledger, evaluator: Evaluator, ci: int) -> InstanceOutcome:
    c = ledger.configs[ci]
    lane = int(ledger.best_lane[c.gid])
    b, row = evaluator.where[lane]
    lanes, log = evaluator.batches[b]
    g = ledger.space.groups[c.gid]
    return InstanceOutcome(g, g.options[int(ledger.region_choice[ci])], ledger.space.policy(lane), lanes, log, row, float(ledger.viol[lane]))


def _compare_schedules(index, ledger, outcomes, periodic, autocorr, demand, mf, allowance, budget, m0):
    """Try daily scheduled floors on top of target tracking for the top instance configurations."""
    if not outcomes:
        return ({"periodic": periodic, "daily_autocorrelation": round(autocorr, 3), "compared": False,
                 "reason": "no instance-based configuration among the best"}, outcomes, {})
    if not periodic:
        return ({"periodic": False, "daily_autocorrelation": round(autocorr, 3), "compared": False,
                 "reason": "traffic is not periodic (daily autocorrelation below 0.6 or shorter than two days): scheduled scaling cannot anticipate it"},
                outcomes, {})
    profile = hourly_profile(demand)
    results, override = [], {}
    by_group: dict[int, list[int]] = {}
    for ci, out in outcomes.items():
        by_group.setdefault(out.group.gid, []).append(ci)
    for gid, cis in by_group.items():
        base = outcomes[cis[0]]
        g, pol = base.group, base.policy
        rows = []
        for frac in FRACTIONS:
            for sf in SAFETY_FACTORS:
                rows.append((frac, sf, build_schedule(profile, g.cap_rps, frac, m0, pol.max_capacity, g.dynamics.startup_min)))
        width = max(len(r[2]) for r in rows)
        tod = np.full((len(rows), width), -1, dtype=np.int64)
        floor = np.zeros((len(rows), width), dtype=np.int64)
        for i, (_, _, sched) in enumerate(rows):
            for j, (m, f) in enumerate(sched):
                tod[i, j], floor[i, j] = m, f
        k = len(rows)
        csf = np.asarray([g.cap_rps * sf for _, sf, _ in rows])
        lanes = lanes_from_arrays(csf, np.full(k, g.cap_rps), np.full(k, m0), np.full(k, pol.max_capacity),
                                  [g.dynamics], np.zeros(k, dtype=np.int64), schedule=(tod, floor))
        log = run_events(index, lanes)
        viol, _ = measure_events(index, lanes, log, np.arange(k))
        ok = viol * mf <= allowance
        best_row = None
        if ok.any():
            key = np.where(ok, log.billed_minutes * k + np.arange(k), np.iinfo(np.int64).max)
            best_row = int(np.argmin(key))
        adopted = best_row is not None and int(log.billed_minutes[best_row]) < base.billed
        for ci in cis:
            out = outcomes[ci]
            tt_cost = out.option.price.monthly(out.billed / 60 * mf)
            entry = {"configuration": f"{g.variant.name} on {g.instance.name}{' spot' if out.option.spot else ''} ({out.option.region})",
                     "target_tracking_usd": round(tt_cost, 2), "target_tracking_violation_minutes": round(out.viol * mf, 1)}
            if best_row is not None:
                s_cost = out.option.price.monthly(int(log.billed_minutes[best_row]) / 60 * mf)
                frac, sf, sched = rows[best_row]
                entry |= {"scheduled_usd": round(s_cost, 2), "scheduled_violation_minutes": round(float(viol[best_row]) * mf, 1),
                          "floor_fraction_of_hourly_p95": frac, "safety_factor": sf,
                          "schedule": [{"minute_of_day_utc": m, "min_capacity": f} for m, f in sched]}
            entry["adopted"] = bool(adopted)
            if adopted and (budget is None or s_cost <= budget):
                frac, sf, sched = rows[best_row]
                outcomes[ci] = InstanceOutcome(g, out.option, Policy(sf, m0, pol.max_capacity, g.cap_rps * sf * 60.0),
                                               lanes, log, best_row, float(viol[best_row]), schedule=sched)
                override[ci] = s_cost
            results.append(entry)
    return {"periodic": True, "daily_autocorrelation": round(autocorr, 3), "compared": True,
            "note": "daily minimum-capacity schedules (raise ahead of busy hours) on top of target tracking, for the best configurations",
            "results": results}, outcomes, override


def _static_peak(cset: CandidateSet, index: TraceIndex, m0: int, peak: float) -> Candidate | None:
    best = None
    for g in cset.groups:
        n_inst = static_instances(peak, g.cap_rps, m0)
        for oi, o in enumerate(g.options):
            cost = o.price.monthly(n_inst * C.MONTH_MINUTES / 60.0)
            key = (cost, g.gid, oi)
            if best is None or key < best[0]:
                best = (key, g, o, n_inst)
    if best is None:
        return None
    _, g, o, n_inst = best
    return static_candidate(g, o, n_inst, index, float(index.d.sum() * 60 * C.MONTH_MINUTES / index.n))


def _single_gpu_default(spec, variants, profiles, catalog, index, requests_month, mf, chosen, warnings):
    """ml.g5.xlarge with AWS's documented default: target = capacity x 0.5 x 60, cooldowns 300 s."""
    from toolkit.errors import InputError
    from toolkit.perf import CapacityEstimate, estimate_capacity

    try:
        info = catalog.instance(DEFAULT_GPU)
    except InputError:
        return None, f"baseline {DEFAULT_GPU}: not in the catalog"
    priced = set(catalog.regions("sagemaker-realtime"))
    regions = ([chosen.region] if chosen else []) + list(spec.targets.regions) + ["us-east-1"]
    region = next((r for r in regions if r in priced and _has_hosting(catalog, DEFAULT_GPU, r)), None)
    if region is None:
        return None, f"baseline {DEFAULT_GPU}: no price in any region"
    gpu_variants = [v for v in variants.accepted() if "gpu" in v.devices]
    gpu_variants.sort(key=lambda v: (v.precision != "fp16", v.name))
    if not gpu_variants:
        return None, f"baseline {DEFAULT_GPU}: no accepted variant runs on a GPU (build onnx-fp16 or onnx-fp32 for GPUs)"
    v = gpu_variants[0]
    est = estimate_capacity(v, info, spec.sla.percentile, spec.sla.latency_ms, list(profiles.profiles) if profiles else [], variants.machine,
                            seq_len=spec.model.max_sequence_length)
    if not isinstance(est, CapacityEstimate) or min(est.max_rps_at_sla, est.saturation_rps) <= 0:
        reason = est.reason if not isinstance(est, CapacityEstimate) else "cannot meet the SLA latency"
        return None, f"baseline {DEFAULT_GPU}: {reason}"
    from toolkit.planner.candidates import Group, Option

    cap = min(est.max_rps_at_sla, est.saturation_rps)
    dyn = sagemaker_dynamics()
    pm = instance_price_model("sagemaker-realtime", info, region, False, catalog, requests_month, spec.model.task, spec.name, [])
    g = Group(-1, v, "sagemaker-realtime", info, est, cap, dyn, [Option(region, False, pm)])
    m0 = spec.sla.availability.min_instances
    sf = 0.5
    mx = max(m0, math.ceil(index.d.max() / (cap * sf)))
    lanes = lanes_from_arrays([cap * sf], [cap], [m0], [mx], [dyn], np.zeros(1, dtype=np.int64))
    log = run_events(index, lanes)
    viol, _ = measure_events(index, lanes, log, [0])
    out = InstanceOutcome(g, g.options[0], Policy(sf, m0, mx, cap * sf * 60.0), lanes, log, 0, float(viol[0]))
    cand = instance_candidate(out, index, mf, requests_month,
                              why=f"AWS default: {DEFAULT_GPU} with target tracking at the documented formula (safety factor 0.5), "
                                  f"cooldowns 300 s, min {m0}")
    cand.feasible = viol[0] * mf <= spec.sla.max_violation_minutes_per_month
    return cand, f"baseline {DEFAULT_GPU}: variant {v.name}, {region}"


def _has_hosting(catalog, name: str, region: str) -> bool:
    from toolkit.errors import InputError

    try:
        catalog.hosting_price(name, region)
        return True
    except InputError:
        return False


def _nearest_misses(ledger, evaluator, cset, index, mf, allowance, budget, top, spec) -> list[Candidate]:
    """When nothing is feasible: the configurations closest to feasible, with what to relax."""
    scored: list[tuple[float, float, int, object]] = []
    for c in ledger.configs:
        if c.kind == "serverless":
            best = None
            for s in c.serverless_options:
                score, why = miss_reason(s.sim.violation_minutes * mf, allowance, s.monthly_usd, budget)
                if best is None or (score, s.monthly_usd, s.estimate.memory_mb) < best[:3]:
                    best = (score, s.monthly_usd, s.estimate.memory_mb, s, why)
            c.serverless = best[3]
            scored.append((best[0], best[1], c.index, ("serverless", c, best[4])))
            continue
        lanes = np.arange(c.gid * G, (c.gid + 1) * G)
        done = lanes[ledger.billed[lanes] >= 0]
        best = None
        for lane in done.tolist():
            cost, opt = ledger.option_cost(c.gid, int(ledger.billed[lane]), c.option_ids)
            score, why = miss_reason(float(ledger.viol[lane]) * mf, allowance, cost, budget)
            if best is None or (score, cost, lane) < best[:3]:
                best = (score, cost, lane, opt, why)
        if best is not None:
            scored.append((best[0], best[1], c.index, ("instance", c, best)))
    for i, x in enumerate(cset.excluded):
        if x.kind == "latency" and x.latency_ms:
            score, why = latency_miss(x, spec.sla.latency_ms, spec.sla.percentile, budget)
            scored.append((score, x.min_monthly_usd or 0.0, len(ledger.configs) + i, ("latency", x, why)))
    scored.sort(key=lambda t: (t[0], t[1], t[2]))
    out: list[Candidate] = []
    for score, cost, _, (kind, obj, info) in scored[:top]:
        if kind == "serverless":
            out.append(serverless_candidate(obj.serverless, index, mf, cset.requests_per_month, feasible=False, why=info))
        elif kind == "instance":
            _, _, lane, opt, why = info
            b, row = evaluator.where[lane]
            lanes, log = evaluator.batches[b]
            g = ledger.space.groups[obj.gid]
            o = InstanceOutcome(g, g.options[opt], ledger.space.policy(lane), lanes, log, row, float(ledger.viol[lane]))
            out.append(instance_candidate(o, index, mf, cset.requests_per_month, feasible=False, why=why))
        else:
            x = obj
            cost = x.min_monthly_usd or 0.0
            out.append(Candidate(variant=x.variant, platform=x.platform, region=x.region or spec.targets.regions[0],
                                 instance_type=x.instance_type if x.platform != "sagemaker-serverless" else None,
                                 capacity_rps_per_instance=0.0, monthly_cost_usd=round(cost, 6),
                                 cost_per_million_requests_usd=round(cost / (cset.requests_per_month / 1e6), 6) if cset.requests_per_month else 0.0,
                                 simulation=Simulation(minutes=index.n, violation_minutes=float(C.MONTH_MINUTES), peak_instances=0,
                                                       mean_instances=0.0, utilisation=0.0),
                                 feasible=False, why_not=info))
    return out


def infeasible_error(plan: PlanFile, out_path: str | None = None) -> InfeasibleError:
    """The error the CLI raises (exit 3) when nothing is feasible, naming the nearest miss."""
    where = f" ({out_path} lists them all)" if out_path else ""
    if plan.nearest_misses:
        first = plan.nearest_misses[0]
        return InfeasibleError(
            f"no configuration meets the SLA and budget; nearest miss: {short_name(first)}: {first.why_not}",
            hint=f"relax what the nearest misses name{where}, or allow more platforms, regions or instance types",
        )
    reasons = [f"{x['variant']} on {x['platform']} ({x['count']}): {x['example']}" for x in plan.excluded[:3]]
    notes = [a[len("Note: "):] for a in plan.assumptions if a.startswith("Note: ")][:3]
    return InfeasibleError(
        "no configuration meets the SLA and budget: no candidate could run at all",
        hint="; ".join(notes + reasons) or "allow more platforms, regions or instance types in targets",
    )
