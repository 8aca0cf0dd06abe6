"""SageMaker Serverless Inference: memory sizes instead of instances, billed per GB-second."""

from __future__ import annotations

from toolkit.platforms.base import Platform
from toolkit.platforms.pricing_util import data_processed_gb


class SageMakerServerless(Platform):
    name = "sagemaker-serverless"
    label = "sagemaker-serverless"
    display_name = "SageMaker Serverless"
    title = "SageMaker Serverless Inference (memory sizes, per GB-second)"
    instance_based = False
    rate_items = ("serverless-compute", "serverless-data")
    infra_program = "sagemaker"
    stack_sections = ("endpoint_name", "endpoint", "alarms", "deployment")
    scalable_dimension = "sagemaker:variant:DesiredProvisionedConcurrency"

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

    def stack_config(self, inp):
        from toolkit.deploy.stack_schema import DeploymentCfg, EndpointCfg, ServerlessCfg
        from toolkit.errors import InputError
        from toolkit.platforms.sagemaker_stack import sagemaker_stack

        c, a = inp.candidate, inp.autoscaling
        if c.serverless is None:
            raise InputError("plan.json: the serverless candidate has no serverless settings", hint="re-run `leanserve plan`")
        endpoint = EndpointCfg(serverless=ServerlessCfg(memory_size_in_mb=c.serverless.memory_mb, max_concurrency=c.serverless.max_concurrency,
                                                        provisioned_concurrency=c.serverless.provisioned_concurrency))
        if a and not c.serverless.provisioned_concurrency:
            inp.notes.append("the plan's autoscaling is dropped: a serverless endpoint scales by itself unless it has provisioned concurrency")
            a = None
        return sagemaker_stack(inp, endpoint, DeploymentCfg(traffic_routing="ALL_AT_ONCE"), a)

    def check_stack(self, cfg, where: str) -> list[str]:
        from toolkit.deploy import checks

        if not (cfg.endpoint and cfg.endpoint.serverless):
            return []
        s = cfg.endpoint.serverless
        checks.check_serverless(s.memory_size_in_mb, s.max_concurrency, where)
        return [f"serverless memory {s.memory_size_in_mb} MB and concurrency {s.max_concurrency} are allowed"]

    def describe_stack(self, cfg) -> str:
        if cfg.endpoint and cfg.endpoint.serverless:
            return f"SageMaker Serverless ({cfg.endpoint.serverless.memory_size_in_mb} MB) in {cfg.region}"
        return super().describe_stack(cfg)
