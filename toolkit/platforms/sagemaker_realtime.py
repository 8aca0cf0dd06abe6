"""SageMaker real-time endpoints: ml.* instances, Application Auto Scaling target tracking."""

from __future__ import annotations

from toolkit.platforms.base import Platform
from toolkit.platforms.pricing_util import data_processed_gb, rate_or_fallback


class SageMakerRealtime(Platform):
    name = "sagemaker-realtime"
    label = "sagemaker"
    title = "SageMaker real-time endpoint (ml.* instances, target tracking)"
    dataset = "hosting"
    scaling_metric = "SageMakerVariantInvocationsPerInstance"
    rate_items = ("endpoint-storage",)

    def instance_price(self, catalog, instance_type: str, region: str, spot: bool = False):
        return catalog.hosting_price(instance_type, region)

    def dynamics(self):
        from toolkit.planner.dynamics import sagemaker_dynamics

        return sagemaker_dynamics()

    def price_model(self, info, region, spot, catalog, requests_per_month, family, name, notes):
        from toolkit.planner import costs as C

        quote = catalog.hosting_price(info.name, region)
        pm = C.PriceModel(hourly_quote=quote, unit_usd_per_instance_hour=quote.usd)
        pm.per_hour_lines.append((f"endpoint/{name}", "instances", "instance-hour", 1.0, quote.usd, f"sagemaker-hosting {info.name} {region}", quote))
        if not C.has_local_nvme(info.family):
            sq, _ = rate_or_fallback(catalog.storage_price, region, notes, "endpoint storage")
            gb_month_per_hour = C.SAGEMAKER_VOLUME_GB / C.HOURS_PER_GB_MONTH
            pm.unit_usd_per_instance_hour += gb_month_per_hour * sq.usd
            pm.per_hour_lines.append((f"endpoint/{name}", "storage", "GB-month", gb_month_per_hour, sq.usd, f"sagemaker-storage ml-volume {region}", sq))
        rates, _ = rate_or_fallback(lambda r: catalog.serverless_rates(r).usd_per_gb_processed, region, notes, "data processing")
        line = C.Line(f"endpoint/{name}", "data-processed", "GB", data_processed_gb(requests_per_month, family), rates.usd,
                      f"sagemaker-data-processing {region}", rates)
        pm.fixed_lines.append(line)
        pm.fixed_usd += line.cost
        return pm
