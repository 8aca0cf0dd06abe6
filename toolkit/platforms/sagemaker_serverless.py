"""SageMaker Serverless Inference: memory sizes instead of instances, billed per GB-second."""

from __future__ import annotations

from toolkit.platforms.base import Platform
from toolkit.platforms.pricing_util import data_processed_gb


class SageMakerServerless(Platform):
    name = "sagemaker-serverless"
    label = "sagemaker-serverless"
    title = "SageMaker Serverless Inference (memory sizes, per GB-second)"
    instance_based = False
    rate_items = ("serverless-compute", "serverless-data")

    def regions(self, catalog) -> list[str]:
        return catalog.rate_regions("serverless-compute")

    def price_model(self, info, region, spot, catalog, requests_per_month, family, name, notes, gb_seconds: float = 0.0):
        """``info`` is unused (no instances); ``gb_seconds`` is the simulated compute a month."""
        from toolkit.planner import costs as C

        rates = catalog.serverless_rates(region)
        pm = C.PriceModel(hourly_quote=rates.usd_per_gb_second)
        for line in (
            C.Line(f"endpoint/{name}", "serverless-compute", "GB-second", gb_seconds, rates.usd_per_gb_second.usd,
                   f"sagemaker-serverless compute {region}", rates.usd_per_gb_second),
            C.Line(f"endpoint/{name}", "data-processed", "GB", data_processed_gb(requests_per_month, family),
                   rates.usd_per_gb_processed.usd, f"sagemaker-serverless data-processing {region}", rates.usd_per_gb_processed),
        ):
            pm.fixed_lines.append(line)
            pm.fixed_usd += line.cost
        return pm

    def monthly_usd(self, catalog, region: str, gb_seconds: float, requests_per_month: float, family) -> float:
        """The month's bill without building bill lines (for nearest misses)."""
        rates = catalog.serverless_rates(region)
        return gb_seconds * rates.usd_per_gb_second.usd + data_processed_gb(requests_per_month, family) * rates.usd_per_gb_processed.usd
