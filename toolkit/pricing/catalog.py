"""The price and hardware catalog: lookups by instance type and region, each price with its source and age.

``load_catalog()`` reads the embedded snapshot (toolkit/data/) and the user cache written by
``leanserve prices refresh``. For every (item, region) the fresher row wins, so a refresh of one region
overlays the snapshot without hiding the others. Every price comes back as a :class:`PriceQuote` that
says where it came from, how old it is and how far to trust it. Prices older than
:func:`stale_after_days` (``$LEANSERVE_PRICE_MAX_AGE_DAYS``, default :data:`STALE_AFTER_DAYS`) produce
one warning per data set and source when first used.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from toolkit.errors import InputError
from toolkit.suggest import closest, did_you_mean
from toolkit.pricing.hardware import cpu_peaks, families
from toolkit.pricing.rows import (
    API,
    SNAPSHOT,
    Ec2PriceRow,
    HostingPriceRow,
    InstanceRow,
    RateRow,
)

from toolkit.platforms import names as _platform_names

STALE_AFTER_DAYS = 30  #: default: a price older than this many days is stale
MAX_AGE_ENV = "LEANSERVE_PRICE_MAX_AGE_DAYS"


def stale_after_days() -> int:
    """Days after which a price counts as stale: ``$LEANSERVE_PRICE_MAX_AGE_DAYS`` when set, else :data:`STALE_AFTER_DAYS`.

    The planner's warnings, ``plan --explain`` and every report format read it here, so they agree.
    """
    raw = os.environ.get(MAX_AGE_ENV, "").strip()
    if not raw:
        return STALE_AFTER_DAYS
    try:
        days = int(raw)
    except ValueError:
        days = -1
    if days < 0:
        raise InputError(f"{MAX_AGE_ENV}={raw!r} is not a whole number of days",
                         hint=f"set it to the age in days after which prices count as stale (e.g. {MAX_AGE_ENV}=90), or unset it "
                              f"for the default of {STALE_AFTER_DAYS}")
    return days

PLATFORMS = _platform_names()


class PriceNotFound(InputError):
    """The catalog knows the instance type or item but has no price for it in that region."""


@dataclass(frozen=True)
class PriceQuote:
    """One price: ``usd`` per ``unit`` (hour | GB-second | GB | GB-month), with provenance.

    ``source`` is ``snapshot`` or ``aws-price-list-api``; ``row_source`` a short form of the row's own
    evidence; ``as_of`` the ISO date the value was collected; ``age_days`` its age when read.
    """

    usd: float
    unit: str
    source: str
    row_source: str
    as_of: str
    age_days: float
    confidence: str
    evidence_date: str = ""

    def ref(self, sku: str):
        """This price as a plan.json ``PriceRef`` for ``sku`` (e.g. 'sagemaker-hosting ml.c7i.xlarge us-east-1')."""
        from toolkit.artifacts.plan import PriceRef

        return PriceRef(
            sku=sku, usd=self.usd, unit=self.unit, source=f"{self.source}: {self.row_source}",
            as_of=self.as_of, age_days=self.age_days, confidence=self.confidence,
        )

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ServerlessRates:
    """SageMaker Serverless Inference rates of one region."""

    region: str
    usd_per_gb_second: PriceQuote  #: USD per GB-second of configured memory (1 GB = 1024 MB)
    usd_per_gb_processed: PriceQuote  #: USD per GB of data processed, in and out each


@dataclass(frozen=True, eq=True)
class InstanceInfo:
    """Hardware facts of one instance type.

    ``memory_gib``: host memory (GiB). ``accelerator``: None or the chip (T4, A10G, L4, L40S, V100, A100,
    H100, H200, B200, inferentia, inferentia2, ...). ``accelerator_count``: GPUs or Neuron chips (a
    fraction for g6f partitions). ``accelerator_memory_gib``: total over all accelerators (GiB).
    ``cpu_isa``: vector/matrix ISA of the host CPU (avx2, fma, avx512, vnni, amx, neon, dotprod).
    ``cpu`` and ``clock_ghz``: host CPU generation (key into cpu_peaks.csv) and sustained clock.
    """

    name: str
    platform: str
    family: str
    vcpus: int
    memory_gib: float
    accelerator: str | None
    accelerator_count: float
    accelerator_memory_gib: float
    cpu_isa: list[str] = field(default_factory=list, hash=False)
    cpu: str = ""
    clock_ghz: float = 0.0
    accelerator_key: str | None = None  #: key into accelerator_peaks.csv (e.g. A100-80GB for p4de)

    @property
    def memory_per_accelerator_gib(self) -> float:
        if not self.accelerator_count:
            return 0.0
        return self.accelerator_memory_gib / max(self.accelerator_count, 1.0)

    @property
    def is_gpu(self) -> bool:
        return bool(self.accelerator) and not self.accelerator.startswith("inferentia")

    def as_dict(self) -> dict:
        return asdict(self)


def _info(row: InstanceRow) -> InstanceInfo:
    fam = families().get(row.family)
    cpu = cpu_peaks().get(fam.cpu) if fam else None
    return InstanceInfo(
        name=row.name, platform=row.platform, family=row.family, vcpus=row.vcpus, memory_gib=row.memory_gib,
        accelerator=row.accelerator or None, accelerator_count=row.accelerator_count,
        accelerator_memory_gib=row.accelerator_memory_gib, cpu_isa=list(cpu.isa) if cpu else [],
        cpu=fam.cpu if fam else "", clock_ghz=fam.clock_ghz if fam else 0.0,
        accelerator_key=(fam.accelerator_peaks or None) if fam else None,
    )


@functools.lru_cache(maxsize=4096)
def short_source(sources: str, limit: int = 3) -> str:
    """A short form of a row's ';'-separated evidence: repositories by owner/name, URLs by host/path."""
    out: list[str] = []
    for part in (p.strip() for p in re.split(r";(?![^()]*\))", sources) if p.strip()):
        if part.startswith("http"):
            label = re.sub(r"^https?://", "", part).split(" ")[0].rstrip("/")
        elif part.lower().startswith("unattributed"):
            label = "unattributed quote"
        elif re.match(r"^[\w.-]+/[\w.-]+:", part):
            label = part.split(":", 1)[0]
        else:
            label = part if len(part) <= 60 else part[:57] + "..."
        if label not in out:
            out.append(label)
    more = len(out) - limit
    return ", ".join(out[:limit]) + (f" (+{more} more)" if more > 0 else "")


