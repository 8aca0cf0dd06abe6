"""``profiles.json``: latency-versus-load curves measured by ``leanserve bench``."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from toolkit.artifacts.common import Artifact, MachineInfo, Provenance, _Model
from toolkit.sla import Constraint


class Rounds(_Model):
    """The figures of each round of a load point, in the order run (the point's own figures are their medians)."""

    count: int = Field(ge=1, description="Rounds measured at this load level.")
    throughput_rps: list[float] = Field(description="Throughput of each round.")
    p50_ms: list[float | None] = Field(default_factory=list, description="p50 latency of each round.")
    p95_ms: list[float | None] = Field(default_factory=list, description="p95 latency of each round.")
    p99_ms: list[float | None] = Field(default_factory=list, description="p99 latency of each round.")
    outliers: list[str] = Field(default_factory=list, description="Rounds far from the median (the median keeps them out), with why.")


class TokenStats(_Model):
    """Token lengths of the texts a bench sent, counted with the served tokenizer (truncated to its maximum)."""

    texts: int = Field(ge=1, description="How many texts were counted.")
    mean: float = Field(ge=0)
    p50: float = Field(ge=0)
    p90: float = Field(ge=0)
    max: int = Field(ge=0)
    histogram: dict[int, int] = Field(description="Texts by token length (before the server's padding).")
    pad_to_multiple_of: int = Field(default=1, ge=1, description="The server pads each batch to a multiple of this.")
    tokenizer: str = Field(description="Which tokenizer counted them.", examples=["package model_repository/tokenizer (tokenizer.json)"])


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
    rounds: Rounds | None = Field(default=None, description="Per-round figures when the point was measured in several rounds.")
    suspect: str | None = Field(default=None, description="Why this point's figures may not be the server's (a starved load generator, a contended host); None when none was seen.")


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
    rounds: int = Field(default=1, ge=1, description="Rounds each load point was measured in (its figures are the medians).")
    text_tokens: TokenStats | None = Field(default=None, description="Token lengths of the texts sent, when a tokenizer was at hand.")


# ---- token-level profiles of generative models (LLMs); definitions in toolkit.bench.llm.metrics -------------
class Distribution(_Model):
    """Summary of one per-request or per-token metric at a load point, in ms (None: no sample)."""

    mean: float | None = None
    p50: float | None = None
    p90: float | None = None
    p95: float | None = None
    p99: float | None = None
    samples: int = Field(default=0, ge=0, description="Values summarised (requests; tokens for ITL).")


class TokenLoadPoint(_Model):
    """One load level of a token-level bench: a closed-loop concurrency or an open-loop arrival rate."""

    mode: Literal["closed", "open-constant", "open-poisson"]
    concurrency: int | None = None
    target_rps: float | None = None
    duration_s: float = Field(gt=0, description="From the first request sent to the last measured one finished.")
    sent: int = Field(ge=0)
    completed: int = Field(ge=0)
    errors: int = Field(ge=0, description="Failed requests: refused, error events, cut-short streams, timeouts, no tokens.")
    lost: int = Field(default=0, ge=0, description="Requests sent that neither finished nor failed by the end of the drain.")
    ttft_ms: Distribution
    itl_ms: Distribution = Field(description="Gaps between consecutive tokens of a request, pooled over all tokens (token-weighted).")
    tpot_ms: Distribution = Field(description="Per request: (e2e - TTFT) / (output tokens - 1); over requests.")
    e2e_ms: Distribution
    requests_per_s: float = Field(ge=0)
    output_tokens_per_s: float = Field(ge=0)
    input_tokens_per_s: float | None = Field(default=None, ge=0)
    goodput_rps: float | None = Field(default=None, ge=0, description="Completed requests/s that met every SLA constraint.")
    output_tokens_mean: float | None = None
    short_outputs: int = Field(default=0, ge=0, description="Completed requests with fewer output tokens than max_tokens asked.")
    error_examples: list[str] = Field(default_factory=list)


class TokenShapes(_Model):
    """The token shapes a token-level bench sent."""

    source: str = Field(description="Where prompts and lengths came from.", examples=["fixed: 128 prompt / 64 output tokens"])
    prompt_tokens: Distribution = Field(description="Prompt lengths sent, in tokens (mean/p50/... hold token counts, not ms).")
    output_tokens: Distribution = Field(description="max_tokens asked per request, in tokens.")
    ignore_eos: bool = True
    tokenizer: str | None = Field(default=None, description="What counted the tokens (None: approximated by words).")


class TokenProfile(_Model):
    """Token-level latency and throughput versus load of a generative model behind one target."""

    variant: str
    machine: MachineInfo
    target: str = Field(description="What was benchmarked: a package folder, a URL or sagemaker:ENDPOINT.")
    api: str = Field(description="How it was called.", examples=["triton-generate-stream", "openai-completions"])
    model: str = Field(description="The model name sent with each request.")
    sla: list[Constraint] = Field(default_factory=list, description="Constraints goodput counts a request against.")
    points: list[TokenLoadPoint]
    max_goodput_rps: float | None = Field(default=None, description="Highest goodput measured.")
    max_rate_at_sla: float | None = Field(default=None, description="Highest offered rate whose goodput kept up with it (search mode).")
    shapes: TokenShapes
    provenance: Provenance
    notes: list[str] = Field(default_factory=list)


class ProfilesFile(Artifact):
    """Version 2 adds ``token_profiles``; version-1 files (encoder profiles only) still load."""

    KIND: ClassVar[str] = "profiles"
    SCHEMA_VERSION: ClassVar[int] = 2
    OLDER_VERSIONS: ClassVar[tuple[int, ...]] = (1,)

    profiles: list[Profile]
    token_profiles: list[TokenProfile] = Field(default_factory=list, description="Token-level profiles of generative models.")
