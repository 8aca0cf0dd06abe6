"""Benchmarks of `leanserve plan`: scale, agreement of the search strategies, savings against baselines.

    .venv/bin/python benchmarks/plan_bench.py [scale] [agreement] [savings] [independence] [purchase] [weekly] [generative] [--scenarios N]

- scale: 30 variants x every catalog instance type x 3 platforms x 7 regions x a 30-day trace at
  1-minute resolution; target: a full plan (fast strategy) in < 2 s.
- agreement: the exact (brute force) and fast (lower-bound pruning) strategies on 100 random
  scenarios; target: the same chosen configuration and the same top N, every time.
- generative: LLM plans from architecture shapes against static peak on the default GPU and the API prices (plan_bench_llm.py).
- weekly: 7-day traces with quieter weekends, daily vs weekday/weekend schedules (benchmarks/plan_bench_weekly.py).
- --stability run1.json ... [--variants variants.json]: the example planned from saved bench runs (profiles.json
  files, nothing measured anew): how many pick the same configuration, at the point estimate and --confidence 0.9.
- savings: the example spec with its diurnal traffic and with a bursty shape; the plan's monthly cost
  and violation minutes against both baselines; target: >= 40% cheaper than static-peak provisioning
  on the diurnal shape, within the violation allowance. For context it also prints the most any
  autoscaling policy could save (a clairvoyant fleet that follows each minute's demand instantly).

Variants come from tests/planner/fixtures/variants.json (numbers measured as in ENVIRONMENT.md); the
scale run derives 30 variants from them with latency and size scaled, as compress would report for
a family of distilled and pruned students.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FIXTURES = ROOT / "tests" / "planner" / "fixtures"
SPEC = ROOT / "examples" / "minilm" / "leanserve.yaml"


def _inputs():
    from toolkit.artifacts import load_artifact
    from toolkit.artifacts.profiles import ProfilesFile
    from toolkit.artifacts.variants import VariantsFile
    from toolkit.spec import load_spec

    return load_spec(SPEC), load_artifact(VariantsFile, FIXTURES / "variants.json"), load_artifact(ProfilesFile, FIXTURES / "profiles.json")


def _loaded(spec, path=SPEC):
    from toolkit.spec import LoadedSpec, spec_hash

    return LoadedSpec(spec=spec, path=Path(path).resolve(), sha256=spec_hash(spec))


def _catalog():
    from toolkit.pricing import load_catalog

    return load_catalog(warn=lambda m: None)


def _table(head: list[str], rows: list[list]) -> str:
    cells = [[str(c) for c in r] for r in [head] + rows]
    w = [max(len(r[i]) for r in cells) for i in range(len(head))]
    line = lambda r: "  ".join(c.rjust(w[i]) if i else c.ljust(w[i]) for i, c in enumerate(r))  # noqa: E731
    return "\n".join([line(cells[0]), "  ".join("-" * x for x in w)] + [line(r) for r in cells[1:]])


def thirty_variants(variants):
    """30 accepted variants: the fixture's CPU variants with latency x f and size x s, plus GPU ones."""
    from toolkit.artifacts.variants import LatencyPoint

    base = [v for v in variants.accepted()]
    out = []
    rng = random.Random(0)
    i = 0
    while len(out) < 30:
        v = base[i % len(base)]
        f = 0.6 + 1.6 * rng.random()
        s = 0.5 + rng.random()
        lat = [LatencyPoint(**(p.model_dump() | {"p50_ms": round(p.p50_ms * f, 3), "p95_ms": round(p.p95_ms * f, 3),
                                                 "items_per_s": round(p.items_per_s / f, 1)})) for p in v.latency]
        out.append(v.model_copy(update={"name": f"{v.name}-s{len(out):02d}", "latency": lat, "size_bytes": int(v.size_bytes * s),
                                        "gflops_per_item": (v.gflops_per_item or 2.87) * (0.5 + 0.5 * f)}))
        i += 1
    return variants.model_copy(update={"variants": out})


