"""``leanserve bench TARGET``: resolve the target, run the load points, summarise them into a Profile,
and merge it into profiles.json."""

from __future__ import annotations

import json
import re
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from toolkit.bench import metrics
from toolkit.bench.load import AbortPolicy, PointStats, closed_loop, open_loop
from toolkit.errors import InputError
from toolkit.families import family_for

DEFAULT_CONCURRENCY = [1, 2, 4, 8, 16]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
DEFAULT_OUTPUT = "embedding"  # without a spec or a manifest: the default (embedding) family's triton_output


@dataclass
class BenchOptions:
    concurrency: list[int] | None = None  # closed-loop sweep
    rates: list[float] | None = None  # open-loop arrival rates (req/s)
    arrival: str = "poisson"  # or "constant"
    duration_s: float = 10.0
    warmup_s: float = 2.0
    texts: str | None = None  # file, builtin:tweets, or None for built-in sentences
    texts_per_request: int = 1
    timeout_s: float = 10.0
    max_in_flight: int = 64
    max_requests: int | None = None  # closed loop: stop each point after this many requests
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


@dataclass
class BenchResult:
    profile: object  # toolkit.artifacts.profiles.Profile
    spec_sha256: str
    warnings: list[str] = field(default_factory=list)


def percentile(values: list[float], q: float) -> float | None:
    import numpy as np

    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else None


def to_load_point(stats: PointStats, server: dict | None = None):
    from toolkit.artifacts.profiles import LoadPoint

    lat = stats.latencies_ms
    queue_ms, compute_ms, batch = server or (None, None, None)
    examples = [f"{msg} (×{n})" for msg, n in stats.error_counts.most_common(5)]
    r = lambda x: None if x is None else round(x, 3)  # noqa: E731
    return LoadPoint(
        mode=stats.mode,
        concurrency=stats.concurrency,
        target_rps=stats.target_rps,
        duration_s=max(round(stats.elapsed_s or stats.duration_s, 3), 0.001),
        sent=stats.sent,
        completed=stats.completed,
        errors=stats.errors,
        lost=stats.lost,
        throughput_rps=round(stats.completed / stats.elapsed_s, 3) if stats.elapsed_s else 0.0,
        p50_ms=r(percentile(lat, 50)),
        p90_ms=r(percentile(lat, 90)),
        p95_ms=r(percentile(lat, 95)),
        p99_ms=r(percentile(lat, 99)),
        queue_ms=r(queue_ms),
        compute_ms=r(compute_ms),
        mean_batch_size=r(batch),
        generator_overhead_ms=r(stats.client_cpu_s * 1000.0 / stats.completed) if stats.completed else None,
        send_lag_p99_ms=r(percentile(stats.send_lags_ms, 99)),
        error_examples=examples,
    )


def max_rps_at_sla(points, sla_percentile: str, sla_ms: float, max_error_rate: float) -> float | None:
    """Highest measured throughput among points where the SLA percentile held, errors stayed within
    ``max_error_rate`` and nothing was lost. None when no point qualifies."""
    good = []
    for p in points:
        value = getattr(p, f"{sla_percentile}_ms")
        if value is None or p.sent == 0 or p.lost:
            continue
        if p.errors / p.sent > max_error_rate:
            continue
        if value <= sla_ms:
            good.append(p.throughput_rps)
    return max(good) if good else None


# ---- targets ---------------------------------------------------------------------------------------

@dataclass
class _Resolved:
    target: object
    label: str
    machine: object
    variant: str | None
    manifest: object | None = None
    server: object | None = None  # a TritonServer we started (and must stop)
    ensemble: str | None = None
    main_model: str | None = None
    batching: bool | None = None
    instance_count: int | None = None
    notes: list[str] = field(default_factory=list)


def _triton_json(url: str, timeout: float = 5.0) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return json.loads(resp.read())
    except (OSError, ValueError):
        return None


def _check_reachable(base: str) -> None:
    """ExternalToolError (exit 1) when nothing answers at ``base`` at all (refused, unknown host, timeout); a server
    that answers, even with an error status, is reachable."""
    import urllib.error

    from toolkit.errors import ExternalToolError

    try:
        urllib.request.urlopen(f"{base}/v2/health/live", timeout=5.0).close()
    except urllib.error.HTTPError:
        return
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        why = "connection refused (nothing listens there)" if isinstance(reason, ConnectionRefusedError) else str(reason)
        raise ExternalToolError(f"cannot connect to {base}: {why}",
                                hint="start the server first (`leanserve serve DIR`), or check the URL's host and port") from None


