"""Typed rows of the price and hardware catalog, and how they are read from and written to CSV.

Every price row keeps where it came from (``source`` and the row's own ``sources`` text), when it was
last checked (``as_of``, ISO date) and how much to trust it (``confidence``: high, medium or low).
The same CSV layout is used by the embedded snapshot (``toolkit/data/``) and by the user cache that
``leanserve prices refresh`` writes, so a user can read and edit either with a spreadsheet.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TypeVar

from toolkit.errors import InputError

SNAPSHOT = "snapshot"
API = "aws-price-list-api"
CONFIDENCE = ("high", "medium", "low")


@dataclass(frozen=True)
class HostingPriceRow:
    """SageMaker real-time inference ("Hosting") on-demand price of one instance type in one region.

    ``usd_per_hour`` is USD per instance-hour (Linux, on-demand, no Savings Plans, storage and data
    processing excluded).
    """

    instance_type: str  #: SageMaker name, e.g. ``ml.g5.xlarge``
    region: str  #: AWS region code, e.g. ``us-east-1``
    usd_per_hour: float  #: USD per instance-hour
    source: str  #: ``snapshot`` or ``aws-price-list-api``
    sources: str  #: the row's own evidence (documents, repositories, SKUs), ``;``-separated
    as_of: str  #: ISO date the value was collected or fetched
    confidence: str  #: high | medium | low
    evidence_date: str = ""  #: latest date named by the evidence (may be a year only, or empty)
    notes: str = ""


@dataclass(frozen=True)
class Ec2PriceRow:
    """EC2 Linux price of one instance type in one region, for Kubernetes nodes.

    ``usd_per_hour`` is the on-demand USD per instance-hour; ``spot_usd_per_hour`` the lowest spot
    price seen over the region's zones at one moment (empty when unknown; spot moves daily).
    """

    instance_type: str  #: EC2 name, e.g. ``g5.xlarge``
    region: str
    usd_per_hour: float  #: on-demand USD per instance-hour
    spot_usd_per_hour: float | None  #: USD per instance-hour, lowest spot seen; None when unknown
    spot_zone: str  #: availability zone id where that spot price was seen
    source: str
    sources: str
    as_of: str
    confidence: str  #: confidence of the on-demand price; spot prices are always "low"


@dataclass(frozen=True)
class RateRow:
    """A usage-based SageMaker rate in one region.

    ``item`` is one of ``serverless-compute`` (USD per GB-second of configured memory),
    ``serverless-data`` (USD per GB processed, in plus out) or ``endpoint-storage`` (USD per GB-month
    of ML storage volume attached to endpoint instances). ``unit`` spells the unit out.
    """

    item: str
    region: str
    usd: float
    unit: str  #: GB-second | GB | GB-month
    source: str
    sources: str
    as_of: str
    confidence: str


@dataclass(frozen=True)
class InstanceRow:
    """Hardware facts of one instance type (SageMaker ``ml.*`` or EC2 name).

    ``memory_gib`` is host memory in GiB; ``accelerator_memory_gib`` is the total over all
    accelerators in GiB; ``accelerator_count`` counts GPUs or Neuron chips (fractional for g6f
    partitions). ``family`` keys into ``instance_families.csv`` for CPU and accelerator peak figures.
    """

    name: str
    platform: str  #: sagemaker-realtime | kubernetes
    family: str  #: e.g. g5, c7i, inf2
    vcpus: int
    memory_gib: float
    accelerator: str  #: empty, or e.g. T4, A10G, L4, L40S, A100, H100, inferentia2
    accelerator_count: float
    accelerator_memory_gib: float
    sources: str


R = TypeVar("R")


def _convert(value: str, annotation: str, column: str, where: str):
    text = value.strip()
    if annotation == "str":
        return text
    if annotation == "float | None":
        return float(text) if text else None
    try:
        if annotation == "float":
            return float(text)
        if annotation == "int":
            return int(float(text))
    except ValueError:
        raise InputError(f"{where}: column '{column}' must be a number, got {value!r}", hint="fix the value or delete the file to use the snapshot") from None
    raise TypeError(annotation)  # pragma: no cover - programming error


def read_rows(cls: type[R], text: str, where: str) -> list[R]:
    """Parse CSV ``text`` into rows of ``cls``; columns may come in any order, extra columns are ignored."""
    reader = csv.DictReader(io.StringIO(text))
    cols = fields(cls)
    required = [f.name for f in cols if f.default is dataclasses.MISSING]
    missing = [c for c in required if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(f"{where}: missing column(s) {', '.join(missing)}", hint="restore the header line or delete the file to use the snapshot")
    rows = []
    for n, raw in enumerate(reader, start=2):
        values = {}
        for f in cols:
            if f.name in raw and raw[f.name] is not None:
                values[f.name] = _convert(raw[f.name], str(f.type), f.name, f"{where} line {n}")
        rows.append(cls(**values))
    return rows


def write_rows(rows: list, cls: type) -> str:
    """Render rows of ``cls`` as CSV text (header included)."""
    out = io.StringIO()
    names = [f.name for f in fields(cls)]
    writer = csv.DictWriter(out, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        d = dataclasses.asdict(row)
        writer.writerow({k: ("" if d[k] is None else d[k]) for k in names})
    return out.getvalue()


DATA_DIR = Path(__file__).resolve().parents[1] / "data"

# dataset name -> (file name, row class). The same names are used in the user cache.
DATASETS: dict[str, tuple[str, type]] = {
    "hosting": ("sagemaker_hosting.csv", HostingPriceRow),
    "ec2": ("ec2_prices.csv", Ec2PriceRow),
    "rates": ("sagemaker_rates.csv", RateRow),
}
INSTANCES_FILE = "instances.csv"


# ---- purchase options: Savings Plans rates, spot interruption bands, refreshed spot prices -----------------
SAVINGS_PLANS_API = "aws-savings-plans-api"
SPOT_API = "aws-ec2-spot-price-history"


@dataclass(frozen=True)
class SavingsPlanRateRow:
    """A Savings Plans rate of one instance type in one region, for one plan, term and payment option.

    ``usd_per_hour`` is the effective USD per instance-hour of usage covered by the plan (the offering
    rate ``describe_savings_plans_offering_rates`` returns; it already includes the upfront part spread
    over the term). ``upfront_fraction`` is the share of the hourly commitment paid at purchase: 0 (No
    Upfront), 0.5 (Partial Upfront: AWS asks at least half) or 1 (All Upfront); it lets a report amortise
    the upfront payment month by month.
    """

    instance_type: str  #: ``ml.*`` for the SageMaker plan, EC2 names for the EC2 plans
    region: str
    plan: str  #: sagemaker | ec2-instance | compute
    term: str  #: 1yr | 3yr
    payment: str  #: no-upfront | partial-upfront | all-upfront
    usd_per_hour: float  #: effective USD per instance-hour under the plan
    upfront_fraction: float  #: share of the commitment paid upfront (0, 0.5, 1)
    source: str  #: ``snapshot`` or ``aws-savings-plans-api``
    sources: str
    as_of: str
    confidence: str
    notes: str = ""


@dataclass(frozen=True)
class SpotInterruptionRow:
    """The EC2 Spot Instance Advisor's frequency-of-interruption band of one instance type in one region.

    ``band`` is one of ``<5%``, ``5-10%``, ``10-15%``, ``15-20%``, ``>20%``: the share of spot instances
    of that type AWS reclaimed over the trailing month (Linux). A labelled estimate, never a measurement.
    """

    instance_type: str  #: EC2 name, e.g. ``g5.xlarge``
    region: str
    band: str
    source: str
    sources: str
    as_of: str
    confidence: str  #: always "low": the advisor publishes a band over a past month, not a rate


@dataclass(frozen=True)
class SpotPriceRow:
    """A spot price fetched by ``prices refresh`` (``describe_spot_price_history``): the lowest current price
    over the region's zones, USD per instance-hour, Linux/UNIX."""

    instance_type: str
    region: str
    spot_usd_per_hour: float
    spot_zone: str  #: availability zone where that price was seen
    source: str
    sources: str
    as_of: str
    confidence: str


# purchase-option datasets: (file name, row class). Kept apart from DATASETS: SNAPSHOT.json (written by
# scripts/build_catalog.py from the seed folder) does not list them; each row carries its own date.
PURCHASE_DATASETS: dict[str, tuple[str, type]] = {
    "savings_plans": ("savings_plan_rates.csv", SavingsPlanRateRow),
    "interruptions": ("spot_interruptions.csv", SpotInterruptionRow),
}
SPOT_PRICES_FILE = "ec2_spot_prices.csv"  #: cache only: refreshed spot prices (the snapshot's are in ec2_prices.csv)
