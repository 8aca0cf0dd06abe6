"""``prices refresh``, purchase options: Savings Plans rates and current spot prices, from the AWS APIs.

Queries, per region:
  savingsplans  DescribeSavingsPlansOfferingRates  planType SageMaker, product SageMaker, service AmazonSageMaker
                                                   -> real-time inference rates (usage type ``<R>-Host:ml.*``)
  savingsplans  DescribeSavingsPlansOfferingRates  planType EC2Instance, product EC2, service AmazonEC2,
                                                   operation RunInstances, Linux/UNIX, shared tenancy, the
                                                   catalog's EC2 types -> node rates (usage type ``<R>-BoxUsage:*``)
  ec2 (in R)    DescribeSpotPriceHistory            Linux/UNIX, the catalog's EC2 types, StartTime now
                                                   -> the lowest current price over the region's zones
The Savings Plans API answers in us-east-1 for every region and has no paginator: ``nextToken`` is followed
by hand. Only types the hardware table knows are kept. Each rate's ``payment`` gives the upfront share
(No 0, Partial 0.5 - AWS asks at least half -, All 1). Failures never crash: they become one warning per
data set, and a data set that did not arrive whole is not written (the snapshot or older cache stays).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from toolkit.pricing.rows import (
    PURCHASE_DATASETS,
    SAVINGS_PLANS_API,
    SPOT_API,
    SPOT_PRICES_FILE,
    SavingsPlanRateRow,
    SpotPriceRow,
    read_rows,
    write_rows,
)

PAYMENT = {"No Upfront": ("no-upfront", 0.0), "Partial Upfront": ("partial-upfront", 0.5), "All Upfront": ("all-upfront", 1.0)}
TERM = {31536000: "1yr", 94608000: "3yr"}
PLAN = {"SageMaker": "sagemaker", "EC2Instance": "ec2-instance", "Compute": "compute"}
EC2_BATCH = 50  #: instance types per spot-price request
RATES_FILE = PURCHASE_DATASETS["savings_plans"][0]


@dataclass
class Clients:
    """The AWS clients a refresh of purchase options uses: one ``savingsplans`` client, and EC2 clients by region."""

    savingsplans: object | None = None
    ec2: Callable[[str], object] | None = None


@dataclass
class Fetched:
    """What was fetched: CSV text per cache file, row counts, and warnings."""

    files: dict[str, str] = field(default_factory=dict)
    fetched: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def default_clients() -> Clients:
    import boto3
    from botocore.config import Config

    config = Config(retries={"max_attempts": 5, "mode": "adaptive"})
    return Clients(boto3.client("savingsplans", region_name="us-east-1", config=config),
                   lambda region: boto3.client("ec2", region_name=region, config=config))


def sagemaker_rates_query(region: str) -> dict:
    return {"savingsPlanTypes": ["SageMaker"], "products": ["SageMaker"], "serviceCodes": ["AmazonSageMaker"],
            "filters": [{"name": "region", "values": [region]}], "maxResults": 1000}


def ec2_rates_query(region: str, instance_types: list[str]) -> dict:
    return {"savingsPlanTypes": ["EC2Instance"], "products": ["EC2"], "serviceCodes": ["AmazonEC2"], "operations": ["RunInstances"],
            "filters": [{"name": "region", "values": [region]}, {"name": "tenancy", "values": ["shared"]},
                        {"name": "productDescription", "values": ["Linux/UNIX"]}, {"name": "instanceType", "values": instance_types}],
            "maxResults": 1000}


def _offering_rates(client, query: dict) -> list[dict]:
    out, token = [], None
    while True:
        page = client.describe_savings_plans_offering_rates(**query, **({"nextToken": token} if token else {}))
        out += page.get("searchResults", [])
        token = page.get("nextToken")
        if not token:
            return out


def _instance_type(rate: dict) -> str:
    props = {p.get("name"): p.get("value") for p in rate.get("properties", [])}
    usage = rate.get("usageType", "")
    return props.get("instanceType") if "." in str(props.get("instanceType", "")) else usage.rsplit(":", 1)[-1]


def parse_rate(rate: dict, region: str, known: set[str], fetched_at: str) -> SavingsPlanRateRow | None:
    """One ``searchResults`` entry as a catalog row; None when it is not a rate the catalog keeps."""
    offering = rate.get("savingsPlanOffering") or {}
    usage = rate.get("usageType", "")
    if rate.get("unit") != "Hrs" or offering.get("currency", "USD") != "USD":
        return None
    if rate.get("serviceCode") == "AmazonSageMaker":
        if "Host:ml." not in usage:  # Notebook, Training, Processing, Studio ... are other components
            return None
    elif "BoxUsage:" not in usage or rate.get("operation") != "RunInstances":
        return None
    name = _instance_type(rate)
    plan, term = PLAN.get(offering.get("planType", "")), TERM.get(int(offering.get("durationSeconds") or 0))
    payment = PAYMENT.get(offering.get("paymentOption", ""))
    try:
        usd = float(rate.get("rate", ""))
    except ValueError:
        return None
    if name not in known or not (plan and term and payment) or usd <= 0:
        return None
    sources = (f"{SAVINGS_PLANS_API} offering {offering.get('offeringId', '')}: {offering.get('planDescription', '')}; "
               f"usage type {usage}").strip()
    notes = "partial upfront assumed at the 50% minimum" if payment[0] == "partial-upfront" else ""
    return SavingsPlanRateRow(name, region, plan, term, payment[0], usd, payment[1], SAVINGS_PLANS_API, sources, fetched_at, "high", notes)


def spot_prices(client, region: str, instance_types: list[str], fetched_at: str, now: datetime | None = None) -> list[SpotPriceRow]:
    """The lowest current Linux/UNIX spot price over ``region``'s zones, per type (the newest price per zone)."""
    latest: dict[tuple[str, str], tuple] = {}
    now = now or datetime.now(timezone.utc)
    for start in range(0, len(instance_types), EC2_BATCH):
        pages = client.get_paginator("describe_spot_price_history").paginate(
            InstanceTypes=instance_types[start:start + EC2_BATCH], ProductDescriptions=["Linux/UNIX"], StartTime=now)
        for page in pages:
            for p in page.get("SpotPriceHistory", []):
                key = (p["InstanceType"], p["AvailabilityZone"])
                if key not in latest or p["Timestamp"] > latest[key][0]:
                    latest[key] = (p["Timestamp"], float(p["SpotPrice"]))
    best: dict[str, tuple[float, str, object]] = {}
    for (name, zone), (stamp, usd) in latest.items():
        if usd > 0 and (name not in best or usd < best[name][0]):
            best[name] = (usd, zone, stamp)
    return [SpotPriceRow(name, region, usd, zone, SPOT_API, f"{SPOT_API} {zone} at {stamp:%Y-%m-%dT%H:%MZ}", fetched_at, "low")
            for name, (usd, zone, stamp) in sorted(best.items())]


