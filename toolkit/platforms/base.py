"""What every platform provides: prices, scaling dynamics and metric, and how its instances are named.

A platform reads the catalog's datasets through the catalog's generic lookups (``priced_types``,
``priced_regions``); it never needs its own branch in the catalog, the planner or the report.
"""

from __future__ import annotations

from typing import ClassVar


class Platform:
    """Base class; subclasses set the class attributes and implement the pricing."""

    name: ClassVar[str]
    label: ClassVar[str]  # short name in plan tables
    display_name: ClassVar[str]  # as people write it ("Kubernetes")
    title: ClassVar[str]  # one line for help and reports
    instance_based: ClassVar[bool] = True  # a fleet of instances, autoscaled (False: serverless)
    dataset: ClassVar[str | None] = None  # the catalog's instance-price dataset ('hosting', 'ec2')
    scaling_metric: ClassVar[str | None] = None  # what the autoscaler tracks, as plan.json names it
    supports_spot: ClassVar[bool] = False
    # ---- deploy: what the stack file holds and how infra/ builds it
    infra_program: ClassVar[str] = ""  # the Pulumi component program infra/ runs ('sagemaker', 'kubernetes')
    stack_sections: ClassVar[tuple[str, ...]] = ()  # stack-file sections this platform needs (snake_case)
    sets_aws_region: ClassVar[bool] = True  # the stack file carries aws:region
    model_in_image: ClassVar[bool] = False  # the model is baked into the image (no model.tar.gz in S3)
    scalable_dimension: ClassVar[str | None] = None  # Application Auto Scaling's dimension, where it scales
    scaling_metrics: ClassVar[tuple[str, ...] | None] = None  # allowed metrics; None: AAS predefined metric types
    rate_items: ClassVar[tuple[str, ...]] = ()  # the catalog's rate rows listed under this platform
    naming_hint: ClassVar[str] = ""  # how this platform's instance types are named, for error messages

    # ---- catalog --------------------------------------------------------------------------------
    def regions(self, catalog) -> list[str]:
        """Regions where the catalog prices this platform."""
        return catalog.priced_regions(self.dataset) if self.dataset else []

    def instance_types(self, catalog, region: str) -> list:
        """Instance types (``InstanceInfo``) priced in ``region`` for this platform."""
        return catalog.priced_types(self.dataset, region) if self.dataset else []

    def instance_price(self, catalog, instance_type: str, region: str, spot: bool = False):
        """USD per instance-hour (a ``PriceQuote``)."""
        raise NotImplementedError

    # ---- planner --------------------------------------------------------------------------------
    def dynamics(self):
        """The autoscaling simulation's knobs (``toolkit.planner.dynamics.Dynamics``), or None."""
        return None

    def price_model(self, info, region: str, spot: bool, catalog, requests_per_month: float, family, name: str, notes: list[str]):
        """The monthly cost model (``toolkit.planner.costs.PriceModel``) of running ``info`` in ``region``."""
        raise NotImplementedError

    def scaling_assumption(self) -> str:
        """One sentence on how the simulation scales this platform (for plan.json's assumptions)."""
        return ""

    def capacity_factor(self, info) -> tuple[float, str]:
        """Share of an instance's estimated capacity this platform leaves to the model, and why ('' if all)."""
        return 1.0, ""

    # ---- deploy ---------------------------------------------------------------------------------
    def stack_config(self, inp):
        """``(StackConfig, TritonImage | None)`` for the plan's chosen candidate (``inp``: ``toolkit.deploy.stack_config.StackInputs``)."""
        raise NotImplementedError

    def check_stack(self, cfg, where: str) -> list[str]:
        """Checks of what AWS would reject for this platform's settings; returns what was checked."""
        return []

    def describe_stack(self, cfg) -> str:
        """Where the stack runs, for the stack file's header."""
        return f"{cfg.endpoint.instance_type if cfg.endpoint else '?'} in {cfg.region}"

    def __repr__(self) -> str:
        return f"<platform {self.name}>"
