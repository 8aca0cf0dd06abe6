"""``leanserve bench`` for generative models: token-level load points (closed-loop concurrency, open-loop rates,
and optionally the search for the highest rate at which goodput keeps up), summarised into a TokenProfile
and merged into profiles.json (``token_profiles``; encoder profiles are kept as they are)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from toolkit.errors import InputError

DEFAULT_CONCURRENCY = [1, 2, 4, 8]
TOKEN_METRICS = ("ttft", "itl", "tpot", "e2e", "latency")
KEEPS_UP = 0.9  # the max-rate search: goodput at least this share of the offered rate, no error, none lost


@dataclass
class TokenBenchOptions:
    concurrency: list[int] | None = None
    rates: list[float] | None = None
    arrival: str = "poisson"
    duration_s: float = 20.0
    warmup_s: float = 2.0
    timeout_s: float = 120.0  # one whole stream
    max_in_flight: int = 32
    max_requests: int | None = None  # closed loop: stop each point after this many measured requests
    seed: int = 0
    prompt_tokens: object | None = None  # a toolkit.perf.llm.TokenDist (default: the spec's, else 128)
    output_tokens: object | None = None  # (default: the spec's, else 64)
    dataset: str | None = None
    requests: int = 256  # distinct requests built (cycled through)
    api: str | None = None  # triton | triton-grpc | openai | openai-chat (default: detected)
    grpc_url: str | None = None
    model: str | None = None
    variant: str | None = None
    tokenizer: str | None = None
    ignore_eos: bool = True
    temperature: float = 0.0
    sla: list | None = None  # toolkit.sla.Constraint list (default: the spec's token-level constraints)
    find_max_rate: bool = False
    search_points: int = 6
    instance_type: str | None = None
    region: str | None = None
    sagemaker_body: str = "triton"


@dataclass
class TokenBenchResult:
    profile: object  # TokenProfile
    spec_sha256: str
    warnings: list[str] = field(default_factory=list)


def spec_constraints(spec) -> list:
    """The spec's token-level SLA constraints (its family's SLA), or [] when it has none."""
    from toolkit.families import family_for

    try:
        sla = family_for(spec.spec.model.task).sla(spec.spec.sla)
    except Exception:  # noqa: BLE001 - a spec without a token-level SLA: goodput is then not counted
        return []
    return [c for c in sla.constraints if c.metric in TOKEN_METRICS]


def _dist(given, spec, field_names: tuple[str, ...], default: int, name: str):
    from toolkit.perf.llm.workload import TokenDist

    if given is not None:
        return given
    traffic = getattr(spec.spec, "traffic", None) if spec is not None else None
    for f in field_names:
        d = getattr(traffic, f, None)
        if d is not None:
            return TokenDist(mean=getattr(d, "mean", None), p50=getattr(d, "p50", None), p90=getattr(d, "p90", None),
                             max=getattr(d, "max", None), name=name)
    return TokenDist.fixed(default, name=name)


def _tokenizer_path(options: TokenBenchOptions, resolved, spec) -> Path | None:
    if options.tokenizer:
        return Path(options.tokenizer)
    if resolved.tokenizer is not None:
        return resolved.tokenizer
    source = getattr(spec.spec.model, "source", None) if spec is not None else None
    src = Path(str(source)) if source else None
    if src is not None and not src.is_absolute():
        src = spec.path.parent / src
    return src if src is not None and (src / "tokenizer.json").is_file() else None


def build_workload(options: TokenBenchOptions, spec, tokenizer: Path | None, max_model_len: int | None):
    from toolkit.bench.llm.workload import from_dataset, from_lengths, load_tokenizer

    counter = load_tokenizer(tokenizer)
    out_dist = options.output_tokens if options.output_tokens is not None else None
    if options.dataset:
        wl = from_dataset(options.dataset, counter, output_dist=out_dist, n=options.requests, seed=options.seed,
                          max_prompt_tokens=max_model_len - 1 if max_model_len else None)
    else:
        prompt = _dist(options.prompt_tokens, spec, ("prompt_tokens", "prompt"), 128, "prompt tokens")
        output = _dist(out_dist, spec, ("output_tokens", "output"), 64, "output tokens")
        wl = from_lengths(prompt, output, counter, n=options.requests, seed=options.seed)
    return wl


def _validate(options: TokenBenchOptions) -> None:
    if options.arrival not in ("poisson", "constant"):
        raise InputError(f"unknown arrival process '{options.arrival}'", hint="use poisson or constant")
    if options.duration_s <= 0 or options.timeout_s <= 0:
        raise InputError("--duration and --timeout must be above 0 seconds", hint="e.g. --duration 20 --timeout 120")
    if options.concurrency and any(c < 1 for c in options.concurrency):
        raise InputError("concurrency levels must be at least 1", hint="e.g. --concurrency 1,2,4,8")
    if options.rates and any(r <= 0 for r in options.rates):
        raise InputError("arrival rates must be above 0", hint="e.g. --rate 0.5,1,2")
    for d, what in ((options.output_tokens, "--output-tokens"), (options.prompt_tokens, "--prompt-tokens")):
        if d is not None and not d.samples and min(v for v in (d.mean, d.p50) if v is not None) < 1:
            raise InputError(f"{what} must be at least 1 token", hint=f"e.g. {what} 64")


def run_token_bench(target: str, options: TokenBenchOptions | None = None, spec=None,
                    progress: Callable[[str, object], None] | None = None, sagemaker_client=None,
                    sagemaker_control=None) -> TokenBenchResult:
    """Benchmark ``target`` token by token; returns the TokenProfile (write it with :func:`write_token_profile`).
    ``progress`` is called with ('start', label) and ('done', TokenLoadPoint) for each point. Raises TargetDown
    (nothing measured is kept) when the target stops answering."""
    from toolkit.artifacts.common import Measured
    from toolkit.artifacts.profiles import TokenLoadPoint, TokenProfile, TokenShapes
    from toolkit.bench.llm.load import closed_loop, open_loop
    from toolkit.bench.llm.metrics import summarise
    from toolkit.bench.llm.resolve import resolve_llm_target
    from toolkit.bench.llm.targets import Sampling
    from toolkit.bench.load import AbortPolicy

    options = options or TokenBenchOptions()
    _validate(options)
    progress = progress or (lambda *_: None)
    sampling = Sampling(temperature=options.temperature, ignore_eos=options.ignore_eos)
    resolved = resolve_llm_target(target, options, sampling, sagemaker_client, sagemaker_control)
    try:
        constraints = list(options.sla) if options.sla is not None else (spec_constraints(spec) if spec is not None else [])
        tok = _tokenizer_path(options, resolved, spec)
        wl = build_workload(options, spec, tok, resolved.max_model_len)
        policy = AbortPolicy(alive=resolved.server.alive if resolved.server is not None else None)
        t = resolved.target
        points: list = []

        def closed(c: int):
            label = f"concurrency {c} for {options.duration_s:g} s"
            progress("start", label)
            run = closed_loop(t, wl.requests, c, options.duration_s, warmup_s=options.warmup_s, timeout_s=options.timeout_s,
                              policy=policy, label=label, max_requests=options.max_requests)
            p = TokenLoadPoint(**summarise(run.records, mode="closed", concurrency=c, target_rps=None, constraints=constraints,
                                           lost=run.lost, sent=run.sent, window=run.window))
            progress("done", p)
            return p

        def opened(rate: float):
            label = f"{rate:g} req/s {options.arrival} for {options.duration_s:g} s"
            progress("start", label)
            run = open_loop(t, wl.requests, rate, options.duration_s, arrival=options.arrival, seed=options.seed,
                            warmup_s=options.warmup_s, timeout_s=options.timeout_s, max_in_flight=options.max_in_flight,
                            policy=policy, label=label)
            p = TokenLoadPoint(**summarise(run.records, mode=f"open-{options.arrival}", concurrency=None, target_rps=rate,
                                           constraints=constraints, lost=run.lost, sent=run.sent, window=run.window))
            progress("done", p)
            return p

        if options.concurrency or not (options.rates or options.find_max_rate):
            points += [closed(c) for c in (options.concurrency or DEFAULT_CONCURRENCY)]
        points += [opened(r) for r in (options.rates or [])]
        max_rate = None
        notes = list(resolved.notes)
        if options.find_max_rate:
            max_rate, searched = search_max_rate(opened, points, constraints, options.search_points)
            points += searched
            notes.append(f"max-rate search: highest offered rate whose goodput stayed >= {KEEPS_UP:.0%} of it with no error "
                         f"or lost request, over {len(searched)} open-loop points")
        if not constraints:
            notes.append("no token-level SLA (--sla ttft_p95_ms=...,itl_p95_ms=... or a generative spec): goodput not counted")
        if wl.tokenizer is None:
            notes.append("no tokenizer at hand (--tokenizer): prompt and output lengths were counted in words")
        dropped = sorted(getattr(t, "dropped", ()) or ())
        if dropped:
            notes.append(f"the server refused {', '.join(dropped)}: sent without (output lengths then stop at EOS)")
        short = sum(p.short_outputs for p in points)
        if short and options.ignore_eos:
            notes.append(f"{short} completed request(s) returned fewer tokens than max_tokens (the server may ignore ignore_eos)")
        goods = [p.goodput_rps for p in points if p.goodput_rps is not None]
        spec_sha = spec.sha256 if spec is not None else (resolved.spec_sha256 or "none")
        if spec is None and resolved.spec_sha256 is None:
            notes.append("measured without a spec (--spec): profiles.json's spec_sha256 is 'none'")
        profile = TokenProfile(
            variant=resolved.variant or resolved.model, machine=resolved.machine, target=resolved.label, api=t.api,
            model=resolved.model, sla=constraints, points=points, max_goodput_rps=max(goods) if goods else None,
            max_rate_at_sla=max_rate, shapes=TokenShapes(**wl.shapes(options.ignore_eos)),
            provenance=Measured(where=resolved.machine.describe()), notes=notes,
        )
        return TokenBenchResult(profile, spec_sha)
    finally:
        if resolved.server is not None:
            resolved.server.stop()


def _keeps_up(p) -> bool:
    return p.errors == 0 and p.lost == 0 and p.goodput_rps is not None and p.goodput_rps >= KEEPS_UP * (p.target_rps or 0)


def search_max_rate(run_rate: Callable[[float], object], measured: list, constraints: list, max_points: int = 6):
    """(highest rate that kept up or None, the open-loop points run): start near the best goodput (or the
    throughput) measured so far, double until it fails, then bisect while the bracket is wider than 15%."""
    if not constraints:
        raise InputError("--find-max-rate needs a token-level SLA", hint="pass --sla ttft_p95_ms=500,itl_p95_ms=50 (or a generative spec)")
    seen = [p.goodput_rps or p.requests_per_s for p in measured if (p.goodput_rps or p.requests_per_s)]
    rate = max(0.05, 0.8 * max(seen)) if seen else 0.5
    lo = hi = None
    points = []
    for _ in range(max_points):
        p = run_rate(round(rate, 4))
        points.append(p)
        if _keeps_up(p):
            lo = rate
            rate = rate * 2 if hi is None else (lo + hi) / 2
        else:
            hi = rate
            rate = rate / 2 if lo is None else (lo + hi) / 2
        if lo is not None and hi is not None and hi / lo < 1.15:
            break
    return (round(lo, 4) if lo is not None else None), points


def _key(p) -> tuple:
    return (p.variant, p.machine.describe(), p.target, p.api, p.shapes.source)


def write_token_profile(result: TokenBenchResult, path: str | Path) -> tuple[Path, list[str]]:
    """Merge the token profile into ``path`` (replacing one of the same variant, machine, target, API and shapes),
    keeping the file's encoder profiles; written atomically."""
    from toolkit.artifacts.common import load_artifact, save_artifact
    from toolkit.artifacts.profiles import ProfilesFile

    p = Path(path)
    if p.is_dir():
        p = p / "profiles.json"
    warnings: list[str] = []
    profiles, tokens = [], []
    if p.exists():
        existing = load_artifact(ProfilesFile, p)
        if existing.spec_sha256 != result.spec_sha256:
            n = len(existing.profiles) + len(existing.token_profiles)
            warnings.append(f"{p} was measured for another spec; its {n} profile(s) were replaced")
        else:
            profiles = list(existing.profiles)
            tokens = [q for q in existing.token_profiles if _key(q) != _key(result.profile)]
    tokens.append(result.profile)
    save_artifact(ProfilesFile(spec_sha256=result.spec_sha256, profiles=profiles, token_profiles=tokens), p)
    return p, warnings
