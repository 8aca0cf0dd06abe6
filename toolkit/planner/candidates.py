"""Candidates: (accepted variant) x platform x allowed instance type x allowed region, with prices and capacity.

Instance-based candidates that share a variant, platform and instance type behave identically under
autoscaling wherever they run, so they form one *group*, simulated once; each region (and spot or
on-demand for Kubernetes) is an *option* of the group with its own prices. Serverless candidates
(variant x memory size) need no autoscaling simulation. Everything that cannot run is kept as an
:class:`Excluded` record with the reason, for explanations and nearest misses.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field

import numpy as np

from toolkit.errors import InputError
from toolkit.planner import costs as C
from toolkit.planner.dynamics import Dynamics, dynamics_for
from toolkit.planner.serverless import MEMORY_MB, ServerlessEstimate, ServerlessSim, estimate_serverless, simulate_serverless

K8S_RESERVED_VCPU = 0.25  # kubelet, kube-proxy, CNI and log agents on every node (estimate)
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
    cap_rps: float  # rps per instance at the SLA used by the plan
    dynamics: Dynamics
    options: list[Option] = field(default_factory=list)
    capacity_note: str = ""

    @property
    def name(self) -> str:
        return f"{self.variant.name} on {self.platform} {self.instance.name}"


@dataclass
class ServerlessOption:
    variant: object
    region: str
    estimate: ServerlessEstimate
    sim: ServerlessSim
    price: C.PriceModel
    monthly_usd: float


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


@dataclass
class CandidateSet:
    groups: list[Group]
    serverless: list[ServerlessOption]
    excluded: list[Excluded]
    notes: list[str]
    requests_per_month: float
    prices_used: dict = field(default_factory=dict)  # sku -> PriceQuote


def _close(name: str, names: list[str]) -> str:
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
    return f"; did you mean '{close[0]}'?" if close else ""


def check_targets(targets, catalog) -> None:
    """Unknown instance types or families in the spec are input errors (with a did-you-mean)."""
    for name in targets.instance_types:
        catalog.instance(name)  # raises InputError with a suggestion
    known = sorted({i.family for i in catalog.all_instances()})
    for fam in targets.instance_families:
        if fam not in known:
            raise InputError(
                f"unknown instance family '{fam}' in targets.instance_families{_close(fam, known)}",
                hint=f"families in the catalog: {', '.join(known)}",
            )


def _allowed(info, targets) -> bool:
    if targets.instance_types and info.name not in targets.instance_types:
        return False
    if targets.instance_families and info.family not in targets.instance_families:
        return False
    return True


def _rate_or_fallback(get, region: str, notes: list[str], what: str):
    """A regional rate, or the us-east-1 one (marked low confidence) when the catalog lacks the region."""
    from toolkit.pricing import PriceNotFound

    try:
        return get(region), region
    except PriceNotFound:
        q = get("us-east-1")
        note = f"no {what} price for {region} in the catalog: the us-east-1 price is used"
        if note not in notes:
            notes.append(note)
        from dataclasses import replace

        return replace(q, confidence="low"), "us-east-1"


def _estimate_quote(usd: float, unit: str, what: str):
    """A PriceQuote-like object for the estimate constants of :mod:`toolkit.planner.costs`."""
    from toolkit.pricing import PriceQuote

    return PriceQuote(usd=usd, unit=unit, source="estimate", row_source=what, as_of=C.ESTIMATE_AS_OF, age_days=0.0, confidence="medium")


def instance_price_model(platform: str, info, region: str, spot: bool, catalog, requests_per_month: float, task: str, name: str, notes: list[str]) -> C.PriceModel:
    """The cost model of running ``info`` in ``region``: unit price per instance-hour and fixed monthly fees."""
    data_gb = C.data_gb_per_month(requests_per_month, task)
    if platform == "sagemaker-realtime":
        quote = catalog.hosting_price(info.name, region)
        pm = C.PriceModel(hourly_quote=quote, unit_usd_per_instance_hour=quote.usd)
        pm.per_hour_lines.append((f"endpoint/{name}", "instances", "instance-hour", 1.0, quote.usd, f"sagemaker-hosting {info.name} {region}", quote))
        if not C.has_local_nvme(info.family):
            sq, _ = _rate_or_fallback(catalog.storage_price, region, notes, "endpoint storage")
            gb_month_per_hour = C.SAGEMAKER_VOLUME_GB / C.HOURS_PER_GB_MONTH
            pm.unit_usd_per_instance_hour += gb_month_per_hour * sq.usd
            pm.per_hour_lines.append((f"endpoint/{name}", "storage", "GB-month", gb_month_per_hour, sq.usd, f"sagemaker-storage ml-volume {region}", sq))
        rates, _ = _rate_or_fallback(lambda r: catalog.serverless_rates(r).usd_per_gb_processed, region, notes, "data processing")
        line = C.Line(f"endpoint/{name}", "data-processed", "GB", data_gb, rates.usd, f"sagemaker-data-processing {region}", rates)
        pm.fixed_lines.append(line)
        pm.fixed_usd += line.cost
        return pm
    # kubernetes: an EC2 node per Triton pod, plus the cluster around it
    quote = catalog.ec2_price(info.name, region, spot=spot)
    pm = C.PriceModel(hourly_quote=quote, unit_usd_per_instance_hour=quote.usd)
    pm.per_hour_lines.append((f"nodegroup/{name}", "instances", "instance-hour", 1.0, quote.usd, f"ec2 {info.name} {region}" + (" spot" if spot else ""), quote))
    gp3 = _estimate_quote(C.GP3_USD_PER_GB_MONTH, "GB-month", "gp3 list price, us-east-1")
    per_hour = C.NODE_VOLUME_GB / C.HOURS_PER_GB_MONTH
    pm.unit_usd_per_instance_hour += per_hour * gp3.usd
    pm.per_hour_lines.append((f"nodegroup/{name}", "storage", "GB-month", per_hour, gp3.usd, f"ebs gp3 {region}", gp3))
    hours = C.MONTH_MINUTES / 60.0
    eks = _estimate_quote(C.EKS_USD_PER_HOUR, "hour", "EKS standard support, per cluster")
    nlb = _estimate_quote(C.NLB_USD_PER_HOUR, "hour", "Network Load Balancer hourly charge, LCUs not included")
    for line in (
        C.Line(f"cluster/{name}", "cluster", "hour", hours, eks.usd, f"eks cluster {region}", eks),
        C.Line(f"loadbalancer/{name}", "load-balancer", "hour", hours, nlb.usd, f"elb nlb {region}", nlb),
    ):
        pm.fixed_lines.append(line)
        pm.fixed_usd += line.cost
    return pm


def serverless_price_model(region: str, catalog, gb_seconds: float, requests_per_month: float, task: str, name: str) -> C.PriceModel:
    rates = catalog.serverless_rates(region)
    pm = C.PriceModel(hourly_quote=rates.usd_per_gb_second)
    for line in (
        C.Line(f"endpoint/{name}", "serverless-compute", "GB-second", gb_seconds, rates.usd_per_gb_second.usd,
               f"sagemaker-serverless compute {region}", rates.usd_per_gb_second),
        C.Line(f"endpoint/{name}", "data-processed", "GB", C.data_gb_per_month(requests_per_month, task),
               rates.usd_per_gb_processed.usd, f"sagemaker-serverless data-processing {region}", rates.usd_per_gb_processed),
    ):
        pm.fixed_lines.append(line)
        pm.fixed_usd += line.cost
    return pm


def node_capacity_factor(platform: str, info) -> tuple[float, str]:
    """Share of an instance's estimated capacity the plan may count on, and why."""
    if info.family in BURSTABLE_BASELINE:
        b = BURSTABLE_BASELINE[info.family]
        return b, f"x{b:g}: burstable {info.family} sustains only its CPU-credit baseline ({b:.0%} of each vCPU) at steady load"
    if platform != "kubernetes" or info.accelerator:
        return 1.0, ""
    f = max(0.5, 1.0 - K8S_RESERVED_VCPU / max(info.vcpus, 1))
    return f, f"x{f:.2f}: {K8S_RESERVED_VCPU:g} vCPU per node kept for Kubernetes daemons"