def bench_scale() -> None:
    from toolkit.planner.api import make_plan

    loaded, variants, profiles = _inputs()
    cat = _catalog()
    regions = cat.regions("kubernetes")
    spec = loaded.spec.model_copy(deep=True)
    spec.targets.regions = regions
    spec.targets.platforms = ["sagemaker-realtime", "sagemaker-serverless", "kubernetes"]
    spec.targets.allow_spot = True
    v30 = thirty_variants(variants)
    ls = _loaded(spec)
    make_plan(ls, v30, profiles, catalog=cat, strategy="fast", top=5)  # warm imports and caches
    stages: dict[str, float] = {}
    last = [time.perf_counter(), None]

    def on_stage(name):
        now = time.perf_counter()
        if last[1]:
            stages[last[1]] = now - last[0]
        last[0], last[1] = now, name

    t0 = time.perf_counter()
    res = make_plan(ls, v30, profiles, catalog=cat, strategy="fast", top=5, on_stage=on_stage)
    total = time.perf_counter() - t0
    stages[last[1]] = time.perf_counter() - last[0]
    p = res.plan
    s = p.search
    types = {i.name for pl in ("sagemaker-realtime", "kubernetes") for r in cat.regions(pl) for i in cat.instance_types(pl, r)}
    print("\n## Scale: 30 variants x every catalog instance type x 3 platforms x 7 regions x 30-day 1-minute trace\n")
    print(_table(["item", "value"], [
        ["variants (accepted)", len(v30.accepted())], ["instance types in catalog", len(types)], ["regions", len(regions)],
        ["trace minutes", p.traffic.minutes], ["instance groups (variant x platform x type)", s.groups],
        ["configurations ranked", s.configurations], ["serverless options", s.serverless_options],
        ["lanes (group x policy)", f"{s.lanes_total:,}"], ["lanes simulated", f"{s.lanes_simulated:,}"],
        ["lanes pruned by lower bound", f"{s.lanes_pruned:,}"],
        *[[f"stage {k} (s)", f"{v:.3f}"] for k, v in stages.items()],
        ["full plan (s), target < 2", f"{total:.3f}"],
        ["chosen", f"{p.chosen.variant} {p.chosen.platform} {p.chosen.instance_type or ''} {p.chosen.region} ${p.chosen.monthly_cost_usd:,.2f}"],
    ]))


def _random_spec(base, rng: random.Random, cat):
    spec = base.model_copy(deep=True)
    spec.sla.p95_ms = rng.choice([30.0, 50.0, 80.0, 150.0])
    spec.sla.peak_rps = rng.choice([40.0, 150.0, 600.0, 2000.0])
    spec.sla.max_violation_minutes_per_month = rng.choice([0.0, 20.0, 60.0, 240.0])
    spec.sla.availability.min_instances = rng.choice([1, 2, 3])
    spec.sla.availability.spread_across_zones = spec.sla.availability.min_instances >= 2
    kind = rng.choice(["diurnal", "bursty", "constant"])
    from toolkit.spec import BurstyTraffic, ConstantTraffic, DiurnalTraffic

    if kind == "diurnal":
        pat = DiurnalTraffic(kind="diurnal", trough_rps=spec.sla.peak_rps * rng.uniform(0.05, 0.5), noise=rng.choice([0.0, 0.05, 0.15]),
                             weekend_factor=rng.choice([1.0, 0.6]))
    elif kind == "bursty":
        pat = BurstyTraffic(kind="bursty", base_rps=spec.sla.peak_rps * rng.uniform(0.05, 0.5), bursts_per_day=rng.choice([2, 6, 24]),
                            burst_minutes=rng.choice([5, 20, 60]))
    else:
        pat = ConstantTraffic(kind="constant", rps=spec.sla.peak_rps * rng.uniform(0.3, 1.0))
    spec.traffic.pattern = pat
    spec.traffic.days = rng.choice([2, 3, 4])
    spec.traffic.seed = rng.randrange(1000)
    fams = sorted({i.family for i in cat.all_instances() if not i.accelerator or i.family in ("g4dn", "g5", "g6")})
    spec.targets.instance_families = rng.sample(fams, rng.choice([3, 5, 8]))
    spec.targets.regions = rng.sample(["us-east-1", "us-west-2", "eu-west-1", "us-east-2", "eu-central-1"], rng.choice([1, 2, 3]))
    spec.targets.platforms = rng.sample(["sagemaker-realtime", "sagemaker-serverless", "kubernetes"], rng.choice([1, 2, 3]))
    spec.targets.allow_spot = rng.random() < 0.5
    spec.budget.max_monthly_usd = rng.choice([None, None, 500.0, 5000.0])
    return spec


