"""`leanserve bench TARGET`: load-test a package folder, a Triton URL or a SageMaker endpoint; write profiles.json."""

from __future__ import annotations

import click

from toolkit.cli.output import emit, log, warn
from toolkit.cli.params import FiniteRange


def _ints(ctx, param, value):
    if value is None:
        return None
    try:
        items = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a comma-separated list of integers (e.g. 1,4,16)") from None
    if not items or any(i < 1 for i in items):
        raise click.BadParameter("give one or more levels of at least 1 (e.g. 1,4,16)")
    return items


def _floats(ctx, param, value):
    if value is None:
        return None
    try:
        items = [float(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a comma-separated list of rates (e.g. 50,100)") from None
    if not items or any(not (0 < r < float("inf")) for r in items):  # nan fails both comparisons
        raise click.BadParameter("rates must be finite numbers above 0 (e.g. 50,100)")
    return items


def _sla(ctx, param, value):
    if value is None:
        return None
    import re

    if re.match(r"^(ttft|itl|tpot|e2e|p50|p90|p95|p99)_", value.strip()):
        return "token", value.strip()  # LLMs: ttft_p95_ms=500,itl_p95_ms=50 (parsed by the token bench)
    m = re.match(r"^(p50|p90|p95|p99)[:=]([0-9]*\.?[0-9]+)$", value.strip())
    if not m or float(m.group(2)) <= 0:
        raise click.BadParameter(f"'{value}' is not PERCENTILE:MS (e.g. p95:50)")
    return m.group(1), float(m.group(2))


@click.command()
@click.argument("target")
@click.option("--spec", "spec_file", type=click.Path(dir_okay=False, path_type=str), help="leanserve.yaml: the SLA percentile and limit to test against.")
@click.option("--sla", callback=_sla, help="SLA as PERCENTILE:MS, e.g. p95:50 (overrides --spec and the package's).")
@click.option("--variant", help="Variant behind a URL or SageMaker TARGET (a package folder knows its own).")
@click.option("--concurrency", callback=_ints, help="Closed-loop concurrency levels, e.g. 1,4,16 (default 1,2,4,8,16 without --rate).")
@click.option("--rate", "rates", callback=_floats, help="Open-loop arrival rates in req/s, e.g. 50,100.")
@click.option("--arrival", type=click.Choice(["poisson", "constant"]), default="poisson", show_default=True, help="Open-loop arrival process.")
@click.option("--duration", type=FiniteRange(0.1, 86400), default=10, show_default=True, help="Seconds per load point.")
@click.option("--warmup", type=FiniteRange(0, 600), default=2, show_default=True, help="Seconds of unrecorded load before the first point.")
@click.option("--texts", help="Request texts: a file (one per line) or builtin:tweets (default: built-in sentences).")
@click.option("--texts-per-request", type=click.IntRange(1, 1024), default=1, show_default=True, help="Texts in each request.")
@click.option("--timeout", type=FiniteRange(0.1, 600), default=10, show_default=True, help="Seconds before one request counts as failed.")
@click.option("--max-in-flight", type=click.IntRange(1, 4096), default=64, show_default=True, help="Open loop: most outstanding requests (beyond, they wait in the generator and it counts).")
@click.option("--model", help="Triton model to call (default: the package's ensemble, else 'ensemble').")
@click.option("--instance-type", help="What the target runs on, e.g. ml.c7i.xlarge (SageMaker: read from the endpoint).")
@click.option("--region", help="AWS region of a SageMaker endpoint (default: your AWS configuration's).")
@click.option("--metrics-url", help="Triton /metrics URL for a URL TARGET (default: same host, port 8002).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the Poisson arrivals and text order.")
@click.option("--rounds", type=click.IntRange(1, 20), default=None,
              help="Rounds per load point, interleaved; figures are the medians (default 3); --duration is split over them.")
@click.option("--variants", "variants_file", type=click.Path(path_type=str),
              help="variants.json: the variant's in-process latency checks that the host did not starve the server.")
@click.option("--out", "out", default="profiles.json", show_default=True, type=click.Path(path_type=str),
              help="profiles.json to write (a profile of the same variant, machine and target is replaced).")
@click.option("--api", type=click.Choice(["triton", "triton-grpc", "openai", "openai-chat"]),
              help="LLMs: how to stream from a URL (default: detected; openai = /v1/completions).")
@click.option("--prompt-tokens", help="LLMs: prompt length in tokens, N or mean=..,p50=..,p90=..,max=.. (default: the spec's, else 128).")
@click.option("--output-tokens", help="LLMs: max_tokens per request, N or a distribution as --prompt-tokens (default: the spec's, else 64).")
@click.option("--dataset", type=click.Path(dir_okay=False, path_type=str), help="LLMs: prompts from a JSONL or ShareGPT file.")
@click.option("--tokenizer", type=click.Path(path_type=str), help="LLMs: tokenizer.json (or its folder) that counts tokens (default: the package's).")
@click.option("--ignore-eos/--no-ignore-eos", default=True, show_default=True, help="LLMs: ask the server to ignore EOS so outputs are max_tokens long.")
@click.option("--find-max-rate", is_flag=True, help="LLMs: search the open-loop rate at which goodput stops keeping up with it.")
def bench(target, spec_file, sla, variant, concurrency, rates, arrival, duration, warmup, texts, texts_per_request, timeout,
          max_in_flight, model, instance_type, region, metrics_url, seed, rounds, variants_file, out, api, prompt_tokens, output_tokens,
          dataset, tokenizer, ignore_eos, find_max_rate) -> None:
    """Load-test TARGET and write its latency-versus-load profile to profiles.json.

    TARGET is a package folder (Triton is started on 127.0.0.1 and stopped after), a Triton URL
    (http://host:8000), or sagemaker:ENDPOINT (boto3 sagemaker-runtime). Each point reports p50/p90/p95/p99
    latency, throughput, errors and lost requests, Triton's queue and compute time per request and mean
    batch size (from /metrics), and the generator's own CPU time per request. max_rps_at_sla is the
    highest measured throughput at which the SLA percentile held. If the target stops answering, bench
    stops within seconds and exits 1. For load beyond one machine use the package's locustfile.py
    with Locust's distributed mode (`locust -f PKG/locustfile.py --master`, `--worker` on each load machine).

    \b
    Examples:
      leanserve bench out/package --concurrency 1,4,16 --duration 10
      leanserve bench out/package --rate 50,100,150 --arrival poisson --duration 60
      leanserve bench http://127.0.0.1:8000 --variant onnx-int8 --spec leanserve.yaml
      leanserve bench sagemaker:minilm-embeddings --variant onnx-int8 --sla p95:50 --region us-east-1
    """
    from pathlib import Path

    from toolkit.bench import BenchOptions, run_bench, write_profiles
    from toolkit.fileio import check_output
    from toolkit.spec import load_spec

    spec = load_spec(spec_file) if spec_file else None
    from toolkit.bench.llm.cli import wants_token_bench

    token_opts = (api, prompt_tokens, output_tokens, dataset, tokenizer) != (None,) * 5 or find_max_rate or (sla and sla[0] == "token")
    if wants_token_bench(target, spec, model=model, explicit=bool(token_opts)):  # a generative model: the token-level bench
        from toolkit.bench.llm.cli import run_cli

        return run_cli(target, spec, locals())
    if sla and sla[0] == "token":
        raise click.BadParameter("token-level constraints are for LLM targets; give PERCENTILE:MS here (e.g. p95:50)", param_hint="--sla")
    existing = Path(out) / "profiles.json" if Path(out).is_dir() else Path(out)
    check_output(existing, "profiles")  # before minutes of load, not after
    if existing.exists():  # a corrupt or foreign profiles.json is reported before minutes of load, not after
        from toolkit.artifacts.common import load_artifact
        from toolkit.artifacts.profiles import ProfilesFile

        load_artifact(ProfilesFile, existing)
    options = BenchOptions(
        concurrency=concurrency, rates=rates, arrival=arrival, duration_s=duration, warmup_s=warmup, texts=texts,
        texts_per_request=texts_per_request, timeout_s=timeout, max_in_flight=max_in_flight, seed=seed, model=model,
        variant=variant, sla_percentile=sla[0] if sla else None, sla_ms=sla[1] if sla else None,
        instance_type=instance_type, region=region, metrics_url=metrics_url, rounds=rounds, variants=variants_file,
    )

    def progress(event, payload):
        if event == "start":
            log(f"bench: {payload} ...")  # the label says for how long (a round of the point's --duration)
        else:
            p = payload
            log(f"  {p.throughput_rps:8.1f} req/s  p95 {p.p95_ms if p.p95_ms is not None else float('nan'):7.1f} ms  errors {p.errors}  lost {p.lost}")

    result = run_bench(target, options, spec, progress)
    path, warnings = write_profiles(result, out)
    for w in warnings:
        warn(w)
    prof = result.profile
    bad = [p for p in prof.points if p.sent and (p.errors / p.sent > (prof.max_error_rate or 0) or p.lost)]
    for p in bad:
        level = f"concurrency {p.concurrency}" if p.mode == "closed" else f"{p.target_rps:g} req/s"
        warn(f"{level}: {p.errors} errors, {p.lost} lost of {p.sent} sent" + (f" ({p.error_examples[0]})" if p.error_examples else ""))
    data = {"profiles": str(path), "profile": prof.model_dump(mode="json")}

    def render() -> None:
        pct = prof.sla_percentile
        f = lambda x, d=1: "-" if x is None else f"{x:.{d}f}"  # noqa: E731
        click.echo(f"{prof.variant} on {prof.machine.describe()} ({prof.target}); times in ms")
        cols = ("load", "req/s", "p50", "p90", "p95", "p99", "errors", "lost", "queue", "compute", "batch", "client")
        widths = (12, 8, 7, 7, 7, 7, 7, 5, 7, 8, 6, 7)
        click.echo("".join(c.rjust(w) for c, w in zip(cols, widths)))
        for p in prof.points:
            load = f"c={p.concurrency}" if p.mode == "closed" else f"{p.target_rps:g}/s {p.mode.split('-')[1][:4]}"
            row = (load, f(p.throughput_rps), f(p.p50_ms), f(p.p90_ms), f(p.p95_ms), f(p.p99_ms), str(p.errors), str(p.lost),
                   f(p.queue_ms), f(p.compute_ms), f(p.mean_batch_size, 2), f(p.generator_overhead_ms, 2))
            click.echo("".join(v.rjust(w) for v, w in zip(row, widths)))
        best = f"{prof.max_rps_at_sla:.1f} req/s" if prof.max_rps_at_sla is not None else "none (no point met it)"
        click.echo(f"max rate with {pct} ≤ {prof.sla_ms:g} ms: {best}; saturation {f(prof.saturation_rps)} req/s (measured on {prof.provenance.where})")
        click.echo("queue/compute: Triton's time per request (sum over the ensemble's models); batch: requests per model "
                   "execution; client: the generator's own CPU ms per request")
        for note in prof.notes:
            click.echo(f"note: {note}")
        click.echo(f"wrote {path}")

    emit(data, render)
