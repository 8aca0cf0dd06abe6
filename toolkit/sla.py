"""The SLA as data: typed constraints, the rate they hold at, and the one feasibility rule.

``leanserve.yaml`` keeps its short form (``p95_ms: 50``, ``peak_rps: 150``); a model family turns
that section into an :class:`SLA` (``family.sla(spec.sla)``), which every stage then reads. The same
model is the ``sla`` section of ``plan.json``, so the plan carries exactly what the planner checked.

    sla = family_for("feature-extraction").sla(spec.sla)
    sla.latency.describe()          # 'latency p95 <= 50 ms'
    sla.allows(violation_minutes)   # the feasibility rule (scalars and numpy arrays)
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Percentile = Literal["p50", "p90", "p95", "p99"]
PERCENTILES: tuple[str, ...] = ("p50", "p90", "p95", "p99")
QUANTILE = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Constraint(_Frozen):
    """One limit the endpoint must hold: ``metric`` at ``percentile`` at most ``limit`` ``unit``."""

    metric: str = Field(description="What is limited: 'latency' (end to end), 'ttft', 'itl', ...", examples=["latency"])
    percentile: Percentile | None = Field(default=None, description="Which percentile of the metric; None for a plain upper bound.")
    limit: float = Field(gt=0, description="Largest allowed value, in ``unit``.")
    unit: str = Field(default="ms", examples=["ms"])

    @property
    def key(self) -> str:
        """The spec's name for this constraint, e.g. 'p95_ms' for latency, 'ttft_p95_ms' for others."""
        tail = f"{self.percentile}_{self.unit}" if self.percentile else self.unit
        return tail if self.metric == "latency" else f"{self.metric}_{tail}"

    def holds(self, value: float) -> bool:
        return value <= self.limit

    def describe(self) -> str:
        pct = f" {self.percentile}" if self.percentile else ""
        return f"{self.metric}{pct} <= {self.limit:g} {self.unit}"


class Rate(_Frozen):
    """A rate with its unit: demand, peak or capacity (``per`` says per what, e.g. 'instance')."""

    value: float = Field(ge=0)
    unit: str = Field(default="req/s", examples=["req/s", "tokens/s"])
    per: str | None = Field(default=None, examples=["instance"])

    def describe(self, digits: int = 1) -> str:
        per = f" per {self.per}" if self.per else ""
        return f"{self.value:,.{digits}f} {self.unit}{per}"


def allows(violation_minutes_per_month, allowance_minutes: float):
    """The feasibility rule, in one place: violation minutes per 30-day month within the allowance.

    Works element-wise on numpy arrays (the search evaluates many lanes at once)."""
    return violation_minutes_per_month <= allowance_minutes


class SLA(_Frozen):
    """Everything the plan must meet, as data."""

    constraints: list[Constraint] = Field(min_length=1, description="Limits that must hold at the peak rate.")
    peak: Rate = Field(description="Highest rate the endpoint must serve, in the family's capacity unit.")
    peak_rps: float = Field(gt=0, description="Highest request rate (requests/s), as the spec states it.")
    max_violation_minutes_per_month: float = Field(ge=0, description="Minutes per 30-day month the constraints may be missed.")
    min_instances: int = Field(default=1, ge=1)
    spread_across_zones: bool = False
    max_error_rate: float = Field(default=0.001, ge=0, le=1)

    def allows(self, violation_minutes_per_month):
        """True where the violation minutes are within the allowance (scalars or arrays)."""
        return allows(violation_minutes_per_month, self.max_violation_minutes_per_month)

    def excess_minutes(self, violation_minutes_per_month: float) -> float:
        return max(0.0, float(violation_minutes_per_month) - self.max_violation_minutes_per_month)

    def constraint(self, metric: str) -> Constraint | None:
        return next((c for c in self.constraints if c.metric == metric), None)

    @property
    def latency(self) -> Constraint:
        """The constraint capacity is sized against: end-to-end latency, else the first one."""
        return self.constraint("latency") or self.constraints[0]

    @property
    def percentile(self) -> str:
        return self.latency.percentile or "p50"

    @property
    def latency_ms(self) -> float:
        return self.latency.limit

    def describe(self) -> str:
        return ", ".join(c.describe() for c in self.constraints) + f" at {self.peak_rps:g} req/s"
