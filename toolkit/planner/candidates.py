"""Candidates: (accepted variant) x platform x allowed instance type x allowed region, with prices and capacity.

Instance-based candidates that share a variant, platform and instance type behave identically under
autoscaling wherever they run, so they form one *group*, simulated once; each region (and spot or
on-demand for Kubernetes) is an *option* of the group with its own prices. Serverless candidates
(variant x memory size) need no autoscaling simulation. Everything that cannot run is kept as an
:class:`Excluded` record with the reason, for explanations and nearest misses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from toolkit.errors import InputError
from toolkit.planner import costs as C
from toolkit.planner.dynamics import Dynamics
from toolkit.platforms import platform_for
from toolkit.suggest import did_you_mean
from toolkit.planner.serverless import MEMORY_MB, ServerlessEstimate, ServerlessSim, estimate_serverless, simulate_serverless

# burstable families sustain only their CPU-credit baseline (share of each vCPU) without extra charges
BURSTABLE_BASELINE = {"t2": 0.2, "t3": 0.2, "t3a": 0.2, "t4g": 0.2}


@dataclass
class Option:
    """One priced place to run a group: a region, on-demand or spot."""

    region: str
    spot: bool
    price: C.PriceModel

    @property
    def usd_per_hour(self) -> float:
        return self.price.hourly_quote.usd


@dataclass
class Group:
    """Variant x platform x instance type: one autoscaling simulation, several priced options."""

    gid: int
    variant: object  # toolkit.artifacts.variants.Variant
    platform: str
    instance: object  # toolkit.pricing.InstanceInfo
    capacity: object  # toolkit.perf.CapacityEstimate
    cap: float  # capacity per instance at the SLA used by the plan, in the family's capacity unit
    dynamics: Dynamics
    options: list[Option] = field(default_factory=list)
    capacity_note: str = ""
    unit: str = "req/s"  # the family's capacity unit (``cap`` and the demand are in it)
    planned_share: float = 1.0  # share of the point estimate planned with (``--confidence``)
    per_request: float = 1.0  # capacity units one request is

    @property
    def name(self) -> str:
        return f"{self.variant.name} on {self.platform} {self.instance.name}"

    @property
    def plat(self):
        """The platform (``toolkit.platforms.Platform``)."""
        return platform_for(self.platform)


@dataclass
class ServerlessOption:
    variant: object
    region: str
    estimate: ServerlessEstimate
    sim: ServerlessSim
    price: C.PriceModel
    monthly_usd: float
    platform: str = ""  # the serverless platform's name


@dataclass
class Excluded:
    variant: str
    platform: str
    instance_type: str | None
    reason: str
    latency_ms: float | None = None  # batch-1 latency at the SLA percentile when the SLA is unreachable
    kind: str = "hardware"  # hardware | latency | price | memory
    min_monthly_usd: float | None = None  # latency misses: the least it would cost (min instances all month)
    region: str | None = None
    miss: tuple[float, str] | None = None  # (score, why) when the family scores its own latency miss (LLMs: several constraints)


@dataclass
class CandidateSet:
    groups: list[Group]
    serverless: list[ServerlessOption]
    excluded: list[Excluded]
    notes: list[str]
    requests_per_month: float
    prices_used: dict = field(default_factory=dict)  # sku -> PriceQuote
    family: object = None  # toolkit.families.Family
    sla: object = None  # toolkit.sla.SLA


def check_targets(targets, catalog) -> None:
    """Unknown instance types or families in the spec are input errors (with a did-you-mean)."""
    for name in targets.instance_types:
        catalog.instance(name)  # raises InputError with a suggestion
    known = sorted({i.family for i in catalog.all_instances()})
    for fam in targets.instance_families:
        if fam not in known:
            raise InputError(
                f"unknown instance family '{fam}' in targets.instance_families{did_you_mean(fam, known)}",
                hint=f"families in the catalog: {', '.join(known)}",
            )


def _allowed(info, targets) -> bool:
    if targets.instance_types and info.name not in targets.instance_types:
        return False
    if targets.instance_families and info.family not in targets.instance_families:
        return False
    return True


def instance_price_model(platform: str, info, region: str, spot: bool, catalog, requests_per_month: float, family, name: str, notes: list[str]) -> C.PriceModel:
    """The cost model of running ``info`` in ``region`` on ``platform`` (its module prices it)."""
    return platform_for(platform).price_model(info, region, spot, catalog, requests_per_month, family, name, notes)


def node_capacity_factor(platform: str, info) -> tuple[float, str]:
    """Share of an instance's estimated capacity the plan may count on, and why."""
    if info.family in BURSTABLE_BASELINE:
        b = BURSTABLE_BASELINE[info.family]
        return b, f"x{b:g}: burstable {info.family} sustains only its CPU-credit baseline ({b:.0%} of each vCPU) at steady load"
    return platform_for(platform).capacity_factor(info)


