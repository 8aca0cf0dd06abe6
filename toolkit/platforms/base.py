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
    title: ClassVar[str]  # one line for help and reports
    instance_based: ClassVar[bool] = True  # a fleet of instances, autoscaled (False: serverless)
    dataset: ClassVar[str | None] = None  # the catalog's instance-price dataset ('hosting', 'ec2')
    scaling_metric: ClassVar[str | None] = None  # what the autoscaler tracks, as plan.json names it
    supports_spot: ClassVar[bool] = False
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

    def capacity_factor(self, info) -> tuple[float, str]:
        """Share of an instance's estimated capacity this platform leaves to the model, and why ('' if all)."""
        return 1.0, ""

    def __repr__(self) -> str:
        return f"<platform {self.name}>"
