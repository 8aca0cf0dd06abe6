"""Skip the capacity search of LLM instance types that cannot be the cheapest: a provable price bound.

An LLM capacity search costs 0.15-0.5 s per (format, accelerator, TP), and a catalog holds dozens of
GPU instance types. Before the candidates are enumerated, :func:`prune` gives every allowed (variant,
instance type) a *lower bound* on its month: the larger of its floor (``min_instances`` on demand all
month in its cheapest allowed region, fixed fees included) and the instance-hours the month's requests
need at a capacity ceiling computed without simulating (:func:`toolkit.planner.llm_capacity.capacity_ceiling`,
x 0.95 for the violation allowance). Walking them from the lowest bound up, it keeps the cheapest static
fleet that meets the SLA (``max(min_instances, ceil(peak / capacity))`` instances all month) as ``B``.
A pair whose lower bound is above ``B`` can never beat that static fleet, which is itself a valid
configuration, so its capacity is not searched: the family answers a :class:`PriceExclusion` saying
so, and the plan lists it among the exclusions (kind ``price``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from toolkit.errors import InputError
from toolkit.perf.capacity import CapacityEstimate
from toolkit.perf.exclusions import Exclusion

MONTH_HOURS = 720.0


@dataclass(frozen=True)
class PriceExclusion(Exclusion):
    """An instance type left out because its least possible month costs more than a feasible static fleet."""

    kind: str = "price"


def _floors(spec, catalog, family, requests_month: float, m0: int) -> dict[str, tuple[object, float, float]]:
    """hardware key -> (InstanceInfo, cheapest floor over allowed platforms and regions, its hourly unit price)."""
    from toolkit.planner.candidates import _allowed
    from toolkit.platforms import platform_for

    out: dict[str, tuple[object, float, float]] = {}
    for plat in (platform_for(p) for p in spec.targets.platforms):
        if not plat.instance_based or not family.supports_platform(plat):
            continue
        priced = set(plat.regions(catalog))
        for region in (r for r in spec.targets.regions if r in priced):
            for info in plat.instance_types(catalog, region):
                if not _allowed(info, spec.targets):
                    continue
                try:
                    pm = plat.price_model(info, region, False, catalog, requests_month, family, spec.name, [])
                except InputError:
                    continue
                key = info.name.removeprefix("ml.")
                floor = pm.monthly(m0 * MONTH_HOURS)
                if key not in out or floor < out[key][1]:
                    out[key] = (info, floor, pm.unit_usd_per_instance_hour, pm.fixed_usd)
    return out


def prune(spec, variants, catalog, family, sla, machine, peak: float, requests_month: float) -> tuple[dict, str]:
    """({(variant, hardware key): PriceExclusion}, note) for the pairs whose least possible month is above the bound."""
    from toolkit.planner.llm_capacity import capacity_ceiling

    m0 = sla.min_instances
    floors = _floors(spec, catalog, family, requests_month, m0)
    bound, bound_what = math.inf, ""
    skipped: dict[tuple[str, str], PriceExclusion] = {}
    ctx = family.context(spec)
    pairs = []
    for key, (info, floor, hourly, fixed) in floors.items():
        for v in variants.accepted():
            ceiling = capacity_ceiling(v, info, ctx)
            need = 0.95 * requests_month / 3600.0 / ceiling * hourly + fixed if ceiling else 0.0
            least, why = (need, (f"the month's requests need ${need:,.0f} of it even at its capacity ceiling "
                                f"({ceiling:.2f} req/s)")) if need > floor else (floor, f"{m0} on demand all month: ${floor:,.0f}")
            pairs.append((least, key, v, info, hourly, fixed, why))
    for least, key, v, info, hourly, fixed, why in sorted(pairs, key=lambda p: (p[0], p[1], p[2].name)):
        if least > bound:
            skipped[(v.name, key)] = PriceExclusion(
                info.name, f"not searched: its least possible month ({why}) is above a feasible static fleet's ${bound:,.0f} "
                           f"({bound_what})", v.name)
            continue
        est = family.capacity(v, info, sla, [], machine, spec)
        if isinstance(est, CapacityEstimate) and est.max_rps_at_sla > 0:
            n = max(m0, math.ceil(peak / est.max_rps_at_sla))
            cost = n * MONTH_HOURS * hourly + fixed
            if cost < bound:
                bound, bound_what = cost, f"{n} x {info.name} {v.name}"
    note = (f"{len({k for _, k in skipped})} instance type(s) not searched: their least possible month is above the cheapest feasible "
            f"static fleet found ({bound_what}, ${bound:,.0f} a month)") if skipped else ""
    return skipped, note