def _signature(plan) -> list:
    cands = ([plan.chosen] + list(plan.runners_up)) if plan.chosen else list(plan.nearest_misses)
    sig = []
    for c in cands:
        a = c.autoscaling
        pol = (a.min_capacity, a.max_capacity, a.safety_factor, len(a.scheduled)) if a else (c.serverless.memory_mb if c.serverless else None)
        sig.append((c.variant, c.platform, c.instance_type, c.region, c.spot, round(c.monthly_cost_usd, 6), c.simulation.violation_minutes, pol))
    return [plan.feasible] + sig


def bench_agreement(n: int = 100) -> None:
    from toolkit.planner.api import make_plan

    loaded, variants, profiles = _inputs()
    cat = _catalog()
    rng = random.Random(42)
    agree, feasible, t_exact, t_fast, sim_exact, sim_fast, rows = 0, 0, 0.0, 0.0, 0, 0, []
    for i in range(n):
        spec = _random_spec(loaded.spec, rng, cat)
        ls = _loaded(spec)
        vs = variants.model_copy(update={"variants": rng.sample(variants.variants, rng.choice([2, 3, 4, 6]))})
        if not vs.accepted():
            vs = variants
        t = time.perf_counter()
        ex = make_plan(ls, vs, profiles, catalog=cat, strategy="exact", top=3)
        t_exact += time.perf_counter() - t
        t = time.perf_counter()
        fa = make_plan(ls, vs, profiles, catalog=cat, strategy="fast", top=3)
        t_fast += time.perf_counter() - t
        same = _signature(ex.plan) == _signature(fa.plan)
        agree += same
        feasible += ex.plan.feasible
        sim_exact += ex.stats.lanes_simulated
        sim_fast += fa.stats.lanes_simulated
        if not same:
            rows.append([i, _signature(ex.plan)[:2], _signature(fa.plan)[:2]])
    print(f"\n## Agreement: exact vs fast on {n} random scenarios (top 3 compared: configuration, policy, cost, violations)\n")
    print(_table(["item", "value"], [
        ["scenarios", n], ["feasible (exact)", feasible], ["identical results", f"{agree}/{n}"],
        ["lanes simulated, exact (mean)", f"{sim_exact / n:,.0f}"], ["lanes simulated, fast (mean)", f"{sim_fast / n:,.0f}"],
        ["time per plan, exact (mean s)", f"{t_exact / n:.3f}"], ["time per plan, fast (mean s)", f"{t_fast / n:.3f}"],
    ]))
    for r in rows[:10]:
        print("DISAGREE", r)


