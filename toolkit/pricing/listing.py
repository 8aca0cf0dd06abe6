"""``prices show``'s rows: every price in the catalog, one flat dict each, filtered."""

from __future__ import annotations

PURCHASES = ("on-demand", "savings-plan", "spot")


def _row(catalog, platform: str, instance_type: str | None, region: str, item: str, q, purchase: str = "on-demand") -> dict:
    d = {"platform": platform, "instance_type": instance_type, "region": region, "item": item, "purchase": purchase}
    d.update(q.as_dict())
    if instance_type:
        info = catalog.instance(instance_type)
        d["hardware"] = {"vcpus": info.vcpus, "memory_gib": info.memory_gib, "accelerator": info.accelerator,
                         "accelerator_count": info.accelerator_count, "accelerator_memory_gib": info.accelerator_memory_gib}
    return d


def price_rows(catalog, platform: str | None = None, region: str | None = None, instance_type: str | None = None,
               purchase: str | None = None) -> list[dict]:
    """Instance prices of each platform (spot and Savings Plans rates beside on-demand where priced), then the
    platforms' rate rows. ``purchase`` keeps one kind: on-demand (with the rate rows), savings-plan or spot."""
    from toolkit.errors import InputError
    from toolkit.pricing.commitments import savings_plan_rates
    from toolkit.suggest import did_you_mean

    if purchase is not None and purchase not in PURCHASES:
        raise InputError(f"unknown purchase option '{purchase}'{did_you_mean(purchase, list(PURCHASES))}",
                         hint=f"purchase options: {', '.join(PURCHASES)}")

    from toolkit.platforms import names, platform_for

    if platform:
        platform_for(platform)
    if instance_type:
        catalog.instance(instance_type)
    if region:
        catalog.check_region(region)
    wanted = [platform_for(p) for p in names() if not platform or p == platform]
    out: list[dict] = []
    for plat in wanted:
        if not plat.dataset:
            continue
        keys = sorted((info.name, r) for r in plat.regions(catalog) if not region or r == region
                      for info in plat.instance_types(catalog, r) if not instance_type or info.name == instance_type)
        for name, r in keys:
            if purchase in (None, "on-demand"):
                out.append(_row(catalog, plat.name, name, r, "instance-hour", plat.instance_price(catalog, name, r)))
            if purchase in (None, "spot") and plat.supports_spot and catalog.has_spot(name, r):
                out.append(_row(catalog, plat.name, name, r, "instance-hour (spot)", plat.instance_price(catalog, name, r, spot=True), "spot"))
            if purchase in (None, "savings-plan"):
                for c in savings_plan_rates(catalog, name, r):
                    row = _row(catalog, plat.name, name, r, f"instance-hour ({c.plan} savings plan {c.term} {c.payment})", c.price,
                               f"savings-plan {c.term} {c.payment}")
                    row.update(plan=c.plan, term=c.term, payment=c.payment, upfront_fraction=c.upfront_fraction, discount=c.discount)
                    out.append(row)
    if not instance_type and purchase in (None, "on-demand"):
        for item, r in catalog.rate_items():
            owner = next((p for p in wanted if item in p.rate_items), None)
            if owner is not None and (not region or r == region):
                out.append(_row(catalog, owner.name, None, r, item, catalog.rate(item, r)))
    return out
