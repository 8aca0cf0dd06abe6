"""`leanserve package VARIANTS_DIR --variant NAME --target T --out DIR` and `leanserve package check DIR`."""

from __future__ import annotations

import click

from toolkit.cli.groups import DefaultCommandGroup
from toolkit.cli.output import emit, warn


class _DefaultToBuild(DefaultCommandGroup):
    """`package ARGS` means `package build ARGS` unless the first word is a subcommand (e.g. `check`)."""

    default_command = "build"


@click.group(cls=_DefaultToBuild)
def package() -> None:
    """Write a Triton model repository, container build context and manifest for one variant.

    `leanserve package VARIANTS_DIR --variant NAME --target cpu|gpu|sagemaker --out DIR` is short for
    `leanserve package build ...`; `leanserve package check DIR` validates a repository.

    \b
    Examples:
      leanserve package out/compress --variant onnx-int8 --target cpu --out out/package --spec leanserve.yaml
      leanserve package out/compress --variant onnx-fp16 --target sagemaker --out out/sm --spec leanserve.yaml
      leanserve package out/compress --plan out/compress/plan.json --out out/deploy-pkg --spec leanserve.yaml
      leanserve package check out/package
    """


@package.command("build")
@click.argument("variants_dir", type=click.Path(path_type=str))
@click.option("--variant", help="Variant name in variants.json (e.g. onnx-int8; default with --plan: the plan's chosen variant).")
@click.option("--plan", "plan_file", type=click.Path(dir_okay=False, path_type=str),
              help="plan.json: package its chosen variant for its platform, sized for its instance type (threads and model "
                   "instances as the performance model assumed); options given here win.")
@click.option("--target", type=click.Choice(["cpu", "gpu", "sagemaker"]),
              help="cpu/gpu: Triton image for Kubernetes or any Docker host; sagemaker: SageMaker Triton image + model.tar.gz "
                   "(default: the --plan's platform, else cpu).")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=str), help="Output folder (replaced atomically).")
@click.option("--spec", "spec_file", type=click.Path(dir_okay=False, path_type=str),
              help="leanserve.yaml: its SLA sets the dynamic-batching queue delay and its name the image name.")
@click.option("--device", type=click.Choice(["cpu", "gpu"]), help="sagemaker only: CPU or GPU instances (default: the --plan's, else gpu for fp16 variants).")
@click.option("--max-batch-size", type=click.IntRange(1, 1024), default=16, show_default=True, help="Largest batch Triton may form.")
@click.option("--batching/--no-batching", default=True, show_default=True, help="Dynamic batching on or off.")
@click.option("--instances", type=click.IntRange(1, 64), help="Model instances (default: the --plan's; else one per two cores on CPU, one on GPU).")
@click.option("--threads", type=click.IntRange(1, 256), help="Intra-op threads per CPU instance (default: the --plan's, else 2).")
@click.option("--cores", type=click.IntRange(1, 1024), help="vCPUs of the machine the package is for (default: the --plan's instance type's, else this machine's).")
@click.option("--pad-to-multiple-of", type=click.IntRange(1, 512), default=8, show_default=True,
              help="Round padded sequence lengths up to a multiple of this (requests batched together share one length).")
@click.option("--region", help="sagemaker: region of the SageMaker Triton image registry (default: the --plan's, else us-east-1).")
@click.option("--allow-rejected", is_flag=True, help="Package a variant compress rejected (below the quality floor).")
@click.option("--build", "do_build", is_flag=True, help="Then run `docker build` on the context (needs a Docker engine).")
@click.option("--tag", help="Image tag for --build (default: NAME:VARIANT).")
@click.option("--engine-arg", "engine_args", multiple=True, metavar="KEY=VALUE",
              help="LLMs: a vLLM engine argument for model.json (max_model_len, max_num_seqs, gpu_memory_utilization, "
                   "tensor_parallel_size, kv_cache_dtype; max_model_len also bounds the CPU model). Repeatable; wins over --plan.")
@click.option("--weights-uri", help="LLMs, --target gpu: fetch the weights from this s3://bucket/prefix at container start "
                                    "instead of baking them into the image.")
