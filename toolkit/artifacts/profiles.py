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
    lost: int = Field(default=0, ge=0, description="Requests sent that got no answer (neither a response nor an error) by the end of the drain.")
    mean_batch_size: float | None = Field(default=None, description="Requests per execution of the ONNX model (from /metrics): >1 means dynamic batching merged requests.")
    generator_overhead_ms: float | None = Field(default=None, description="Client CPU time per completed request (building, sending and decoding it).")
    send_lag_p99_ms: float | None = Field(default=None, description="Open loop: 99th percentile of how late requests left the generator against their schedule.")
    error_examples: list[str] = Field(default_factory=list, description="Up to five distinct error messages seen at this point.")


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
    max_error_rate: float | None = Field(default=None, description="Error-rate limit a point had to meet to count for max_rps_at_sla.")
    texts_per_request: int = Field(default=1, ge=1, description="Texts sent in each request.")
    notes: list[str] = Field(default_factory=list, description="Caveats, e.g. 'served through the Python backend running onnxruntime'.")


class ProfilesFile(Artifact):
    KIND: ClassVar[str] = "profiles"
    SCHEMA_VERSION: ClassVar[int] = 1

    profiles: list[Profile]
