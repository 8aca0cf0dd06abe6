"""Generative decoders (``task: text-generation``): a prompt in, a stream of generated tokens out.

What the family changes for the planner:

- the SLA is token-level (``ttft``, ``itl``, optional ``e2e``; :mod:`toolkit.spec_generative` keys),
  and the spec must state the token shape of requests (``traffic.prompt_tokens``/``output_tokens`` or
  a dataset);
- capacity per instance is the highest request rate at which every token-level percentile holds,
  from the step model and scheduler simulation of :mod:`toolkit.perf.llm`, at the variant's format and
  the best tensor-parallel degree (:mod:`toolkit.planner.llm_capacity`); the unit stays requests/s,
  and tokens/s is reported beside it;
- SageMaker Serverless is not a place for it (no GPU, 6 GB at most);
- request and response sizes follow the prompt and output lengths (:meth:`for_spec`).
"""

from __future__ import annotations

import copy
from typing import ClassVar

from toolkit.families.base import Family
from toolkit.sla import SLA, Constraint, Rate

BYTES_PER_TOKEN = 4.0  #: UTF-8 bytes of text per token (English averages about 4 characters a token)
ENVELOPE_KB = 0.5  #: JSON request/response envelope (model name, parameters, usage) per request


class GenerativeFamily(Family):
    task = "text-generation"
    title = "text generation: a causal language model streaming generated tokens"
    capacity_unit = "req/s"
    request_kb = 2.5  # 512 prompt tokens; for_spec() sizes both from the spec's traffic
    response_kb = 1.5  # 256 generated tokens
    # ---- spec rules (asked by toolkit.spec_generative.check_family_rules) -------------------------
    sla_required: ClassVar[tuple[str, ...]] = ("ttft", "itl")
    sla_optional: ClassVar[tuple[str, ...]] = ("e2e",)
    token_traffic: ClassVar[bool] = True  #: requests have a prompt and an output length
    # ---- compress ----------------------------------------------------------------------------------
    optimum_task = "text-generation-with-past"
    output_name = "logits"
    output_rank = 3
    output_axes: ClassVar[dict[int, str]] = {0: "batch_size", 1: "sequence_length"}
    floor_fields = ("max_perplexity_increase_pct", "max_mean_kl", "max_accuracy_drop_points")
    quality_fields = ("perplexity_increase_pct", "mean_kl", "kl_divergence", "top1_agreement")  # of quality_model()
    triton_output = "text_output"  # the vLLM backend's tensor name

    # ---- planner -------------------------------------------------------------------------------
    def sla(self, sla_spec) -> SLA:
        """TTFT, ITL and (optional) e2e constraints at the spec's percentiles, the peak in requests/s."""
        cons = [Constraint(metric=m, percentile=p, limit=float(v), unit="ms")
                for m, items in sla_spec.token_targets().items() for p, v in items]
        order = {"ttft": 0, "itl": 1, "e2e": 2}
        cons.sort(key=lambda c: order.get(c.metric, 9))
        return SLA(
            constraints=cons, peak=Rate(value=float(sla_spec.peak_rps), unit=self.capacity_unit), peak_rps=float(sla_spec.peak_rps),
            max_violation_minutes_per_month=float(sla_spec.max_violation_minutes_per_month),
            min_instances=int(sla_spec.availability.min_instances), spread_across_zones=bool(sla_spec.availability.spread_across_zones),
            max_error_rate=float(sla_spec.max_error_rate),
        )

    def context(self, spec, base_dir=None):
        """The resolved shape, token traffic and constraints of ``spec`` (``toolkit.planner.llm_context``)."""
        from toolkit.planner.llm_context import context_for

        return context_for(spec, base_dir, self.sla(spec.sla))

    def measured_profiles(self, profiles) -> list:
        """The token bench's profiles (profiles.json ``token_profiles``): the CPU path scores its fit on them."""
        return list(profiles.token_profiles) if profiles is not None else []

    def capacity(self, variant, instance, sla: SLA, profiles, machine, spec):
        """Requests/s per instance at every token-level percentile (an ``LLMEstimate``), or an ``Exclusion``."""
        from toolkit.planner.llm_capacity import instance_estimate

        ctx = self.context(spec)
        skipped = ctx.pruned.get((variant.name, instance.name.removeprefix("ml.")))
        return skipped or instance_estimate(variant, instance, ctx, machine, profiles)

    def supports_platform(self, platform) -> bool:
        return bool(platform.instance_based)  # serverless: no GPU, at most 6 GB of memory

    def for_spec(self, spec) -> GenerativeFamily:
        """This family with request and response sizes from the spec's prompt and output lengths."""
        ctx = self.context(spec)
        bound = copy.copy(self)
        bound.request_kb = round(ctx.mean_prompt * BYTES_PER_TOKEN / 1024 + ENVELOPE_KB, 3)
        bound.response_kb = round(ctx.mean_output * BYTES_PER_TOKEN / 1024 + ENVELOPE_KB, 3)
        return bound

    def capacity_assumption(self, spec) -> str:
        """The sentence plan.json's assumptions give for how capacity was computed."""
        ctx = self.context(spec)
        cons = ", ".join(c.describe() for c in ctx.constraints)
        return (f"Capacity per instance: the highest Poisson request rate at which {cons} all hold, from a step-time model "
                f"(prefill compute-bound, decode bandwidth-bound, KV cache bounding concurrency) driven through a "
                f"continuous-batching scheduler simulation of {ctx.traffic.n_requests}+ requests ({ctx.traffic_note}); "
                f"{ctx.arch_note}.")

    # ---- compress ------------------------------------------------------------------------------
    def check_source(self, src) -> None:
        archs = list(getattr(src, "config", {}).get("architectures") or [])
        if archs and not any(a.endswith("ForCausalLM") for a in archs):
            from toolkit.errors import ModelError

            raise ModelError(f"{src.path} is not a causal language model (architectures: {', '.join(archs)}) for task {self.task}",
                             hint="use task: feature-extraction or text-classification for encoders")

    def compress_pipeline(self):
        """The pipeline ``toolkit.compress.build_variants`` runs for this family (decoder variants, token-window quality)."""
        from toolkit.compress.decoder.pipeline import DecoderPipeline

        return DecoderPipeline

    def results_table(self, vf) -> tuple[list[str], list[list[str]], list[str]]:
        """(headers, rows, footer lines) of compress's results table for a variants.json of this family."""
        from toolkit.compress.decoder.table import cells_for, footer, headers

        return headers(vf), cells_for(vf), footer(vf)

    def auto_model_class(self):
        from transformers import AutoModelForCausalLM

        return AutoModelForCausalLM

    def quality_model(self):
        """The ``Quality`` subclass this family's variants carry (perplexity, mean KL, exact match ...)."""
        from toolkit.artifacts.variants import DecoderQuality

        return DecoderQuality

    def reference_quality(self) -> dict:
        return {"perplexity_increase_pct": 0.0, "mean_kl": 0.0, "kl_divergence": 0.0, "top1_agreement": 1.0}

    def quality_gate(self, quality, floor) -> str | None:
        reasons = []
        ppl = getattr(quality, "perplexity_increase_pct", None)
        if ppl is not None and ppl > floor.max_perplexity_increase_pct:
            reasons.append(f"perplexity +{ppl:.2f}% > floor {floor.max_perplexity_increase_pct:g}%")
        kl = getattr(quality, "mean_kl", None) or getattr(quality, "kl_divergence", None)
        if kl is not None and kl > floor.max_mean_kl:
            reasons.append(f"mean KL {kl:.4f} > floor {floor.max_mean_kl:g}")
        if quality.accuracy_drop_points is not None and quality.accuracy_drop_points > floor.max_accuracy_drop_points:
            reasons.append(f"task-check exact match drop {quality.accuracy_drop_points:.2f} points > {floor.max_accuracy_drop_points}")
        return "; ".join(reasons) or None