def _describe_triton(base: str, model: str) -> tuple[str | None, str | None, bool | None, int | None, str | None]:
    """(input name, output name, batching, ONNX-model instance count, ONNX model name) from a live Triton."""
    meta = _triton_json(f"{base}/v2/models/{model}")
    if meta is None:
        _check_reachable(base)
        raise InputError(f"model '{model}' is not served at {base}", hint="check the URL and --model (the ensemble is usually 'ensemble')")
    inp = (meta.get("inputs") or [{}])[0].get("name")
    out = (meta.get("outputs") or [{}])[0].get("name")
    cfg = _triton_json(f"{base}/v2/models/{model}/config") or {}
    steps = [s.get("model_name") for s in (cfg.get("ensemble_scheduling") or {}).get("step", [])]
    batching, count, main = None, None, None
    for name in steps or [model]:
        c = _triton_json(f"{base}/v2/models/{name}/config") or {}
        if "dynamic_batching" in c:
            batching = True
        elif batching is None and c:
            batching = False
        if c.get("platform") == "onnxruntime_onnx" or c.get("backend") == "onnxruntime" or name == "model":
            groups = c.get("instance_group") or [{}]
            count = int(groups[0].get("count", 1))
            main = name
    return inp, out, batching, count, main


def _resolve(target: str, options: BenchOptions, sagemaker_client=None, sagemaker_control=None,
             default_output: str = DEFAULT_OUTPUT) -> _Resolved:
    """The target to load; ``default_output`` is the response tensor when neither the options nor a manifest name one."""
    from toolkit.artifacts.common import MachineInfo
    from toolkit.bench.targets import SageMakerTarget, TritonHttpTarget, describe_sagemaker_endpoint

    if target.startswith("sagemaker:"):
        endpoint = target.split(":", 1)[1]
        if not re.match(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", endpoint):
            raise InputError(f"'{endpoint}' is not a SageMaker endpoint name", hint="names are 1-63 letters, digits and hyphens")
        instance = options.instance_type or describe_sagemaker_endpoint(endpoint, options.region, sagemaker_control)
        t = SageMakerTarget(endpoint, options.region, options.input_name or "TEXT", options.output_name or default_output,
                            options.timeout_s, runtime_client=sagemaker_client)
        machine = MachineInfo(cpu_model="unknown (SageMaker-managed)", logical_cores=1, instance_type=instance)
        return _Resolved(t, t.label, machine, options.variant,
                         notes=["queue/compute time not measured: SageMaker exposes no Triton /metrics"])
    if re.match(r"^https?://", target):
        from urllib.parse import urlparse

        base = target.rstrip("/")
        host = urlparse(base).hostname or ""
        model = options.model or "ensemble"
        inp, out, batching, count, main = _describe_triton(base, model)
        metrics_url = options.metrics_url or (f"{urlparse(base).scheme}://{host}:8002/metrics" if host else None)
        t = TritonHttpTarget(base, model, options.input_name or inp or "TEXT", options.output_name or out or default_output,
                             options.timeout_s, metrics_url)
        notes = []
        if host in LOCAL_HOSTS and not options.instance_type:
            machine = MachineInfo.local()
        else:
            machine = MachineInfo(cpu_model="unknown (remote server)", logical_cores=1, instance_type=options.instance_type)
            if not options.instance_type:
                notes.append("remote server: pass --instance-type to record what it runs on")
        return _Resolved(t, base, machine, options.variant, ensemble=model if main and main != model else None, main_model=main,
                         batching=batching, instance_count=count, notes=notes)
    path = Path(target)
    if path.is_dir():
        from toolkit.serve import ServeOptions, TritonServer

        server = TritonServer.start(path, ServeOptions())
        m = server.manifest
        model = options.model or server.ensemble or "ensemble"
        out_name = options.output_name or (m.output_name if m else default_output)
        t = TritonHttpTarget(server.http_url, model, options.input_name or "TEXT", out_name, options.timeout_s, server.metrics_url,
                             label=str(path))
        machine = MachineInfo.local()
        return _Resolved(t, str(path), machine, options.variant or (m.variant if m else None), manifest=m, server=server,
                         ensemble=server.ensemble, main_model=(m.models.get("model") if m else "model"),
                         batching=m.batching.enabled if m else None, instance_count=m.instance_count if m else None,
                         notes=list(server.notes))
    if path.exists():
        raise InputError(f"TARGET {target} is a file", hint="give a package folder, a Triton URL (http://...) or sagemaker:<endpoint>")
    raise InputError(f"TARGET '{target}' is neither a folder, a Triton URL (http://host:port) nor sagemaker:<endpoint>",
                     hint="e.g. `leanserve bench out/package`, `leanserve bench http://127.0.0.1:8000`, `leanserve bench sagemaker:my-endpoint`")


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


def run_bench(target: str, options: BenchOptions | None = None, spec=None, progress: Callable[[str, object], None] | None = None,
              sagemaker_client=None, sagemaker_control=None) -> BenchResult:
    """Benchmark ``target`` and return its Profile (not yet written; see :func:`write_profiles`).

    ``progress(event, payload)`` is called with ('start', label) and ('done', LoadPoint) for each point.
    """
    from toolkit.artifacts.common import Measured
    from toolkit.artifacts.profiles import Profile
    from toolkit.bench.texts import load_texts

    options = options or BenchOptions()
    if options.concurrency and any(c < 1 for c in options.concurrency):
        raise InputError("concurrency levels must be at least 1", hint="e.g. --concurrency 1,4,16")
    if options.rates and any(r <= 0 for r in options.rates):
        raise InputError("arrival rates must be above 0", hint="e.g. --rate 50,100")
    if options.arrival not in ("poisson", "constant"):
        raise InputError(f"unknown arrival process '{options.arrival}'", hint="use poisson or constant")
    if options.duration_s <= 0:
        raise InputError("--duration must be above 0 seconds", hint="e.g. --duration 10")
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
        policy = AbortPolicy(alive=alive)
        t = resolved.target
        plan: list[tuple[str, float]] = []
        if options.concurrency or not options.rates:
            plan += [("closed", c) for c in (options.concurrency or DEFAULT_CONCURRENCY)]
        plan += [("open", r) for r in (options.rates or [])]
        points = []
        warmed = False
        for kind, level in plan:
            label = f"concurrency {int(level)}" if kind == "closed" else f"{level:g} req/s ({options.arrival})"
            if progress:
                progress("start", label)
            before = metrics.scrape(t.metrics_url)
            if kind == "closed":
                stats = closed_loop(t, texts, int(level), options.duration_s, warmup_s=options.warmup_s if not warmed else min(options.warmup_s, 1.0),
                                    per_request=options.texts_per_request, max_requests=options.max_requests, policy=policy, label=label)
            else:
                if not warmed and options.warmup_s > 0:
                    closed_loop(t, texts, 1, options.warmup_s, per_request=options.texts_per_request, policy=policy, label="warm-up")
                stats = open_loop(t, texts, level, options.duration_s, arrival=options.arrival, seed=options.seed + len(points),
                                  per_request=options.texts_per_request, max_in_flight=options.max_in_flight, policy=policy, label=label)
            warmed = True
            after = metrics.scrape(t.metrics_url)
            server_stats = metrics.summarize(metrics.diff(before, after), resolved.ensemble, resolved.main_model)
            point = to_load_point(stats, server_stats)
            points.append(point)
            if progress:
                progress("done", point)
        overheads = [p.generator_overhead_ms for p in points if p.generator_overhead_ms is not None]
        notes = list(resolved.notes)
        if t.metrics_url and all(p.queue_ms is None for p in points):
            notes.append(f"Triton metrics not readable at {t.metrics_url}: queue/compute time left out")
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
    profiles = []
    if p.exists():
        existing = load_artifact(ProfilesFile, p)
        if existing.spec_sha256 != result.spec_sha256:
            warnings.append(f"{p} was measured for another spec; its {len(existing.profiles)} profile(s) were replaced")
        else:
            profiles = [q for q in existing.profiles if _key(q) != _key(result.profile)]
    profiles.append(result.profile)
    save_artifact(ProfilesFile(spec_sha256=result.spec_sha256, profiles=profiles), p)
    return p, warnings
