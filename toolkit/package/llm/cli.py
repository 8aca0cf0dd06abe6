"""The LLM side of ``leanserve package``: options → :func:`build_llm_package`, and what it prints."""

from __future__ import annotations

from toolkit.errors import InputError

ENGINE_KEYS = {"max_model_len": int, "max_num_seqs": int, "gpu_memory_utilization": float, "tensor_parallel_size": int,
               "kv_cache_dtype": str}


def parse_engine_args(items) -> dict:
    """``--engine-arg KEY=VALUE`` items → {key: typed value}."""
    from toolkit.suggest import did_you_mean

    out = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in ENGINE_KEYS:
            raise InputError(f"--engine-arg '{item}' is not KEY=VALUE with a known key{did_you_mean(key, ENGINE_KEYS)}",
                             hint=f"keys: {', '.join(ENGINE_KEYS)}")
        try:
            out[key] = ENGINE_KEYS[key](value.strip())
        except ValueError:
            raise InputError(f"--engine-arg {key}: '{value}' is not a {ENGINE_KEYS[key].__name__}", hint=f"e.g. --engine-arg {key}=...") from None
    return out


def options_from_cli(where, spec, p: dict):
    """LLMPackageOptions (and the variant) from ``leanserve package build``'s parameters."""
    from toolkit.package.llm.build import LLMPackageOptions
    from toolkit.package.llm.source import resolve_variant

    plan = None
    target, device, region = p.get("target"), p.get("device"), p.get("region")
    if p.get("plan_file"):
        from toolkit.artifacts.common import load_artifact
        from toolkit.artifacts.plan import PlanFile
        from toolkit.package.sizing import sizing_for_plan

        plan = load_artifact(PlanFile, p["plan_file"])
        sizing = sizing_for_plan(plan)
        target, device, region = target or sizing.target, device or sizing.device, region or sizing.region
    variant = p.get("variant") or (plan.chosen.variant if plan is not None and plan.chosen is not None else None)
    if target is None:
        target = {"onnx": "cpu", "hf": "gpu"}[resolve_variant(where, variant).format]
    engine = parse_engine_args(p.get("engine_args"))
    return variant, LLMPackageOptions(
        target=target, device=device, instances=p.get("instances"), threads=p.get("threads"), cores=p.get("cores"),
        weights_uri=p.get("weights_uri"), region=region or "us-east-1", allow_rejected=bool(p.get("allow_rejected")), plan=plan, **engine)


def build_from_cli(where, spec, p: dict) -> None:
    import click

    from toolkit.cli.output import emit, warn
    from toolkit.fileio import check_output
    from toolkit.package.container import docker_build
    from toolkit.package.llm.build import build_llm_package
    from toolkit.package.manifest import CONTAINER

    variant, options = options_from_cli(where, spec, p)
    check_output(p["out"], "the package", folder=True, replaced=True)
    result = build_llm_package(where, variant, p["out"], options, spec)
    for w in result.warnings:
        warn(w)
    m = result.manifest
    data = {"out": str(result.out), "manifest": m.model_dump(mode="json"), "warnings": result.warnings}

    def render() -> None:
        click.echo(f"packaged LLM {m.variant} ({m.precision}) for {m.target} ({m.device}, Triton {m.backend} backend) in {result.out}/")
        click.echo(f"  model '{m.model}': {m.input_name} (+ stream, sampling_parameters) → {m.output_name}, decoupled (one response per token)")
        if m.engine is not None:
            e = m.engine
            click.echo(f"  vLLM engine (model.json): max_model_len {e.max_model_len}, max_num_seqs {e.max_num_seqs}, "
                       f"gpu_memory_utilization {e.gpu_memory_utilization:g}, tensor_parallel_size {e.tensor_parallel_size}, "
                       f"kv_cache_dtype {e.kv_cache_dtype}, quantization {e.quantization or 'none'}")
        if m.cpu is not None:
            click.echo(f"  CPU: {m.cpu.instances} instance(s) × {m.cpu.threads} threads, max_model_len {m.cpu.max_model_len} ({m.cpu.runtime})")
        click.echo(f"  weights: {m.weights.source} ({m.weights.uri or m.weights.path})")
        click.echo(f"  image: FROM {m.image}")
        if m.environment:
            click.echo("  environment: " + ", ".join(f"{k}={v}" for k, v in m.environment.items()))
        click.echo(f"  {len(m.files)} files hashed in manifest.json")
        nxt = f"leanserve serve {result.out}" + (" --engine vllm" if m.backend == "vllm" else "")
        click.echo(f"next: {nxt}   |   leanserve bench {result.out if m.backend == 'python' else 'http://127.0.0.1:8000 --api openai'}")

    emit(data, render)
    if p.get("do_build"):
        docker_build(result.out / CONTAINER, p.get("tag") or f"{m.name}:{m.variant}")
