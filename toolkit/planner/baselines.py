"""What the plan is compared with: static provisioning for the peak, and the single-GPU default a user might pick."""

from __future__ import annotations

import math

import numpy as np

from toolkit.artifacts.plan import Candidate
from toolkit.planner import costs as C
from toolkit.planner.assemble import InstanceOutcome, instance_candidate, static_candidate, static_instances
from toolkit.planner.candidates import CandidateSet
from toolkit.planner.grid import Policy, lanes_from_arrays
from toolkit.planner.simulate import TraceIndex, measure_events, run_events

DEFAULT_GPU = "ml.g5.xlarge"
DEFAULT_GPU_PLATFORM = "sagemaker-realtime"


def static_peak(cset: CandidateSet, index: TraceIndex, m0: int, peak: float) -> Candidate | None:
    best = None
    for g in cset.groups:
        n_inst = static_instances(peak, g.cap, m0)
        for oi, o in enumerate(g.options):
            if o.spot:  # the baseline is what a buyer would run without the plan: on demand
                continue
            cost = o.price.monthly(n_inst * C.MONTH_MINUTES / 60.0)
            key = (cost, g.gid, oi)
            if best is None or key < best[0]:
                best = (key, g, o, n_inst)
    if best is None:
        return None
    _, g, o, n_inst = best
    return static_candidate(g, o, n_inst, index, float(index.d.sum() * 60 * C.MONTH_MINUTES / index.n))


def single_gpu_default(spec, variants, profiles, catalog, index, requests_month, mf, chosen, warnings, family=None, sla=None):
    """ml.g5.xlarge with AWS's documented default: target = capacity x 0.5 x 60, cooldowns 300 s."""
    from toolkit.errors import InputError
    from toolkit.families import family_for
    from toolkit.perf import CapacityEstimate
    from toolkit.planner.candidates import Group, Option
    from toolkit.platforms import platform_for

    family = family or family_for(spec.model.task)
    sla = sla or family.sla(spec.sla)
    plat = platform_for(DEFAULT_GPU_PLATFORM)
    try:
        info = catalog.instance(DEFAULT_GPU)
    except InputError:
        return None, f"baseline {DEFAULT_GPU}: not in the catalog"
    priced = set(plat.regions(catalog))
    regions = ([chosen.region] if chosen else []) + list(spec.targets.regions) + ["us-east-1"]
    region = next((r for r in regions if r in priced and _priced(plat, catalog, DEFAULT_GPU, r)), None)
    if region is None:
        return None, f"baseline {DEFAULT_GPU}: no price in any region"
    gpu_variants = [v for v in variants.accepted() if "gpu" in v.devices]
    gpu_variants.sort(key=lambda v: (v.precision != "fp16", v.name))
    if not gpu_variants:
        return None, f"baseline {DEFAULT_GPU}: no accepted variant runs on a GPU (build onnx-fp16 or onnx-fp32 for GPUs)"
    v = gpu_variants[0]
    est = family.capacity(v, info, sla, family.measured_profiles(profiles), variants.machine, spec)
    if not isinstance(est, CapacityEstimate) or min(est.max_rps_at_sla, est.saturation_rps) <= 0:
        reason = est.reason if not isinstance(est, CapacityEstimate) else "cannot meet the SLA latency"
        return None, f"baseline {DEFAULT_GPU}: {reason}"
    cap = min(est.max_rps_at_sla, est.saturation_rps)
    dyn = plat.dynamics()
    pm = plat.price_model(info, region, False, catalog, requests_month, family, spec.name, [])
    g = Group(-1, v, plat.name, info, est, cap, dyn, [Option(region, False, pm)], unit=family.capacity_unit,
              per_request=family.units_per_request(spec))
    m0 = sla.min_instances
    sf = 0.5
    mx = max(m0, math.ceil(index.d.max() / (cap * sf)))
    lanes = lanes_from_arrays([cap * sf], [cap], [m0], [mx], [dyn], np.zeros(1, dtype=np.int64))
    log = run_events(index, lanes)
    viol, _ = measure_events(index, lanes, log, [0])
    out = InstanceOutcome(g, g.options[0], Policy(sf, m0, mx, cap * sf * 60.0), lanes, log, 0, float(viol[0]))
    cand = instance_candidate(out, index, mf, requests_month,
                              why=f"AWS default: {DEFAULT_GPU} with target tracking at the documented formula (safety factor 0.5), "
                                  f"cooldowns 300 s, min {m0}")
    cand.feasible = bool(sla.allows(viol[0] * mf))
    return cand, f"baseline {DEFAULT_GPU}: variant {v.name}, {region}"


def _priced(plat, catalog, name: str, region: str) -> bool:
    from toolkit.errors import InputError

    try:
        plat.instance_price(catalog, name, region)
        return True
    except InputError:
        return False
