"""Build the embedded price and hardware catalog (toolkit/data/) from the dated seed snapshot.

Usage: python scripts/build_catalog.py [--source ../shared/data/pricing] [--check]

Reads the seed files described in the source folder's SOURCES.md:
  aws_sagemaker_hosting.csv   SageMaker real-time (Hosting) $/instance-hour, per-row sources and confidence
  aws_ec2_vms.csv             EC2 on-demand and spot $/hour with hardware facts (SkyPilot catalog extract)
  aws_sagemaker_serverless.txt  Serverless $/GB-second and $/GB processed; endpoint storage $/GB-month
then the project's newer rows in scripts/catalog_seed/ (see its SOURCES.md), which replace the seed's
rows of the same key, each with its own source and date:
  aws_ec2_vms.csv             EC2 CPU node types from a newer SkyPilot catalog commit
and writes, in the layout that toolkit.pricing.rows defines:
  toolkit/data/sagemaker_hosting.csv, ec2_prices.csv, sagemaker_rates.csv, instances.csv, SNAPSHOT.json
Rerunning it on the same input gives the same files. With --check it only verifies that the files in
toolkit/data/ match what it would write (exit 1 when stale).
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from toolkit.pricing.rows import (  # noqa: E402
    DATA_DIR,
    SNAPSHOT,
    Ec2PriceRow,
    HostingPriceRow,
    InstanceRow,
    RateRow,
    write_rows,
)

# SOURCES.md: "Assembled in November 2026". The day is not stated; the first of the month is used, so
# ages computed from it are upper bounds.
SAGEMAKER_AS_OF = "2026-11-01"
# SOURCES.md: the SkyPilot catalog commit holds "data of 2025-09 or later"; the earliest date is used.
EC2_AS_OF = "2025-09-01"
EC2_SOURCE = "skypilot-org/skypilot-catalog:catalogs/v9/aws/vms.csv@3e9a1751b1edfb3592877f242c2f8dc10fc1fc6e"
# scripts/catalog_seed/SOURCES.md: the newer commit's catalogs/v9/gcp/images.csv lists an image created 2026-06-03, so
# its prices are from that day or later; the earliest date is used.
UPDATES = ROOT / "scripts" / "catalog_seed"
EC2_UPDATE_AS_OF = "2026-06-03"
EC2_UPDATE_SOURCE = "skypilot-org/skypilot-catalog:catalogs/v9/aws/vms.csv@2c3d7ea7d76bf84cf80d382e946c1609571485fd"

ACCELERATOR_NAMES = {
    "none": "",
    "": "",
    "AWS Inferentia": "inferentia",
    "AWS Inferentia2": "inferentia2",
    "Inferentia": "inferentia",
    "Inferentia2": "inferentia2",
    "V100-32GB": "V100",
    "A100-80GB": "A100",
}


def family_of(name: str) -> str:
    """'ml.g5.xlarge' -> 'g5'; 'p6-b200.48xlarge' -> 'p6-b200'."""
    base = name[3:] if name.startswith("ml.") else name
    return base.split(".")[0]


def accelerator_name(raw: str) -> str:
    raw = raw.strip()
    if raw in ACCELERATOR_NAMES:
        return ACCELERATOR_NAMES[raw]
    return raw.removeprefix("NVIDIA ").strip()


_DATE = re.compile(r"\b(20\d\d)-(\d\d)(?:-(\d\d))?\b")
_YEAR = re.compile(r"\b(20[12]\d)\b")
_MONTH_YEAR = re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? (20\d\d)\b")
_MONTHS = {m: i for i, m in enumerate(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1)}


def evidence_date(*texts: str) -> str:
    """The latest date the evidence names: YYYY-MM-DD, YYYY-MM or YYYY (empty when none)."""
    found: list[tuple[int, int, int, str]] = []
    for text in texts:
        clean = re.sub(r"@[0-9a-f]{7,40}", "", text)  # commit hashes are not dates
        for y, m, d in _DATE.findall(clean):
            if 1 <= int(m) <= 12:
                found.append((int(y), int(m), int(d or 0), f"{y}-{m}" + (f"-{d}" if d else "")))
        for mon, y in _MONTH_YEAR.findall(clean):
            found.append((int(y), _MONTHS[mon[:3]], 0, f"{y}-{_MONTHS[mon[:3]]:02d}"))
        if not found:
            for y in _YEAR.findall(clean):
                found.append((int(y), 0, 0, y))
    return max(found)[3] if found else ""


def build_hosting(src: Path) -> tuple[list[HostingPriceRow], list[InstanceRow]]:
    prices, instances, seen = [], [], set()
    with open(src / "aws_sagemaker_hosting.csv", newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            confidence = r["confidence"].strip()
            assert confidence in ("high", "medium", "low"), r
            prices.append(
                HostingPriceRow(
                    instance_type=r["instance_type"],
                    region=r["region"],
                    usd_per_hour=float(r["usd_per_hour"]),
                    source=SNAPSHOT,
                    sources=r["sources"].strip(),
                    as_of=SAGEMAKER_AS_OF,
                    confidence=confidence,
                    evidence_date=evidence_date(r["sources"], r["notes"]),
                    notes=r["notes"].strip(),
                )
            )
            if r["instance_type"] not in seen:
                seen.add(r["instance_type"])
                instances.append(
                    InstanceRow(
                        name=r["instance_type"],
                        platform="sagemaker-realtime",
                        family=family_of(r["instance_type"]),
                        vcpus=int(r["vcpus"]),
                        memory_gib=float(r["memory_gib"]),
                        accelerator=accelerator_name(r["accelerator"]),
                        accelerator_count=float(r["accelerator_count"]),
                        accelerator_memory_gib=float(r["accelerator_memory_gib"]),
                        sources="aws_sagemaker_hosting.csv (hardware columns)",
                    )
                )
    return prices, instances


def build_ec2(src: Path) -> tuple[list[Ec2PriceRow], list[InstanceRow]]:
    prices, instances, seen = [], [], set()
    with open(src / "aws_ec2_vms.csv", newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            name = r["InstanceType"]
            spot = r["SpotPrice"].strip()
            prices.append(
                Ec2PriceRow(
                    instance_type=name,
                    region=r["Region"],
                    usd_per_hour=float(r["Price"]),
                    spot_usd_per_hour=float(spot) if spot else None,
                    spot_zone=r["AvailabilityZone"].strip(),
                    source=SNAPSHOT,
                    sources=EC2_SOURCE,
                    as_of=EC2_AS_OF,
                    confidence="medium",
                )
            )
            if name in seen:
                continue
            seen.add(name)
            acc_mem = 0.0
            if r["GpuInfo"].strip():
                info = ast.literal_eval(r["GpuInfo"])  # the catalog stores a Python-literal dict
                mib = info.get("TotalGpuMemoryInMiB") or info.get("TotalNeuronDeviceMemoryInMiB") or 0
                acc_mem = round(mib / 1024, 2)
            instances.append(
                InstanceRow(
                    name=name,
                    platform="kubernetes",
                    family=family_of(name),
                    vcpus=int(float(r["vCPUs"])),
                    memory_gib=float(r["MemoryGiB"]),
                    accelerator=accelerator_name(r["AcceleratorName"]),
                    accelerator_count=float(r["AcceleratorCount"] or 0),
                    accelerator_memory_gib=acc_mem,
                    sources=EC2_SOURCE,
                )
            )
    prices = overlay_ec2(prices, {i.name: i for i in instances})
    prices.sort(key=lambda p: (p.instance_type, p.region))
    return prices, instances


def overlay_ec2(prices: list[Ec2PriceRow], hardware: dict[str, InstanceRow], folder: Path = UPDATES) -> list[Ec2PriceRow]:
    """Replace seed rows with the newer rows of ``folder/aws_ec2_vms.csv`` (same type and region, same hardware)."""
    path = folder / "aws_ec2_vms.csv"
    if not path.exists():
        return prices
    by_key = {(p.instance_type, p.region): p for p in prices}
    with open(path, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            key = (r["InstanceType"], r["Region"])
            hw = hardware.get(key[0])
            if key not in by_key or hw is None:
                raise SystemExit(f"build_catalog: {path.name}: {key} is not in the seed; only seed rows are replaced")
            if (hw.vcpus, hw.memory_gib) != (int(float(r["vCPUs"])), float(r["MemoryGiB"])):
                raise SystemExit(f"build_catalog: {path.name}: {key[0]} has other hardware than the seed's")
            spot = r["SpotPrice"].strip()
            by_key[key] = Ec2PriceRow(
                instance_type=key[0], region=key[1], usd_per_hour=float(r["Price"]), spot_usd_per_hour=float(spot) if spot else None,
                spot_zone=r["AvailabilityZone"].strip(), source=SNAPSHOT, sources=EC2_UPDATE_SOURCE, as_of=EC2_UPDATE_AS_OF,
                confidence="medium",
            )
    return list(by_key.values())


SERVERLESS_SOURCE = "aws-samples/sagemaker-serverless-inference-benchmarking:sagemaker_serverless_benchmarking/cost_constants.py@88cf86c009d38ba9040c384d5283f0ff908ff5c3"


def build_rates(src: Path) -> list[RateRow]:
    """Parse the numbers from the serverless text file; fail loudly when its wording changes."""
    text = (src / "aws_sagemaker_serverless.txt").read_text(encoding="utf-8")

    def one(pattern: str) -> float:
        m = re.search(pattern, text)
        if not m:
            raise SystemExit(f"build_catalog: pattern not found in aws_sagemaker_serverless.txt: {pattern}")
        return float(m.group(1))

    gb_s = one(r"=> us-east-1: USD ([0-9.]+) per GB-second")
    data = one(r"USD ([0-9.]+) per GB of data processed")
    rows = [
        RateRow("serverless-compute", "us-east-1", gb_s, "GB-second", SNAPSHOT,
                f"{SERVERLESS_SOURCE};unattributed Price List quote USE1-ServerlessInf:Mem-3GB SKU PUE6HBQ8KFHBUN5T (agrees)",
                SAGEMAKER_AS_OF, "high"),
        RateRow("serverless-data", "us-east-1", data, "GB", SNAPSHOT,
                f"{SERVERLESS_SOURCE};aws-samples/sagemaker-ssh-helper:Sample_Costs.md@b6bf9ba39119784eb6ce6683ae9a6a2ed8ef4cd3 (eu-west-1 real-time, agrees)",
                SAGEMAKER_AS_OF, "medium"),
    ]
    storage_sources = {
        "us-east-1": "awslabs/llmeter:tests/integ/callbacks/cost/providers/test_sagemaker_integ.py@42cbb1a7faf8377cb959f6a5fbebcf7ae2ed5361",
        "eu-west-1": "aws-samples/sagemaker-ssh-helper:Sample_Costs.md@b6bf9ba39119784eb6ce6683ae9a6a2ed8ef4cd3 (Dec 2023 bill)",
        "ap-southeast-3": "awslabs/llmeter:tests/integ/callbacks/cost/providers/test_sagemaker_integ.py@42cbb1a7faf8377cb959f6a5fbebcf7ae2ed5361",
    }
    found = dict(re.findall(r"^\s+([a-z]{2}-[a-z]+-\d)\s+USD ([0-9.]+)\s+per GB-month", text, flags=re.M))
    if set(found) != set(storage_sources):
        raise SystemExit(f"build_catalog: storage regions changed in the text file: {sorted(found)}")
    for region, usd in found.items():
        rows.append(RateRow("endpoint-storage", region, float(usd), "GB-month", SNAPSHOT, storage_sources[region], SAGEMAKER_AS_OF, "high"))
    return rows


def check_families(instances: list[InstanceRow]) -> None:
    with open(DATA_DIR / "instance_families.csv", newline="", encoding="utf-8") as fh:
        known = {r["family"] for r in csv.DictReader(fh)}
    missing = sorted({i.family for i in instances} - known)
    if missing:
        raise SystemExit(f"build_catalog: add these families to toolkit/data/instance_families.csv: {', '.join(missing)}")


def render(src: Path) -> dict[str, str]:
    hosting, sm_instances = build_hosting(src)
    ec2, ec2_instances = build_ec2(src)
    rates = build_rates(src)
    instances = sm_instances + sorted(ec2_instances, key=lambda i: i.name)
    check_families(instances)
    snapshot = {
        "built_by": "scripts/build_catalog.py",
        "seed": "../shared/data/pricing (see its SOURCES.md)",
        "datasets": {
            "hosting": {"as_of": SAGEMAKER_AS_OF, "rows": len(hosting), "origin": "aws_sagemaker_hosting.csv, assembled 2026-11"},
            "ec2": {"as_of": min(p.as_of for p in ec2), "rows": len(ec2),
                    "rows_by_as_of": {d: sum(p.as_of == d for p in ec2) for d in sorted({p.as_of for p in ec2})},
                    "origin": f"aws_ec2_vms.csv from {EC2_SOURCE} (data of 2025-09 or later); CPU node types from "
                              f"scripts/catalog_seed/aws_ec2_vms.csv, {EC2_UPDATE_SOURCE} (data of 2026-06-03 or later)"},
            "rates": {"as_of": SAGEMAKER_AS_OF, "rows": len(rates), "origin": "aws_sagemaker_serverless.txt, assembled 2026-11"},
        },
    }
    return {
        "sagemaker_hosting.csv": write_rows(hosting, HostingPriceRow),
        "ec2_prices.csv": write_rows(ec2, Ec2PriceRow),
        "sagemaker_rates.csv": write_rows(rates, RateRow),
        "instances.csv": write_rows(instances, InstanceRow),
        "SNAPSHOT.json": json.dumps(snapshot, indent=2) + "\n",
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "data" / "pricing")
    ap.add_argument("--check", action="store_true", help="only check that toolkit/data is up to date")
    args = ap.parse_args(argv)
    files = render(args.source)
    if args.check:
        stale = [n for n, t in files.items() if not (DATA_DIR / n).exists() or (DATA_DIR / n).read_text(encoding="utf-8") != t]
        if stale:
            print(f"stale: {', '.join(stale)}; run python scripts/build_catalog.py", file=sys.stderr)
            return 1
        print("toolkit/data is up to date")
        return 0
    from toolkit.fileio import atomic_write_text

    for name, text in files.items():
        atomic_write_text(DATA_DIR / name, text)
        print(f"wrote toolkit/data/{name} ({text.count(chr(10)) - 1} rows)" if name.endswith(".csv") else f"wrote toolkit/data/{name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
