"""SageMaker real-time endpoints: ml.* instances, Application Auto Scaling target tracking."""

from __future__ import annotations

from toolkit.platforms.base import Platform
from toolkit.platforms.pricing_util import data_processed_gb, rate_or_fallback


class SageMakerRealtime(Platform):
    name = "sagemaker-realtime"
    label = "sagemaker"
    display_name = "SageMaker real-time"
    title = "SageMaker real-time endpoint (ml.* instances, target tracking)"
    dataset = "hosting"
    scaling_metric = "SageMakerVariantInvocationsPerInstance"
    rate_items = ("endpoint-storage",)
    infra_program = "sagemaker"
    stack_sections = ("endpoint_name", "endpoint", "alarms", "deployment")
    scalable_dimension = "sagemaker:variant:DesiredInstanceCount"

    def instance_price(self, catalog, instance_type: str, region: str, spot: bool = False):
        return catalog.hosting_price(instance_type, region)

    def dynamics(self):
        from toolkit.planner.dynamics import sagemaker_dynamics

        return sagemaker_dynamics()

    def scaling_assumption(self) -> str:
        sm = self.dynamics()
        return (f"SageMaker target tracking on InvocationsPerInstance: target = capacity x safety factor x 60; scale out after {sm.out_window} "
                f"breaching minutes, scale in after {sm.in_window} minutes below {sm.scale_in_ratio:.0%} of target; cooldowns "
                f"{sm.scale_in_cooldown_s} s in / {sm.scale_out_cooldown_s} s out; a new instance serves {sm.startup_min} min after the decision "
                f"({sm.startup_source}); instances are billed from launch.")

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

    def stack_config(self, inp):
        from toolkit.deploy.stack_schema import DeploymentCfg, EndpointCfg
        from toolkit.platforms.sagemaker_stack import sagemaker_stack

        a = inp.autoscaling
        count = a.min_capacity if a else inp.plan.sla.min_instances
        endpoint = EndpointCfg(instance_type=inp.candidate.instance_type, initial_instance_count=max(1, count))
        cfg, resolved = sagemaker_stack(inp, endpoint, DeploymentCfg(traffic_routing="CANARY", canary_percent=10), a)
        from toolkit.deploy.llm_stack import is_llm_plan, sagemaker_llm

        return (sagemaker_llm(cfg, inp), resolved if inp.image is None else None) if is_llm_plan(inp.plan) else (cfg, resolved)

    def check_stack(self, cfg, where: str) -> list[str]:
        from toolkit.deploy import checks

        checks.check_instance_type(cfg.endpoint.instance_type if cfg.endpoint else None, where)
        return [f"instance type {cfg.endpoint.instance_type} is in botocore's ProductionVariantInstanceType list"]