def bench_savings() -> None:
    from toolkit.planner.api import make_plan
    from toolkit.spec import BurstyTraffic

    loaded, variants, profiles = _inputs()
    cat = _catalog()
    rows = []
    shapes = {"diurnal (example spec)": loaded.spec}
    bursty = loaded.spec.model_copy(deep=True)
    bursty.traffic.pattern = BurstyTraffic(kind="bursty", base_rps=40.0, burst_rps=150.0, bursts_per_day=6, burst_minutes=20)
    shapes["bursty (40 -> 150 req/s, 6 bursts/day)"] = bursty
    # for context, beyond the spec: the same shapes at 10x the traffic, where instances, not the
    # 2-instance availability floor, set the bill
    big = loaded.spec.model_copy(deep=True)
    big.sla.peak_rps = 1500.0
    big.traffic.pattern = big.traffic.pattern.model_copy(update={"trough_rps": 150.0})
    shapes["diurnal x10 (150 -> 1,500 req/s)"] = big
    big_b = bursty.model_copy(deep=True)
    big_b.sla.peak_rps = 1500.0
    big_b.traffic.pattern = BurstyTraffic(kind="bursty", base_rps=400.0, burst_rps=1500.0, bursts_per_day=6, burst_minutes=20)
    shapes["bursty x10 (400 -> 1,500 req/s)"] = big_b
    allow = loaded.spec.sla.max_violation_minutes_per_month
    bounds = []
    for label, spec in shapes.items():
        p = make_plan(_loaded(spec), variants, profiles, catalog=cat, strategy="fast", top=5).plan
        c = p.chosen
        bound = _clairvoyant_bound(spec, c, p.baselines.static_peak)
        static = p.baselines.static_peak
        captured = "-"
        if static is not None and bound[4].endswith("%") and float(bound[4][:-1]) > 0:
            # like the bound, on instance-hours only: fees both sides pay (EKS, load balancer, data) left out
            saving = 1 - _instance_cost(c) / _instance_cost(static)
            captured = f"{saving:.1%} of {bound[4]} = {saving / (float(bound[4][:-1]) / 100):.0%}"
        bounds.append([label, *bound, "-" if c.serverless else f"{c.simulation.peak_instances}", captured])
        for key, b in (("plan", c), ("static peak", p.baselines.static_peak), ("single-GPU default", p.baselines.single_gpu_default)):
            if b is None:
                continue
            saving = "" if key == "plan" else f"{1 - c.monthly_cost_usd / b.monthly_cost_usd:.1%}"
            conf = (f"serverless {b.serverless.memory_mb} MB" if b.serverless else
                    f"{b.instance_type}{' spot' if b.spot else ''} x{b.autoscaling.min_capacity}-{b.autoscaling.max_capacity}" if b.autoscaling else
                    f"{b.instance_type} x{b.simulation.peak_instances} static")
            rows.append([label if key == "plan" else "", key, f"{b.variant} {b.platform} {conf}", f"${b.monthly_cost_usd:,.2f}",
                         f"{b.simulation.violation_minutes:.0f} / {allow:g}", saving])
    print("\n## Savings on the example spec (monthly cost; violation minutes per month / allowance; plan's saving vs baseline)\n")
    print(_table(["traffic", "row", "configuration", "$/month", "violation min", "plan saves"], rows))
    print("\n## Upper bound: a clairvoyant autoscaler on the plan's instance type (knows every minute's demand, starts "
          "instances instantly, keeps the availability floor), against the static-peak fleet; instance-hours only\n")
    print(_table(["traffic", "instance type", "capacity req/s", "clairvoyant mean instances", "static-peak fleet", "most it could save",
                                  "... with no availability floor", "plan's peak instances", "plan's instance-hour saving of the bound"], bounds))
    print("\nTarget: >= 40% cheaper than static peak on the diurnal shape, within the violation allowance; on shapes that need "
          ">= 4 instances at peak, the plan captures >= 75% of the saving the clairvoyant bound allows (issue 20).")


