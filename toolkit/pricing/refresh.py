"""``leanserve prices refresh``: fetch current list prices from the AWS Price List API into the user cache.

The Pricing API lives in us-east-1 (it answers for every region). Queries, per region:
  AmazonSageMaker  regionCode=R, component=Hosting             real-time $/instance-hour
  AmazonSageMaker  regionCode=R, productFamily=ML Serverless    serverless $/second per memory size
  AmazonSageMaker  regionCode=R, usagetype CONTAINS Data-Bytes  $/GB processed
  AmazonSageMaker  regionCode=R, productFamily=Storage, volumeType=General Purpose-Hosting  $/GB-month
  AmazonEC2        regionCode=R, instanceType=T, Linux, Shared, no software, Used   (for every EC2 type in the catalog)
each paginated with ``get_products``. Only instance types the hardware table knows are kept. Spot prices
are not in the Price List: with the Pricing client it makes itself, a refresh also fetches Savings Plans rates
and current spot prices (``toolkit.pricing.refresh_commitments``); without them spot stays from the snapshot.

Failures never crash: throttling, missing credentials, access denied or network errors end the refresh
with a warning; nothing is written for a data set that did not arrive completely, and reading falls
back to the snapshot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from toolkit.platforms import platform_for
from toolkit.pricing import cache as cache_mod
from toolkit.pricing.pricelist import ParsedPrice, parse_item, row_sources
from toolkit.pricing.rows import API, DATA_DIR, INSTANCES_FILE, Ec2PriceRow, HostingPriceRow, InstanceRow, RateRow, read_rows, write_rows

DEFAULT_REGIONS = ["us-east-1"]


@dataclass
class RefreshResult:
    """What a refresh did: rows fetched per data set, files written or kept (user-edited), warnings."""

    cache_dir: str
    regions: list[str]
    fetched: dict[str, int] = field(default_factory=dict)
    written: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    ok: bool = True


def _filters(**terms: str) -> list[dict]:
    return [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in terms.items()]


def sagemaker_queries(region: str) -> list[list[dict]]:
    return [
        _filters(regionCode=region, component="Hosting"),
        _filters(regionCode=region, productFamily="ML Serverless"),
        _filters(regionCode=region) + [{"Type": "CONTAINS", "Field": "usagetype", "Value": "Data-Bytes"}],
        _filters(regionCode=region, productFamily="Storage", volumeType="General Purpose-Hosting"),
    ]


def ec2_query(region: str, instance_type: str) -> list[dict]:
    return _filters(regionCode=region, instanceType=instance_type, operatingSystem="Linux", tenancy="Shared",
                    preInstalledSw="NA", capacitystatus="Used")


def _fetch(client, service: str, filters: list[dict]) -> list[ParsedPrice]:
    out = []
    for page in client.get_paginator("get_products").paginate(ServiceCode=service, Filters=filters, FormatVersion="aws_v1"):
        for text in page.get("PriceList", []):
            parsed = parse_item(text, service)
            if parsed is not None:
                out.append(parsed)
    return out


def _describe_error(exc: Exception) -> str:
    from botocore.exceptions import ClientError, NoCredentialsError, PartialCredentialsError

    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return "no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("ThrottlingException", "Throttling", "TooManyRequestsException"):
            return "the Pricing API throttled the requests; try again in a minute"
        if code in ("AccessDeniedException", "AccessDenied", "UnrecognizedClientException"):
            return f"the AWS credentials may not call pricing:GetProducts ({code})"
        return f"the Pricing API answered {code or 'an error'}: {exc.response.get('Error', {}).get('Message', '')}".rstrip(": ")
    return f"could not reach the Pricing API ({type(exc).__name__}: {exc})"


def _existing(folder: Path, name: str, cls: type) -> list:
    path = folder / name
    if not path.exists():
        return []
    try:
        return read_rows(cls, path.read_text(encoding="utf-8"), str(path))
    except Exception:  # noqa: BLE001 - an unreadable cache file is replaced by fresh data
        return []


def refresh_prices(
    regions: list[str] | None = None,
    *,
    cache_dir: str | Path | None = None,
    client=None,
    progress: Callable[[str], None] | None = None,
    today: str | None = None,
    commitment_clients=None,
) -> RefreshResult:
    """Fetch prices for ``regions`` into the cache. ``client``: a boto3 ``pricing`` client (tests pass a stubbed one).

    ``commitment_clients`` (:class:`toolkit.pricing.refresh_commitments.Clients`) fetch Savings Plans rates and spot
    prices too; by default they are created only when ``client`` is (a caller passing a client passes these as well).
    """
    from toolkit.pricing import refresh_commitments
    regions = regions or DEFAULT_REGIONS
    folder = Path(cache_dir) if cache_dir is not None else cache_mod.default_cache_dir()
    result = RefreshResult(str(folder), regions)
    fetched_at = today or datetime.now(timezone.utc).date().isoformat()
    instances = read_rows(InstanceRow, (DATA_DIR / INSTANCES_FILE).read_text(encoding="utf-8"), INSTANCES_FILE)
    by_dataset: dict[str | None, set[str]] = {}
    for i in instances:  # which price dataset each instance row belongs to, as its platform says
        by_dataset.setdefault(platform_for(i.platform).dataset, set()).add(i.name)
    known_sm = by_dataset.get("hosting", set())
    known_ec2 = sorted(by_dataset.get("ec2", set()))
    if client is None:
        try:
            import boto3
            from botocore.config import Config

            client = boto3.client("pricing", region_name="us-east-1", config=Config(retries={"max_attempts": 5, "mode": "adaptive"}))
            commitment_clients = commitment_clients or refresh_commitments.default_clients()
        except Exception as exc:  # noqa: BLE001 - no boto3, bad config: fall back to the snapshot
            result.ok = False
            result.warnings.append(f"cannot create a Pricing API client ({exc}); the snapshot stays in use")
            return result

    sm: list[ParsedPrice] = []
    ec2: list[ParsedPrice] = []
    try:
        for region in regions:
            if progress:
                progress(f"SageMaker prices in {region}")
            for filters in sagemaker_queries(region):
                sm += _fetch(client, "AmazonSageMaker", filters)
            for name in known_ec2:
                if progress:
                    progress(f"EC2 {name} in {region}")
                ec2 += _fetch(client, "AmazonEC2", ec2_query(region, name))
    except Exception as exc:  # noqa: BLE001 - every failure becomes a warning, never a crash
        result.ok = False
        result.warnings.append(_describe_error(exc) + "; nothing was written and the snapshot stays in use")
        return result

    hosting = [HostingPriceRow(p.name, p.region, p.usd, API, row_sources(p), fetched_at, "high", p.effective)
               for p in sm if p.kind == "hosting" and p.name in known_sm]
    skipped = sorted({p.name for p in sm if p.kind == "hosting" and p.name not in known_sm})
    if skipped:
        result.warnings.append(f"{len(skipped)} SageMaker instance types have no hardware facts in the catalog and were skipped: {', '.join(skipped[:5])}{' ...' if len(skipped) > 5 else ''}")
    ec2_rows = [Ec2PriceRow(p.name, p.region, p.usd, None, "", API, row_sources(p), fetched_at, "high") for p in ec2]
    rates = _rates(sm, fetched_at, result)

    files: dict[str, str] = {}
    for name, cls, new, key in (
        ("sagemaker_hosting.csv", HostingPriceRow, hosting, lambda r: (r.instance_type, r.region)),
        ("ec2_prices.csv", Ec2PriceRow, ec2_rows, lambda r: (r.instance_type, r.region)),
        ("sagemaker_rates.csv", RateRow, rates, lambda r: (r.item, r.region)),
    ):
        result.fetched[name] = len(new)
        if not new:
            continue
        merged = {key(r): r for r in _existing(folder, name, cls) if r.region not in regions}
        merged.update({key(r): r for r in new})
        files[name] = write_rows(sorted(merged.values(), key=key), cls)
    if commitment_clients is not None:  # Savings Plans rates and spot prices (toolkit.pricing.refresh_commitments)
        extra = refresh_commitments.fetch(regions, commitment_clients, known_sm, known_ec2, folder, fetched_at, progress)
        files.update(extra.files)
        result.fetched.update(extra.fetched)
        result.warnings += extra.warnings
    if not files:
        result.warnings.append("the Pricing API returned no usable prices; the snapshot stays in use")
        return result
    with cache_mod.lock(folder):
        written, kept = cache_mod.write_files(folder, files, fetched_at, regions)
    result.written, result.kept = written, kept
    for name in kept:
        result.warnings.append(f"kept your edited {folder / name} (delete it to accept refreshed prices)")
    return result


def _rates(sm: list[ParsedPrice], fetched_at: str, result: RefreshResult) -> list[RateRow]:
    rows: list[RateRow] = []
    by_region: dict[tuple[str, str], list[ParsedPrice]] = {}
    for p in sm:
        if p.kind != "hosting":
            by_region.setdefault((p.kind, p.region), []).append(p)
    for (kind, region), items in sorted(by_region.items()):
        values = sorted(p.usd for p in items)
        usd = values[len(values) // 2]  # serverless: the same $/GB-second for every memory size; data: in and out
        if values[-1] > values[0] * 1.01:
            result.warnings.append(f"{kind} in {region}: prices differ between {len(values)} items ({values[0]:g}..{values[-1]:g}); the median is kept")
        first = items[0]
        rows.append(RateRow(kind, region, usd, first.unit, API, "; ".join(row_sources(p) for p in items[:3]), fetched_at, "high"))
    return rows
