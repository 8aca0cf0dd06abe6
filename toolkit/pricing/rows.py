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
