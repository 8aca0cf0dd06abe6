"""The ``tokens`` section of plan.json (generative models): costs per 1M tokens, GPU-hours, the API comparison.

Optional (None for encoder plans), so plan.json stays at schema version 2.
"""

from __future__ import annotations

from pydantic import Field

from toolkit.artifacts.common import _Model


class TokenCosts(_Model):
    """One configuration's month in token terms."""

    label: str = Field(examples=["plan", "static peak on the default GPU"])
    configuration: str | None = Field(default=None, examples=["bf16 on ml.g6e.xlarge TP=1 (us-east-1)"])
    monthly_usd: float
    usd_per_million_output_tokens: float
    usd_per_million_total_tokens: float = Field(description="Prompt plus output tokens.")
    usd_per_request: float
    instance_hours: float = Field(description="Instance-hours billed per 30-day month.")
    gpu_hours: float = Field(description="Accelerator-hours per 30-day month (instance-hours x accelerators per instance).")
    capacity_output_tokens_per_s: float | None = Field(default=None, description="Output tokens/s one instance sustains at the SLA.")
    meets_sla: bool | None = None


class ApiCost(_Model):
    """The same tokens through one hosted API of a comparable model class."""

    provider: str
    model: str
    model_class: str
    input_usd_per_mtok: float
    output_usd_per_mtok: float
    effective_from: str = ""
    sources: str
    confidence: str
    monthly_usd: float = Field(description="The spec's monthly prompt and output tokens at this API's prices.")
    vs_plan_usd: float | None = Field(default=None, description="API minus self-hosted plan, per month: negative when the API is "
                                                                "cheaper; None when no configuration met the SLA.")
    cheaper_than_plan: bool | None = None
    break_even_rps: float | None = Field(default=None, description="Mean request rate above which self-hosting is cheaper than this "
                                                                   "API; None when the API is cheaper at any traffic.")
    break_even_output_tokens_per_month: float | None = None


class LLMScaling(_Model):
    """The autoscaling target a generative endpoint tracks: concurrent requests per instance, by Little's law.

    Deploy turns it into the platform's concurrency metric (SageMaker: SageMakerVariantConcurrentRequestsPerModelHighResolution;
    Kubernetes: in-flight requests per pod from Triton's metrics). Optional: plans written before it load without it."""

    metric: str = Field(default="concurrent-requests", description="What is tracked: requests in flight per instance.")
    target_concurrency_per_instance: float = Field(gt=0, description="Concurrent requests per instance the target tracking holds.")
    target_rps_per_instance: float = Field(gt=0, description="The request rate per instance the plan's target tracking uses (req/s).")
    mean_e2e_s: float = Field(gt=0, description="Mean end-to-end request latency at that rate (s), from the perf model.")
    derived_from: str = Field(description="How the target was derived (Little's law: concurrency = rate x mean latency).")


class TokenEconomics(_Model):
    """What the plan costs per token, and what the APIs would charge for the same tokens."""

    model: str = Field(description="The decoder shape planned.", examples=["llama-3.1-8b"])
    parameters: float
    architecture_only: bool = Field(description="Planned from the architecture alone: no weights, every figure estimated.")
    mean_prompt_tokens: float
    mean_output_tokens: float
    requests_per_month: float
    prompt_tokens_per_month: float
    output_tokens_per_month: float
    total_tokens_per_month: float
    traffic: str = Field(default="", description="Where the token lengths come from.")
    plan: TokenCosts | None = None
    baselines: list[TokenCosts] = Field(default_factory=list)
    api_class: str = ""
    api_note: str = ""
    api: list[ApiCost] = Field(default_factory=list, description="Current rows of the API price table of the same class, cheapest first.")
    self_hosting_floor_usd: float | None = Field(default=None, description="The least self-hosting costs a month at any traffic "
                                                                           "(the availability minimum of the chosen instance type).")
    marginal_usd_per_million_requests: float | None = Field(default=None, description="What each further 1M requests adds to the "
                                                                                      "self-hosted bill (at capacity and the simulated utilisation).")
    verdict: str = ""
    notes: list[str] = Field(default_factory=list)
    scaling: LLMScaling | None = Field(default=None, description="The concurrency target per instance deploy scales on (Little's law).")