def _existing(folder: Path, name: str, cls: type) -> list:
    path = folder / name
    try:
        return read_rows(cls, path.read_text(encoding="utf-8"), str(path)) if path.exists() else []
    except Exception:  # noqa: BLE001 - an unreadable cache file is replaced by fresh data
        return []


def _file(folder: Path, name: str, cls: type, new: list, key: Callable, regions: list[str]) -> str:
    merged = {key(r): r for r in _existing(folder, name, cls) if r.region not in regions}
    merged.update({key(r): r for r in new})
    return write_rows(sorted(merged.values(), key=key), cls)


def describe_error(exc: Exception, api: str) -> str:
    from botocore.exceptions import (
        ClientError,
        NoCredentialsError,
        PartialCredentialsError,
    )

    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return "no AWS credentials found"
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = err.get("Code", "")
        if code in ("ThrottlingException", "Throttling", "RequestLimitExceeded", "TooManyRequestsException"):
            return f"the {api} API throttled the requests; try again in a minute"
        if code in ("AccessDeniedException", "AccessDenied", "UnauthorizedOperation", "UnrecognizedClientException"):
            return f"the AWS credentials may not call the {api} API ({code})"
        return f"the {api} API answered {code or 'an error'}: {err.get('Message', '')}".rstrip(": ")
    return f"could not reach the {api} API ({type(exc).__name__}: {exc})"


def fetch(regions: list[str], clients: Clients, known_sm: set[str], known_ec2: list[str], folder: Path, fetched_at: str,
          progress: Callable[[str], None] | None = None) -> Fetched:
    """Fetch Savings Plans rates and spot prices for ``regions``; each data set arrives whole or not at all."""
    out = Fetched()
    if clients.savingsplans is not None:
        rows: list[SavingsPlanRateRow] = []
        try:
            for region in regions:
                if progress:
                    progress(f"Savings Plans rates in {region}")
                for rate in _offering_rates(clients.savingsplans, sagemaker_rates_query(region)):
                    rows += [r for r in [parse_rate(rate, region, known_sm, fetched_at)] if r]
                for start in range(0, len(known_ec2), EC2_BATCH):
                    for rate in _offering_rates(clients.savingsplans, ec2_rates_query(region, known_ec2[start:start + EC2_BATCH])):
                        rows += [r for r in [parse_rate(rate, region, set(known_ec2), fetched_at)] if r]
        except Exception as exc:  # noqa: BLE001 - a failure is a warning, never a crash
            out.warnings.append(f"Savings Plans rates: {describe_error(exc, 'Savings Plans')}; none were written")
        else:
            out.fetched[RATES_FILE] = len(rows)
            if rows:
                key = lambda r: (r.instance_type, r.region, r.plan, r.term, r.payment)
                out.files[RATES_FILE] = _file(folder, RATES_FILE, SavingsPlanRateRow, rows, key, regions)
    if clients.ec2 is not None and known_ec2:
        spot: list[SpotPriceRow] = []
        try:
            for region in regions:
                if progress:
                    progress(f"spot prices in {region}")
                spot += spot_prices(clients.ec2(region), region, known_ec2, fetched_at)
        except Exception as exc:  # noqa: BLE001
            out.warnings.append(f"spot prices: {describe_error(exc, 'EC2 spot price history')}; none were written")
        else:
            out.fetched[SPOT_PRICES_FILE] = len(spot)
            if spot:
                out.files[SPOT_PRICES_FILE] = _file(folder, SPOT_PRICES_FILE, SpotPriceRow, spot,
                                                    lambda r: (r.instance_type, r.region), regions)
    return out