def capacity_at_confidence(est, confidence: float | None) -> float:
    """The share of the point estimate to plan with so that the true capacity is at least that with probability
    ``confidence``, taking the true value as equally likely anywhere in the estimate's band [low, high] (the
    band is the model's observed error range): ``high - confidence x (high - low)``. 1.0 for a measured capacity
    (no band) or no confidence asked."""
    if confidence is None or est.max_rps_at_sla <= 0 or est.high_rps <= est.low_rps:
        return 1.0
    return (est.high_rps - confidence * (est.high_rps - est.low_rps)) / est.max_rps_at_sla


def enumerate_candidates(spec, variants_file, profiles, catalog, demand: np.ndarray, progress=None, allow_spot: bool | None = None,
                         confidence: float | None = None) -> CandidateSet:
    """Every candidate the spec allows, priced and with capacity under the SLA.

    ``demand`` is in the family's capacity unit per second (requests/s for encoders), one value a minute.
    ``confidence``: size capacity so the SLA holds with this probability over the estimate's band (see
    :func:`capacity_at_confidence`); None plans at the point estimate."""
    from toolkit.families import family_for
    from toolkit.perf import CapacityEstimate

    targets = spec.targets
    check_targets(targets, catalog)
    family = family_for(spec.model.task)
    if hasattr(family, "for_spec"):  # request/response sizes that depend on the spec (LLMs: prompt and output tokens)
        family = family.for_spec(spec)
    sla = family.sla(spec.sla)
    pct, sla_ms = sla.percentile, sla.latency_ms
    month_factor = C.MONTH_MINUTES / demand.size
    requests_month = float(demand.sum() * 60.0 * month_factor) / family.units_per_request(spec)
    notes: list[str] = []
    excluded: list[Excluded] = []
    variants = variants_file.accepted()
    local = variants_file.machine
    prof_list = family.measured_profiles(profiles)
    platforms = [platform_for(p) for p in targets.platforms]
    for plat in platforms:
        if not family.supports_platform(plat):
            notes.append(f"{plat.name}: {family.task} models are not served on it")
    platforms = [p for p in platforms if family.supports_platform(p)]

    # which (platform, instance) pairs are allowed, and where they are priced
    where: dict[tuple[str, str], tuple[object, list[str]]] = {}
    for plat in (p for p in platforms if p.instance_based):
        priced = set(plat.regions(catalog))
        for region in targets.regions:
            if region not in priced:
                notes.append(f"{plat.name}: the catalog has no prices in {region} (priced: {', '.join(sorted(priced))})")
                continue
            for info in plat.instance_types(catalog, region):
                if _allowed(info, targets):
                    where.setdefault((plat.name, info.name), (info, []))[1].append(region)
        if targets.instance_types and not any(p == plat.name for p, _ in where):
            wanted = ", ".join(targets.instance_types)
            notes.append(f"{plat.name}: none of the allowed instance types ({wanted}) is priced for it in {', '.join(targets.regions)}"
                         + (f" ({plat.naming_hint})" if plat.naming_hint else ""))

    cache: dict[tuple[str, str], object] = {}
    price_cache: dict[tuple, object] = {}  # prices do not depend on the variant
    groups: list[Group] = []
    items = sorted(where.items())
    for v in variants:
        for (platform, iname), (info, regions) in items:
            plat = platform_for(platform)
            hw_key = iname[3:] if iname.startswith("ml.") else iname
            key = (v.name, hw_key)
            if key not in cache:
                cache[key] = family.capacity(v, info, sla, prof_list, local, spec)
            est = cache[key]
            if not isinstance(est, CapacityEstimate):
                excluded.append(Excluded(v.name, platform, iname, est.reason, kind=getattr(est, "kind", "hardware")))
                continue
            factor, factor_note = node_capacity_factor(platform, info)
            share = capacity_at_confidence(est, confidence)
            cap = min(est.max_rps_at_sla, est.saturation_rps) * factor * share
            if cap <= 0:
                lat1 = est.latency_ms_by_batch.get(1)
                cost, where_ = _cheapest_floor(platform, info, regions, spec, catalog, requests_month, family, notes, price_cache)
                excluded.append(Excluded(v.name, platform, iname, "; ".join(est.notes) or f"{pct} above {sla_ms:g} ms even at batch 1",
                                         latency_ms=est.batch1_at_sla_ms or _latency_at_percentile(lat1, pct), kind="latency",
                                         min_monthly_usd=cost, region=where_, miss=getattr(est, "miss", None)))
                continue
            g = Group(len(groups), v, platform, info, est, cap, plat.dynamics(), capacity_note=factor_note,
                      unit=family.capacity_unit, per_request=family.units_per_request(spec), planned_share=share)
            for region in regions:
                for spot in ((False, True) if plat.supports_spot and (targets.allow_spot if allow_spot is None else allow_spot) else (False,)):
                    pkey = (platform, iname, region, spot)
                    if pkey not in price_cache:
                        try:
                            extra = {"floor_instances": sla.min_instances} if spot else {}
                            price_cache[pkey] = plat.price_model(info, region, spot, catalog, requests_month, family, spec.name, notes, **extra)
                        except InputError as exc:
                            price_cache[pkey] = exc
                    pm = price_cache[pkey]
                    if isinstance(pm, InputError):
                        excluded.append(Excluded(v.name, platform, iname, pm.message, kind="price"))
                        continue
                    g.options.append(Option(region, spot, pm))
            if g.options:
                groups.append(g)
        if progress:
            progress()

    serverless: list[ServerlessOption] = []
    for plat in (p for p in platforms if not p.instance_based):
        rps = demand / family.units_per_request(spec)  # serverless concurrency counts requests
        serverless += _serverless_options(plat, spec, sla, family, variants, local, catalog, rps, requests_month, month_factor, notes, excluded)
    return CandidateSet(groups, serverless, excluded, notes, requests_month, family=family, sla=sla)