def enumerate_candidates(spec, variants_file, profiles, catalog, demand: np.ndarray, progress=None) -> CandidateSet:
    """Every candidate the spec allows, priced and with capacity under the SLA."""
    from toolkit.perf import CapacityEstimate, estimate_capacity

    targets = spec.targets
    check_targets(targets, catalog)
    sla = spec.sla
    pct, sla_ms = sla.percentile, sla.latency_ms
    seq = spec.model.max_sequence_length
    task = spec.model.task
    month_factor = C.MONTH_MINUTES / demand.size
    requests_month = float(demand.sum() * 60.0 * month_factor)
    notes: list[str] = []
    excluded: list[Excluded] = []
    variants = variants_file.accepted()
    local = variants_file.machine
    prof_list = list(profiles.profiles) if profiles is not None else []

    # which (platform, instance) pairs are allowed, and where they are priced
    where: dict[tuple[str, str], tuple[object, list[str]]] = {}
    for platform in targets.platforms:
        if platform == "sagemaker-serverless":
            continue
        priced = set(catalog.regions(platform))
        for region in targets.regions:
            if region not in priced:
                notes.append(f"{platform}: the catalog has no prices in {region} (priced: {', '.join(sorted(priced))})")
                continue
            for info in catalog.instance_types(platform, region):
                if _allowed(info, targets):
                    where.setdefault((platform, info.name), (info, []))[1].append(region)
        if targets.instance_types and not any(p == platform for p, _ in where):
            wanted = ", ".join(targets.instance_types)
            notes.append(f"{platform}: none of the allowed instance types ({wanted}) is priced for it in {', '.join(targets.regions)}"
                         + (" (Kubernetes takes EC2 names without 'ml.')" if platform == "kubernetes" else ""))

    cache: dict[tuple[str, str], object] = {}
    price_cache: dict[tuple, object] = {}  # prices do not depend on the variant
    groups: list[Group] = []
    items = sorted(where.items())
    for v in variants:
        for (platform, iname), (info, regions) in items:
            hw_key = iname[3:] if iname.startswith("ml.") else iname
            key = (v.name, hw_key)
            if key not in cache:
                cache[key] = estimate_capacity(v, info, pct, sla_ms, prof_list, local, seq_len=seq)
            est = cache[key]
            if not isinstance(est, CapacityEstimate):
                excluded.append(Excluded(v.name, platform, iname, est.reason, kind="hardware"))
                continue
            factor, factor_note = node_capacity_factor(platform, info)
            cap = min(est.max_rps_at_sla, est.saturation_rps) * factor
            if cap <= 0:
                lat1 = est.latency_ms_by_batch.get(1)
                cost, where_ = _cheapest_floor(platform, info, regions, spec, catalog, requests_month, task, notes, price_cache)
                excluded.append(Excluded(v.name, platform, iname, "; ".join(est.notes) or f"{pct} above {sla_ms:g} ms even at batch 1",
                                         latency_ms=est.batch1_at_sla_ms or _latency_at_percentile(lat1, pct), kind="latency",
                                         min_monthly_usd=cost, region=where_))
                continue
            g = Group(len(groups), v, platform, info, est, cap, dynamics_for(platform), capacity_note=factor_note)
            for region in regions:
                for spot in ((False, True) if platform == "kubernetes" and targets.allow_spot else (False,)):
                    pkey = (platform, iname, region, spot)
                    if pkey not in price_cache:
                        try:
                            price_cache[pkey] = instance_price_model(platform, info, region, spot, catalog, requests_month, task, spec.name, notes)
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
    if "sagemaker-serverless" in targets.platforms:
        priced = set(catalog.regions("sagemaker-serverless"))
        regions = [r for r in targets.regions if r in priced]
        for r in targets.regions:
            if r not in priced:
                notes.append(f"sagemaker-serverless: the catalog has no serverless prices in {r} (priced: {', '.join(sorted(priced)) or 'none'})")
        for v in variants if regions else []:
            for mem in MEMORY_MB:
                est = estimate_serverless(v, mem, pct, seq, local)
                if isinstance(est, str):
                    excluded.append(Excluded(v.name, "sagemaker-serverless", f"{mem} MB", est, kind="memory" if "memory" in est else "hardware"))
                    continue
                if est.latency_ms > sla_ms:
                    rates = catalog.serverless_rates(regions[0])
                    gb_s = requests_month * math.ceil(est.service_ms) / 1000.0 * mem / 1024.0
                    cost = gb_s * rates.usd_per_gb_second.usd + C.data_gb_per_month(requests_month, task) * rates.usd_per_gb_processed.usd
                    excluded.append(Excluded(v.name, "sagemaker-serverless", f"{mem} MB",
                                             f"estimated {pct} {est.latency_ms:.1f} ms > {sla_ms:g} ms ({est.service_ms:.1f} ms compute + overhead)",
                                             latency_ms=est.latency_ms, kind="latency", min_monthly_usd=cost, region=regions[0]))
                    continue
                sim = simulate_serverless(demand, est, pct)
                for region in regions:
                    pm = serverless_price_model(region, catalog, sim.gb_seconds * month_factor, requests_month, task, spec.name)
                    serverless.append(ServerlessOption(v, region, est, sim, pm, pm.fixed_usd))
    return CandidateSet(groups, serverless, excluded, notes, requests_month)


def _cheapest_floor(platform, info, regions, spec, catalog, requests_month, task, notes, price_cache) -> tuple[float | None, str | None]:
    """The least an instance type costs a month: the availability minimum around the clock, cheapest region."""
    best = (None, None)
    hours = spec.sla.availability.min_instances * C.MONTH_MINUTES / 60.0
    for region in regions:
        key = (platform, info.name, region, False)
        if key not in price_cache:
            try:
                price_cache[key] = instance_price_model(platform, info, region, False, catalog, requests_month, task, spec.name, notes)
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
