"""``profiles.json``: latency-versus-load curves measured by ``leanserve bench``."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from toolkit.artifacts.common import Artifact, MachineInfo, Provenance, _Model


class LoadPoint(_Model):
    """One load level: a closed-loop concurrency or an open-loop arrival rate."""

    mode: Literal["closed", "open-constant", "open-poisson"]
    concurrency: int | None = None
    target_rps: float | None = None
    duration_s: float = Field(gt=0)
    sent: int = Field(ge=0)
    completed: int = Field(ge=0)
    errors: int = Field(ge=0)
    throughput_rps: float = Field(ge=0)
    p50_ms: float | None = None
    p90_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    queue_ms: float | None = Field(default=None, description="Mean time in Triton's queue per request (from /metrics).")
    compute_ms: float | None = Field(default=None, description="Mean compute time per request (from /metrics).")


class Profile(_Model):
    variant: str
    machine: MachineInfo
    target: str = Field(description="What was benchmarked: a local repository path, a Triton URL or a SageMaker endpoint.")
    batching: bool = True
    instance_count: int = Field(default=1, ge=1, description="Model instances (Triton instance_group count) serving.")
    sla_percentile: Literal["p50", "p90", "p95", "p99"]
    sla_ms: float
    points: list[LoadPoint]
    max_rps_at_sla: float | None = Field(default=None, description="Highest measured rate at which the SLA percentile held.")
    saturation_rps: float | None = Field(default=None, description="Highest throughput observed.")
    generator_overhead_ms: float | None = Field(default=None, description="Client-side overhead per request measured against a no-op.")
    provenance: Provenance


class ProfilesFile(Artifact):
    KIND: ClassVar[str] = "profiles"
    SCHEMA_VERSION: ClassVar[int] = 1

    profiles: list[Profile]
