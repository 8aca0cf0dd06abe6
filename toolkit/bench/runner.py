"""``leanserve bench TARGET``: resolve the target, run the load points in rounds, check them, summarise them
into a Profile, and merge it into profiles.json."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from toolkit.bench.load import AbortPolicy
from toolkit.bench.points import max_rps_at_sla, percentile, to_load_point  # noqa: F401 - re-exported
from toolkit.bench.resolve import DEFAULT_OUTPUT, LOCAL_HOSTS, _resolve  # noqa: F401 - re-exported
from toolkit.errors import InputError
from toolkit.families import family_for

DEFAULT_CONCURRENCY = [1, 2, 4, 8, 16]


@dataclass
class BenchOptions:
    concurrency: list[int] | None = None  # closed-loop sweep
    rates: list[float] | None = None  # open-loop arrival rates (req/s)
    arrival: str = "poisson"  # or "constant"
    duration_s: float = 10.0  # measured seconds per load point, split over its rounds
    warmup_s: float = 2.0
    texts: str | None = None  # file, builtin:tweets, or None for built-in sentences
    texts_per_request: int = 1
    timeout_s: float = 10.0
    max_in_flight: int = 64
    max_requests: int | None = None  # closed loop: stop each point after this many requests (over all its rounds)
    seed: int = 0
    model: str | None = None  # model to call (default: the package's ensemble, else 'ensemble')
    input_name: str | None = None
    output_name: str | None = None
    variant: str | None = None
    sla_percentile: str | None = None
    sla_ms: float | None = None
    max_error_rate: float | None = None
    instance_type: str | None = None
    region: str | None = None
    metrics_url: str | None = None
    rounds: int | None = None  # rounds per load point (None: rounds.DEFAULT_ROUNDS, or 1 with max_requests)
    variants: str | None = None  # variants.json: its in-process latency checks the lowest-load point


@dataclass
class BenchResult:
    profile: object  # toolkit.artifacts.profiles.Profile
    spec_sha256: str
    warnings: list[str] = field(default_factory=list)


def _sla(options: BenchOptions, spec, manifest) -> tuple[str, float, float]:
    if options.sla_percentile and options.sla_ms:
        pct, ms = options.sla_percentile, options.sla_ms
        err = options.max_error_rate
    elif spec is not None:
        pct, ms, err = spec.spec.sla.percentile, spec.spec.sla.latency_ms, spec.spec.sla.max_error_rate
    elif manifest is not None and manifest.sla is not None:
        pct, ms, err = manifest.sla.percentile, manifest.sla.latency_ms, manifest.sla.max_error_rate
    else:
        raise InputError("no SLA to measure against", hint="pass --spec leanserve.yaml or --sla p95:50 (percentile:milliseconds)")
    if options.max_error_rate is not None:
        err = options.max_error_rate
    return pct, float(ms), float(err if err is not None else 0.001)


def _validate(options: BenchOptions) -> None:
    if options.concurrency and any(c < 1 for c in options.concurrency):
        raise InputError("concurrency levels must be at least 1", hint="e.g. --concurrency 1,4,16")
    if options.rates and any(r <= 0 for r in options.rates):
        raise InputError("arrival rates must be above 0", hint="e.g. --rate 50,100")
    if options.arrival not in ("poisson", "constant"):
        raise InputError(f"unknown arrival process '{options.arrival}'", hint="use poisson or constant")
    if options.duration_s <= 0:
        raise InputError("--duration must be above 0 seconds", hint="e.g. --duration 10")
    if options.rounds is not None and options.rounds < 1:
        raise InputError("--rounds must be at least 1", hint="e.g. --rounds 3")


def _in_process_ms(options: BenchOptions, variant: str, machine, tokens) -> float | None:
    """The variant's in-process latency for one request of the bench texts' median length, measured on this
    CPU (variants.json), or None when there is no such measurement to compare with."""
    if not options.variants:
        return None
    from toolkit.artifacts.common import load_artifact
    from toolkit.artifacts.variants import VariantsFile
    from toolkit.bench.suspect import in_process_ms

    vf = load_artifact(VariantsFile, Path(options.variants))
    v = next((x for x in vf.variants if x.name == variant), None)
    if v is None or vf.machine.cpu_model != machine.cpu_model or machine.instance_type:
        return None
    length = int(round(tokens.p50)) if tokens is not None else vf.max_sequence_length
    return in_process_ms(v, vf.machine, length)


def run_bench(target: str, options: BenchOptions | None = None, spec=None, progress: Callable[[str, object], None] | None = None,
              sagemaker_client=None, sagemaker_control=None) -> BenchResult:
    """Benchmark ``target`` and return its Profile (not yet written; see :func:`write_profiles`).

    ``progress(event, payload)`` is called with ('start', label) and ('done', LoadPoint) for each round of each point.
    """
    from toolkit.artifacts.common import Measured
    from toolkit.artifacts.profiles import Profile
    from toolkit.bench.rounds import Level, measure
    from toolkit.bench.suspect import review
    from toolkit.bench.texts import load_texts
    from toolkit.bench.tokens import bench_token_stats

    options = options or BenchOptions()
    _validate(options)
    texts = load_texts(options.texts, seed=options.seed)
    if spec is None and not Path(target).is_dir():
        # only a package folder carries its spec's hash (and SLA) in manifest.json
        raise InputError("profiles.json needs the spec it was measured for", hint="pass --spec leanserve.yaml")
    # the response tensor the spec's family returns, unless the target or the options say otherwise
    default_output = family_for(spec.spec.model.task).triton_output if spec is not None else DEFAULT_OUTPUT
    resolved = _resolve(target, options, sagemaker_client, sagemaker_control, default_output)
    try:
        pct, sla_ms, max_err = _sla(options, spec, resolved.manifest)
        variant = resolved.variant
        if not variant:
            raise InputError(f"which variant is behind {resolved.label}?", hint="pass --variant NAME (as in variants.json)")
        spec_sha = spec.sha256 if spec is not None else (resolved.manifest.spec_sha256 if resolved.manifest else None)
        if spec_sha is None:
            raise InputError("profiles.json needs the spec it was measured for", hint="pass --spec leanserve.yaml")
        alive = resolved.server.alive if resolved.server is not None else None
        t = resolved.target
        levels: list[Level] = []
        if options.concurrency or not options.rates:
            levels += [Level("closed", c) for c in (options.concurrency or DEFAULT_CONCURRENCY)]
        levels += [Level("open", r) for r in (options.rates or [])]
        tokens = bench_token_stats(target, resolved.manifest, spec, texts)
        done = measure(t, texts, levels, options, AbortPolicy(alive=alive), progress, resolved.ensemble, resolved.main_model)
        local = not resolved.machine.instance_type and not resolved.machine.cpu_model.startswith("unknown")
        in_process = _in_process_ms(options, variant, resolved.machine, tokens) if local else None
        points, checked = review(done.points, done.contexts, sla_ms, local, resolved.machine.logical_cores, in_process)
        overheads = [p.generator_overhead_ms for p in points if p.generator_overhead_ms is not None]
        notes = list(resolved.notes) + done.notes + checked
        if t.metrics_url and all(p.queue_ms is None for p in points):
            notes.append(f"Triton metrics not readable at {t.metrics_url}: queue/compute time left out")
        if tokens is None:
            notes.append("token lengths of the bench texts not counted (no tokenizer at hand): the planner cannot use them")
        profile = Profile(
            variant=variant,
            machine=resolved.machine,
            target=resolved.label,
            batching=resolved.batching if resolved.batching is not None else True,
            instance_count=resolved.instance_count or 1,
            sla_percentile=pct,
            sla_ms=sla_ms,
            points=points,
            max_rps_at_sla=max_rps_at_sla(points, pct, sla_ms, max_err),
            saturation_rps=max((p.throughput_rps for p in points), default=None),
            generator_overhead_ms=round(sorted(overheads)[len(overheads) // 2], 3) if overheads else None,
            provenance=Measured(where=resolved.machine.describe()),
            max_error_rate=max_err,
            texts_per_request=options.texts_per_request,
            notes=notes,
            rounds=done.rounds,
            text_tokens=tokens,
        )
        return BenchResult(profile, spec_sha)
    finally:
        if resolved.server is not None:
            resolved.server.stop()


def _key(p) -> tuple:
    return (p.variant, p.machine.describe(), p.target, p.batching, p.instance_count, p.texts_per_request)


def write_profiles(result: BenchResult, path: str | Path) -> tuple[Path, list[str]]:
    """Merge the result's profile into ``path`` (replacing one of the same variant, machine, target and
    settings) and write it atomically. Returns the path and warnings."""
    from toolkit.artifacts.common import load_artifact, save_artifact
    from toolkit.artifacts.profiles import ProfilesFile

    p = Path(path)
    if p.is_dir():
        p = p / "profiles.json"
    warnings: list[str] = []
    profiles, token_profiles = [], []
    if p.exists():
        existing = load_artifact(ProfilesFile, p)
        if existing.spec_sha256 != result.spec_sha256:
            warnings.append(f"{p} was measured for another spec; its {len(existing.profiles)} profile(s) were replaced")
        else:
            profiles = [q for q in existing.profiles if _key(q) != _key(result.profile)]
            token_profiles = list(existing.token_profiles)  # token-level (LLM) profiles are kept as they are
    profiles.append(result.profile)
    save_artifact(ProfilesFile(spec_sha256=result.spec_sha256, profiles=profiles, token_profiles=token_profiles), p)
    return p, warnings