def bench_purchase() -> None:
    """Issue 19: on-demand, best commitment, commitment + spot on the example at 10x traffic (>= 4 instances at peak)."""
    from toolkit.planner.api import make_plan

    loaded, variants, profiles = _inputs()
    cat = _catalog()
    spec = loaded.spec.model_copy(deep=True)
    spec.sla.peak_rps = 1500.0
    spec.traffic.pattern = spec.traffic.pattern.model_copy(update={"trough_rps": 150.0})
    spec.targets.allow_spot = True
    spec.budget.max_monthly_usd = None
    rows = []
    base = None
    for label, purchase in (("on-demand only", ["on-demand"]), ("+ Savings Plans", ["on-demand", "savings-plan"]),
                            ("+ Savings Plans + spot", ["on-demand", "savings-plan", "spot"])):
        c = make_plan(_loaded(spec), variants, profiles, catalog=cat, purchase=purchase).plan.chosen
        b = c.purchase
        month = c.monthly_cost_usd - b.committed.saving_usd if b.committed else c.monthly_cost_usd  # the saving covers instances only
        base = base if base is not None else month
        how = (f"commit ${b.committed.commitment_usd_per_hour:.3f}/h {b.committed.term} {b.committed.payment}" if b.committed else
               "; ".join(b.notes)[:70] or "-")
        rows.append([label, f"{c.variant} {c.platform} {c.instance_type}{' spot' if c.spot else ''}", f"${month:,.2f}",
                     f"{c.simulation.violation_minutes:g}", f"{1 - month / base:.1%}", how])
    print("\n## Purchase options on the example at 10x traffic (diurnal 150 -> 1,500 req/s; allowance 60 min)\n")
    print(_table(["purchase", "configuration", "$/month", "violation min", "below on-demand", "how"], rows))
    print("\nTarget: >= 30% below the on-demand plan at the same allowance, every discount traceable to a cited rate.")


def bench_independence(n: int = 50) -> None:
    """--top changes only how much is shown: the chosen configuration and cost at --top 1, 5 and 50 (issue 20)."""
    from toolkit.planner.api import make_plan

    loaded, variants, profiles = _inputs()
    cat = _catalog()
    rng = random.Random(7)
    same, rows, t = 0, [], time.perf_counter()
    for i in range(n):
        spec = _random_spec(loaded.spec, rng, cat)
        ls = _loaded(spec)
        picks = []
        for top in (1, 5, 50):
            c = make_plan(ls, variants, profiles, catalog=cat, strategy="fast", top=top).plan.chosen
            picks.append(None if c is None else (c.variant, c.platform, c.instance_type, c.region, c.spot, round(c.monthly_cost_usd, 2)))
        ok = picks[0] == picks[1] == picks[2]
        same += ok
        if not ok:
            rows.append([i, *picks])
    print(f"\n## Independence: the chosen configuration at --top 1, 5 and 50 on {n} random scenarios\n")
    print(_table(["item", "value"], [["scenarios", n], ["identical at top 1 / 5 / 50", f"{same}/{n}"],
                                     ["seconds (3 plans each)", f"{time.perf_counter() - t:.1f}"]]))
    for r in rows[:10]:
        print("DIFFERS", r)
    print("\nTarget: identical in every scenario.")


def bench_stability(profile_paths: list[str], confidence: float = 0.9, variants_path: str | None = None) -> None:
    """The example planned from N independent bench runs (profiles.json files): how often the same configuration wins
    at the point estimate and at --confidence, and the spread of the capacity estimate (issue 20)."""
    from toolkit.artifacts import load_artifact
    from toolkit.artifacts.profiles import ProfilesFile
    from toolkit.planner.api import make_plan

    loaded, variants, _ = _inputs()
    if variants_path:  # the variants the bench runs measured (e.g. out/demo/variants.json), not the fixtures
        from toolkit.artifacts.variants import VariantsFile

        variants = load_artifact(VariantsFile, Path(variants_path))
    cat = _catalog()
    rows, picks = [], {None: [], confidence: []}
    for path in profile_paths:
        prof = load_artifact(ProfilesFile, Path(path))
        for conf in (None, confidence):
            c = make_plan(loaded, variants, prof, catalog=cat, confidence=conf, across_band=False).plan.chosen
            picks[conf].append(f"{c.variant} {c.instance_type or 'serverless'}")
            if conf is None:
                rows.append([path, picks[conf][-1], f"${c.monthly_cost_usd:,.2f}", f"{c.capacity.value:.1f}" if c.capacity else "-"])
    print(f"\n## Stability: the example planned from {len(profile_paths)} bench runs\n")
    print(_table(["profiles", "chosen (point estimate)", "$/month", "capacity req/s"], rows))
    for conf, xs in picks.items():
        top = max(set(xs), key=xs.count) if xs else None
        print(f"{'point estimate' if conf is None else f'--confidence {conf:g}'}: {xs.count(top)}/{len(xs)} pick {top}")
    print("\nTarget: 5 of 5 pick the same configuration at --confidence 0.9.")


