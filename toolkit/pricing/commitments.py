"""Purchase options beyond on-demand: Savings Plans rates and spot interruption bands, as typed lookups.

``catalog.savings_plan_rate(instance_type, region, term, payment)`` returns a :class:`CommitmentQuote`
or raises :class:`~toolkit.pricing.catalog.PriceNotFound`: a rate the catalog does not hold is never
invented from a typical discount. ``catalog.interruption_rate(family_or_type, region)`` returns an
:class:`InterruptionBand`, a labelled estimate.

Data (``toolkit/data/``, overlaid by the user cache that ``prices refresh`` writes):
  savings_plan_rates.csv   per instance type, region, plan, term, payment: effective USD per instance-hour
                           and the upfront share. The snapshot holds no row: no public, citable table of
                           these rates could be found for the catalog's types (searched 2026-12: AWS pricing
                           pages are rendered from feeds, third-party pages quote only "up to 64%"), so every
                           rate comes from ``prices refresh`` (``describe_savings_plans_offering_rates``).
  spot_interruptions.csv   the EC2 Spot Instance Advisor's frequency-of-interruption band per EC2 type and
                           region (Linux), from the advisor feed as copied on 2025-06-28 into
                           alexei-led/spotinfo (the row's ``sources`` say where). Bands move month to month.

Plans: ``sagemaker`` (SageMaker Savings Plans cover ml.* usage in every region and family), ``ec2-instance``
(one EC2 family in one region; the lowest rates) and ``compute`` (any EC2 family and region).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from toolkit.errors import InputError
from toolkit.suggest import did_you_mean

TERMS = ("1yr", "3yr")
PAYMENTS = ("no-upfront", "partial-upfront", "all-upfront")
PLANS = ("sagemaker", "ec2-instance", "compute")
TERM_HOURS = {"1yr": 8760.0, "3yr": 26280.0}  #: hours billed over a term (365-day years, as AWS bills them)
HOURS_PER_MONTH = 730.0  #: the advisor's "month" and AWS's billing month, in hours

#: Spot Instance Advisor bands: label -> (low %, high %, representative % used for simulation).
#: The representative value is the band's midpoint; the open band ">20%" is taken as 25% (an assumption).
BANDS: dict[str, tuple[float, float | None, float]] = {
    "<5%": (0.0, 5.0, 2.5),
    "5-10%": (5.0, 10.0, 7.5),
    "10-15%": (10.0, 15.0, 12.5),
    "15-20%": (15.0, 20.0, 17.5),
    ">20%": (20.0, None, 25.0),
}
_BAND_ORDER = list(BANDS)


@dataclass(frozen=True)
class CommitmentQuote:
    """A Savings Plans rate: ``price`` (a PriceQuote, USD per instance-hour under the plan) and its terms.

    ``on_demand`` is the on-demand quote of the same type and region when the catalog has it (for the discount).
    """

    instance_type: str
    region: str
    plan: str
    term: str
    payment: str
    upfront_fraction: float
    price: object  #: PriceQuote
    on_demand: object | None = None  #: PriceQuote or None

    @property
    def usd_per_hour(self) -> float:
        return self.price.usd

    @property
    def discount(self) -> float | None:
        """1 - plan rate / on-demand rate (None without an on-demand price)."""
        if self.on_demand is None or not self.on_demand.usd:
            return None
        return 1.0 - self.price.usd / self.on_demand.usd

    @property
    def term_hours(self) -> float:
        return TERM_HOURS[self.term]

    def upfront_usd(self, commitment_usd_per_hour: float) -> float:
        """The payment due at purchase for a commitment of ``commitment_usd_per_hour`` over the whole term."""
        return commitment_usd_per_hour * self.term_hours * self.upfront_fraction

    def monthly_split(self, commitment_usd_per_hour: float, hours: float = HOURS_PER_MONTH) -> tuple[float, float]:
        """(recurring, amortised upfront) USD of one month of ``hours``: they sum to commitment × hours."""
        total = commitment_usd_per_hour * hours
        return total * (1.0 - self.upfront_fraction), total * self.upfront_fraction

    def as_dict(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if k not in ("price", "on_demand")}
        d.update(price=self.price.as_dict(), discount=self.discount, term_hours=self.term_hours,
                 on_demand=self.on_demand.as_dict() if self.on_demand is not None else None)
        return d


@dataclass(frozen=True)
class InterruptionBand:
    """A spot frequency-of-interruption band, a labelled estimate (``estimate`` is always True).

    ``monthly_fraction``: the representative share of spot instances interrupted per month (see :data:`BANDS`);
    ``per_instance_hour``: the matching constant hazard, -ln(1 - monthly_fraction) / 730 interruptions per
    instance-hour. ``basis`` says how the band was chosen (one type, or a family's sizes).
    """

    name: str  #: the instance type or family asked for
    region: str
    label: str
    low_pct: float
    high_pct: float | None
    monthly_fraction: float
    per_instance_hour: float
    basis: str
    source: str
    row_source: str
    as_of: str
    confidence: str = "low"
    estimate: bool = True

    def as_dict(self) -> dict:
        return asdict(self)


def band(label: str) -> tuple[float, float | None, float]:
    if label not in BANDS:
        raise InputError(f"unknown interruption band '{label}'{did_you_mean(label, list(BANDS))}",
                         hint=f"bands: {', '.join(BANDS)}")
    return BANDS[label]


def hazard_per_instance_hour(monthly_fraction: float) -> float:
    """Constant interruption hazard per instance-hour that interrupts ``monthly_fraction`` of instances in 730 h."""
    if not 0.0 <= monthly_fraction < 1.0:
        raise InputError(f"monthly interruption fraction must be in [0, 1), got {monthly_fraction}", hint="use e.g. 0.075 for 7.5%")
    return -math.log1p(-monthly_fraction) / HOURS_PER_MONTH


def default_plan(instance_type: str) -> str:
    return "sagemaker" if instance_type.startswith("ml.") else "ec2-instance"


def _check_choice(kind: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise InputError(f"unknown Savings Plans {kind} '{value}'{did_you_mean(value, list(choices))}",
                         hint=f"{kind}s: {', '.join(choices)}")


def savings_plan_rate(catalog, instance_type: str, region: str, term: str = "1yr", payment: str = "no-upfront",
                      plan: str | None = None) -> CommitmentQuote:
    """The Savings Plans rate of ``instance_type`` in ``region`` (PriceNotFound when the catalog has none)."""
    from toolkit.pricing.catalog import PriceNotFound

    info = catalog.instance(instance_type)  # InputError with a did-you-mean for an unknown type
    _check_choice("term", term, TERMS)
    _check_choice("payment option", payment, PAYMENTS)
    plan = plan or default_plan(instance_type)
    _check_choice("plan", plan, PLANS)
    rows = catalog._commitments
    row = rows.get((instance_type, region, plan, term, payment))
    if row is None:
        held = sorted(f"{t} {p}" for (n, r, pl, t, p) in rows if n == instance_type and r == region and pl == plan)
        where = f"the catalog has {', '.join(held)}" if held else "the catalog has no Savings Plans rate for it"
        raise PriceNotFound(
            f"no {term} {payment} {plan} Savings Plans rate for {instance_type} in {region} ({where})",
            hint="keep on-demand for it, or run `leanserve prices refresh` with AWS credentials allowed to call "
                 "savingsplans:DescribeSavingsPlansOfferingRates",
        )
    price = catalog._quote(f"savings-plan-{plan}", row.usd_per_hour, "hour", row.source, row.sources, row.as_of, row.confidence)
    on_demand = None
    try:
        from toolkit.platforms import platform_for

        on_demand = platform_for(info.platform).instance_price(catalog, instance_type, region)
    except InputError:
        on_demand = None
    return CommitmentQuote(instance_type, region, plan, term, payment, row.upfront_fraction, price, on_demand)


def savings_plan_rates(catalog, instance_type: str | None = None, region: str | None = None) -> list[CommitmentQuote]:
    """Every Savings Plans rate held, optionally for one type and/or region (sorted by type, region, plan, term, payment)."""
    keys = sorted(k for k in catalog._commitments if (instance_type is None or k[0] == instance_type)
                  and (region is None or k[1] == region) and k[0] in catalog._instances)
    return [savings_plan_rate(catalog, n, r, t, p, pl) for (n, r, pl, t, p) in keys]


def interruption_rate(catalog, name: str, region: str = "us-east-1") -> InterruptionBand:
    """The spot interruption band of an EC2 type (``g5.xlarge``) or family (``g5``) in ``region``.

    A type uses its own advisor row when there is one, else its family's. A family's band is the upper
    median of its sizes' bands in that region (the higher of the two middle bands for an even count).
    """
    from toolkit.pricing.catalog import PriceNotFound, short_source

    rows = catalog._interruptions
    if "." in name:
        catalog.instance(name)
        row = rows.get((name, region))
        if row is not None:
            return _band(name, region, row.band, f"{name} in {region}", row)
        family = catalog.instance(name).family
        basis_prefix = f"no advisor row for {name} in {region}; "
    else:
        family, basis_prefix = name, ""
    sizes = sorted(((t, r) for (t, reg), r in rows.items() if reg == region and _family(catalog, t) == family),
                   key=lambda tr: _BAND_ORDER.index(tr[1].band))
    if not sizes:
        regions = sorted({reg for (t, reg) in rows if _family(catalog, t) == family})
        where = f"regions with a band: {', '.join(regions)}" if regions else "no region has one in the catalog"
        raise PriceNotFound(f"no spot interruption band for {name} in {region} ({where})",
                            hint="plan without spot capacity for it, or choose a region the Spot Instance Advisor covers")
    label = sizes[len(sizes) // 2][1].band
    counts = ", ".join(f"{b}: {n}" for b in _BAND_ORDER if (n := sum(1 for _, r in sizes if r.band == b)))
    basis = f"{basis_prefix}family {family} in {region}: upper median of {len(sizes)} sizes ({counts})"
    row = sizes[len(sizes) // 2][1]
    return _band(name, region, label, basis, row, short_source(row.sources))


def _family(catalog, instance_type: str) -> str:
    info = catalog._instances.get(instance_type)
    return info.family if info is not None else instance_type.split(".", 1)[0]


def _band(name: str, region: str, label: str, basis: str, row, row_source: str | None = None) -> InterruptionBand:
    from toolkit.pricing.catalog import short_source

    low, high, mid = band(label)
    frac = mid / 100.0
    return InterruptionBand(name=name, region=region, label=label, low_pct=low, high_pct=high, monthly_fraction=frac,
                            per_instance_hour=hazard_per_instance_hour(frac), basis=basis, source=row.source,
                            row_source=row_source or short_source(row.sources), as_of=row.as_of)