def _serverless_options(plat, spec, sla, family, variants, local, catalog, demand, requests_month, month_factor, notes, excluded) -> list[ServerlessOption]:
    """Variant x memory size on a serverless platform: estimated latency, simulated concurrency, priced."""
    pct, sla_ms, seq = sla.percentile, sla.latency_ms, spec.model.max_sequence_length
    priced = set(plat.regions(catalog))
    regions = [r for r in spec.targets.regions if r in priced]
    for r in spec.targets.regions:
        if r not in priced:
            notes.append(f"{plat.name}: the catalog has no serverless prices in {r} (priced: {', '.join(sorted(priced)) or 'none'})")
    out: list[ServerlessOption] = []
    for v in variants if regions else []:
        for mem in MEMORY_MB:
            est = estimate_serverless(v, mem, pct, seq, local)
            if isinstance(est, str):
                excluded.append(Excluded(v.name, plat.name, f"{mem} MB", est, kind="memory" if "memory" in est else "hardware"))
                continue
            if est.latency_ms > sla_ms:
                gb_s = requests_month * math.ceil(est.service_ms) / 1000.0 * mem / 1024.0
                cost = plat.monthly_usd(catalog, regions[0], gb_s, requests_month, family)
                excluded.append(Excluded(v.name, plat.name, f"{mem} MB",
                                         f"estimated {pct} {est.latency_ms:.1f} ms > {sla_ms:g} ms ({est.service_ms:.1f} ms compute + overhead)",
                                         latency_ms=est.latency_ms, kind="latency", min_monthly_usd=cost, region=regions[0]))
                continue
            sim = simulate_serverless(demand, est, pct)
            for region in regions:
                pm = plat.price_model(None, region, False, catalog, requests_month, family, spec.name, notes, gb_seconds=sim.gb_seconds * month_factor)
                out.append(ServerlessOption(v, region, est, sim, pm, pm.fixed_usd, plat.name))
    return out


def _cheapest_floor(platform, info, regions, spec, catalog, requests_month, family, notes, price_cache) -> tuple[float | None, str | None]:
    """The least an instance type costs a month: the availability minimum around the clock, cheapest region."""
    best = (None, None)
    hours = spec.sla.availability.min_instances * C.MONTH_MINUTES / 60.0
    for region in regions:
        key = (platform, info.name, region, False)
        if key not in price_cache:
            try:
                price_cache[key] = instance_price_model(platform, info, region, False, catalog, requests_month, family, spec.name, notes)
            except InputError as exc:
                price_cache[key] = exc
        pm = price_cache[key]
        if not isinstance(pm, InputError):
            cost = pm.monthly(hours)
            if best[0] is None or cost < best[0]:
                best = (cost, region)
    return best


def _latency_at_percentile(lat_batch1_ms: float | None, pct: str) -> float | None:
    """A lone request waits up to one batch, then runs: t x (1 + q). A fallback without the measured tail, for
    estimates that do not carry ``batch1_at_sla_ms``."""
    if lat_batch1_ms is None:
        return None
    q = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}[pct]
    return lat_batch1_ms * (1 + q)