def build(variants_dir, variant, plan_file, target, out, spec_file, device, max_batch_size, batching, instances, threads, cores,
          pad_to_multiple_of, region, allow_rejected, do_build, tag, engine_args, weights_uri) -> None:
    """Package VARIANT from VARIANTS_DIR (the folder holding variants.json) into --out.

    With --plan plan.json the package is the plan's chosen variant for its platform, with the threads and
    model instances the performance model assumed for its instance type (not this machine's cores).

    Writes OUT/model_repository/ (tokenizer → model → pooling, wired by an `ensemble` that takes raw
    text), OUT/container/ (Dockerfile and context), OUT/model.tar.gz (sagemaker), OUT/locustfile.py and
    OUT/manifest.json (sha256 of every file). The repository is validated before it is moved into place.

    \b
    Examples:
      leanserve package out/compress --variant onnx-int8 --target cpu --out out/package --spec leanserve.yaml
      leanserve package out/compress --variant onnx-int8 --out out/nobatch --no-batching
      leanserve package out/compress --variant onnx-fp16 --target gpu --out out/gpu --build
      leanserve package out/compress --plan out/compress/plan.json --out out/deploy-pkg --spec leanserve.yaml
    """
    from toolkit.fileio import check_output
    from toolkit.package.builder import build_package
    from toolkit.package.container import docker_build
    from toolkit.package.manifest import CONTAINER
    from toolkit.package.sizing import load_sizing, options_for
    from toolkit.spec import load_spec

    spec = load_spec(spec_file) if spec_file else None
    from toolkit.package.llm.source import is_generative_variants

    if is_generative_variants(variants_dir):  # an LLM variant: a streaming repository (vLLM backend, or the CPU model)
        from toolkit.package.llm.cli import build_from_cli

        return build_from_cli(variants_dir, spec, locals())
    if engine_args or weights_uri:
        raise click.UsageError("--engine-arg and --weights-uri are for LLM variants")
    sizing = load_sizing(plan_file) if plan_file else None
    variant, options, notes = options_for(sizing, variant=variant, target=target, device=device, cores=cores, threads=threads,
                                          instances=instances, region=region, max_batch_size=max_batch_size, batching=batching,
                                          pad_to_multiple_of=pad_to_multiple_of, allow_rejected=allow_rejected)
    check_output(out, "the package", folder=True, replaced=True)
    result = build_package(variants_dir, variant, out, options, spec)
    result.warnings[:0] = notes
    for w in result.warnings:
        warn(w)
    m = result.manifest
    data = {"out": str(result.out), "manifest": m.model_dump(mode="json"), "warnings": result.warnings,
            "sized_for": sizing.sized_for if sizing else None}

    def render() -> None:
        b = m.batching
        click.echo(f"packaged {m.variant} ({m.precision}, {m.task}) for {m.target} ({m.device}) in {result.out}/")
        click.echo(f"  models: {', '.join(m.models.values())}; clients call '{m.ensemble}' with {m.input_name} (TYPE_STRING) → {m.output_name}")
        click.echo(f"  model instances: {m.instance_count} × {m.instance_kind}" + (f", {m.threads_per_instance} threads each" if m.instance_kind == "KIND_CPU" else "")
                   + (f" (sized for the plan's {sizing.sized_for.split(':')[0]})" if sizing else ""))
        if b.enabled:
            click.echo(f"  dynamic batching: max batch {b.max_batch_size}, preferred {b.preferred_batch_sizes}; a request waits at most "
                       f"{b.budget_us} µs for batch-mates" + (f" (10% of the {m.sla.percentile} SLA of {m.sla.latency_ms:g} ms, capped at 10 ms)" if m.sla else "")
                       + f": {b.tokenizer_queue_delay_us} µs in the tokenizer, {b.max_queue_delay_us} µs in the model")
        else:
            click.echo(f"  dynamic batching: off (max batch {b.max_batch_size})")
        click.echo(f"  image: FROM {m.image}")
        if m.environment:
            click.echo("  environment: " + ", ".join(f"{k}={v}" for k, v in m.environment.items()))
        click.echo(f"  {len(m.files)} files hashed in manifest.json")
        click.echo(f"next: leanserve serve {result.out}   |   leanserve bench {result.out}")

    emit(data, render)
    if do_build:
        docker_build(result.out / CONTAINER, tag or f"{m.name}:{m.variant}")


@package.command("check")
@click.argument("directory", type=click.Path(path_type=str))
@click.option("--target", type=click.Choice(["cpu", "gpu", "sagemaker"]), help="Check for this target (default: the manifest's).")
@click.option("--no-hashes", is_flag=True, help="Skip comparing files with manifest.json's sha256.")
def check(directory, target, no_hashes) -> None:
    """Validate a model repository (a package folder or a bare Triton repository) before serving it.

    Checks that each model's name equals its folder, a version folder and model file exist, inputs and
    outputs match the ONNX graph (names, dims, data types), no KIND_GPU sits on a CPU target, ensemble
    steps reference existing models and tensors, and files match manifest.json. Exits 2 naming the file
    and field at fault.

    \b
    Examples:
      leanserve package check out/package
      leanserve --json package check out/package/model_repository --target cpu
    """
    from toolkit.package.check import check_repository, ensure_valid

    report = check_repository(directory, target, verify_hashes=not no_hashes)
    ensure_valid(report)

    def render() -> None:
        click.echo(f"{report.repository}: valid ({len(report.models)} models" + (f", target {report.target}" if report.target else "") + ")")
        for s in report.models:
            extra = f", {s.instance_count} × {s.instance_kind}" if s.instance_kind else ""
            batching = "dynamic batching" if s.dynamic_batching else "no batching"
            click.echo(f"  {s.name:<10} {s.kind:<8} versions {s.versions}, max batch {s.max_batch_size}, {batching}{extra}")

    emit(report.to_json(), render)
