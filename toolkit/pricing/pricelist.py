"""Turn AWS Price List ``get_products`` items (JSON strings) into catalog rows.

An item is a product (``product.attributes``) with terms; the on-demand term holds one or more price
dimensions (``unit``, ``beginRange``, ``pricePerUnit.USD``). What is kept:

- AmazonSageMaker, ``component`` = ``Hosting`` and an ``ml.*`` instance: real-time $/instance-hour
  (usage type ``<REGION>-Host:ml.*``). Other components (Notebook, Training, Processing, Studio ...)
  are ignored, and so are asynchronous/batch usage types.
- AmazonSageMaker, usage type ``<REGION>-ServerlessInf:Mem-<N>GB``: $/second for N GB of memory, kept
  as $/GB-second (provisioned concurrency usage types are ignored).
- AmazonSageMaker, usage type ending ``Data-Bytes-In`` / ``Data-Bytes-Out``: $/GB processed.
- AmazonSageMaker, product family ``Storage`` with usage type ``Host:VolumeUsage.*``: $/GB-month.
- AmazonEC2 Linux, shared tenancy, no pre-installed software, capacity status ``Used``: $/hour.

When a term has several dimensions (tiers), the first tier (``beginRange`` 0) with the expected unit
is used; a zero price is not a price (free-tier rows) and is skipped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from toolkit.pricing.rows import API

HOUR_UNITS = {"hrs", "hours", "hour"}
_MEM = re.compile(r"ServerlessInf:Mem-(\d+)GB$")


@dataclass(frozen=True)
class ParsedPrice:
    """One usable price from the Price List: what it is, where, USD per ``unit``, and its SKU."""

    kind: str  #: hosting | ec2 | serverless-compute | serverless-data | endpoint-storage
    name: str  #: instance type, or the item for rates
    region: str
    usd: float
    unit: str  #: hour | GB-second | GB | GB-month
    sku: str
    effective: str  #: ISO date the term became effective
    description: str


def _on_demand_dimension(item: dict, units: set[str]) -> tuple[float, str, str, str] | None:
    terms = (item.get("terms") or {}).get("OnDemand") or {}
    for term in terms.values():
        dims = sorted((term.get("priceDimensions") or {}).values(), key=lambda d: float(d.get("beginRange") or 0))
        for dim in dims:
            if str(dim.get("unit", "")).lower() not in units:
                continue
            try:
                usd = float((dim.get("pricePerUnit") or {}).get("USD", ""))
            except ValueError:
                continue
            if usd <= 0:
                continue
            return usd, str(term.get("effectiveDate", ""))[:10], str(dim.get("description", "")), str(dim.get("rateCode", ""))
    return None


def parse_item(text: str, service: str) -> ParsedPrice | None:
    """Parse one PriceList entry (a JSON string); None when it is not a price the catalog keeps."""
    try:
        item = json.loads(text)
    except ValueError:
        return None
    product = item.get("product") or {}
    attrs = product.get("attributes") or {}
    sku = str(product.get("sku", ""))
    region = attrs.get("regionCode", "")
    usage = attrs.get("usagetype", "")
    if not region:
        return None
    if service == "AmazonEC2":
        if attrs.get("operatingSystem") != "Linux" or attrs.get("tenancy", "Shared") != "Shared":
            return None
        if attrs.get("preInstalledSw", "NA") != "NA" or attrs.get("capacitystatus", "Used") != "Used":
            return None
        if attrs.get("licenseModel", "No License required") != "No License required":
            return None
        dim = _on_demand_dimension(item, HOUR_UNITS)
        name = attrs.get("instanceType", "")
        return ParsedPrice("ec2", name, region, dim[0], "hour", sku, dim[1], dim[2]) if dim and name else None
    # AmazonSageMaker
    name = attrs.get("instanceName") or attrs.get("instanceType") or ""
    if attrs.get("component") == "Hosting" and name.startswith("ml.") and "Host:ml." in usage:
        dim = _on_demand_dimension(item, HOUR_UNITS)
        return ParsedPrice("hosting", name, region, dim[0], "hour", sku, dim[1], dim[2]) if dim else None
    m = _MEM.search(usage)
    if m and "ProvisionedConcurrency" not in usage:
        gb = int(m.group(1))
        dim = _on_demand_dimension(item, {"second", "seconds", "sec"})
        if dim:
            return ParsedPrice("serverless-compute", f"Mem-{gb}GB", region, dim[0] / gb, "GB-second", sku, dim[1], dim[2])
        return None
    if usage.endswith("Data-Bytes-In") or usage.endswith("Data-Bytes-Out"):
        dim = _on_demand_dimension(item, {"gb"})
        return ParsedPrice("serverless-data", usage.rsplit("-", 1)[-1], region, dim[0], "GB", sku, dim[1], dim[2]) if dim else None
    if product.get("productFamily") == "Storage" and "Host:VolumeUsage" in usage:
        dim = _on_demand_dimension(item, {"gb-mo", "gb-month"})
        return ParsedPrice("endpoint-storage", "gp2", region, dim[0], "GB-month", sku, dim[1], dim[2]) if dim else None
    return None


def row_sources(p: ParsedPrice) -> str:
    """The ``sources`` text of a row fetched from the API."""
    eff = f", effective {p.effective}" if p.effective else ""
    return f"{API} SKU {p.sku}{eff}: {p.description}".strip()