def _parse_date(text: str) -> date:
    return date.fromisoformat(text[:10])


_warned: set[tuple[str, str, str]] = set()


def _default_warn(message: str) -> None:
    import click

    click.echo(f"warning: {message}", err=True)


class Catalog:
    """Price and hardware lookups. Build it with :func:`load_catalog`."""

    def __init__(
        self,
        hosting: list[HostingPriceRow],
        ec2: list[Ec2PriceRow],
        rates: list[RateRow],
        instances: list[InstanceRow],
        *,
        today: date | None = None,
        source_note: str = "",
        notes: list[str] | None = None,
        warn: Callable[[str], None] | None = None,
        spot: list[Ec2PriceRow] | None = None,
        savings_plans: list | None = None,
        interruptions: list | None = None,
    ):
        self.today = today or datetime.now(timezone.utc).date()
        self._hosting = {(r.instance_type, r.region): r for r in hosting}
        self._ec2 = {(r.instance_type, r.region): r for r in ec2}
        # spot prices are not in the Price List: they keep their own (older) row when on-demand was refreshed
        self._spot = {(r.instance_type, r.region): r for r in (spot if spot is not None else ec2) if r.spot_usd_per_hour is not None}
        self._rates = {(r.item, r.region): r for r in rates}
        self._instances = {r.name: _info(r) for r in instances}
        # purchase options (toolkit.pricing.commitments): Savings Plans rates and spot interruption bands
        self._commitments = {(r.instance_type, r.region, r.plan, r.term, r.payment): r for r in savings_plans or []}
        self._interruptions = {(r.instance_type, r.region): r for r in interruptions or []}
        self.source_note = source_note
        self.notes = list(notes or [])
        self._warn = warn or _default_warn
        # the default handler warns once per process; a caller's handler once per catalog
        self._warned = _warned if warn is None else set()
        self.warnings: list[str] = []

    # ---- hardware -----------------------------------------------------------------------------
    def instance(self, name: str) -> InstanceInfo:
        """Hardware facts of ``name``; an unknown name raises InputError with a did-you-mean."""
        info = self._instances.get(name)
        if info is not None:
            return info
        names = sorted(self._instances)
        hint_names: list[str] = []
        if not name.startswith("ml.") and f"ml.{name}" in self._instances:
            hint_names.append(f"ml.{name}")
        if name.startswith("ml.") and name[3:] in self._instances:
            hint_names.append(name[3:])
        close = closest(name, names, cutoff=0.6)
        hint_names += [close] if close and close not in hint_names else []
        tip = f"; did you mean '{hint_names[0]}'?" if hint_names else ""
        raise InputError(
            f"unknown instance type '{name}'{tip}",
            hint="SageMaker names start with 'ml.' (ml.c7i.xlarge), Kubernetes node types are EC2 names (c7i.large); "
            "list them with `leanserve prices show`",
        )

    def instance_types(self, platform: str, region: str) -> list[InstanceInfo]:
        """Instance types with a price in ``region`` for ``platform`` (none for sagemaker-serverless)."""
        return self._platform(platform).instance_types(self, region)

    def all_instances(self) -> list[InstanceInfo]:
        return [self._instances[n] for n in sorted(self._instances)]

    def regions(self, platform: str) -> list[str]:
        """Regions where the catalog has prices for ``platform``."""
        return self._platform(platform).regions(self)

    def priced_types(self, dataset: str, region: str) -> list[InstanceInfo]:
        """Instance types with a row in an instance-price ``dataset`` ('hosting', 'ec2') for ``region``."""
        keys = self._datasets()[dataset]
        return [self._instances[n] for n in sorted({t for (t, r) in keys if r == region and t in self._instances})]

    def priced_regions(self, dataset: str) -> list[str]:
        return sorted({r for (_, r) in self._datasets()[dataset]})

    def rate_regions(self, item: str) -> list[str]:
        """Regions with a rate row for ``item`` (e.g. 'serverless-compute')."""
        return sorted({r for (i, r) in self._rates if i == item})

    def has_spot(self, instance_type: str, region: str) -> bool:
        return (instance_type, region) in self._spot

    def rate_items(self) -> list[tuple[str, str]]:
        """(item, region) of every rate row, sorted."""
        return sorted(self._rates)

    def _datasets(self) -> dict:
        return {"hosting": self._hosting, "ec2": self._ec2}

    # ---- prices -------------------------------------------------------------------------------
    def hosting_price(self, instance_type: str, region: str) -> PriceQuote:
        """SageMaker real-time USD per instance-hour."""
        self.instance(instance_type)
        row = self._hosting.get((instance_type, region))
        if row is None:
            raise self._not_found(f"no SageMaker real-time price for {instance_type} in {region}",
                                  sorted(r for (t, r) in self._hosting if t == instance_type), region)
        return self._quote("hosting", row.usd_per_hour, "hour", row.source, row.sources, row.as_of, row.confidence, row.evidence_date)

    def ec2_price(self, instance_type: str, region: str, spot: bool = False) -> PriceQuote:
        """EC2 USD per instance-hour for a Kubernetes node (on-demand, or the lowest spot price seen)."""
        self.instance(instance_type)
        row = self._ec2.get((instance_type, region))
        if row is None:
            raise self._not_found(f"no EC2 price for {instance_type} in {region}",
                                  sorted(r for (t, r) in self._ec2 if t == instance_type), region)
        if not spot:
            return self._quote("ec2", row.usd_per_hour, "hour", row.source, row.sources, row.as_of, row.confidence)
        row = self._spot.get((instance_type, region))
        if row is None:
            raise PriceNotFound(f"no spot price for {instance_type} in {region}", hint="plan with on-demand nodes, or refresh prices")
        where = f"spot seen in {row.spot_zone}; " if row.spot_zone else ""
        return self._quote("ec2-spot", row.spot_usd_per_hour, "hour", row.source, where + row.sources, row.as_of, "low")

    def savings_plan_rate(self, instance_type: str, region: str, term: str = "1yr", payment: str = "no-upfront", plan: str | None = None):
        """Savings Plans USD per instance-hour (a ``CommitmentQuote``; PriceNotFound when the catalog has no rate)."""
        from toolkit.pricing.commitments import savings_plan_rate

        return savings_plan_rate(self, instance_type, region, term, payment, plan)

    def interruption_rate(self, family_or_type: str, region: str = "us-east-1"):
        """The spot interruption band (an ``InterruptionBand``, a labelled estimate) of an EC2 family or type."""
        from toolkit.pricing.commitments import interruption_rate

        return interruption_rate(self, family_or_type, region)

    def serverless_rates(self, region: str) -> ServerlessRates:
        """SageMaker Serverless USD per GB-second and per GB processed in ``region``."""
        return ServerlessRates(region, self._rate("serverless-compute", region), self._rate("serverless-data", region))

    def storage_price(self, region: str) -> PriceQuote:
        """Endpoint ML storage USD per GB-month."""
        return self._rate("endpoint-storage", region)

    def price_rows(self, platform: str | None = None, region: str | None = None, instance_type: str | None = None,
                   purchase: str | None = None) -> list[dict]:
        """Every price matching the filters, as flat dicts (for `prices show`); ``purchase``: on-demand | savings-plan | spot."""
        from toolkit.pricing.listing import price_rows

        return price_rows(self, platform, region, instance_type, purchase)

    # ---- internals ----------------------------------------------------------------------------
    def rate(self, item: str, region: str) -> PriceQuote:
        """The rate row ``item`` in ``region`` (PriceNotFound when absent)."""
        return self._rate(item, region)

    def _rate(self, item: str, region: str) -> PriceQuote:
        row = self._rates.get((item, region))
        if row is None:
            raise self._not_found(f"no {item} price in {region}", sorted(r for (i, r) in self._rates if i == item), region)
        return self._quote(item, row.usd, row.unit, row.source, row.sources, row.as_of, row.confidence)

    def _quote(self, dataset: str, usd: float, unit: str, source: str, sources: str, as_of: str, confidence: str, evidence: str = "") -> PriceQuote:
        age = float((self.today - _parse_date(as_of)).days)
        limit = stale_after_days()
        if age > limit:
            base = dataset.split("-")[0]
            what = {"hosting": "SageMaker real-time", "ec2": "EC2", "serverless": "SageMaker serverless", "endpoint": "endpoint storage",
                    "savings": "Savings Plans"}.get(base, dataset)
            key = (what, source, as_of)  # one warning per data set (serverless compute and data are one), source and date
            if key not in self._warned:
                self._warned.add(key)
                msg = (f"{what} prices come from the {source} of {as_of}, {age:.0f} days old "
                       f"(older than {limit}); run `leanserve prices refresh` with AWS credentials to update them, "
                       f"or set {MAX_AGE_ENV} to accept older prices")
                self.warnings.append(msg)
                self._warn(msg)
        conf = confidence if confidence in ("high", "medium", "low") else "medium"
        return PriceQuote(usd=usd, unit=unit, source=source, row_source=short_source(sources), as_of=as_of,
                          age_days=age, confidence=conf, evidence_date=evidence)

    def _not_found(self, message: str, priced: list[str], region: str) -> PriceNotFound:
        where = f"priced regions: {', '.join(priced)}" if priced else "no region has it in the catalog"
        return PriceNotFound(f"{message} ({where})",
                             hint=f"choose a priced region, or run `leanserve prices refresh --region {region}` with AWS credentials")

    def check_region(self, region: str, where: str = "") -> None:
        """InputError (exit 2, with a "did you mean") when no price in the catalog is for ``region``."""
        known = sorted({r for (_, r) in self._hosting} | {r for (_, r) in self._ec2} | {r for (_, r) in self._rates})
        if region not in known:
            raise InputError(f"{where}no prices for region '{region}'{did_you_mean(region, known, cutoff=0.6)}",
                             hint=f"regions in the catalog: {', '.join(known)}; `leanserve prices refresh --region {region}` fetches others")

    @staticmethod
    def _platform(platform: str):
        from toolkit.platforms import platform_for

        return platform_for(platform)  # InputError with a did-you-mean for an unknown name

    _check_platform = _platform


def load_catalog(cache_dir: str | Path | None = None, *, today: date | None = None, warn: Callable[[str], None] | None = None) -> Catalog:
    """Read the embedded snapshot and the user cache (:func:`toolkit.pricing.loading.load_catalog`)."""
    from toolkit.pricing.loading import load_catalog as _load

    return _load(cache_dir, today=today, warn=warn)


__all__ = ["API", "MAX_AGE_ENV", "SNAPSHOT", "STALE_AFTER_DAYS", "Catalog", "InstanceInfo", "PriceNotFound", "PriceQuote", "ServerlessRates", "load_catalog", "short_source", "stale_after_days"]
