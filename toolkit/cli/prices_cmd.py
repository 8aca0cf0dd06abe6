"""`leanserve prices show` and `leanserve prices refresh`."""

from __future__ import annotations

import click

from toolkit.cli.output import emit, log, warn
from toolkit.platforms import names as platform_names

PLATFORMS = list(platform_names())  # from the platform registry
_SIZES = {"nano": 0.125, "micro": 0.25, "small": 0.5, "medium": 1, "large": 2, "xlarge": 4}


def size_key(instance_type: str) -> tuple:
    """Sort key putting instance sizes in their natural order: ml.c7i.large < xlarge < 2xlarge < 4xlarge < 12xlarge;
    the family first (ml.c7i before ml.g5), 'metal' after every size, and unknown sizes by name after those."""
    import re

    family, _, size = instance_type.rpartition(".")
    if size in _SIZES:
        return family, 0, _SIZES[size], size
    if m := re.fullmatch(r"(\d+)xlarge", size):
        return family, 0, 4 * int(m.group(1)), size
    if size.startswith("metal"):
        return family, 1, 0, size
    return family, 2, 0, size


def _ordered(rows: list[dict]) -> list[dict]:
    """The catalog's rows with instance types in natural size order; platforms and their price kinds keep their
    order, and the spot row stays after its on-demand row (a stable sort)."""
    blocks: dict[tuple, int] = {}
    for r in rows:
        blocks.setdefault((r["platform"], r["instance_type"] is None), len(blocks))
    return sorted(rows, key=lambda r: (blocks[(r["platform"], r["instance_type"] is None)],
                                       size_key(r["instance_type"]) if r["instance_type"] else (r["item"],), r["region"]))


@click.group()
def prices() -> None:
    """Show the price and hardware catalog, or refresh it from the AWS Price List API.

    Prices come from an embedded, dated snapshot (every row with its sources and confidence) and,
    after `prices refresh`, from a user cache; the fresher of the two wins per price.
    """


@prices.command("show")
@click.option("--platform", type=click.Choice(PLATFORMS), help="Only this platform.")
@click.option("--region", help="Only this AWS region, e.g. us-east-1.")
@click.option("--instance-type", "instance_type", help="Only this instance type (ml.* for SageMaker, EC2 names for Kubernetes).")
@click.option("--purchase", type=click.Choice(["on-demand", "savings-plan", "spot"]),
              help="Only this way of buying capacity: on-demand (with usage rates), Savings Plans rates, or spot.")
def show(platform: str | None, region: str | None, instance_type: str | None, purchase: str | None) -> None:
    """List prices with their source, date, age and confidence.

    \b
    Examples:
      leanserve prices show --platform sagemaker-realtime --region us-east-1
      leanserve prices show --instance-type ml.g5.xlarge
      leanserve prices show --platform kubernetes --purchase spot
      leanserve --json prices show --platform kubernetes --region eu-west-1
    """
    from toolkit.pricing import load_catalog

    cat = load_catalog(warn=warn)
    rows = _ordered(cat.price_rows(platform, region, instance_type, purchase))
    log(f"price data: {cat.source_note}", 1)
    data = {"source_note": cat.source_note, "prices": rows}

    def render() -> None:
        head = ("PLATFORM", "INSTANCE/ITEM", "REGION", "USD", "PER", "HARDWARE", "SOURCE", "AS OF", "AGE", "CONF.")
        lines = [head]
        for r in rows:
            hw = r.get("hardware")
            hw_text = "-"
            if hw:
                hw_text = f"{hw['vcpus']} vCPU {hw['memory_gib']:g} GiB"
                if hw["accelerator"]:
                    hw_text += f" {hw['accelerator_count']:g}x{hw['accelerator']}"
            unit = r["unit"] + ("" if r.get("purchase", "on-demand") == "on-demand" else f" {r['purchase']}")
            lines.append((r["platform"], r["instance_type"] or r["item"], r["region"], f"{r['usd']:.6g}", unit, hw_text,
                          r["source"], r["as_of"], f"{r['age_days']:.0f}d", r["confidence"]))
        widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
        for line in lines:
            click.echo("  ".join(cell.rjust(w) if i in (3, 8) else cell.ljust(w) for i, (cell, w) in enumerate(zip(line, widths))).rstrip())
        click.echo(f"{len(rows)} prices; {cat.source_note}", err=True)

    emit(data, render)


@prices.command("refresh")
@click.option("--region", "regions", multiple=True, help="Region to refresh (repeatable); default us-east-1.")
def refresh(regions: tuple[str, ...]) -> None:
    """Fetch current list prices from the AWS Price List API into the user cache.

    Needs AWS credentials allowed to call pricing:GetProducts. Without them (or when throttled or
    offline) it warns and the embedded snapshot stays in use. A cached file you edited by hand is
    never overwritten. The cache folder is $LEANSERVE_CACHE_DIR/prices or the platform's user cache.

    \b
    Examples:
      leanserve prices refresh
      leanserve prices refresh --region us-east-1 --region eu-west-1
    """
    from toolkit.pricing.refresh import refresh_prices

    result = refresh_prices(list(regions) or None, progress=lambda msg: log(msg, 1))
    for w in result.warnings:
        warn(w)
    data = {
        "ok": result.ok, "cache_dir": result.cache_dir, "regions": result.regions, "fetched": result.fetched,
        "written": result.written, "kept": result.kept, "warnings": result.warnings,
    }

    def render() -> None:
        if result.written:
            click.echo(f"refreshed {', '.join(result.written)} in {result.cache_dir} for {', '.join(result.regions)}")
            for name, n in result.fetched.items():
                click.echo(f"  {name}: {n} prices")
        else:
            click.echo("nothing refreshed; the embedded snapshot stays in use")

    emit(data, render)