def _instance_cost(c) -> float:
    """The part of a candidate's bill that scales with instance-hours (instances and their volumes)."""
    return sum(i.cost_usd for i in c.cost_items if i.component in ("instances", "storage"))


def _clairvoyant_bound(spec, chosen, static) -> list:
    """The saving no autoscaling policy on ``chosen``'s instance type can beat: each minute exactly
    max(floor, ceil(demand / capacity)) instances, priced against the static-peak fleet's instance-hours."""
    import numpy as np

    from toolkit.traffic import demand

    def hourly(c):
        return next((i.unit_price_usd for i in c.cost_items if i.component == "instances"), None)

    if static is None or not hourly(static):
        return ["-", "-", "-", "-", "- (no static baseline)", "-"]
    if chosen.serverless or not chosen.capacity.value or not hourly(chosen):
        chosen = static  # a serverless plan: bound the instance fleets on the static baseline's type
    rate = demand(spec.traffic, spec.sla.peak_rps, SPEC.parent)
    floor = spec.sla.availability.min_instances if spec.sla.availability else 1
    fleet = static.simulation.peak_instances
    out = []
    for f in (floor, 1):
        need = np.maximum(f, np.ceil(rate / chosen.capacity.value))
        out.append((need.mean(), 1 - need.mean() * hourly(chosen) / (fleet * hourly(static))))
    return [chosen.instance_type, f"{chosen.capacity.value:.1f}", f"{out[0][0]:.2f}",
            f"{fleet} x {static.instance_type}", f"{out[0][1]:.1%}", f"{out[1][1]:.1%}"]

if __name__ == "__main__":
    if {"-h", "--help"} & set(sys.argv[1:]):
        sys.exit(print(__doc__))
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = 100
    if "--scenarios" in sys.argv:
        n = int(sys.argv[sys.argv.index("--scenarios") + 1])
        args = [a for a in args if a != str(n)]
    which = args or ["scale", "agreement", "savings", "independence", "purchase", "weekly"]
    if "--stability" in sys.argv:  # plan_bench.py --stability [--variants out/demo/variants.json] run1.json run2.json ...
        rest = sys.argv[sys.argv.index("--stability") + 1:]
        vpath = rest[rest.index("--variants") + 1] if "--variants" in rest else None
        bench_stability([a for a in rest if not a.startswith("--") and a != vpath], variants_path=vpath)
        sys.exit(0)
    if "scale" in which:
        bench_scale()
    if "agreement" in which:
        bench_agreement(n)
    if "savings" in which:
        bench_savings()
    if "independence" in which:
        bench_independence()
    if "purchase" in which:
        bench_purchase()
    if "weekly" in which:  # weekday/weekend schedules against daily ones (benchmarks/plan_bench_weekly.py)
        from benchmarks.plan_bench_weekly import bench_weekly

        bench_weekly()
    if "generative" in which:  # LLM plans per 1M tokens against the default GPU and the API table (benchmarks/plan_bench_llm.py)
        from benchmarks.plan_bench_llm import bench_generative

        bench_generative()
